// Where a launcher's ranks leave values for each other (--rendezvous): a directory every rank
// shares, or a TCPStore. Values are small text; a key absent reads as null, so a rank polls.
export interface KeyStore {
  /** For messages: the directory, or host:port. */
  where: string
  set(key: string, value: string): Promise<void>
  get(key: string): Promise<string | null>
  delete(key: string): Promise<void>
  /** Ends this rank's use of it (a TCPStore rank 0 serves stops serving). Never throws. */
  close(): Promise<void>
}

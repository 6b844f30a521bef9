// One error type for everything the CLI reports to a user. `exit` follows the
// documented convention: 2 for bad input (flags, profiles, sizes, missing GPU or CUDA),
// 1 for a run that failed on the way.
export const EXIT_BAD_INPUT = 2
export const EXIT_RUN_FAILED = 1

export class KvError extends Error {
  readonly code: string
  readonly exit: number

  constructor(code: string, message: string, exit: number = EXIT_BAD_INPUT) {
    super(message)
    this.name = 'KvError'
    this.code = code
    this.exit = exit
  }
}

export function badInput(message: string, code = 'BAD_INPUT'): KvError {
  return new KvError(code, message, EXIT_BAD_INPUT)
}

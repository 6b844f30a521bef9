// Byte counts as people read them (1 KiB = 1024 bytes), in messages, notes and tables alike.
/** 65536 -> "64 KiB"; 1.5 GiB -> "1.5 GiB"; null or undefined (no limit) -> "unlimited". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'unlimited'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`
}

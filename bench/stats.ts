/** Small statistics helpers for the benchmarks. */

export function quantile (sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i] as number
}

export function summarize (samples: number[]): { n: number, p50: number, p95: number, max: number } {
  const s = [...samples].sort((a, b) => a - b)
  return { n: s.length, p50: round(quantile(s, 0.5)), p95: round(quantile(s, 0.95)), max: round(s.at(-1) ?? NaN) }
}

export function median (xs: number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5)
}

export function round (x: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

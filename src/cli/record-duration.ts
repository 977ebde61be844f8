/**
 * Durations of the record flags (--lifetime, --ttl): a number with a unit,
 * or several in a row like Go's time.ParseDuration — `250ms`, `90s`, `5m`,
 * `48h`, `1h30m`, `1.5d`, and a bare `0`. The result is whole milliseconds.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/y

import { UsageError } from './args.js'
import type { Parsed } from './args.js'

/** Milliseconds of a duration; throws RangeError saying what is wrong. */
export function parseDuration (text: string): number {
  if (text === '0') return 0
  if (text === '') throw new RangeError('empty duration')
  let ms = 0
  PART.lastIndex = 0
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex
    const m = PART.exec(text)
    if (m === null) {
      const rest = text.slice(at)
      throw new RangeError(/^\d+(?:\.\d+)?$/.test(rest)
        ? `'${text}' needs a unit: ms, s, m, h or d (e.g. ${rest}s)`
        : `'${text}' is not a duration: use a number with ms, s, m, h or d (e.g. 48h, 5m, 1h30m)`)
    }
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
  }
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) throw new RangeError(`'${text}' is too long`)
  // decimals are for convenience (1.5h); fractions of a millisecond are a mistake
  const rounded = Math.round(ms)
  if (Math.abs(ms - rounded) > 1e-6) throw new RangeError(`'${text}' is not a whole number of milliseconds`)
  return rounded
}

const STEPS: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]]

/** A duration for people, its two largest units: `2d3h`, `47h59m` → `1d23h`, `5m`, `1.5s`, `250ms`. */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms)) return String(ms)
  if (ms < 0) return `-${formatDuration(-ms)}`
  if (ms < 1_000) return `${Math.round(ms * 1000) / 1000}ms`
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`
  const parts: string[] = []
  let rest = Math.floor(ms / 1000) * 1000
  for (const [unit, size] of STEPS) {
    if (rest >= size || parts.length > 0) {
      const n = Math.floor(rest / size)
      rest -= n * size
      if (n > 0) parts.push(`${n}${unit}`)
      else if (parts.length > 0) break
    }
    if (parts.length === 2) break
  }
  return parts.join('')
}

/** the longest duration a flag takes: a century (longer is almost surely a unit mistake) */
export const MAX_DURATION_MS = 100 * 365 * 24 * 3600 * 1000

/** A duration flag's value in ms (undefined when absent); a usage error when malformed or out of [min, max]. */
export function durationFlag (command: string, values: Parsed['values'], flag: string, min: number, max = MAX_DURATION_MS, most = 'a century'): number | undefined {
  const raw = values[flag]
  if (raw === undefined) return undefined
  let ms: number
  try {
    ms = parseDuration(String(raw))
  } catch (err) {
    throw new UsageError(command, `--${flag}: ${(err as Error).message}`)
  }
  if (ms < min || ms > max) {
    throw new UsageError(command, `--${flag} must be ${min > 0 ? 'above 0' : '0 or more'} and at most ${most} (got '${String(raw)}')`)
  }
  return ms
}

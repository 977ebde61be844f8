/**
 * RFC 3339 timestamps with up to nanosecond precision, as IPNS `Validity`
 * carries them. Times are bigint nanoseconds since the Unix epoch so no
 * precision is lost; formatting follows Go's time.RFC3339Nano in UTC (what
 * kubo writes): trailing zeros of the fraction are dropped, and the dot too
 * when the fraction is zero.
 */
import { recordError } from './errors.js'

const NS_PER_MS = 1_000_000n
const NS_PER_S = 1_000_000_000n
const PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/
/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z, the range four-digit years can write */
const MIN_MS = utcMs(0, 1, 1, 0, 0, 0)
const MAX_MS = utcMs(10000, 1, 1, 0, 0, 0)

/** Parses an RFC 3339 timestamp into nanoseconds since the epoch; throws InvalidRecordError('bad-validity'). */
export function parseRfc3339 (text: string): bigint {
  const m = PATTERN.exec(text)
  if (m === null) throw recordError('bad-validity', `not an RFC 3339 timestamp: ${JSON.stringify(text.slice(0, 64))}`)
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string]
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw recordError('bad-validity', `timestamp out of range: ${text}`)
  }
  let offsetMinutes = 0
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.slice(4, 6))
    if (oh > 23 || om > 59) throw recordError('bad-validity', `bad UTC offset: ${zone}`)
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om)
  }
  const wallMs = utcMs(year, month, day, hour, minute, second)
  const fracNs = frac === undefined ? 0n : BigInt(frac.padEnd(9, '0'))
  return BigInt(wallMs - offsetMinutes * 60_000) * NS_PER_MS + fracNs
}

/** Formats nanoseconds since the epoch like Go's time.RFC3339Nano in UTC. */
export function formatRfc3339Nano (ns: bigint): string {
  const ms = floorDiv(ns, NS_PER_MS)
  const msNumber = Number(ms)
  if (msNumber < MIN_MS || msNumber >= MAX_MS) throw recordError('bad-lifetime', 'time is outside the years 0000–9999')
  const date = new Date(msNumber)
  const fraction = ns - floorDiv(ns, NS_PER_S) * NS_PER_S
  const head = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}T` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`
  if (fraction === 0n) return `${head}Z`
  return `${head}.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}Z`
}

/** floor(ns / 1e6) as a number of milliseconds */
export function nsToMs (ns: bigint): number {
  return Number(floorDiv(ns, NS_PER_MS))
}

export function msToNs (ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NS_PER_MS
}

function floorDiv (a: bigint, b: bigint): bigint {
  const q = a / b
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q
}

function utcMs (year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, 0)
  return date.getTime()
}

function daysInMonth (year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

function pad (n: number, width: number): string {
  return String(n).padStart(width, '0')
}

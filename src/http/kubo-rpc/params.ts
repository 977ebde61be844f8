/**
 * The query parameters of one call, read the way go-ipfs-cmds reads them:
 * repeated `arg=` positionals; options by their kebab-case name or a short
 * alias; booleans true for an empty value, else `true`/`false`; Go
 * durations (`500ms`, `1m0s`); everything else ignored (kubo-rpc-client
 * sends its whole options object, `headers=[object Object]` included).
 *
 * Bounded: at most MAX_PARAMS parameters, each value at most
 * MAX_PARAM_LENGTH characters (over either: 400).
 */
import { clientError } from './errors.js'

export const MAX_PARAMS = 64
export const MAX_PARAM_LENGTH = 8_192
export const MAX_QUERY_LENGTH = 32 * 1_024

export class Params {
  private readonly values = new Map<string, string[]>()

  constructor (query: string) {
    if (query.length > MAX_QUERY_LENGTH) throw clientError(`the query string is longer than ${MAX_QUERY_LENGTH} characters`)
    const search = new URLSearchParams(query)
    let count = 0
    for (const [key, value] of search) {
      if (++count > MAX_PARAMS) throw clientError(`more than ${MAX_PARAMS} parameters`)
      if (value.length > MAX_PARAM_LENGTH) throw clientError(`parameter '${key}' is longer than ${MAX_PARAM_LENGTH} characters`)
      const list = this.values.get(key)
      if (list === undefined) this.values.set(key, [value])
      else list.push(value)
    }
  }

  /** the positional arguments, in order */
  args (): string[] {
    return this.values.get('arg') ?? []
  }

  /** the first positional argument; `what` names it in the error when required and missing */
  arg (what: string): string
  arg (what: string, optional: true): string | undefined
  arg (what: string, optional?: true): string | undefined {
    const first = this.args()[0]
    if (first === undefined && optional !== true) throw clientError(`argument "${what}" is required`)
    return first
  }

  /** the value of an option under its name or one of its aliases (the first given wins) */
  string (name: string, ...aliases: string[]): string | undefined {
    for (const key of [name, ...aliases]) {
      const v = this.values.get(key)
      if (v !== undefined) return v[0]
    }
    return undefined
  }

  bool (name: string, fallback: boolean, ...aliases: string[]): boolean {
    const v = this.string(name, ...aliases)
    if (v === undefined) return fallback
    const s = v.toLowerCase()
    if (s === '' || s === 'true' || s === '1') return true
    if (s === 'false' || s === '0') return false
    throw clientError(`option '${name}' must be a boolean, not '${v}'`)
  }

  int (name: string, ...aliases: string[]): number | undefined {
    const v = this.string(name, ...aliases)
    if (v === undefined) return undefined
    if (!/^-?\d{1,15}$/.test(v)) throw clientError(`option '${name}' must be an integer, not '${v}'`)
    return Number(v)
  }

  /** a Go duration in milliseconds */
  duration (name: string, ...aliases: string[]): number | undefined {
    const v = this.string(name, ...aliases)
    if (v === undefined) return undefined
    const ms = parseGoDuration(v)
    if (ms === undefined) throw clientError(`option '${name}': invalid duration '${v}' (e.g. 500ms, 30s, 1m0s, 48h)`)
    return ms
  }
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y

/** Go's time.ParseDuration (without a sign), in ms; a bare `0` is zero. undefined when it does not parse. */
export function parseGoDuration (text: string): number | undefined {
  if (text === '0') return 0
  if (text.length === 0 || text.length > 64) return undefined
  let total = 0
  PART.lastIndex = 0
  let at = 0
  while (at < text.length) {
    PART.lastIndex = at
    const m = PART.exec(text)
    if (m === null) return undefined
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    at = PART.lastIndex
  }
  return Number.isFinite(total) ? total : undefined
}

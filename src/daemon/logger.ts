/**
 * The daemon's logs: pino, one JSON object per line (`level` as a word,
 * `time` as an ISO date, `msg`, then the fields), on stderr. `text` turns
 * each line into one a person reads in a terminal, with no transport or
 * worker thread: `2026-12-03T13:14:05.123Z INFO  daemon started peerId=12D3… api=/ip4/…`.
 */
import { pino } from 'pino'
import type { Logger } from 'pino'

export const LOG_FORMATS = ['text', 'json'] as const
export type LogFormat = typeof LOG_FORMATS[number]
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export interface LoggerOptions {
  format: LogFormat
  level: LogLevel
  /** where the lines go (default process.stderr) */
  out?: { write: (line: string) => unknown }
}

const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname'])

function value (v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v
  if (typeof v === 'object' && v !== null) {
    const e = v as { type?: unknown, message?: unknown, code?: unknown }
    if (typeof e.message === 'string' && typeof e.type === 'string') return JSON.stringify(`${e.type}: ${e.message}${typeof e.code === 'string' ? ` (${e.code})` : ''}`)
  }
  return JSON.stringify(v) ?? String(v)
}

/** One pino JSON line as a line for people (a line that is not JSON passes unchanged). */
export function textLine (json: string): string {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(json) as Record<string, unknown>
  } catch {
    // not one of pino's lines: print it as it is
    return json
  }
  const fields = Object.entries(o).filter(([k]) => !SKIP.has(k)).map(([k, v]) => `${k}=${value(v)}`)
  return `${String(o.time ?? '')} ${String(o.level ?? '').toUpperCase().padEnd(5)} ${String(o.msg ?? '')}${fields.length > 0 ? ' ' + fields.join(' ') : ''}\n`
}

export function createLogger (opts: LoggerOptions): Logger {
  const out = opts.out ?? process.stderr
  return pino({
    level: opts.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) }
  }, {
    write: opts.format === 'json' ? (line: string) => { out.write(line) } : (line: string) => { out.write(textLine(line)) }
  })
}

/** Output helpers shared by the commands: tables, durations, errors. */

/** `name: message` of an error (with the field of an InvalidCommandError, the code of an InvalidRecordError). */
export function errorLine (err: unknown): string {
  if (!(err instanceof Error)) return `Error: ${String(err)}`
  const extra: string[] = []
  const { field, code } = err as { field?: unknown, code?: unknown }
  if (typeof field === 'string') extra.push(`field: ${field}`)
  if (typeof code === 'string' && err.name === 'InvalidRecordError') extra.push(`code: ${code}`)
  return `${err.name}: ${err.message}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`
}

/** Milliseconds for people, without the unit: 0.042, 4.20, 12, 11846. */
export function fmtMs (ms: number): string {
  if (ms < 1) return ms.toFixed(3)
  if (ms < 10) return ms.toFixed(2)
  return ms.toFixed(0)
}

/** A peer id shortened for a table: 12D3KooW…T3J3 */
export function shortId (peerId: string): string {
  return peerId.length <= 16 ? peerId : `${peerId.slice(0, 8)}…${peerId.slice(-4)}`
}

export function round (ms: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(ms * f) / f
}

export interface Column {
  title: string
  align?: 'left' | 'right'
  /** wrap cells of this column at this width (others are never wrapped) */
  wrap?: number
}

/** A plain-text table; cells of a wrapping column continue on following lines. */
export function table (columns: Column[], rows: string[][]): string {
  const cells = rows.map(row => columns.map((c, i) => c.wrap !== undefined ? wrap(row[i] ?? '', c.wrap) : [row[i] ?? '']))
  const widths = columns.map((c, i) => Math.max(width(c.title), ...cells.map(r => Math.max(...(r[i] ?? ['']).map(width)))))
  const line = (parts: string[]): string => parts.map((p, i) => {
    const w = widths[i] ?? 0
    const pad = ' '.repeat(Math.max(0, w - width(p)))
    return columns[i]?.align === 'right' ? pad + p : p + pad
  }).join('  ').trimEnd()
  const out = [line(columns.map(c => c.title)), line(widths.map(w => '─'.repeat(w)))]
  for (const r of cells) {
    const height = Math.max(...r.map(lines => lines.length))
    for (let k = 0; k < height; k++) out.push(line(r.map(lines => lines[k] ?? '')))
  }
  return out.join('\n')
}

function width (s: string): number {
  return [...s].length
}

function wrap (text: string, max: number): string[] {
  const lines: string[] = []
  let cur = ''
  for (const word of text.split(' ')) {
    if (cur === '') cur = word
    else if (width(cur) + 1 + width(word) <= max) cur += ' ' + word
    else {
      lines.push(cur)
      cur = word
    }
  }
  lines.push(cur)
  return lines
}

/** One-line JSON, cut at max characters. */
export function compact (value: unknown, max = 240): string {
  let text: string
  try {
    text = JSON.stringify(value) ?? 'undefined'
  } catch {
    text = String(value)
  }
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** Paths where two JSON values differ (at most `limit`), e.g. `value.peers: 11 → 12`. */
export function differences (expected: unknown, actual: unknown, limit = 5): string[] {
  const out: string[] = []
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (out.length >= limit) return
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)])
      for (const k of keys) {
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`)
      }
      return
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push(`${path === '' ? '(value)' : path}: ${a === undefined ? '(absent)' : compact(a, 60)} → ${b === undefined ? '(absent)' : compact(b, 60)}`)
    }
  }
  walk(expected, actual, '')
  return out
}

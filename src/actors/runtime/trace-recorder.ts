/**
 * Records a trace: a header, then every input and output the system reports,
 * encoded with the protocol's JSON codec at the moment it happens. Lines go to
 * a writer (a file, stdout) and/or are kept in memory; both are bounded by
 * `maxEvents`, after which the recorder stops and marks the trace truncated.
 */
import { toJson } from '../../messages/codec.js'
import { TRACE_VERSION, TRACE_VERSIONS_READ } from './trace-events.js'
import type { TraceEvent, TraceHeader, TraceInput, TraceOutput, TraceSink, TruncateReason } from './trace-events.js'

export interface TraceRecorderOptions {
  seed: number
  /** the system clock (monotonic) when recording starts */
  startedAt: number
  /** the wall clock then (ms since the epoch; default startedAt) */
  wallAt?: number
  config?: Record<string, unknown>
  /**
   * receives each JSONL line (without the newline); returning false means the
   * line could not be taken (a full buffer): the recording is cut there
   * with a `truncated` marker (reason 'buffer-full') in that line's place
   */
  write?: (line: string) => boolean | undefined | void
  /** keep events in memory (default true when there is no writer) */
  keep?: boolean
  /** stop recording after this many events (default 1,000,000) */
  maxEvents?: number
}

export class TraceRecorder implements TraceSink {
  readonly header: TraceHeader
  readonly events: TraceEvent[] = []
  truncated = false
  /** why it stopped, once truncated */
  truncatedBy: TruncateReason | undefined
  private seq = 0
  private written = 0
  private readonly write: ((line: string) => boolean | undefined | void) | undefined
  private readonly keep: boolean
  private readonly maxEvents: number

  constructor (options: TraceRecorderOptions) {
    this.write = options.write
    this.keep = options.keep ?? options.write === undefined
    this.maxEvents = options.maxEvents ?? 1_000_000
    this.header = { type: 'header', version: TRACE_VERSION, seed: options.seed, startedAt: options.startedAt, wallAt: options.wallAt ?? options.startedAt, config: options.config ?? {} }
    this.write?.(JSON.stringify(toJson(this.header)))
  }

  input (ev: TraceInput, t: number, deliveries: number): void {
    this.add({ ...(toJson(ev) as TraceInput), seq: ++this.seq, t, d: deliveries, dir: 'in' })
  }

  output (ev: TraceOutput, t: number): void {
    this.add({ ...(toJson(ev) as TraceOutput), seq: ++this.seq, t, dir: 'out' })
  }

  /** events recorded so far (the marker of a truncated trace included) */
  get recorded (): number {
    return this.written
  }

  /**
   * Stop recording here and say why in the trace itself (one `truncated`
   * marker, the last line): a replay then compares up to here only. Later
   * events are counted in `seq` but not kept. A second call does nothing.
   */
  truncate (reason: TruncateReason, t: number): void {
    if (this.truncated) return
    this.truncated = true
    this.truncatedBy = reason
    const marker: TraceEvent = { type: 'truncated', maxEvents: this.maxEvents, reason, seq: ++this.seq, t, dir: 'out' }
    this.written++
    if (this.keep) this.events.push(marker)
    this.write?.(JSON.stringify(marker))
  }

  private add (ev: TraceEvent): void {
    if (this.truncated) return
    if (this.seq > this.maxEvents) {
      this.seq--
      this.truncate('max-events', ev.t)
      return
    }
    if (this.write?.(JSON.stringify(ev)) === false) {
      this.seq--
      this.truncate('buffer-full', ev.t)
      return
    }
    this.written++
    if (this.keep) this.events.push(ev)
  }

  /** The whole trace as JSONL text (needs keep). */
  toJsonl (): string {
    return [this.header, ...this.events].map(e => JSON.stringify(e)).join('\n') + '\n'
  }
}

/** Parse JSONL text into a header and events. Throws a SyntaxError naming the bad line. */
export function parseTrace (text: string): { header: TraceHeader, events: TraceEvent[] } {
  const lines = text.split('\n').filter(l => l.trim() !== '')
  if (lines.length === 0) throw new SyntaxError('the trace is empty')
  let header: TraceHeader | undefined
  const events: TraceEvent[] = []
  lines.forEach((line, i) => {
    let obj: unknown
    try {
      obj = JSON.parse(line)
    } catch (err) {
      throw new SyntaxError(`trace line ${i + 1}: ${(err as Error).message}`, { cause: err })
    }
    if (typeof obj !== 'object' || obj === null) throw new SyntaxError(`trace line ${i + 1}: not an object`)
    if (i === 0) {
      const h = obj as TraceHeader
      if (h.type !== 'header') throw new SyntaxError('trace line 1: the first line must be the header')
      if (!TRACE_VERSIONS_READ.includes(h.version)) throw new SyntaxError(`trace version ${String(h.version)} is not supported (this build reads ${TRACE_VERSIONS_READ.join(' and ')})`)
      header = h
      return
    }
    const e = obj as TraceEvent
    if (typeof e.seq !== 'number' || typeof e.t !== 'number' || (e.dir !== 'in' && e.dir !== 'out')) {
      throw new SyntaxError(`trace line ${i + 1}: an event needs seq, t and dir`)
    }
    events.push(e)
  })
  if (header === undefined) throw new SyntaxError('the trace has no header')
  return { header, events }
}

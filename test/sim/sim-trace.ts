/**
 * The trace sink of the IPNS simulation: it keeps the asks and settles, in
 * order (what the checks read), and every event only when asked to (the
 * determinism check). Keeping less is much of what makes a seed cheap enough
 * for a thousand of them.
 */
import { RecordingTrace } from '../helpers/sim.js'
import type { TraceInput, TraceOutput, TraceSink } from '../../src/actors/runtime/trace-events.js'

export type Mark = { ask: true, id: string } | { ask: false, id: string, t: number, ok: boolean, kind?: string }

export class SimTrace implements TraceSink {
  readonly marks: Mark[] = []
  readonly settled = new Set<string>()
  readonly all: RecordingTrace | undefined
  private last = ''
  /** index in `marks` of the last ask */
  lastAskMark = -1

  constructor (full: boolean) {
    this.all = full ? new RecordingTrace() : undefined
  }

  input (ev: TraceInput, t: number, d: number): void {
    this.all?.input(ev, t, d)
    if (ev.type === 'ask') {
      this.last = ev.id
      this.lastAskMark = this.marks.length
      this.marks.push({ ask: true, id: ev.id })
    }
  }

  output (ev: TraceOutput, t: number): void {
    this.all?.output(ev, t)
    if (ev.type !== 'settle') return
    this.settled.add(ev.id)
    this.marks.push(ev.ok ? { ask: false, id: ev.id, t, ok: true } : { ask: false, id: ev.id, t, ok: false, kind: ev.failure.kind })
  }

  lastAskId (): string {
    return this.last
  }
}

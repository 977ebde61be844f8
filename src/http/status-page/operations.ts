/**
 * The recent IPNS resolves and publishes the status page lists, each with its
 * lifecycle: a bounded ring built from the node's ipns:resolve:* and
 * ipns:publish:* progress events (src/actors/ipns/ipns-state.ts emits one per
 * machine snapshot, named after the state the machine is in afterwards, with
 * the event it handled in `detail.event`; a few more — ipns:resolve:router,
 * ipns:resolve:improved, ipns:publish:routers — report a router's answer).
 *
 * An operation is one flight of the IPNS actor (its progress id); it ends in
 * the state `done` or `failed`. Bounds: the last `capacity` operations (the
 * oldest goes, finished or not, and is counted in `evicted`), `MAX_STEPS`
 * steps per operation (more are counted in `droppedSteps`), strings cut to
 * `MAX_TEXT`. Only what the events carry is kept: state and event names, the
 * name and sequence a router answer holds, an error message — never a key.
 */
import type { ProgressEvent } from '../../actors/runtime/actor.js'

export const DEFAULT_OPERATIONS = 50
export const MAX_OPERATIONS = 1_000
export const MAX_STEPS = 64
export const MAX_TEXT = 200

export type OperationKind = 'resolve' | 'publish'

/** one stretch of an operation's lifecycle in one state */
export interface OperationStep {
  /** e.g. 'querying', 'preparing.key', 'done', or a router report ('router', 'routers', 'improved') */
  state: string
  /** the events the machine handled to get here and while here, in order (at most 8 listed) */
  events: string[]
  /** ms after the operation's first event */
  atMs: number
  /** how many progress events fell in this step */
  count: number
  /** a router answer's or failure's text (endpoint excluded) */
  note?: string
}

export interface Operation {
  id: string
  kind: OperationKind
  /** the IPNS name when an event named it (router reports do) */
  name?: string
  /** wall time of the first event (ms since the epoch) */
  startedAt: number
  /** 'running' until the machine reaches done or failed */
  outcome: 'running' | 'done' | 'failed'
  /** ms from the first event to done / failed */
  durationMs?: number
  steps: OperationStep[]
  droppedSteps: number
}

export interface OperationsSnapshot {
  capacity: number
  /** operations seen since the page's face started */
  seen: number
  /** operations pushed out of the ring before or after they ended */
  evicted: number
  /** newest first */
  operations: Operation[]
}

interface Clocks { wall: () => number, mono: () => number }

const realClocks: Clocks = { wall: () => Date.now(), mono: () => performance.now() }

function cut (text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text
}

function noteOf (detail: Record<string, unknown> | undefined): string | undefined {
  if (detail === undefined) return undefined
  if (typeof detail.error === 'string') return cut(`error: ${detail.error}`)
  const parts: string[] = []
  if (typeof detail.sequence === 'string') parts.push(`sequence ${detail.sequence}`)
  if (typeof detail.accepted === 'number') parts.push(`accepted by ${detail.accepted}`)
  if (typeof detail.value === 'string') parts.push(detail.value)
  return parts.length > 0 ? cut(parts.join(', ')) : undefined
}

interface Entry { op: Operation, t0: number }

export class OperationRing {
  readonly capacity: number
  private readonly entries = new Map<string, Entry>()
  private seen = 0
  private evicted = 0
  private readonly clocks: Clocks

  constructor (capacity = DEFAULT_OPERATIONS, clocks: Clocks = realClocks) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_OPERATIONS) throw new RangeError(`operations: capacity must be 1..${MAX_OPERATIONS}`)
    this.capacity = capacity
    this.clocks = clocks
  }

  /** feed one progress event; events that are not ipns:resolve:* / ipns:publish:* are ignored */
  observe (e: ProgressEvent): void {
    const m = /^ipns:(resolve|publish):(.+)$/.exec(e.type)
    if (m === null || e.id === undefined) return
    const kind = m[1] as OperationKind
    const state = cut(m[2] ?? '')
    const key = `${kind}:${e.id}`
    const now = this.clocks.mono()
    let entry = this.entries.get(key)
    if (entry === undefined) {
      entry = { op: { id: cut(String(e.id)), kind, startedAt: this.clocks.wall(), outcome: 'running', steps: [], droppedSteps: 0 }, t0: now }
      this.entries.set(key, entry)
      this.seen++
      while (this.entries.size > this.capacity) {
        const oldest = this.entries.keys().next().value
        if (oldest === undefined) break
        this.entries.delete(oldest)
        this.evicted++
      }
    }
    const { op } = entry
    if (typeof e.detail?.name === 'string' && op.name === undefined) op.name = cut(e.detail.name)
    const event = typeof e.detail?.event === 'string' ? cut(e.detail.event) : ''
    const note = noteOf(e.detail)
    const last = op.steps.at(-1)
    if (last !== undefined && last.state === state && note === undefined) {
      last.count++
      if (event !== '' && last.events.length < 8) last.events.push(event)
    } else if (op.steps.length < MAX_STEPS) {
      op.steps.push({ state, events: event !== '' ? [event] : [], atMs: round(now - entry.t0), count: 1, ...(note !== undefined ? { note } : {}) })
    } else {
      op.droppedSteps++
    }
    if ((state === 'done' || state === 'failed') && op.outcome === 'running') {
      op.outcome = state
      op.durationMs = round(now - entry.t0)
    }
  }

  snapshot (): OperationsSnapshot {
    const operations = [...this.entries.values()].map(e => structuredClone(e.op)).reverse()
    return { capacity: this.capacity, seen: this.seen, evicted: this.evicted, operations }
  }
}

function round (ms: number): number {
  return Math.round(ms * 100) / 100
}

/** upper bounds (ms) of the duration histogram's buckets; the last bucket is everything above */
export const DURATION_BOUNDS_MS = [1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000]

export interface DurationHistogram {
  kind: OperationKind
  outcome: 'done' | 'failed'
  /** counts per bucket: ≤ DURATION_BOUNDS_MS[i], the last one for above them all */
  counts: number[]
  total: number
  meanMs: number
  maxMs: number
}

/** histograms of the finished operations' durations in a snapshot, by kind and outcome */
export function durationHistograms (ops: Operation[]): DurationHistogram[] {
  const out: DurationHistogram[] = []
  for (const kind of ['resolve', 'publish'] as const) {
    for (const outcome of ['done', 'failed'] as const) {
      const ds = ops.filter(o => o.kind === kind && o.outcome === outcome && o.durationMs !== undefined).map(o => o.durationMs ?? 0)
      if (ds.length === 0) continue
      const counts = new Array<number>(DURATION_BOUNDS_MS.length + 1).fill(0)
      for (const d of ds) {
        const i = DURATION_BOUNDS_MS.findIndex(b => d <= b)
        const at = i === -1 ? DURATION_BOUNDS_MS.length : i
        counts[at] = (counts[at] ?? 0) + 1
      }
      out.push({ kind, outcome, counts, total: ds.length, meanMs: round(ds.reduce((a, b) => a + b, 0) / ds.length), maxMs: Math.max(...ds) })
    }
  }
  return out
}

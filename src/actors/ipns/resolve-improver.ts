/**
 * Background improvement of a resolve that answered at its settle time (an
 * HTTP router's record, the DHT still running): its DHT query is not
 * stopped but handed over here, to run until it ends or the resolve's
 * deadline. Each new record it brings is verified; one better than what the
 * resolve answered replaces it in the cache and the repo, so the next
 * resolve is right. Bounded: MAX_IMPROVERS at once (beyond, the query is
 * stopped as before), MAX_SEEN records per query.
 */
import type { QueryId } from '../../messages/ids.js'
import type { VerifiedRecord } from '../../messages/records.js'
import type { IpnsState, ResolveMsg } from './ipns-state.js'
import type { HopResult } from './resolve-machine.js'

export const MAX_IMPROVERS = 64
const MAX_SEEN = 64

interface Improver {
  /** the dht.getValues stream, still running */
  stream: QueryId
  name: string
  hop: number
  /** records already considered (the resolve's candidates, then the query's) */
  seen: Set<string>
  /** the record the resolve answered with, then each better one */
  best: VerifiedRecord | undefined
  /** records being verified, by key */
  records: Map<string, Uint8Array>
  /** the query has ended: the improver goes once its last verdict is in */
  ended: boolean
  /** the resolve answered with a router's record: a better one goes to the routers too */
  routerAnswered: boolean
}

export interface ResolveImprover {
  /** can another query be handed over? */
  room(): boolean
  /** take over a resolve's running query */
  adopt(flight: string, stream: QueryId, name: string, hop: number, seen: Iterable<string>): void
  /** what the resolve answered with (its hop for the improver's name) */
  answered(flight: string, hop: HopResult): void
  /** a message of a flight that has ended: true when an improver took it */
  onMsg(m: ResolveMsg): boolean
  stop(): void
  readonly size: number
}

function better (a: VerifiedRecord, b: VerifiedRecord | undefined): boolean {
  if (b === undefined) return true
  if (a.sequence !== b.sequence) return a.sequence > b.sequence
  return a.validityMs > b.validityMs
}

export function resolveImprover (s: IpnsState): ResolveImprover {
  const { ctx, counters } = s
  const improvers = new Map<string, Improver>()

  const end = (flight: string): void => {
    const i = improvers.get(flight)
    if (i === undefined) return
    improvers.delete(flight)
    ctx.cancel(i.stream)
  }

  return {
    room: () => improvers.size < MAX_IMPROVERS,
    adopt: (flight, stream, name, hop, seen) => {
      improvers.set(flight, { stream, name, hop, seen: new Set([...seen].slice(0, MAX_SEEN)), best: undefined, records: new Map(), ended: false, routerAnswered: false })
    },
    answered: (flight, hop) => {
      const i = improvers.get(flight)
      if (i !== undefined && i.name === hop.name) {
        i.best = hop.fields
        i.routerAnswered = hop.source === 'router'
      }
    },
    onMsg: m => {
      if (m.type !== 'r.value' && m.type !== 'r.verified' && m.type !== 'r.end') return false
      const i = improvers.get(m.flight)
      if (i === undefined || m.hop !== i.hop) return false
      switch (m.type) {
        case 'r.value': {
          const key = Buffer.from(m.value).toString('base64').replace(/=+$/, '')
          if (i.seen.has(key) || i.seen.size >= MAX_SEEN) return true
          i.seen.add(key)
          i.records.set(key, m.value)
          ctx.ask({ type: 'record.verify', name: i.name, record: m.value }, { deadline: ctx.clock.now() + 30_000 },
            result => ({ type: 'r.verified', flight: m.flight, hop: i.hop, key, result }))
          return true
        }
        case 'r.verified': {
          const record = i.records.get(m.key)
          i.records.delete(m.key)
          if (i.ended && i.records.size === 0) improvers.delete(m.flight)
          if (!m.result.ok) {
            // a verdict cut short (the node stopping) says nothing about the record
            if (m.result.failure.kind !== 'aborted' && m.result.failure.kind !== 'timeout' && m.result.failure.kind !== 'stopped') s.reject(m.result.failure.code ?? m.result.failure.kind)
            return true
          }
          const fields = m.result.value
          if (record === undefined || !better(fields, i.best)) return true
          i.best = fields
          counters.improved = (counters.improved ?? 0) + 1
          const hop: HopResult = { name: i.name, record, fields, source: 'dht', stale: [] }
          // the next resolve must see it: the answers through this name go, the hop is cached anew
          s.forgetAnswers(i.name)
          s.remember(hop, false)
          if (i.routerAnswered) s.correctRouters(i.name, record)
          ctx.progress({ type: 'ipns:resolve:improved', id: m.flight, detail: { name: i.name, sequence: fields.sequence.toString(), value: fields.value } })
          s.side(() => {
            ctx.ask({ type: 'store.put', entry: { kind: 'resolved', name: i.name, record, receivedAt: ctx.clock.wall(), sequence: fields.sequence } },
              { timeoutMs: 30_000 }, result => ({ type: 'side', what: 'store', result }))
          })
          return true
        }
        case 'r.end':
          i.ended = true
          if (i.records.size === 0) improvers.delete(m.flight)
          return true
      }
      return false
    },
    stop: () => {
      for (const flight of [...improvers.keys()]) end(flight)
    },
    get size () { return improvers.size }
  }
}

/**
 * What the IPNS actor's resolve flights and publish flights share: the
 * caches (hops and whole answers, each entry fresh on both clocks), the
 * flights in progress and their single-flight groups, the counters, and the
 * helpers both kinds use (machine inspection, bounded side asks, forgetting
 * what a publish made stale, ending a flight). One per actor incarnation,
 * created in start(); only receive touches it.
 */
import { LRUCache } from 'lru-cache'
import { expired, expiryIn, sooner } from '../runtime/expiry.js'
import type { Actor } from 'xstate'
import type { ActorContext, ReplyPort, Settled } from '../runtime/actor.js'
import type { Expiry } from '../runtime/expiry.js'
import type { HopResult, ResolveMachine } from './resolve-machine.js'
import type { PublishMachine } from './publish-machine.js'
import type { ReplyOf } from '../../messages/commands.js'
import type { QueryId } from '../../messages/ids.js'
import type { IpnsPublish, IpnsPut, IpnsResolve, IpnsResolveStream, ResolveReply } from '../../messages/ipns.js'
import type { CreatedRecordReply, VerifiedRecord } from '../../messages/records.js'
import type { StoredRecord } from '../../messages/store.js'
import type { DnsLinkReply } from '../../messages/dnslink.js'
import type { RouterPutOutcome, RoutersIpnsReply, RoutersPutReply } from '../../messages/routers.js'
import '../../messages/ipns.js'
import '../../messages/keys.js'
import '../../messages/records.js'
import '../../messages/store.js'
import '../../messages/swarm.js'
import '../../messages/dnslink.js'
import '../../messages/routers.js'

export interface IpnsActorOptions {
  /** valid answers that end a DHT query (default 16, the spec's quorum) */
  quorum?: number
  /** resolved names cached (default 1,024) */
  cacheSize?: number
  /** most resolves and publishes in flight (default 1,024) */
  maxFlights?: number
  /** most asks waiting on one shared resolve (default 10,000) */
  maxWaiters?: number
  /**
   * ask the `routers` actor (HTTP routers) beside the DHT: resolves answer
   * `settleMs` (default 300) after a router's record proved valid, with the
   * best found by then, unless the DHT's quorum comes first; publishes put to
   * the routers too. createNode sets it when given router endpoints
   * (docs/routing.md#the-composite-router).
   */
  routers?: { settleMs?: number }
}

export const DEFAULT_SETTLE_MS = 300

/** The actor's own messages (plain data, recorded in traces); each completion carries its reply's type. */
export type IpnsMsg =
  | { type: 'r.value', flight: string, hop: number, value: Uint8Array, from: string }
  | { type: 'r.end', flight: string, hop: number, result: Settled<number> }
  | { type: 'r.verified', flight: string, hop: number, key: string, result: Settled<VerifiedRecord> }
  | { type: 'r.local', flight: string, hop: number, result: Settled<StoredRecord> }
  | { type: 'r.soft', flight: string }
  | { type: 'r.dnslink', flight: string, hop: number, result: Settled<DnsLinkReply> }
  | { type: 'r.router', flight: string, hop: number, result: Settled<RoutersIpnsReply> }
  | { type: 'r.settle', flight: string, hop: number }
  | { type: 'p.key', flight: string, result: Settled<ReplyOf<'key.list'>> }
  | { type: 'p.seen', flight: string, result: Settled<StoredRecord> }
  | { type: 'p.signed', flight: string, result: Settled<CreatedRecordReply> }
  | { type: 'p.stored', flight: string, result: Settled<ReplyOf<'store.put'>> }
  | { type: 'p.put', flight: string, result: Settled<ReplyOf<'dht.put'>> }
  | { type: 'u.verified', flight: string, result: Settled<VerifiedRecord> }
  | { type: 'u.seen', flight: string, result: Settled<StoredRecord> }
  | { type: 'u.stored', flight: string, result: Settled<ReplyOf<'store.put'>> }
  | { type: 'u.put', flight: string, result: Settled<ReplyOf<'dht.put'>> }
  | { type: 'p.routers', flight: string, result: Settled<RoutersPutReply> }
  | { type: 'side', what: string, result: Settled<unknown> }

export type ResolveMsg = Extract<IpnsMsg, { type: `r.${string}` }>
export type PublishMsg = Extract<IpnsMsg, { type: `p.${string}` }>

export const isResolveMsg = (m: IpnsMsg): m is ResolveMsg => m.type.startsWith('r.')
export const isPublishMsg = (m: IpnsMsg): m is PublishMsg => m.type.startsWith('p.')
export type PutMsg = Extract<IpnsMsg, { type: `u.${string}` }>
export const isPutMsg = (m: IpnsMsg): m is PutMsg => m.type.startsWith('u.')

export interface CacheEntry { hop: HopResult, expiresAt: Expiry }

/** a whole answer, for repeats of the same resolve: names are the hops it went through */
export interface AnswerEntry { reply: ResolveReply, expiresAt: Expiry, names: string[] }

export interface ResolveFlight {
  kind: 'resolve'
  id: string
  group: string
  machine: Actor<ResolveMachine>
  /** the asks sharing this resolve, each with its typed port */
  waiters: Map<QueryId, ReplyPort<IpnsResolve>>
  deadline: number
  /** asks this flight made (cancelled when it ends) */
  subs: Set<QueryId>
  stream: QueryId | undefined
  /** which hop the running query belongs to (late results of an earlier hop are dropped) */
  hop: number
  /** the answer cache key, and the earliest expiry and the names of the hops so far */
  answerKey: string | undefined
  expiresAt: Expiry
  names: string[]
  localPending: number
  cancelSoft: (() => void) | undefined
  /** the settle timer armed by a router's valid record (this hop) */
  cancelSettle: (() => void) | undefined
  /** it answers at its settle time: its DHT query goes on in the background (resolve-improver.ts) */
  improve: boolean
  /** a name it goes through was published here while it ran: its answer may be older, so it caches nothing and takes no joiners */
  stale: boolean
  /** its askers want the last record's bytes in the reply (ipns.resolve record: true) */
  withRecord: boolean
  /** an ipns.resolveStream: its port (no waiters, no joiners, no settle time) and what it has yielded */
  streamPort: ReplyPort<IpnsResolveStream> | undefined
  /** the record of hop `streamedHop` behind the last item yielded (an item of the same hop is yielded only when strictly better) */
  streamed: VerifiedRecord | undefined
  streamedHop: number
  /** the last item yielded */
  lastItem: ResolveReply | undefined
}

export interface PublishFlight {
  kind: 'publish'
  id: string
  key: string
  machine: Actor<PublishMachine>
  waiter: ReplyPort<IpnsPublish>
  deadline: number
  subs: Set<QueryId>
  /** with routers: the DHT's and the routers' results of the put, each once it came */
  dhtPut?: Settled<ReplyOf<'dht.put'>>
  routersPut?: Settled<RoutersPutReply>
  routerOutcomes?: RouterPutOutcome[]
  /** the dht.put ask (with routers: it may outlive the flight, see backgroundPuts) */
  dhtPutQuery?: QueryId
  /** acknowledged by a router before the DHT put answered */
  dhtPending?: boolean
}

/** a DHT put that goes on after its publish was acknowledged by a router */
export interface BackgroundPut { query: QueryId, name: string }

/** an ipns.put: a record signed elsewhere, verified, compared, stored, put */
export interface PutFlight {
  kind: 'put'
  id: string
  /** base36 */
  name: string
  record: Uint8Array
  offline: boolean
  waiter: ReplyPort<IpnsPut>
  deadline: number
  subs: Set<QueryId>
  verified: VerifiedRecord | undefined
  /** store.get replies still awaited (published, resolved) */
  awaiting: number
  seen: bigint | undefined
}

export type Flight = ResolveFlight | PublishFlight | PutFlight

/** a publish waiting behind the one in flight for its key */
export interface QueuedPublish { port: ReplyPort<IpnsPublish>, cmd: IpnsPublish, deadline: number }

const SIDE_TASKS_MAX = 256

export interface IpnsState {
  readonly ctx: ActorContext<IpnsMsg>
  readonly defaultQuorum: number
  readonly maxFlights: number
  readonly maxWaiters: number
  /** the settle time after a router's valid record, ms; undefined: no routers */
  readonly settleMs: number | undefined
  readonly cache: LRUCache<string, CacheEntry>
  /**
   * Repeats of a resolve whose whole answer is fresh are answered here,
   * without starting a machine: that is what keeps a cached resolve in
   * microseconds. Anything else (a new path, a hop expired) runs the machine,
   * whose own cache state serves the hops that are still fresh.
   */
  readonly answers: LRUCache<string, AnswerEntry>
  readonly flights: Map<string, Flight>
  readonly groups: Map<string, ResolveFlight>
  readonly waiterFlight: Map<QueryId, string>
  /** keys with a publish in flight: publishes of one key run one at a time (each must see the sequence the previous one stored) */
  readonly publishing: Set<string>
  readonly queuedPublishes: Map<string, QueuedPublish[]>
  readonly counters: {
    resolves: number, shared: number, cacheHits: number, publishes: number, corrections: number, dhtQueries: number,
    routerQueries?: number, routerAnswers?: number, improved?: number, routerCorrections?: number,
    /** publishes acknowledged by a router before the DHT put answered; of those puts, how each ended */
    dhtPutsBehind?: number, dhtPutsBehindOk?: number, dhtPutsBehindFailed?: number
  }
  /** DHT puts still running after their publish was acknowledged, by flight id (bounded: MAX_BACKGROUND_PUTS) */
  readonly backgroundPuts: Map<string, BackgroundPut>
  /** records peers answered with that were not used, by reason (the failed rule's code) */
  readonly rejected: Record<string, number>
  sideTasks: number
  /** called when a publish flight of `key` ended: the next queued one starts (set by the publish flights) */
  afterPublish: (key: string) => void
  /** names with an ipns.put in flight: puts of one name run one at a time (set and drained by the put flights) */
  readonly putting: Set<string>
  afterPut: (name: string) => void
  reject(code: string): void
  /** the machine inspector: transitions to the trace, progress to the host */
  inspect(machineName: string, id: string): (ev: { type: string, event?: { type: string }, snapshot?: unknown }) => void
  /** a fire-and-forget ask (store, entry correction): bounded, results only counted */
  side(run: () => void): void
  fresh(name: string): HopResult | undefined
  remember(hop: HopResult, stale: boolean): Expiry
  hopDone(f: ResolveFlight, name: string, expiresAt: Expiry): void
  forgetAnswers(name: string): void
  /** a router answered with an older record than `record`: put this one to the routers (bounded side ask) */
  correctRouters(name: string, record: Uint8Array): void
  endFlight(f: Flight): void
}

export function createIpnsState (ctx: ActorContext<IpnsMsg>, options: IpnsActorOptions): IpnsState {
  const s: IpnsState = {
    ctx,
    defaultQuorum: options.quorum ?? 16,
    maxFlights: options.maxFlights ?? 1024,
    maxWaiters: options.maxWaiters ?? 10_000,
    settleMs: options.routers === undefined ? undefined : options.routers.settleMs ?? DEFAULT_SETTLE_MS,
    cache: new LRUCache<string, CacheEntry>({ max: options.cacheSize ?? 1024 }),
    answers: new LRUCache<string, AnswerEntry>({ max: options.cacheSize ?? 1024 }),
    flights: new Map(),
    groups: new Map(),
    waiterFlight: new Map(),
    publishing: new Set(),
    queuedPublishes: new Map(),
    // the router counters only on a node with routers (status details without them stay as they were)
    counters: { resolves: 0, shared: 0, cacheHits: 0, publishes: 0, corrections: 0, dhtQueries: 0, ...(options.routers !== undefined ? { routerQueries: 0, routerAnswers: 0, improved: 0, dhtPutsBehind: 0, dhtPutsBehindOk: 0, dhtPutsBehindFailed: 0 } : {}) },
    backgroundPuts: new Map(),
    rejected: {},
    sideTasks: 0,
    afterPublish: () => {},
    putting: new Set(),
    afterPut: () => {},

    reject: code => {
      if (Object.keys(s.rejected).length < 64 || code in s.rejected) s.rejected[code] = (s.rejected[code] ?? 0) + 1
    },

    inspect: (machineName, id) => ev => {
      if (ev.type !== '@xstate.snapshot') return
      const snap = ev.snapshot as { value: unknown }
      const state = typeof snap.value === 'string' ? snap.value : JSON.stringify(snap.value)
      const event = ev.event?.type ?? ''
      ctx.transition(machineName, id, state, event)
      ctx.progress({ type: `ipns:${machineName}:${state.replace(/[{}"]/g, '').replace(':', '.')}`, id, detail: { event } })
    },

    side: run => {
      if (s.sideTasks >= SIDE_TASKS_MAX) return
      s.sideTasks++
      run()
    },

    fresh: name => {
      const e = s.cache.get(name)
      if (e === undefined) return undefined
      if (expired(ctx.clock, e.expiresAt)) {
        s.cache.delete(name)
        return undefined
      }
      return { ...e.hop, source: 'cache', stale: [] }
    },

    /** cache a hop for its TTL (from when the repo got it, for a repo's record), never past its record's EOL (a date), unless its flight went stale; returns until when it is fresh */
    remember: (hop, stale) => {
      const ttlMs = Number(hop.fields.ttl / 1_000_000n)
      const left = hop.receivedAt === undefined ? ttlMs : hop.receivedAt + ttlMs - ctx.clock.wall()
      const expiresAt = expiryIn(ctx.clock, left, hop.fields.validityMs)
      if (!expired(ctx.clock, expiresAt) && !stale) s.cache.set(hop.name, { hop, expiresAt })
      return expiresAt
    },

    /** a hop of a flight was resolved: its freshness bounds the whole answer's */
    hopDone: (f, name, expiresAt) => {
      f.expiresAt = sooner(f.expiresAt, expiresAt)
      if (f.names.length < 64) f.names.push(name)
    },

    /** forget every cached answer that went through this name (it was just published) */
    forgetAnswers: name => {
      s.cache.delete(name)
      for (const [k, a] of s.answers.entries()) if (a.names.includes(name)) s.answers.delete(k)
      // a resolve already running may have read the older record: it must not
      // cache it, nor answer resolves asked after this publish
      for (const f of s.flights.values()) {
        if (f.kind !== 'resolve' || f.stale || !(f.names.includes(name) || f.machine.getSnapshot().context.name === name)) continue
        f.stale = true
        if (s.groups.get(f.group) === f) s.groups.delete(f.group)
      }
    },

    correctRouters: (name, record) => {
      if (s.settleMs === undefined) return
      s.counters.routerCorrections = (s.counters.routerCorrections ?? 0) + 1
      s.side(() => {
        ctx.ask({ type: 'routers.putIpns', name, record }, { timeoutMs: 30_000 }, result => ({ type: 'side', what: 'correct-routers', result }))
      })
    },

    endFlight: f => {
      s.flights.delete(f.id)
      for (const sub of f.subs) ctx.cancel(sub)
      f.subs.clear()
      if (f.kind === 'resolve') {
        f.cancelSoft?.()
        f.cancelSettle?.()
        if (s.groups.get(f.group) === f) s.groups.delete(f.group)
        for (const w of f.waiters.keys()) s.waiterFlight.delete(w)
        if (f.streamPort !== undefined) s.waiterFlight.delete(f.streamPort.id)
      } else if (f.kind === 'put') {
        s.waiterFlight.delete(f.waiter.id)
        s.putting.delete(f.name)
        s.afterPut(f.name)
        return
      } else {
        s.waiterFlight.delete(f.waiter.id)
        s.publishing.delete(f.key)
      }
      f.machine.stop()
      if (f.kind === 'publish') s.afterPublish(f.key)
    }
  }
  return s
}

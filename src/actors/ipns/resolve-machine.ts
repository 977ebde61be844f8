/**
 * The lifecycle of one IPNS resolve. The machine decides; the IPNS actor does.
 * Every effect (DHT query, verification, store, entry correction) is an
 * action the actor provides with machine.provide, and every result comes back
 * as an event, so the machine never awaits anything and a replay drives it
 * through exactly the same transitions.
 *
 *   lookup ──cached──────────────────────────────────────────────▶ hopResolved
 *     │                                                            │
 *     └──▶ reading ──[offline] / [best within its TTL]──▶ selecting ◀── quorum / query end / soft deadline ──┐
 *            │ (the repo's records)                          │ └─none─▶ failed                             │
 *            └──────────────────────────────────────────────────────────────────────────────▶ querying ────┘
 *   hopResolved ──/ipns/ value──▶ lookup (next hop) │ /ipns/<not a name> ─▶ failed │ else ─▶ done
 *
 * `reading` asks the repo (the store's published and resolved records) for
 * the hop's name before the network: each record is a candidate from
 * 'local', verified like a peer's. The best of them answers at once when it
 * is within its TTL (source 'local', unless `nocache`); `offline` answers
 * from them whatever their TTL, and never queries. Otherwise they stay
 * candidates and compete with the network's (resolve-select.ts).
 *
 * With HTTP routers (docs/routing.md) a query also asks them, at once: a
 * router's record is one more candidate (ROUTER_VALUE, from `router:<url>`),
 * verified like a peer's. `querying` ends on the DHT's quorum, on SETTLE_TIME
 * (a settle time after one source had a valid record while the other was
 * still out: the best found by then wins), or when the DHT query and the
 * routers have both ended.
 */
import { assign, setup } from 'xstate'
import { isDomain, isIpnsName } from './target.js'
import { freshInRepo, isPeer, LOCAL_FROM, pick } from './resolve-select.js'
import type { Candidate, HopResult } from './resolve-select.js'
import type { Failure } from '../../messages/failure.js'
import type { ResolveReply, ResolveSource } from '../../messages/ipns.js'
import type { VerifiedRecord } from '../../messages/records.js'

/** kubo's limit on /ipns/ → /ipns/ chains */
export const MAX_HOPS = 32

export type { Candidate, HopResult } from './resolve-select.js'
export { better, sourceOf, ROUTER_FROM } from './resolve-select.js'

export interface ResolveContext {
  id: string
  /** the current hop's name (base36) */
  name: string
  hops: number
  /** path to join onto the final value (accumulated from each hop's name) */
  rest: string
  quorum: number
  nocache: boolean
  offline: boolean
  recursive: boolean
  candidates: Map<string, Candidate>
  verifying: number
  valid: number
  queryEnded: boolean
  /** the repo's records for this hop have all come (or were not there) */
  repoRead: boolean
  /** wall time (ms) the repo was read: its records' TTL is judged then */
  readAt: number
  /** the first hop asks the network even when it is cached or fresh in the repo (a stream) */
  live: boolean
  /** HTTP routers are asked beside the DHT */
  routers: boolean
  /** the routers' answer for this hop is still to come */
  routerPending: boolean
  /** a failure the query ended with (used when no record was found) */
  queryFailure: Failure | undefined
  hop: HopResult | undefined
  sources: ResolveSource[]
  result: ResolveReply | undefined
  failure: Failure | undefined
}

export interface ResolveInput {
  id: string
  name: string
  rest: string
  quorum: number
  nocache: boolean
  offline: boolean
  recursive: boolean
  /** ask the HTTP routers too (default false) */
  routers?: boolean
  /** the first hop skips the cache and the repo's within-TTL answer (a stream; default false) */
  live?: boolean
}

export type ResolveEvent =
  | { type: 'VALUE', key: string, value: Uint8Array, from: string }
  | { type: 'STORED', key: string, value: Uint8Array, receivedAt: number }
  | { type: 'REPO_END', wall: number }
  | { type: 'ROUTER_VALUE', key: string, value: Uint8Array, from: string }
  | { type: 'ROUTER_END', failure?: Failure }
  | { type: 'SETTLE_TIME' }
  | { type: 'VERIFIED', key: string, fields: VerifiedRecord }
  | { type: 'REJECTED', key: string, code: string }
  | { type: 'QUERY_END', failure?: Failure }
  | { type: 'SOFT_DEADLINE' }
  | { type: 'DNSLINK', value: string, ttlMs: number }
  | { type: 'DNSLINK_FAILED', failure: Failure }

/** What the IPNS actor provides (machine.provide) for one request. */
export interface ResolveEffects {
  /** a fresh cached hop for this name, or undefined */
  cached: (name: string) => HopResult | undefined
  /** read the hop's records from the repo; answers STORED for each, then REPO_END */
  readRepo: (ctx: ResolveContext) => void
  /** start streaming candidate records from the DHT (and the routers) */
  startQuery: (ctx: ResolveContext) => void
  /** stop the running query (quorum reached or time up) */
  stopQuery: (ctx: ResolveContext) => void
  /** verify one candidate; answers VERIFIED or REJECTED */
  verify: (ctx: ResolveContext, key: string, record: Uint8Array) => void
  /** keep the chosen record: cache, store, and entry correction */
  keep: (ctx: ResolveContext, hop: HopResult) => void
}

/** a hop can go on to another IPNS name or to a DNSLink domain */
const isName = (text: string): boolean => isIpnsName(text) || isDomain(text)

export const valueName = (value: string): { name: string, rest: string } | undefined => {
  const m = /^\/ipns\/([^/]+)(\/.*)?$/.exec(value)
  return m === null ? undefined : { name: m[1] as string, rest: m[2] ?? '' }
}

export const resolveMachine = setup({
  types: {
    context: {} as ResolveContext,
    events: {} as ResolveEvent,
    input: {} as ResolveInput
  },
  actions: {
    // effects, provided per request by the IPNS actor
    readRepo: () => {},
    startQuery: () => {},
    stopQuery: () => {},
    requestVerify: (_, _params: { key: string, record: Uint8Array }) => {},
    keep: () => {},
    takeCached: () => {},
    resolveDnslink: () => {},
    takeDnslink: assign(({ context, event }) => {
      if (event.type !== 'DNSLINK') return {}
      // a DNSLink is a hop without a record: its value and TTL, nothing else
      const hop: HopResult = {
        name: context.name,
        record: new Uint8Array(0),
        fields: { value: event.value, sequence: 0n, validity: '', validityMs: 0, validityType: 0, ttl: BigInt(Math.round(event.ttlMs)) * 1_000_000n, keyType: 'dnslink', hasPubKey: false, hasV1Signature: false },
        source: 'dns',
        stale: []
      }
      return { hop }
    }),
    failDnslink: assign(({ event }) => event.type === 'DNSLINK_FAILED' ? { failure: event.failure } : {}),
    // pure context updates
    addCandidate: assign(({ context, event }) => {
      if (event.type !== 'VALUE' && event.type !== 'ROUTER_VALUE' && event.type !== 'STORED') return {}
      const from = event.type === 'STORED' ? LOCAL_FROM : event.from
      const receivedAt = event.type === 'STORED' ? event.receivedAt : undefined
      const known = context.candidates.get(event.key)
      if (known !== undefined) {
        if (receivedAt !== undefined) known.receivedAt = Math.max(known.receivedAt ?? receivedAt, receivedAt)
        // a peer that repeats its answer is one answer, not two
        if (known.from.includes(from)) return {}
        if (known.from.length < 64) known.from.push(from)
        // the quorum counts peers' answers: the repo's copy is not one
        if (known.state === 'valid' && isPeer(from)) return { valid: context.valid + 1 }
        return {}
      }
      const c: Candidate = { record: event.value, from: [from], state: 'verifying' }
      if (receivedAt !== undefined) c.receivedAt = receivedAt
      context.candidates.set(event.key, c)
      return { verifying: context.verifying + 1 }
    }),
    onVerified: assign(({ context, event }) => {
      if (event.type !== 'VERIFIED' && event.type !== 'REJECTED') return {}
      const c = context.candidates.get(event.key)
      if (c === undefined || c.state !== 'verifying') return {}
      if (event.type === 'VERIFIED') {
        c.state = 'valid'
        c.fields = event.fields
        return { verifying: context.verifying - 1, valid: context.valid + c.from.filter(isPeer).length }
      }
      c.state = 'invalid'
      return { verifying: context.verifying - 1 }
    }),
    onRepoEnd: assign(({ event }) => event.type === 'REPO_END' ? { repoRead: true, readAt: event.wall } : {}),
    onQueryEnd: assign(({ event }) => event.type === 'QUERY_END' ? { queryEnded: true, queryFailure: event.failure } : {}),
    onRouterEnd: assign(() => ({ routerPending: false })),
    pickBest: assign(({ context }) => ({ hop: pick(context.name, context.candidates) })),
    recordSource: assign(({ context }) => ({ sources: context.hop === undefined ? context.sources : [...context.sources, context.hop.source] })),
    nextHop: assign(({ context }) => {
      const next = valueName(context.hop?.fields.value ?? '')
      if (next === undefined) return {}
      return {
        name: next.name,
        rest: next.rest + context.rest,
        hops: context.hops + 1,
        candidates: new Map(),
        verifying: 0,
        valid: 0,
        queryEnded: false,
        repoRead: false,
        readAt: 0,
        routerPending: context.routers,
        queryFailure: undefined,
        hop: undefined
      }
    }),
    finish: assign(({ context }) => {
      const hop = context.hop
      if (hop === undefined) return {}
      const source: ResolveSource = (['dht', 'router', 'dns', 'local'] as const).find(s => context.sources.includes(s)) ?? 'cache'
      const result: ResolveReply = {
        value: hop.fields.value + context.rest,
        sequence: hop.fields.sequence,
        validity: hop.fields.validity,
        ttl: hop.fields.ttl,
        source,
        hops: context.hops + 1
      }
      return { result }
    }),
    failNotFound: assign(({ context }) => ({
      failure: context.queryFailure?.kind === 'timeout' || context.queryFailure?.kind === 'aborted'
        ? context.queryFailure
        : { kind: 'not-found' as const, message: `no valid record found for /ipns/${context.name}${context.offline ? ' in the cache or the repo (offline)' : ''}${context.candidates.size > 0 ? ` (${context.candidates.size} invalid)` : ''}` }
    })),
    failTooManyHops: assign(({ context }) => ({
      failure: { kind: 'invalid-record' as const, code: 'too-many-hops', message: `resolving /ipns/${context.name} took more than ${MAX_HOPS} hops (a loop?)` }
    })),
    failNotName: assign(({ context }) => ({
      failure: { kind: 'invalid-record' as const, code: 'bad-value', message: `the record for /ipns/${context.name} points at something that is not a name` }
    }))
  },
  guards: {
    tooManyHops: ({ context }) => context.hops >= MAX_HOPS,
    isDomain: ({ context }) => isDomain(context.name),
    cached: () => false,
    // the repo has answered and every record of it has its verdict
    repoDone: ({ context }) => context.repoRead && context.verifying === 0,
    // offline, the cache and the repo are all there is
    repoOnly: ({ context }) => context.repoRead && context.verifying === 0 && context.offline,
    // the repo cannot answer alone (nocache, a stream's first hop): the network is asked at once, beside the repo read
    networkAnyway: ({ context }) => !context.offline && (context.nocache || (context.live && context.hops === 0)),
    // the repo's best record is within its TTL: the answer, without the network (not with nocache, nor a stream's first hop)
    repoFresh: ({ context }) => context.repoRead && context.verifying === 0 && !context.nocache && !(context.live && context.hops === 0) &&
      freshInRepo(context.candidates.values(), context.readAt),
    // the quorum ends a DHT query early, once the repo's records are in and judged (they compete: a query
    // started beside the repo read must not settle on the peers' older record before the repo's newer one)
    quorumReached: ({ context }) => context.valid >= context.quorum && context.repoRead &&
      ![...context.candidates.values()].some(c => c.state === 'verifying' && c.from.includes(LOCAL_FROM)),
    settled: ({ context }) => context.queryEnded && context.repoRead && context.verifying === 0 && !context.routerPending,
    hasBest: ({ context }) => context.hop !== undefined,
    isNewCandidate: ({ context, event }) => (event.type === 'VALUE' || event.type === 'ROUTER_VALUE' || event.type === 'STORED') && !context.candidates.has(event.key),
    pointsAtNonName: ({ context }) => {
      if (!context.recursive) return false
      const next = valueName(context.hop?.fields.value ?? '')
      return next !== undefined && !isName(next.name)
    },
    shouldRecurse: ({ context }) => context.recursive && valueName(context.hop?.fields.value ?? '') !== undefined
  }
}).createMachine({
  id: 'ipns-resolve',
  context: ({ input }) => ({
    id: input.id,
    name: input.name,
    hops: 0,
    rest: input.rest,
    quorum: input.quorum,
    nocache: input.nocache,
    offline: input.offline,
    recursive: input.recursive,
    candidates: new Map(),
    verifying: 0,
    valid: 0,
    queryEnded: false,
    repoRead: false,
    readAt: 0,
    live: input.live === true,
    routers: input.routers === true && !input.offline,
    routerPending: input.routers === true && !input.offline,
    queryFailure: undefined,
    hop: undefined,
    sources: [],
    result: undefined,
    failure: undefined
  }),
  initial: 'lookup',
  // the repo's records: read in `reading`, or in `querying` when the query started beside the repo read
  // (nocache, a stream's first hop); the actor sends them only while the hop they belong to is read
  on: {
    STORED: [
      { guard: 'isNewCandidate', actions: ['addCandidate', { type: 'requestVerify', params: ({ event }) => ({ key: event.key, record: event.value }) }] },
      { actions: 'addCandidate' }
    ],
    REPO_END: { actions: 'onRepoEnd' }
  },
  states: {
    lookup: {
      always: [
        { guard: 'tooManyHops', target: 'failed', actions: 'failTooManyHops' },
        { guard: 'isDomain', target: 'dnslink' },
        { guard: 'cached', target: 'hopResolved', actions: ['takeCached', 'recordSource'] },
        { target: 'reading' }
      ]
    },
    reading: {
      entry: 'readRepo',
      on: {
        VERIFIED: { actions: 'onVerified' },
        REJECTED: { actions: 'onVerified' },
        SOFT_DEADLINE: { target: 'selecting' }
      },
      always: [
        { guard: 'networkAnyway', target: 'querying' },
        { guard: 'repoOnly', target: 'selecting' },
        { guard: 'repoFresh', target: 'selecting' },
        { guard: 'repoDone', target: 'querying' }
      ]
    },
    querying: {
      entry: 'startQuery',
      on: {
        VALUE: [
          // each distinct record is verified once, however many peers send it
          { guard: 'isNewCandidate', actions: ['addCandidate', { type: 'requestVerify', params: ({ event }) => ({ key: event.key, record: event.value }) }] },
          { actions: 'addCandidate' }
        ],
        ROUTER_VALUE: [
          { guard: 'isNewCandidate', actions: ['onRouterEnd', 'addCandidate', { type: 'requestVerify', params: ({ event }) => ({ key: event.key, record: event.value }) }] },
          { actions: ['onRouterEnd', 'addCandidate'] }
        ],
        ROUTER_END: { actions: 'onRouterEnd' },
        VERIFIED: { actions: 'onVerified' },
        REJECTED: { actions: 'onVerified' },
        QUERY_END: { actions: 'onQueryEnd' },
        SOFT_DEADLINE: { target: 'selecting', actions: 'stopQuery' },
        SETTLE_TIME: { target: 'selecting', actions: 'stopQuery' }
      },
      always: [
        { guard: 'quorumReached', target: 'selecting', actions: 'stopQuery' },
        { guard: 'settled', target: 'selecting' }
      ]
    },
    dnslink: {
      entry: 'resolveDnslink',
      on: {
        DNSLINK: { target: 'hopResolved', actions: ['takeDnslink', 'recordSource'] },
        DNSLINK_FAILED: { target: 'failed', actions: 'failDnslink' },
        SOFT_DEADLINE: { target: 'failed', actions: 'failNotFound' }
      }
    },
    selecting: {
      entry: 'pickBest',
      always: [
        { guard: 'hasBest', target: 'hopResolved', actions: ['keep', 'recordSource'] },
        { target: 'failed', actions: 'failNotFound' }
      ]
    },
    hopResolved: {
      always: [
        // a valid record may hold any value: '/ipns/<garbage>' must end here, not become a query
        { guard: 'pointsAtNonName', target: 'failed', actions: 'failNotName' },
        { guard: 'shouldRecurse', target: 'lookup', actions: 'nextHop' },
        { target: 'done', actions: 'finish' }
      ]
    },
    done: { type: 'final' },
    failed: { type: 'final' }
  }
})

export type ResolveMachine = typeof resolveMachine

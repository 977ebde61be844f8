/**
 * The lifecycle of one IPNS resolve. The machine decides; the IPNS actor does.
 * Every effect (DHT query, verification, store, entry correction) is an
 * action the actor provides with machine.provide, and every result comes back
 * as an event, so the machine never awaits anything and a replay drives it
 * through exactly the same transitions.
 *
 *   lookup ──cached──────────────────────────────▶ hopResolved
 *     │ └─offline─▶ querying (stored records)          │
 *     └──────────▶ querying ──quorum / query end /     ├─/ipns/ value─▶ lookup (next hop)
 *                     │       soft deadline──▶ selecting ──valid──▶┤
 *                     │                           └─none─▶ failed  └─/ipns/<not a name>─▶ failed
 *                     └────────────────────────────────────────────▶ done
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
import type { Failure } from '../../messages/failure.js'
import type { ResolveReply, ResolveSource } from '../../messages/ipns.js'
import type { VerifiedRecord } from '../../messages/records.js'

/** kubo's limit on /ipns/ → /ipns/ chains */
export const MAX_HOPS = 32

export interface Candidate {
  record: Uint8Array
  /** peers that returned these exact bytes */
  from: string[]
  state: 'verifying' | 'valid' | 'invalid'
  fields?: VerifiedRecord
}

export interface HopResult {
  name: string
  record: Uint8Array
  fields: VerifiedRecord
  source: ResolveSource
  /** peers that answered with something worse than the best (entry correction) */
  stale: string[]
}

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
}

/** the `from` of a candidate an HTTP router gave */
export const ROUTER_FROM = 'router:'
const isRouter = (from: string): boolean => from.startsWith(ROUTER_FROM)

export type ResolveEvent =
  | { type: 'VALUE', key: string, value: Uint8Array, from: string }
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
  /** start streaming candidate records: from the DHT, or (offline) from the repo */
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

/** is `a` a better record for the same name than `b`? (higher sequence, then later EOL, then V2-only) */
export function better (a: VerifiedRecord, b: VerifiedRecord): boolean {
  if (a.sequence !== b.sequence) return a.sequence > b.sequence
  if (a.validityMs !== b.validityMs) return a.validityMs > b.validityMs
  return a.hasV1Signature === false && b.hasV1Signature // a V2-only record over one that also carries V1
}

function pick (ctx: ResolveContext): HopResult | undefined {
  let best: Candidate | undefined
  for (const c of ctx.candidates.values()) {
    if (c.state !== 'valid' || c.fields === undefined) continue
    if (best?.fields === undefined || better(c.fields, best.fields)) best = c
  }
  if (best?.fields === undefined) return undefined
  const stale: string[] = []
  for (const c of ctx.candidates.values()) {
    if (c === best) continue
    for (const p of c.from) if (p !== 'local' && !isRouter(p) && !stale.includes(p) && !best.from.includes(p)) stale.push(p)
  }
  return { name: ctx.name, record: best.record, fields: best.fields, source: sourceOf(best.from), stale }
}

/** where a candidate came from: only the repo, any DHT peer, else only HTTP routers */
export function sourceOf (from: string[]): ResolveSource {
  if (from.every(p => p === 'local')) return 'local'
  return from.some(p => p !== 'local' && !isRouter(p)) ? 'dht' : 'router'
}

export const resolveMachine = setup({
  types: {
    context: {} as ResolveContext,
    events: {} as ResolveEvent,
    input: {} as ResolveInput
  },
  actions: {
    // effects, provided per request by the IPNS actor
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
      if (event.type !== 'VALUE' && event.type !== 'ROUTER_VALUE') return {}
      const known = context.candidates.get(event.key)
      if (known !== undefined) {
        // a peer that repeats its answer is one answer, not two
        if (known.from.includes(event.from)) return {}
        if (known.from.length < 64) known.from.push(event.from)
        if (known.state === 'valid') return { valid: context.valid + 1 }
        return {}
      }
      context.candidates.set(event.key, { record: event.value, from: [event.from], state: 'verifying' })
      return { verifying: context.verifying + 1 }
    }),
    onVerified: assign(({ context, event }) => {
      if (event.type !== 'VERIFIED' && event.type !== 'REJECTED') return {}
      const c = context.candidates.get(event.key)
      if (c === undefined || c.state !== 'verifying') return {}
      if (event.type === 'VERIFIED') {
        c.state = 'valid'
        c.fields = event.fields
        return { verifying: context.verifying - 1, valid: context.valid + c.from.length }
      }
      c.state = 'invalid'
      return { verifying: context.verifying - 1 }
    }),
    onQueryEnd: assign(({ event }) => event.type === 'QUERY_END' ? { queryEnded: true, queryFailure: event.failure } : {}),
    onRouterEnd: assign(() => ({ routerPending: false })),
    pickBest: assign(({ context }) => ({ hop: pick(context) })),
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
        : { kind: 'not-found' as const, message: `no valid record found for /ipns/${context.name}${context.candidates.size > 0 ? ` (${context.candidates.size} invalid)` : ''}` }
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
    isOffline: ({ context }) => context.offline,
    // the quorum ends a DHT query early; offline, the two stored records are all there is, and the best of them is the answer
    quorumReached: ({ context }) => !context.offline && context.valid >= context.quorum,
    settled: ({ context }) => context.queryEnded && context.verifying === 0 && !context.routerPending,
    hasBest: ({ context }) => context.hop !== undefined,
    isNewCandidate: ({ context, event }) => (event.type === 'VALUE' || event.type === 'ROUTER_VALUE') && !context.candidates.has(event.key),
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
    routers: input.routers === true && !input.offline,
    routerPending: input.routers === true && !input.offline,
    queryFailure: undefined,
    hop: undefined,
    sources: [],
    result: undefined,
    failure: undefined
  }),
  initial: 'lookup',
  states: {
    lookup: {
      always: [
        { guard: 'tooManyHops', target: 'failed', actions: 'failTooManyHops' },
        { guard: 'isDomain', target: 'dnslink' },
        { guard: 'cached', target: 'hopResolved', actions: ['takeCached', 'recordSource'] },
        { target: 'querying' }
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

/**
 * The Kademlia walk behind our own lookups (value-lookup.ts: GET_VALUE;
 * closest-peers.ts: FIND_NODE): toward a target id, from the routing table's
 * closest peers, asking the closest candidate not asked yet while fewer than
 * `slots()` requests hold a slot, taking the peers each answer names as new
 * candidates, and ending once the k closest candidates it knows of that can
 * still answer have answered (or failed), after `maxQueries` requests, or when
 * the consumer stops iterating (every open request is aborted then).
 *
 * Routing around frozen peers (`routeAround`), without hurting slow links:
 * - a request has phases (kad-rpc.ts, RequestPhase). While it waits for
 *   the peer's slot or dials the peer it holds its slot for `openStallMs` —
 *   a fresh dial over a slow link takes several round trips, so this limit
 *   is long. A new stream on a connection already open ('negotiating') is
 *   one round trip, and a request *written on an open stream* ('sent') holds
 *   its slot until its peer has answered none of our requests for `stallMs`
 *   (from that phase's start at the earliest): a busy peer keeps answering
 *   something, a frozen one answers nothing. A request past its limit is
 *   *stalled*: it stops holding its slot and stops counting among the k
 *   closest, so the walk asks the next peer besides it. Its late answer still
 *   counts, and puts it back among them;
 * - a *suspect* (suspects.ts) is asked like any peer, but on the side: its
 *   request never holds a slot and is never waited for;
 * - the walk ends when it has nothing left to ask and every open request is
 *   stalled or to a suspect — once at least one peer has answered: a walk
 *   that has heard from no one waits (its caller's deadline ends it);
 * - a request that stalled after it was written and was still unanswered at
 *   the walk's end is reported (`unanswered`: a strike); a stall alone, a
 *   stall before the write, or a slow open, is not.
 *
 * Peers named in answers join the walk's own candidate list only (not the
 * routing table, not the peer store). Bounded: at most `maxQueries` requests
 * and `maxCandidates` candidates.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { Wakeup } from '../libp2p/wakeup.js'
import type { DhtProgress } from '../dht-port.js'
import type { RequestPhase } from './kad-rpc.js'
import type { Clock, TimerId } from '../../runtime/clock.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export const LOOKUP_K = 20
export const MAX_LOOKUP_QUERIES = 64
export const MAX_LOOKUP_CANDIDATES = 200

export interface WalkPeer { id: PeerId, kad: Uint8Array, addrs: Multiaddr[] }

/** what every answer carries: peers the answering peer knows closer to the target (raw id multihash and multiaddr bytes) */
export interface WalkAnswer { closer: Array<{ id: Uint8Array, multiaddrs: Uint8Array[] }> }

/** How a walk routes around stalled and suspect peers (see the file comment). */
export interface RouteAround {
  clock: Pick<Clock, 'now' | 'setTimer' | 'clearTimer'>
  /** a written (or negotiating) request whose peer has answered nothing for this long is stalled (read at every check: it may change while the walk runs) */
  readonly stallMs: number
  /** a request waiting for its peer's slot or dialling it is stalled after this long (read at every check) */
  readonly openStallMs: number
  /** when the peer last made progress while it has written requests open (peer-liveness.ts) */
  progressAt: (peer: PeerId) => number | undefined
  isSuspect: (peer: PeerId) => boolean
  /** a written or negotiating request stalled (counted once per request) */
  stalled?: (peer: PeerId) => void
  /** a stalled written request answered while the walk ran */
  lateAnswer?: (peer: PeerId) => void
  /** a written request that stalled was still unanswered at the walk's end */
  unanswered: (peer: PeerId) => void
}

/** Sends one request to a peer, telling `phase` where it stands. */
export type WalkRequest<A> = (peer: WalkPeer, signal: AbortSignal, phase: (p: RequestPhase) => void) => Promise<A>

export interface WalkInit<A extends WalkAnswer> {
  /** the kad id walked toward (sha256 of the key) */
  target: Uint8Array
  self: PeerId
  /** the routing table's closest peers to the target (any order) */
  start: PeerId[]
  request: WalkRequest<A>
  /** the request's name, in progress events */
  requestName: string
  /** addresses of a peer named in an answer that may be dialled (the node's peer-info policy) */
  dialable: (peer: PeerId, addrs: Multiaddr[]) => Multiaddr[]
  signal: AbortSignal
  /** how many requests may hold a slot now (read before each new request) */
  slots: () => number
  routeAround?: RouteAround
  maxQueries?: number
  maxCandidates?: number
  onProgress?: (event: DhtProgress) => void
}

interface Candidate extends WalkPeer {
  state: 'new' | 'asking' | 'answered' | 'failed'
  suspect: boolean
  askedAt?: number
  /** when its stream began negotiating on an open connection */
  negotiatingAt?: number
  sentAt?: number
  /** a written request that stalled */
  stalled?: boolean
}

type Outcome<A> = { peer: Candidate, answer: A } | { peer: Candidate, error: unknown }

export function kadId (bytes: Uint8Array): Uint8Array {
  return sha256(bytes)
}

/** negative when a is closer to target than b (XOR metric) */
export function compareDistance (target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = (a[i] ?? 0) ^ (target[i] ?? 0)
    const db = (b[i] ?? 0) ^ (target[i] ?? 0)
    if (da !== db) return da - db
  }
  return 0
}

/** Every answer, as it comes, with the peer that gave it. */
export async function * walk<A extends WalkAnswer> (init: WalkInit<A>): AsyncGenerator<{ peer: WalkPeer, answer: A }, void, undefined> {
  const { signal, onProgress, target, routeAround: ra } = init
  const maxQueries = init.maxQueries ?? MAX_LOOKUP_QUERIES
  const maxCandidates = init.maxCandidates ?? MAX_LOOKUP_CANDIDATES
  // candidates by their peer id's multihash bytes: the ≤ 20 peers of every
  // answer are mostly known already, and are recognised without decoding them
  const known = new Set<string>([bytesKey(init.self.toMultihash().bytes)])
  // kept sorted by distance to the target
  const candidates: Candidate[] = []
  const offer = (id: PeerId, addrs: Multiaddr[]): void => {
    const c: Candidate = { id, kad: kadId(id.toMultihash().bytes), addrs, state: 'new', suspect: ra?.isSuspect(id) ?? false }
    let i = candidates.length
    while (i > 0 && compareDistance(target, c.kad, (candidates[i - 1] as Candidate).kad) < 0) i--
    candidates.splice(i, 0, c)
  }
  for (const id of init.start) {
    const k = bytesKey(id.toMultihash().bytes)
    if (known.has(k) || known.size > maxCandidates) continue
    known.add(k)
    offer(id, [])
  }

  const outcomes: Array<Outcome<A>> = []
  const wake = new Wakeup()
  const onAbort = (): void => { wake.wake() }
  signal.addEventListener('abort', onAbort, { once: true })
  // requests still open when the walk ends are aborted with it
  const ended = new AbortController()
  const requestSignal = AbortSignal.any([signal, ended.signal])
  let queries = 0
  let answers = 0
  const asking = new Set<Candidate>()
  let timer: TimerId | undefined

  /** when an open request stalls */
  const dueAt = (c: Candidate, ra: RouteAround, now: number): number => {
    const since = c.sentAt ?? c.negotiatingAt
    if (since === undefined) return (c.askedAt ?? now) + ra.openStallMs
    return Math.max(since, ra.progressAt(c.id) ?? since) + ra.stallMs
  }
  /** is the walk still waiting on this open request (not stalled, not a suspect's)? */
  const waitedOn = (c: Candidate, now: number): boolean => {
    if (ra === undefined) return true
    if (c.suspect) return false
    if (dueAt(c, ra, now) > now) return true
    if (c.stalled !== true && (c.sentAt ?? c.negotiatingAt) !== undefined) { c.stalled = true; ra.stalled?.(c.id) }
    return false
  }
  /** requests holding a slot (arming a wake-up for when the next may stall), and answers not yet looked at */
  const holding = (): number => {
    if (ra === undefined) return asking.size + outcomes.length
    const now = ra.clock.now()
    let held = 0
    let nextDue = Infinity
    for (const c of asking) {
      if (!waitedOn(c, now)) continue
      held++
      nextDue = Math.min(nextDue, dueAt(c, ra, now))
    }
    if (timer !== undefined) ra.clock.clearTimer(timer)
    // the verdict waits one more turn of the event loop: when this process ran
    // late (a busy machine), its due timers fire before the answers that came
    // meanwhile are read, and those must not count as stalled
    timer = nextDue === Infinity
      ? undefined
      : ra.clock.setTimer(nextDue, () => { timer = ra.clock.setTimer(ra.clock.now(), () => { timer = undefined; wake.wake() }) })
    return held + outcomes.length
  }
  /** the closest candidate not asked yet among the k closest that may still answer */
  const next = (): Candidate | undefined => {
    const now = ra?.clock.now() ?? 0
    let seen = 0
    for (const c of candidates) {
      if (c.state === 'failed') continue
      if (c.state === 'asking' && !waitedOn(c, now)) continue
      if (seen++ >= LOOKUP_K) return undefined
      if (c.state === 'new') return c
    }
    return undefined
  }
  const ask = (c: Candidate): void => {
    c.state = 'asking'
    if (ra !== undefined) c.askedAt = ra.clock.now()
    asking.add(c)
    queries++
    onProgress?.({ type: 'kad-dht:query:send-query', peer: c.id.toString(), detail: init.requestName })
    const phase = (p: RequestPhase): void => {
      if (ra === undefined) return
      if (p === 'negotiating' && c.negotiatingAt === undefined) c.negotiatingAt = ra.clock.now()
      else if (p === 'sent' && c.sentAt === undefined) {
        c.sentAt = ra.clock.now()
        // a stall while negotiating is not one of the written request's
        c.stalled = undefined
      }
      else return
      wake.wake()
    }
    init.request(c, requestSignal, phase).then(
      answer => { outcomes.push({ peer: c, answer }) },
      (error: unknown) => { outcomes.push({ peer: c, error }) }
    ).finally(() => { asking.delete(c); wake.wake() })
  }

  try {
    while (true) {
      signal.throwIfAborted()
      let more = true
      while (queries < maxQueries && holding() < init.slots()) {
        const c = next()
        if (c === undefined) { more = false; break }
        ask(c)
      }
      if (outcomes.length === 0) {
        if (asking.size === 0) return
        // nothing left to ask, only stalled or suspects' requests open, and some peer answered: done
        if (ra !== undefined && answers > 0 && holding() === 0 && (!more || queries >= maxQueries || next() === undefined)) return
        // an answer, a failure, a request written, or one turning stalled
        await wake.wait()
        continue
      }
      for (const outcome of outcomes.splice(0)) {
        const { peer } = outcome
        if ('error' in outcome) {
          peer.state = 'failed'
          const e = outcome.error
          onProgress?.({ type: 'kad-dht:query:query-error', peer: peer.id.toString(), detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
          continue
        }
        peer.state = 'answered'
        answers++
        if (peer.stalled === true) ra?.lateAnswer?.(peer.id)
        const { answer } = outcome
        for (const info of answer.closer.slice(0, LOOKUP_K)) {
          const k = bytesKey(info.id)
          if (known.has(k) || known.size > maxCandidates) continue
          known.add(k)
          const id = peerFrom(info.id)
          if (id !== undefined) offer(id, init.dialable(id, addrsFrom(info.multiaddrs)))
        }
        yield { peer: { id: peer.id, kad: peer.kad, addrs: peer.addrs }, answer }
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    if (ra !== undefined) {
      if (timer !== undefined) ra.clock.clearTimer(timer)
      for (const c of asking) if (c.stalled === true && c.sentAt !== undefined) ra.unanswered(c.id)
    }
    ended.abort()
  }
}

/** a map key for raw bytes (native, no base encoding) */
function bytesKey (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

function peerFrom (bytes: Uint8Array): PeerId | undefined {
  try {
    return peerIdFromMultihash(Digest.decode(bytes))
  } catch {
    // a peer id we cannot decode names no one we could ask: the answer's other peers still count
    return undefined
  }
}

function addrsFrom (list: Uint8Array[]): Multiaddr[] {
  const out: Multiaddr[] = []
  for (const bytes of list.slice(0, 16)) {
    try {
      out.push(multiaddr(bytes))
    } catch {
      // an address we cannot parse is one we cannot dial
    }
  }
  return out
}

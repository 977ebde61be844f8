/**
 * The direct value lookup behind DhtPort.get: a Kademlia walk toward the key
 * that asks peers for their record (GET_VALUE) and streams every valid value
 * the moment it arrives.
 *
 * It starts from the closest peers of this node's routing table, keeps
 * `width` requests in flight (the asker says how many values it wants: the
 * IPNS quorum), replaces each request that ends without a value with the
 * next-closest peer not yet asked — peers named in answers included, so in a
 * network larger than the routing table the walk still converges on the k
 * closest peers — and ends when the k closest peers it knows of have all
 * answered or failed. The caller stops it earlier by leaving the stream
 * (its signal aborts every open request).
 *
 * With `values` (how many values the asker needs from peers) it never asks
 * more peers than could still be needed: requests in flight stay within
 * values still missing, so when every peer holds the record exactly `values`
 * requests are sent. With `hedge`, a request to a peer that has answered
 * none of our requests for hedge.stallMs stops holding its slot: the next
 * peer is asked too (a frozen or badly slowed peer does not hold the lookup
 * up; its late answer still counts).
 *
 * What it does not do, on purpose: peers named in answers are kept in the
 * lookup's own candidate list only, not pushed into kad-dht's routing table
 * and libp2p's peer store (kad-dht does that for each of the ≤ 20 peers of
 * every answer; it was most of the CPU a resolve cost this node).
 *
 * Bounded: at most `maxQueries` requests and `maxCandidates` candidates.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { MAX_GET_VALUES_WANT } from '../../../messages/swarm.js'
import { Wakeup } from '../libp2p/wakeup.js'
import type { DhtGetValue, DhtProgress } from '../dht-port.js'
import type { GetValueAnswer, GetValueRpc } from './kad-rpc.js'
import type { Clock, TimerId } from '../../runtime/clock.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export const LOOKUP_K = 20
export const DEFAULT_LOOKUP_WIDTH = 10
export const MAX_LOOKUP_WIDTH = MAX_GET_VALUES_WANT
export const MAX_LOOKUP_QUERIES = 64
export const MAX_LOOKUP_CANDIDATES = 200

export interface ValueLookupInit {
  key: Uint8Array
  self: PeerId
  /** the routing table's closest peers to the key (any order) */
  start: PeerId[]
  rpc: GetValueRpc
  /** checks a peer's serialized record for this key; resolves with its value, rejects when invalid */
  validate: (record: Uint8Array) => Promise<Uint8Array>
  /** addresses of a peer named in an answer that may be dialled (the node's peer-info policy) */
  dialable: (peer: PeerId, addrs: Multiaddr[]) => Multiaddr[]
  signal: AbortSignal
  /** requests in flight at once (default 10, at most 32) */
  width?: number
  /** values wanted from peers: once that many arrived no more peers are asked (default: no limit) */
  values?: number
  /**
   * Stop waiting on a request, and ask the next peer besides, once its peer
   * has made no progress (peer-liveness.ts: answered none of our requests)
   * for `stallMs`, counted from the request's start at the earliest.
   */
  hedge?: { stallMs: number, progressAt: (peer: PeerId) => number | undefined, clock: Pick<Clock, 'now' | 'setTimer' | 'clearTimer'> }
  maxQueries?: number
  maxCandidates?: number
  onProgress?: (event: DhtProgress) => void
}

interface Candidate {
  id: PeerId
  kad: Uint8Array
  addrs: Multiaddr[]
  state: 'new' | 'asking' | 'answered' | 'failed'
  /** when it was asked (hedge clock), while asking */
  askedAt?: number
}

/** a request's end: its answer and, when it carried a record, the record's value or why it is invalid */
type Outcome =
  | { peer: Candidate, answer: GetValueAnswer, value?: Uint8Array, invalid?: unknown }
  | { peer: Candidate, error: unknown }

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

export async function * lookupValues (init: ValueLookupInit): AsyncGenerator<DhtGetValue, void, undefined> {
  const { signal, onProgress } = init
  const width = Math.max(1, Math.min(MAX_LOOKUP_WIDTH, init.width ?? DEFAULT_LOOKUP_WIDTH))
  const maxQueries = init.maxQueries ?? MAX_LOOKUP_QUERIES
  const maxCandidates = init.maxCandidates ?? MAX_LOOKUP_CANDIDATES
  const target = kadId(init.key)
  // candidates by their peer id's multihash bytes: the ≤ 20 peers of every
  // answer are mostly known already, and are recognised without decoding them
  const known = new Set<string>([bytesKey(init.self.toMultihash().bytes)])
  // kept sorted by distance to the key
  const candidates: Candidate[] = []
  const offer = (id: PeerId, addrs: Multiaddr[]): void => {
    const c: Candidate = { id, kad: kadId(id.toMultihash().bytes), addrs, state: 'new' }
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

  const outcomes: Outcome[] = []
  const wake = new Wakeup()
  const onAbort = (): void => { wake.wake() }
  signal.addEventListener('abort', onAbort, { once: true })
  // requests still open when the lookup ends (enough values, or the caller
  // left) are aborted with it
  const ended = new AbortController()
  const requestSignal = AbortSignal.any([signal, ended.signal])
  let queries = 0
  let found = 0
  const wanted = init.values ?? Infinity
  const hedge = init.hedge
  /** the requests in flight */
  const asking = new Set<Candidate>()
  let hedgeTimer: TimerId | undefined
  /**
   * requests that hold a slot: those in flight, less those to a stalled peer
   * (arming a wake-up for when the next one may be), and answers not yet
   * looked at (one may be a value)
   */
  const holding = (): number => {
    if (hedge === undefined) return asking.size + outcomes.length
    const now = hedge.clock.now()
    let overdue = 0
    let nextDue = Infinity
    for (const c of asking) {
      const asked = c.askedAt ?? now
      const due = Math.max(asked, hedge.progressAt(c.id) ?? asked) + hedge.stallMs
      if (due <= now) overdue++
      else nextDue = Math.min(nextDue, due)
    }
    if (hedgeTimer !== undefined) hedge.clock.clearTimer(hedgeTimer)
    hedgeTimer = nextDue === Infinity ? undefined : hedge.clock.setTimer(nextDue, () => { hedgeTimer = undefined; wake.wake() })
    return asking.size - overdue + outcomes.length
  }

  /** the closest candidate not asked yet among the k closest that have not failed */
  const next = (): Candidate | undefined => {
    let seen = 0
    for (const c of candidates) {
      if (c.state === 'failed') continue
      if (seen++ >= LOOKUP_K) return undefined
      if (c.state === 'new') return c
    }
    return undefined
  }
  const ask = (c: Candidate): void => {
    c.state = 'asking'
    if (hedge !== undefined) c.askedAt = hedge.clock.now()
    asking.add(c)
    queries++
    onProgress?.({ type: 'kad-dht:query:send-query', peer: c.id.toString(), detail: 'GET_VALUE' })
    // answers are checked as they come, side by side (the checks of an IPNS
    // record run in the verifier pool)
    init.rpc(c.id, c.addrs, init.key, requestSignal).then(async answer => {
      if (answer.record === undefined) {
        outcomes.push({ peer: c, answer })
        return
      }
      try {
        outcomes.push({ peer: c, answer, value: await init.validate(answer.record) })
      } catch (invalid) {
        outcomes.push({ peer: c, answer, invalid })
      }
    }, (error: unknown) => { outcomes.push({ peer: c, error }) }
    ).finally(() => { asking.delete(c); wake.wake() })
  }

  try {
    while (true) {
      signal.throwIfAborted()
      while (queries < maxQueries && holding() < Math.min(width, wanted - found)) {
        const c = next()
        if (c === undefined) break
        ask(c)
      }
      if (asking.size === 0 && outcomes.length === 0) return
      if (outcomes.length === 0) {
        // an answer, a failure, or a request turning overdue (hedge)
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
        const { answer } = outcome
        onProgress?.({
          type: 'kad-dht:query:peer-response',
          peer: peer.id.toString(),
          detail: `GET_VALUE closer=${answer.closer.length} providers=0${answer.record !== undefined ? ' record' : ''}`
        })
        for (const info of answer.closer.slice(0, LOOKUP_K)) {
          const k = bytesKey(info.id)
          if (known.has(k) || known.size > maxCandidates) continue
          known.add(k)
          const id = peerFrom(info.id)
          if (id !== undefined) offer(id, init.dialable(id, addrsFrom(info.multiaddrs)))
        }
        if ('invalid' in outcome) {
          const e = outcome.invalid
          onProgress?.({ type: 'kad-dht:query:query-error', peer: peer.id.toString(), detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
          continue
        }
        const value = outcome.value
        if (value === undefined) continue
        found++
        onProgress?.({ type: 'kad-dht:query:value', peer: peer.id.toString(), detail: `bytes=${value.byteLength}` })
        yield { value, from: peer.id.toString() }
      }
      if (found >= wanted) return
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    ended.abort()
    if (hedgeTimer !== undefined) hedge?.clock.clearTimer(hedgeTimer)
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

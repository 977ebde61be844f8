/**
 * How a resolve chooses among its candidates (pure; the resolve machine,
 * the stream and the improver use it):
 *
 * - the better record wins: higher sequence, then later EOL, then a V2-only
 *   record over one that also carries a V1 signature;
 * - among equal records the reported source is the strongest one that gave
 *   it: a DHT peer, else an HTTP router, else this node's repo;
 * - the repo's best record answers without the network when it is within
 *   its TTL (received + TTL, on the wall clock, when the repo was read).
 */
import type { ResolveSource } from '../../messages/ipns.js'
import type { VerifiedRecord } from '../../messages/records.js'

/** the `from` of a candidate an HTTP router gave */
export const ROUTER_FROM = 'router:'
/** the `from` of a candidate read from this node's repo */
export const LOCAL_FROM = 'local'

export const isRouter = (from: string): boolean => from.startsWith(ROUTER_FROM)
/** a DHT peer's answer (not the repo's record, not a router's) */
export const isPeer = (from: string): boolean => from !== LOCAL_FROM && !isRouter(from)

export interface Candidate {
  record: Uint8Array
  /** peers (and 'local', 'router:<url>') that returned these exact bytes */
  from: string[]
  state: 'verifying' | 'valid' | 'invalid'
  fields?: VerifiedRecord
  /** when the repo holds these bytes: the latest date (wall ms) they were stored */
  receivedAt?: number
}

export interface HopResult {
  name: string
  record: Uint8Array
  fields: VerifiedRecord
  source: ResolveSource
  /** peers that answered with something worse than the best (entry correction) */
  stale: string[]
  /** a record answered from the repo: when it was stored (its TTL runs from then) */
  receivedAt?: number
}

/** is `a` a better record for the same name than `b`? (higher sequence, then later EOL, then V2-only) */
export function better (a: VerifiedRecord, b: VerifiedRecord): boolean {
  if (a.sequence !== b.sequence) return a.sequence > b.sequence
  if (a.validityMs !== b.validityMs) return a.validityMs > b.validityMs
  return a.hasV1Signature === false && b.hasV1Signature // a V2-only record over one that also carries V1
}

/** where a candidate came from: any DHT peer, else any HTTP router, else only the repo */
export function sourceOf (from: string[]): ResolveSource {
  if (from.some(isPeer)) return 'dht'
  return from.some(isRouter) ? 'router' : 'local'
}

const RANK: Partial<Record<ResolveSource, number>> = { dht: 3, router: 2, local: 1 }

/** the best valid candidate; of equal records, the one with the strongest source */
export function bestCandidate (candidates: Iterable<Candidate>): (Candidate & { fields: VerifiedRecord }) | undefined {
  let best: (Candidate & { fields: VerifiedRecord }) | undefined
  for (const c of candidates) {
    if (c.state !== 'valid' || c.fields === undefined) continue
    const cand = c as Candidate & { fields: VerifiedRecord }
    if (best === undefined || better(cand.fields, best.fields)) best = cand
    else if (!better(best.fields, cand.fields) && (RANK[sourceOf(cand.from)] ?? 0) > (RANK[sourceOf(best.from)] ?? 0)) best = cand
  }
  return best
}

/** the hop a resolve settles on, with the peers to correct (every DHT peer that answered something else) */
export function pick (name: string, candidates: Map<string, Candidate>): HopResult | undefined {
  const best = bestCandidate(candidates.values())
  if (best === undefined) return undefined
  const stale: string[] = []
  for (const c of candidates.values()) {
    if (c === best) continue
    for (const p of c.from) if (isPeer(p) && !stale.includes(p) && !best.from.includes(p)) stale.push(p)
  }
  const source = sourceOf(best.from)
  const hop: HopResult = { name, record: best.record, fields: best.fields, source, stale }
  return source === 'local' && best.receivedAt !== undefined ? { ...hop, receivedAt: best.receivedAt } : hop
}

/**
 * Does the repo answer at once? Its best valid record, stored at
 * `receivedAt`, is still within its TTL at `now` (wall ms) and not past its
 * EOL. A TTL of 0 never answers from the repo, nor does a record stored
 * "after" now: the wall clock went back, and its TTL cannot be trusted (the
 * repo keeps only wall dates; the hop cache, in memory, has both clocks).
 */
export function freshInRepo (candidates: Iterable<Candidate>, now: number): boolean {
  const best = bestCandidate(candidates)
  if (best?.receivedAt === undefined) return false
  const ttlMs = Number(best.fields.ttl / 1_000_000n)
  return now >= best.receivedAt && now < best.receivedAt + ttlMs && now < best.fields.validityMs
}

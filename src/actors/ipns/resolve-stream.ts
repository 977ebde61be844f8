/**
 * Stream resolves (ipns.resolveStream, kubo's `name resolve --stream`): the
 * same resolve machine as an ask, run by its own flight (no joiners, no
 * settle time, so no background improvement), whose port yields each answer
 * strictly better than the last one:
 *
 * - first the cached answer, if fresh (the hop cache for a record whose
 *   value is final, else the whole-answer cache), then the repo's records
 *   (fed to the machine as candidates from 'local', verified like a peer's);
 * - while a hop queries, each valid candidate (a DHT peer's, a router's,
 *   the repo's) better than the last one yielded for that hop, as soon as it
 *   proved valid, unless it points at another name (recursive): that one is
 *   followed once its hop has settled, and the next hop's records are the
 *   items then. So every item is the final value of the whole chain (the
 *   earlier hops' chosen records, this hop's candidate, the paths joined),
 *   never an /ipns/ value;
 * - when the machine ends (quorum, the DHT and routers ended, the soft
 *   deadline), its answer if it is better than the last item of its last
 *   hop (or differs from the last item); then the stream ends. A failure
 *   ends the stream with it only when nothing was yielded.
 */
import { expired } from '../runtime/expiry.js'
import { better, sourceOf, valueName } from './resolve-machine.js'
import type { Failure } from '../../messages/failure.js'
import type { ResolveReply } from '../../messages/ipns.js'
import type { VerifiedRecord } from '../../messages/records.js'
import type { IpnsState, ResolveFlight } from './ipns-state.js'
import type { HopResult } from './resolve-machine.js'

/** false when the consumer went away or fell too far behind (the flight must end) */
function yieldItem (f: ResolveFlight, item: ResolveReply, fields: VerifiedRecord | undefined): boolean {
  const port = f.streamPort
  if (port === undefined) return false
  f.lastItem = item
  if (fields !== undefined) {
    f.streamed = fields
    f.streamedHop = item.hops - 1
  }
  return port.next(item)
}

const SOURCE_ORDER = ['dht', 'router', 'dns', 'local'] as const

function itemOf (hop: HopResult, rest: string, withRecord: boolean, source: ResolveReply['source'], hops = 1): ResolveReply {
  const item: ResolveReply = { value: hop.fields.value + rest, sequence: hop.fields.sequence, validity: hop.fields.validity, ttl: hop.fields.ttl, source, hops }
  return withRecord && hop.record.byteLength > 0 ? { ...item, record: hop.record } : item
}

/** what a stream yields before it asks anyone: the fresh cached answer. false: the consumer is gone */
export function streamOpening (s: IpnsState, f: ResolveFlight, name: string, rest: string, recursive: boolean): boolean {
  const hop = s.fresh(name)
  if (hop !== undefined && !(recursive && valueName(hop.fields.value) !== undefined)) {
    return yieldItem(f, itemOf(hop, rest, f.withRecord, 'cache'), hop.fields)
  }
  const answer = f.answerKey === undefined ? undefined : s.answers.get(f.answerKey)
  if (answer !== undefined && !expired(s.ctx.clock, answer.expiresAt)) return yieldItem(f, answer.reply, undefined)
  return true
}

/** after each machine event of a stream flight: yield the current hop's best candidate if it is better. false: the consumer is gone */
export function streamStep (f: ResolveFlight): boolean {
  const snap = f.machine.getSnapshot()
  if (f.streamPort === undefined || snap.status !== 'active' || (snap.value !== 'querying' && snap.value !== 'reading')) return true
  const c = snap.context
  // a record better than the last item's only counts against the same hop's
  const against = f.streamedHop === c.hops ? f.streamed : undefined
  let best: { record: Uint8Array, from: string[], fields: VerifiedRecord } | undefined
  for (const cand of c.candidates.values()) {
    if (cand.state !== 'valid' || cand.fields === undefined) continue
    if (best === undefined || better(cand.fields, best.fields)) best = { record: cand.record, from: cand.from, fields: cand.fields }
  }
  if (best === undefined || (against !== undefined && !better(best.fields, against))) return true
  // a record that points at another name is an answer only once followed
  if (c.recursive && valueName(best.fields.value) !== undefined) return true
  const hop: HopResult = { name: c.name, record: best.record, fields: best.fields, source: sourceOf(best.from), stale: [] }
  const sources = [...c.sources, hop.source]
  const source = SOURCE_ORDER.find(x => sources.includes(x)) ?? 'cache'
  const item = itemOf(hop, c.rest, f.withRecord, source, c.hops + 1)
  // the same answer as the last item (a later hop's first record can be what a cached answer said)
  const prev = f.lastItem
  if (prev !== undefined && against === undefined && prev.value === item.value && prev.sequence === item.sequence && prev.validity === item.validity) return true
  return yieldItem(f, item, best.fields)
}

/** the machine ended: its answer if it improves on what was yielded, then the end (or the failure, if nothing was yielded) */
export function streamSettle (f: ResolveFlight, reply: ResolveReply | undefined, last: HopResult | undefined, fail: Failure | undefined): void {
  const port = f.streamPort
  if (port === undefined) return
  if (reply === undefined) {
    if (f.lastItem === undefined) port.fail(fail ?? { kind: 'failed', message: 'the resolve ended without a result' })
    else port.end()
    return
  }
  const prev = f.lastItem
  const improves = f.streamedHop === reply.hops - 1 && f.streamed !== undefined && last !== undefined
    ? better(last.fields, f.streamed)
    : prev === undefined || prev.value !== reply.value || prev.sequence !== reply.sequence || prev.validity !== reply.validity
  if (improves && !yieldItem(f, reply, last?.fields)) return
  port.end()
}

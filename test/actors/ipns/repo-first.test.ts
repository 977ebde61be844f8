/**
 * The repo before the network (the resolve machine's `reading` state,
 * through the IPNS actor among the fakes of fakes.ts): a record this node
 * published or resolved that is still within its TTL answers at once with
 * source 'local', without a DHT query; one past its TTL competes with the
 * network's; `nocache` asks the network anyway; `offline` answers from the
 * caches and the repo and never asks the DHT or DNS.
 */
import { describe, expect, it } from 'vitest'
import { errorOf } from '../../helpers/sim.js'
import { answer, record, rigPerTest, runFor } from './fakes.js'
import { fields, testName } from './machine-helpers.js'
import type { IpnsRig } from './fakes.js'
import type { Tracked } from '../../helpers/sim.js'
import type { ResolveReply } from '../../../src/messages/ipns.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const A = testName(81)
const B = testName(82)
const CID = 'bafkqaddwgevxmmraojswg33smq'
const MIN = 60_000

const start = rigPerTest()

const resolveCmd = (name: string, extra: Record<string, unknown> = {}): BaseCommand => ({ type: 'ipns.resolve', name, ...extra }) as BaseCommand

function resolved (t: Tracked): ResolveReply & { at: number } {
  const o = t.outcome
  if (o?.ok !== true) throw new Error(`the resolve failed: ${o === undefined ? 'not settled' : `${o.error.name}: ${o.error.message}`}`)
  return { ...(o.value as ResolveReply), at: o.at }
}

/** a resolved record of A in the repo, stored `agoMs` before now, TTL 5 min */
function storeA (r: IpnsRig, label: string, sequence: number, agoMs: number, kind: 'resolved' | 'published' = 'resolved'): void {
  const bytes = record(r.world, label, fields(`/ipfs/${CID}/${label}`, sequence))
  r.world.store.set(`${kind}|${A}`, { kind, name: A, record: bytes, receivedAt: r.h.clock.wall() - agoMs, sequence: BigInt(sequence) })
}

describe('IPNS actor: the repo before the network', () => {
  it('a record within its TTL answers at once, source local, with no DHT query, and is cached only for what is left of its TTL', async () => {
    const r = start()
    answer(r.world, A, [[record(r.world, 'net', fields(`/ipfs/${CID}/net`, 9)), 'p1', 10]])
    storeA(r, 'mine', 4, 2 * MIN)
    const t0 = r.h.clock.now()
    const t = r.h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(r.h, 100)
    const reply = resolved(t)
    expect(reply).toMatchObject({ value: `/ipfs/${CID}/mine`, sequence: 4n, source: 'local', hops: 1 })
    // the store (1 ms) and the verifier (1 ms): no network round
    expect(reply.at - t0).toBe(2)
    expect(r.world.log.getValues).toHaveLength(0)
    // a repo answer is not stored again
    expect(r.world.log.storePuts).toHaveLength(0)
    const again = r.h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(r.h, 10)
    expect(resolved(again).source).toBe('cache')
    // 3 min were left of its TTL when it was read: after them, neither the cache nor the repo answers
    await runFor(r.h, 3 * MIN)
    const later = r.h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(r.h, 100)
    expect(resolved(later)).toMatchObject({ sequence: 9n, source: 'dht' })
    expect(r.world.log.getValues).toHaveLength(1)
  })

  it('a published record answers the same way (this node\'s own name right after a publish)', async () => {
    const r = start()
    answer(r.world, A, [], 'hang')
    storeA(r, 'pub', 2, 1_000, 'published')
    const t = r.h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(r.h, 10)
    expect(resolved(t)).toMatchObject({ sequence: 2n, source: 'local' })
    expect(r.world.log.getValues).toHaveLength(0)
  })

  it('a record past its TTL is a candidate: a better one from the DHT wins; it wins over an older one', async () => {
    const r = start()
    answer(r.world, A, [[record(r.world, 'net', fields(`/ipfs/${CID}/net`, 9)), 'p1', 10]])
    storeA(r, 'old', 4, 6 * MIN)
    const t = r.h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(r.h, 100)
    expect(resolved(t)).toMatchObject({ sequence: 9n, source: 'dht' })
    expect(r.world.log.getValues).toHaveLength(1)

    const q = start()
    answer(q.world, A, [[record(q.world, 'net', fields(`/ipfs/${CID}/net`, 1)), 'p1', 10]])
    storeA(q, 'mine', 4, 6 * MIN)
    const u = q.h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(q.h, 100)
    expect(resolved(u)).toMatchObject({ sequence: 4n, source: 'local' })
  })

  it('nocache skips the cache and the within-TTL answer: the DHT is asked, and the repo still competes', async () => {
    const r = start()
    answer(r.world, A, [[record(r.world, 'net', fields(`/ipfs/${CID}/net`, 1)), 'p1', 10]])
    storeA(r, 'mine', 4, MIN)
    const t = r.h.ask(resolveCmd(A, { nocache: true }), { timeoutMs: 5_000 })
    await runFor(r.h, 100)
    expect(resolved(t)).toMatchObject({ sequence: 4n, source: 'local' })
    expect(r.world.log.getValues).toHaveLength(1)
  })

  it('offline: the cache first, then the repo whatever the TTL; never the DHT', async () => {
    const r = start()
    answer(r.world, A, [[record(r.world, 'net', fields(`/ipfs/${CID}/net`, 9)), 'p1', 10]])
    const online = r.h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(r.h, 100)
    expect(resolved(online).sequence).toBe(9n)
    const gets = r.world.log.storeGets.length
    const cached = r.h.ask(resolveCmd(A, { offline: true }), { timeoutMs: 5_000 })
    await runFor(r.h, 10)
    expect(resolved(cached)).toMatchObject({ sequence: 9n, source: 'cache' })
    expect(r.world.log.storeGets).toHaveLength(gets)

    const q = start()
    answer(q.world, A, [[record(q.world, 'net', fields(`/ipfs/${CID}/net`, 9)), 'p1', 10]])
    storeA(q, 'old', 4, 60 * MIN)
    const t = q.h.ask(resolveCmd(A, { offline: true }), { timeoutMs: 5_000 })
    await runFor(q.h, 100)
    expect(resolved(t)).toMatchObject({ sequence: 4n, source: 'local' })
    const missing = q.h.ask(resolveCmd(B, { offline: true }), { timeoutMs: 5_000 })
    await runFor(q.h, 100)
    expect(errorOf(missing.outcome).name).toBe('NotFoundError')
    expect(q.world.log.getValues).toHaveLength(0)
  })

  it('an offline answer from the repo is not cached for online resolves (its TTL may have run out)', async () => {
    const r = start()
    answer(r.world, A, [[record(r.world, 'net', fields(`/ipfs/${CID}/net`, 9)), 'p1', 10]])
    storeA(r, 'old', 4, 60 * MIN)
    const off = r.h.ask(resolveCmd(A, { offline: true }), { timeoutMs: 5_000 })
    await runFor(r.h, 100)
    expect(resolved(off).source).toBe('local')
    const on = r.h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(r.h, 100)
    expect(resolved(on)).toMatchObject({ sequence: 9n, source: 'dht' })
  })
})

/**
 * The IPNS actor on a SimulatedClock, between fake swarm / verifier / store /
 * keys actors (./fakes.ts): single flight, cancellation, the cache and its
 * expiry, the soft deadline, counters, transitions and progress, recursion,
 * publish through the bus.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_HOPS } from '../../../src/actors/ipns/resolve-machine.js'
import { errorOf } from '../../helpers/sim.js'
import { answer, keyInfo, record, rig, runFor } from './fakes.js'
import { fields, testName } from './machine-helpers.js'
import type { IpnsRig } from './fakes.js'
import type { ProgressEvent } from '../../../src/actors/runtime/actor.js'
import type { Outcome, Tracked } from '../../helpers/sim.js'
import type { IpnsPublish, ResolveReply, PublishReply } from '../../../src/messages/ipns.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { TraceOutput } from '../../../src/actors/runtime/trace-events.js'

const A = testName(11)
const B = testName(12)
const SELF = testName(13)
const CID = 'bafkqaddwgevxmmraojswg33smq'

let live: IpnsRig | undefined
afterEach(async () => {
  await live?.system.stop()
  live = undefined
})

function start (...args: Parameters<typeof rig>): IpnsRig {
  live = rig(...args)
  return live
}

function resolved (t: Tracked): ResolveReply & { at: number } {
  const o = t.outcome
  if (o === undefined) throw new Error('the resolve has not settled')
  if (!o.ok) throw new Error(`the resolve failed: ${o.error.name}: ${o.error.message}`)
  return { ...(o.value as ResolveReply), at: o.at }
}

const resolveCmd = (name: string, extra: Record<string, unknown> = {}): BaseCommand => ({ type: 'ipns.resolve', name, ...extra }) as BaseCommand
const publishCmd = (c: Omit<IpnsPublish, 'type'>): BaseCommand => ({ type: 'ipns.publish', ...c }) as BaseCommand

describe('IPNS actor: resolve', () => {
  it('an uncached name: one DHT query, each distinct record verified once, the best returned, stored and corrected', async () => {
    const r = start()
    const { world, h } = r
    const best = record(world, 'best', fields(`/ipfs/${CID}`, 3))
    const older = record(world, 'older', fields('/ipfs/older', 2))
    answer(world, A, [[best, 'p1'], [older, 'p2'], [best, 'p3'], [older, 'p4']])
    const t = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await runFor(h, 1_000)
    expect(resolved(t)).toMatchObject({ value: `/ipfs/${CID}`, sequence: 3n, source: 'dht', hops: 1 })
    expect(world.log.getValues).toHaveLength(1)
    expect(world.log.verifies).toHaveLength(2)
    // kept in the repo as a resolved record
    expect(world.store.get(`resolved|${A}`)).toMatchObject({ kind: 'resolved', name: A, sequence: 3n, record: best })
    // entry correction: the best record goes to the peers that answered with the older one, and only to them
    expect(world.log.puts).toHaveLength(1)
    expect(world.log.puts[0]?.value).toEqual(best)
    expect(world.log.puts[0]?.peers).toEqual(['p2', 'p4'])
    const s = r.ipnsStatus()
    expect(s).toMatchObject({ resolves: 1, shared: 0, dhtQueries: 1, corrections: 1, inFlight: 0, cached: 1, maxHops: MAX_HOPS })
    expect(s.rejected).toEqual({ older: 2 })
  })

  it('single flight: 1,000 concurrent resolves of one name cause one dht.getValues, and all get the answer', async () => {
    const r = start()
    const { world, h } = r
    const rec = record(world, 'one', fields(`/ipfs/${CID}`, 1))
    answer(world, A, [[rec, 'p1'], [rec, 'p2']], 20)
    const asks = Array.from({ length: 1_000 }, () => h.ask(resolveCmd(A), { timeoutMs: 10_000 }))
    await runFor(h, 1_000)
    await Promise.all(asks.map(async a => await a.promise))
    expect(world.log.getValues).toHaveLength(1)
    expect(world.log.verifies).toHaveLength(1)
    const values = new Set(asks.map(a => resolved(a).value))
    expect([...values]).toEqual([`/ipfs/${CID}`])
    expect(asks.every(a => a.seen === 1)).toBe(true)
    expect(r.ipnsStatus()).toMatchObject({ resolves: 1_000, shared: 999, dhtQueries: 1, inFlight: 0 })
    expect(h.system.openPorts).toBe(0)
  })

  it('different options do not share a flight (nocache, quorum, sub-path)', async () => {
    const { world, h } = start()
    const rec = record(world, 'one', fields(`/ipfs/${CID}`, 1))
    answer(world, A, [[rec, 'p1']], 20)
    const asks = [h.ask(resolveCmd(A)), h.ask(resolveCmd(A, { nocache: true })), h.ask(resolveCmd(A, { quorum: 1 })), h.ask(resolveCmd(`/ipns/${A}/sub`))]
    await runFor(h, 1_000)
    expect(world.log.getValues).toHaveLength(4)
    expect(resolved(asks[3] as Tracked).value).toBe(`/ipfs/${CID}/sub`)
  })

  it('a waiter that gives up leaves the flight to the others; the query is not cancelled', async () => {
    const r = start()
    const { world, h } = r
    const rec = record(world, 'one', fields(`/ipfs/${CID}`, 1))
    answer(world, A, [[rec, 'p1', 10]], 50)
    const acs = [new AbortController(), new AbortController(), new AbortController()]
    const asks = acs.map(ac => h.ask(resolveCmd(A), { timeoutMs: 10_000, signal: ac.signal }))
    await runFor(h, 5)
    acs[0]?.abort()
    await runFor(h, 1_000)
    expect(errorOf(asks[0]?.outcome).name).toBe('AbortError')
    expect(resolved(asks[1] as Tracked).value).toBe(`/ipfs/${CID}`)
    expect(resolved(asks[2] as Tracked).value).toBe(`/ipfs/${CID}`)
    expect(world.log.cancels).toEqual([])
    expect(world.log.getValues).toHaveLength(1)
  })

  it('when the last waiter is gone the flight ends and its own asks (query, verification) are cancelled', async () => {
    const r = start()
    const { world, h } = r
    world.verifyHang = true
    const rec = record(world, 'one', fields(`/ipfs/${CID}`, 1))
    answer(world, A, [[rec, 'p1', 2]], 'hang')
    const acs = [new AbortController(), new AbortController()]
    const asks = acs.map(ac => h.ask(resolveCmd(A), { timeoutMs: 10_000, signal: ac.signal }))
    await runFor(h, 5)
    expect(world.log.verifies).toHaveLength(1)
    expect(r.ipnsStatus().inFlight).toBe(1)
    acs[0]?.abort()
    await runFor(h, 5)
    expect(world.log.cancels).toEqual([])
    acs[1]?.abort()
    await runFor(h, 5)
    for (const a of asks) expect(errorOf(a.outcome).name).toBe('AbortError')
    const getId = world.log.getValues[0]?.id
    const verifyId = world.log.verifies[0]?.id
    expect(world.log.cancels).toEqual(expect.arrayContaining([
      { actor: 'swarm', id: getId, type: 'dht.getValues' },
      { actor: 'verifier', id: verifyId, type: 'record.verify' }
    ]))
    expect(r.ipnsStatus().inFlight).toBe(0)
    expect(h.system.openPorts).toBe(0)
    // a new resolve starts a new flight
    const again = h.ask(resolveCmd(A), { timeoutMs: 1_000 })
    await runFor(h, 5)
    expect(world.log.getValues).toHaveLength(2)
    expect(again.outcome).toBeUndefined()
  })

  it('cache: a second resolve is answered without a query until received + TTL, then queries again', async () => {
    const r = start()
    const { world, h } = r
    const rec = record(world, 'ttl', fields(`/ipfs/${CID}`, 1, { ttlMs: 60_000 }))
    answer(world, A, [[rec, 'p1']])
    const first = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await runFor(h, 100)
    const receivedAt = resolved(first).at
    const hit = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await h.flush()
    expect(resolved(hit)).toMatchObject({ value: `/ipfs/${CID}`, source: 'cache', hops: 1 })
    expect(resolved(hit).at).toBe(h.clock.now()) // no virtual time passed
    expect(world.log.getValues).toHaveLength(1)
    // just before received + TTL: still a hit
    await runFor(h, receivedAt + 60_000 - 1 - h.clock.now())
    const late = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await h.flush()
    expect(resolved(late).source).toBe('cache')
    expect(world.log.getValues).toHaveLength(1)
    // at received + TTL: expired
    await runFor(h, 1)
    expect(h.clock.now()).toBe(receivedAt + 60_000)
    const expired = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await runFor(h, 100)
    expect(resolved(expired).source).toBe('dht')
    expect(world.log.getValues).toHaveLength(2)
    expect(r.ipnsStatus()).toMatchObject({ cacheHits: 2, dhtQueries: 2 })
  })

  it('cache: a record whose EOL comes before received + TTL is cached only until its EOL', async () => {
    const { world, h, clock } = start()
    const eol = clock.now() + 30_000
    const rec = record(world, 'short', fields(`/ipfs/${CID}`, 1, { ttlMs: 3_600_000, validityMs: eol }))
    answer(world, A, [[rec, 'p1']])
    h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await runFor(h, 100)
    await runFor(h, eol - 1 - h.clock.now())
    const before = h.ask(resolveCmd(A))
    await h.flush()
    expect(resolved(before).source).toBe('cache')
    await runFor(h, 1)
    h.ask(resolveCmd(A), { timeoutMs: 5_000 })
    await runFor(h, 100)
    expect(world.log.getValues).toHaveLength(2)
  })

  it('nocache bypasses a fresh cache entry (and refreshes it)', async () => {
    const { world, h } = start()
    const v1 = record(world, 'v1', fields('/ipfs/v1', 1))
    answer(world, A, [[v1, 'p1']])
    h.ask(resolveCmd(A))
    await runFor(h, 100)
    const v2 = record(world, 'v2', fields('/ipfs/v2', 2))
    answer(world, A, [[v2, 'p1']])
    const cached = h.ask(resolveCmd(A))
    await h.flush()
    expect(resolved(cached).value).toBe('/ipfs/v1')
    const fresh = h.ask(resolveCmd(A, { nocache: true }))
    await runFor(h, 100)
    expect(resolved(fresh)).toMatchObject({ value: '/ipfs/v2', source: 'dht' })
    expect(world.log.getValues).toHaveLength(2)
    const after = h.ask(resolveCmd(A))
    await h.flush()
    expect(resolved(after)).toMatchObject({ value: '/ipfs/v2', source: 'cache' })
  })

  it('a query that never ends: the best valid record is returned at the soft deadline, before the ask times out', async () => {
    const r = start()
    const { world, h } = r
    const rec = record(world, 'one', fields(`/ipfs/${CID}`, 1))
    answer(world, A, [[rec, 'p1', 10]], 'hang')
    const t0 = h.clock.now()
    const t = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await h.run()
    // soft deadline: 250 ms (at most 10 % of the time given) before the deadline
    expect(resolved(t)).toMatchObject({ value: `/ipfs/${CID}`, at: t0 + 9_750 })
    // and the query was stopped
    expect(world.log.cancels.map(c => c.type)).toContain('dht.getValues')

    answer(world, B, [], 'hang')
    const short = h.ask(resolveCmd(B), { timeoutMs: 100 })
    const t1 = h.clock.now()
    await h.run()
    // nothing valid was found: not-found at the soft deadline (10 % of 100 ms early), not a timeout
    const err = errorOf(short.outcome)
    expect(err.name).toBe('NotFoundError')
    expect(short.outcome?.at).toBe(t1 + 90)
    expect(r.ipnsStatus().inFlight).toBe(0)
  })

  it('a query that fails with a timeout and found nothing reports the timeout', async () => {
    const { world, h } = start()
    world.network.set(A, { answers: [], endMs: 5, failure: { kind: 'timeout', message: 'kad-dht gave up' } })
    const t = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await runFor(h, 100)
    expect(errorOf(t.outcome).name).toBe('TimeoutError')
  })

  it('rejected records are counted by the rule that failed, and never returned', async () => {
    const r = start()
    const { world, h } = r
    const good = record(world, 'good', fields('/ipfs/good', 1))
    const forged = record(world, 'forged', 'bad-signature')
    const expired = record(world, 'expired', 'expired')
    const wrongKey = record(world, 'wrong-key', 'key-mismatch')
    answer(world, A, [[forged, 'p1'], [expired, 'p2'], [wrongKey, 'p3'], [good, 'p4'], [forged, 'p5']])
    const t = h.ask(resolveCmd(A))
    await runFor(h, 100)
    expect(resolved(t)).toMatchObject({ value: '/ipfs/good', sequence: 1n })
    const s = r.ipnsStatus()
    // one verification per distinct record; the peers holding something else are 'older'
    expect(s.rejected).toEqual({ 'bad-signature': 1, expired: 1, 'key-mismatch': 1, older: 4 })

    const onlyBad = h.ask(resolveCmd(B))
    answer(world, B, [[forged, 'p1']])
    await runFor(h, 100)
    expect(errorOf(onlyBad.outcome).name).toBe('NotFoundError')
  })

  it('every transition is in the trace and reaches the host as ipns:resolve:* progress', async () => {
    const { world, h, system, trace } = start()
    const events: ProgressEvent[] = []
    const off = system.onProgress(e => { events.push(e) })
    const rec = record(world, 'one', fields(`/ipfs/${CID}`, 1))
    answer(world, A, [[rec, 'p1']])
    const t = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await runFor(h, 100)
    off()
    resolved(t)
    const transitions = trace.events.flatMap(e => e.dir === 'out' && e.ev.type === 'transition' && e.ev.id === t.id ? [e.ev] : []) as Array<Extract<TraceOutput, { type: 'transition' }>>
    expect(transitions.every(x => x.actor === 'ipns' && x.machine === 'resolve')).toBe(true)
    // the repo first (nothing there), then the DHT
    expect(transitions[0]).toMatchObject({ state: 'reading', event: 'xstate.init' })
    expect(transitions[1]).toMatchObject({ state: 'querying', event: 'REPO_END' })
    expect(transitions.map(x => x.event)).toEqual(expect.arrayContaining(['VALUE', 'VERIFIED', 'QUERY_END']))
    expect(transitions.at(-1)?.state).toBe('done')
    const types = events.filter(e => e.id === t.id).map(e => e.type)
    expect(types.slice(0, 2)).toEqual(['ipns:resolve:reading', 'ipns:resolve:querying'])
    expect(types.at(-1)).toBe('ipns:resolve:done')
    expect(types.every(x => x.startsWith('ipns:resolve:'))).toBe(true)
    expect(events.every(e => e.actor === 'ipns' || e.type.startsWith('kad-dht'))).toBe(true)
  })

  it('recursion across names joins sub-paths; a cached hop mid-way is used', async () => {
    const { world, h } = start()
    answer(world, A, [[record(world, 'a', fields(`/ipns/${B}/from-a`, 1)), 'p1']])
    answer(world, B, [[record(world, 'b', fields(`/ipfs/${CID}/from-b`, 5)), 'p1']])
    const t = h.ask(resolveCmd(`/ipns/${A}/asked`), { timeoutMs: 10_000 })
    await runFor(h, 100)
    expect(resolved(t)).toMatchObject({ value: `/ipfs/${CID}/from-b/from-a/asked`, sequence: 5n, hops: 2, source: 'dht' })
    expect(world.log.getValues.map(g => g.name)).toEqual([A, B])
    // B is cached now: resolving A with nocache queries A only
    const again = h.ask(resolveCmd(A, { nocache: true }))
    await runFor(h, 100)
    expect(resolved(again).hops).toBe(2)
    expect(world.log.getValues.map(g => g.name)).toEqual([A, B, A, B])
  })

  it('an item of the previous hop\'s query still in the mailbox when the next hop starts is not taken for the next name', async () => {
    const { world, h } = start()
    const a = record(world, 'a', fields(`/ipns/${B}`, 1))
    const late = record(world, 'a-late', fields('/ipfs/late-from-a', 7))
    answer(world, A, [[a, 'p1']], 'hang')
    answer(world, B, [[record(world, 'b', fields(`/ipfs/${CID}`, 1)), 'p1', 5]])
    // the moment A's record is verified (quorum 1), one more answer for A is already on its way
    world.afterVerify = rec => {
      if (rec === a) expect(world.push?.(A, late, 'p2')).toBe(true)
    }
    const t = h.ask(resolveCmd(A, { quorum: 1 }), { timeoutMs: 10_000 })
    await runFor(h, 100)
    expect(resolved(t)).toMatchObject({ value: `/ipfs/${CID}`, hops: 2 })
    // A's late answer was neither verified as B's nor counted against B
    expect(world.log.verifies.map(v => v.name)).toEqual([A, B])
  })

  it(`a loop a → b → a fails with too-many-hops after ${MAX_HOPS} records; the cache keeps it to two queries`, async () => {
    const { world, h } = start()
    answer(world, A, [[record(world, 'a', fields(`/ipns/${B}`, 1)), 'p1']])
    answer(world, B, [[record(world, 'b', fields(`/ipns/${A}`, 1)), 'p1']])
    const t = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await runFor(h, 100)
    const err = errorOf(t.outcome) as Error & { code?: string }
    expect(err.name).toBe('InvalidRecordError')
    expect(err.code).toBe('too-many-hops')
    expect(world.log.getValues).toHaveLength(2)
  })

  it('a record pointing at /ipns/<not a name> fails with bad-value (no query, no crash)', async () => {
    const r = start()
    const { world, h } = r
    answer(world, A, [[record(world, 'a', fields('/ipns/not-a-name/x', 1)), 'p1']])
    const t = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
    await runFor(h, 100)
    const err = errorOf(t.outcome) as Error & { code?: string }
    expect(err.name).toBe('InvalidRecordError')
    expect(err.code).toBe('bad-value')
    expect(world.log.getValues).toHaveLength(1)
    expect(r.ipnsStatus().inFlight).toBe(0)
    // non-recursive: the value as it is
    const raw = h.ask(resolveCmd(A, { recursive: false, nocache: true }))
    await runFor(h, 100)
    expect(resolved(raw).value).toBe('/ipns/not-a-name/x')
  })

  it('offline: answers from the records stored in the repo, never from the DHT', async () => {
    const { world, h } = start()
    answer(world, A, [[record(world, 'net', fields('/ipfs/network', 9)), 'p1']])
    const stored = record(world, 'stored', fields('/ipfs/stored', 4))
    world.store.set(`resolved|${A}`, { kind: 'resolved', name: A, record: stored, receivedAt: 0, sequence: 4n })
    const t = h.ask(resolveCmd(A, { offline: true }))
    await runFor(h, 100)
    expect(resolved(t)).toMatchObject({ value: '/ipfs/stored', sequence: 4n, source: 'local' })
    expect(world.log.getValues).toHaveLength(0)
    expect(world.log.storeGets).toEqual(expect.arrayContaining([{ kind: 'published', name: A }, { kind: 'resolved', name: A }]))
    const missing = h.ask(resolveCmd(B, { offline: true }))
    await runFor(h, 100)
    expect(errorOf(missing.outcome).name).toBe('NotFoundError')
    expect(world.log.getValues).toHaveLength(0)
  })

  it('offline prefers the better of the published and the resolved record', async () => {
    const { world, h } = start()
    world.store.set(`resolved|${A}`, { kind: 'resolved', name: A, record: record(world, 'r', fields('/ipfs/resolved', 4)), receivedAt: 0, sequence: 4n })
    world.store.set(`published|${A}`, { kind: 'published', name: A, record: record(world, 'p', fields('/ipfs/published', 6)), receivedAt: 0, sequence: 6n })
    const t = h.ask(resolveCmd(A, { offline: true }))
    await runFor(h, 100)
    expect(resolved(t)).toMatchObject({ value: '/ipfs/published', sequence: 6n, source: 'local' })
  })

  it('too many flights: overloaded, the others unaffected', async () => {
    const { world, h } = start({ maxFlights: 2 })
    answer(world, A, [], 'hang')
    answer(world, B, [], 'hang')
    const asks = [h.ask(resolveCmd(A), { timeoutMs: 1_000 }), h.ask(resolveCmd(B), { timeoutMs: 1_000 }), h.ask(resolveCmd(SELF), { timeoutMs: 1_000 })]
    await h.flush()
    expect(errorOf(asks[2]?.outcome).name).toBe('OverloadedError')
    await h.run()
    expect(errorOf(asks[0]?.outcome).name).toBe('NotFoundError')
  })

  it('invalid commands are refused before delivery', async () => {
    const { h } = start()
    for (const [cmd, field] of [
      [resolveCmd('not a name'), 'name'],
      [resolveCmd(A, { quorum: 0 }), 'quorum'],
      [resolveCmd(A, { nocache: 'yes' }), 'nocache'],
      [publishCmd({ value: 'no-slash' }), 'value'],
      [publishCmd({ value: '/ipfs/x', key: '../etc' }), 'key'],
      [publishCmd({ value: '/ipfs/x', lifetimeMs: -1 }), 'lifetimeMs']
    ] as Array<[BaseCommand, string]>) {
      const t = h.ask(cmd)
      const o = await t.promise
      const err = errorOf(o) as Error & { field?: string }
      expect(err.name, JSON.stringify(cmd)).toBe('InvalidCommandError')
      expect(err.field).toBe(field)
    }
  })
})

describe('IPNS actor: publish', () => {
  function withKeys (r: IpnsRig): void {
    r.world.keys = [keyInfo('self', SELF), keyInfo('other', A)]
  }

  const published = (o: Outcome | undefined): PublishReply => {
    if (o === undefined || !o.ok) throw new Error(`publish failed: ${o === undefined ? 'not settled' : o.error.message}`)
    return o.value as PublishReply
  }

  it('signs one above the highest sequence seen, stores it durably, then puts it to the DHT', async () => {
    const r = start()
    withKeys(r)
    const { world, h } = r
    world.store.set(`published|${SELF}`, { kind: 'published', name: SELF, record: new Uint8Array([1]), receivedAt: 0, sequence: 4n })
    world.store.set(`resolved|${SELF}`, { kind: 'resolved', name: SELF, record: new Uint8Array([2]), receivedAt: 0, sequence: 6n })
    let storedAtPut: boolean | undefined
    const t = h.ask(publishCmd({ value: `/ipfs/${CID}`, ttlMs: 1_000 }), { timeoutMs: 10_000 })
    for (let i = 0; i < 1_000 && t.outcome === undefined; i++) {
      await runFor(h, 1)
      if (storedAtPut === undefined && world.log.puts.length > 0) storedAtPut = world.store.get(`published|${SELF}`)?.sequence === 7n
    }
    const p = published(t.outcome)
    expect(p).toMatchObject({ name: SELF, value: `/ipfs/${CID}`, sequence: 7n, peers: 5 })
    expect(storedAtPut).toBe(true)
    expect(world.log.creates).toEqual([{ type: 'record.create', key: 'self', value: `/ipfs/${CID}`, sequence: 7n, ttlMs: 1_000 }])
    expect(world.store.get(`published|${SELF}`)).toMatchObject({ kind: 'published', key: 'self', value: `/ipfs/${CID}`, sequence: 7n, ttlMs: 1_000, record: p.record })
    expect(world.log.puts).toEqual([{ name: SELF, value: p.record }])
    const transitions = r.trace.events.flatMap(e => e.dir === 'out' && e.ev.type === 'transition' && e.ev.id === t.id ? [e.ev.state] : [])
    expect(transitions).toEqual(['{"preparing":"key"}', '{"preparing":"seen"}', '{"preparing":"seen"}', 'signing', 'storing', 'putting', 'done'])
  })

  it('a new name starts at sequence 0; each publish raises it', async () => {
    const r = start()
    withKeys(r)
    const { h } = r
    for (const expected of [0n, 1n, 2n]) {
      const t = h.ask(publishCmd({ key: 'other', value: `/ipfs/${CID}/${expected}` }))
      await runFor(h, 100)
      expect(published(t.outcome)).toMatchObject({ name: A, sequence: expected })
    }
  })

  it('concurrent publishes of one key each sign their own sequence, in order; other keys are not held up', async () => {
    const r = start()
    withKeys(r)
    const { world, h } = r
    const same = Array.from({ length: 4 }, (_, i) => h.ask(publishCmd({ value: `/ipfs/${CID}/${i}` })))
    const other = h.ask(publishCmd({ key: 'other', value: `/ipfs/${CID}/other` }))
    await runFor(h, 500)
    expect(same.map(t => published(t.outcome).sequence)).toEqual([0n, 1n, 2n, 3n])
    expect(published(other.outcome)).toMatchObject({ name: A, sequence: 0n })
    expect(world.store.get(`published|${SELF}`)).toMatchObject({ sequence: 3n, value: `/ipfs/${CID}/3` })
  })

  it('a publish after resolving a higher sequence of the same name continues above it', async () => {
    const r = start()
    withKeys(r)
    const { world, h } = r
    answer(world, SELF, [[record(world, 'remote', fields('/ipfs/remote', 41)), 'p1']])
    const res = h.ask(resolveCmd(SELF))
    await runFor(h, 100)
    expect(resolved(res).sequence).toBe(41n)
    const t = h.ask(publishCmd({ value: `/ipfs/${CID}` }))
    await runFor(h, 100)
    expect(published(t.outcome).sequence).toBe(42n)
  })

  it('a missing key: NotFoundError, nothing signed or stored', async () => {
    const r = start()
    withKeys(r)
    const { world, h } = r
    const t = h.ask(publishCmd({ key: 'nope', value: `/ipfs/${CID}` }))
    await runFor(h, 100)
    expect(errorOf(t.outcome).name).toBe('NotFoundError')
    expect(world.log.creates).toEqual([])
    expect(world.log.storePuts).toEqual([])
  })

  it('offline: stored, not put; peers 0', async () => {
    const r = start()
    withKeys(r)
    const { world, h } = r
    const t = h.ask(publishCmd({ value: `/ipfs/${CID}`, offline: true }))
    await runFor(h, 100)
    expect(published(t.outcome)).toMatchObject({ sequence: 0n, peers: 0 })
    expect(world.log.storePuts).toHaveLength(1)
    expect(world.log.puts).toEqual([])
  })

  it('failures: signing (nothing stored), storing (nothing put), putting (stored, but not acknowledged)', async () => {
    const r = start()
    withKeys(r)
    const { world, h } = r
    world.createFailure = { kind: 'invalid-record', code: 'bad-value', message: 'nope' }
    const sign = h.ask(publishCmd({ value: `/ipfs/${CID}` }))
    await runFor(h, 100)
    expect(errorOf(sign.outcome).name).toBe('InvalidRecordError')
    expect(world.log.storePuts).toEqual([])
    world.createFailure = undefined

    world.storeFailure = { kind: 'failed', message: 'disk full' }
    const store = h.ask(publishCmd({ value: `/ipfs/${CID}` }))
    await runFor(h, 100)
    expect(errorOf(store.outcome).name).toBe('FailedError')
    expect(world.log.puts).toEqual([])
    world.storeFailure = undefined

    world.putFailure = { kind: 'failed', message: 'dht.put: no peer accepted it' }
    const put = h.ask(publishCmd({ value: `/ipfs/${CID}` }))
    await runFor(h, 100)
    expect(errorOf(put.outcome).name).toBe('FailedError')
    expect(world.log.storePuts).toHaveLength(1)
    expect(world.log.puts).toHaveLength(1)
  })

  it('a publish whose asker gives up is cancelled with its sub-asks', async () => {
    const r = start()
    withKeys(r)
    const { world, h } = r
    world.verifyHang = true
    const ac = new AbortController()
    const t = h.ask(publishCmd({ value: `/ipfs/${CID}` }), { signal: ac.signal })
    await h.flush()
    ac.abort()
    await runFor(h, 100)
    expect(errorOf(t.outcome).name).toBe('AbortError')
    expect(world.log.cancels.map(c => c.actor)).toContain('keys')
    expect(world.log.creates).toEqual([])
    expect(r.ipnsStatus().inFlight).toBe(0)
  })
})

describe('IPNS actor: joining a resolve in flight', () => {
  it('an asker with a much later deadline gets its own flight instead of the first asker\'s early answer', async () => {
    const { world, h } = start()
    answer(world, B, [], 'hang')
    const t0 = h.clock.now()
    const short = h.ask(resolveCmd(B), { timeoutMs: 100 })
    const sameDeadline = h.ask(resolveCmd(B), { timeoutMs: 100 })
    const long = h.ask(resolveCmd(B), { timeoutMs: 10_000 })
    await h.run()
    // the two with the same deadline shared one flight and its soft deadline …
    expect(short.outcome?.at).toBe(t0 + 90)
    expect(sameDeadline.outcome?.at).toBe(t0 + 90)
    // … the long one ran until its own soft deadline, in a flight of its own
    expect(errorOf(long.outcome).name).toBe('NotFoundError')
    expect(long.outcome?.at).toBe(t0 + 9_750)
    expect(world.log.getValues).toHaveLength(2)
  })
})

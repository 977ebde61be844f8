/**
 * The republisher on the simulated clock: its schedule (interval, seeded
 * jitter, the first EOL coming due), what a run republishes and what it
 * skips, the concurrency bound, failures retried by the next run, restart
 * continuity over the same repo, ipns.republish, and swarm.status.
 */
import { Key } from 'interface-datastore'
import { describe, expect, it } from 'vitest'
import { recordEolMs } from '../../../src/actors/republisher/stored.js'
import { datastoreRepublishState } from '../../../src/actors/republisher/republish-state.js'
import { republisherActor } from '../../../src/actors/republisher/republisher-actor.js'
import { swarmActor } from '../../../src/actors/swarm/swarm-actor.js'
import { failure } from '../../../src/messages/failure.js'
import { FakeDhtPort } from '../../helpers/fake-dht-port.js'
import { errorOf } from '../../helpers/sim.js'
import { CID_A, CID_B, HOUR, rig, seedPublished, T0, testKey } from './rig.js'
import type { IpnsRepublish, RepublishReply, RepublishStatus } from '../../../src/messages/republish.js'
import type { StoredRecord } from '../../../src/messages/store.js'
import type { SwarmStatusReply } from '../../../src/messages/swarm.js'
import type { Rig } from './rig.js'
import '../../../src/messages/republish.js'

const MIN = 60_000
const START_DELAY = 60_000

async function stored (r: Rig, name: string): Promise<StoredRecord> {
  return await r.ops.get('published', name)
}

/** the gaps between checks over `n` runs on an empty store */
async function gaps (seed: number, n: number): Promise<number[]> {
  const r = await rig({ seed })
  try {
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      const s = r.status()
      expect(s.nextRunAt).not.toBeNull()
      out.push((s.nextRunAt as number) - r.h.clock.now())
      await r.advanceTo(s.nextRunAt as number)
    }
    expect(r.status().runs).toBe(n)
    return out
  } finally {
    await r.stop()
  }
}

describe('schedule', () => {
  it('checks every interval ± 10 % jitter, the same gaps for the same seed and others for another', async () => {
    const a = await gaps(7, 8)
    const b = await gaps(7, 8)
    const c = await gaps(8, 8)
    expect(b).toEqual(a)
    expect(c).not.toEqual(a)
    for (const g of [...a, ...c]) {
      expect(g).toBeGreaterThanOrEqual(0.9 * HOUR)
      expect(g).toBeLessThanOrEqual(1.1 * HOUR)
    }
    // jitter, not a constant
    expect(new Set(a).size).toBeGreaterThan(1)
  })

  it('honours intervalMs and jitter 0 exactly', async () => {
    const r = await rig({ republish: { intervalMs: 10 * MIN, jitter: 0 } })
    try {
      expect(r.status().nextRunAt).toBe(T0 + 10 * MIN)
      await r.advanceTo(T0 + 10 * MIN)
      expect(r.status().nextRunAt).toBe(T0 + 20 * MIN)
    } finally {
      await r.stop()
    }
  })

  it('wakes up when the first record comes within the threshold of its EOL, before the interval', async () => {
    const k = testKey('a', 1)
    // EOL at T0 + 24.5 h: due at T0 + 30 min, before the hourly check
    const r = await rig({ keys: [k], before: async ops => { await seedPublished(ops, k, CID_A, T0 - 23.5 * HOUR) } })
    try {
      expect(r.status().nextRunAt).toBe(T0 + 30 * MIN)
      await r.advanceTo(T0 + 30 * MIN - 1)
      expect(r.fake.calls).toHaveLength(0)
      await r.advanceTo(T0 + 30 * MIN)
      expect(r.fake.calls).toHaveLength(1)
      expect((await stored(r, k.name)).sequence).toBe(1n)
    } finally {
      await r.stop()
    }
  })
})

describe('a run', () => {
  it('republishes a record within 24 h of its EOL with the next sequence, the same value, lifetime and TTL; skips a fresh one', async () => {
    const due = testKey('due', 1)
    const fresh = testKey('fresh', 2)
    let freshBefore: StoredRecord | undefined
    const r = await rig({
      keys: [due, fresh],
      before: async ops => {
        await seedPublished(ops, due, CID_A, T0 - 25 * HOUR, { lifetimeMs: 48 * HOUR, ttlMs: 10 * MIN, sequence: 4n })
        freshBefore = await seedPublished(ops, fresh, CID_B, T0 - HOUR, { sequence: 9n })
      }
    })
    try {
      // something is due: the first run comes after the start delay
      expect(r.status().nextRunAt).toBe(T0 + START_DELAY)
      await r.advanceTo(T0 + START_DELAY)
      expect(r.fake.calls).toEqual([{ type: 'ipns.publish', key: 'due', value: CID_A, lifetimeMs: 48 * HOUR, ttlMs: 10 * MIN }])
      const after = await stored(r, due.name)
      expect(after.sequence).toBe(5n)
      expect(after.value).toBe(CID_A)
      expect(recordEolMs(after.record)).toBe(T0 + START_DELAY + 48 * HOUR)
      expect(await stored(r, fresh.name)).toEqual(freshBefore)
      const s = r.status()
      expect(s.lastRun).toMatchObject({ trigger: 'timer', republished: 1, skipped: 1, failed: 0 })
      expect(s).toMatchObject({ republished: 1, skipped: 1, failed: 0, retrying: 0, tracked: 2, inFlight: 0, running: false })
      // next: the hourly check (the fresh record comes due only at T0 + 23 h)
      const gap = (s.nextRunAt as number) - (T0 + START_DELAY)
      expect(gap).toBeGreaterThanOrEqual(0.9 * HOUR)
      expect(gap).toBeLessThanOrEqual(1.1 * HOUR)
    } finally {
      await r.stop()
    }
  })

  it('keeps the fresh record until it comes due, then republishes it', async () => {
    const k = testKey('k', 3)
    const r = await rig({ keys: [k] })
    try {
      await seedPublished(r.ops, k, CID_A, T0)
      await r.advanceTo(T0 + 24 * HOUR - 1)
      expect(r.fake.calls).toHaveLength(0)
      expect(r.status().runs).toBeGreaterThanOrEqual(20)
      await r.advanceTo(T0 + 25.2 * HOUR)
      expect(r.fake.calls).toHaveLength(1)
      expect((await stored(r, k.name)).sequence).toBe(1n)
    } finally {
      await r.stop()
    }
  })

  it('runs at most `concurrency` republishes at once', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => testKey(`k${i}`, 10 + i))
    for (const concurrency of [4, 2]) {
      const r = await rig({ keys, republish: { concurrency } })
      try {
        for (const k of keys) await seedPublished(r.ops, k, CID_A, T0 - 30 * HOUR)
        r.fake.putDelayMs = 10_000
        const t = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
        await r.h.flush()
        expect(r.status().inFlight).toBe(concurrency)
        expect(r.status().running).toBe(true)
        await r.advance(10 * 10_000)
        const out = await t.promise
        expect(out.ok).toBe(true)
        const reply = (out as { value: RepublishReply }).value
        expect(reply.republished).toHaveLength(10)
        expect(r.fake.maxInFlight).toBe(concurrency)
        expect(r.fake.calls).toHaveLength(10)
      } finally {
        await r.stop()
      }
    }
  })
})

describe('failures', () => {
  it('counts a failed DHT put and retries the name on the next run although its stored record is fresh', async () => {
    const k = testKey('k', 4)
    const r = await rig({ keys: [k] })
    try {
      await seedPublished(r.ops, k, CID_A, T0 - 30 * HOUR)
      r.fake.outcome = (_c, attempt) => attempt === 1 ? { fail: failure('failed', 'the DHT put failed') } : { peers: 5 }
      const first = r.h.ask({ type: 'ipns.republish' })
      await r.h.flush()
      const reply = (await first.promise as { value: RepublishReply }).value
      expect(reply.republished).toEqual([])
      expect(reply.failed).toEqual([{ name: k.name, reason: 'failed', message: 'the DHT put failed' }])
      let s = r.status()
      expect(s.failures).toEqual({ failed: 1 })
      expect(s.retrying).toBe(1)
      // ipns.publish stored the new record before its put failed: fresh, yet pending
      expect((await stored(r, k.name)).sequence).toBe(1n)
      await r.advanceTo(s.nextRunAt as number)
      expect(r.fake.calls).toHaveLength(2)
      expect((await stored(r, k.name)).sequence).toBe(2n)
      s = r.status()
      expect(s.retrying).toBe(0)
      expect(s.lastRun).toMatchObject({ republished: 1, failed: 0 })
      expect(s.failures).toEqual({ failed: 1 })
    } finally {
      await r.stop()
    }
  })

  it('counts a put that reached no peer as no-peers, a removed key as key-missing, a publish timeout as timeout; never crashes', async () => {
    const a = testKey('a', 5)
    const b = testKey('b', 6)
    const c = testKey('c', 7)
    const keys = [a, b, c]
    const r = await rig({ keys, republish: { publishTimeoutMs: 5_000 } })
    try {
      for (const k of keys) await seedPublished(r.ops, k, CID_A, T0 - 30 * HOUR)
      r.fake.outcome = cmd => cmd.key === 'a' ? { peers: 0 } : { peers: 2 }
      keys.splice(1, 1) // key b removed from the keystore
      r.fake.putDelayMs = 1_000
      const t = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
      await r.advance(2_000)
      const reply = (await t.promise as { value: RepublishReply }).value
      expect(reply.republished.map(x => x.name)).toEqual([c.name])
      expect(reply.failed.map(f => [f.name, f.reason]).sort()).toEqual([[a.name, 'no-peers'], [b.name, 'key-missing']].sort())
      expect(r.fake.calls.map(x => x.key).sort()).toEqual(['a', 'c'])

      // the next run tries both again; a slow put now times out
      r.fake.putDelayMs = 60_000
      await r.advanceTo(r.status().nextRunAt as number)
      await r.advance(10_000)
      const s = r.status()
      expect(s.failures).toEqual({ 'no-peers': 1, 'key-missing': 2, timeout: 1 })
      expect(s.retrying).toBe(2)
      const actor = r.h.system.status().actors.find(x => x.name === 'republisher')
      expect(actor?.restarts).toBe(0)
      expect(actor?.state).toBe('running')
    } finally {
      await r.stop()
    }
  })

  it('drops a pending name once its record is gone from the store', async () => {
    const k = testKey('k', 16)
    const r = await rig({ keys: [k], before: async ops => { await seedPublished(ops, k, CID_A, T0 - 30 * HOUR) } })
    try {
      r.fake.outcome = () => ({ fail: failure('failed', 'no route') })
      await r.advanceTo(T0 + START_DELAY)
      expect(r.status().retrying).toBe(1)
      await r.ds.delete(new Key(`/swarmbus/ipns/published/${k.name}`))
      await r.advanceTo(r.status().nextRunAt as number)
      expect(r.status()).toMatchObject({ retrying: 0, tracked: 0 })
      expect(r.fake.calls).toHaveLength(1)
      expect(await datastoreRepublishState(r.ds).load()).toEqual([])
    } finally {
      await r.stop()
    }
  })

  it('answers ipns.republish with the failure when the store cannot list, and runs again later', async () => {
    const r = await rig()
    try {
      r.ops.list = async () => { throw new Error('disk gone') }
      const t = r.h.ask({ type: 'ipns.republish' })
      await r.h.flush()
      const err = errorOf(t.outcome)
      expect(err.name).toBe('FailedError')
      expect(err.message).toMatch(/could not list the published records: disk gone/)
      const s = r.status()
      expect(s.failures).toEqual({ store: 1 })
      expect(s.nextRunAt).not.toBeNull()
    } finally {
      await r.stop()
    }
  })
})

describe('stalls', () => {
  it('abandons a run that makes no progress for stallMs, keeps its names pending and schedules the next check', async () => {
    const k = testKey('k', 15)
    const r = await rig({ keys: [k], republish: { publishTimeoutMs: 10 * MIN, stallMs: 2 * MIN }, before: async ops => { await seedPublished(ops, k, CID_A, T0 - 30 * HOUR) } })
    try {
      r.fake.putDelayMs = 24 * HOUR
      await r.advanceTo(T0 + START_DELAY + 2 * MIN)
      const s = r.status()
      expect(s).toMatchObject({ running: false, inFlight: 0, retrying: 1, failures: { stalled: 1 } })
      expect(s.lastRun).toMatchObject({ failed: 1, republished: 0 })
      expect(s.nextRunAt).toBeGreaterThan(T0 + START_DELAY + 2 * MIN)
      expect(await datastoreRepublishState(r.ds).load()).toEqual([{ name: k.name, reason: 'stalled' }])
    } finally {
      await r.stop()
    }
  })
})

describe('restart continuity', () => {
  it('a new system over the same repo schedules from the stored records and republishes when they come due', async () => {
    const k = testKey('k', 8)
    const r1 = await rig({ keys: [k] })
    await seedPublished(r1.ops, k, CID_A, T0)
    await r1.advance(2 * HOUR)
    expect(r1.fake.calls).toHaveLength(0)
    await r1.stop()

    const r2 = await rig({ keys: [k], ds: r1.ds, start: T0 + 23.5 * HOUR, seed: 2 })
    try {
      // nothing due at start: the record comes due at T0 + 24 h, before the hourly check
      expect(r2.status().tracked).toBe(1)
      expect(r2.status().nextRunAt).toBe(T0 + 24 * HOUR)
      await r2.advanceTo(T0 + 24 * HOUR)
      expect(r2.fake.calls).toEqual([{ type: 'ipns.publish', key: 'k', value: CID_A }])
      expect((await stored(r2, k.name)).sequence).toBe(1n)
    } finally {
      await r2.stop()
    }
  })

  it('a name whose republish failed is retried after a restart, although its stored record is fresh', async () => {
    const k = testKey('k', 9)
    const r1 = await rig({ keys: [k], before: async ops => { await seedPublished(ops, k, CID_A, T0 - 30 * HOUR) } })
    r1.fake.outcome = () => ({ fail: failure('timeout', 'the DHT put timed out') })
    await r1.advanceTo(T0 + START_DELAY)
    expect(r1.status().retrying).toBe(1)
    expect((await stored(r1, k.name)).sequence).toBe(1n)
    await r1.stop()
    expect(await datastoreRepublishState(r1.ds).load()).toEqual([{ name: k.name, reason: 'timeout' }])

    const r2 = await rig({ keys: [k], ds: r1.ds, start: T0 + 2 * HOUR })
    try {
      expect(r2.status().retrying).toBe(1)
      expect(r2.status().nextRunAt).toBe(T0 + 2 * HOUR + START_DELAY)
      await r2.advanceTo(T0 + 2 * HOUR + START_DELAY)
      expect(r2.fake.calls).toHaveLength(1)
      expect((await stored(r2, k.name)).sequence).toBe(2n)
      expect(r2.status().retrying).toBe(0)
      expect(await datastoreRepublishState(r2.ds).load()).toEqual([])
    } finally {
      await r2.stop()
    }
  })

  it('a republish cut off by a stop (a crash) is retried after the restart', async () => {
    const k = testKey('k', 10)
    const r1 = await rig({ keys: [k], before: async ops => { await seedPublished(ops, k, CID_A, T0 - 30 * HOUR) } })
    r1.fake.putDelayMs = 10 * MIN
    await r1.advanceTo(T0 + START_DELAY + 1_000)
    expect(r1.status().inFlight).toBe(1)
    // the new record is stored (sequence 1), its put never confirmed
    expect((await stored(r1, k.name)).sequence).toBe(1n)
    await r1.stop()

    const r2 = await rig({ keys: [k], ds: r1.ds, start: T0 + 5 * MIN })
    try {
      expect(r2.status().retrying).toBe(1)
      await r2.advanceTo(T0 + 5 * MIN + START_DELAY)
      expect((await stored(r2, k.name)).sequence).toBe(2n)
      expect(r2.status().lastRun).toMatchObject({ republished: 1, failed: 0 })
    } finally {
      await r2.stop()
    }
  })
})

describe('ipns.republish', () => {
  it('republishes the names due now and answers { republished, skipped, failed, next }; force republishes all', async () => {
    const due = testKey('due', 11)
    const fresh = testKey('fresh', 12)
    const r = await rig({ keys: [due, fresh] })
    try {
      await seedPublished(r.ops, due, CID_A, T0 - 30 * HOUR, { sequence: 2n })
      await seedPublished(r.ops, fresh, CID_B, T0)
      const t = r.h.ask({ type: 'ipns.republish' })
      await r.h.flush()
      const reply = (await t.promise as { value: RepublishReply }).value
      expect(reply).toMatchObject({ startedAt: T0, finishedAt: T0, skipped: 1, failed: [] })
      expect(reply.republished).toEqual([{ name: due.name, sequence: 3n, peers: 3 }])
      expect(reply.next).toBe(r.status().nextRunAt)
      expect(reply.next - T0).toBeGreaterThanOrEqual(0.9 * HOUR)

      const f = r.h.ask({ type: 'ipns.republish', force: true } as IpnsRepublish)
      await r.h.flush()
      const forced = (await f.promise as { value: RepublishReply }).value
      expect(forced.skipped).toBe(0)
      expect(forced.republished.map(x => [x.name, x.sequence]).sort()).toEqual([[due.name, 4n], [fresh.name, 1n]].sort())
      expect(r.status().lastRun?.trigger).toBe('command-force')
    } finally {
      await r.stop()
    }
  })

  it('an ask made before the stored state is loaded waits for it; asks during a run join it while it lists, else follow it', async () => {
    const k = testKey('k', 13)
    const r = await rig({ keys: [k], settle: false, before: async ops => { await seedPublished(ops, k, CID_A, T0 - 30 * HOUR) } })
    try {
      r.fake.putDelayMs = 1_000
      const value = async (t: { promise: Promise<unknown> }): Promise<RepublishReply> => ((await t.promise) as { value: RepublishReply }).value
      // before the boot is done: queued, then run
      const a = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
      await r.h.flush()
      expect(r.status()).toMatchObject({ ready: true, running: true, inFlight: 1 })
      // during the publishing: both follow in one later run
      const b = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
      const c = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
      await r.advance(5_000)
      const [ra, rb, rc] = [await value(a), await value(b), await value(c)]
      expect(ra.republished).toEqual([{ name: k.name, sequence: 1n, peers: 3 }])
      expect(rb).toEqual(rc)
      expect(rb.startedAt).toBe(T0 + 1_000)
      // just republished: fresh now
      expect(rb).toMatchObject({ republished: [], skipped: 1, failed: [] })
      expect(r.status().runs).toBe(2)
      // two asks in the same turn while idle: the second joins the run the first started (it is listing)
      const d = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
      const e = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
      await r.h.flush()
      expect(await value(d)).toEqual(await value(e))
      expect(r.status().runs).toBe(3)
      // a forced ask does not join an unforced run
      const f = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
      const g = r.h.ask({ type: 'ipns.republish', force: true } as IpnsRepublish, { timeoutMs: HOUR })
      await r.advance(5_000)
      expect((await value(f)).republished).toEqual([])
      expect((await value(g)).republished).toEqual([{ name: k.name, sequence: 2n, peers: 3 }])
      expect(r.status().runs).toBe(5)
    } finally {
      await r.stop()
    }
  })

  it('rejects a malformed command', async () => {
    const r = await rig()
    try {
      const t = r.h.ask({ type: 'ipns.republish', force: 'yes' } as never)
      await r.h.flush()
      const err = errorOf(t.outcome) as Error & { field?: string }
      expect(err.name).toBe('InvalidCommandError')
      expect(err.field).toBe('force')
    } finally {
      await r.stop()
    }
  })

  it('rejects bad options when the actor is defined', () => {
    const state = datastoreRepublishState(undefined as never)
    expect(() => republisherActor({ state, intervalMs: 0 })).toThrow(RangeError)
    expect(() => republisherActor({ state, jitter: 1 })).toThrow(RangeError)
    expect(() => republisherActor({ state, concurrency: 1.5 })).toThrow(RangeError)
  })
})

describe('swarm.status', () => {
  it('has a republish section: last and next run, counts, failures by reason, in flight', async () => {
    const k = testKey('k', 14)
    const r = await rig({ keys: [k] })
    try {
      r.h.system.spawn(swarmActor({ port: new FakeDhtPort() }))
      await seedPublished(r.ops, k, CID_A, T0 - 30 * HOUR)
      r.fake.outcome = () => ({ fail: failure('failed', 'no route') })
      r.fake.putDelayMs = 1_000
      const run = r.h.ask({ type: 'ipns.republish' }, { timeoutMs: HOUR })
      await r.h.flush()
      const during = r.h.ask({ type: 'swarm.status' })
      await r.h.flush()
      const mid = ((await during.promise) as { value: SwarmStatusReply }).value.republish as RepublishStatus
      expect(mid).toMatchObject({ ready: true, running: true, inFlight: 1, concurrency: 4, lastRun: null, nextRunAt: null })
      await r.advance(1_000)
      await run.promise
      const after = r.h.ask({ type: 'swarm.status' })
      await r.h.flush()
      const s = ((await after.promise) as { value: SwarmStatusReply }).value.republish as RepublishStatus
      expect(s).toMatchObject({
        ready: true, running: false, inFlight: 0, runs: 1, tracked: 1, retrying: 1,
        republished: 0, failed: 1, failures: { failed: 1 },
        lastRun: { trigger: 'command', startedAt: T0, finishedAt: T0 + 1_000, republished: 0, skipped: 0, failed: 1 },
        intervalMs: HOUR, thresholdMs: 24 * HOUR
      })
      expect(s.nextRunAt).toBeGreaterThan(T0 + 1_000)
    } finally {
      await r.stop()
    }
  })

  it('has no republish section when the node runs no republisher', async () => {
    const r = await rig({ republish: false })
    try {
      r.h.system.spawn(swarmActor({ port: new FakeDhtPort() }))
      const t = r.h.ask({ type: 'swarm.status' })
      await r.h.flush()
      const reply = ((await t.promise) as { value: SwarmStatusReply }).value
      expect(reply.actors.map(a => a.name)).not.toContain('republisher')
      expect(reply).not.toHaveProperty('republish')
    } finally {
      await r.stop()
    }
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { createRecord } from '../../../src/records/create.js'
import { generateEd25519Signer } from '../../../src/records/ed25519.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { verifierActor } from '../../../src/actors/verifier/verifier-actor.js'
import { RealClock } from '../../../src/platform/real-clock.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import type { Clock } from '../../../src/actors/runtime/clock.js'
import { createInlineVerifier, VerifyPool } from '../../../src/workers/verify-pool.js'
import { createNode } from '../../../src/node/create-node.js'
import type { BatchVerifier } from '../../../src/workers/verify-pool.js'
import type { SigCheck } from '../../../src/records/verify.js'
import type { VerifierActorOptions } from '../../../src/actors/verifier/verifier-actor.js'

const systems: ActorSystem[] = []
afterEach(async () => { await Promise.all(systems.splice(0).map(async s => { await s.stop() })) })

/** An inline verifier that counts what it is asked. */
function counting (inner: BatchVerifier = createInlineVerifier()): BatchVerifier & { batches: number[] } {
  const batches: number[] = []
  return {
    batches,
    verifyBatch: async (checks: readonly SigCheck[]) => { batches.push(checks.length); return await inner.verifyBatch(checks) },
    destroy: async () => {}
  }
}

function system (opts: VerifierActorOptions, clock: Clock = new RealClock()): ActorSystem {
  const s = new ActorSystem({ clock })
  systems.push(s)
  s.spawn(verifierActor(opts))
  return s
}

async function freshRecord (i = 0, now = Date.now()): Promise<{ name: string, record: Uint8Array }> {
  const signer = generateEd25519Signer()
  const r = await createRecord(signer, `/ipfs/bafkqaaa/${i}`, { now, sequence: i })
  return { name: r.name.format('base36'), record: r.bytes }
}

describe('verifier actor', () => {
  it('verifies a record and returns its fields', async () => {
    const s = system({ verifier: counting() })
    const { name, record } = await freshRecord(7)
    const v = await s.ask({ type: 'record.verify', name, record })
    expect(v).toMatchObject({ value: '/ipfs/bafkqaaa/7', sequence: 7n, validityType: 0, keyType: 'Ed25519', hasV1Signature: true })
    expect(v.ttl).toBe(300_000_000_000n)
  })

  it('fails with InvalidRecordError naming the rule; a signature-only verifier is asked only for records that pass the rules before it', async () => {
    const v = counting()
    const s = system({ verifier: v })
    const { name, record } = await freshRecord()
    const other = await freshRecord()
    await expect(s.ask({ type: 'record.verify', name, record: record.subarray(0, 20) })).rejects.toMatchObject({ name: 'InvalidRecordError' })
    const expired = await freshRecord(1, Date.now() - 49 * 3600_000)
    await expect(s.ask({ type: 'record.verify', ...expired })).rejects.toMatchObject({ name: 'InvalidRecordError', code: 'expired' })
    expect(v.batches).toEqual([]) // none of these needed a signature check
    const forged = record.slice()
    // flip a byte of signatureV2 (field 8) — find it by searching for its tag 0x42 followed by length 64
    const at = forged.findIndex((b, i) => b === 0x42 && forged[i + 1] === 64)
    forged[at + 10] = (forged[at + 10] ?? 0) ^ 0xff
    await expect(s.ask({ type: 'record.verify', name, record: forged })).rejects.toMatchObject({ name: 'InvalidRecordError', code: 'bad-signature' })
    expect(v.batches).toEqual([1])
    // an Ed25519 name inlines its key, so a record under another name is checked
    // with that name's key and fails its signature (the spec's order)
    await expect(s.ask({ type: 'record.verify', name: other.name, record })).rejects.toMatchObject({ name: 'InvalidRecordError', code: 'bad-signature' })
    expect(v.batches).toEqual([1, 1])
    await expect(s.ask({ type: 'record.verify', name: '', record })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'name' })
  })

  it('verifies identical records once: concurrent asks join the check in flight, later ones hit the cache', async () => {
    const v = counting()
    const s = system({ verifier: v })
    const { name, record } = await freshRecord()
    const all = await Promise.all(Array.from({ length: 100 }, async () => await s.ask({ type: 'record.verify', name, record })))
    expect(all).toHaveLength(100)
    expect(v.batches).toEqual([1])
    await s.ask({ type: 'record.verify', name, record })
    expect(v.batches).toEqual([1])
    const detail = s.status().actors.find(a => a.name === 'verifier')?.detail
    expect(detail).toMatchObject({ verified: 1, cacheHits: 1 })
  })

  it('batches distinct checks up to the batch size', async () => {
    const v = counting()
    const s = system({ verifier: v, batchSize: 16 })
    const records = await Promise.all(Array.from({ length: 40 }, async (_, i) => await freshRecord(i)))
    const out = await Promise.all(records.map(async r => await s.ask({ type: 'record.verify', ...r })))
    expect(out.map(o => o.sequence)).toEqual(records.map((_, i) => BigInt(i)))
    expect(v.batches.reduce((a, b) => a + b, 0)).toBe(40)
    expect(Math.max(...v.batches)).toBeLessThanOrEqual(16)
  })

  it('fails with OverloadedError when its queue is full, and times out waiters without aborting the batch', async () => {
    let release: (v: boolean[]) => void = () => {}
    const stuck: BatchVerifier = { verifyBatch: async checks => await new Promise(resolve => { release = () => { resolve(checks.map(() => true)) } }), destroy: async () => {} }
    const s = system({ verifier: stuck, batchSize: 1, maxInFlight: 1, maxQueue: 2 })
    const rs = await Promise.all(Array.from({ length: 4 }, async (_, i) => await freshRecord(i)))
    const asks = rs.map(r => s.ask({ type: 'record.verify', ...r }, { timeoutMs: 300 }))
    const settled = await Promise.allSettled(asks)
    const names = settled.map(x => x.status === 'rejected' ? (x.reason as Error).name : 'ok')
    expect(names.filter(n => n === 'OverloadedError')).toHaveLength(1) // 1 in flight, 2 queued, 1 refused
    expect(names.filter(n => n === 'TimeoutError')).toHaveLength(3)
    release([true])
    expect(s.openPorts).toBe(0)
  })

  it('decodes nothing itself: every rule but expiry comes from the checker, so receive stays cheap', async () => {
    const seen: Array<{ name: string, bytes: number[] }> = []
    const fields = { value: '/ipfs/bafkqaaa/from-the-checker', sequence: 9n, validity: '2200-01-01T00:00:00Z', validityMs: Date.parse('2200-01-01T00:00:00Z'), validityNs: BigInt(Date.parse('2200-01-01T00:00:00Z')) * 1_000_000n, validityType: 0 as const, ttl: 1n, keyType: 'Ed25519' as const, hasPubKey: false, hasV1Signature: false }
    const checker: BatchVerifier = {
      verifyBatch: async () => { throw new Error('not used for whole records') },
      checkRecords: async items => items.map(i => {
        seen.push({ name: i.name, bytes: Array.from(i.record) })
        return i.record[0] === 1 ? { ok: true as const, fields, signature: true } : { ok: false as const, code: 'key-mismatch' as const, message: 'from the checker' }
      }),
      destroy: async () => {}
    }
    const s = system({ verifier: checker, batchSize: 1 })
    // bytes no decoder would accept: only the checker's verdicts can answer these
    expect(await s.ask({ type: 'record.verify', name: 'anything', record: Uint8Array.of(1, 2, 3) })).toMatchObject({ value: '/ipfs/bafkqaaa/from-the-checker', sequence: 9n })
    await expect(s.ask({ type: 'record.verify', name: 'anything', record: Uint8Array.of(2) })).rejects.toMatchObject({ name: 'InvalidRecordError', code: 'key-mismatch', message: 'from the checker' })
    expect(seen).toEqual([{ name: 'anything', bytes: [1, 2, 3] }, { name: 'anything', bytes: [2] }])
  })

  it('applies expiry at each ask\'s time: a cached verdict turns into expired without another check', async () => {
    const clock = new SimulatedClock(Date.parse('2026-01-01T00:00:00Z'))
    const v = counting()
    const s = system({ verifier: v, batchSize: 1 }, clock)
    const signer = generateEd25519Signer()
    const r = await createRecord(signer, '/ipfs/bafkqaaa', { now: clock.now(), lifetimeMs: 3_600_000 })
    const ask = { type: 'record.verify' as const, name: r.name.toString(), record: r.bytes }
    expect(await s.ask(ask)).toMatchObject({ value: '/ipfs/bafkqaaa' })
    expect(v.batches).toEqual([1])
    clock.set(clock.now() + 2 * 3_600_000)
    await expect(s.ask(ask)).rejects.toMatchObject({ name: 'InvalidRecordError', code: 'expired' })
    expect(v.batches).toEqual([1])
    expect(s.status().actors.find(a => a.name === 'verifier')?.detail).toMatchObject({ verified: 1, cacheHits: 1 })
  })

  it('fails asks with OverloadedError when the pool\'s queue is full, and counts it', async () => {
    const pool = new VerifyPool({ threads: 1, maxQueue: 0 })
    try {
      const s = system({ verifier: pool, batchSize: 1, maxInFlight: 4 })
      const rs = await Promise.all(Array.from({ length: 4 }, async (_, i) => await freshRecord(i)))
      const settled = await Promise.allSettled(rs.map(async r => await s.ask({ type: 'record.verify', ...r })))
      const names = settled.map(x => x.status === 'rejected' ? (x.reason as Error).name : 'ok')
      expect(names).toEqual(['ok', 'OverloadedError', 'OverloadedError', 'OverloadedError'])
      expect(s.status().actors.find(a => a.name === 'verifier')?.detail).toMatchObject({ poolOverloaded: 3, verified: 1 })
      expect(pool.stats().overloaded).toBe(3)
    } finally {
      await pool.destroy()
    }
  })

  it('runs on a node through the worker pool, with record.create from the keys actor', async () => {
    const node = await createNode({ repo: 'memory' })
    try {
      const created = await node.ask({ type: 'record.create', value: '/ipfs/bafkqaaa', sequence: 3 })
      const v = await node.ask({ type: 'record.verify', name: created.name, record: created.record })
      expect(v).toMatchObject({ value: '/ipfs/bafkqaaa', sequence: 3n })
    } finally {
      await node.stop()
    }
  })
})

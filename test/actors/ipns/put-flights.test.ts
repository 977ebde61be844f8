/**
 * ipns.put (put-flights.ts) on a 2-node loopback testnet: a record signed
 * elsewhere is verified, compared with what the node holds, stored as a
 * resolved record and put to the DHT; lower sequences are refused (against
 * stored, published and cached records alike), puts of one name run one at
 * a time, bad commands never reach the actor, and a put makes the resolve
 * caches forget the name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { createRecord } from '../../../src/records/create.js'
import { generateEd25519Signer } from '../../../src/records/ed25519.js'
import { nameFromPublicKey } from '../../../src/records/name.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { Testnet } from '../../../src/node/create-testnet.js'

const SEED = 77_000

function signer (fill: number): ReturnType<typeof generateEd25519Signer> {
  return generateEd25519Signer(new Uint8Array(32).fill(fill))
}

describe('ipns.put', () => {
  let net: Testnet
  let a: SwarmNode
  let b: SwarmNode

  beforeAll(async () => {
    net = await createTestnet({ nodes: 2, seed: SEED, settleTimeoutMs: 20_000, node: { verifier: 'inline', republish: false } })
    a = net.nodes[0] as SwarmNode
    b = net.nodes[1] as SwarmNode
  }, 60_000)

  afterAll(async () => { await net?.stop() }, 30_000)

  it('stores the record as resolved, puts it to the DHT, and answers with name, sequence and peers', async () => {
    const s = signer(21)
    const name = nameFromPublicKey(s.publicKey)
    const rec = await createRecord(s, '/ipfs/bafkqaaa/put', { now: Date.now(), sequence: 4 })
    const reply = await a.ask({ type: 'ipns.put', name: name.format('base32'), record: rec.bytes }, { timeoutMs: 10_000 })
    expect(reply).toEqual({ name: name.toString(), sequence: 4n, peers: expect.any(Number) as number })
    expect(reply.peers).toBeGreaterThan(0)
    const stored = await a.ask({ type: 'store.get', kind: 'resolved', name: name.toString() })
    expect(stored.record).toEqual(rec.bytes)
    expect(stored.sequence).toBe(4n)
    expect(await b.ask({ type: 'ipns.resolve', name: name.toString(), nocache: true }, { timeoutMs: 10_000 })).toMatchObject({ value: '/ipfs/bafkqaaa/put', sequence: 4n, source: 'dht' })
  })

  it('refuses a record below the sequence held: stored, cached or published here', async () => {
    const s = signer(22)
    const name = nameFromPublicKey(s.publicKey).toString()
    await a.ask({ type: 'ipns.put', name, record: (await createRecord(s, '/ipfs/bafkqaaa', { now: Date.now(), sequence: 9 })).bytes, offline: true })
    const lower = await createRecord(s, '/ipfs/bafkqaaa', { now: Date.now(), sequence: 8 })
    await expect(a.ask({ type: 'ipns.put', name, record: lower.bytes })).rejects.toMatchObject({ name: 'InvalidRecordError', code: 'older' })
    // the same sequence again is accepted (idempotent)
    await expect(a.ask({ type: 'ipns.put', name, record: (await createRecord(s, '/ipfs/bafkqaaa', { now: Date.now(), sequence: 9 })).bytes, offline: true })).resolves.toMatchObject({ sequence: 9n, peers: 0 })
    // a name this node published: a record signed elsewhere below it is refused too
    const published = await b.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa/one' }, { timeoutMs: 10_000 })
    await b.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa/two' }, { timeoutMs: 10_000 })
    await expect(b.ask({ type: 'ipns.put', name: published.name, record: published.record })).rejects.toMatchObject({ code: 'older' })
  })

  it('is checked by record.verify: another name\'s record, garbage and an expired record are refused, nothing stored', async () => {
    const s = signer(23)
    const other = nameFromPublicKey(signer(24).publicKey).toString()
    const rec = await createRecord(s, '/ipfs/bafkqaaa', { now: Date.now(), sequence: 1 })
    await expect(a.ask({ type: 'ipns.put', name: other, record: rec.bytes })).rejects.toMatchObject({ name: 'InvalidRecordError' })
    await expect(a.ask({ type: 'ipns.put', name: other, record: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({ name: 'InvalidRecordError' })
    const expired = await createRecord(s, '/ipfs/bafkqaaa', { now: Date.now() - 7_200_000, lifetimeMs: 3_600_000, sequence: 2 })
    await expect(a.ask({ type: 'ipns.put', name: nameFromPublicKey(s.publicKey).toString(), record: expired.bytes })).rejects.toMatchObject({ code: 'expired' })
    await expect(a.ask({ type: 'store.get', kind: 'resolved', name: other })).rejects.toMatchObject({ name: 'NotFoundError' })
  })

  it('validates the command before it is queued', async () => {
    const name = nameFromPublicKey(signer(25).publicKey).toString()
    await expect(a.ask({ type: 'ipns.put', name: 'nonsense', record: new Uint8Array(1) })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'name' })
    await expect(a.ask({ type: 'ipns.put', name: `/ipns/${name}/a/path`, record: new Uint8Array(1) })).rejects.toMatchObject({ field: 'name' })
    await expect(a.ask({ type: 'ipns.put', name, record: new Uint8Array(0) })).rejects.toMatchObject({ field: 'record' })
    await expect(a.ask({ type: 'ipns.put', name, record: new Uint8Array(10 * 1024 + 1) })).rejects.toMatchObject({ field: 'record' })
    await expect(a.ask({ type: 'ipns.put', name, record: 'x' as unknown as Uint8Array })).rejects.toMatchObject({ field: 'record' })
  })

  it('puts of one name run one at a time: of a higher and a lower one sent together, the higher stays', async () => {
    const s = signer(26)
    const name = nameFromPublicKey(s.publicKey).toString()
    const high = await createRecord(s, '/ipfs/bafkqaaa/high', { now: Date.now(), sequence: 20 })
    const low = await createRecord(s, '/ipfs/bafkqaaa/low', { now: Date.now(), sequence: 19 })
    const results = await Promise.allSettled([
      a.ask({ type: 'ipns.put', name, record: high.bytes, offline: true }),
      a.ask({ type: 'ipns.put', name, record: low.bytes, offline: true })
    ])
    expect(results[0]?.status).toBe('fulfilled')
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'older' } })
    expect((await a.ask({ type: 'store.get', kind: 'resolved', name })).sequence).toBe(20n)
  })

  it('a put makes a cached answer for the name go: the next resolve sees the new record', async () => {
    const s = signer(27)
    const name = nameFromPublicKey(s.publicKey).toString()
    await a.ask({ type: 'ipns.put', name, record: (await createRecord(s, '/ipfs/bafkqaaa/v1', { now: Date.now(), sequence: 1 })).bytes })
    expect((await b.ask({ type: 'ipns.resolve', name }, { timeoutMs: 10_000 })).value).toBe('/ipfs/bafkqaaa/v1')
    // b caches that answer for the record's TTL (5 min); a put at b replaces it at once
    expect((await b.ask({ type: 'ipns.resolve', name }, { timeoutMs: 10_000 })).source).toBe('cache')
    await b.ask({ type: 'ipns.put', name, record: (await createRecord(s, '/ipfs/bafkqaaa/v2', { now: Date.now(), sequence: 2 })).bytes })
    const again = await b.ask({ type: 'ipns.resolve', name }, { timeoutMs: 10_000 })
    expect(again).toMatchObject({ value: '/ipfs/bafkqaaa/v2', sequence: 2n })
    expect(again.source).not.toBe('cache')
  })

  it('ipns.resolve with record: true answers with the record\'s bytes, from the DHT and from the cache; without it, no bytes', async () => {
    const published = await a.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa/bytes' }, { timeoutMs: 10_000 })
    const fresh = await b.ask({ type: 'ipns.resolve', name: published.name, nocache: true, record: true }, { timeoutMs: 10_000 })
    expect(fresh.record).toEqual(published.record)
    const cached = await b.ask({ type: 'ipns.resolve', name: published.name, record: true }, { timeoutMs: 10_000 })
    expect(cached.source).toBe('cache')
    expect(cached.record).toEqual(published.record)
    const plain = await b.ask({ type: 'ipns.resolve', name: published.name }, { timeoutMs: 10_000 })
    expect('record' in plain).toBe(false)
    await expect(b.ask({ type: 'ipns.resolve', name: published.name, record: 'yes' as unknown as boolean })).rejects.toMatchObject({ field: 'record' })
  })
})

/**
 * IPNS in kad-dht: as a DHT server, a node never replaces a stored IPNS
 * record with a lower one. kad-dht 16.4's PUT_VALUE handler overwrites
 * whatever validates; guardIpnsRecords (wrapped around the node's datastore
 * by createNode) refuses. Unit tests of the guard on a MemoryDatastore, then
 * real loopback nodes: a raw kad-dht node next to a guarded one (the raw one
 * is overwritten, the guarded one is not), and the wiring in createNode.
 */
import { Libp2pRecord } from '@libp2p/record'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { toString as bytesToString } from 'uint8arrays/to-string'
import { afterAll, describe, expect, it } from 'vitest'
import { DHT_RECORD_PREFIX, guardIpnsRecords, ipnsSelector, ipnsValidator, LowerSequenceError } from '../../../../src/actors/swarm/libp2p/ipns-dht.js'
import { createLibp2pDhtPort, ed25519KeyFromSeed } from '../../../../src/actors/swarm/libp2p/libp2p-dht-port.js'
import { createRecord } from '../../../../src/records/create.js'
import { generateEd25519Signer } from '../../../../src/records/ed25519.js'
import { selectionKey } from '../../../../src/records/select.js'
import { createInlineVerifier } from '../../../../src/workers/verify-pool.js'
import { createNode } from '../../../../src/node/create-node.js'
import { testSeed } from '../../../helpers/port-testnet.js'
import { poll } from '../../../node/support.js'
import type { DhtPort } from '../../../../src/actors/swarm/dht-port.js'
import type { SwarmNode } from '../../../../src/node/create-node.js'

const signer = generateEd25519Signer(new Uint8Array(32).fill(42))
const HOUR = 3_600_000

async function ipnsRecord (sequence: number, o: { lifetimeMs?: number, value?: string } = {}): Promise<{ routingKey: Uint8Array, value: Uint8Array }> {
  const r = await createRecord(signer, o.value ?? `/ipfs/bafkqaaa/${sequence}`, { now: Date.now(), sequence, lifetimeMs: o.lifetimeMs ?? 48 * HOUR })
  return { routingKey: r.name.toRoutingKey(), value: r.bytes }
}

/** where kad-dht keeps the record of a key: `/dht/record/<base32 of the key>` */
const dhtKey = (routingKey: Uint8Array): Key => new Key(`${DHT_RECORD_PREFIX}${bytesToString(routingKey, 'base32')}`, false)

const wrap = (routingKey: Uint8Array, value: Uint8Array): Uint8Array => new Libp2pRecord(routingKey, value, new Date()).serialize()

function sequenceIn (stored: Uint8Array): bigint | undefined {
  return selectionKey(Libp2pRecord.deserialize(stored).value)?.sequence
}

async function storedSequence (ds: MemoryDatastore, routingKey: Uint8Array): Promise<bigint | undefined> {
  const k = dhtKey(routingKey)
  if (!await ds.has(k)) return undefined
  return sequenceIn(await ds.get(k))
}

async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

describe('guardIpnsRecords on a MemoryDatastore', () => {
  it('refuses a lower sequence, accepts a higher one, and keeps what it had', async () => {
    const inner = new MemoryDatastore()
    const ds = guardIpnsRecords(inner)
    const r5 = await ipnsRecord(5)
    const r3 = await ipnsRecord(3)
    const r7 = await ipnsRecord(7)
    const k = dhtKey(r5.routingKey)
    await ds.put(k, wrap(r5.routingKey, r5.value))
    const err = await rejection(Promise.resolve(ds.put(k, wrap(r3.routingKey, r3.value))))
    expect(err).toBeInstanceOf(LowerSequenceError)
    expect(err.name).toBe('LowerSequenceError')
    expect(await storedSequence(inner, r5.routingKey)).toBe(5n)
    await ds.put(k, wrap(r7.routingKey, r7.value))
    expect(await storedSequence(inner, r5.routingKey)).toBe(7n)
  })

  it('on equal sequences the later EOL wins; the same record may be stored again', async () => {
    const ds = guardIpnsRecords(new MemoryDatastore())
    const long = await ipnsRecord(4, { lifetimeMs: 48 * HOUR })
    const short = await ipnsRecord(4, { lifetimeMs: 24 * HOUR })
    const k = dhtKey(long.routingKey)
    await ds.put(k, wrap(long.routingKey, long.value))
    await expect(ds.put(k, wrap(short.routingKey, short.value))).rejects.toThrow(LowerSequenceError)
    // re-storing the record it holds (kad-dht does, on every republish or correction)
    await ds.put(k, wrap(long.routingKey, long.value))
    const longer = await ipnsRecord(4, { lifetimeMs: 72 * HOUR })
    await ds.put(k, wrap(longer.routingKey, longer.value))
    expect(selectionKey(Libp2pRecord.deserialize(await ds.get(k)).value)?.validityNs).toBe(selectionKey(longer.value)?.validityNs)
  })

  it('an unreadable incoming IPNS record never replaces a readable one; a readable one replaces stored garbage', async () => {
    const inner = new MemoryDatastore()
    const ds = guardIpnsRecords(inner)
    const r1 = await ipnsRecord(1)
    const k = dhtKey(r1.routingKey)
    await ds.put(k, wrap(r1.routingKey, r1.value))
    await expect(ds.put(k, wrap(r1.routingKey, new Uint8Array([1, 2, 3])))).rejects.toThrow(LowerSequenceError)
    expect(await storedSequence(inner, r1.routingKey)).toBe(1n)
    const k2 = new Key('/dht/record/garbage', false)
    await inner.put(k2, wrap(r1.routingKey, new Uint8Array([9, 9])))
    await ds.put(k2, wrap(r1.routingKey, r1.value))
    expect(sequenceIn(await inner.get(k2))).toBe(1n)
  })

  it('passes everything else through: first puts, other namespaces, other keys, every other method', async () => {
    const inner = new MemoryDatastore()
    const ds = guardIpnsRecords(inner)
    const r5 = await ipnsRecord(5)
    const r3 = await ipnsRecord(3)
    // first put of a name: nothing to compare with
    await ds.put(dhtKey(r3.routingKey), wrap(r3.routingKey, r3.value))
    // a non-IPNS DHT record: kad-dht's own rules (the last put wins)
    const other = new TextEncoder().encode('/swarmbus/x')
    const ok = new Key(`${DHT_RECORD_PREFIX}${bytesToString(other, 'base32')}`, false)
    await ds.put(ok, wrap(other, r5.value))
    await ds.put(ok, wrap(other, r3.value))
    expect(sequenceIn(await inner.get(ok))).toBe(3n)
    // outside /dht/record/: untouched bytes, no parsing
    await ds.put(new Key('/swarmbus/ipns/published/x'), wrap(r5.routingKey, r5.value))
    await ds.put(new Key('/swarmbus/ipns/published/x'), new Uint8Array([1]))
    expect(await inner.get(new Key('/swarmbus/ipns/published/x'))).toEqual(new Uint8Array([1]))
    // reads and deletes are the inner store's
    expect(await ds.has(dhtKey(r3.routingKey))).toBe(true)
    expect(sequenceIn(await ds.get(dhtKey(r3.routingKey)))).toBe(3n)
    const listed: string[] = []
    for await (const { key } of ds.query({ prefix: DHT_RECORD_PREFIX })) listed.push(key.toString())
    expect(listed.sort()).toEqual([dhtKey(r3.routingKey).toString(), ok.toString()].sort())
    await ds.delete(ok)
    expect(await inner.has(ok)).toBe(false)
  })
})

/**
 * A MemoryDatastore whose every call takes a few ms, as a disk store's does:
 * without the guard's per-key lock, two puts of one name both read the old
 * record before either writes, and the lower may be written last.
 */
class SlowDatastore extends MemoryDatastore {
  private turn = 0
  private async pause (): Promise<void> {
    // 1–7 ms, a fixed pattern so runs are comparable
    const ms = 1 + ((this.turn++ * 5) % 7)
    await new Promise(resolve => setTimeout(resolve, ms))
  }

  override async has (key: Key): Promise<boolean> { await this.pause(); return super.has(key) }
  override async get (key: Key): Promise<Uint8Array> { await this.pause(); return super.get(key) }
  override async put (key: Key, value: Uint8Array): Promise<Key> { await this.pause(); return super.put(key, value) }
}

/** every order of 1…n, from a fixed seed (n! is too many past n = 5) */
function orders (n: number, count: number): number[][] {
  let s = 0x9e3779b9
  const next = (): number => { s = (s * 1664525 + 1013904223) >>> 0; return s }
  return Array.from({ length: count }, () => {
    const a = Array.from({ length: n }, (_, i) => i + 1)
    for (let i = a.length - 1; i > 0; i--) { const j = next() % (i + 1); [a[i], a[j]] = [a[j] ?? 0, a[i] ?? 0] }
    return a
  })
}

describe('guardIpnsRecords under concurrent puts of one name', () => {
  it('two puts started together: the higher sequence stays, the lower is refused (fails without the per-key lock)', async () => {
    for (const [first, second] of [[7, 5], [5, 7]] as const) {
      const inner = new SlowDatastore()
      const ds = guardIpnsRecords(inner)
      const base = await ipnsRecord(3)
      const k = dhtKey(base.routingKey)
      await ds.put(k, wrap(base.routingKey, base.value))
      const a = await ipnsRecord(first)
      const b = await ipnsRecord(second)
      const outcomes = await Promise.allSettled([ds.put(k, wrap(a.routingKey, a.value)), ds.put(k, wrap(b.routingKey, b.value))])
      expect(await storedSequence(inner, base.routingKey)).toBe(7n)
      // the put of 5 fails only when it comes after 7
      const refused = outcomes.filter(o => o.status === 'rejected')
      expect(refused.length).toBe(first === 7 ? 1 : 0)
      for (const o of refused) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(LowerSequenceError)
    }
  })

  it('eight sequences in 12 orders at once: the highest always stays and the stored sequence never goes down', async () => {
    const records = await Promise.all(Array.from({ length: 8 }, async (_, i) => await ipnsRecord(i + 1)))
    for (const order of orders(8, 12)) {
      const inner = new SlowDatastore()
      const ds = guardIpnsRecords(inner)
      const k = dhtKey(records[0]?.routingKey ?? new Uint8Array())
      const seen: bigint[] = []
      const outcomes = await Promise.allSettled(order.map(async seq => {
        const r = records[seq - 1]
        if (r === undefined) throw new Error('no record')
        await ds.put(k, wrap(r.routingKey, r.value))
        seen.push(sequenceIn(await inner.get(k)) ?? -1n)
      }))
      expect(await storedSequence(inner, records[0]?.routingKey ?? new Uint8Array())).toBe(8n)
      // each accepted put saw the store at a sequence no lower than the one before
      expect([...seen].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(seen)
      // a put is refused exactly when a higher one came before it
      const expectedRefused = order.filter((seq, i) => order.slice(0, i).some(p => p > seq)).length
      const refused = outcomes.filter(o => o.status === 'rejected')
      expect(refused.length).toBe(expectedRefused)
      for (const o of refused) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(LowerSequenceError)
    }
  })

  it('puts beyond the per-key bound fail with OverloadedError and leave the store alone', async () => {
    const inner = new SlowDatastore()
    const ds = guardIpnsRecords(inner, { maxPerKey: 2 })
    const rs = await Promise.all([1, 2, 3].map(async seq => await ipnsRecord(seq)))
    const k = dhtKey(rs[0]?.routingKey ?? new Uint8Array())
    const outcomes = await Promise.allSettled(rs.map(async r => await ds.put(k, wrap(r.routingKey, r.value))))
    expect(outcomes.map(o => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected'])
    expect(((outcomes[2] as PromiseRejectedResult).reason as Error).name).toBe('OverloadedError')
    expect(await storedSequence(inner, rs[0]?.routingKey ?? new Uint8Array())).toBe(2n)
    // non-IPNS keys never queue
    await Promise.all([1, 2, 3].map(async i => await ds.put(new Key(`/swarmbus/x/${i}`), new Uint8Array([i]))))
  })
})

describe('as a DHT server on loopback: a lower sequence does not replace a higher one', () => {
  const validators = { ipns: ipnsValidator(createInlineVerifier(), () => Date.now()) }
  const selectors = { ipns: ipnsSelector }
  const ports: DhtPort[] = []
  const nodes: SwarmNode[] = []
  const bound = (ms = 20_000): AbortSignal => AbortSignal.timeout(ms)

  async function port (index: number, datastore: MemoryDatastore | ReturnType<typeof guardIpnsRecords>): Promise<DhtPort> {
    const p = await createLibp2pDhtPort({
      datastore,
      privateKey: await ed25519KeyFromSeed(testSeed('ipns-dht', index)),
      transport: 'tcp',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      loopback: true,
      validators,
      selectors
    })
    ports.push(p)
    return p
  }

  afterAll(async () => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await Promise.allSettled(ports.map(async p => { await p.stop() }))
  }, 30_000)

  it('kad-dht alone overwrites sequence 5 with 3; the guarded server keeps 5', async () => {
    const guardedStore = new MemoryDatastore()
    const rawStore = new MemoryDatastore()
    const guarded = await port(0, guardIpnsRecords(guardedStore))
    const raw = await port(1, rawStore)
    const putter = await port(2, new MemoryDatastore())
    for (const p of [guarded, raw]) await putter.dial(p.multiaddrs()[0] ?? '', { signal: bound() })
    await raw.dial(guarded.multiaddrs()[0] ?? '', { signal: bound() })
    expect(await poll(() => [guarded, raw, putter].every(p => p.status().routingTableSize >= 2), 15_000)).toBe(true)

    const r5 = await ipnsRecord(5)
    const r3 = await ipnsRecord(3)
    // both servers hold sequence 5 (as kad-dht would store it), the putter has nothing
    for (const ds of [guardedStore, rawStore]) await ds.put(dhtKey(r5.routingKey), wrap(r5.routingKey, r5.value))

    const { peers } = await putter.put(r3.routingKey, r3.value, { signal: bound() })
    // only the raw server took it
    expect(peers).toBe(1)
    expect(await storedSequence(rawStore, r3.routingKey)).toBe(3n)
    expect(await storedSequence(guardedStore, r3.routingKey)).toBe(5n)

    // and a get through the DHT sees the guarded server's 5
    const values: Array<{ from: string, sequence: bigint | undefined }> = []
    for await (const v of putter.get(r3.routingKey, { signal: bound() })) values.push({ from: v.from, sequence: selectionKey(v.value)?.sequence })
    expect(values).toContainEqual({ from: guarded.peerId, sequence: 5n })
  }, 60_000)

  it('concurrent PUT_VALUEs from six kad-dht clients to one server: the highest sequence stays, in every round', async () => {
    const serverStore = new SlowDatastore()
    const server = await port(10, guardIpnsRecords(serverStore))
    const clients = await Promise.all(Array.from({ length: 6 }, async (_, i) => await port(11 + i, new MemoryDatastore())))
    for (const c of clients) await c.dial(server.multiaddrs()[0] ?? '', { signal: bound() })
    const records = await Promise.all(Array.from({ length: 6 }, async (_, i) => await ipnsRecord(i + 1, { value: `/ipfs/bafkqaaa/rpc/${i + 1}` })))
    const routingKey = records[0]?.routingKey ?? new Uint8Array()
    for (const [round, order] of orders(6, 4).entries()) {
      if (round > 0) await serverStore.delete(dhtKey(routingKey))
      // client i sends the sequence order[i], all at once, straight to the server (no lookup)
      const acks = await Promise.all(order.map(async (seq, i) => {
        const r = records[seq - 1]
        const c = clients[i]
        if (r === undefined || c === undefined) throw new Error('missing')
        return { seq, peers: (await c.putTo(r.routingKey, r.value, [server.peerId], Date.now(), { signal: bound() })).peers }
      }))
      expect(await storedSequence(serverStore, routingKey)).toBe(6n)
      // the server acknowledged exactly the puts that no higher one preceded in its lock
      const accepted = acks.filter(a => a.peers === 1).map(a => a.seq)
      expect(accepted).toContain(6)
    }
  }, 60_000)

  it('createNode wires the guard: a node holding 5 refuses a put of 3 through another node', async () => {
    const seed = 64_000
    const holder = await createNode({ loopback: true, seed, verifier: 'inline' })
    nodes.push(holder)
    const first = await createNode({ loopback: true, seed: seed + 1, verifier: 'inline', bootstrap: [holder.multiaddrs[0] ?? ''] })
    nodes.push(first)
    expect(await poll(async () => (await first.ask({ type: 'swarm.status' })).routingTableSize >= 1 && (await holder.ask({ type: 'swarm.status' })).routingTableSize >= 1, 15_000)).toBe(true)
    const r5 = await ipnsRecord(5, { value: '/ipfs/bafkqaaa/five' })
    const r3 = await ipnsRecord(3, { value: '/ipfs/bafkqaaa/three' })
    // sequence 5 reaches the holder (and stays at the putter)
    expect((await first.ask({ type: 'dht.put', key: r5.routingKey, value: r5.value }, { timeoutMs: 20_000 })).peers).toBe(1)
    // the node that holds 5 cannot even store 3 locally
    await expect(first.ask({ type: 'dht.put', key: r3.routingKey, value: r3.value }, { timeoutMs: 20_000 })).rejects.toMatchObject({ message: expect.stringMatching(/lower/) })

    // a fresh node, knowing only the holder, puts 3: stored locally, refused by the servers
    const late = await createNode({ loopback: true, seed: seed + 2, verifier: 'inline', bootstrap: [holder.multiaddrs[0] ?? ''] })
    nodes.push(late)
    expect(await poll(async () => (await late.ask({ type: 'swarm.status' })).routingTableSize >= 1, 15_000)).toBe(true)
    await expect(late.ask({ type: 'dht.put', key: r3.routingKey, value: r3.value }, { timeoutMs: 20_000 })).rejects.toMatchObject({ name: 'FailedError' })

    // the holder's own copy (first item of its getValues, from its own id) is still 5
    const own: bigint[] = []
    for await (const v of holder.stream({ type: 'dht.getValues', key: r5.routingKey }, { timeoutMs: 20_000 })) {
      if (v.from === holder.peerId) own.push(selectionKey(v.value)?.sequence ?? -1n)
    }
    expect(own).toEqual([5n])
  }, 60_000)
})

describe('kad-dht record key layout', () => {
  it('DHT_RECORD_PREFIX matches where kad-dht stores records (datastorePrefix /dht + /record)', async () => {
    // a real node's datastore after a local put (the put fails for want of peers, the local store happens first)
    const inner = new MemoryDatastore()
    const p = await createLibp2pDhtPort({
      datastore: inner,
      privateKey: await ed25519KeyFromSeed(testSeed('ipns-dht', 9)),
      transport: 'tcp',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      loopback: true,
      validators: { ipns: ipnsValidator(createInlineVerifier(), () => Date.now()) },
      selectors: { ipns: ipnsSelector }
    })
    try {
      expect(DHT_RECORD_PREFIX).toBe('/dht/record/')
      const r = await ipnsRecord(2)
      await p.put(r.routingKey, r.value, { signal: AbortSignal.timeout(10_000) }).catch(() => {})
      expect(await storedSequence(inner, r.routingKey)).toBe(2n)
    } finally {
      await p.stop()
    }
  }, 30_000)
})

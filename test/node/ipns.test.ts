/**
 * IPNS on one shared 10-node TCP testnet on 127.0.0.1 (real nodes, real
 * kad-dht): publish and resolve across nodes, republishing, recursion across
 * keys with sub-paths, loops, missing names, records planted at peers that
 * must never be returned, single flight seen in the swarm's counters, and
 * peers stopped in the middle of a resolve.
 *
 * Records are planted at three extra raw kad-dht nodes (a Libp2pDhtPort with
 * a permissive ipns validator and a MemoryDatastore this test writes into):
 * kad-dht's GET_VALUE handler serves whatever its datastore holds, so those
 * peers answer with exactly the bytes the test put there.
 */
import { Libp2pRecord } from '@libp2p/record'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { toString as bytesToString } from 'uint8arrays/to-string'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLibp2pDhtPort, ed25519KeyFromSeed } from '../../src/actors/swarm/libp2p/libp2p-dht-port.js'
import { DHT_RECORD_PREFIX } from '../../src/actors/swarm/libp2p/ipns-dht.js'
import { createNode } from '../../src/node/create-node.js'
import { createTestnet } from '../../src/node/create-testnet.js'
import { createRecord } from '../../src/records/create.js'
import { generateEd25519Signer } from '../../src/records/ed25519.js'
import { nameFromPublicKey } from '../../src/records/name.js'
import { testSeed } from '../helpers/port-testnet.js'
import { hostStarvation, timedOnHost } from '../helpers/host-starvation.js'
import { counters, poll, quiet, status, timed } from './support.js'
import type { ProgressEvent } from '../../src/actors/runtime/actor.js'
import type { DhtPort } from '../../src/actors/swarm/dht-port.js'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { Testnet } from '../../src/node/create-testnet.js'

const SEED = 66_000
const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const HOUR = 3_600_000

interface IpnsStatus { resolves: number, shared: number, dhtQueries: number, corrections: number, rejected: Record<string, number> }

async function ipnsStatus (node: SwarmNode): Promise<IpnsStatus> {
  return (await status(node)).actors.find(a => a.name === 'ipns')?.detail as unknown as IpnsStatus
}

async function selfName (node: SwarmNode): Promise<string> {
  const { keys } = await node.ask({ type: 'key.list' })
  const self = keys.find(k => k.name === 'self')
  if (self === undefined) throw new Error('no self key')
  return self.ipnsName
}

const ms = (x: number): string => `${Math.round(x)} ms`

describe('IPNS on a 10-node TCP testnet', () => {
  let net: Testnet
  let n: SwarmNode[]
  const extra: SwarmNode[] = []
  const planters: Array<{ port: DhtPort, ds: MemoryDatastore }> = []
  const timings: string[] = []
  const node = (i: number): SwarmNode => {
    const x = n[i]
    if (x === undefined) throw new Error(`no node ${i}`)
    return x
  }

  beforeAll(async () => {
    hostStarvation() // the probe thread is up long before the first timed ask
    const t0 = performance.now()
    net = await createTestnet({ nodes: 10, seed: SEED, settleTimeoutMs: 25_000 })
    n = net.nodes
    timings.push(`testnet settled=${net.report.settled} in ${ms(performance.now() - t0)}`)
  }, 90_000)

  afterAll(async () => {
    console.info(`ipns testnet timings:\n  ${timings.join('\n  ')}`)
    await Promise.allSettled(extra.map(async x => { await x.stop() }))
    await Promise.allSettled(planters.map(async p => { await p.port.stop() }))
    await net?.stop()
  }, 30_000)

  it('publish on one node, resolve (nocache) on others: the same value and sequence, from the DHT; then from the cache', async () => {
    const pub = await timed(async () => await node(0).ask({ type: 'ipns.publish', value: `/ipfs/${CID}` }, { timeoutMs: 20_000 }))
    expect(pub.error).toBeUndefined()
    const p = pub.value
    if (p === undefined) return
    expect(p.name).toBe(await selfName(node(0)))
    expect(p.sequence).toBe(0n)
    expect(p.peers).toBeGreaterThanOrEqual(5)
    timings.push(`publish: ${ms(pub.ms)} (${p.peers} peers)`)
    const uncached: number[] = []
    for (const i of [3, 4, 5, 6]) {
      const r = await timed(async () => await node(i).ask({ type: 'ipns.resolve', name: p.name, nocache: true }, { timeoutMs: 15_000 }))
      expect(r.error).toBeUndefined()
      expect(r.value).toMatchObject({ value: `/ipfs/${CID}`, sequence: 0n, source: 'dht', hops: 1 })
      uncached.push(r.ms)
    }
    timings.push(`uncached resolve: ${uncached.map(ms).join(', ')}`)
    // now cached on node 3 (received + 5 min TTL)
    const cached: number[] = []
    for (let i = 0; i < 5; i++) {
      const r = await timed(async () => await node(3).ask({ type: 'ipns.resolve', name: p.name }))
      expect(r.value).toMatchObject({ value: `/ipfs/${CID}`, source: 'cache' })
      cached.push(r.ms)
    }
    timings.push(`cached resolve: ${cached.map(x => x.toFixed(2)).join(', ')} ms`)
    // the publisher resolves its own name too
    expect(await node(0).ask({ type: 'ipns.resolve', name: `/ipns/${p.name}/a/b`, nocache: true }, { timeoutMs: 15_000 })).toMatchObject({ value: `/ipfs/${CID}/a/b` })
  })

  it('republishing a new value raises the sequence, and resolvers see the new value', async () => {
    const name = await selfName(node(0))
    const before = await node(0).ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 15_000 })
    const p = await node(0).ask({ type: 'ipns.publish', value: `/ipfs/${CID}/v2` }, { timeoutMs: 20_000 })
    expect(p.sequence).toBe(before.sequence + 1n)
    for (const i of [4, 7]) {
      const r = await node(i).ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 15_000 })
      expect(r).toMatchObject({ value: `/ipfs/${CID}/v2`, sequence: p.sequence })
    }
    // a node that had it cached (node 3) sees the new value once it skips the cache
    expect((await node(3).ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 15_000 })).value).toBe(`/ipfs/${CID}/v2`)
  })

  it('recursion across two keys joins the sub-paths of every hop', async () => {
    const inner = await node(1).ask({ type: 'key.generate', name: 'inner' })
    await node(1).ask({ type: 'ipns.publish', key: 'inner', value: `/ipfs/${CID}/inner-path` }, { timeoutMs: 20_000 })
    const outer = await node(1).ask({ type: 'ipns.publish', value: `/ipns/${inner.ipnsName}/mid` }, { timeoutMs: 20_000 })
    const r = await node(5).ask({ type: 'ipns.resolve', name: `/ipns/${outer.name}/tail`, nocache: true }, { timeoutMs: 15_000 })
    expect(r).toMatchObject({ value: `/ipfs/${CID}/inner-path/mid/tail`, hops: 2, source: 'dht' })
    const flat = await node(6).ask({ type: 'ipns.resolve', name: outer.name, recursive: false, nocache: true }, { timeoutMs: 15_000 })
    expect(flat).toMatchObject({ value: `/ipns/${inner.ipnsName}/mid`, hops: 1 })
  })

  it('a loop (a → b → a) fails with too-many-hops', async () => {
    const a = await node(2).ask({ type: 'key.generate', name: 'loop-a' })
    const b = await node(2).ask({ type: 'key.generate', name: 'loop-b' })
    await node(2).ask({ type: 'ipns.publish', key: 'loop-a', value: `/ipns/${b.ipnsName}` }, { timeoutMs: 20_000 })
    await node(2).ask({ type: 'ipns.publish', key: 'loop-b', value: `/ipns/${a.ipnsName}` }, { timeoutMs: 20_000 })
    const r = await timed(async () => await node(6).ask({ type: 'ipns.resolve', name: a.ipnsName }, { timeoutMs: 15_000 }))
    expect(r.error?.name).toBe('InvalidRecordError')
    expect((r.error as Error & { code?: string }).code).toBe('too-many-hops')
    timings.push(`loop detected in ${ms(r.ms)}`)
  })

  it('a name nobody published: NotFoundError when the query ends, well within the deadline', async () => {
    const nobody = nameFromPublicKey(generateEd25519Signer(new Uint8Array(32).fill(7)).publicKey).format('base36')
    const deadline = 10_000
    const r = await timedOnHost(async () => await node(8).ask({ type: 'ipns.resolve', name: nobody }, { timeoutMs: deadline }))
    expect(r.error?.name).toBe('NotFoundError')
    expect(r.ms).toBeLessThan(deadline - 250 + r.starvedMs)
    timings.push(`missing name: NotFoundError in ${ms(r.ms)} (host starvation ${ms(r.starvedMs)})`)
  })

  it('1,000 concurrent resolves of one uncached name: exactly one dht.getValues served by the swarm actor', async () => {
    const name = await selfName(node(0))
    const target = node(9)
    await quiet(target)
    const before = counters(await status(target), 'dht.getValues')
    const r = await timed(async () => await Promise.all(Array.from({ length: 1_000 }, async () => await target.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 20_000 }))))
    expect(r.error).toBeUndefined()
    const values = new Set((r.value ?? []).map(x => `${x.value}@${x.sequence}`))
    expect(values.size).toBe(1)
    await quiet(target)
    const after = counters(await status(target), 'dht.getValues')
    expect(after.served + after.failed - (before.served + before.failed)).toBe(1)
    const s = await ipnsStatus(target)
    expect(s.shared).toBeGreaterThanOrEqual(999)
    timings.push(`1,000 concurrent resolves of one name: ${ms(r.ms)}, ${after.served + after.failed - before.served - before.failed} dht.getValues`)
  })

  it('invalid, expired and lower-sequence records planted at peers are ignored and never returned', async () => {
    // three raw kad-dht servers that accept anything and serve what the test writes into their datastores
    for (let i = 0; i < 3; i++) {
      const ds = new MemoryDatastore()
      const port = await createLibp2pDhtPort({
        datastore: ds,
        privateKey: await ed25519KeyFromSeed(testSeed('ipns-planter', i)),
        transport: 'tcp',
        listen: ['/ip4/127.0.0.1/tcp/0'],
        loopback: true,
        validators: { ipns: () => {} },
        selectors: { ipns: () => 0 }
      })
      planters.push({ port, ds })
    }
    for (const x of n) {
      for (const p of planters) await x.ask({ type: 'swarm.dial', multiaddr: p.port.multiaddrs()[0] ?? '' }, { timeoutMs: 10_000 })
    }
    expect(await poll(async () => (await status(node(8))).routingTableSize >= n.length - 1 + planters.length, 15_000)).toBe(true)

    const signer = generateEd25519Signer(new Uint8Array(32).fill(99))
    const now = Date.now()
    const good = await createRecord(signer, '/ipfs/bafkqaaa/good', { now, sequence: 2 })
    const routingKey = good.name.toRoutingKey()
    const name = good.name.format('base36')
    expect((await node(0).ask({ type: 'dht.put', key: routingKey, value: good.bytes }, { timeoutMs: 20_000 })).peers).toBeGreaterThanOrEqual(5)

    // a higher sequence with a broken signature
    const forged = (await createRecord(signer, '/ipfs/bafkqaaa/forged', { now, sequence: 9 })).bytes.slice()
    const at = forged.findIndex((b, i) => b === 0x42 && forged[i + 1] === 64) // signatureV2: field 8, 64 bytes
    forged[at + 10] = (forged[at + 10] ?? 0) ^ 0xff
    // a higher sequence, correctly signed, that expired an hour ago
    const expired = (await createRecord(signer, '/ipfs/bafkqaaa/expired', { now: now - 49 * HOUR, lifetimeMs: 48 * HOUR, sequence: 10 })).bytes
    // a lower sequence, valid
    const lower = (await createRecord(signer, '/ipfs/bafkqaaa/lower', { now, sequence: 1 })).bytes
    const dsKey = new Key(`${DHT_RECORD_PREFIX}${bytesToString(routingKey, 'base32')}`, false)
    const planted = [forged, expired, lower]
    // (again before every resolve: a resolve's entry correction puts the good record to these permissive peers)
    const plant = async (): Promise<void> => {
      for (const [i, p] of planters.entries()) await p.ds.put(dsKey, new Libp2pRecord(routingKey, planted[i] as Uint8Array, new Date()).serialize())
    }
    await plant()

    // the planted records really are served: a kad-dht node that accepts anything gets them
    const seen = new Map<string, string>()
    const ac = new AbortController()
    const stop = setTimeout(() => { ac.abort() }, 10_000)
    try {
      for await (const v of planters[2]!.port.get(routingKey, { signal: ac.signal })) {
        seen.set(v.from, bytesToString(v.value, 'base64'))
        if (seen.has(planters[0]!.port.peerId) && seen.has(planters[1]!.port.peerId)) break
      }
    } finally {
      clearTimeout(stop)
      ac.abort()
    }
    expect(seen.get(planters[0]!.port.peerId)).toBe(bytesToString(forged, 'base64'))
    expect(seen.get(planters[1]!.port.peerId)).toBe(bytesToString(expired, 'base64'))
    await plant()

    const resolver = node(8)
    const verifies = async (): Promise<number> => (await status(resolver)).actors.find(a => a.name === 'verifier')?.commands['record.verify']?.served ?? 0
    const before = await ipnsStatus(resolver)
    const verifiedBefore = await verifies()
    const r = await resolver.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 15_000 })
    expect(r).toMatchObject({ value: '/ipfs/bafkqaaa/good', sequence: 2n, source: 'dht' })
    const after = await ipnsStatus(resolver)
    // the lower record reached the IPNS actor, which counted it and sent the best back (entry correction)
    expect((after.rejected.older ?? 0) - (before.rejected.older ?? 0)).toBe(1)
    expect(after.corrections - before.corrections).toBe(1)
    // two distinct valid records were verified by the IPNS actor (the good and the lower one): the forged and
    // the expired records were discarded by kad-dht's own ipns validator (our verifier) on receipt, so they
    // never reach the IPNS actor and are not in its `rejected` counts
    expect(await verifies() - verifiedBefore).toBe(2)
    // the planter with the lower record was corrected
    expect(await poll(async () => {
      const rec = Libp2pRecord.deserialize(await planters[2]!.ds.get(dsKey))
      return bytesToString(rec.value, 'base64') === bytesToString(good.bytes, 'base64')
    }, 10_000)).toBe(true)
    // and other resolvers get nothing but the good record either
    for (const i of [5, 7]) {
      await plant()
      expect(await node(i).ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 15_000 })).toMatchObject({ value: '/ipfs/bafkqaaa/good', sequence: 2n })
    }
  })

  it('peers stopped in the middle of a resolve do not stall it', async () => {
    // two more nodes join, receive a fresh record, and are stopped while others resolve it
    for (let i = 0; i < 2; i++) {
      const x = await createNode({ loopback: true, seed: SEED + 50 + i, bootstrap: [node(i).multiaddrs[0] ?? ''] })
      extra.push(x)
      for (const y of n.slice(2, 10)) await y.ask({ type: 'swarm.dial', multiaddr: x.multiaddrs[0] ?? '' }, { timeoutMs: 10_000 })
    }
    const p = await node(3).ask({ type: 'ipns.publish', value: `/ipfs/${CID}/stopped` }, { timeoutMs: 20_000 })
    const deadline = 15_000
    const resolves = [5, 6, 7].map(async i => await timedOnHost(async () => await node(i).ask({ type: 'ipns.resolve', name: p.name, nocache: true }, { timeoutMs: deadline })))
    await Promise.all(extra.map(async x => { await x.stop() }))
    const results = await Promise.all(resolves)
    for (const r of results) {
      expect(r.error).toBeUndefined()
      expect(r.value).toMatchObject({ value: `/ipfs/${CID}/stopped`, sequence: p.sequence })
      // well before the soft deadline (deadline - 250 ms) that would answer a stalled query
      expect(r.ms).toBeLessThan(deadline / 2 + r.starvedMs)
    }
    timings.push(`resolves with 2 peers stopped mid-way: ${results.map(r => `${ms(r.ms)} (host starvation ${ms(r.starvedMs)})`).join(', ')}`)
  })

  it('ipns:resolve:* progress reaches node.on(progress) for a real resolve', async () => {
    const name = await selfName(node(4))
    await node(4).ask({ type: 'ipns.publish', value: `/ipfs/${CID}/progress` }, { timeoutMs: 20_000 })
    const events: ProgressEvent[] = []
    const off = node(2).on('progress', e => { if (e.type.startsWith('ipns:')) events.push(e) })
    try {
      await node(2).ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 15_000 })
    } finally {
      off()
    }
    const types = events.map(e => e.type)
    // nocache: the query starts at once, beside the repo read (reading passes within the first step)
    expect(types[0]).toBe('ipns:resolve:querying')
    expect(types).toContain('ipns:resolve:done')
    expect(events.every(e => e.actor === 'ipns')).toBe(true)
  })
})

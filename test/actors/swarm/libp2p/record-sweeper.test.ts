/**
 * Expiry sweeps. The record sweeper (record-sweeper.ts) removes DHT value
 * records received too long ago, on the port's clock (a simulated one
 * here): fresh ones stay, old and undecodable ones go, nothing outside
 * /dht/record/ is touched, a run reads a bounded number of records. On a
 * live port (the amino profile's schedule) it runs on that clock too. And
 * kad-dht's reprovider, configured through the profile's `dht.reprovide`,
 * deletes a peer's expired provider record from a server's store (kad-dht
 * reads Date.now: a short validity on the real clock).
 */
import { Libp2pRecord } from '@libp2p/record'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, describe, expect, it } from 'vitest'
import { SimulatedClock } from '../../../../src/actors/runtime/clock.js'
import { RecordSweeper } from '../../../../src/actors/swarm/libp2p/record-sweeper.js'
import { resolveNetworkProfile } from '../../../../src/actors/swarm/libp2p/profiles.js'
import { recordKey } from '../../../../src/actors/swarm/libp2p/port-helpers.js'
import { startPort } from '../../../helpers/port-testnet.js'
import type { DhtPort } from '../../../../src/actors/swarm/dht-port.js'

const HOUR = 3_600_000
const WALL0 = 1_800_000_000_000
const enc = new TextEncoder()

async function putRecord (ds: MemoryDatastore, name: string, receivedAt: number): Promise<Key> {
  const key = enc.encode(`/swarmbus/${name}`)
  const dsKey = recordKey(key)
  await ds.put(dsKey, new Libp2pRecord(key, enc.encode(name), new Date(receivedAt)).serialize())
  return dsKey
}

/** lets the sweep a timer started run to its end */
async function settle (sweeper: RecordSweeper, runs: number): Promise<void> {
  for (let i = 0; i < 200 && sweeper.stats().runs < runs; i++) await new Promise(resolve => setImmediate(resolve))
}

const ports: DhtPort[] = []
afterEach(async () => { for (const p of ports.splice(0)) await p.stop() })

describe('the expired-record sweep', () => {
  it('removes records received longer ago than maxAge, and undecodable ones, on its schedule', async () => {
    const clock = new SimulatedClock(0, WALL0)
    const ds = new MemoryDatastore()
    const fresh = await putRecord(ds, 'fresh', WALL0 - HOUR)
    const old = await putRecord(ds, 'old', WALL0 - 49 * HOUR)
    const corrupt = new Key('/dht/record/CORRUPT')
    await ds.put(corrupt, enc.encode('not a record'))
    const other = new Key('/dht/provider/somekey')
    await ds.put(other, enc.encode('x'))
    const sweeper = new RecordSweeper(ds, clock, { intervalMs: HOUR, maxAgeMs: 48 * HOUR })
    sweeper.start()
    clock.advance(HOUR - 1)
    await settle(sweeper, 1)
    expect(sweeper.stats().runs).toBe(0)
    clock.advance(1)
    await settle(sweeper, 1)
    expect(sweeper.stats()).toMatchObject({ runs: 1, removed: 2, failed: 0, lastRunAt: WALL0 + HOUR })
    expect(await ds.has(fresh)).toBe(true)
    expect(await ds.has(old)).toBe(false)
    expect(await ds.has(corrupt)).toBe(false)
    expect(await ds.has(other)).toBe(true)
    // one sweep per interval, re-armed when the last one ends: a long jump of the clock is one sweep, not many
    clock.advance(48 * HOUR)
    await settle(sweeper, 2)
    expect(sweeper.stats()).toMatchObject({ runs: 2, removed: 2 })
    expect(await ds.has(fresh)).toBe(true)
    // the next one sees the fresh record 50 h old
    clock.advance(HOUR)
    await settle(sweeper, 3)
    expect(await ds.has(fresh)).toBe(false)
    expect(sweeper.stats()).toMatchObject({ runs: 3, removed: 3 })
    await sweeper.stop()
    clock.advance(10 * HOUR)
    expect(clock.nextTimerAt()).toBeUndefined()
  })

  it('reads at most maxPerSweep records a run, the rest on the next', async () => {
    const clock = new SimulatedClock(0, WALL0)
    const ds = new MemoryDatastore()
    for (let i = 0; i < 5; i++) await putRecord(ds, `old-${i}`, WALL0 - 100 * HOUR)
    const sweeper = new RecordSweeper(ds, clock, { intervalMs: 1_000, maxAgeMs: HOUR, maxPerSweep: 2 })
    expect(await sweeper.sweep()).toBe(2)
    expect(await sweeper.sweep()).toBe(2)
    expect(await sweeper.sweep()).toBe(1)
    expect(() => new RecordSweeper(ds, clock, { intervalMs: 0, maxAgeMs: 1 })).toThrow(RangeError)
  })

  it('runs inside a live port with the amino profile, on the port\'s clock, and shows in its status', async () => {
    const clock = new SimulatedClock(0, Date.now())
    const ds = new MemoryDatastore()
    const profile = resolveNetworkProfile({ profile: 'amino', tcpPort: 0, wsPort: false, autonat: false })
    const port = await startPort({ nodes: 1, label: 'sweep' }, 0, { datastore: ds, clock, profile })
    ports.push(port)
    const old = await putRecord(ds, 'stale', clock.wall() - 49 * HOUR)
    expect(port.status().network?.recordSweep).toMatchObject({ runs: 0, removed: 0 })
    clock.advance(HOUR)
    for (let i = 0; i < 200 && port.status().network?.recordSweep?.runs !== 1; i++) await new Promise(resolve => setImmediate(resolve))
    expect(port.status().network?.recordSweep).toMatchObject({ runs: 1, removed: 1 })
    expect(await ds.has(old)).toBe(false)
  })

  it('kad-dht\'s reprovider (dht.reprovide in the profile) deletes a peer\'s expired provider record', async () => {
    const profile = resolveNetworkProfile({ profile: 'local', dht: { reprovide: { interval: 300, validity: 4_000, threshold: 100, concurrency: 1 } } })
    const serverStore = new MemoryDatastore()
    const server = await startPort({ nodes: 2, label: 'reprovide' }, 0, { datastore: serverStore, profile })
    const provider = await startPort({ nodes: 2, label: 'reprovide' }, 1, { profile: resolveNetworkProfile('local') })
    ports.push(server, provider)
    const signal = new AbortController().signal
    await provider.dial(server.multiaddrs()[0] ?? '', { signal })
    for (let i = 0; i < 100 && provider.status().routingTableSize === 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
    const cid = CID.createV1(0x55, await sha256.digest(enc.encode('provided')))
    expect((await provider.provide(cid.toString(), { signal })).peers).toBeGreaterThan(0)
    const held = async (): Promise<number> => {
      let n = 0
      for await (const e of serverStore.query({ prefix: '/dht/provider/' })) if (!e.key.toString().includes(server.peerId)) n++
      return n
    }
    // the server writes it as the ADD_PROVIDER arrives: wait for it (bounded), well inside its 4 s validity
    for (let i = 0; i < 40 && await held() === 0; i++) await new Promise(resolve => setTimeout(resolve, 25))
    expect(await held()).toBe(1)
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline && await held() > 0) await new Promise(resolve => setTimeout(resolve, 100))
    expect(await held()).toBe(0)
  })
})

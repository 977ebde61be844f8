/**
 * Contract: ipns-dht.ts (the lower-sequence guard, DHT_RECORD_PREFIX) and the
 * port's own record reads and writes (recordKey in libp2p-dht-port.ts) rely
 * on where and how kad-dht keeps records: libp2p's `datastore`, key
 * `/dht/record/<base32 of the record key>`, value a serialized Libp2pRecord;
 * its PUT_VALUE handler writes with `datastore.put` (so a wrapper sees every
 * write) and its GET_VALUE handler reads the same key. Written against
 * @libp2p/kad-dht 16.4.5 (and libp2p 3.3.11, which hands kad-dht the
 * datastore it was given).
 */
import { Libp2pRecord } from '@libp2p/record'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { toString as bytesToString } from 'uint8arrays/to-string'
import { afterEach, describe, expect, it } from 'vitest'
import { DHT_RECORD_PREFIX } from '../../src/actors/swarm/libp2p/ipns-dht.js'
import { key, startNode, stopNodes, until, writtenAgainst } from './support.js'
import type { Datastore } from 'interface-datastore'

afterEach(stopNodes)

/** a MemoryDatastore that notes the key of every put */
function recording (): { store: Datastore, inner: MemoryDatastore, puts: string[] } {
  const inner = new MemoryDatastore()
  const puts: string[] = []
  const store = new Proxy(inner, {
    get (target, prop, receiver) {
      if (prop === 'put') return async (k: Key, v: Uint8Array, o?: unknown) => { puts.push(k.toString()); return await target.put(k, v, o as undefined) }
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    }
  })
  return { store, inner, puts }
}

describe('contract: kad-dht record layout (ipns-dht.ts, libp2p-dht-port.ts)', () => {
  it('@libp2p/kad-dht is 16.4.5, libp2p 3.3.11', () => {
    writtenAgainst('@libp2p/kad-dht', '16.4.5')
    writtenAgainst('libp2p', '3.3.11')
  })

  it('PUT_VALUE is stored with datastore.put at /dht/record/<base32 key>; GET_VALUE answers from that key', async () => {
    const server = recording()
    const s = await startNode('ds', 0, { datastore: server.store })
    const c = await startNode('ds', 1)
    await c.dial(s.getMultiaddrs())
    expect(await until(() => (c.services.dht as unknown as { routingTable: { size: number } }).routingTable.size === 1)).toBe(true)

    const k = key('layout')
    const where = `${DHT_RECORD_PREFIX}${bytesToString(k, 'base32')}`
    expect(DHT_RECORD_PREFIX).toBe('/dht/record/')
    const value = new TextEncoder().encode('put through kad-dht')
    for await (const _ of c.services.dht.put(k, value, { signal: AbortSignal.timeout(15_000) })) { /* events */ }
    // the server's PUT_VALUE handler wrote through the datastore object libp2p was given
    expect(server.puts).toContain(where)
    const stored = Libp2pRecord.deserialize(await server.inner.get(new Key(where, false)))
    expect(stored.key).toEqual(k)
    expect(stored.value).toEqual(value)

    // a record written at that key is what the server's GET_VALUE handler answers with
    const planted = new TextEncoder().encode('planted in the datastore')
    await server.inner.put(new Key(where, false), new Libp2pRecord(k, planted, new Date()).serialize())
    const seen: string[] = []
    for await (const e of c.services.dht.get(k, { signal: AbortSignal.timeout(15_000) })) {
      // the server's GET_VALUE answer, as kad-dht reports it
      if (e.name === 'PEER_RESPONSE' && e.from.equals(s.peerId) && e.record != null) seen.push(new TextDecoder().decode(e.record.value))
    }
    expect(seen).toContain('planted in the datastore')
  }, 60_000)
})

/**
 * The direct value lookup against a fake network: every peer's answer (a
 * record or not, the peers it knows closer to the key) is computed from one
 * list of peers sorted by distance, as a converged Kademlia network would
 * answer; requests are resolved by the test, so what is in flight when is
 * seen exactly.
 */
import { describe, expect, it } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ed25519KeyFromSeed } from '../../../../src/actors/swarm/libp2p/libp2p-options.js'
import { compareDistance, kadId, LOOKUP_K, lookupValues } from '../../../../src/actors/swarm/dht-client/value-lookup.js'
import type { DhtGetValue, DhtProgress } from '../../../../src/actors/swarm/dht-port.js'
import type { GetValueAnswer } from '../../../../src/actors/swarm/dht-client/kad-rpc.js'
import type { PeerId } from '@libp2p/interface'

const enc = new TextEncoder()
const dec = new TextDecoder()
const KEY = enc.encode('/t/some-name')
const TARGET = kadId(KEY)

async function peers (n: number, base = 0): Promise<PeerId[]> {
  const out: PeerId[] = []
  for (let i = 0; i < n; i++) {
    const seed = new Uint8Array(32)
    new DataView(seed.buffer).setUint32(0, base + i + 1)
    out.push(peerIdFromPrivateKey(await ed25519KeyFromSeed(seed)))
  }
  return out
}

const byDistance = (list: PeerId[]): PeerId[] =>
  [...list].sort((a, b) => compareDistance(TARGET, kadId(a.toMultihash().bytes), kadId(b.toMultihash().bytes)))

interface Call { peer: string, answer: (a: GetValueAnswer) => void, fail: (e: Error) => void, signal: AbortSignal }

/** an rpc whose requests the test answers by hand */
function manualRpc (): { calls: Call[], rpc: (peer: PeerId, addrs: unknown[], key: Uint8Array, signal: AbortSignal) => Promise<GetValueAnswer> } {
  const calls: Call[] = []
  return {
    calls,
    rpc: async (peer, _addrs, _key, signal) => await new Promise<GetValueAnswer>((resolve, reject) => {
      calls.push({ peer: peer.toString(), answer: resolve, fail: reject, signal })
      signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
    })
  }
}

/** a converged network: everybody knows everybody; `holders` have the record ('bad' holders an invalid one) */
function networkRpc (all: PeerId[], holders: Set<string>, bad = new Set<string>(), down = new Set<string>()): {
  asked: string[]
  rpc: (peer: PeerId) => Promise<GetValueAnswer>
} {
  const sorted = byDistance(all)
  const asked: string[] = []
  return {
    asked,
    rpc: async peer => {
      asked.push(peer.toString())
      await Promise.resolve()
      if (down.has(peer.toString())) throw Object.assign(new Error('connection refused'), { name: 'DialError' })
      const closer = sorted.filter(p => !p.equals(peer)).slice(0, LOOKUP_K).map(p => ({ id: p.toMultihash().bytes, multiaddrs: [] }))
      const name = peer.toString()
      if (bad.has(name)) return { record: enc.encode('invalid'), closer }
      if (holders.has(name)) return { record: enc.encode(`value-from-${name}`), closer }
      return { closer }
    }
  }
}

const validate = async (record: Uint8Array): Promise<Uint8Array> => {
  if (dec.decode(record) === 'invalid') throw Object.assign(new Error('bad signature'), { name: 'InvalidRecordError' })
  return record
}

async function collect (source: AsyncIterable<DhtGetValue>): Promise<DhtGetValue[]> {
  const out: DhtGetValue[] = []
  for await (const v of source) out.push(v)
  return out
}

describe('lookupValues', () => {
  it('keeps `width` requests in flight, closest first, and streams each value as it arrives', async () => {
    const [self, ...others] = await peers(13)
    const sorted = byDistance(others)
    const { calls, rpc } = manualRpc()
    const values: DhtGetValue[] = []
    const run = (async () => {
      for await (const v of lookupValues({ key: KEY, self: self as PeerId, start: others, rpc, validate, dialable: () => [], signal: AbortSignal.timeout(5_000), width: 3 })) values.push(v)
    })()
    await new Promise(resolve => setImmediate(resolve))
    expect(calls.map(c => c.peer)).toEqual(sorted.slice(0, 3).map(p => p.toString()))
    // one answers with a value: it is streamed at once, and the next-closest peer is asked
    calls[0]?.answer({ record: enc.encode('v1'), closer: [] })
    await new Promise(resolve => setImmediate(resolve))
    expect(values.map(v => dec.decode(v.value))).toEqual(['v1'])
    expect(values[0]?.from).toBe(sorted[0]?.toString())
    expect(calls).toHaveLength(4)
    expect(calls[3]?.peer).toBe(sorted[3]?.toString())
    // a failure also makes room
    calls[1]?.fail(new Error('reset'))
    await new Promise(resolve => setImmediate(resolve))
    expect(calls).toHaveLength(5)
    // answer everything that comes until the lookup ends
    for (let i = 2; i < 40; i++) {
      await new Promise(resolve => setImmediate(resolve))
      const c = calls[i]
      if (c === undefined) break
      c.answer({ closer: [] })
    }
    await run
    expect(calls).toHaveLength(others.length)
    expect(new Set(calls.map(c => c.peer)).size).toBe(others.length)
  })

  it('walks toward the key through peers named in answers when it starts far away', async () => {
    const [self, ...all] = await peers(61)
    const sorted = byDistance(all)
    const closest = new Set(sorted.slice(0, 5).map(p => p.toString()))
    const net = networkRpc(all, closest)
    // the routing table only knows the 10 farthest peers
    const start = sorted.slice(-10)
    const values = await collect(lookupValues({ key: KEY, self: self as PeerId, start, rpc: net.rpc, validate, dialable: () => [], signal: AbortSignal.timeout(5_000), width: 4 }))
    expect(new Set(values.map(v => v.from))).toEqual(closest)
    // it converged: the k closest were all asked, and the far start peers did not drag it to 60 requests
    for (const p of sorted.slice(0, LOOKUP_K)) expect(net.asked).toContain(p.toString())
    expect(net.asked.length).toBeLessThanOrEqual(LOOKUP_K + 10)
  })

  it('never yields an invalid record, reports it, and ends when the k closest answered', async () => {
    const [self, ...all] = await peers(30)
    const sorted = byDistance(all)
    const good = new Set([sorted[0]?.toString() as string])
    const bad = new Set([sorted[1]?.toString() as string])
    const down = new Set([sorted[2]?.toString() as string])
    const net = networkRpc(all, good, bad, down)
    const progress: DhtProgress[] = []
    const values = await collect(lookupValues({ key: KEY, self: self as PeerId, start: all, rpc: net.rpc, validate, dialable: () => [], signal: AbortSignal.timeout(5_000), onProgress: e => progress.push(e) }))
    expect(values.map(v => v.from)).toEqual([...good])
    expect(progress.filter(e => e.type === 'kad-dht:query:query-error').map(e => e.peer).sort()).toEqual([...bad, ...down].sort())
    expect(progress.filter(e => e.type === 'kad-dht:query:value')).toHaveLength(1)
    // the failed peer does not count among the k closest: the 21st is asked in its place
    expect(new Set(net.asked)).toEqual(new Set(sorted.slice(0, LOOKUP_K + 1).map(p => p.toString())))
  })

  it('a key nobody holds ends with no values, having asked at most maxQueries peers', async () => {
    const [self, ...all] = await peers(40)
    const net = networkRpc(all, new Set())
    const values = await collect(lookupValues({ key: KEY, self: self as PeerId, start: all, rpc: net.rpc, validate, dialable: () => [], signal: AbortSignal.timeout(5_000), maxQueries: 7, width: 3 }))
    expect(values).toEqual([])
    expect(net.asked).toHaveLength(7)
  })

  it('never asks itself, even when an answer names it', async () => {
    const [self, ...all] = await peers(8)
    const net = networkRpc([self as PeerId, ...all], new Set())
    await collect(lookupValues({ key: KEY, self: self as PeerId, start: [self as PeerId, ...all], rpc: net.rpc, validate, dialable: () => [], signal: AbortSignal.timeout(5_000) }))
    expect(net.asked).not.toContain(self?.toString())
    expect(net.asked).toHaveLength(all.length)
  })

  it('an abort ends the lookup at once and reaches every open request', async () => {
    const [self, ...others] = await peers(6)
    const { calls, rpc } = manualRpc()
    const controller = new AbortController()
    const run = collect(lookupValues({ key: KEY, self: self as PeerId, start: others, rpc, validate, dialable: () => [], signal: controller.signal, width: 4 }))
    await new Promise(resolve => setImmediate(resolve))
    expect(calls).toHaveLength(4)
    controller.abort(Object.assign(new Error('deadline'), { name: 'AbortError' }))
    await expect(run).rejects.toThrow('deadline')
    expect(calls.every(c => c.signal.aborted)).toBe(true)
  })

  it('values: asks no more peers than values still wanted, replaces only answers without one, then ends', async () => {
    const [self, ...others] = await peers(31)
    const sorted = byDistance(others)
    // every peer holds the record but the 2nd and 4th closest
    const holders = new Set(sorted.filter((_, i) => i !== 1 && i !== 3).map(p => p.toString()))
    const net = networkRpc(others, holders)
    const values = await collect(lookupValues({ key: KEY, self: self as PeerId, start: others, rpc: net.rpc, validate, dialable: () => [], signal: AbortSignal.timeout(5_000), width: 5, values: 5 }))
    expect(values).toHaveLength(5)
    // 5 holders among the 7 closest: exactly those 7 were asked
    expect(new Set(net.asked)).toEqual(new Set(sorted.slice(0, 7).map(p => p.toString())))
    expect(net.asked).toHaveLength(7)
  })

  it('values: requests still open when enough values are in are aborted', async () => {
    const [self, ...others] = await peers(10)
    const { calls, rpc } = manualRpc()
    const run = collect(lookupValues({ key: KEY, self: self as PeerId, start: others, rpc, validate, dialable: () => [], signal: AbortSignal.timeout(5_000), width: 3, values: 2 }))
    await new Promise(resolve => setImmediate(resolve))
    // at most `values` requests go out although width allows 3
    expect(calls).toHaveLength(2)
    calls[0]?.answer({ record: enc.encode('a'), closer: [] })
    await new Promise(resolve => setImmediate(resolve))
    calls[1]?.answer({ closer: [] })
    await new Promise(resolve => setImmediate(resolve))
    expect(calls).toHaveLength(3)
    calls[2]?.answer({ record: enc.encode('b'), closer: [] })
    expect((await run).map(v => dec.decode(v.value))).toEqual(['a', 'b'])
    expect(calls).toHaveLength(3)
  })
})

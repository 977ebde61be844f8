/**
 * kad-rpc: the DHT message codec (protons, from src/actors/swarm/dht-client/pb/dht.proto)
 * and the per-peer gate. A real GET_VALUE against kad-dht servers is in
 * libp2p-dht-port.test.ts (and against Helia's in test/interop).
 */
import { describe, expect, it } from 'vitest'
import { Message, MessageType } from '../../../../src/actors/swarm/dht-client/pb/dht.js'
import { PeerGate } from '../../../../src/actors/swarm/dht-client/kad-rpc.js'

const enc = new TextEncoder()

describe('DHT message codec', () => {
  it('round-trips a GET_VALUE answer with a record and closer peers', () => {
    const m: Message = { type: MessageType.GET_VALUE, key: enc.encode('/ipns/k'), record: enc.encode('rec'), closer: [{ id: enc.encode('peer'), multiaddrs: [enc.encode('a1'), enc.encode('a2')] }] }
    expect(Message.decode(Message.encode(m))).toEqual(m)
  })

  it('encodes a request with the protocol\'s field numbers (type = 1, key = 2)', () => {
    // 08 01: field 1 varint GET_VALUE; 12 03 'a' 'b' 'c': field 2, 3 bytes
    expect([...Message.encode({ type: MessageType.GET_VALUE, key: enc.encode('abc'), closer: [] })]).toEqual([0x08, 0x01, 0x12, 0x03, 0x61, 0x62, 0x63])
  })

  it('skips fields it does not read (providers = 9, clusterLevel = 10)', () => {
    const withExtras = new Uint8Array([0x08, 0x01, 0x50, 0x07, 0x4a, 0x02, 0x0a, 0x00, 0x1a, 0x01, 0x78])
    const m = Message.decode(withExtras)
    expect(m.type).toBe(MessageType.GET_VALUE)
    expect(m.record).toEqual(enc.encode('x'))
  })
})

describe('PeerGate', () => {
  const signal = (): AbortSignal => new AbortController().signal

  it('lets `perPeer` run per peer, queues the rest in order, other peers unaffected', async () => {
    const gate = new PeerGate(2, 10)
    const order: string[] = []
    const releases: Array<() => void> = []
    const job = (name: string): () => Promise<void> => async () => {
      order.push(name)
      await new Promise<void>(resolve => releases.push(resolve))
    }
    const runs = ['a1', 'a2', 'a3', 'a4'].map(async n => { await gate.run('A', signal(), job(n)) })
    const other = gate.run('B', signal(), job('b1'))
    await new Promise(resolve => setImmediate(resolve))
    expect(order).toEqual(['a1', 'a2', 'b1'])
    expect(gate.counts()).toEqual({ open: 3, waiting: 2 })
    releases.shift()?.()
    await new Promise(resolve => setImmediate(resolve))
    expect(order).toEqual(['a1', 'a2', 'b1', 'a3'])
    while (releases.length > 0) {
      releases.shift()?.()
      await new Promise(resolve => setImmediate(resolve))
    }
    await Promise.all([...runs, other])
    expect(order).toEqual(['a1', 'a2', 'b1', 'a3', 'a4'])
    expect(gate.counts()).toEqual({ open: 0, waiting: 0 })
  })

  it('a waiter whose signal fires leaves the queue; a full queue refuses with OverloadedError', async () => {
    const gate = new PeerGate(1, 2)
    let release = (): void => {}
    const first = gate.run('A', signal(), async () => { await new Promise<void>(resolve => { release = resolve }) })
    const controller = new AbortController()
    const aborted = gate.run('A', controller.signal, async () => 'never')
    const waiting = gate.run('A', signal(), async () => 'ran')
    await expect(gate.run('A', signal(), async () => 'x')).rejects.toMatchObject({ name: 'OverloadedError' })
    controller.abort(new Error('gone'))
    await expect(aborted).rejects.toThrow('gone')
    expect(gate.counts()).toEqual({ open: 1, waiting: 1 })
    release()
    await first
    await expect(waiting).resolves.toBe('ran')
    expect(gate.counts()).toEqual({ open: 0, waiting: 0 })
  })

  it('a work that throws still frees its slot', async () => {
    const gate = new PeerGate(1, 1)
    await expect(gate.run('A', signal(), async () => { throw new Error('boom') })).rejects.toThrow('boom')
    await expect(gate.run('A', signal(), async () => 1)).resolves.toBe(1)
  })
})

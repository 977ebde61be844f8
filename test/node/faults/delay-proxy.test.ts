/**
 * The delay proxy in front of a testnet node: one-way delay ± jitter with
 * order kept, stalls, freeze (open but silent) and thaw, severing chosen
 * connections, backpressure instead of unbounded buffers; and the partition
 * table and gater.
 */
import net from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { checkDelay, DelayProxy, MAX_LANE_BYTES } from '../../../src/node/faults/delay-proxy.js'
import { PartitionTable, partitionGater, REST_GROUP } from '../../../src/node/faults/partition.js'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** an echo server; the proxy in front of it, with delay */
async function setup (latencyMs = 0, jitterMs = 0): Promise<{ proxy: DelayProxy, server: net.Server, accepted: net.Socket[] }> {
  const accepted: net.Socket[] = []
  const server = net.createServer(s => { accepted.push(s); s.on('error', () => { s.destroy() }); s.pipe(s) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const proxy = new DelayProxy({ latencyMs, jitterMs, seed: 7 })
  await proxy.listen()
  proxy.setTarget((server.address() as net.AddressInfo).port)
  cleanup.push(async () => { await proxy.close() }, async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }) }) })
  return { proxy, server, accepted }
}

async function dial (port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', noDelay: true })
  s.on('error', () => { s.destroy() })
  await new Promise<void>(resolve => s.once('connect', resolve))
  cleanup.push(() => { s.destroy() })
  return s
}

/** writes `text`, waits until the same bytes came back; the time taken */
async function roundTrip (s: net.Socket, text: string): Promise<number> {
  const t0 = performance.now()
  let got = ''
  await new Promise<void>(resolve => {
    const onData = (d: Buffer): void => {
      got += d.toString()
      if (got.length >= text.length) { s.off('data', onData); resolve() }
    }
    s.on('data', onData)
    s.write(text)
  })
  expect(got).toBe(text)
  return performance.now() - t0
}

describe('DelayProxy', () => {
  it('delays each chunk by latency ± jitter each way, keeping the order', async () => {
    const { proxy } = await setup(40, 10)
    const s = await dial(proxy.port)
    const times: number[] = []
    for (let k = 0; k < 5; k++) times.push(await roundTrip(s, `ping ${k}`))
    // the echo crosses the proxy twice: 2 × (30…50 ms)
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(59)
      expect(t).toBeLessThan(250)
    }
    // many small writes at once still arrive in order
    const text = Array.from({ length: 200 }, (_, k) => `<${k}>`).join('')
    let got = ''
    const done = new Promise<void>(resolve => { s.on('data', d => { got += d.toString(); if (got.length >= text.length) resolve() }) })
    for (let k = 0; k < 200; k++) s.write(`<${k}>`)
    await done
    expect(got).toBe(text)
    expect(proxy.connections).toBe(1)
  })

  it('changes its delay on the fly', async () => {
    const { proxy } = await setup(0)
    const s = await dial(proxy.port)
    expect(await roundTrip(s, 'fast')).toBeLessThan(40)
    proxy.setDelay({ latencyMs: 50 })
    expect(await roundTrip(s, 'slow')).toBeGreaterThanOrEqual(99)
    expect(() => { proxy.setDelay({ latencyMs: 10, jitterMs: 20 }) }).toThrow(RangeError)
    expect(checkDelay({})).toEqual({ latencyMs: 0, jitterMs: 0 })
  })

  it('stalls: nothing moves for the stall, then everything that waited arrives', async () => {
    const { proxy } = await setup(0)
    const s = await dial(proxy.port)
    proxy.stall(300)
    const t = await roundTrip(s, 'after the stall')
    expect(t).toBeGreaterThanOrEqual(280)
    expect(t).toBeLessThan(1_500)
  })

  it('freezes: connections stay open, nothing moves, new connections hang; thaw delivers', async () => {
    const { proxy } = await setup(0)
    const s = await dial(proxy.port)
    await roundTrip(s, 'warm')
    proxy.freeze()
    let got = ''
    let closed = false
    s.on('data', d => { got += d.toString() })
    s.on('close', () => { closed = true })
    s.write('into the void')
    const late = await dial(proxy.port) // accepted, but silent
    let lateGot = ''
    late.on('data', d => { lateGot += d.toString() })
    late.write('late')
    await new Promise(resolve => setTimeout(resolve, 400))
    expect(got).toBe('')
    expect(lateGot).toBe('')
    expect(closed).toBe(false)
    expect(s.destroyed).toBe(false)
    proxy.thaw()
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(got).toBe('into the void')
    expect(lateGot).toBe('late')
  })

  it('severs the connections whose upstream port it is given, and only those', async () => {
    const { proxy, accepted } = await setup(0)
    const a = await dial(proxy.port)
    const b = await dial(proxy.port)
    await roundTrip(a, 'a')
    await roundTrip(b, 'b')
    expect(proxy.upstreamPorts()).toHaveLength(2)
    // the server sees each connection as coming from the proxy's upstream port
    const first = accepted[0]!.remotePort!
    expect(proxy.upstreamPorts()).toContain(first)
    const closedA = new Promise<void>(resolve => a.once('close', () => { resolve() }))
    const closedB = new Promise<void>(resolve => b.once('close', () => { resolve() }))
    expect(proxy.sever(new Set([first]))).toBe(1)
    await Promise.race([closedA, closedB])
    const alive = a.destroyed ? b : a
    expect(await roundTrip(alive, 'still here')).toBeLessThan(1_000)
    expect(proxy.connections).toBe(1)
  })

  it('pushes back on a fast sender instead of buffering without bound', async () => {
    // a sink that never reads: what the proxy holds for it stays near its bound
    const held: net.Socket[] = []
    const sink = net.createServer(s => { held.push(s); s.on('error', () => { s.destroy() }); s.pause() })
    await new Promise<void>(resolve => sink.listen(0, '127.0.0.1', resolve))
    cleanup.push(async () => { await new Promise<void>(resolve => { sink.close(() => { resolve() }) }) }, () => { for (const h of held) h.destroy() })
    const proxy = new DelayProxy({ latencyMs: 5 })
    await proxy.listen()
    proxy.setTarget((sink.address() as net.AddressInfo).port)
    cleanup.push(async () => { await proxy.close() })
    const s = await dial(proxy.port)
    const chunk = Buffer.alloc(64 * 1024)
    let written = 0
    // write until the socket's own buffer is full many times over
    for (let k = 0; k < 400 && written < 64 * MAX_LANE_BYTES; k++) {
      s.write(chunk)
      written += chunk.length
      if (s.writableLength > 8 * MAX_LANE_BYTES) break
    }
    await new Promise(resolve => setTimeout(resolve, 500))
    // kernel buffers on both sides hold some; the proxy at most about 1 MiB more: the rest waits in the sender
    expect(proxy.bytes).toBeLessThan(written)
    expect(s.writableLength).toBeGreaterThan(0)
  })
})

describe('partitions', () => {
  const id = async (): Promise<string> => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const ids = { a: '', b: '', c: '' }
  beforeAll(async () => { ids.a = await id(); ids.b = await id(); ids.c = await id() })

  it('separates groups; nodes in no group are the rest; healing joins them', () => {
    const t = new PartitionTable()
    expect(t.separated(ids.a, ids.b)).toBe(false)
    t.set({ [ids.a]: 0, [ids.b]: 1 })
    expect(t.active).toBe(true)
    expect(t.separated(ids.a, ids.b)).toBe(true)
    expect(t.groupOf(ids.c)).toBe(REST_GROUP)
    expect(t.separated(ids.a, ids.c)).toBe(true)
    t.set(undefined)
    expect(t.separated(ids.a, ids.b)).toBe(false)
  })

  it('the gater refuses dials and connections across groups, and nothing while its node starts', async () => {
    const t = new PartitionTable()
    const me: { id?: string } = {}
    const gater = partitionGater(t, () => me.id)
    t.set({ [ids.a]: 0, [ids.b]: 1, [ids.c]: 0 })
    expect(await gater.denyDialPeer?.(peerIdFromString(ids.b))).toBe(false) // self unknown yet
    me.id = ids.a
    expect(await gater.denyDialPeer?.(peerIdFromString(ids.b))).toBe(true)
    expect(await gater.denyDialPeer?.(peerIdFromString(ids.c))).toBe(false)
    expect(await gater.denyInboundEncryptedConnection?.(peerIdFromString(ids.b), {} as never)).toBe(true)
    t.set(undefined)
    expect(await gater.denyDialPeer?.(peerIdFromString(ids.b))).toBe(false)
  })
})

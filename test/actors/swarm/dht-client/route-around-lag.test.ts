/**
 * A stall is judged after the answers that have arrived are read: when this
 * process runs late (its event loop held up, as on a busy machine), the
 * stall timer that came due meanwhile fires before the socket with the
 * answer is read, and the request must not count as stalled. Real clock,
 * real loopback socket: the peer writes its answer 100 ms in and the test
 * then holds the event loop until well past the 200 ms stall time.
 */
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ed25519KeyFromSeed } from '../../../../src/actors/swarm/libp2p/libp2p-options.js'
import { RealClock } from '../../../../src/platform/real-clock.js'
import { RouteAroundState } from '../../../../src/actors/swarm/dht-client/route-around.js'
import { lookupValues } from '../../../../src/actors/swarm/dht-client/value-lookup.js'
import type { GetValueAnswer } from '../../../../src/actors/swarm/dht-client/kad-rpc.js'
import type { PeerId } from '@libp2p/interface'

async function peer (i: number): Promise<PeerId> {
  const seed = new Uint8Array(32)
  new DataView(seed.buffer).setUint32(0, 9_100 + i)
  return peerIdFromPrivateKey(await ed25519KeyFromSeed(seed))
}

describe('route-around on a late event loop', () => {
  it('an answer that arrived while the loop was held is read before the stall is judged', async () => {
    const [self, a, b] = await Promise.all([peer(0), peer(1), peer(2)])
    const state = new RouteAroundState(new RealClock())
    // one answer time of 50 ms seen: the stall time is 200 ms (the floor)
    state.liveness.opened(a)
    state.liveness.closed(a, 50)
    expect(state.forWalk().stallMs).toBe(200)

    const server = net.createServer(socket => {
      socket.once('data', () => {
        // after the poll phase (setImmediate), as when the process is not
        // scheduled: the next turn of the loop starts with the timers
        // that came due meanwhile, before any socket is read
        setTimeout(() => {
          setImmediate(() => {
            socket.write('answer')
            // the process now runs late: nothing is read until 450 ms after the write
            const until = performance.now() + 450
            while (performance.now() < until) { /* held */ }
          })
        }, 100)
      })
    })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    const port = (server.address() as net.AddressInfo).port
    const asked: string[] = []
    try {
      const rpc = state.track<GetValueAnswer>(async (p, _addrs, _key, signal, phase) => {
        asked.push(p.toString())
        if (!p.equals(a)) return await new Promise<GetValueAnswer>((_resolve, reject) => { signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true }) })
        const socket = net.connect(port, '127.0.0.1')
        try {
          await new Promise<void>(resolve => { socket.once('connect', resolve) })
          socket.write('request')
          phase?.('sent')
          await new Promise<void>(resolve => { socket.once('data', () => { resolve() }) })
          return { record: new TextEncoder().encode('v'), closer: [] }
        } finally {
          socket.destroy()
        }
      })
      const values: string[] = []
      for await (const v of lookupValues({ key: new TextEncoder().encode('/t/lag'), self, start: [a, b], rpc, validate: async r => r, dialable: () => [], signal: AbortSignal.timeout(5_000), width: 1, values: 1, routeAround: state.forWalk() })) values.push(v.from)
      expect(values).toEqual([a.toString()])
      // the stall timer came due while the loop was held; the answer was there when it fired
      expect(state.stats().stalls).toBe(0)
      expect(asked).toEqual([a.toString()])
    } finally {
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  })
})

/**
 * The swarm actor on a real network-thread port (dist/ worker) in a loopback
 * TCP testnet of 3 direct peers: the worker is killed while an ask waits on
 * it; the ask fails at once with a typed failure naming the dead thread (its
 * cause kept), the actor crashes into its supervisor, which restarts it on a
 * new worker built by createPort, and the next asks (a bootstrap: a fresh
 * node joins when asked, as at the first start; a put and a get) succeed.
 */
import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import type { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { ActorSystem } from '../../../../src/actors/runtime/system.js'
import { swarmActor } from '../../../../src/actors/swarm/swarm-actor.js'
import { ed25519KeyFromSeed } from '../../../../src/actors/swarm/libp2p/libp2p-dht-port.js'
import { defaultSelectors, defaultValidators } from '../../../../src/actors/swarm/libp2p/namespaces.js'
import { LOCAL_PROFILE } from '../../../../src/actors/swarm/libp2p/profiles.js'
import { createThreadDhtPort } from '../../../../src/actors/swarm/thread/thread-port.js'
import { systemActor } from '../../../../src/actors/system/system-actor.js'
import { FailedError } from '../../../../src/messages/errors.js'
import { RealClock } from '../../../../src/platform/real-clock.js'
import type { DhtPort } from '../../../../src/actors/swarm/dht-port.js'
import type { NetworkThreadConfig } from '../../../../src/actors/swarm/thread/thread-protocol.js'
import { realClock, startPortTestnet, testSeed } from '../../../helpers/port-testnet.js'
import type { PortTestnet } from '../../../helpers/port-testnet.js'
import { rejection } from '../../../helpers/sim.js'

const LABEL = 'thread-restart'
const enc = new TextEncoder()
const dec = new TextDecoder()

describe('the swarm actor on a network thread that dies', () => {
  let net: PortTestnet
  let system: ActorSystem | undefined
  const workers: Worker[] = []
  // a listener that accepts and never speaks: a dial to it waits in the handshake
  const sockets = new Set<Socket>()
  const hole = createServer(s => { sockets.add(s); s.on('error', () => {}) })
  let holePort = 0

  beforeAll(async () => {
    net = await startPortTestnet({ nodes: 3, label: LABEL, transport: 'tcp', validators: defaultValidators(), selectors: defaultSelectors(), mesh: { timeoutMs: 30_000 } })
    await new Promise<void>(resolve => hole.listen(0, '127.0.0.1', resolve))
    const a = hole.address()
    if (a === null || typeof a === 'string') throw new Error('no port')
    holePort = a.port
  })

  afterAll(async () => {
    await system?.stop()
    await net?.stop()
    for (const s of sockets) s.destroy()
    await new Promise<void>(resolve => hole.close(() => { resolve() }))
  })

  it('fails the waiting ask with the thread\'s failure, restarts on a new worker, and serves the next asks', async () => {
    const config: NetworkThreadConfig = {
      privateKey: privateKeyToProtobuf(await ed25519KeyFromSeed(testSeed(LABEL, 10))),
      transport: 'tcp',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      profile: LOCAL_PROFILE,
      loopback: true,
      bootstrap: net.ports.map(p => p.multiaddrs()[0] ?? '')
    }
    const makePort = async (): Promise<DhtPort> => await createThreadDhtPort(config, { onWorker: w => { workers.push(w) } })
    const port = await makePort()
    system = new ActorSystem({ clock: new RealClock(), seed: 1 })
    system.spawn(systemActor())
    system.spawn(swarmActor({ port, createPort: makePort }))
    const boot = await system.ask({ type: 'swarm.bootstrap' }, { timeoutMs: 15_000 })
    expect(boot.connected).toBe(3)

    // a dial to a peer nobody runs, on an address that never answers: it waits in the worker
    const waiting = system.ask({ type: 'swarm.dial', multiaddr: `/ip4/127.0.0.1/tcp/${holePort}/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo` }, { timeoutMs: 20_000 })
    const until = realClock.now() + 5_000
    while (sockets.size === 0 && realClock.now() < until) await realClock.wait(20)
    expect(sockets.size).toBe(1)
    const t0 = realClock.now()
    await workers[0]?.terminate()
    const err = await rejection(waiting)
    expect(realClock.now() - t0).toBeLessThan(2_000)
    expect(err).toBeInstanceOf(FailedError)
    expect(err.message).toMatch(/network thread died/)
    expect((err.cause as Error | undefined)?.message).toMatch(/exited with code/)

    // restarted on a new worker: the next asks are held, then served by it (a fresh libp2p node
    // joins only when asked to, as at the first start)
    const again = await system.ask({ type: 'swarm.bootstrap' }, { timeoutMs: 20_000 })
    expect(again.connected).toBe(3)
    const put = await system.ask({ type: 'dht.put', key: enc.encode('/swarmbus/after-restart'), value: enc.encode('v') }, { timeoutMs: 20_000 })
    expect(put.peers).toBeGreaterThanOrEqual(1)
    expect(workers).toHaveLength(2)
    const got = await system.ask({ type: 'dht.get', key: enc.encode('/swarmbus/after-restart') }, { timeoutMs: 15_000 })
    expect(dec.decode(got.value)).toBe('v')
    const status = await system.ask({ type: 'swarm.status' })
    expect(status.actors.find(a => a.name === 'swarm')).toMatchObject({ restarts: 1, state: 'running' })
    expect(status.pendingQueries).toBe(0)
  })
})

/**
 * The swarm actor on a simulated clock with a scriptable DhtPort (no network):
 * command → port call mapping with the ask's signal, validation, deadlines
 * that abort the port call, first-value get, limits and de-duplication of
 * streams, typed failures, bounds, and supervision with a fresh port.
 */
import { describe, expect, it } from 'vitest'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import { swarmActor } from '../../../src/actors/swarm/swarm-actor.js'
import { PortNotFoundError } from '../../../src/actors/swarm/port-errors.js'
import { MAX_KEY_BYTES, MAX_PROVIDERS_LIMIT, MAX_VALUE_BYTES } from '../../../src/actors/swarm/validate.js'
import { systemActor } from '../../../src/actors/system/system-actor.js'
import {
  CID_1, FakeDhtPort, itemsThen, never, PEER_A, PEER_B, PEER_C, PEER_D, untilAborted
} from '../../helpers/fake-dht-port.js'
import { askAny, rejection, simSystem, streamAny } from '../../helpers/sim.js'
import { failure } from '../../../src/messages/failure.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import type { ComplianceEnv, ComplianceSample } from '../../compliance/actor-compliance.js'
import type { SimHarness, Tracked, TrackedStream } from '../../helpers/sim.js'
import type { AskOptions } from '../../../src/actors/runtime/actor.js'
import type { SwarmActorOptions } from '../../../src/actors/swarm/swarm-actor.js'
import type { DhtPeerInfo } from '../../../src/actors/swarm/dht-port.js'
import type { FakeMethod } from '../../helpers/fake-dht-port.js'
import type { ProgressEvent } from '../../../src/actors/runtime/actor.js'
import type { AskCommand, BaseCommand, StreamCommand } from '../../../src/messages/commands.js'
import type { SwarmStatusReply } from '../../../src/messages/swarm.js'

const utf8 = new TextEncoder()
const ADDR_B = `/ip4/127.0.0.1/tcp/4002/p2p/${PEER_B}`

interface Rig extends Omit<SimHarness, 'ask' | 'stream'> {
  port: FakeDhtPort
  /** the harness's tracked ask/stream, typed with the swarm protocol */
  ask: (command: AskCommand, options?: AskOptions) => Tracked
  stream: (command: StreamCommand, options?: AskOptions) => TrackedStream
  /** let the port's async work and the actor's deliveries run (no virtual time passes) */
  settle: (rounds?: number) => Promise<void>
  status: () => Promise<SwarmStatusReply>
}

function rig (port = new FakeDhtPort(), options: Partial<SwarmActorOptions> = {}): Rig {
  const h = simSystem()
  h.system.spawn(systemActor())
  h.system.spawn(swarmActor({ port, ...options }))
  const settle = async (rounds = 20): Promise<void> => {
    for (let i = 0; i < rounds; i++) {
      await h.flush()
      await new Promise<void>(resolve => { setImmediate(resolve) })
    }
  }
  const status = async (): Promise<SwarmStatusReply> => {
    const p = h.system.ask({ type: 'swarm.status' })
    await settle(3)
    return await p
  }
  return {
    ...h,
    ask: (command, options) => h.ask(command, options),
    stream: (command, options) => h.stream(command, options),
    port,
    settle,
    status
  }
}

/** every operation of the port waits until its signal fires */
function hangingPort (): FakeDhtPort {
  return new FakeDhtPort(PEER_A, {
    put: async (_k, _v, o) => await untilAborted(o.signal),
    putTo: async (_k, _v, _p, _n, o) => await untilAborted(o.signal),
    provide: async (_c, o) => await untilAborted(o.signal),
    findPeer: async (_p, o) => await untilAborted(o.signal),
    dial: async (_a, o) => await untilAborted(o.signal),
    bootstrap: async o => await untilAborted(o.signal),
    get: (_k, o) => itemsThen([], o.signal, 'hang'),
    findProviders: (_c, o) => itemsThen([], o.signal, 'hang'),
    closestPeers: (_k, o) => itemsThen([], o.signal, 'hang')
  })
}

async function drainStream<T> (it: AsyncIterable<T>, max = 10_000): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) {
    out.push(x)
    if (out.length >= max) break
  }
  return out
}

describe('swarm actor: commands map to DhtPort calls', () => {
  const cases: Array<{ cmd: BaseCommand, method: FakeMethod, args: unknown[], stream?: boolean }> = [
    { cmd: { type: 'dht.put', key: '/swarmbus/a', value: new Uint8Array([9]) } as BaseCommand, method: 'put', args: [utf8.encode('/swarmbus/a'), new Uint8Array([9])] },
    { cmd: { type: 'dht.put', key: new Uint8Array([1, 2]), value: new Uint8Array(0) } as BaseCommand, method: 'put', args: [new Uint8Array([1, 2]), new Uint8Array(0)] },
    { cmd: { type: 'dht.putTo', key: '/swarmbus/a', value: new Uint8Array([9]), peers: [PEER_C] } as BaseCommand, method: 'putTo', args: [utf8.encode('/swarmbus/a'), new Uint8Array([9]), [PEER_C]] },
    { cmd: { type: 'dht.get', key: '/swarmbus/a' } as BaseCommand, method: 'get', args: [utf8.encode('/swarmbus/a')] },
    { cmd: { type: 'dht.provide', cid: CID_1 } as BaseCommand, method: 'provide', args: [CID_1] },
    { cmd: { type: 'dht.findPeer', peerId: PEER_C } as BaseCommand, method: 'findPeer', args: [PEER_C] },
    { cmd: { type: 'swarm.dial', multiaddr: ADDR_B } as BaseCommand, method: 'dial', args: [ADDR_B] },
    { cmd: { type: 'swarm.bootstrap' } as BaseCommand, method: 'bootstrap', args: [] },
    { cmd: { type: 'dht.findProviders', cid: CID_1, limit: 5 } as BaseCommand, method: 'findProviders', args: [CID_1], stream: true },
    { cmd: { type: 'dht.closestPeers', key: new Uint8Array([7]) } as BaseCommand, method: 'closestPeers', args: [new Uint8Array([7])], stream: true }
  ]

  for (const c of cases) {
    it(`${c.cmd.type} → port.${c.method} with the ask's signal (the caller's abort reaches it)`, async () => {
      const r = rig(hangingPort())
      const caller = new AbortController()
      const settled = c.stream === true
        ? drainStream(streamAny(r.system, c.cmd, { signal: caller.signal, timeoutMs: 5_000 }))
        : askAny(r.system, c.cmd, { signal: caller.signal, timeoutMs: 5_000 })
      await r.settle()
      expect(r.port.calls.length).toBe(1)
      const call = r.port.calls[0]
      expect(call?.method).toBe(c.method)
      expect(call?.args).toEqual(c.args)
      expect(call?.signal.aborted).toBe(false)
      expect(typeof call?.onProgress).toBe('function')
      expect((await r.status()).pendingQueries).toBe(1)

      caller.abort()
      const err = await rejection(settled)
      expect(err.name).toBe('AbortError')
      expect(call?.signal.aborted).toBe(true)
      await r.settle()
      const s = await r.status()
      expect(s.pendingQueries).toBe(0)
      expect(s.runningQueries).toBe(0)
      expect(r.system.openPorts).toBe(0)
    })
  }

  it('answers every command with what the port produced', async () => {
    const r = rig()
    await expect(r.system.ask({ type: 'dht.put', key: '/swarmbus/x', value: new Uint8Array([1]) })).resolves.toEqual({ peers: 3 })
    await expect(r.system.ask({ type: 'dht.get', key: '/swarmbus/x' })).resolves.toEqual({ value: new Uint8Array([1]), from: PEER_B })
    await expect(r.system.ask({ type: 'dht.provide', cid: CID_1 })).resolves.toEqual({ peers: 3 })
    await expect(r.system.ask({ type: 'dht.findPeer', peerId: PEER_C })).resolves.toEqual({ peerId: PEER_C, multiaddrs: ['/ip4/127.0.0.1/tcp/4002'] })
    await expect(r.system.ask({ type: 'swarm.dial', multiaddr: ADDR_B })).resolves.toEqual({ peerId: PEER_B })
    await expect(r.system.ask({ type: 'swarm.bootstrap' })).resolves.toEqual({ connected: 1, routingTableSize: 3, failed: [] })
    await expect(r.system.ask({ type: 'swarm.peers' })).resolves.toEqual({ peers: [{ peerId: PEER_B, remoteAddr: '/ip4/127.0.0.1/tcp/4002', direction: 'outbound' }] })
    expect(await drainStream(r.system.stream({ type: 'dht.findProviders', cid: CID_1 }))).toEqual([{ peerId: PEER_B, multiaddrs: [] }])
    expect(await drainStream(r.system.stream({ type: 'dht.closestPeers', key: 'k' }))).toEqual([{ peerId: PEER_B, multiaddrs: [] }, { peerId: PEER_C, multiaddrs: [] }])

    const s = await r.system.ask({ type: 'swarm.status' })
    expect(s).toMatchObject({ peerId: PEER_A, mode: 'server', connections: 1, routingTableSize: 3, pendingQueries: 0, runningQueries: 0, heldCommands: 0 })
    expect(s.multiaddrs).toEqual([`/ip4/127.0.0.1/tcp/4001/p2p/${PEER_A}`])
    const swarm = s.actors.find(a => a.name === 'swarm')
    expect(swarm?.state).toBe('running')
    for (const type of ['dht.put', 'dht.get', 'dht.provide', 'dht.findPeer', 'swarm.dial', 'swarm.bootstrap', 'swarm.peers', 'dht.findProviders', 'dht.closestPeers']) {
      expect(swarm?.commands[type]?.served, type).toBe(1)
      expect(swarm?.commands[type]?.failed, type).toBe(0)
    }
    expect(r.port.callsTo('put').length).toBe(1)
  })

  it('forwards the port\'s progress events to node progress listeners, tagged with the query id', async () => {
    const r = rig(new FakeDhtPort(PEER_A, {
      get: (_k, o) => {
        o.onProgress?.({ type: 'kad-dht:query:send-query', peer: PEER_B, detail: 'GET_VALUE' })
        o.onProgress?.({ type: 'kad-dht:query:peer-response', peer: PEER_B })
        return itemsThen([{ value: new Uint8Array([5]), from: PEER_B }], o.signal)
      }
    }))
    const seen: ProgressEvent[] = []
    const off = r.system.onProgress(e => { seen.push(e) })
    const t = r.ask({ type: 'dht.get', key: '/swarmbus/p' })
    await r.settle()
    off()
    expect((await t.promise).ok).toBe(true)
    expect(seen.map(e => e.type)).toEqual(['kad-dht:query:send-query', 'kad-dht:query:peer-response'])
    expect(seen.every(e => e.id === t.id && e.actor === 'swarm')).toBe(true)
    expect(seen[0]?.detail).toMatchObject({ peer: PEER_B, detail: 'GET_VALUE' })
  })

  it('asks the port for progress only while someone receives it (a listener or the trace)', async () => {
    const port = new FakeDhtPort(PEER_A)
    // no trace, no listener: the port is asked without onProgress
    const system = new ActorSystem({ clock: new SimulatedClock() })
    system.spawn(swarmActor({ port }))
    const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise<void>(resolve => { setImmediate(resolve) }) }
    const first = system.ask({ type: 'dht.get', key: '/swarmbus/a' })
    await settle()
    await first
    expect(port.callsTo('get')[0]?.onProgress).toBeUndefined()
    const seen: ProgressEvent[] = []
    const off = system.onProgress(e => { seen.push(e) })
    port.impl.get = (_k, o) => {
      o.onProgress?.({ type: 'kad-dht:query:send-query', peer: PEER_B })
      return itemsThen([{ value: new Uint8Array([5]), from: PEER_B }], o.signal)
    }
    const second = system.ask({ type: 'dht.get', key: '/swarmbus/b' })
    await settle()
    await second
    off()
    expect(typeof port.callsTo('get')[1]?.onProgress).toBe('function')
    expect(seen.map(e => e.type)).toEqual(['kad-dht:query:send-query'])
    await system.stop()
    // a traced system always asks (the trace records the events): the rig has a trace
    const r = rig()
    await r.system.ask({ type: 'dht.get', key: '/swarmbus/c' }).catch(() => {})
    expect(typeof r.port.callsTo('get')[0]?.onProgress).toBe('function')
  })

  it('forwards at most progressPerQuery events of one query', async () => {
    const r = rig(new FakeDhtPort(PEER_A, {
      put: async (_k, _v, o) => {
        for (let i = 0; i < 50; i++) o.onProgress?.({ type: 'kad-dht:query:send-query', peer: PEER_B })
        return { peers: 1 }
      }
    }), { progressPerQuery: 5 })
    let n = 0
    r.system.onProgress(() => { n++ })
    await r.system.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) })
    await r.settle(3)
    expect(n).toBe(5)
  })
})

describe('swarm actor: validation', () => {
  const bad: Array<[string, unknown, string]> = [
    ['unknown type', { type: 'dht.nope', key: 'k' }, 'type'],
    ['a stream command asked as a one-shot', { type: 'dht.findProviders', cid: CID_1 }, 'type'],
    ['value that is not a Uint8Array', { type: 'dht.put', key: 'k', value: 'text' }, 'value'],
    ['value given as an array of numbers', { type: 'dht.put', key: 'k', value: [1, 2, 3] }, 'value'],
    ['value over the size cap', { type: 'dht.put', key: 'k', value: new Uint8Array(MAX_VALUE_BYTES + 1) }, 'value'],
    ['empty string key', { type: 'dht.put', key: '', value: new Uint8Array(1) }, 'key'],
    ['empty byte key', { type: 'dht.get', key: new Uint8Array(0) }, 'key'],
    ['key that is a number', { type: 'dht.get', key: 42 }, 'key'],
    ['key over the size cap', { type: 'dht.get', key: new Uint8Array(MAX_KEY_BYTES + 1) }, 'key'],
    ['bad CID', { type: 'dht.provide', cid: 'not-a-cid' }, 'cid'],
    ['CID that is not a string', { type: 'dht.provide', cid: 12 }, 'cid'],
    ['bad peer id', { type: 'dht.findPeer', peerId: 'QmNotAPeerId' }, 'peerId'],
    ['multiaddr without /p2p/', { type: 'swarm.dial', multiaddr: '/ip4/127.0.0.1/tcp/4001' }, 'multiaddr'],
    ['not a multiaddr', { type: 'swarm.dial', multiaddr: 'localhost:4001' }, 'multiaddr']
  ]
  for (const [what, cmd, field] of bad) {
    it(`rejects ${what} with InvalidCommandError naming '${field}', and the port is never called`, async () => {
      const r = rig()
      const err = await rejection(askAny(r.system, cmd as BaseCommand))
      expect(err.name).toBe('InvalidCommandError')
      expect((err as Error & { field: string }).field).toBe(field)
      await r.settle(2)
      expect(r.port.calls).toEqual([])
      expect(r.system.openPorts).toBe(0)
    })
  }

  for (const limit of [0, 1001, MAX_PROVIDERS_LIMIT + 1, 1.5, -1, Number.NaN]) {
    it(`rejects findProviders limit ${limit} naming 'limit', and the port is never called`, async () => {
      const r = rig()
      const err = await rejection(drainStream(streamAny(r.system, { type: 'dht.findProviders', cid: CID_1, limit } as BaseCommand)))
      expect(err.name).toBe('InvalidCommandError')
      expect((err as Error & { field: string }).field).toBe('limit')
      await r.settle(2)
      expect(r.port.calls).toEqual([])
    })
  }

  for (const peers of [[], ['not-a-peer'], Array.from({ length: 21 }, () => PEER_C), 'x']) {
    it(`rejects dht.putTo peers ${JSON.stringify(peers).slice(0, 30)} naming 'peers', and the port is never called`, async () => {
      const r = rig()
      const err = await rejection(askAny(r.system, { type: 'dht.putTo', key: '/swarmbus/a', value: new Uint8Array([1]), peers } as BaseCommand))
      expect(err.name).toBe('InvalidCommandError')
      expect((err as Error & { field: string }).field).toBe('peers')
      await r.settle(2)
      expect(r.port.calls).toEqual([])
    })
  }

  it('rejects an empty closestPeers key naming \'key\', and the port is never called', async () => {
    const r = rig()
    const err = await rejection(drainStream(streamAny(r.system, { type: 'dht.closestPeers', key: '' } as BaseCommand)))
    expect(err.name).toBe('InvalidCommandError')
    expect((err as Error & { field: string }).field).toBe('key')
    expect(r.port.calls).toEqual([])
  })

  it('accepts the limit bounds 1 and MAX_PROVIDERS_LIMIT', async () => {
    const r = rig()
    expect(await drainStream(r.system.stream({ type: 'dht.findProviders', cid: CID_1, limit: 1 }))).toHaveLength(1)
    expect(await drainStream(r.system.stream({ type: 'dht.findProviders', cid: CID_1, limit: MAX_PROVIDERS_LIMIT }))).toHaveLength(1)
    expect(r.port.callsTo('findProviders')).toHaveLength(2)
  })
})

describe('swarm actor: deadlines', () => {
  it('a deadline on a port call that never completes rejects TimeoutError on time, aborts the port signal, and leaves 0 pending', async () => {
    // this port ignores its signal entirely: the actor's own watchdog must still end the ask
    const r = rig(new FakeDhtPort(PEER_A, { put: async () => await never() }))
    const t = r.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) }, { timeoutMs: 200 })
    await r.settle(3)
    const call = r.port.lastCall
    expect(call?.method).toBe('put')
    expect(call?.signal.aborted).toBe(false)
    expect((await r.status()).pendingQueries).toBe(1)

    r.clock.advance(199)
    await r.settle(3)
    expect(t.outcome).toBeUndefined()
    r.clock.advance(1)
    const o = await t.promise
    expect(o.ok).toBe(false)
    if (o.ok) return
    expect(o.error.name).toBe('TimeoutError')
    expect(o.at).toBe(200)
    expect(call?.signal.aborted).toBe(true)
    expect((call?.signal.reason as Error).name).toBe('TimeoutError')
    const s = await r.status()
    expect(s.pendingQueries).toBe(0)
    // the libp2p operation itself never returned: it is still counted as running
    expect(s.runningQueries).toBe(1)
    expect(s.openPorts).toBe(1) // the status ask itself
  })

  it('a well-behaved port call stops on the abort: running returns to 0 too, for asks and streams', async () => {
    const r = rig(hangingPort())
    const get = r.ask({ type: 'dht.get', key: 'k' }, { timeoutMs: 200 })
    const fp = r.stream({ type: 'dht.findProviders', cid: CID_1 }, { timeoutMs: 300 })
    const fpeer = r.ask({ type: 'dht.findPeer', peerId: PEER_D }, { timeoutMs: 400 })
    await r.settle(3)
    expect((await r.status()).runningQueries).toBe(3)
    r.clock.advance(200)
    expect((await get.promise).ok).toBe(false)
    expect(get.outcome?.ok === false && get.outcome.error.name).toBe('TimeoutError')
    r.clock.advance(100)
    const fpo = await fp.done
    expect(fpo.ok === false && fpo.error.name).toBe('TimeoutError')
    expect(fpo.at).toBe(300)
    r.clock.advance(100)
    const fpeerO = await fpeer.promise
    expect(fpeerO.ok === false && fpeerO.error.name).toBe('TimeoutError')
    await r.settle()
    const s = await r.status()
    expect(s.pendingQueries).toBe(0)
    expect(s.runningQueries).toBe(0)
    expect(r.port.calls.every(c => c.signal.aborted)).toBe(true)
    const swarm = s.actors.find(a => a.name === 'swarm')
    expect(swarm?.commands['dht.get']).toMatchObject({ served: 0, failed: 1 })
    expect(swarm?.commands['dht.findProviders']).toMatchObject({ served: 0, failed: 1 })
  })

  it('a late port result after the deadline goes nowhere (the ask settled once, as a timeout)', async () => {
    let finish: ((v: { peers: number }) => void) | undefined
    const r = rig(new FakeDhtPort(PEER_A, { put: async () => await new Promise(resolve => { finish = resolve }) }))
    const t = r.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) }, { timeoutMs: 50 })
    await r.settle(3)
    r.clock.advance(50)
    await t.promise
    finish?.({ peers: 4 })
    await r.settle()
    expect(t.seen).toBe(1)
    expect(t.outcome?.ok === false && t.outcome.error.name).toBe('TimeoutError')
    const s = await r.status()
    expect(s.pendingQueries).toBe(0)
    expect(s.runningQueries).toBe(0)
  })
})

describe('swarm actor: results', () => {
  it('dht.get replies with the first value and aborts the rest of the query', async () => {
    const first = { value: new Uint8Array([1, 1]), from: PEER_B }
    const second = { value: new Uint8Array([2, 2]), from: PEER_C }
    const r = rig(new FakeDhtPort(PEER_A, { get: (_k, o) => itemsThen([first, second], o.signal, 'hang') }))
    const reply = await r.system.ask({ type: 'dht.get', key: 'k' }, { timeoutMs: 1_000 })
    expect(reply).toEqual(first)
    const call = r.port.lastCall
    expect(call?.signal.aborted).toBe(true)
    await r.settle()
    const s = await r.status()
    expect(s.pendingQueries).toBe(0)
    expect(s.runningQueries).toBe(0)
    // no late-settle: the second value was dropped, not sent to a settled port
    expect(s.deadLetters.byReason['late-settle'] ?? 0).toBe(0)
  })

  it('dht.get with no value anywhere is NotFoundError; a failing query is its typed error', async () => {
    const r = rig(new FakeDhtPort(PEER_A, { get: (_k, o) => itemsThen([], o.signal) }))
    expect((await rejection(r.system.ask({ type: 'dht.get', key: 'k' }))).name).toBe('NotFoundError')
    r.port.impl.get = () => ({
      [Symbol.asyncIterator]: () => ({ next: async () => { throw Object.assign(new Error('boom'), { name: 'QueryError' }) } })
    })
    const err = await rejection(r.system.ask({ type: 'dht.get', key: 'k' }))
    expect(err.name).toBe('FailedError')
    expect(err.message).toContain('boom')
    r.port.impl.findPeer = async () => { throw new PortNotFoundError('peer not found') }
    expect((await rejection(r.system.ask({ type: 'dht.findPeer', peerId: PEER_D }))).name).toBe('NotFoundError')
  })

  it('findProviders honours limit (then aborts the query) and de-duplicates peers', async () => {
    const p = (peerId: string): DhtPeerInfo => ({ peerId, multiaddrs: [`/ip4/127.0.0.1/tcp/1/${peerId.slice(-4)}`] })
    const r = rig(new FakeDhtPort(PEER_A, {
      findProviders: (_c, o) => itemsThen([p(PEER_B), p(PEER_B), p(PEER_C), p(PEER_B), p(PEER_D)], o.signal, 'hang')
    }))
    const two = await drainStream(r.system.stream({ type: 'dht.findProviders', cid: CID_1, limit: 2 }, { timeoutMs: 1_000 }))
    expect(two.map(x => x.peerId)).toEqual([PEER_B, PEER_C])
    expect(r.port.lastCall?.signal.aborted).toBe(true)

    r.port.impl.findProviders = (_c, o) => itemsThen([p(PEER_B), p(PEER_C), p(PEER_C), p(PEER_B), p(PEER_D)], o.signal)
    const all = await drainStream(r.system.stream({ type: 'dht.findProviders', cid: CID_1 }))
    expect(all.map(x => x.peerId)).toEqual([PEER_B, PEER_C, PEER_D])
    await r.settle()
    const s = await r.status()
    expect(s.pendingQueries).toBe(0)
    expect(s.runningQueries).toBe(0)
  })

  it('closestPeers de-duplicates peers too', async () => {
    const r = rig(new FakeDhtPort(PEER_A, {
      closestPeers: (_k, o) => itemsThen([PEER_B, PEER_C, PEER_B, PEER_C, PEER_D].map(peerId => ({ peerId, multiaddrs: [] })), o.signal)
    }))
    const peers = await drainStream(r.system.stream({ type: 'dht.closestPeers', key: 'k' }))
    expect(peers.map(x => x.peerId)).toEqual([PEER_B, PEER_C, PEER_D])
  })

  it('put and provide that reached 0 peers fail with FailedError', async () => {
    const r = rig(new FakeDhtPort(PEER_A, { put: async () => ({ peers: 0 }), provide: async () => ({ peers: 0 }) }))
    const e1 = await rejection(r.system.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) }))
    expect(e1.name).toBe('FailedError')
    expect(e1.message).toMatch(/no peer/)
    const e2 = await rejection(r.system.ask({ type: 'dht.provide', cid: CID_1 }))
    expect(e2.name).toBe('FailedError')
    r.port.impl.put = async () => ({ peers: 1 })
    await expect(r.system.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) })).resolves.toEqual({ peers: 1 })
  })

  it('a port method that throws synchronously fails that ask (FailedError) and nothing else', async () => {
    const r = rig(new FakeDhtPort(PEER_A, {
      put: () => { throw new Error('the node is not started') },
      get: () => { throw new Error('the node is not started') }
    }))
    expect((await rejection(r.system.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) }))).name).toBe('FailedError')
    expect((await rejection(r.system.ask({ type: 'dht.get', key: 'k' }))).name).toBe('FailedError')
    await expect(r.system.ask({ type: 'dht.provide', cid: CID_1 })).resolves.toEqual({ peers: 3 })
    const s = await r.status()
    expect(s.pendingQueries).toBe(0)
    expect(s.runningQueries).toBe(0)
    expect(s.actors.find(a => a.name === 'swarm')?.restarts).toBe(0)
  })
})

describe('swarm actor: bounds', () => {
  it('beyond maxPending queries, asks fail with OverloadedError; room frees as queries end', async () => {
    const r = rig(hangingPort(), { maxPending: 3 })
    const callers = Array.from({ length: 3 }, () => new AbortController())
    const held = callers.map(c => r.ask({ type: 'dht.get', key: 'k' }, { signal: c.signal, timeoutMs: 10_000 }))
    await r.settle(3)
    const over = r.ask({ type: 'dht.provide', cid: CID_1 }, { timeoutMs: 10_000 })
    const o = await over.promise
    expect(o.ok === false && o.error.name).toBe('OverloadedError')
    expect(r.port.calls).toHaveLength(3)
    callers[0]?.abort()
    await held[0]?.promise
    await r.settle()
    const again = r.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) }, { timeoutMs: 100 })
    await r.settle(3)
    expect(r.port.calls).toHaveLength(4)
    r.clock.advance(10_000)
    for (const t of [...held, again]) expect((await t.promise).ok).toBe(false)
    await r.settle()
    const s = await r.status()
    expect(s.pendingQueries).toBe(0)
    expect(s.runningQueries).toBe(0)
  })

  it('a full mailbox fails the excess asks with OverloadedError; every ask settles exactly once', async () => {
    const r = rig(new FakeDhtPort(), { mailboxCapacity: 8 })
    // asked synchronously: the mailbox fills before the actor gets a turn
    const asks = Array.from({ length: 30 }, (_, i) => r.ask({ type: 'dht.put', key: `k${i}`, value: new Uint8Array(1) }))
    const outcomes = await Promise.all(asks.map(async t => await t.promise))
    const ok = outcomes.filter(o => o.ok).length
    const overloaded = outcomes.filter(o => !o.ok && o.error.name === 'OverloadedError').length
    expect(ok).toBe(8)
    expect(overloaded).toBe(22)
    expect(asks.every(t => t.seen === 1)).toBe(true)
    expect(r.port.callsTo('put')).toHaveLength(8)
  })
})

describe('swarm actor: supervision', () => {
  it('a crash (malformed port data) fails the open asks with StoppedError and restarts the actor on a fresh port from createPort', async () => {
    const first = new FakeDhtPort(PEER_A, {
      // a provider record without a peer id makes the actor throw in receive
      findProviders: (_c, o) => itemsThen([null as unknown as DhtPeerInfo], o.signal, 'hang'),
      put: async (_k, _v, o) => await untilAborted(o.signal)
    })
    const second = new FakeDhtPort(PEER_A)
    let created = 0
    const r = rig(first, {
      createPort: async () => {
        created++
        return second
      }
    })
    const put = r.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) }, { timeoutMs: 10_000 })
    await r.settle(3)
    const fp = r.stream({ type: 'dht.findProviders', cid: CID_1 }, { timeoutMs: 10_000 })
    const fpo = await fp.done
    expect(fpo.ok === false && fpo.error.name).toBe('StoppedError')
    const po = await put.promise
    expect(po.ok === false && po.error.name).toBe('StoppedError')
    expect(first.callsTo('put')[0]?.signal.aborted).toBe(true)
    await r.settle(3)
    expect(first.stops).toBe(1)

    // asked while the actor restarts: held, then served by the new port
    const during = r.ask({ type: 'dht.put', key: 'k2', value: new Uint8Array(2) }, { timeoutMs: 10_000 })
    r.clock.advance(10) // the supervisor's first backoff
    await r.settle()
    const d = await during.promise
    expect(d.ok && d.value).toEqual({ peers: 3 })
    expect(created).toBe(1)
    expect(second.callsTo('put')).toHaveLength(1)
    expect(first.callsTo('put')).toHaveLength(1)

    const s = await r.status()
    const swarm = s.actors.find(a => a.name === 'swarm')
    expect(swarm?.restarts).toBe(1)
    expect(swarm?.state).toBe('running')
    expect(s.pendingQueries).toBe(0)
    expect(second.reads).toBeGreaterThan(0)
    expect(first.reads).toBe(0)
  })

  it('a libp2p node that fails to stop is not dropped in silence: the restarted actor counts it in its status detail', async () => {
    const first = new FakeDhtPort(PEER_A, {
      findProviders: (_c, o) => itemsThen([null as unknown as DhtPeerInfo], o.signal, 'hang')
    })
    first.stop = async () => { first.stops++; throw Object.assign(new Error('the transport would not close'), { name: 'ShutdownError' }) }
    const r = rig(first, { createPort: async () => new FakeDhtPort(PEER_A) })
    const fp = r.stream({ type: 'dht.findProviders', cid: CID_1 }, { timeoutMs: 10_000 })
    expect((await fp.done).ok).toBe(false)
    await r.settle(3)
    expect(first.stops).toBe(1)
    r.clock.advance(10)
    await r.settle()
    const detail = (await r.status()).actors.find(a => a.name === 'swarm')?.detail
    expect(detail).toMatchObject({ portStopsFailed: 1, lastPortStopError: 'ShutdownError: the transport would not close' })
    // a port that stops cleanly adds nothing
    const clean = await rig().status()
    expect(clean.actors.find(a => a.name === 'swarm')?.detail).not.toHaveProperty('portStopsFailed')
  })

  it('when a fresh port cannot be built the actor gives up after its restart limit: asks reject StoppedError, none hang', async () => {
    const first = new FakeDhtPort(PEER_A, { findProviders: (_c, o) => itemsThen([null as unknown as DhtPeerInfo], o.signal, 'hang') })
    let attempts = 0
    const r = rig(first, {
      createPort: async () => {
        attempts++
        throw new Error('cannot listen')
      }
    })
    const crash = await drainStream(r.system.stream({ type: 'dht.findProviders', cid: CID_1 })).catch((e: unknown) => e as Error)
    expect(crash instanceof Error && crash.name).toBe('StoppedError')
    // asked while the actor restarts: held for the new port, failed when building it fails
    const waiting = r.ask({ type: 'dht.get', key: 'k' }, { timeoutMs: 60_000 })
    const swarmState = (): string | undefined => r.system.status().actors.find(a => a.name === 'swarm')?.state
    for (let i = 0; i < 50 && swarmState() !== 'stopped'; i++) {
      r.clock.advance(100)
      await r.settle(3)
    }
    const o = await waiting.promise
    expect(o.ok === false && o.error.name).toBe('StoppedError')
    expect(swarmState()).toBe('stopped')
    // the default policy: 3 restarts, each building a port; the 4th crash stops the actor
    expect(attempts).toBe(3)
    expect((await rejection(r.system.ask({ type: 'dht.get', key: 'k' }))).name).toBe('StoppedError')
    expect(r.system.openPorts).toBe(0)
  })

  it('a port that dies (its network thread gone) fails the asks it served with its failure, crashes the actor and restarts it on a new port', async () => {
    const first = hangingPort()
    const second = new FakeDhtPort(PEER_A)
    let created = 0
    const r = rig(first, { createPort: async () => { created++; return second } })
    const put = r.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) }, { timeoutMs: 10_000 })
    const fp = r.stream({ type: 'dht.findProviders', cid: CID_1 }, { timeoutMs: 10_000 })
    await r.settle(3)
    expect(first.failureListeners.size).toBe(1)
    first.die(failure('failed', 'the network thread died: the network thread exited with code 1', {
      cause: { name: 'Error', message: 'the network thread exited with code 1' }
    }))
    await r.settle(3)
    for (const o of [await put.promise, await fp.done]) {
      expect(o.ok).toBe(false)
      if (o.ok) continue
      expect(o.error.name).toBe('FailedError')
      expect(o.error.message).toMatch(/network thread died/)
      expect((o.error.cause as Error | undefined)?.message).toBe('the network thread exited with code 1')
    }
    expect(first.callsTo('put')[0]?.signal.aborted).toBe(true)
    expect(first.stops).toBe(1)
    expect(first.failureListeners.size).toBe(0)
    // the crash is in the trace, with the port's failure as its cause
    const crash = r.trace.events.find(e => e.dir === 'out' && e.ev.type === 'crash')
    expect(crash?.ev).toMatchObject({ actor: 'swarm', error: expect.stringMatching(/network port died/) as unknown })

    // the next ask is held through the restart, then served by the new port
    const next = r.ask({ type: 'dht.put', key: 'k2', value: new Uint8Array(2) }, { timeoutMs: 10_000 })
    r.clock.advance(10)
    await r.settle()
    const n = await next.promise
    expect(n.ok && n.value).toEqual({ peers: 3 })
    expect(created).toBe(1)
    expect(second.failureListeners.size).toBe(1)
    const s = await r.status()
    expect(s.actors.find(a => a.name === 'swarm')).toMatchObject({ restarts: 1, state: 'running' })
    expect(s.pendingQueries).toBe(0)
  })

  it('on system stop every open ask rejects StoppedError and the port is stopped', async () => {
    const r = rig(hangingPort())
    const t = r.ask({ type: 'dht.get', key: 'k' }, { timeoutMs: 10_000 })
    await r.settle(3)
    await r.system.stop()
    const o = await t.promise
    expect(o.ok === false && o.error.name).toBe('StoppedError')
    expect(r.port.lastCall?.signal.aborted).toBe(true)
    expect(r.port.stops).toBe(1)
    expect((await rejection(r.system.ask({ type: 'dht.put', key: 'k', value: new Uint8Array(1) }))).name).toBe('StoppedError')
  })
})


// ─────────────── the runtime's actor compliance suite, on the fake port ───────────────

/** the fake port for a compliance mode: prompt answers at once, never waits until its signal fires */
function compliancePort (env: ComplianceEnv): FakeDhtPort {
  return env.mode === 'prompt' ? new FakeDhtPort() : hangingPort()
}

// Not 'slow': the suite expects an answer that comes after the deadline to show up as a
// dead letter, but the swarm actor never tries to settle a query it no longer serves — a
// libp2p result after the deadline (or after the first value of a get) is dropped inside
// the actor, by design (see 'a late port result after the deadline goes nowhere' above).
runActorCompliance('swarm actor (fake DhtPort)', {
  modes: ['prompt', 'never'],
  promptTimeoutMs: 5_000,
  build: env => {
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(swarmActor({ port: compliancePort(env) }))
    const asks: ComplianceSample[] = [
      { command: { type: 'dht.put', key: '/swarmbus/c', value: new Uint8Array([1]) } as BaseCommand },
      { command: { type: 'dht.get', key: '/swarmbus/c' } as BaseCommand },
      { command: { type: 'dht.provide', cid: CID_1 } as BaseCommand },
      { command: { type: 'dht.findPeer', peerId: PEER_C } as BaseCommand },
      { command: { type: 'swarm.dial', multiaddr: ADDR_B } as BaseCommand },
      { command: { type: 'swarm.bootstrap' } as BaseCommand },
      { command: { type: 'dht.findProviders', cid: CID_1, limit: 3 } as BaseCommand, port: 'stream' },
      { command: { type: 'dht.closestPeers', key: 'c' } as BaseCommand, port: 'stream' }
    ]
    // peers and status read the node's state at once: they have no never/slow form
    const reads: ComplianceSample[] = env.mode === 'prompt' ? [{ command: { type: 'swarm.peers' } }, { command: { type: 'swarm.status' } }] : []
    return {
      system,
      valid: [...asks, ...reads],
      invalid: [
        { command: { type: 'dht.put', key: 'k', value: 'not bytes' } as unknown as BaseCommand, field: 'value' },
        { command: { type: 'dht.get', key: '' } as BaseCommand, field: 'key' },
        { command: { type: 'dht.provide', cid: 'nope' } as BaseCommand, field: 'cid' },
        { command: { type: 'dht.findPeer', peerId: 'nope' } as BaseCommand, field: 'peerId' },
        { command: { type: 'swarm.dial', multiaddr: '/ip4/127.0.0.1/tcp/1' } as BaseCommand, field: 'multiaddr' },
        { command: { type: 'dht.findProviders', cid: CID_1, limit: 0 } as BaseCommand, port: 'stream', field: 'limit' }
      ]
    }
  }
})

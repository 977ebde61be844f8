/**
 * Joining the network, loudly: the swarm actor reports what each bootstrap
 * reached (swarm.status.bootstrap); without retries a run that reached no
 * peer leaves the node 'alone'; with retries it tries again in the
 * background on the simulated clock, waits doubling up to the maximum, each
 * try bounded, every step a progress event, until a try reaches a peer.
 */
import { describe, expect, it } from 'vitest'
import { swarmActor } from '../../../src/actors/swarm/swarm-actor.js'
import { systemActor } from '../../../src/actors/system/system-actor.js'
import { FakeDhtPort, untilAborted } from '../../helpers/fake-dht-port.js'
import { simSystem } from '../../helpers/sim.js'
import type { ProgressEvent } from '../../../src/actors/runtime/actor.js'
import type { BootstrapStatus, SwarmStatusReply } from '../../../src/messages/swarm.js'
import type { SwarmActorOptions } from '../../../src/actors/swarm/swarm-actor.js'

const ADDR = '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'

function rig (outcomes: Array<'none' | 'one' | 'hang'>, options: Partial<SwarmActorOptions> = {}) {
  let calls = 0
  const port = new FakeDhtPort()
  port.impl.bootstrap = async o => {
    const what = outcomes[Math.min(calls++, outcomes.length - 1)]
    if (what === 'hang') return await untilAborted(o.signal)
    return what === 'one'
      ? { connected: 1, routingTableSize: 1, failed: [] }
      : { connected: 0, routingTableSize: 0, failed: [{ addr: ADDR, error: 'Error: connect ECONNREFUSED 127.0.0.1:9' }] }
  }
  const h = simSystem()
  h.system.spawn(systemActor())
  h.system.spawn(swarmActor({ port, ...options }))
  const events: ProgressEvent[] = []
  h.system.onProgress(e => { if (e.type.startsWith('swarm:bootstrap')) events.push(e) })
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) {
      await h.flush()
      await new Promise<void>(resolve => { setImmediate(resolve) })
    }
  }
  const boot = async (): Promise<BootstrapStatus> => {
    const p = h.system.ask({ type: 'swarm.status' })
    await settle()
    return (await p).bootstrap
  }
  /** move virtual time to the next timer and let what it started finish */
  const nextTimer = async (): Promise<number> => {
    const at = h.clock.nextTimerAt()
    if (at === undefined) throw new Error('no timer is set')
    h.clock.advanceTo(at)
    await settle()
    return at
  }
  /** run 10 minutes of virtual time: no bootstrap may start meanwhile */
  const noMoreTries = async (): Promise<void> => {
    const before = calls
    const end = h.clock.now() + 600_000
    for (let at = h.clock.nextTimerAt(); at !== undefined && at <= end; at = h.clock.nextTimerAt()) {
      h.clock.advanceTo(at)
      await settle()
    }
    expect(calls).toBe(before)
  }
  return { h, port, events, settle, boot, nextTimer, noMoreTries, calls: () => calls }
}

describe('bootstrap: what it reached, and retries', () => {
  it('a run that reached a peer: joined; the reply names no failure', async () => {
    const r = rig(['one'])
    const p = r.h.system.ask({ type: 'swarm.bootstrap' })
    await r.settle()
    await expect(p).resolves.toEqual({ connected: 1, routingTableSize: 1, failed: [] })
    expect(await r.boot()).toEqual({ state: 'joined', retries: 0, connected: 1 })
  })

  it('without retries, a run that reached no one: alone, with the reason, and nothing runs in the background', async () => {
    const r = rig(['none'])
    const p = r.h.system.ask({ type: 'swarm.bootstrap' })
    await r.settle()
    const reply = await p
    expect(reply.connected).toBe(0)
    expect(reply.failed).toEqual([{ addr: ADDR, error: 'Error: connect ECONNREFUSED 127.0.0.1:9' }])
    const s = await r.boot()
    expect(s.state).toBe('alone')
    expect(s.lastError).toMatch(/reached none of 1 bootstrap peer: .*ECONNREFUSED/)
    await r.noMoreTries()
    expect(r.calls()).toBe(1)
  })

  it('with retries: tries again after 1 s, 2 s, 4 s … up to the maximum, each visible, until one reaches a peer', async () => {
    const r = rig(['none', 'none', 'none', 'none', 'one'], { bootstrapRetry: { firstMs: 1_000, maxMs: 4_000 } })
    const t0 = r.h.clock.now()
    void r.h.system.ask({ type: 'swarm.bootstrap' })
    await r.settle()
    let s = await r.boot()
    expect(s.state).toBe('retrying')
    expect(s.nextRetryAt).toBe(r.h.clock.wall() + 1_000)
    const at: number[] = []
    for (let i = 0; i < 4; i++) at.push(await r.nextTimer() - t0)
    expect(at).toEqual([1_000, 3_000, 7_000, 11_000])
    s = await r.boot()
    expect(s).toEqual({ state: 'joined', retries: 4, connected: 1 })
    expect(r.calls()).toBe(5)
    await r.noMoreTries()
    const types = r.events.map(e => e.type)
    expect(types.filter(t => t === 'swarm:bootstrap:retry')).toHaveLength(4)
    expect(types.filter(t => t === 'swarm:bootstrap:retry-scheduled')).toHaveLength(4)
    expect(types.at(-1)).toBe('swarm:bootstrap:joined')
  })

  it('with retries: a try that hangs is cut at its own deadline and tried again', async () => {
    const r = rig(['none', 'hang', 'one'], { bootstrapRetry: { firstMs: 500, maxMs: 500, attemptTimeoutMs: 2_000 } })
    void r.h.system.ask({ type: 'swarm.bootstrap' })
    await r.settle()
    await r.nextTimer() // the first retry starts, and hangs
    expect((await r.boot()).state).toBe('trying')
    await r.nextTimer() // its deadline: aborted
    const s = await r.boot()
    expect(s.state).toBe('retrying')
    expect(s.lastError).toMatch(/the try failed/)
    await r.nextTimer()
    expect(await r.boot()).toMatchObject({ state: 'joined', retries: 2 })
  })

  it('with retries: a host bootstrap that reaches a peer ends the retries; stale timers do nothing', async () => {
    const r = rig(['none', 'one'], { bootstrapRetry: { firstMs: 1_000 } })
    void r.h.system.ask({ type: 'swarm.bootstrap' })
    await r.settle()
    expect((await r.boot()).state).toBe('retrying')
    const p = r.h.system.ask({ type: 'swarm.bootstrap' })
    await r.settle()
    expect((await p).connected).toBe(1)
    expect(await r.boot()).toEqual({ state: 'joined', retries: 0, connected: 1 })
    await r.noMoreTries()
  })

  it('rejects retry settings that make no sense', () => {
    const h = simSystem()
    expect(() => { h.system.spawn(swarmActor({ port: new FakeDhtPort(), bootstrapRetry: { firstMs: 0 } })) }).not.toThrow()
    const status = h.system.status().actors.find(a => a.name === 'swarm')
    // the actor's start threw: it crashed into its supervisor rather than running with a zero wait
    expect(status?.state).not.toBe('running')
  })
})

export type { SwarmStatusReply }

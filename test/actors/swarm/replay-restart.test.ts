/**
 * A trace recorded while the swarm actor crashed and restarted (building a
 * fresh port) replays identically: the restarted incarnation gets its port
 * synchronously on replay and adopts it when the recorded port.ready arrives,
 * exactly where it did live.
 */
import { describe, expect, it } from 'vitest'
import { setTimeout as sleep } from 'node:timers/promises'
import { replayTrace } from '../../../src/actors/runtime/replayer.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { parseTrace, TraceRecorder } from '../../../src/actors/runtime/trace-recorder.js'
import { InertDhtPort } from '../../../src/actors/swarm/inert-dht-port.js'
import { swarmActor } from '../../../src/actors/swarm/swarm-actor.js'
import { RealClock } from '../../../src/platform/real-clock.js'
import type { DhtPeerInfo } from '../../../src/actors/swarm/dht-port.js'

const PEER = '12D3KooWDjfTVkmpHobwFhvRmSKeLrgETZksPUNmxLgmkRbVruhV'

/** a port whose findProviders yields garbage once (the actor crashes on it) and whose put works */
class CrashyPort extends InertDhtPort {
  override findProviders (): AsyncIterable<DhtPeerInfo> {
    return (async function * () { yield undefined as unknown as DhtPeerInfo })()
  }

  override async put (): Promise<{ peers: number }> {
    await sleep(2)
    return { peers: 3 }
  }
}

describe('replay across a swarm actor restart', () => {
  it('replays identically', async () => {
    const clock = new RealClock()
    const recorder = new TraceRecorder({ seed: 4, startedAt: clock.now(), keep: true })
    const system = new ActorSystem({ clock, seed: 4, trace: recorder, yieldToHost: fn => { setImmediate(fn) } })
    let built = 0
    system.spawn(swarmActor({ port: new CrashyPort(PEER), createPort: async () => { built++; await sleep(5); return new CrashyPort(PEER) } }))
    const it = system.stream({ type: 'dht.findProviders', cid: 'bafkqaaa' })
    await expect((async () => { for await (const _ of it) { /* crash */ } })()).rejects.toMatchObject({ name: 'StoppedError' })
    // held while the new port is built, then served by the new incarnation
    expect(await system.ask({ type: 'dht.put', key: '/swarmbus/x', value: new Uint8Array([1]) })).toEqual({ peers: 3 })
    expect(built).toBe(1)
    expect(system.status().actors[0]?.restarts).toBe(1)
    await system.stop()

    const { header, events } = parseTrace(recorder.toJsonl())
    expect(events.some(e => e.dir === 'out' && e.type === 'crash')).toBe(true)
    const report = await replayTrace({
      header,
      events,
      build: s => { s.spawn(swarmActor({ port: new InertDhtPort(PEER), restartPort: () => new InertDhtPort(PEER) })) }
    })
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
  })
})

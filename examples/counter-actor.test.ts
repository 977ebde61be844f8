/**
 * The counter extension actor, tested the two ways a user would: on a bare
 * ActorSystem with a SimulatedClock (virtual time, a stand-in for the swarm
 * actor) and on real nodes (a two-node libp2p testnet on loopback). The type
 * assertions fail the typecheck if the declaration merging stops working.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest'
import { ActorSystem, createTestnet, defineActor, SimulatedClock } from 'swarmbus'
import type { ActorDefinition, DhtPut, ReplyOf, Testnet } from 'swarmbus'
import { counterActor, MAX_STEP } from './counter-actor.js'
import type { CounterAdd, CounterGet, CounterList, CounterPublish, CounterPublished, CounterValue } from './counter-actor.js'
// Inside this repository only: the runtime's actor compliance suite (test/
// is not part of the published package). It drives the repo's own
// ActorSystem, which the actor definition fits structurally.
import { ActorSystem as RepoActorSystem } from '../src/actors/runtime/system.js'
import { runActorCompliance } from '../test/compliance/actor-compliance.js'
import { runUntilQuiet } from 'swarmbus/testing'

const utf8 = new TextDecoder()

interface FakeDhtLog { puts: DhtPut[], cancels: string[] }

/**
 * Stands in for the swarm actor: answers dht.put with { peers: 3 } after
 * `delayMs` of virtual time (never, when undefined). On a cancel or a stop it
 * drops the answer, unless `ignoreCancel` (a slow network that does not stop:
 * its late answer goes to dead letters).
 */
function fakeDht (delayMs: number | undefined, log: FakeDhtLog, ignoreCancel = false): ActorDefinition<DhtPut, { type: 'answer', id: string }> {
  return defineActor<DhtPut, { type: 'answer', id: string }>({
    name: 'fake-dht',
    commands: ['dht.put'],
    start: ctx => {
      const timers = new Map<string, () => void>()
      return {
        receive: msg => {
          switch (msg.kind) {
            case 'command':
              log.puts.push(msg.env.command)
              if (delayMs !== undefined) timers.set(msg.env.id, ctx.after(delayMs, { type: 'answer', id: msg.env.id }))
              return
            case 'cancel':
              log.cancels.push(msg.reason)
              if (!ignoreCancel) timers.get(msg.id)?.()
              timers.delete(msg.id)
              return
            case 'internal':
              timers.delete(msg.msg.id)
              ctx.reply(msg.msg.id, { peers: 3 } satisfies ReplyOf<'dht.put'>)
          }
        },
        // timers set with ctx.after outlive a stopped actor unless cleared
        stop: () => { if (!ignoreCancel) for (const cancel of timers.values()) cancel() }
      }
    }
  })
}

describe('counter actor on a bare ActorSystem with a SimulatedClock', () => {
  let clock: SimulatedClock
  let system: ActorSystem
  let dht: FakeDhtLog
  /** deliver everything that needs no time to pass */
  const flush = async (): Promise<number> => await runUntilQuiet(system)

  const boot = (delayMs: number, maxCounters?: number): void => {
    clock = new SimulatedClock()
    system = new ActorSystem({ clock, seed: 7 })
    dht = { puts: [], cancels: [] }
    system.spawn(counterActor(maxCounters === undefined ? {} : { maxCounters }))
    system.spawn(fakeDht(delayMs, dht))
  }

  beforeEach(() => { boot(50) })

  it('adds, reads and lists counters', async () => {
    await system.ask({ type: 'counter.add', name: 'hits', by: 2 })
    const added = await system.ask({ type: 'counter.add', name: 'hits', by: -5 })
    expectTypeOf(added).toEqualTypeOf<CounterValue>()
    expect(added).toEqual({ name: 'hits', value: -3 })
    await system.ask({ type: 'counter.add', name: 'misses', by: 1 })
    expect(await system.ask({ type: 'counter.get', name: 'hits' })).toEqual({ name: 'hits', value: -3 })

    const listed: CounterValue[] = []
    for await (const item of system.stream({ type: 'counter.list', prefix: 'mi' })) {
      expectTypeOf(item).toEqualTypeOf<CounterValue>()
      listed.push(item)
    }
    expect(listed).toEqual([{ name: 'misses', value: 1 }])
  })

  it('rejects malformed commands before they are queued, naming the field', async () => {
    await expect(system.ask({ type: 'counter.add', name: 'hits', by: 0.5 })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'by' })
    await expect(system.ask({ type: 'counter.add', name: 'hits', by: MAX_STEP + 1 })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'by' })
    await expect(system.ask({ type: 'counter.get', name: 'no spaces' })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'name' })
    await expect(system.ask({ type: 'counter.get', name: 'nobody' })).rejects.toMatchObject({ name: 'NotFoundError' })
    // nothing reached the actor's mailbox for the invalid ones: only the get was served
    expect(system.status().actors.find(a => a.name === 'counter')?.commands).toEqual({
      'counter.get': expect.objectContaining({ served: 0, failed: 1 }) as unknown
    })
  })

  it('keeps its state bounded: a counter beyond maxCounters fails with OverloadedError', async () => {
    boot(50, 2)
    await system.ask({ type: 'counter.add', name: 'a', by: 1 })
    await system.ask({ type: 'counter.add', name: 'b', by: 1 })
    await expect(system.ask({ type: 'counter.add', name: 'c', by: 1 })).rejects.toMatchObject({ name: 'OverloadedError' })
    // existing counters still move
    expect(await system.ask({ type: 'counter.add', name: 'a', by: 1 })).toEqual({ name: 'a', value: 2 })
  })

  it('publishes through an ask to the DHT actor, whose reply re-enters as an internal message', async () => {
    await system.ask({ type: 'counter.add', name: 'hits', by: 5 })
    const published = system.ask({ type: 'counter.publish', name: 'hits' })
    expectTypeOf(published).resolves.toEqualTypeOf<CounterPublished>()
    await flush()
    expect(dht.puts).toHaveLength(1)
    expect(dht.puts[0]?.key).toBe('/swarmbus/counter/hits')
    expect(JSON.parse(utf8.decode(dht.puts[0]?.value))).toEqual({ name: 'hits', value: 5 })

    clock.advance(50) // the stand-in answers now
    await flush()
    await expect(published).resolves.toEqual({ name: 'hits', value: 5, key: '/swarmbus/counter/hits', peers: 3 })
    expect(system.deadLetters.total).toBe(0)
  })

  it('times out on virtual time, and the work serving the ask is stopped', async () => {
    boot(5_000)
    await system.ask({ type: 'counter.add', name: 'hits', by: 1 })
    let outcome: { name: string, at: number } | undefined
    const published = system.ask({ type: 'counter.publish', name: 'hits' }, { timeoutMs: 1_000 })
      .catch((err: Error) => { outcome = { name: err.name, at: clock.now() } })
    await flush()
    clock.advanceTo(999)
    await flush()
    expect(outcome).toBeUndefined()
    clock.advanceTo(1_000)
    await published
    expect(outcome).toEqual({ name: 'TimeoutError', at: 1_000 })
    // the inner dht.put shared the deadline: the stand-in was told and cleared its timer
    await flush()
    expect(dht.cancels).toEqual(['timeout'])
    expect(clock.nextTimerAt()).toBeUndefined()
    expect(system.deadLetters.total).toBe(0)
  })

  it('propagates the caller\'s abort to the ask it made', async () => {
    boot(5_000)
    await system.ask({ type: 'counter.add', name: 'hits', by: 1 })
    const ac = new AbortController()
    const published = system.ask({ type: 'counter.publish', name: 'hits' }, { signal: ac.signal })
    await flush()
    ac.abort()
    await expect(published).rejects.toMatchObject({ name: 'AbortError' })
    await flush()
    expect(dht.cancels).toEqual(['aborted'])
    expect(system.deadLetters.total).toBe(0)
  })
})

describe('counter actor on real nodes', () => {
  let net: Testnet

  beforeAll(async () => {
    // two real libp2p nodes on loopback TCP, connected through the bus
    net = await createTestnet({ nodes: 2, seed: 100 })
  })

  afterAll(async () => {
    await net.stop()
  })

  it('is spawned on a node and asked with full types', async () => {
    const [a, b] = net.nodes
    if (a === undefined || b === undefined) throw new Error('the testnet has no nodes')
    expect(net.report.settled).toBe(true)
    a.spawn(counterActor())

    const added = await a.ask({ type: 'counter.add', name: 'hits', by: 3 })
    expectTypeOf(added).toEqualTypeOf<CounterValue>()
    expectTypeOf<ReplyOf<'counter.publish'>>().toEqualTypeOf<CounterPublished>()
    expect(added).toEqual({ name: 'hits', value: 3 })

    // @ts-expect-error counter.add has `by`, not `amount`: the typecheck fails here if merging breaks
    const wrong = a.ask({ type: 'counter.add', name: 'hits', amount: 1 })
    await expect(wrong).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'by' })

    const published = await a.ask({ type: 'counter.publish', name: 'hits' }, { timeoutMs: 10_000 })
    expect(published).toMatchObject({ name: 'hits', value: 3, key: '/swarmbus/counter/hits' })
    expect(published.peers).toBeGreaterThanOrEqual(1)

    // the other node reads it back through the DHT
    const got = await b.ask({ type: 'dht.get', key: '/swarmbus/counter/hits' }, { timeoutMs: 10_000 })
    expect(JSON.parse(utf8.decode(got.value))).toEqual({ name: 'hits', value: 3 })

    const status = await a.ask({ type: 'swarm.status' })
    const counter = status.actors.find(s => s.name === 'counter')
    expect(counter?.commands['counter.add']).toMatchObject({ served: 1, failed: 0 }) // the invalid one never reached it
    expect(counter?.detail).toEqual({ counters: 1, publishing: 0 })
  })
})

// Exactly-once settles, deadlines, aborts, no reply after stop and validation
// before delivery, checked by the suite every actor of the runtime passes.
// 'never' and 'slow' make the DHT stand-in unresponsive or late; then only
// counter.publish waits on it (the other commands answer at once by design).
runActorCompliance('counter example actor', {
  modes: ['prompt', 'never', 'slow'],
  build: env => {
    const system = new RepoActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    const log: FakeDhtLog = { puts: [], cancels: [] }
    system.spawn(counterActor({ initial: { hits: 5 } }))
    system.spawn(fakeDht(env.mode === 'prompt' ? 50 : env.mode === 'slow' ? env.lateMs : undefined, log, env.mode === 'slow'))
    const add: CounterAdd = { type: 'counter.add', name: 'hits', by: 1 }
    const get: CounterGet = { type: 'counter.get', name: 'hits' }
    const list: CounterList = { type: 'counter.list' }
    const publish: CounterPublish = { type: 'counter.publish', name: 'hits' }
    const badAdd: CounterAdd = { type: 'counter.add', name: 'hits', by: 0 }
    const badGet: CounterGet = { type: 'counter.get', name: '' }
    const badList: CounterList = { type: 'counter.list', prefix: 'a b' }
    return {
      system,
      valid: env.mode === 'prompt'
        ? [{ command: add }, { command: get }, { command: list, port: 'stream' }, { command: publish }]
        : [{ command: publish }],
      invalid: [
        { command: badAdd, field: 'by' },
        { command: badGet, field: 'name' },
        { command: badList, port: 'stream', field: 'prefix' }
      ]
    }
  }
})

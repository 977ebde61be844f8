/**
 * The composite router's policy, exactly, on the simulated clock: the IPNS
 * actor with HTTP routers enabled among the scripted fakes of
 * test/actors/ipns/fakes.ts (DHT streams, verifier, store) and a scripted
 * routers actor (routers.getIpns answering at a set time). When a resolve
 * answers — the settle time after a router's valid record, the DHT's quorum,
 * both sources ended — which record wins, and what the background query
 * keeps.
 */
import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { failure } from '../../../src/messages/failure.js'
import { answer, keyInfo, record, rigPerTest, runFor } from '../ipns/fakes.js'
import { fields, testName } from '../ipns/machine-helpers.js'
import type { ActorDefinition } from '../../../src/actors/runtime/actor.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { ResolveReply } from '../../../src/messages/ipns.js'
import type { RoutersGetIpns, RoutersPutIpns } from '../../../src/messages/routers.js'
import type { Outcome } from '../../helpers/sim.js'
import type { World } from '../ipns/fakes.js'

const A = testName(71)
const CID = 'bafkqaddwgevxmmraojswg33smq'
const URL_1 = 'http://127.0.0.1:9001'

interface RouterScript { record?: Uint8Array, sequence?: bigint, atMs: number }

/** how the scripted routers answer routers.putIpns: after `atMs` (default at once), taking it or refusing it */
interface PutScript { atMs: number, refuse: boolean }

/** a routers actor that answers routers.getIpns per name at a set time (or not-found), and routers.putIpns as `put` says (logged in `puts`) */
function scriptedRouters (scripts: Map<string, RouterScript>, asked: string[], puts: Array<{ name: string, record: Uint8Array }>, put: PutScript): ActorDefinition<BaseCommand, unknown> {
  return defineActor<RoutersGetIpns | RoutersPutIpns, { type: 'due', id: string, name: string } | { type: 'putDue', id: string, name: string }>({
    name: 'routers',
    commands: ['routers.getIpns', 'routers.putIpns'],
    start: ctx => {
      return {
        receive: msg => {
          if (msg.kind === 'cancel') return
          if (msg.kind === 'command' && msg.type === 'routers.putIpns') {
            puts.push({ name: msg.command.name, record: msg.command.record })
            ctx.after(put.atMs, { type: 'putDue', id: msg.port.id, name: msg.command.name })
            return
          }
          if (msg.kind === 'internal' && msg.msg.type === 'putDue') {
            if (put.refuse) ctx.fail(msg.msg.id, failure('failed', `${URL_1}: refused`))
            else ctx.reply(msg.msg.id, { name: msg.msg.name, accepted: 1, outcomes: [{ endpoint: URL_1, ok: true, attempts: 1 }] })
            return
          }
          if (msg.kind === 'command') {
            asked.push(msg.command.name)
            ctx.after(scripts.get(msg.command.name)?.atMs ?? 1, { type: 'due', id: msg.port.id, name: msg.command.name })
            return
          }
          const s = scripts.get(msg.msg.name)
          if (s?.record === undefined) ctx.fail(msg.msg.id, failure('not-found', 'no router has a record'))
          else ctx.reply(msg.msg.id, { name: msg.msg.name, record: s.record, endpoint: URL_1, value: `/ipfs/${CID}`, sequence: s.sequence ?? 0n, validity: '' })
        }
      }
    }
  }) as unknown as ActorDefinition<BaseCommand, unknown>
}

const start = rigPerTest()

function setup (quorum = 16, settleMs = 300): { world: World, h: ReturnType<typeof start>['h'], routers: Map<string, RouterScript>, asked: string[], puts: Array<{ name: string, record: Uint8Array }>, put: PutScript, status: () => Record<string, unknown> | undefined } {
  const r = start({ quorum, routers: { settleMs } })
  const routers = new Map<string, RouterScript>()
  const asked: string[] = []
  const puts: Array<{ name: string, record: Uint8Array }> = []
  const put: PutScript = { atMs: 0, refuse: false }
  r.system.spawn(scriptedRouters(routers, asked, puts, put))
  return { world: r.world, h: r.h, routers, asked, puts, put, status: () => r.ipnsStatus() as Record<string, unknown> | undefined }
}

function answered (o: Outcome | undefined): { reply: ResolveReply, at: number } {
  if (o?.ok !== true) throw new Error(`the resolve failed: ${o === undefined ? 'not settled' : `${o.error.name}: ${o.error.message}`}`)
  return { reply: o.value as ResolveReply, at: o.at }
}

describe('composite router policy (simulated clock)', () => {
  it('a router\'s valid record answers a settle time after it proved valid, while the DHT hangs', async () => {
    const { world, h, routers, asked } = setup()
    answer(world, A, [], 'hang')
    routers.set(A, { record: record(world, 'r1', fields(`/ipfs/${CID}`, 1)), sequence: 1n, atMs: 100 })
    const t0 = h.clock.now()
    const t = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    const { reply, at } = answered(t.outcome)
    expect(reply).toMatchObject({ sequence: 1n, source: 'router' })
    // 1 ms to read the repo (nothing there), 100 ms for the router, 1 ms to verify, 300 ms settle time
    expect(at - t0).toBe(402)
    expect(asked).toEqual([A])
    // kept in the repo like a DHT answer
    expect(world.log.storePuts.map(e => e.sequence)).toEqual([1n])
  })

  it('a better DHT record within the settle time wins; the DHT quorum does not wait for the router', async () => {
    const { world, h, routers } = setup()
    answer(world, A, [[record(world, 'd2', fields(`/ipfs/${CID}`, 2)), 'p1', 250]], 'hang')
    routers.set(A, { record: record(world, 'r1', fields(`/ipfs/${CID}`, 1)), sequence: 1n, atMs: 100 })
    const t0 = h.clock.now()
    const t = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    const first = answered(t.outcome)
    expect(first.reply).toMatchObject({ sequence: 2n, source: 'dht' })
    expect(first.at - t0).toBe(402)

    const q = setup(1)
    answer(q.world, A, [[record(q.world, 'd3', fields(`/ipfs/${CID}`, 3)), 'p1', 20]], 'hang')
    q.routers.set(A, { record: record(q.world, 'r4', fields(`/ipfs/${CID}`, 4)), sequence: 4n, atMs: 2_000 })
    const t1 = q.h.clock.now()
    const u = q.h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(q.h, 3_000)
    const second = answered(u.outcome)
    expect(second.reply).toMatchObject({ sequence: 3n, source: 'dht' })
    expect(second.at - t1).toBe(22)
  })

  it('answers as soon as both sources ended; a router that has nothing lets the DHT answer alone', async () => {
    const { world, h, routers } = setup()
    // the DHT ends at 50 ms with nothing; the router answers at 500 ms: no settle wait then
    answer(world, A, [], 50)
    routers.set(A, { record: record(world, 'r1', fields(`/ipfs/${CID}`, 1)), sequence: 1n, atMs: 500 })
    const t0 = h.clock.now()
    const t = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    const first = answered(t.outcome)
    expect(first.reply).toMatchObject({ sequence: 1n, source: 'router' })
    expect(first.at - t0).toBe(502)

    const n = setup()
    answer(n.world, A, [[record(n.world, 'd1', fields(`/ipfs/${CID}`, 1)), 'p1', 100]], 200)
    n.routers.set(A, { atMs: 30 }) // not found
    const t1 = n.h.clock.now()
    const u = n.h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(n.h, 1_000)
    const second = answered(u.outcome)
    expect(second.reply).toMatchObject({ sequence: 1n, source: 'dht' })
    expect(second.at - t1).toBe(201)
  })

  it('a DHT that ended with a valid record waits for a slow router only the settle time', async () => {
    const { world, h, routers } = setup()
    answer(world, A, [[record(world, 'd1', fields(`/ipfs/${CID}`, 1)), 'p1', 50]], 60)
    routers.set(A, { record: record(world, 'r2', fields(`/ipfs/${CID}`, 2)), sequence: 2n, atMs: 2_000 })
    const t0 = h.clock.now()
    const t = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 3_000)
    const { reply, at } = answered(t.outcome)
    expect(reply).toMatchObject({ sequence: 1n, source: 'dht' })
    expect(at - t0).toBe(361)
  })

  it('after answering at its settle time the DHT query goes on, and a better record it brings replaces the answer', async () => {
    const { world, h, routers, status } = setup()
    answer(world, A, [[record(world, 'd5', fields(`/ipfs/${CID}/better`, 5)), 'p1', 900]], 1_200)
    routers.set(A, { record: record(world, 'r1', fields(`/ipfs/${CID}`, 1)), sequence: 1n, atMs: 100 })
    const t = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 500)
    expect(answered(t.outcome).reply).toMatchObject({ sequence: 1n, source: 'router' })
    // the query was not cancelled
    await runFor(h, 1_000)
    expect(world.log.cancels.filter(c => c.type === 'dht.getValues')).toEqual([])
    expect(world.log.storePuts.map(e => e.sequence)).toEqual([1n, 5n])
    expect(status()).toMatchObject({ improved: 1, routerQueries: 1, routerAnswers: 1 })
    const again = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 10)
    expect(answered(again.outcome).reply).toMatchObject({ sequence: 5n, value: `/ipfs/${CID}/better`, source: 'cache' })
  })

  it('stream mode yields the better record second: the router\'s lower one first, the DHT\'s better one after, then the end', async () => {
    const { world, h, routers } = setup()
    answer(world, A, [[record(world, 'd2', fields(`/ipfs/${CID}/better`, 2)), 'p1', 250]], 400)
    routers.set(A, { record: record(world, 'r1', fields(`/ipfs/${CID}`, 1)), sequence: 1n, atMs: 100 })
    const t0 = h.clock.now()
    const st = h.stream({ type: 'ipns.resolveStream', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    expect(st.outcome).toMatchObject({ ok: true, value: 2 })
    expect(st.items).toMatchObject([
      { sequence: 1n, value: `/ipfs/${CID}`, source: 'router', hops: 1 },
      { sequence: 2n, value: `/ipfs/${CID}/better`, source: 'dht', hops: 1 }
    ])
    // no settle time: it ran until the DHT query ended (400 ms; a stream asks the network beside the repo read), not 300 ms after the router's record
    expect((st.outcome?.at ?? 0) - t0).toBe(400)
    // the best is cached: the next resolve is right at once
    const again = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 10)
    expect(answered(again.outcome).reply).toMatchObject({ sequence: 2n, source: 'cache' })
  })

  it('stream mode: the cached answer first, then only a strictly better record; a worse or equal one is not yielded', async () => {
    const { world, h, routers } = setup()
    answer(world, A, [[record(world, 'd3', fields(`/ipfs/${CID}`, 3)), 'p1', 20]], 30)
    routers.set(A, { atMs: 10 })
    const first = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    expect(answered(first.outcome).reply).toMatchObject({ sequence: 3n })
    // now the DHT has the same record and an older one, the router a newer one
    answer(world, A, [[record(world, 'd3', fields(`/ipfs/${CID}`, 3)), 'p1', 20], [record(world, 'd1', fields(`/ipfs/${CID}/old`, 1)), 'p2', 40]], 60)
    routers.set(A, { record: record(world, 'r4', fields(`/ipfs/${CID}/newer`, 4)), sequence: 4n, atMs: 100 })
    const st = h.stream({ type: 'ipns.resolveStream', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    expect(st.outcome).toMatchObject({ ok: true, value: 2 })
    expect(st.items).toMatchObject([
      { sequence: 3n, source: 'cache' },
      { sequence: 4n, value: `/ipfs/${CID}/newer`, source: 'router' }
    ])
  })

  it('stream mode fails like a resolve when nothing valid is found, and a consumer that stops cancels the query', async () => {
    const { world, h, routers } = setup()
    answer(world, A, [], 50)
    routers.set(A, { atMs: 10 })
    const st = h.stream({ type: 'ipns.resolveStream', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    expect(st.outcome?.ok).toBe(false)
    expect(st.outcome?.ok === false ? st.outcome.error.name : '').toBe('NotFoundError')
    // offline is not a stream resolve's option
    const off = h.stream({ type: 'ipns.resolveStream', name: A, offline: true } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 10)
    expect(off.outcome?.ok === false ? off.outcome.error.name : '').toBe('InvalidCommandError')

    const b = setup()
    answer(b.world, A, [[record(b.world, 'd1', fields(`/ipfs/${CID}`, 1)), 'p1', 20]], 'hang')
    b.routers.set(A, { atMs: 10 })
    const cut = b.h.stream({ type: 'ipns.resolveStream', name: A } as BaseCommand, { timeoutMs: 5_000 }, { breakAfter: 1 })
    await runFor(b.h, 1_000)
    expect(cut.items).toHaveLength(1)
    expect(b.world.log.cancels.filter(c => c.type === 'dht.getValues')).toHaveLength(1)
  })

  it('a router that answered with an older record is given the better one (at the answer, and after a background improvement)', async () => {
    const { world, h, routers, puts, status } = setup()
    const d2 = record(world, 'd2', fields(`/ipfs/${CID}`, 2))
    answer(world, A, [[d2, 'p1', 250]], 'hang')
    routers.set(A, { record: record(world, 'r1', fields(`/ipfs/${CID}`, 1)), sequence: 1n, atMs: 100 })
    const t = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    expect(answered(t.outcome).reply).toMatchObject({ sequence: 2n, source: 'dht' })
    expect(puts).toEqual([{ name: A, record: d2 }])
    expect(status()).toMatchObject({ routerCorrections: 1 })

    // a router with the same record as the DHT is left alone
    const same = setup()
    const d1 = record(same.world, 'd1', fields(`/ipfs/${CID}`, 1))
    answer(same.world, A, [[d1, 'p1', 20]], 40)
    same.routers.set(A, { record: d1, sequence: 1n, atMs: 10 })
    const u = same.h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(same.h, 1_000)
    expect(answered(u.outcome).reply).toMatchObject({ sequence: 1n })
    expect(same.puts).toEqual([])

    // answered from the router at its settle time; the DHT's better record comes later
    const late = setup()
    const d5 = record(late.world, 'd5', fields(`/ipfs/${CID}/better`, 5))
    answer(late.world, A, [[d5, 'p1', 900]], 1_200)
    late.routers.set(A, { record: record(late.world, 'r1', fields(`/ipfs/${CID}`, 1)), sequence: 1n, atMs: 100 })
    const v = late.h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(late.h, 2_000)
    expect(answered(v.outcome).reply).toMatchObject({ sequence: 1n, source: 'router' })
    expect(late.puts).toEqual([{ name: A, record: d5 }])
  })

  it('publish: a router that took the record acknowledges it at once; the DHT put goes on in the background (dhtPending)', async () => {
    const { world, h, put, status } = setup()
    world.keys = [keyInfo('self', A)]
    world.putDelayMs = 2_000
    put.atMs = 50
    const progress: Array<{ type: string, detail?: unknown }> = []
    h.system.onProgress(e => { if (e.type === 'ipns:publish:dht') progress.push(e) })
    const t0 = h.clock.now()
    const t = h.ask({ type: 'ipns.publish', value: `/ipfs/${CID}` } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 500)
    const o = t.outcome
    if (o?.ok !== true) throw new Error('the publish was not acknowledged by the router')
    expect(o.value).toMatchObject({ peers: 0, dhtPending: true, routers: [{ endpoint: URL_1, ok: true, attempts: 1 }] })
    expect(o.at - t0).toBeLessThan(100)
    // the put was not cancelled: it ends on its own, counted and told
    expect(world.log.cancels.filter(c => c.type === 'dht.put')).toEqual([])
    expect(status()).toMatchObject({ dhtPutsBehind: 1, dhtPutsRunning: 1, inFlight: 0 })
    await runFor(h, 2_000)
    expect(status()).toMatchObject({ dhtPutsBehindOk: 1, dhtPutsRunning: 0 })
    expect(progress).toMatchObject([{ type: 'ipns:publish:dht', detail: { name: A, peers: world.putPeers } }])
  })

  it('publish: a DHT put that answered first waits for the routers\' outcomes; no router took it: the DHT decides', async () => {
    const a = setup()
    a.world.keys = [keyInfo('self', A)]
    a.put.atMs = 200
    const t0 = a.h.clock.now()
    const t = a.h.ask({ type: 'ipns.publish', value: `/ipfs/${CID}` } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(a.h, 500)
    if (t.outcome?.ok !== true) throw new Error('not acknowledged')
    expect(t.outcome.value).toMatchObject({ peers: a.world.putPeers, dhtPending: false, routers: [{ ok: true }] })
    expect(t.outcome.at - t0).toBeGreaterThanOrEqual(200)

    const b = setup()
    b.world.keys = [keyInfo('self', A)]
    b.world.putDelayMs = 300
    b.put.refuse = true
    const u = b.h.ask({ type: 'ipns.publish', value: `/ipfs/${CID}` } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(b.h, 100)
    expect(u.outcome, 'waits for the DHT when no router took it').toBeUndefined()
    await runFor(b.h, 500)
    if (u.outcome?.ok !== true) throw new Error('not acknowledged')
    expect(u.outcome.value).toMatchObject({ peers: b.world.putPeers, dhtPending: false, routers: [] })

    const c = setup()
    c.world.keys = [keyInfo('self', A)]
    c.world.putFailure = failure('failed', 'dht.put: no peer accepted it')
    c.put.refuse = true
    const v = c.h.ask({ type: 'ipns.publish', value: `/ipfs/${CID}` } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(c.h, 500)
    expect(v.outcome?.ok).toBe(false)
    expect(v.outcome?.ok === false && v.outcome.error.message).toMatch(/no HTTP router took it/)
  })
})

/**
 * Routing around stalled and suspect peers (kad-walk.ts with the port's
 * RouteAroundState), against requests the test writes and answers by hand on
 * the simulated clock: a stall counts from the write, the stall time follows
 * the answers while a lookup runs, a slow open has its own longer limit and makes no suspect, a lookup ends without waiting on
 * stalled requests once some peer answered (and not before), a stalled
 * request left unanswered makes its peer a suspect, a late answer does not,
 * and a suspect is asked on the side and still in the results when it
 * answers.
 */
import { describe, expect, it } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ed25519KeyFromSeed } from '../../../../src/actors/swarm/libp2p/libp2p-options.js'
import { SimulatedClock } from '../../../../src/actors/runtime/clock.js'
import { RouteAroundState } from '../../../../src/actors/swarm/dht-client/route-around.js'
import { compareDistance, kadId, LOOKUP_K } from '../../../../src/actors/swarm/dht-client/kad-walk.js'
import { lookupValues } from '../../../../src/actors/swarm/dht-client/value-lookup.js'
import { lookupClosestPeers } from '../../../../src/actors/swarm/dht-client/closest-peers.js'
import type { GetValueAnswer, GetValueRpc } from '../../../../src/actors/swarm/dht-client/kad-rpc.js'
import type { PeerId } from '@libp2p/interface'

const enc = new TextEncoder()
const dec = new TextDecoder()
const KEY = enc.encode('/t/some-name')
const TARGET = kadId(KEY)
const tick = async (): Promise<void> => { await new Promise(resolve => setImmediate(resolve)) }

async function peers (n: number): Promise<PeerId[]> {
  const out: PeerId[] = []
  for (let i = 0; i < n; i++) {
    const seed = new Uint8Array(32)
    new DataView(seed.buffer).setUint32(0, 7_000 + i)
    out.push(peerIdFromPrivateKey(await ed25519KeyFromSeed(seed)))
  }
  return out
}

const byDistance = (list: PeerId[]): PeerId[] =>
  [...list].sort((a, b) => compareDistance(TARGET, kadId(a.toMultihash().bytes), kadId(b.toMultihash().bytes)))

interface Call { peer: string, sent: () => void, negotiating: () => void, answer: (a: GetValueAnswer) => void, signal: AbortSignal }

/** requests the test writes (sent) and answers by hand, through the port's tracking */
function rig (clock: SimulatedClock): { calls: Call[], state: RouteAroundState, rpc: GetValueRpc } {
  const calls: Call[] = []
  const state = new RouteAroundState(clock)
  const rpc = state.track<GetValueAnswer>(async (peer, _addrs, _key, signal, phase) => await new Promise<GetValueAnswer>((resolve, reject) => {
    calls.push({ peer: peer.toString(), sent: () => phase?.('sent'), negotiating: () => phase?.('negotiating'), answer: resolve, signal })
    signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
  }))
  return { calls, state, rpc }
}

const validate = async (record: Uint8Array): Promise<Uint8Array> => record
const find = (calls: Call[], peer: PeerId | undefined): Call => calls.find(c => c.peer === peer?.toString()) as Call

describe('route-around: stalls, suspects', () => {
  it('a written request stalls after stallMs without an answer: it stops holding its slot, its late answer counts, no suspect', async () => {
    const [self, ...others] = await peers(10)
    const sorted = byDistance(others)
    const clock = new SimulatedClock(0)
    const { calls, state, rpc } = rig(clock)
    const walkView = state.forWalk()
    expect(walkView.stallMs).toBe(750) // no answers seen yet
    const values: string[] = []
    const run = (async () => {
      for await (const v of lookupValues({ key: KEY, self: self as PeerId, start: others, rpc, validate, dialable: () => [], signal: new AbortController().signal, width: 2, values: 3, routeAround: walkView })) values.push(dec.decode(v.value))
    })()
    await tick()
    expect(calls.map(c => c.peer)).toEqual(sorted.slice(0, 2).map(String))
    // the 2nd request is written only at 500 ms (a slow dial): the stall counts from there
    calls[0]?.sent()
    clock.advanceTo(500)
    calls[1]?.sent()
    calls[0]?.answer({ record: enc.encode('a'), closer: [] })
    await tick()
    expect(calls).toHaveLength(3)
    clock.advanceTo(600)
    calls[2]?.sent()
    clock.advanceTo(500 + 749)
    await tick()
    expect(calls).toHaveLength(3)
    clock.advanceTo(500 + 750)
    await tick()
    expect(calls).toHaveLength(4) // stalled: a 4th peer asked besides it
    expect(calls[1]?.signal.aborted).toBe(false)
    calls[1]?.answer({ record: enc.encode('late'), closer: [] })
    calls[2]?.answer({ record: enc.encode('c'), closer: [] })
    await run
    expect(values.sort()).toEqual(['a', 'c', 'late'])
    expect(calls[3]?.signal.aborted).toBe(true)
    expect(state.stats()).toMatchObject({ lateAnswers: 1, suspects: 0, suspected: 0 })
    expect(state.stats().stalls).toBeGreaterThanOrEqual(1)
    expect(state.liveness.size).toBe(0)
  })

  it('a request not written yet (dialling) holds its slot for the longer open stall time, and a slow open makes no suspect', async () => {
    const [self, ...others] = await peers(6)
    const sorted = byDistance(others)
    const clock = new SimulatedClock(0)
    const { calls, state, rpc } = rig(clock)
    const view = state.forWalk()
    expect(view.openStallMs).toBe(3 * 750)
    const run = lookupValues({ key: KEY, self: self as PeerId, start: others, rpc, validate, dialable: () => [], signal: new AbortController().signal, width: 1, values: 1, routeAround: view })
    const first = run.next()
    await tick()
    expect(calls).toHaveLength(1)
    clock.advanceTo(2_249)
    await tick()
    expect(calls).toHaveLength(1) // still opening, still waited on (a stall time of 750 ms would have given up)
    clock.advanceTo(2_250)
    await tick()
    expect(calls).toHaveLength(2)
    expect(calls[1]?.peer).toBe(sorted[1]?.toString())
    calls[1]?.sent()
    calls[1]?.answer({ record: enc.encode('v'), closer: [] })
    expect(dec.decode((await first).value?.value ?? new Uint8Array())).toBe('v')
    await run.return()
    // the slow open was aborted with the lookup: not a strike
    expect(state.stats()).toMatchObject({ suspects: 0, suspected: 0, stalls: 0 })
  })

  it('a new stream on an open connection (one round trip) stalls after the stall time, and makes no suspect', async () => {
    const [self, a, b] = await peers(3)
    const clock = new SimulatedClock(0)
    const { calls, state, rpc } = rig(clock)
    const run = (async () => {
      const out = []
      for await (const v of lookupValues({ key: KEY, self: self as PeerId, start: [a as PeerId, b as PeerId], rpc, validate, dialable: () => [], signal: new AbortController().signal, width: 1, routeAround: state.forWalk() })) out.push(v)
      return out
    })()
    await tick()
    expect(calls).toHaveLength(1)
    const first = calls[0] as Call
    clock.advanceTo(100)
    first.negotiating()
    clock.advanceTo(100 + 749)
    await tick()
    expect(calls).toHaveLength(1)
    clock.advanceTo(100 + 750) // not the open stall time (2,250 ms): the stall time from the negotiation's start
    await tick()
    expect(calls).toHaveLength(2)
    calls[1]?.sent()
    calls[1]?.answer({ closer: [] })
    expect(await run).toEqual([])
    expect(first.signal.aborted).toBe(true)
    // it never got written: a stall before the write is no strike
    expect(state.stats()).toMatchObject({ stalls: 1, suspects: 0, suspected: 0 })
  })

  it('ends without waiting on stalled requests once a peer answered; the stalled, unanswered peer becomes a suspect', async () => {
    const [self, a, b] = await peers(3)
    const clock = new SimulatedClock(0)
    const { calls, state, rpc } = rig(clock)
    let ended = false
    const run = (async () => {
      const out = []
      for await (const v of lookupValues({ key: KEY, self: self as PeerId, start: [a as PeerId, b as PeerId], rpc, validate, dialable: () => [], signal: new AbortController().signal, routeAround: state.forWalk() })) out.push(v)
      ended = true
      return out
    })()
    await tick()
    expect(calls).toHaveLength(2)
    for (const c of calls) c.sent()
    // a's answer after 100 ms is the first answer time: the stall time drops from 750 to 4 × 100 ms, for this lookup too
    clock.advanceTo(100)
    find(calls, a).answer({ closer: [] })
    await tick()
    expect(state.forWalk().stallMs).toBe(400)
    clock.advanceTo(399)
    await tick()
    expect(ended).toBe(false)
    clock.advanceTo(400)
    await tick()
    expect(await run).toEqual([])
    expect(find(calls, b).signal.aborted).toBe(true)
    expect(state.suspects.isSuspect(String(b))).toBe(true)
    expect(state.suspects.isSuspect(String(a))).toBe(false)
    expect(state.stats()).toMatchObject({ stalls: 1, lateAnswers: 0, suspects: 1, suspected: 1 })
  })

  it('a lookup that has heard from no peer waits on its stalled requests (its caller\'s deadline ends it)', async () => {
    const [self, a] = await peers(2)
    const clock = new SimulatedClock(0)
    const { calls, state, rpc } = rig(clock)
    const caller = new AbortController()
    let settled = false
    const run = (async () => {
      for await (const _ of lookupValues({ key: KEY, self: self as PeerId, start: [a as PeerId], rpc, validate, dialable: () => [], signal: caller.signal, routeAround: state.forWalk() })) { /* none */ }
    })().finally(() => { settled = true })
    await tick()
    calls[0]?.sent()
    clock.advanceTo(10_000)
    await tick()
    expect(settled).toBe(false)
    caller.abort()
    await expect(run).rejects.toThrow()
    // stalled and unanswered at the end: a strike all the same
    expect(state.suspects.isSuspect(String(a))).toBe(true)
  })

  it('a suspect is asked on the side (no slot, never waited for); when it answers it counts, is in the closest peers, and is cleared', async () => {
    const [self, ...others] = await peers(8)
    const sorted = byDistance(others)
    const clock = new SimulatedClock(0)
    const { calls, state, rpc } = rig(clock)
    const suspect = sorted[0] as PeerId
    state.suspects.strike(suspect.toString())
    const closest = lookupClosestPeers({ key: KEY, self: self as PeerId, start: others, rpc, dialable: () => [], signal: new AbortController().signal, width: 2, routeAround: state.forWalk() })
    const results = (async () => { const out: string[] = []; for await (const p of closest) out.push(p.id.toString()); return out })()
    await tick()
    // the suspect and the next two: two slots, the suspect holds none
    expect(calls.map(c => c.peer)).toEqual(sorted.slice(0, 3).map(String))
    for (const c of calls) c.sent()
    find(calls, sorted[1]).answer({ closer: [] })
    find(calls, sorted[2]).answer({ closer: [] })
    await tick()
    find(calls, suspect).answer({ closer: [] }) // late, but while the lookup runs
    for (let i = 0; i < 10; i++) {
      await tick()
      for (const c of calls) if (!c.signal.aborted) { c.sent(); c.answer({ closer: [] }) }
    }
    const got = await results
    expect(got).toEqual(sorted.slice(0, Math.min(LOOKUP_K, sorted.length)).map(String))
    expect(state.suspects.isSuspect(suspect.toString())).toBe(false)
  })

  it('a frozen suspect does not hold a lookup up: it ends as soon as the others have answered', async () => {
    const [self, ...others] = await peers(6)
    const sorted = byDistance(others)
    const clock = new SimulatedClock(0)
    const { calls, state, rpc } = rig(clock)
    const frozen = sorted[0] as PeerId
    state.suspects.strike(frozen.toString())
    const closest = lookupClosestPeers({ key: KEY, self: self as PeerId, start: others, rpc, dialable: () => [], signal: new AbortController().signal, routeAround: state.forWalk() })
    const results = (async () => { const out: string[] = []; for await (const p of closest) out.push(p.id.toString()); return out })()
    await tick()
    expect(calls).toHaveLength(5)
    for (const c of calls) if (c.peer !== frozen.toString()) { c.sent(); c.answer({ closer: [] }) }
    expect(await results).toEqual(sorted.slice(1).map(String))
    expect(find(calls, frozen).signal.aborted).toBe(true)
    // never written (still opening): no new strike
    expect(state.stats().suspected).toBe(1)
  })
})

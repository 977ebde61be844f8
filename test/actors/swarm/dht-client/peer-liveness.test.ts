/**
 * peer-liveness: a peer makes progress when a request to it starts with none
 * open and whenever it answers; entries live only while requests are open.
 */
import { describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { SimulatedClock } from '../../../../src/actors/runtime/clock.js'
import { PeerLiveness, STALL } from '../../../../src/actors/swarm/dht-client/peer-liveness.js'

const A = peerIdFromString('12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9pP2EQhsHBPWX')

describe('PeerLiveness', () => {
  it('tracks the last progress of a peer while it has requests open', () => {
    const clock = new SimulatedClock(1_000)
    const l = new PeerLiveness(() => clock.now())
    expect(l.progressAt(A)).toBeUndefined()
    l.opened(A)
    clock.advance(10)
    l.opened(A) // a second request does not count as progress
    expect(l.progressAt(A)).toBe(1_000)
    clock.advance(10)
    l.closed(A, undefined) // a failure is not progress
    expect(l.progressAt(A)).toBe(1_000)
    clock.advance(10)
    l.opened(A)
    l.closed(A, 5)
    expect(l.progressAt(A)).toBe(1_030)
    l.closed(A, 5)
    expect(l.progressAt(A)).toBeUndefined()
    expect(l.size).toBe(0)
    l.closed(A, 5) // unmatched: ignored
    expect(l.size).toBe(0)
  })

  it('the stall time is 4 × the median answer time within 200 ms … 2 s; before 8 answers, 4 × the slowest within 200 … 750 ms', () => {
    const l = new PeerLiveness(() => 0)
    const answer = (ms: number): void => { l.opened(A); l.closed(A, ms) }
    expect(l.stallMs()).toBe(STALL.initialMs)
    l.opened(A)
    l.closed(A, undefined) // a failure is no answer time
    expect(l.stallMs()).toBe(STALL.initialMs)
    answer(10)
    expect(l.stallMs()).toBe(200) // the floor
    answer(80)
    expect(l.stallMs()).toBe(320) // the slowest of the first answers, not their median
    answer(10)
    answer(300)
    expect(l.stallMs()).toBe(STALL.initialMs) // never longer than before any answer
    for (let i = 0; i < 4; i++) answer(10)
    expect(l.stallMs()).toBe(200) // 8 answers: the median (10 ms) rules
    for (let i = 0; i < 64; i++) answer(i < 40 ? 60 : 5_000)
    expect(l.stallMs()).toBe(240) // the 64 kept: 40 × 60 ms, 24 slow ones
    for (let i = 0; i < 64; i++) answer(900)
    expect(l.stallMs()).toBe(2_000)
  })
})

/**
 * The suspect table on the simulated clock: 30 s after a first strike,
 * doubling on strikes while (or soon after) a suspect up to 8 min, ended by
 * an answer, forgotten after its backoff, and bounded.
 */
import { describe, expect, it } from 'vitest'
import { SimulatedClock } from '../../../../src/actors/runtime/clock.js'
import { SUSPECTS, SuspectTable } from '../../../../src/actors/swarm/dht-client/suspects.js'

const S = 1_000
const MIN = 60 * S

describe('SuspectTable', () => {
  it('a strike makes a peer suspect for 30 s on the injected clock', () => {
    const clock = new SimulatedClock(5_000)
    const t = new SuspectTable(() => clock.now())
    expect(t.isSuspect('a')).toBe(false)
    t.strike('a')
    expect(t.isSuspect('a')).toBe(true)
    expect(t.remainingMs('a')).toBe(30 * S)
    clock.advance(30 * S - 1)
    expect(t.isSuspect('a')).toBe(true)
    clock.advance(1)
    expect(t.isSuspect('a')).toBe(false)
    expect(t.stats()).toEqual({ suspects: 0, suspected: 1 })
  })

  it('strikes while suspect, or within the backoff after, double the time up to 8 min', () => {
    const clock = new SimulatedClock(0)
    const t = new SuspectTable(() => clock.now())
    const lengths: number[] = []
    for (let i = 0; i < 7; i++) {
      t.strike('a')
      lengths.push(t.remainingMs('a'))
      // the suspicion runs out, and the peer fails again soon after
      clock.advance(t.remainingMs('a') + 10 * S)
    }
    expect(lengths).toEqual([30 * S, 60 * S, 2 * MIN, 4 * MIN, 8 * MIN, 8 * MIN, 8 * MIN])
    // a strike long after (past the backoff) starts again at 30 s
    clock.advance(9 * MIN)
    expect(t.size).toBe(1) // not read since: still held
    expect(t.isSuspect('a')).toBe(false)
    expect(t.size).toBe(0) // expired on read
    t.strike('a')
    expect(t.remainingMs('a')).toBe(30 * S)
  })

  it('an answer ends the suspicion at once; the doubling is remembered', () => {
    const clock = new SimulatedClock(0)
    const t = new SuspectTable(() => clock.now())
    t.strike('a')
    clock.advance(1 * S)
    t.answered('a')
    expect(t.isSuspect('a')).toBe(false)
    expect(t.stats().suspects).toBe(0)
    t.answered('never-struck') // nothing to do
    expect(t.size).toBe(1)
    clock.advance(5 * S)
    t.strike('a')
    expect(t.remainingMs('a')).toBe(60 * S)
  })

  it(`holds at most ${SUSPECTS.max} entries: the one expiring first goes`, () => {
    const clock = new SimulatedClock(0)
    const t = new SuspectTable(() => clock.now(), { ...SUSPECTS, max: 4 })
    t.strike('old')
    t.strike('old') // 60 s, expires last of all: 60 + 60 s
    clock.advance(1)
    for (const p of ['b', 'c', 'd']) { t.strike(p); clock.advance(1) }
    expect(t.size).toBe(4)
    t.strike('e')
    expect(t.size).toBe(4)
    // b expired first (struck once, earliest): dropped
    expect(t.isSuspect('b')).toBe(false)
    expect(['old', 'c', 'd', 'e'].every(p => t.isSuspect(p))).toBe(true)
    // a flood of strikes never grows it
    for (let i = 0; i < 1_000; i++) t.strike(`p${i}`)
    expect(t.size).toBe(4)
    expect(t.stats()).toEqual({ suspects: 4, suspected: 1_006 })
  })

  it('expired entries are swept when the table is full, before anything live is dropped', () => {
    const clock = new SimulatedClock(0)
    const t = new SuspectTable(() => clock.now(), { ...SUSPECTS, max: 2 })
    t.strike('a')
    t.strike('b')
    clock.advance(61 * S) // both past 30 s + 30 s backoff
    t.strike('c')
    expect(t.size).toBe(1)
    expect(t.isSuspect('c')).toBe(true)
  })
})

/**
 * answer-times: the lookups' hedge follows recent answer times (twice their
 * 90th percentile, within a floor and a ceiling), and starts from a default.
 */
import { describe, expect, it } from 'vitest'
import { AnswerTimes, DEFAULT_HEDGE } from '../../../src/actors/swarm/answer-times.js'

describe('AnswerTimes', () => {
  it('uses the initial hedge until minSamples answers are in', () => {
    const t = new AnswerTimes({ minSamples: 4 })
    for (let i = 0; i < 3; i++) t.record(10)
    expect(t.hedgeMs()).toBe(DEFAULT_HEDGE.initialMs)
    t.record(10)
    expect(t.hedgeMs()).toBe(DEFAULT_HEDGE.floorMs)
  })

  it('is twice the 90th percentile, within floor and ceiling', () => {
    const t = new AnswerTimes({ minSamples: 1 })
    for (let i = 1; i <= 100; i++) t.record(i * 10) // 10 … 1000 ms
    expect(t.hedgeMs()).toBe(2 * 910)
    const slow = new AnswerTimes({ minSamples: 1 })
    slow.record(60_000)
    expect(slow.hedgeMs()).toBe(DEFAULT_HEDGE.ceilingMs)
  })

  it('forgets old answers: the ring keeps the last `capacity`, and ignores nonsense', () => {
    const t = new AnswerTimes({ capacity: 8, minSamples: 1 })
    for (let i = 0; i < 8; i++) t.record(4_000)
    for (let i = 0; i < 8; i++) t.record(20)
    expect(t.samples).toBe(8)
    expect(t.hedgeMs()).toBe(DEFAULT_HEDGE.floorMs)
    t.record(Number.NaN)
    t.record(-5)
    expect(t.samples).toBe(8)
  })
})

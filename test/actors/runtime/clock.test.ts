import { describe, expect, it } from 'vitest'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'

describe('SimulatedClock', () => {
  it('starts where told and only moves when told', () => {
    const c = new SimulatedClock(100)
    expect(c.now()).toBe(100)
    expect(c.advance(0)).toBe(0)
    expect(c.now()).toBe(100)
    c.advance(50)
    expect(c.now()).toBe(150)
  })

  it('advance fires due timers in (time, id) order and sets now() to each timer time while it runs', () => {
    const c = new SimulatedClock()
    const log: Array<[string, number]> = []
    c.setTimer(30, () => log.push(['c', c.now()]))
    c.setTimer(10, () => log.push(['a', c.now()]))
    c.setTimer(20, () => log.push(['b1', c.now()]))
    c.setTimer(20, () => log.push(['b2', c.now()]))
    c.setTimer(40, () => log.push(['late', c.now()]))
    expect(c.advance(30)).toBe(4)
    expect(log).toEqual([['a', 10], ['b1', 20], ['b2', 20], ['c', 30]])
    expect(c.now()).toBe(30)
    expect(c.pendingTimers).toBe(1)
    expect(c.nextTimerAt()).toBe(40)
  })

  it('fires timers set by a firing timer when they fall within the advance', () => {
    const c = new SimulatedClock()
    const log: number[] = []
    c.setTimer(10, () => {
      log.push(c.now())
      c.setTimer(c.now() + 5, () => log.push(c.now()))
      c.setTimer(c.now() + 50, () => log.push(c.now()))
    })
    expect(c.advance(20)).toBe(2)
    expect(log).toEqual([10, 15])
    expect(c.now()).toBe(20)
    expect(c.nextTimerAt()).toBe(60)
  })

  it('a timer set in the past fires on the next advance without moving time back', () => {
    const c = new SimulatedClock(100)
    let at = -1
    c.setTimer(50, () => { at = c.now() })
    c.advance(0)
    expect(at).toBe(100)
  })

  it('clearTimer cancels; clearing an unknown or fired id is harmless', () => {
    const c = new SimulatedClock()
    let fired = 0
    const id = c.setTimer(10, () => { fired++ })
    const other = c.setTimer(10, () => { fired += 10 })
    c.clearTimer(id)
    c.clearTimer(9999)
    expect(c.pendingTimers).toBe(1)
    c.advance(10)
    expect(fired).toBe(10)
    c.clearTimer(other)
    expect(c.pendingTimers).toBe(0)
    expect(c.nextTimerAt()).toBeUndefined()
  })

  it('fire(id) runs exactly that timer, moves time up to it, and false for an unknown id', () => {
    const c = new SimulatedClock()
    const log: string[] = []
    const a = c.setTimer(10, () => log.push('a'))
    const b = c.setTimer(20, () => log.push('b'))
    expect(c.fire(b)).toBe(true)
    expect(log).toEqual(['b'])
    expect(c.now()).toBe(20)
    expect(c.fire(b)).toBe(false)
    // a is overdue now; firing it does not move time back
    expect(c.fire(a)).toBe(true)
    expect(c.now()).toBe(20)
    expect(log).toEqual(['b', 'a'])
  })

  it('set() only moves forward and fires nothing', () => {
    const c = new SimulatedClock(10)
    let fired = false
    c.setTimer(15, () => { fired = true })
    c.set(5)
    expect(c.now()).toBe(10)
    c.set(20)
    expect(c.now()).toBe(20)
    expect(fired).toBe(false)
    expect(c.pendingTimers).toBe(1)
  })

  it('issues timer ids in call order', () => {
    const c = new SimulatedClock()
    const ids = [c.setTimer(5, () => {}), c.setTimer(1, () => {}), c.setTimer(3, () => {})]
    expect(ids).toEqual([1, 2, 3])
  })
})

import { describe, expect, it } from 'vitest'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import { DeadlineSweeper } from '../../../src/actors/runtime/deadline-sweeper.js'
import { createRng } from '../../../src/actors/runtime/rng.js'

interface Item { name: string, deadline: number, live: boolean }

function setup (): { clock: SimulatedClock, sweeper: DeadlineSweeper<Item>, expired: Array<[string, number]>, add: (name: string, deadline: number) => Item, remove: (item: Item) => void } {
  const clock = new SimulatedClock()
  const expired: Array<[string, number]> = []
  // like the system: expiry settles the item, which makes it not live and calls removed()
  const sweeper: DeadlineSweeper<Item> = new DeadlineSweeper<Item>(clock, i => i.live, i => {
    expired.push([i.name, clock.now()])
    i.live = false
    sweeper.removed()
  })
  const add = (name: string, deadline: number): Item => {
    const item = { name, deadline, live: true }
    sweeper.add(item)
    return item
  }
  const remove = (item: Item): void => {
    item.live = false
    sweeper.removed()
  }
  return { clock, sweeper, expired, add, remove }
}

describe('DeadlineSweeper', () => {
  it('keeps one clock timer, armed for the earliest deadline', () => {
    const { clock, add } = setup()
    add('a', 500)
    expect(clock.pendingTimers).toBe(1)
    expect(clock.nextTimerAt()).toBe(500)
    add('b', 900)
    expect(clock.pendingTimers).toBe(1)
    expect(clock.nextTimerAt()).toBe(500)
    add('c', 100)
    expect(clock.pendingTimers).toBe(1)
    expect(clock.nextTimerAt()).toBe(100)
    for (let i = 0; i < 100; i++) add(`x${i}`, 1000 + i)
    expect(clock.pendingTimers).toBe(1)
  })

  it('expires items at their deadline, in deadline order, re-arming for the next', () => {
    const { clock, sweeper, expired, add } = setup()
    add('c', 30)
    add('a', 10)
    add('b', 20)
    add('b2', 20)
    clock.advance(9)
    expect(expired).toEqual([])
    clock.advance(1)
    expect(expired).toEqual([['a', 10]])
    expect(clock.nextTimerAt()).toBe(20)
    clock.advance(100)
    // equal deadlines expire in the same firing (their relative order is unspecified)
    expect(expired[0]?.[0]).toBe('a')
    expect(new Set(expired.slice(1, 3).map(e => e[0]))).toEqual(new Set(['b', 'b2']))
    expect(expired[3]?.[0]).toBe('c')
    expect(expired.map(e => e[1])).toEqual([10, 20, 20, 30])
    expect(sweeper.size).toBe(0)
  })

  it('skips items removed before their deadline (lazy removal)', () => {
    const { clock, sweeper, expired, add, remove } = setup()
    const a = add('a', 10)
    add('b', 20)
    const c = add('c', 30)
    remove(a)
    remove(c)
    expect(sweeper.size).toBe(1)
    clock.advance(100)
    expect(expired).toEqual([['b', 20]])
  })

  it('an idle firing after everything was removed expires nothing and disarms', () => {
    const { clock, expired, add, remove } = setup()
    const a = add('a', 10)
    remove(a)
    clock.advance(50)
    expect(expired).toEqual([])
    expect(clock.pendingTimers).toBe(0)
    // and it re-arms for new items
    add('b', 80)
    expect(clock.nextTimerAt()).toBe(80)
    clock.advance(100)
    expect(expired).toEqual([['b', 80]])
  })

  it('a later item added while an earlier timer is armed still expires on time', () => {
    const { clock, expired, add, remove } = setup()
    const a = add('a', 10)
    remove(a) // timer stays armed at 10
    add('b', 40)
    clock.advanceTo(39)
    expect(expired).toEqual([])
    clock.advanceTo(40)
    expect(expired).toEqual([['b', 40]])
  })

  it('clear() disarms and forgets everything', () => {
    const { clock, sweeper, expired, add } = setup()
    add('a', 10)
    add('b', 20)
    sweeper.clear()
    expect(clock.pendingTimers).toBe(0)
    expect(sweeper.size).toBe(0)
    expect(sweeper.heapSize).toBe(0)
    clock.advance(100)
    expect(expired).toEqual([])
  })

  it('heap stays within ~2× the live count under churn, and expiry stays exact', () => {
    const { clock, sweeper, expired, add, remove } = setup()
    const rng = createRng(11)
    const live = new Set<Item>()
    let n = 0
    let maxRatioViolation = 0
    let maxHeap = 0
    let sizeMismatches = 0
    for (let round = 0; round < 4000; round++) {
      // add a few with random deadlines in the future, settle a few at random
      const adds = rng.int(4)
      for (let i = 0; i < adds; i++) live.add(add(`i${n++}`, clock.now() + 1 + rng.int(5000)))
      const removes = rng.int(4)
      for (let i = 0; i < removes && live.size > 0; i++) {
        const pick = [...live][rng.int(live.size)] as Item
        live.delete(pick)
        remove(pick)
      }
      if (rng.int(10) === 0) clock.advance(rng.int(50))
      for (const e of expired.splice(0)) {
        for (const it of live) if (it.name === e[0]) live.delete(it)
      }
      if (sweeper.size !== live.size) sizeMismatches++
      // compaction runs on removal (heap > 64 and > 2× live); up to 3 adds may follow before the next one
      const bound = Math.max(64, 2 * sweeper.size) + 3
      if (sweeper.heapSize > bound) maxRatioViolation = Math.max(maxRatioViolation, sweeper.heapSize)
      maxHeap = Math.max(maxHeap, sweeper.heapSize)
    }
    expect(sizeMismatches).toBe(0)
    expect(maxRatioViolation).toBe(0)
    // thousands were added; without compaction the heap would hold most of them
    expect(n).toBeGreaterThan(5000)
    expect(maxHeap).toBeLessThan(300)
    // settle all but a handful: the heap must shrink with them
    const rest = [...live]
    for (const it of rest.slice(5)) { live.delete(it); remove(it) }
    expect(sweeper.size).toBe(live.size)
    expect(sweeper.heapSize).toBeLessThanOrEqual(65)
    // the survivors still expire exactly at their deadlines
    const want = [...live].sort((a, b) => a.deadline - b.deadline).map(i => [i.name, i.deadline])
    clock.advance(10_000)
    expect(expired).toEqual(want)
    expect(sweeper.size).toBe(0)
  })

  it('many items with the same deadline all expire in one firing', () => {
    const { clock, expired, add } = setup()
    for (let i = 0; i < 200; i++) add(`s${i}`, 77)
    expect(clock.advance(100)).toBe(1)
    expect(expired.length).toBe(200)
    expect(new Set(expired.map(e => e[1]))).toEqual(new Set([77]))
  })
})

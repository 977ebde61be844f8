import { describe, expect, it } from 'vitest'
import { Ring } from '../../../src/actors/runtime/ring.js'

describe('Ring', () => {
  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new Ring(0)).toThrow(RangeError)
    expect(() => new Ring(-1)).toThrow(RangeError)
    expect(() => new Ring(1.5)).toThrow(RangeError)
  })

  it('holds exactly capacity items; push returns false when full and keeps the contents', () => {
    const r = new Ring<number>(3)
    expect(r.push(1)).toBe(true)
    expect(r.push(2)).toBe(true)
    expect(r.push(3)).toBe(true)
    expect(r.push(4)).toBe(false)
    expect(r.size).toBe(3)
    expect(r.drain()).toEqual([1, 2, 3])
  })

  it('is FIFO across wrap-around', () => {
    const r = new Ring<number>(4)
    const out: number[] = []
    let next = 0
    // interleave pushes and shifts so head wraps several times
    for (let round = 0; round < 10; round++) {
      while (r.push(next)) next++
      out.push(r.shift() as number, r.shift() as number, r.shift() as number)
    }
    out.push(...r.drain())
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i))
    expect(r.size).toBe(0)
  })

  it('peek shows the oldest without removing it; shift/peek on empty give undefined', () => {
    const r = new Ring<string>(2)
    expect(r.peek()).toBeUndefined()
    expect(r.shift()).toBeUndefined()
    r.push('a')
    r.push('b')
    expect(r.peek()).toBe('a')
    expect(r.size).toBe(2)
    expect(r.shift()).toBe('a')
    r.push('c')
    expect(r.peek()).toBe('b')
  })

  it('drain empties it, oldest first, and it is usable afterwards', () => {
    const r = new Ring<number>(3)
    r.push(1); r.push(2); r.shift(); r.push(3); r.push(4)
    expect(r.drain()).toEqual([2, 3, 4])
    expect(r.size).toBe(0)
    expect(r.drain()).toEqual([])
    expect(r.push(5)).toBe(true)
    expect(r.drain()).toEqual([5])
  })

  it('keeps falsy items (0, empty string, null) in order', () => {
    const r = new Ring<number | string | null>(3)
    r.push(0); r.push(''); r.push(null)
    expect(r.size).toBe(3)
    expect(r.shift()).toBe(0)
    expect(r.shift()).toBe('')
    expect(r.shift()).toBe(null)
  })
})

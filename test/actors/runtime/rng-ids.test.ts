import { describe, expect, it } from 'vitest'
import { createIdSource } from '../../../src/actors/runtime/ids.js'
import { createRng } from '../../../src/actors/runtime/rng.js'

describe('createRng', () => {
  it('is deterministic per seed', () => {
    const a = createRng(42)
    const b = createRng(42)
    const xs = Array.from({ length: 100 }, () => a.next())
    const ys = Array.from({ length: 100 }, () => b.next())
    expect(xs).toEqual(ys)
    expect(a.seed).toBe(42)
  })

  it('different seeds give different sequences (including 0 and neighbours)', () => {
    const seqs = [0, 1, 2, 3, 0xffffffff].map(s => {
      const r = createRng(s)
      return Array.from({ length: 8 }, () => r.int(1 << 30)).join(',')
    })
    expect(new Set(seqs).size).toBe(seqs.length)
  })

  it('next is in [0,1) and int(n) in [0,n), roughly uniform', () => {
    const r = createRng(7)
    const buckets = new Array<number>(10).fill(0)
    const N = 20_000
    let outOfRange = 0
    for (let i = 0; i < N; i++) {
      const x = r.next()
      if (!(x >= 0 && x < 1)) outOfRange++
      const k = r.int(10)
      if (!(Number.isInteger(k) && k >= 0 && k < 10)) outOfRange++
      buckets[k] = (buckets[k] ?? 0) + 1
    }
    expect(outOfRange).toBe(0)
    for (const b of buckets) {
      expect(b).toBeGreaterThan(N / 10 * 0.9)
      expect(b).toBeLessThan(N / 10 * 1.1)
    }
  })

  it('int(1) is always 0', () => {
    const r = createRng(3)
    expect(Array.from({ length: 100 }, () => r.int(1)).every(x => x === 0)).toBe(true)
  })
})

describe('createIdSource', () => {
  it('issues unique ids', () => {
    const ids = createIdSource()
    const seen = new Set<string>()
    for (let i = 0; i < 50_000; i++) seen.add(ids.next())
    expect(seen.size).toBe(50_000)
  })

  it('is deterministic: two sources issue the same sequence', () => {
    const a = createIdSource('x')
    const b = createIdSource('x')
    expect(Array.from({ length: 100 }, () => a.next())).toEqual(Array.from({ length: 100 }, () => b.next()))
  })

  it('carries the prefix', () => {
    const ids = createIdSource('node7-')
    expect(ids.next().startsWith('node7-')).toBe(true)
    expect(createIdSource().next().startsWith('q')).toBe(true)
  })
})

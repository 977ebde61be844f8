import { describe, expect, it } from 'vitest'
import { HostStream } from '../../../src/actors/runtime/host-stream.js'
import { failure } from '../../../src/messages/failure.js'
import { OverloadedError, TimeoutError } from '../../../src/messages/errors.js'

async function collect<T> (s: AsyncIterable<T>): Promise<{ items: T[], error?: Error }> {
  const items: T[] = []
  try {
    for await (const x of s) items.push(x)
  } catch (error) {
    return { items, error: error as Error }
  }
  return { items }
}

describe('HostStream', () => {
  it('buffers up to capacity; push returns false when full', () => {
    const s = new HostStream<number>(2)
    expect(s.push(1)).toBe(true)
    expect(s.push(2)).toBe(true)
    expect(s.push(3)).toBe(false)
  })

  it('yields buffered items then ends', async () => {
    const s = new HostStream<number>(4)
    s.push(1); s.push(2); s.push(3)
    s.finish({ ok: true, value: undefined })
    expect(await collect(s)).toEqual({ items: [1, 2, 3] })
  })

  it('hands items straight to a waiting consumer (the buffer does not fill)', async () => {
    const s = new HostStream<number>(1)
    const got: number[] = []
    const it = s[Symbol.asyncIterator]()
    for (let i = 0; i < 5; i++) {
      const p = it.next()
      expect(s.push(i)).toBe(true)
      const r = await p
      got.push(r.value as number)
    }
    expect(got).toEqual([0, 1, 2, 3, 4])
  })

  it('a failure surfaces as the typed error after the buffered items', async () => {
    const s = new HostStream<string>(4)
    s.push('a')
    s.finish({ ok: false, failure: failure('overloaded', 'too slow') })
    const r = await collect(s)
    expect(r.items).toEqual(['a'])
    expect(r.error).toBeInstanceOf(OverloadedError)
    expect(r.error?.name).toBe('OverloadedError')
    expect(r.error?.message).toBe('too slow')
  })

  it('a failure reaches a consumer that is already waiting', async () => {
    const s = new HostStream<string>(4)
    const p = collect(s)
    await Promise.resolve()
    s.finish({ ok: false, failure: failure('timeout', 'late') })
    const r = await p
    expect(r.items).toEqual([])
    expect(r.error).toBeInstanceOf(TimeoutError)
  })

  it('push after finish is refused; finish twice keeps the first result', async () => {
    const s = new HostStream<number>(4)
    s.finish({ ok: true, value: undefined })
    s.finish({ ok: false, failure: failure('failed', 'x') })
    expect(s.push(1)).toBe(false)
    expect(await collect(s)).toEqual({ items: [] })
  })

  it('breaking out of for-await cancels once; no cancel after it finished', async () => {
    const s = new HostStream<number>(8)
    let cancels = 0
    s.onCancel = () => { cancels++ }
    s.push(1); s.push(2); s.push(3)
    for await (const x of s) {
      if (x === 2) break
    }
    expect(cancels).toBe(1)

    const t = new HostStream<number>(8)
    let tc = 0
    t.onCancel = () => { tc++ }
    t.push(1)
    t.finish({ ok: true, value: undefined })
    for await (const x of t) {
      if (x === 1) break
    }
    expect(tc).toBe(0)
  })

  it('can be iterated once', () => {
    const s = new HostStream<number>(1)
    s[Symbol.asyncIterator]()
    expect(() => s[Symbol.asyncIterator]()).toThrow(/once/)
  })

  it('keeps order across a long run with a slow consumer inside capacity', async () => {
    const s = new HostStream<number>(3000)
    for (let i = 0; i < 2500; i++) expect(s.push(i)).toBe(true)
    const it = s[Symbol.asyncIterator]()
    const got: number[] = []
    for (let i = 0; i < 1500; i++) got.push((await it.next()).value as number)
    for (let i = 2500; i < 3000; i++) expect(s.push(i)).toBe(true)
    s.finish({ ok: true, value: undefined })
    for (;;) {
      const r = await it.next()
      if (r.done === true) break
      got.push(r.value)
    }
    expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => i))
  })
})

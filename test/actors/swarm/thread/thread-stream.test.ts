/**
 * ThreadStream (the host's end of a network-thread stream op) on a recorded
 * StreamLink, no worker: items in order, end, error, the consumer leaving
 * early or aborting (cancel reaches the link once), credit back in batches of
 * half the window, the buffer bounded by the window (an item past credit is a
 * protocol failure), and an error reported exactly once however many arrive.
 */
import { describe, expect, it } from 'vitest'
import { PortAbortError, PortFailedError, PortNotFoundError, PortTimeoutError } from '../../../../src/actors/swarm/port-errors.js'
import { ThreadStream } from '../../../../src/actors/swarm/thread/thread-stream.js'
import type { StreamLink } from '../../../../src/actors/swarm/thread/thread-stream.js'

interface Recorded extends StreamLink {
  credits: number[]
  cancels: number
}

function link (): Recorded {
  const l: Recorded = {
    credits: [],
    cancels: 0,
    credit: n => { l.credits.push(n) },
    cancel: () => { l.cancels++ }
  }
  return l
}

function open (window = 4, signal: AbortSignal = new AbortController().signal): { s: ThreadStream<number>, l: Recorded } {
  const l = link()
  return { s: new ThreadStream<number>(window, signal, l), l }
}

async function caught (p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

async function drain (s: ThreadStream<number>): Promise<number[]> {
  const out: number[] = []
  for (;;) {
    const r = await s.next()
    if (r.done === true) return out
    out.push(r.value)
  }
}

/** whether p has settled after the microtasks queued now have run */
async function settled (p: Promise<unknown>): Promise<boolean> {
  let done = false
  void p.then(() => { done = true }, () => { done = true })
  for (let i = 0; i < 5; i++) await Promise.resolve()
  return done
}

describe('ThreadStream', () => {
  it('yields buffered and waited-for items in order, then done after end', async () => {
    const { s, l } = open(4)
    s.push(1)
    s.push(2)
    const waiting = s.next()
    expect(await waiting).toEqual({ value: 1, done: false })
    expect(await s.next()).toEqual({ value: 2, done: false })
    const pending = s.next()
    expect(await settled(pending)).toBe(false)
    s.push(3)
    expect(await pending).toEqual({ value: 3, done: false })
    s.push(4)
    s.end()
    // items buffered before the end are still read
    expect(await drain(s)).toEqual([4])
    expect(await s.next()).toEqual({ value: undefined, done: true })
    expect(l.cancels).toBe(0)
  })

  it('end wakes a waiting reader with done', async () => {
    const { s } = open(4)
    const waiting = s.next()
    s.end()
    expect(await waiting).toEqual({ value: undefined, done: true })
  })

  it('an error rejects a waiting reader once, then the stream is done', async () => {
    const { s, l } = open(4)
    const waiting = s.next()
    s.fail(new PortNotFoundError('nothing'))
    expect(await caught(waiting)).toBeInstanceOf(PortNotFoundError)
    // the waiting reader had the error: it is not thrown a second time
    expect(await s.next()).toEqual({ value: undefined, done: true })
    expect(await s.next()).toEqual({ value: undefined, done: true })
    expect(l.cancels).toBe(0)
  })

  it('an error with no reader waiting is thrown by the next read, once; buffered items are dropped', async () => {
    const { s } = open(4)
    s.push(1)
    s.fail(new PortTimeoutError('late'))
    expect(await caught(s.next())).toBeInstanceOf(PortTimeoutError)
    expect(await s.next()).toEqual({ value: undefined, done: true })
  })

  it('an error after an error is ignored: the first one is what the reader sees, once', async () => {
    const { s } = open(4)
    const waiting = s.next()
    s.fail(new PortNotFoundError('first'))
    s.fail(new PortFailedError('second'))
    const err = await caught(waiting)
    expect(err).toBeInstanceOf(PortNotFoundError)
    expect(await s.next()).toEqual({ value: undefined, done: true })

    const { s: t } = open(4)
    t.fail(new PortNotFoundError('first'))
    t.fail(new PortFailedError('second'))
    expect(await caught(t.next())).toBeInstanceOf(PortNotFoundError)
    t.fail(new PortFailedError('third'))
    expect(await t.next()).toEqual({ value: undefined, done: true })
  })

  it('an error or items after the end change nothing', async () => {
    const { s } = open(4)
    s.push(1)
    s.end()
    s.fail(new PortFailedError('after the end'))
    s.push(2)
    expect(await drain(s)).toEqual([1])
  })

  it('the consumer leaving early cancels the worker\'s query once and drops what was buffered', async () => {
    const { s, l } = open(4)
    s.push(1)
    s.push(2)
    expect(await s.next()).toEqual({ value: 1, done: false })
    expect(await s.return()).toEqual({ value: undefined, done: true })
    expect(l.cancels).toBe(1)
    await s.return()
    s.push(3)
    s.fail(new PortFailedError('late'))
    expect(await s.next()).toEqual({ value: undefined, done: true })
    expect(l.cancels).toBe(1)
  })

  it('a for-await loop that breaks cancels; one that runs to the end does not', async () => {
    const { s, l } = open(4)
    s.push(1)
    s.push(2)
    for await (const v of { [Symbol.asyncIterator]: () => s }) if (v === 1) break
    expect(l.cancels).toBe(1)

    const { s: t, l: m } = open(4)
    t.push(1)
    t.end()
    const got: number[] = []
    for await (const v of { [Symbol.asyncIterator]: () => t }) got.push(v)
    expect(got).toEqual([1])
    expect(m.cancels).toBe(0)
  })

  it('return with a reader waiting wakes it with done', async () => {
    const { s, l } = open(4)
    const waiting = s.next()
    await s.return()
    expect(await waiting).toEqual({ value: undefined, done: true })
    expect(l.cancels).toBe(1)
  })

  it('the signal firing rejects a waiting reader with PortAbortError and cancels once', async () => {
    const c = new AbortController()
    const { s, l } = open(4, c.signal)
    s.push(1)
    expect(await s.next()).toEqual({ value: 1, done: false })
    const waiting = s.next()
    c.abort()
    expect(await caught(waiting)).toBeInstanceOf(PortAbortError)
    expect(l.cancels).toBe(1)
    // the worker's error for the cancelled call, should it still arrive, is not a second error
    s.fail(new PortAbortError('from the worker'))
    expect(await s.next()).toEqual({ value: undefined, done: true })
    expect(l.cancels).toBe(1)
  })

  it('the signal firing after the end changes nothing', async () => {
    const c = new AbortController()
    const { s, l } = open(4, c.signal)
    s.push(1)
    s.end()
    c.abort()
    expect(await drain(s)).toEqual([1])
    expect(l.cancels).toBe(0)
  })

  it('grants credit back in batches of half the window as items are taken', async () => {
    const { s, l } = open(4)
    for (let i = 0; i < 4; i++) s.push(i)
    await s.next()
    expect(l.credits).toEqual([])
    await s.next()
    expect(l.credits).toEqual([2])
    // taken straight by a waiting reader counts too
    await s.next()
    await s.next()
    expect(l.credits).toEqual([2, 2])
    const waiting = s.next()
    s.push(4)
    await waiting
    const w2 = s.next()
    s.push(5)
    await w2
    expect(l.credits).toEqual([2, 2, 2])
    // a window of 1 grants each item back at once
    const { s: one, l: m } = open(1)
    one.push(1)
    await one.next()
    expect(m.credits).toEqual([1])
  })

  it('holds at most the window: an item past the worker\'s credit fails the stream and cancels the query', async () => {
    const { s, l } = open(2)
    s.push(1)
    s.push(2)
    s.push(3)
    expect(l.cancels).toBe(1)
    const err = await caught(s.next())
    expect(err).toBeInstanceOf(PortFailedError)
    expect((err as Error).message).toMatch(/more than 2 items/)
    expect(await s.next()).toEqual({ value: undefined, done: true })
  })

  it('a worker that keeps to its credit never overflows a slow reader: every item arrives, in order', async () => {
    const window = 4
    const total = 50
    let credit = window
    let sent = 0
    let most = 0
    const granted: number[] = []
    // the worker's side: it sends while it has credit, and again when credit comes back
    const send = (): void => {
      while (credit > 0 && sent < total) {
        credit--
        s.push(sent++)
      }
      if (sent === total) s.end()
    }
    const s: ThreadStream<number> = new ThreadStream<number>(window, new AbortController().signal, {
      credit: n => { granted.push(n); credit += n; queueMicrotask(send) },
      cancel: () => { throw new Error('not cancelled') }
    })
    send()
    const got: number[] = []
    for (;;) {
      most = Math.max(most, sent - got.length)
      const r = await s.next()
      if (r.done === true) break
      got.push(r.value)
    }
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i))
    expect(most).toBeLessThanOrEqual(window)
    expect(granted.every(n => n === window / 2)).toBe(true)
  })

  it('refuses a second reader at once', async () => {
    const { s } = open(4)
    const first = s.next()
    expect(await caught(s.next())).toBeInstanceOf(PortFailedError)
    s.push(7)
    expect(await first).toEqual({ value: 7, done: false })
  })
})

/**
 * causeOf: an error's cause chain as bounded, recordable plain data.
 */
import { describe, expect, it } from 'vitest'
import { causeOf, failure, MAX_CAUSE_DEPTH, MAX_CAUSE_ERRORS, MAX_CAUSE_MESSAGE } from '../../src/messages/failure.js'
import type { FailureCause } from '../../src/messages/failure.js'

const named = (name: string, message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { name, ...extra })

function depthOf (c: FailureCause | undefined): number {
  return c === undefined ? 0 : 1 + Math.max(depthOf(c.cause), ...(c.errors ?? []).map(depthOf))
}

describe('causeOf', () => {
  it('keeps name, message, a string code and the chain', () => {
    const err = named('DialError', 'dial failed', { code: 'ERR_DIAL', cause: named('Error', 'refused', { code: 'ECONNREFUSED', errno: -111 }) })
    expect(causeOf(err)).toEqual({ name: 'DialError', message: 'dial failed', code: 'ERR_DIAL', cause: { name: 'Error', message: 'refused', code: 'ECONNREFUSED' } })
  })

  it('nothing for nothing; a thrown non-error by its string form', () => {
    expect(causeOf(undefined)).toBeUndefined()
    expect(causeOf(null)).toBeUndefined()
    expect(causeOf('reset by peer')).toEqual({ name: 'Error', message: 'reset by peer' })
  })

  it(`is at most ${MAX_CAUSE_DEPTH} levels deep, even for a cycle`, () => {
    let deep: Error = named('E0', 'bottom')
    for (let i = 1; i < 20; i++) deep = named(`E${i}`, `level ${i}`, { cause: deep })
    expect(depthOf(causeOf(deep))).toBe(MAX_CAUSE_DEPTH)
    const a = named('A', 'a')
    a.cause = a
    expect(depthOf(causeOf(a))).toBe(MAX_CAUSE_DEPTH)
  })

  it(`clips messages to ${MAX_CAUSE_MESSAGE} characters`, () => {
    const c = causeOf(new Error('x'.repeat(10_000)))
    expect(c?.message.length).toBe(MAX_CAUSE_MESSAGE)
    expect(c?.message.endsWith('…')).toBe(true)
  })

  it(`keeps an AggregateError's first ${MAX_CAUSE_ERRORS} errors`, () => {
    const agg = new AggregateError(Array.from({ length: 10 }, (_, i) => new Error(`addr ${i}`)), 'all dials failed')
    const c = causeOf(agg)
    expect(c?.errors?.map(e => e.message)).toEqual(['addr 0', 'addr 1', 'addr 2', 'addr 3'].slice(0, MAX_CAUSE_ERRORS))
  })

  it('failure() keeps a cause it is given, and only then', () => {
    expect(failure('failed', 'x', { cause: { name: 'E', message: 'm' } })).toEqual({ kind: 'failed', message: 'x', cause: { name: 'E', message: 'm' } })
    expect(Object.keys(failure('failed', 'x', { cause: undefined }))).toEqual(['kind', 'message'])
  })
})

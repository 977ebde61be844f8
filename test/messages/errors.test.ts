/**
 * errorToFailure / failureToError keep the cause: a Failure records it as
 * plain data, the Error built from a Failure gets it back as a chain of
 * plain Errors, and the round trip through the JSON codec loses nothing.
 */
import { describe, expect, it } from 'vitest'
import { decode, encode } from '../../src/messages/codec.js'
import {
  AbortError, causeToError, errorToFailure, FailedError, failureToError, InvalidCommandError, InvalidRecordError, NotFoundError
} from '../../src/messages/errors.js'
import { FAILURE_KINDS } from '../../src/messages/failure.js'
import type { Failure } from '../../src/messages/failure.js'

const named = (name: string, message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { name, ...extra })

const WITH_CAUSE: Failure = {
  kind: 'failed',
  message: 'put failed',
  cause: {
    name: 'QueryError',
    message: 'query aborted',
    code: 'ERR_QUERY',
    cause: { name: 'AggregateError', message: 'all dials failed', errors: [{ name: 'Error', message: 'ECONNREFUSED', code: 'ECONNREFUSED' }] }
  }
}

describe('errorToFailure keeps the cause', () => {
  it('of our own errors, with kind, field and code', () => {
    const root = named('UnsupportedProtocolError', 'protocol selection failed')
    expect(errorToFailure(new FailedError('put failed', { cause: root }))).toEqual({ kind: 'failed', message: 'put failed', cause: { name: 'UnsupportedProtocolError', message: 'protocol selection failed' } })
    expect(errorToFailure(new InvalidCommandError('key', 'bad key', { cause: root }))).toMatchObject({ kind: 'invalid', field: 'key', cause: { name: 'UnsupportedProtocolError' } })
    expect(errorToFailure(new InvalidRecordError('expired', 'old', { cause: root }))).toMatchObject({ kind: 'invalid-record', code: 'expired', cause: { name: 'UnsupportedProtocolError' } })
    expect(errorToFailure(new NotFoundError('none'))).toEqual({ kind: 'not-found', message: 'none' })
  })

  it('of a foreign error: the error itself is the cause when it is only "failed", so its name and code survive', () => {
    expect(errorToFailure(named('LevelError', 'disk full', { code: 'ENOSPC' }))).toEqual({ kind: 'failed', message: 'disk full', cause: { name: 'LevelError', message: 'disk full', code: 'ENOSPC' } })
    // a bare Error says nothing its message does not
    expect(errorToFailure(new Error('plain'))).toEqual({ kind: 'failed', message: 'plain' })
    // a foreign error named like one of ours keeps that kind, and its own cause
    expect(errorToFailure(named('AbortError', 'stopped', { cause: new Error('why') }))).toEqual({ kind: 'aborted', message: 'stopped', cause: { name: 'Error', message: 'why' } })
  })
})

describe('failureToError gives the cause back', () => {
  it('as a chain of plain Errors (an AggregateError where errors were recorded)', () => {
    const err = failureToError(WITH_CAUSE)
    expect(err).toBeInstanceOf(FailedError)
    expect(`${err.name}: ${err.message}`).toBe('FailedError: put failed')
    const cause = err.cause as Error & { code?: string }
    expect([cause.name, cause.message, cause.code]).toEqual(['QueryError', 'query aborted', 'ERR_QUERY'])
    const agg = cause.cause as AggregateError
    expect(agg).toBeInstanceOf(AggregateError)
    expect((agg.errors[0] as Error & { code?: string }).code).toBe('ECONNREFUSED')
  })

  it('for every kind, and back to the same Failure', () => {
    for (const kind of FAILURE_KINDS) {
      const f: Failure = { ...WITH_CAUSE, kind }
      const back = errorToFailure(failureToError(f))
      expect(back.cause).toEqual(WITH_CAUSE.cause)
      expect(back.kind).toBe(kind)
    }
    expect(failureToError({ kind: 'aborted', message: 'x' }).cause).toBeUndefined()
    expect(failureToError({ kind: 'aborted', message: 'x' })).toBeInstanceOf(AbortError)
  })

  it('causeToError is the inverse of what errorToFailure records', () => {
    const c = WITH_CAUSE.cause
    if (c === undefined) throw new Error('no cause')
    expect(errorToFailure(new FailedError('x', { cause: causeToError(c) })).cause).toEqual(c)
  })
})

describe('the codec keeps causes', () => {
  it('a Failure with a cause round-trips as plain data (a trace\'s settle line)', () => {
    const line = { type: 'settle', id: 'q1', ok: false, failure: WITH_CAUSE }
    expect(decode(encode(line))).toEqual(line)
    expect(encode(line)).toContain('ECONNREFUSED')
  })

  it('an Error keeps its code and cause chain', () => {
    const err = named('DialError', 'dial failed', { code: 'ERR_DIAL', cause: named('Error', 'refused', { code: 'ECONNREFUSED' }) })
    const back = decode(encode({ e: err })) as { e: Error & { code?: string } }
    expect([back.e.name, back.e.message, back.e.code]).toEqual(['DialError', 'dial failed', 'ERR_DIAL'])
    const inner = back.e.cause as Error & { code?: string }
    expect(inner).toBeInstanceOf(Error)
    expect([inner.name, inner.message, inner.code]).toEqual(['Error', 'refused', 'ECONNREFUSED'])
  })

  it('a cyclic cause chain is cut, not a crash of the recorder', () => {
    const a = named('A', 'a')
    a.cause = a
    expect(() => encode(a)).not.toThrow()
    expect(encode({ e: new Error('x', { cause: 'a string cause' }) })).toContain('a string cause')
  })
})

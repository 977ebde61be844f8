/**
 * One endpoint's counters and circuit breaker (endpoint-health.ts), driven
 * by explicit times: closed → open after the threshold of failures in a row,
 * half-open after the cool-down with a single trial, closed again on its
 * success, open again on its failure; the in-flight bound; not-found and the
 * asker's aborts are not failures.
 */
import { describe, expect, it } from 'vitest'
import { EndpointHealth } from '../../../src/actors/routers/endpoint-health.js'

const URL = 'http://127.0.0.1:1'

describe('EndpointHealth', () => {
  it('opens after the threshold, lets one trial through after the cool-down, and closes on its success', () => {
    const h = new EndpointHealth(URL, { threshold: 3, cooldownMs: 1_000 }, 8)
    for (let i = 0; i < 2; i++) {
      expect(h.admit(0, false)).toBe('ok')
      h.done(0, 'error')
    }
    expect(h.breaker(0)).toBe('closed')
    expect(h.admit(10, false)).toBe('ok')
    h.done(10, 'timeout')
    expect(h.status(10)).toMatchObject({ breaker: 'open', opens: 1, consecutiveFailures: 3, errors: 3, timeouts: 1, requests: 3 })
    expect(h.admit(500, false)).toBe('open')
    expect(h.breaker(1_009)).toBe('open')
    expect(h.breaker(1_010)).toBe('half-open')
    // one trial at a time
    expect(h.admit(1_010, true)).toBe('ok')
    expect(h.admit(1_011, false)).toBe('open')
    h.done(1_020, 'ok')
    expect(h.status(1_020)).toMatchObject({ breaker: 'closed', consecutiveFailures: 0, ok: 1, skipped: 2, retries: 1 })
  })

  it('a failed trial opens it again for another cool-down', () => {
    const h = new EndpointHealth(URL, { threshold: 1, cooldownMs: 100 }, 8)
    h.admit(0, false)
    h.done(0, 'error')
    expect(h.breaker(100)).toBe('half-open')
    h.admit(100, false)
    h.done(150, 'error')
    expect(h.status(150)).toMatchObject({ breaker: 'open', opens: 2 })
    expect(h.breaker(249)).toBe('open')
    expect(h.breaker(250)).toBe('half-open')
  })

  it('not-found is an answer and an abort is nothing; beyond the in-flight bound it is overloaded', () => {
    const h = new EndpointHealth(URL, { threshold: 1, cooldownMs: 100 }, 2)
    expect(h.admit(0, false)).toBe('ok')
    expect(h.admit(0, false)).toBe('ok')
    expect(h.admit(0, false)).toBe('overloaded')
    h.done(1, 'not-found')
    h.done(1, 'aborted')
    h.invalidRecord()
    expect(h.status(1)).toMatchObject({ breaker: 'closed', inFlight: 0, notFound: 1, errors: 0, overloaded: 1, invalidRecords: 1, requests: 2 })
  })
})

/**
 * Regression (seen under load in test/http/kubo-rpc/face.test.ts: a 1 ms
 * deadline answered "no valid record found" instead of kubo's "context
 * deadline exceeded"): a DHT lookup whose end reaches the resolve at or past
 * the ask's deadline did not end in time, so the resolve fails with a
 * timeout, not NotFound (resolve-flights.ts, 'r.end'). That race needs a
 * late timer on a busy loop, which the simulated clock does not make (its
 * ask deadline always fires first); this test holds the other side: a lookup
 * that ends in time with nothing is still NotFound.
 */
import { describe, expect, it } from 'vitest'
import { answer, rigPerTest, runFor } from './fakes.js'
import { testName } from './machine-helpers.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const A = testName(51)
const start = rigPerTest()

describe('IPNS actor: a lookup that ends before the deadline', () => {
  it('fails with NotFound when the lookup ends with nothing in time', async () => {
    const { world, h } = start()
    answer(world, A, [], 3)
    const t = h.ask({ type: 'ipns.resolve', name: A, nocache: true } as BaseCommand, { timeoutMs: 1_000 })
    await runFor(h, 1_100)
    const o = t.outcome
    if (o === undefined || o.ok) throw new Error('the resolve did not fail')
    expect(o.error.name).toBe('NotFoundError')
  })
})

/**
 * Regression (found by the IPNS simulation, test/sim/ipns-simulation.test.ts,
 * seeds 26, 37, …: a name whose record points at another name): when the
 * soft deadline ended the first hop's query, the next hop's query had none of
 * its own, ran into the ask's deadline and the resolve failed with
 * TimeoutError, though that hop's record had come in time. Each hop queried
 * after the soft deadline gets a soft deadline of its own in the time left.
 */
import { describe, expect, it } from 'vitest'
import { answer, record, rigPerTest, runFor } from './fakes.js'
import { fields, testName } from './machine-helpers.js'
import type { ResolveReply } from '../../../src/messages/ipns.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const A = testName(41)
const B = testName(42)
const CID = 'bafkqaddwgevxmmraojswg33smq'

const start = rigPerTest()

describe('IPNS actor: the soft deadline and later hops', () => {
  it('a hop queried after the soft deadline answers with what it found before the deadline', async () => {
    const { world, h } = start()
    // each query hears one record and then nothing more: only a soft deadline ends it
    answer(world, A, [[record(world, 'a', fields(`/ipns/${B}`, 1)), 'p1', 10]], 'hang')
    answer(world, B, [[record(world, 'b', fields(`/ipfs/${CID}`, 2)), 'p2', 50]], 'hang')
    const t0 = h.clock.now()
    const t = h.ask({ type: 'ipns.resolve', name: A } as BaseCommand, { timeoutMs: 1_000 })
    await runFor(h, 1_100)
    expect(world.log.getValues.map(g => g.name)).toEqual([A, B])
    // A's query ended at the soft deadline (900 ms); B's repo read took 1 ms, its record came 50 ms into its query
    expect(world.log.getValues[1]?.at).toBe(t0 + 901)
    const o = t.outcome
    if (o?.ok !== true) throw new Error(`the resolve failed: ${o === undefined ? 'not settled' : `${o.error.name}: ${o.error.message}`}`)
    expect(o.value as ResolveReply).toMatchObject({ value: `/ipfs/${CID}`, sequence: 2n, hops: 2 })
    expect(o.at).toBeLessThan(t0 + 1_000)
  })
})

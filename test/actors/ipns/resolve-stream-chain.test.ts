/**
 * ipns.resolveStream across a recursive chain (A → /ipns/B → /ipfs/…): every
 * item is the final value of the whole chain, never the /ipns/ value of a
 * hop; once the chain reaches its last hop, each better record of that hop
 * found by its query is one more item; a better record of the first hop that
 * points elsewhere is not an item by itself.
 */
import { describe, expect, it } from 'vitest'
import { answer, record, rigPerTest, runFor } from './fakes.js'
import { fields, testName } from './machine-helpers.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const A = testName(91)
const B = testName(92)
const C = testName(93)
const CID = 'bafkqaddwgevxmmraojswg33smq'

const start = rigPerTest()

describe('IPNS actor: stream resolves across a recursive chain', () => {
  it('yields the chain\'s final value, then each better record of the last hop, paths joined', async () => {
    const { world, h } = start()
    answer(world, A, [[record(world, 'a', fields(`/ipns/${B}/from-a`, 1)), 'p1', 10]], 30)
    answer(world, B, [
      [record(world, 'b1', fields(`/ipfs/${CID}/b1`, 1)), 'p1', 20],
      [record(world, 'b0', fields(`/ipfs/${CID}/b0`, 0)), 'p2', 60],
      [record(world, 'b3', fields(`/ipfs/${CID}/b3`, 3)), 'p3', 200]
    ], 300)
    const st = h.stream({ type: 'ipns.resolveStream', name: `/ipns/${A}/asked` } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    expect(st.outcome).toMatchObject({ ok: true })
    expect(st.items).toMatchObject([
      { value: `/ipfs/${CID}/b1/from-a/asked`, sequence: 1n, hops: 2, source: 'dht' },
      { value: `/ipfs/${CID}/b3/from-a/asked`, sequence: 3n, hops: 2, source: 'dht' }
    ])
    // the lower record that came between is not an item
    expect(st.items).toHaveLength(2)
  })

  it('a three-hop chain: items only once the last hop has a record, never an /ipns/ value', async () => {
    const { world, h } = start()
    answer(world, A, [[record(world, 'a', fields(`/ipns/${B}`, 1)), 'p1', 10]], 20)
    answer(world, B, [[record(world, 'b', fields(`/ipns/${C}`, 4)), 'p1', 10]], 20)
    answer(world, C, [
      [record(world, 'c1', fields(`/ipfs/${CID}/c1`, 1)), 'p1', 10],
      [record(world, 'c2', fields(`/ipfs/${CID}/c2`, 2)), 'p2', 100]
    ], 150)
    const st = h.stream({ type: 'ipns.resolveStream', name: A } as BaseCommand, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    expect(st.outcome).toMatchObject({ ok: true })
    expect((st.items as Array<{ value: string }>).every(i => i.value.startsWith('/ipfs/'))).toBe(true)
    expect(st.items).toMatchObject([
      { value: `/ipfs/${CID}/c1`, sequence: 1n, hops: 3 },
      { value: `/ipfs/${CID}/c2`, sequence: 2n, hops: 3 }
    ])
  })
})

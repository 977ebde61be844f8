/**
 * Regression (found by the IPNS simulation, test/sim/ipns-simulation.test.ts,
 * seed 17): a resolve of a name that was already running when this node
 * published the name may have read the older record. Its answer must neither
 * be cached nor be shared with a resolve asked after the publish was
 * acknowledged — "a resolve here sees the new record at once" (docs/ipns.md).
 */
import { describe, expect, it } from 'vitest'
import { answer, keyInfo, record, rigPerTest, runFor } from './fakes.js'
import { fields, testName } from './machine-helpers.js'
import type { IpnsRig } from './fakes.js'
import type { Tracked } from '../../helpers/sim.js'
import type { ResolveReply } from '../../../src/messages/ipns.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const SELF = testName(31)
const CID = 'bafkqaddwgevxmmraojswg33smq'

const start = rigPerTest()

const ok = <T>(t: Tracked): T => {
  if (t.outcome?.ok !== true) throw new Error(`expected an answer, got ${t.outcome === undefined ? 'none yet' : t.outcome.error.name}`)
  return t.outcome.value as T
}

/** a node whose DHT answers for its own name with sequence 0, half a second into each lookup */
function slowNetwork (): IpnsRig {
  const r = start()
  r.world.keys = [keyInfo('self', SELF)]
  answer(r.world, SELF, [[record(r.world, 'old', fields('/ipfs/old', 0)), 'p1', 500]], 600)
  return r
}

const resolve: BaseCommand = { type: 'ipns.resolve', name: SELF } as BaseCommand
const publish: BaseCommand = { type: 'ipns.publish', value: `/ipfs/${CID}` } as BaseCommand
/** a TTL of 0: the repo's copy never answers alone, so the resolves below need the network */
const publishTtl0: BaseCommand = { type: 'ipns.publish', value: `/ipfs/${CID}`, ttlMs: 0 } as BaseCommand

describe('IPNS actor: a resolve running across a publish of its name', () => {
  it('is not joined by a resolve asked after the publish was acknowledged', async () => {
    const { h, world } = slowNetwork()
    const before = h.ask(resolve, { timeoutMs: 5_000 })
    await runFor(h, 10)
    const p = h.ask(publishTtl0, { timeoutMs: 5_000 })
    await runFor(h, 50)
    expect(ok<{ sequence: bigint }>(p).sequence).toBe(0n)
    expect(world.log.getValues).toHaveLength(1)
    // same name, same options, a deadline the running flight would accept
    const after = h.ask(resolve, { timeoutMs: 5_000 })
    // 1 ms for the repo (its record has no TTL to answer with), then the lookup
    await runFor(h, 2)
    expect(world.log.getValues, 'the resolve after the publish starts its own lookup').toHaveLength(2)
    await runFor(h, 1_000)
    expect(ok<ResolveReply>(before).source).toBe('dht')
    // its own lookup, where the repo's new record competed with the DHT's
    expect(ok<ResolveReply>(after).source).not.toBe('cache')
  })

  it('does not leave its answer in the cache for resolves asked after the publish', async () => {
    const { h, world } = slowNetwork()
    const before = h.ask(resolve, { timeoutMs: 5_000 })
    await runFor(h, 10)
    const p = h.ask(publishTtl0, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    ok(p)
    expect(ok<ResolveReply>(before)).toMatchObject({ sequence: 0n, source: 'dht' })
    const after = h.ask(resolve, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    // the repo's new record and the DHT's compete; never the older answer from the cache
    expect(ok<ResolveReply>(after).source, 'not the older answer from the cache').not.toBe('cache')
    expect(world.log.getValues).toHaveLength(2)
  })

  it('with a TTL to run, the resolve after the publish answers from the repo at once, with the new record', async () => {
    const { h, world } = slowNetwork()
    const before = h.ask(resolve, { timeoutMs: 5_000 })
    await runFor(h, 10)
    const p = h.ask(publish, { timeoutMs: 5_000 })
    await runFor(h, 50)
    ok(p)
    const after = h.ask(resolve, { timeoutMs: 5_000 })
    await runFor(h, 10)
    expect(ok<ResolveReply>(after)).toMatchObject({ value: `/ipfs/${CID}`, source: 'local' })
    expect(before.outcome, 'the earlier resolve is still at the DHT').toBeUndefined()
    expect(world.log.getValues).toHaveLength(1)
  })

  it('still caches its answer when nothing was published meanwhile', async () => {
    const { h, world } = slowNetwork()
    const first = h.ask(resolve, { timeoutMs: 5_000 })
    await runFor(h, 1_000)
    expect(ok<ResolveReply>(first).source).toBe('dht')
    const again = h.ask(resolve, { timeoutMs: 5_000 })
    await runFor(h, 10)
    expect(ok<ResolveReply>(again).source).toBe('cache')
    expect(world.log.getValues).toHaveLength(1)
  })
})

/**
 * The actor compliance suite against the IPNS actor, between the fakes of
 * ./fakes.ts. In 'never' and 'slow' modes only publishes are sampled: a
 * resolve whose network never answers is, by design, answered with the best
 * found (or NotFoundError) at its soft deadline, a little before the ask's
 * deadline, where the suite expects a TimeoutError exactly at the deadline
 * (that behaviour is tested in ipns-actor.test.ts).
 */
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import { answer, buildIpnsSystem, keyInfo, newWorld, record } from './fakes.js'
import { fields, testName } from './machine-helpers.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { ComplianceSample } from '../../compliance/actor-compliance.js'

const A = testName(21)
const B = testName(22)
const SELF = testName(23)
const CID = 'bafkqaddwgevxmmraojswg33smq'
const cmd = (c: Record<string, unknown> & { type: string }): BaseCommand => c

runActorCompliance('ipns actor', {
  modes: ['prompt', 'never', 'slow'],
  promptTimeoutMs: 10_000,
  build: env => {
    const world = newWorld(env.mode, env.lateMs)
    world.keys = [keyInfo('self', SELF)]
    answer(world, A, [[record(world, 'a', fields(`/ipns/${B}/x`, 1)), 'p1'], [record(world, 'a-old', fields('/ipfs/old', 0)), 'p2']])
    answer(world, B, [[record(world, 'b', fields(`/ipfs/${CID}`, 3)), 'p1']])
    const publishes: ComplianceSample[] = [
      { command: cmd({ type: 'ipns.publish', value: `/ipfs/${CID}` }) },
      { command: cmd({ type: 'ipns.publish', value: `/ipfs/${CID}/offline`, offline: true }) }
    ]
    const resolves: ComplianceSample[] = [
      { command: cmd({ type: 'ipns.resolve', name: A }) },
      { command: cmd({ type: 'ipns.resolve', name: `/ipns/${A}/y`, nocache: true }) },
      { command: cmd({ type: 'ipns.resolve', name: B, quorum: 1 }) }
    ]
    return {
      system: buildIpnsSystem(world, {}, env.clock, env.trace, env.seed),
      valid: env.mode === 'prompt' ? [...publishes, ...resolves] : publishes,
      invalid: [
        { command: cmd({ type: 'ipns.resolve', name: 'no such name' }), field: 'name' },
        { command: cmd({ type: 'ipns.resolve', name: A, quorum: 100 }), field: 'quorum' },
        { command: cmd({ type: 'ipns.publish', value: 'relative/path' }), field: 'value' },
        { command: cmd({ type: 'ipns.publish', value: `/ipfs/${CID}`, ttlMs: -5 }), field: 'ttlMs' }
      ]
    }
  }
})

/**
 * Records on a host whose clock steps: record.create (the keys actor) signs
 * with an EOL of the wall clock's date plus the lifetime, after a sleep of
 * hours or a step backward alike, and record.verify (the verifier actor)
 * judges expiry by the same wall clock, not by the monotonic one that
 * stopped while the machine slept.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { keysActor } from '../../../src/actors/keys/keys-actor.js'
import { keystoreOps } from '../../../src/actors/keys/key-ops.js'
import { Keystore } from '../../../src/actors/keys/keystore.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { verifierActor } from '../../../src/actors/verifier/verifier-actor.js'
import { createInlineVerifier } from '../../../src/workers/verify-pool.js'
import { nsToMs, parseRfc3339 } from '../../../src/records/rfc3339.js'
import { harness, RecordingTrace } from '../../helpers/sim.js'
import type { SimHarness } from '../../helpers/sim.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { CreatedRecordReply } from '../../../src/messages/records.js'

const HOUR = 3_600_000
const WALL0 = Date.UTC(2026, 11, 3, 9, 0, 0)
const systems: ActorSystem[] = []
afterEach(async () => { await Promise.all(systems.splice(0).map(async s => { await s.stop() })) })

async function build (): Promise<{ clock: SimulatedClock, system: ActorSystem, ask: (c: BaseCommand) => Promise<unknown> }> {
  // monotonic time near zero, as in a fresh process; the wall clock at a real date
  const clock = new SimulatedClock(1_000, WALL0)
  const trace = new RecordingTrace()
  const system = new ActorSystem({ clock, trace })
  systems.push(system)
  const self = await generateKeyPair('Ed25519')
  const keystore = await Keystore.open(new MemoryDatastore(), self, 'pw')
  system.spawn(keysActor({ ops: keystoreOps(keystore), open: async () => keystoreOps(keystore) }))
  system.spawn(verifierActor({ verifier: createInlineVerifier() }))
  const h: SimHarness = harness(system, clock, trace)
  /** ask and run until it settles (the verifier batches on a timer: virtual time moves, by ms) */
  const ask = async (c: BaseCommand): Promise<unknown> => {
    const t = h.ask(c, { timeoutMs: 10_000 })
    for (let i = 0; i < 1_000 && t.outcome === undefined; i++) {
      await h.flush()
      if (t.outcome === undefined) {
        const next = clock.nextTimerAt()
        if (next !== undefined) clock.advanceTo(next)
        await new Promise(resolve => setImmediate(resolve))
      }
    }
    const o = t.outcome
    if (o === undefined) throw new Error('the ask did not settle')
    if (!o.ok) throw o.error
    return o.value
  }
  return { clock, system, ask }
}

const eolOf = (r: CreatedRecordReply): number => {
  return nsToMs(parseRfc3339(r.validity))
}

describe('records when the host clock steps', () => {
  it('record.create signs an EOL of the wall date plus the lifetime: at start, after a sleep of hours, after a step backward', async () => {
    const { clock, ask } = await build()
    const create = async (): Promise<CreatedRecordReply> => await ask({ type: 'record.create', value: '/ipfs/bafkqaaa', lifetimeMs: HOUR } as BaseCommand) as CreatedRecordReply
    expect(eolOf(await create())).toBe(WALL0 + HOUR)
    clock.sleep(6 * HOUR)
    expect(eolOf(await create())).toBe(WALL0 + 7 * HOUR)
    clock.stepWall(-2 * HOUR)
    expect(eolOf(await create())).toBe(WALL0 + 5 * HOUR)
  })

  it('record.verify judges the EOL by the wall clock: a record that died while the machine slept is expired on waking', async () => {
    const { clock, ask } = await build()
    const made = await ask({ type: 'record.create', value: '/ipfs/bafkqaaa', lifetimeMs: HOUR } as BaseCommand) as CreatedRecordReply
    const verify = { type: 'record.verify', name: made.name, record: made.record } as BaseCommand
    await expect(ask(verify)).resolves.toMatchObject({ validityMs: WALL0 + HOUR })
    clock.sleep(2 * HOUR) // monotonic time has not moved at all
    const err = await ask(verify).then(() => undefined, (e: unknown) => e as Error & { code?: string })
    expect(err?.name).toBe('InvalidRecordError')
    expect(err?.code).toBe('expired')
    // and back before the EOL: valid again (the wall clock is the authority on dates)
    clock.stepWall(-2 * HOUR)
    await expect(ask(verify)).resolves.toMatchObject({ value: '/ipfs/bafkqaaa' })
  })
})

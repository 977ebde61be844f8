/**
 * The actor compliance suite against the verifier actor with real signature
 * checks (the inline BatchVerifier), in 'prompt' and 'never' (a pool that
 * never returns a batch) modes. Not 'slow': by design a verdict that comes
 * after its ask was settled is dropped inside the actor (it answers only
 * open asks), so a late answer never reaches a port to become a dead letter.
 * In 'never', only records that need a signature check are sampled (the
 * others are answered from the structural checks, at once).
 */
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { verifierActor } from '../../../src/actors/verifier/verifier-actor.js'
import { decodeEntry, encodeEntry } from '../../../src/records/codec.js'
import { createRecord } from '../../../src/records/create.js'
import { generateEd25519Signer } from '../../../src/records/ed25519.js'
import { createInlineVerifier } from '../../../src/workers/verify-pool.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { BatchVerifier } from '../../../src/workers/verify-pool.js'

const cmd = (c: Record<string, unknown> & { type: string }): BaseCommand => c
// the suite's clock starts at 0: records signed then, valid for 48 h
const a = await createRecord(generateEd25519Signer(new Uint8Array(32).fill(1)), '/ipfs/bafkqaaa/a', { now: 0, sequence: 4 })
const b = await createRecord(generateEd25519Signer(new Uint8Array(32).fill(2)), '/ipfs/bafkqaaa/b', { now: 0, sequence: 1 })
const entry = decodeEntry(a.bytes)
const sig = Uint8Array.from(entry.signatureV2 ?? [])
sig[7] = (sig[7] ?? 0) ^ 0xff
const forged = encodeEntry({ ...entry, signatureV2: sig })
const A = a.name.format('base36')

/** a pool that takes batches and never returns them */
const stalled: BatchVerifier = { verifyBatch: async () => await new Promise<boolean[]>(() => {}), destroy: async () => {} }

runActorCompliance('verifier actor (inline signature checks)', {
  modes: ['prompt', 'never'],
  build: env => {
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(verifierActor({ verifier: env.mode === 'prompt' ? createInlineVerifier() : stalled }))
    const checked = [
      { command: cmd({ type: 'record.verify', name: A, record: a.bytes }) },
      { command: cmd({ type: 'record.verify', name: A, record: forged }) }
    ]
    const structural = [
      { command: cmd({ type: 'record.verify', name: A, record: b.bytes }) }, // another key's record
      { command: cmd({ type: 'record.verify', name: A, record: new Uint8Array([8, 1, 2, 3]) }) } // garbage
    ]
    return {
      system,
      valid: env.mode === 'prompt' ? [...checked, ...structural] : checked,
      invalid: [
        { command: cmd({ type: 'record.verify', name: '', record: a.bytes }), field: 'name' },
        { command: cmd({ type: 'record.verify', name: A, record: 'bytes' }), field: 'record' }
      ]
    }
  }
})

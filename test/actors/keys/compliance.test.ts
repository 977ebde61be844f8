/**
 * The actor compliance suite against the keys actor over a real keystore
 * (sealed with a passphrase, on a memory datastore), in all three modes: the
 * datastore answers at once, after the suite's late delay, or never (gated on
 * the simulated clock, test/helpers/gated-datastore.ts). Signing with the
 * node's own key reads no datastore, so 'never' and 'slow' sample only
 * commands that do. The keystore is opened once (scrypt is slow) and shared
 * by every run of the file: what one run created, the next finds.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { keysActor } from '../../../src/actors/keys/keys-actor.js'
import { keystoreOps } from '../../../src/actors/keys/key-ops.js'
import { Keystore } from '../../../src/actors/keys/keystore.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import { gatedDatastore, newGate } from '../../helpers/gated-datastore.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { ComplianceSample } from '../../compliance/actor-compliance.js'

const cmd = (c: Record<string, unknown> & { type: string }): BaseCommand => c
const gate = newGate()
const keystore = await Keystore.open(gatedDatastore(gate), await generateKeyPair('Ed25519'), 'compliance passphrase')
const ops = keystoreOps(keystore)

runActorCompliance('keys actor (memory keystore)', {
  modes: ['prompt', 'never', 'slow'],
  build: env => {
    Object.assign(gate, { mode: env.mode, lateMs: env.lateMs, clock: env.clock })
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(keysActor({ ops, open: async () => ops }))
    const store: ComplianceSample[] = [
      { command: cmd({ type: 'key.list' }) },
      { command: cmd({ type: 'key.generate', name: 'gen' }) },
      { command: cmd({ type: 'record.create', key: 'gen', value: '/ipfs/bafkqaaa', sequence: 2 }) },
      { command: cmd({ type: 'key.rename', from: 'no-such-key', to: 'other' }) },
      { command: cmd({ type: 'key.remove', name: 'not-there-either' }) }
    ]
    const selfOnly: ComplianceSample[] = [{ command: cmd({ type: 'record.create', value: '/ipfs/bafkqaaa', lifetimeMs: 60_000 }) }]
    return {
      system,
      valid: env.mode === 'prompt' ? [...store, ...selfOnly] : store,
      invalid: [
        { command: cmd({ type: 'key.generate', name: '' }), field: 'name' },
        { command: cmd({ type: 'key.generate', name: 'a', keyType: 'DSA' }), field: 'keyType' },
        { command: cmd({ type: 'key.rename', from: 'a', to: '' }), field: 'to' },
        { command: cmd({ type: 'record.create', value: '' }), field: 'value' },
        { command: cmd({ type: 'record.create', value: '/ipfs/x', sequence: -1 }), field: 'sequence' }
      ]
    }
  }
})

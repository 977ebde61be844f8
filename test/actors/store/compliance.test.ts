/**
 * The actor compliance suite against the store actor over the repo's real
 * record store (datastoreRecordStore on a memory datastore), in all three
 * modes: the datastore answers at once ('prompt'), after the suite's late
 * delay ('slow': the store still answers, into a closed port → dead letter),
 * or never ('never'), gated on the simulated clock (test/helpers/gated-datastore.ts).
 */
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { storeActor } from '../../../src/actors/store/store-actor.js'
import { datastoreRecordStore } from '../../../src/actors/store/record-store.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import { gatedDatastore, newGate } from '../../helpers/gated-datastore.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { StoredRecord } from '../../../src/messages/store.js'

const NAME = 'k51qzi5uqu5dgsq3mxtkulpb8mao7bv10in440nxvtkzl8bcplediubqox1r7e'
const cmd = (c: Record<string, unknown> & { type: string }): BaseCommand => c
const entry: StoredRecord = { kind: 'published', name: NAME, record: new Uint8Array([1, 2, 3]), receivedAt: 0, sequence: 3n, key: 'self', value: '/ipfs/bafkqaaa' }

runActorCompliance('store actor (memory datastore)', {
  modes: ['prompt', 'never', 'slow'],
  build: async env => {
    const gate = newGate()
    const ds = gatedDatastore(gate)
    // one record there already, written with the gate open
    await datastoreRecordStore(ds).put({ ...entry, kind: 'resolved' })
    Object.assign(gate, { mode: env.mode, lateMs: env.lateMs, clock: env.clock })
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(storeActor({ ops: datastoreRecordStore(ds) }))
    return {
      system,
      valid: [
        { command: cmd({ type: 'store.put', entry }) },
        { command: cmd({ type: 'store.get', kind: 'resolved', name: NAME }) },
        { command: cmd({ type: 'store.get', kind: 'published', name: 'k51qzi5uqu5dnotstoredanywhere' }) },
        { command: cmd({ type: 'store.list', kind: 'resolved' }) }
      ],
      invalid: [
        { command: cmd({ type: 'store.put', entry: { ...entry, kind: 'other' } }), field: 'entry.kind' },
        { command: cmd({ type: 'store.put', entry: { ...entry, name: 'Not A Name' } }), field: 'entry.name' },
        { command: cmd({ type: 'store.put', entry: { ...entry, record: 'bytes' } }), field: 'entry.record' },
        { command: cmd({ type: 'store.put', entry: { ...entry, sequence: 3 } }), field: 'entry.sequence' },
        { command: cmd({ type: 'store.get', kind: 'published', name: 'x' }), field: 'name' },
        { command: cmd({ type: 'store.list', kind: 'everything' }), field: 'kind' }
      ]
    }
  }
})

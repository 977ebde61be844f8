/**
 * The actor compliance suite against the republisher, among the real store
 * (memory datastore), keys (a memory keystore: the node's own key), IPNS and
 * swarm actors; the swarm actor on a fake DhtPort whose puts succeed at once
 * ('prompt') or never complete ('never'). The store holds one published name
 * that is due, so a run republishes it through the whole chain. Not 'slow':
 * an ipns.republish ask that timed out has left its run, which answers only
 * the asks still waiting, so a late answer never reaches a closed port. The
 * republisher's own timers never stop (its next check is always set), so the
 * suite's runs stop at a horizon of 60 s, before its first timed run.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { ipnsActor } from '../../../src/actors/ipns/ipns-actor.js'
import { keysActor } from '../../../src/actors/keys/keys-actor.js'
import { keystoreOps } from '../../../src/actors/keys/key-ops.js'
import { Keystore } from '../../../src/actors/keys/keystore.js'
import { republisherActor } from '../../../src/actors/republisher/republisher-actor.js'
import { datastoreRepublishState } from '../../../src/actors/republisher/republish-state.js'
import { storeActor } from '../../../src/actors/store/store-actor.js'
import { datastoreRecordStore } from '../../../src/actors/store/record-store.js'
import { swarmActor } from '../../../src/actors/swarm/swarm-actor.js'
import { createRecord } from '../../../src/records/create.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import { FakeDhtPort, untilAborted } from '../../helpers/fake-dht-port.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const cmd = (c: Record<string, unknown> & { type: string }): BaseCommand => c
const self = await generateKeyPair('Ed25519')
const VALUE = '/ipfs/bafkqaddwgevxmmraojswg33smq'

runActorCompliance('republisher actor (real store, keys, ipns and swarm actors)', {
  modes: ['prompt', 'never'],
  horizonMs: 60_000,
  build: async env => {
    const ds = new MemoryDatastore()
    // published at 0 for an hour: within the 24 h threshold, so due
    const rec = await createRecord(self, VALUE, { now: 0, lifetimeMs: 3_600_000 })
    await datastoreRecordStore(ds).put({ kind: 'published', name: rec.name.format('base36'), record: rec.bytes, receivedAt: 0, sequence: 0n, key: 'self', value: VALUE, lifetimeMs: 3_600_000 })
    const keystore = await Keystore.open(ds, self, undefined)
    const port = new FakeDhtPort(undefined, env.mode === 'prompt' ? {} : { put: async (_k, _v, o) => await untilAborted(o.signal) })
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(storeActor({ ops: datastoreRecordStore(ds) }))
    system.spawn(keysActor({ ops: keystoreOps(keystore), open: async () => keystoreOps(keystore) }))
    system.spawn(swarmActor({ port }))
    system.spawn(ipnsActor())
    // a publish gives up within 10 s, so a run ends (and its asks close) well inside the horizon
    system.spawn(republisherActor({ state: datastoreRepublishState(ds), startDelayMs: 120_000, publishTimeoutMs: 10_000 }))
    return {
      system,
      valid: [
        { command: cmd({ type: 'ipns.republish' }) },
        { command: cmd({ type: 'ipns.republish', force: true }) }
      ],
      invalid: [
        { command: cmd({ type: 'ipns.republish', force: 'yes' }), field: 'force' }
      ]
    }
  }
})

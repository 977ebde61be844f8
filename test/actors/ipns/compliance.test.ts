/**
 * The actor compliance suite against the IPNS actor: between the fakes of
 * ./fakes.ts in all three modes, and (prompt) among the real store, keys,
 * verifier and swarm actors, the swarm actor on a simulated DHT of honest
 * peers (test/helpers/sim-dht.ts). In 'never' and 'slow' modes only publishes are sampled: a
 * resolve whose network never answers is, by design, answered with the best
 * found (or NotFoundError) at its soft deadline, a little before the ask's
 * deadline, where the suite expects a TimeoutError exactly at the deadline
 * (that behaviour is tested in ipns-actor.test.ts).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { createRng } from '../../../src/actors/runtime/rng.js'
import { ipnsActor } from '../../../src/actors/ipns/ipns-actor.js'
import { keysActor } from '../../../src/actors/keys/keys-actor.js'
import { keystoreOps } from '../../../src/actors/keys/key-ops.js'
import { Keystore } from '../../../src/actors/keys/keystore.js'
import { storeActor } from '../../../src/actors/store/store-actor.js'
import { datastoreRecordStore } from '../../../src/actors/store/record-store.js'
import { swarmActor } from '../../../src/actors/swarm/swarm-actor.js'
import { verifierActor } from '../../../src/actors/verifier/verifier-actor.js'
import { createRecord } from '../../../src/records/create.js'
import { createInlineVerifier } from '../../../src/workers/verify-pool.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import { PEER_A, PEER_B, PEER_C, PEER_D } from '../../helpers/fake-dht-port.js'
import { SimDhtPort, SimPeer } from '../../helpers/sim-dht.js'
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

// the suite's clock starts at 0: records signed then are valid for 48 h
const self = await generateKeyPair('Ed25519')
const other = await createRecord(await generateKeyPair('Ed25519'), `/ipfs/${CID}/other`, { now: 0, sequence: 5 })
const OTHER = other.name.format('base36')
const nothing = (): Uint8Array => new Uint8Array(0)

runActorCompliance('ipns actor (real store, keys, verifier and swarm actors, simulated DHT)', {
  promptTimeoutMs: 10_000,
  build: async env => {
    const rng = createRng(env.seed)
    const peers = [PEER_A, PEER_B, PEER_C, PEER_D].map(id => new SimPeer(id, 'honest', () => 5 + rng.int(95)))
    for (const p of peers.slice(1)) p.store.set(OTHER, { record: other.bytes, sequence: 5n, since: 0 })
    const ds = new MemoryDatastore()
    const keystore = await Keystore.open(ds, self, undefined)
    const port = new SimDhtPort(peerIdFromPrivateKey(self).toString(), peers, env.clock, rng, { forged: nothing, wrongKey: nothing, expired: () => undefined, garbage: nothing })
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(swarmActor({ port }))
    system.spawn(keysActor({ ops: keystoreOps(keystore), open: async () => keystoreOps(keystore) }))
    system.spawn(verifierActor({ verifier: createInlineVerifier() }))
    system.spawn(storeActor({ ops: datastoreRecordStore(ds) }))
    system.spawn(ipnsActor({ quorum: 3 }))
    const ownName = (await keystore.list())[0]?.ipnsName ?? ''
    return {
      system,
      valid: [
        { command: cmd({ type: 'ipns.publish', value: `/ipfs/${CID}/own` }) },
        { command: cmd({ type: 'ipns.resolve', name: OTHER }) },
        { command: cmd({ type: 'ipns.resolve', name: `/ipns/${OTHER}/sub`, nocache: true, quorum: 2 }) },
        { command: cmd({ type: 'ipns.resolve', name: ownName }) }
      ],
      invalid: [
        { command: cmd({ type: 'ipns.resolve', name: 'no such name' }), field: 'name' },
        { command: cmd({ type: 'ipns.publish', value: 'relative/path' }), field: 'value' }
      ]
    }
  }
})

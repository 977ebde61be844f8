/**
 * The actor compliance suite against the IPNS actor with the composite
 * router on: the real routers actor (over in-memory endpoints,
 * ./table-port.ts), verifier, store, keys and swarm actors, and a simulated
 * DHT (test/helpers/sim-dht.ts), on the suite's simulated clock. One name is
 * on both the DHT and a router (the router's record newer), one only on a
 * router, one only on the DHT; publishes go to both.
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
import { routersActor } from '../../../src/actors/routers/routers-actor.js'
import { storeActor } from '../../../src/actors/store/store-actor.js'
import { datastoreRecordStore } from '../../../src/actors/store/record-store.js'
import { swarmActor } from '../../../src/actors/swarm/swarm-actor.js'
import { verifierActor } from '../../../src/actors/verifier/verifier-actor.js'
import { createRecord } from '../../../src/records/create.js'
import { createInlineVerifier } from '../../../src/workers/verify-pool.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import { PEER_A, PEER_B, PEER_C, PEER_D } from '../../helpers/fake-dht-port.js'
import { SimDhtPort, SimPeer } from '../../helpers/sim-dht.js'
import { tablePort } from './table-port.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const CID = 'bafkqaddwgevxmmraojswg33smq'
const cmd = (c: Record<string, unknown> & { type: string }): BaseCommand => c
const nothing = (): Uint8Array => new Uint8Array(0)

// the suite's clock starts at 0: records signed then are valid for 48 h
const self = await generateKeyPair('Ed25519')
const bothKey = await generateKeyPair('Ed25519')
const onDht = await createRecord(bothKey, `/ipfs/${CID}/dht`, { now: 0, sequence: 5 })
const onRouter = await createRecord(bothKey, `/ipfs/${CID}/router`, { now: 0, sequence: 6 })
const routerOnly = await createRecord(await generateKeyPair('Ed25519'), `/ipfs/${CID}/only`, { now: 0, sequence: 1 })
const dhtOnly = await createRecord(await generateKeyPair('Ed25519'), `/ipfs/${CID}/dht-only`, { now: 0, sequence: 2 })
const BOTH = onDht.name.format('base36')
const ROUTER_ONLY = routerOnly.name.format('base36')
const DHT_ONLY = dhtOnly.name.format('base36')

runActorCompliance('ipns actor with HTTP routers (real actors, in-memory endpoints, simulated DHT)', {
  promptTimeoutMs: 10_000,
  build: async env => {
    const rng = createRng(env.seed)
    const peers = [PEER_A, PEER_B, PEER_C, PEER_D].map(id => new SimPeer(id, 'honest', () => 5 + rng.int(95)))
    for (const p of peers.slice(1)) {
      p.store.set(BOTH, { record: onDht.bytes, sequence: 5n, since: 0 })
      p.store.set(DHT_ONLY, { record: dhtOnly.bytes, sequence: 2n, since: 0 })
    }
    const ds = new MemoryDatastore()
    const keystore = await Keystore.open(ds, self, undefined)
    const port = new SimDhtPort(peerIdFromPrivateKey(self).toString(), peers, env.clock, rng, { forged: nothing, wrongKey: nothing, expired: () => undefined, garbage: nothing })
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(swarmActor({ port }))
    system.spawn(keysActor({ ops: keystoreOps(keystore), open: async () => keystoreOps(keystore) }))
    system.spawn(verifierActor({ verifier: createInlineVerifier() }))
    system.spawn(storeActor({ ops: datastoreRecordStore(ds) }))
    system.spawn(routersActor({
      ports: [
        tablePort('http://127.0.0.1:1', true, new Map([[BOTH, onRouter.bytes], [ROUTER_ONLY, routerOnly.bytes]]), []),
        tablePort('http://127.0.0.1:2', true, new Map(), [])
      ]
    }))
    system.spawn(ipnsActor({ quorum: 3, routers: { settleMs: 100 } }))
    const ownName = (await keystore.list())[0]?.ipnsName ?? ''
    return {
      system,
      valid: [
        { command: cmd({ type: 'ipns.publish', value: `/ipfs/${CID}/own` }) },
        { command: cmd({ type: 'ipns.resolve', name: BOTH }) },
        { command: cmd({ type: 'ipns.resolve', name: `/ipns/${BOTH}/sub`, nocache: true, quorum: 2 }) },
        { command: cmd({ type: 'ipns.resolve', name: ROUTER_ONLY, nocache: true }) },
        { command: cmd({ type: 'ipns.resolve', name: DHT_ONLY }) },
        { command: cmd({ type: 'ipns.resolve', name: ownName }) }
      ],
      invalid: [
        { command: cmd({ type: 'ipns.resolve', name: 'no such name' }), field: 'name' },
        { command: cmd({ type: 'ipns.publish', value: 'relative/path' }), field: 'value' }
      ]
    }
  }
})

/**
 * The actor compliance suite against the routers actor with the verifier
 * actor beside it, over two in-memory RouterPorts (tables of real signed
 * records and peer records), on the suite's simulated clock: in 'prompt'
 * mode the tables answer at once; in 'never' mode no request ever completes
 * (each ends only when the actor aborts it). Not 'slow': like the DNSLink
 * actor, an answer for a request the actor gave up on is dropped inside it
 * (a stale request sequence), so it never reaches a port as a dead letter.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { routersActor } from '../../../src/actors/routers/routers-actor.js'
import { verifierActor } from '../../../src/actors/verifier/verifier-actor.js'
import { createRecord } from '../../../src/records/create.js'
import { createInlineVerifier } from '../../../src/workers/verify-pool.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import { tablePort } from './table-port.js'
import type { RouterPortPeer } from '../../../src/actors/routers/router-port.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const cmd = (c: Record<string, unknown> & { type: string }): BaseCommand => c
const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const NOBODY = 'k51qzi5uqu5dgsq3mxtkulpb8mao7bv10in440nxvtkzl8bcplediubqox1r7e'

runActorCompliance('routers actor (in-memory endpoints)', {
  modes: ['prompt', 'never'],
  build: async env => {
    const key = await generateKeyPair('Ed25519')
    // a record valid for the whole run (the suite's clock starts at the epoch's wall offset)
    const r = await createRecord(key, '/ipfs/bafkqaaa', { now: env.clock.wall(), sequence: 1, lifetimeMs: 10 * 365 * 24 * 3600_000 })
    const name = r.name.format('base36')
    const peers: RouterPortPeer[] = [{ peerId: PEER, multiaddrs: ['/ip4/127.0.0.1/tcp/4001'], protocols: ['transport-bitswap'] }]
    const answers = env.mode === 'prompt'
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(verifierActor({ verifier: createInlineVerifier() }))
    system.spawn(routersActor({
      // in 'never' mode the per-endpoint timeout lies past every deadline: the ask's deadline is what ends it
      ...(answers ? {} : { timeoutMs: 1e9 }),
      ports: [
        tablePort('http://127.0.0.1:1', answers, new Map([[name, r.bytes]]), peers),
        tablePort('http://127.0.0.1:2', answers, new Map(), peers)
      ]
    }))
    return {
      system,
      valid: [
        { command: cmd({ type: 'routers.getIpns', name }) },
        { command: cmd({ type: 'routers.getIpns', name: NOBODY }) },
        { command: cmd({ type: 'routers.putIpns', name, record: r.bytes }) },
        { command: cmd({ type: 'routers.findProviders', cid: CID_A }), port: 'stream' },
        { command: cmd({ type: 'routers.findPeers', peerId: PEER }), port: 'stream' }
      ],
      invalid: [
        { command: cmd({ type: 'routers.getIpns', name: 'not-a-name' }), field: 'name' },
        { command: cmd({ type: 'routers.putIpns', name, record: 'bytes' }), field: 'record' },
        { command: cmd({ type: 'routers.putIpns', name: 42, record: r.bytes }), field: 'name' },
        { command: cmd({ type: 'routers.findProviders', cid: 'nope' }), field: 'cid', port: 'stream' },
        { command: cmd({ type: 'routers.findProviders', cid: CID_A, limit: 0 }), field: 'limit', port: 'stream' },
        { command: cmd({ type: 'routers.findPeers', peerId: 'nope' }), field: 'peerId', port: 'stream' }
      ]
    }
  }
})

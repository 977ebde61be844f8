/**
 * A hostile peer in its own process (so the CPU it spends building, encrypting
 * and sending a flood is not taken from the event loop of the testnet it
 * attacks): started by test/node/hostile-peers.test.ts with
 * `node --import tsx hostile-flood-child.ts '<json>'` and an IPC channel.
 * It floods the target with GET_VALUE, PUT_VALUE, ADD_PROVIDER and FIND_NODE
 * from the moment it says `ready` until the parent sends `stop`, then sends
 * back what was answered and exits.
 */
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { MessageType } from '../../src/actors/swarm/dht-client/pb/dht.js'
import { addProviderBody, body, HostilePeer } from './hostile-peer.js'

interface Plan { target: string, seed: number, key: string, record: string }

const plan = JSON.parse(process.argv[2] ?? '{}') as Plan
const utf8 = new TextEncoder()
const key = Buffer.from(plan.key, 'base64')
const record = Buffer.from(plan.record, 'base64')
const peer = await HostilePeer.start(plan.seed, plan.target)
const provider = { id: peer.node.peerId.toMultihash().bytes, multiaddrs: peer.node.getMultiaddrs().map(a => a.bytes) }
const cids = await Promise.all(Array.from({ length: 400 }, async (_, i) => CID.createV1(0x55, await sha256.digest(utf8.encode(`flood/${i}`))).bytes))
let stopped = false
const stop = (): boolean => stopped
process.on('message', (m) => { if (m === 'stop') stopped = true })
await peer.connection()
process.send?.('ready')
const started = performance.now()
const [getValue, putValue, addProvider, findNode] = await Promise.all([
  peer.flood(1e6, 6, i => ({ body: body({ type: MessageType.GET_VALUE, key: utf8.encode(`/ipns/flood-${i}`) }), answered: true }), stop),
  peer.flood(1e6, 4, () => ({ body: body({ type: MessageType.PUT_VALUE, key, record }), answered: true }), stop),
  // ADD_PROVIDER has no answer: every tenth is followed by a PING, so the flood goes at the rate the node takes
  // it in (written without waiting, the messages would only pile up in this process's own send buffer)
  peer.flood(1e6, 4, i => i % 10 === 9 ? { body: body({ type: MessageType.PING }), answered: true } : { body: addProviderBody(cids[i % cids.length] ?? new Uint8Array(), provider), answered: false }, stop),
  peer.flood(1e6, 6, i => ({ body: body({ type: MessageType.FIND_NODE, key: utf8.encode(`flood-node-${i}`) }), answered: true }), stop)
])
const seconds = (performance.now() - started) / 1000
process.send?.({ getValue, putValue, addProvider, findNode, seconds }, () => {
  void peer.stop().finally(() => process.exit(0))
})

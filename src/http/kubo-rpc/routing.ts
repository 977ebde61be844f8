/**
 * routing/get|put|findprovs|findpeer|provide and dht/query: the swarm
 * actor's dht.* commands, answered as kubo's query events (NDJSON, one
 * event per line): `{"ID","Type","Responses","Extra"}` with kubo's types
 * (2 FinalPeer, 3 QueryError, 4 Provider, 5 Value). `Addrs` is always an
 * array. A failure after the stream started is a QueryError event.
 *
 * Keys: `/ipns/<name>` (any form of the name) becomes the DHT routing key
 * (`/ipns/` + the multihash bytes); any other key goes to the bus as text,
 * whose namespace check refuses what this node does not validate (400).
 * Peer ids: base58 (`12D3…`) or a CID (`bafz…`, `k51…`).
 *
 * findprovs and findpeer go through the composite routing commands
 * (routing.findProviders / routing.findPeer: the DHT and every HTTP router
 * at once, de-duplicated) on a node with router endpoints, else through the
 * DHT's (dht.findProviders / dht.findPeer). findprovs yields one Provider
 * event per provider as it is found; findpeer one FinalPeer event per answer
 * that brought new addresses (the first as soon as any source answered).
 */
import { clientError, routingPrefix } from './errors.js'
import { MAX_RECORD_SIZE } from '../../records/codec.js'
import { parseName } from '../../records/name.js'
import type { Commands } from './call.js'
import type { KuboRpcError } from './errors.js'
import type { StreamOutcome } from './stream.js'
import type { PeerInfo } from '../../messages/swarm.js'
import type { SwarmNode } from '../../node/create-node.js'

export const SENDING_QUERY = 0
export const FINAL_PEER = 2
export const QUERY_ERROR = 3
export const PROVIDER = 4
export const VALUE = 5

/** dht.put's bound on values (src/actors/swarm/validate.ts) */
export const MAX_VALUE_BYTES = 64 * 1_024
export const DEFAULT_NUM_PROVIDERS = 20
export const MAX_NUM_PROVIDERS = 256
export const MAX_CIDS_PER_CALL = 64

export interface QueryEvent {
  ID: string
  Type: number
  Responses: Array<{ ID: string, Addrs: string[] }> | null
  Extra: string
}

const event = (Type: number, ID = '', Responses: QueryEvent['Responses'] = null, Extra = ''): QueryEvent => ({ ID, Type, Responses, Extra })
const peerOut = (p: Pick<PeerInfo, 'peerId' | 'multiaddrs'>): { ID: string, Addrs: string[] } => ({ ID: p.peerId, Addrs: [...p.multiaddrs] })
const queryError = (err: KuboRpcError): QueryEvent => event(QUERY_ERROR, '', null, err.message)

function routingKey (key: string): Uint8Array | string {
  if (!key.startsWith('/ipns/')) return key
  try {
    return parseName(key).name.toRoutingKey()
  } catch (err) {
    throw clientError(`invalid IPNS key ${key}: ${(err as Error).message}`)
  }
}

/** a peer id in base58 from `12D3…`/`Qm…` or a libp2p-key CID */
export function peerIdText (input: string): string {
  try {
    return parseName(input.startsWith('/p2p/') ? input.slice('/p2p/'.length) : input).name.format('base58btc')
  } catch (err) {
    throw clientError(`invalid peer ID ${input}: ${(err as Error).message}`)
  }
}

/** does the node serve the composite routing.* streams (a routers actor, i.e. HTTP router endpoints)? Fixed once the node runs */
const composite = new WeakMap<SwarmNode, boolean>()
function hasRouters (node: SwarmNode): boolean {
  let known = composite.get(node)
  if (known === undefined) {
    known = node.system.status().actors.some(a => a.name === 'routers')
    composite.set(node, known)
  }
  return known
}

function eventStream (items: AsyncIterable<QueryEvent>): StreamOutcome {
  return { stream: items, errorEvent: queryError, prefix: routingPrefix }
}

export const routingCommands: Commands = {
  'routing/get': async ({ node, params, ask }) => {
    const key = routingKey(params.arg('key'))
    return eventStream((async function * () {
      const { value } = await node.ask({ type: 'dht.get', key }, ask())
      yield event(VALUE, '', null, Buffer.from(value).toString('base64'))
    })())
  },

  'routing/put': async ({ node, params, ask, file }) => {
    const arg = params.arg('key')
    const key = routingKey(arg)
    const value = await file('value', arg.startsWith('/ipns/') ? MAX_RECORD_SIZE : MAX_VALUE_BYTES)
    return eventStream((async function * () {
      await node.ask({ type: 'dht.put', key, value }, ask())
      yield event(VALUE, node.peerId)
    })())
  },

  'routing/findprovs': async ({ node, params, ask }) => {
    const cid = params.arg('key')
    const n = params.int('num-providers', 'n') ?? DEFAULT_NUM_PROVIDERS
    if (n < 0) throw clientError('num-providers must be a positive number')
    const limit = n === 0 ? MAX_NUM_PROVIDERS : Math.min(n, MAX_NUM_PROVIDERS)
    const routers = hasRouters(node)
    return eventStream((async function * () {
      const providers = routers
        ? node.stream({ type: 'routing.findProviders', cid, limit }, ask())
        : node.stream({ type: 'dht.findProviders', cid, limit }, ask())
      for await (const p of providers) yield event(PROVIDER, '', [peerOut(p)])
    })())
  },

  'routing/findpeer': async ({ node, params, ask }) => {
    const peerId = peerIdText(params.arg('peerID'))
    if (peerId === node.peerId) throw clientError('cannot FindPeer for yourself')
    if (hasRouters(node)) {
      return eventStream((async function * () {
        for await (const p of node.stream({ type: 'routing.findPeer', peerId }, ask())) yield event(FINAL_PEER, '', [peerOut(p)])
      })())
    }
    return eventStream((async function * () {
      const found = await node.ask({ type: 'dht.findPeer', peerId }, ask())
      yield event(FINAL_PEER, '', [peerOut(found)])
    })())
  },

  'routing/provide': async ({ node, params, ask }) => {
    const cids = params.args()
    if (cids.length === 0) throw clientError('argument "key" is required')
    if (cids.length > MAX_CIDS_PER_CALL) throw clientError(`at most ${MAX_CIDS_PER_CALL} CIDs per call`)
    if (params.bool('recursive', false, 'r')) throw clientError('recursive provide needs the DAG, which swarmbus does not store')
    return eventStream((async function * () {
      for (const cid of cids) {
        const { peers } = await node.ask({ type: 'dht.provide', cid }, ask())
        // one FinalPeer per CID: kubo ends a provide's query with one; Extra says how many peers were told
        yield event(FINAL_PEER, node.peerId, null, `${cid} provided to ${peers} peers`)
      }
    })())
  },

  'dht/query': async ({ node, params, ask }) => {
    const peerId = peerIdText(params.arg('peerID'))
    const key = parseName(peerId).name.multihash.bytes
    return eventStream((async function * () {
      for await (const p of node.stream({ type: 'dht.closestPeers', key }, ask())) {
        yield event(FINAL_PEER, p.peerId)
      }
    })())
  }
}

/**
 * Validation of swarm commands before they are queued: a malformed command is
 * rejected with `invalid` naming the field, and never reaches libp2p.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { failure } from '../../messages/failure.js'
import { MAX_PUT_TO_PEERS } from '../../messages/swarm.js'
import { MAX_LOOKUP_WIDTH } from './dht-client/value-lookup.js'
import type { Failure } from '../../messages/failure.js'
import type { SwarmCommand } from './swarm-commands.js'

/** Largest DHT key accepted (bytes). */
export const MAX_KEY_BYTES = 1024
/** Largest DHT value accepted (bytes); kad-dht messages are capped well above this. */
export const MAX_VALUE_BYTES = 64 * 1024
/** Most providers a findProviders stream may ask for: the libp2p port ends a stream at 256 results. */
export const MAX_PROVIDERS_LIMIT = 256

const invalid = (field: string, message: string): Failure => failure('invalid', message, { field })

function checkKey (key: unknown): Failure | undefined {
  if (typeof key === 'string') {
    if (key.length === 0) return invalid('key', 'key must not be empty')
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) return invalid('key', `key is longer than ${MAX_KEY_BYTES} bytes`)
    return undefined
  }
  if (key instanceof Uint8Array) {
    if (key.byteLength === 0) return invalid('key', 'key must not be empty')
    if (key.byteLength > MAX_KEY_BYTES) return invalid('key', `key is longer than ${MAX_KEY_BYTES} bytes`)
    return undefined
  }
  return invalid('key', 'key must be a Uint8Array or a string')
}

function checkCid (cid: unknown): Failure | undefined {
  if (typeof cid !== 'string') return invalid('cid', 'cid must be a string')
  try {
    CID.parse(cid)
  } catch (err) {
    return invalid('cid', `not a CID: ${(err as Error).message}`)
  }
  return undefined
}

function checkPeerId (peerId: unknown): Failure | undefined {
  if (typeof peerId !== 'string') return invalid('peerId', 'peerId must be a string')
  try {
    peerIdFromString(peerId)
  } catch {
    return invalid('peerId', `not a peer id: '${peerId.slice(0, 80)}'`)
  }
  return undefined
}

function checkMultiaddr (addr: unknown): Failure | undefined {
  if (typeof addr !== 'string') return invalid('multiaddr', 'multiaddr must be a string')
  let ma
  try {
    ma = multiaddr(addr)
  } catch (err) {
    return invalid('multiaddr', `not a multiaddr: ${(err as Error).message}`)
  }
  if (ma.getComponents().find(c => c.name === 'p2p') === undefined) return invalid('multiaddr', 'multiaddr must end in /p2p/<peer id>')
  return undefined
}

const utf8 = new TextEncoder()

/** kad-dht stores and serves only `/<namespace>/…` keys whose namespace has a validator. */
function checkNamespace (key: Uint8Array | string, namespaces: readonly string[]): Failure | undefined {
  const bytes = typeof key === 'string' ? utf8.encode(key) : key
  for (const ns of namespaces) {
    const prefix = utf8.encode(`/${ns}/`)
    if (bytes.byteLength > prefix.byteLength && prefix.every((b, i) => bytes[i] === b)) return undefined
  }
  return invalid('key', `key must start with a namespace this node validates: ${namespaces.map(ns => `/${ns}/`).join(', ')}`)
}

/** The validator of swarm commands for a node whose DHT accepts these record namespaces. */
/** a record key: well formed and, when the node's namespaces are given, in one of them */
function checkStoredKey (key: Uint8Array | string, namespaces: readonly string[] | undefined): Failure | undefined {
  return checkKey(key) ?? (namespaces === undefined ? undefined : checkNamespace(key, namespaces))
}

/** a record to store: its key, and a value of at most MAX_VALUE_BYTES */
function checkRecord (key: Uint8Array | string, value: unknown, namespaces: readonly string[] | undefined): Failure | undefined {
  const k = checkStoredKey(key, namespaces)
  if (k !== undefined) return k
  if (!(value instanceof Uint8Array)) return invalid('value', 'value must be a Uint8Array')
  if (value.byteLength > MAX_VALUE_BYTES) return invalid('value', `value is larger than ${MAX_VALUE_BYTES} bytes`)
  return undefined
}

export function swarmValidator (namespaces: readonly string[]): (cmd: SwarmCommand) => Failure | undefined {
  return cmd => validateSwarmCommand(cmd, namespaces)
}

export function validateSwarmCommand (cmd: SwarmCommand, namespaces?: readonly string[]): Failure | undefined {
  if (typeof cmd !== 'object' || cmd === null) return invalid('command', 'command must be an object')
  switch (cmd.type) {
    case 'dht.put':
      return checkRecord(cmd.key, cmd.value, namespaces)
    case 'dht.putTo': {
      const r = checkRecord(cmd.key, cmd.value, namespaces)
      if (r !== undefined) return r
      if (!Array.isArray(cmd.peers) || cmd.peers.length === 0 || cmd.peers.length > MAX_PUT_TO_PEERS) return invalid('peers', `peers must list 1 to ${MAX_PUT_TO_PEERS} peer ids`)
      for (const peer of cmd.peers) {
        const bad = checkPeerId(peer)
        if (bad !== undefined) return invalid('peers', `peers: ${bad.message}`)
      }
      return undefined
    }
    case 'dht.get':
      return checkStoredKey(cmd.key, namespaces)
    case 'dht.getValues': {
      const k = checkStoredKey(cmd.key, namespaces)
      if (k !== undefined) return k
      if (cmd.want !== undefined && !(Number.isInteger(cmd.want) && cmd.want >= 1 && cmd.want <= MAX_LOOKUP_WIDTH)) {
        return invalid('want', `want must be an integer from 1 to ${MAX_LOOKUP_WIDTH}`)
      }
      return undefined
    }
    case 'dht.closestPeers':
      return checkKey(cmd.key)
    case 'dht.provide':
      return checkCid(cmd.cid)
    case 'dht.findProviders': {
      const c = checkCid(cmd.cid)
      if (c !== undefined) return c
      if (cmd.limit !== undefined && !(Number.isInteger(cmd.limit) && cmd.limit > 0 && cmd.limit <= MAX_PROVIDERS_LIMIT)) {
        return invalid('limit', `limit must be an integer from 1 to ${MAX_PROVIDERS_LIMIT}`)
      }
      return undefined
    }
    case 'dht.findPeer':
      return checkPeerId(cmd.peerId)
    case 'swarm.dial':
      return checkMultiaddr(cmd.multiaddr)
    case 'swarm.peers':
    case 'swarm.bootstrap':
    case 'swarm.status':
      return undefined
    default:
      return invalid('type', `unknown swarm command '${String((cmd as { type: unknown }).type)}'`)
  }
}

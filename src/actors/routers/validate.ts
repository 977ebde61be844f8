/** Validation of routers.* commands before they are queued. */
import { CID } from 'multiformats/cid'
import { failure } from '../../messages/failure.js'
import { parseName } from '../../records/name.js'
import type { Failure } from '../../messages/failure.js'
import type { RoutersCommand } from './routers-actor.js'

/** the record size the IPNS spec requires support for; larger ones are refused */
export const MAX_ROUTER_RECORD = 10 * 1024
/** most distinct peers one stream yields */
export const MAX_ROUTER_STREAM_LIMIT = 1000
export const DEFAULT_ROUTER_STREAM_LIMIT = 100

const invalid = (field: string, message: string): Failure => failure('invalid', message, { field })

/** the name, base36, or undefined when it is not an IPNS name */
export function nameOf (input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length === 0 || input.length > 256) return undefined
  try {
    return parseName(input.startsWith('/ipns/') ? input.slice('/ipns/'.length) : input).name.format('base36')
  } catch {
    // not a name: the caller answers with an invalid-command failure naming the field
    return undefined
  }
}

/** the peer id, base58btc, or undefined when it is not one */
export function peerIdOf (input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length === 0 || input.length > 256) return undefined
  try {
    return parseName(input).name.format('base58btc')
  } catch {
    // not a peer id: the caller answers with an invalid-command failure naming the field
    return undefined
  }
}

function checkCid (input: unknown): boolean {
  if (typeof input !== 'string' || input.length === 0 || input.length > 512) return false
  try {
    CID.parse(input)
    return true
  } catch {
    // not a CID: the caller answers with an invalid-command failure naming the field
    return false
  }
}

function checkLimit (limit: unknown): Failure | undefined {
  if (limit === undefined) return undefined
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_ROUTER_STREAM_LIMIT) {
    return invalid('limit', `limit must be an integer from 1 to ${MAX_ROUTER_STREAM_LIMIT}`)
  }
  return undefined
}

export function validateRoutersCommand (cmd: RoutersCommand): Failure | undefined {
  switch (cmd.type) {
    case 'routers.getIpns':
      return nameOf(cmd.name) === undefined ? invalid('name', 'name must be an IPNS name (k51…, bafz…, a peer id or /ipns/<name>)') : undefined
    case 'routers.putIpns':
      if (nameOf(cmd.name) === undefined) return invalid('name', 'name must be an IPNS name (k51…, bafz…, a peer id or /ipns/<name>)')
      if (!(cmd.record instanceof Uint8Array) || cmd.record.byteLength === 0 || cmd.record.byteLength > MAX_ROUTER_RECORD) {
        return invalid('record', `record must be a Uint8Array of 1 to ${MAX_ROUTER_RECORD} bytes`)
      }
      return undefined
    case 'routers.findProviders':
      if (!checkCid(cmd.cid)) return invalid('cid', 'cid must be a CID string')
      return checkLimit(cmd.limit)
    case 'routing.findProviders':
      if (!checkCid(cmd.cid)) return invalid('cid', 'cid must be a CID string')
      return checkLimit(cmd.limit)
    case 'routers.findPeers':
    case 'routing.findPeer':
      if (peerIdOf(cmd.peerId) === undefined) return invalid('peerId', 'peerId must be a peer id (12D3Koo…, Qm…)')
      return checkLimit(cmd.limit)
    case 'routers.status':
      return undefined
  }
  return invalid('type', `unknown routers command '${String((cmd as { type: unknown }).type)}'`)
}

/** Validation of ipns.* commands before they are queued. */
import { failure } from '../../messages/failure.js'
import { isIpnsName, parseTarget } from './target.js'
import { parseName } from '../../records/name.js'
import { MAX_RECORD_SIZE } from '../../records/codec.js'
import type { Failure } from '../../messages/failure.js'
import type { IpnsCommand } from './ipns-actor.js'
import { KEY_NAME_RE } from '../keys/key-rules.js'

const MAX_LIFETIME_MS = 100 * 365 * 24 * 3600 * 1000
/** names that parsed, so a repeat is not parsed again (bounded; cleared when full) */
const knownNames = new Set<string>()
const KNOWN_NAMES_MAX = 4096
const invalid = (field: string, message: string): Failure => failure('invalid', message, { field })

export function validateIpnsCommand (cmd: IpnsCommand): Failure | undefined {
  if (typeof cmd !== 'object' || cmd === null) return invalid('command', 'command must be an object')
  if (cmd.type === 'ipns.publish') {
    if (cmd.key !== undefined && (typeof cmd.key !== 'string' || !KEY_NAME_RE.test(cmd.key))) return invalid('key', 'key must be a key name from key.list')
    if (typeof cmd.value !== 'string' || !/^\/(ipfs|ipns)\/[^/]+/.test(cmd.value) || cmd.value.length > 4096) return invalid('value', 'value must be an /ipfs/… or /ipns/… path')
    if (cmd.lifetimeMs !== undefined && !(Number.isFinite(cmd.lifetimeMs) && cmd.lifetimeMs > 0 && cmd.lifetimeMs <= MAX_LIFETIME_MS)) return invalid('lifetimeMs', 'lifetimeMs must be positive and at most a century')
    if (cmd.ttlMs !== undefined && !(Number.isFinite(cmd.ttlMs) && cmd.ttlMs >= 0 && cmd.ttlMs <= MAX_LIFETIME_MS)) return invalid('ttlMs', 'ttlMs must be zero or positive')
    if (cmd.offline !== undefined && typeof cmd.offline !== 'boolean') return invalid('offline', 'offline must be a boolean')
    return undefined
  }
  if (cmd.type === 'ipns.resolve' || cmd.type === 'ipns.resolveStream') {
    if (typeof cmd.name !== 'string' || cmd.name.length === 0 || cmd.name.length > 4096) return invalid('name', 'name must be an IPNS name (k51…, a peer id, or /ipns/<name>[/path])')
    if (!knownNames.has(cmd.name)) {
      try {
        parseTarget(cmd.name)
      } catch (err) {
        return invalid('name', `not an IPNS name or a DNSLink domain: ${(err as Error).message}`)
      }
      // a name that parsed once parses again: skip the work for repeats (cached resolves)
      if (knownNames.size >= KNOWN_NAMES_MAX) knownNames.clear()
      knownNames.add(cmd.name)
    }
    for (const flag of ['nocache', 'offline', 'recursive'] as const) {
      const v = (cmd as { [k in typeof flag]?: unknown })[flag]
      if (flag === 'offline' && cmd.type === 'ipns.resolveStream' && v !== undefined) return invalid(flag, 'a stream resolve asks the network: offline is not one of its options')
      if (v !== undefined && typeof v !== 'boolean') return invalid(flag, `${flag} must be a boolean`)
    }
    if (cmd.quorum !== undefined && !(Number.isInteger(cmd.quorum) && cmd.quorum >= 1 && cmd.quorum <= 64)) return invalid('quorum', 'quorum must be an integer from 1 to 64')
    if (cmd.record !== undefined && typeof cmd.record !== 'boolean') return invalid('record', 'record must be a boolean')
    return undefined
  }
  if (cmd.type === 'ipns.put') {
    if (typeof cmd.name !== 'string' || cmd.name.length === 0 || cmd.name.length > 4096 || !isIpnsName(cmd.name) || parseName(cmd.name).path !== '') {
      return invalid('name', 'name must be an IPNS name (k51…, a base32 CID, a peer id, or /ipns/<name>) without a path')
    }
    if (!(cmd.record instanceof Uint8Array) || cmd.record.byteLength === 0 || cmd.record.byteLength > MAX_RECORD_SIZE) return invalid('record', `record must be a non-empty Uint8Array of at most ${MAX_RECORD_SIZE} bytes`)
    if (cmd.offline !== undefined && typeof cmd.offline !== 'boolean') return invalid('offline', 'offline must be a boolean')
    return undefined
  }
  return invalid('type', `unknown ipns command '${String((cmd as { type: unknown }).type)}'`)
}

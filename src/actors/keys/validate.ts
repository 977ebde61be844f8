/** Validation of key.* and record.create commands before they are queued. */
import { failure } from '../../messages/failure.js'
import type { Failure } from '../../messages/failure.js'
import type { KeyCommand } from './keys-actor.js'
import { KEY_NAME_RE, KEY_TYPES, MAX_EXPORT_CHARS, RSA_BITS } from './key-rules.js'

const KEY_TYPE_SET = new Set<string>(KEY_TYPES)
const RSA_BITS_SET = new Set(RSA_BITS)
/** a century: longer lifetimes are almost certainly a unit mistake */
const MAX_LIFETIME_MS = 100 * 365 * 24 * 3600 * 1000
const MAX_VALUE_CHARS = 4096
const UINT64_MAX = (1n << 64n) - 1n

const invalid = (field: string, message: string): Failure => failure('invalid', message, { field })

function name (v: unknown, field: string): Failure | undefined {
  return typeof v === 'string' && KEY_NAME_RE.test(v) ? undefined : invalid(field, `${field} must be a key name: 1–64 characters of A–Z a–z 0–9 . _ - starting with a letter or digit`)
}

function passphrase (v: unknown): Failure | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= 1024 ? undefined : invalid('passphrase', 'passphrase must be a non-empty string of at most 1024 characters')
}

export function validateKeyCommand (cmd: KeyCommand): Failure | undefined {
  if (typeof cmd !== 'object' || cmd === null) return invalid('command', 'command must be an object')
  switch (cmd.type) {
    case 'key.list':
      return undefined
    case 'key.generate':
      if (cmd.keyType !== undefined && !KEY_TYPE_SET.has(cmd.keyType)) return invalid('keyType', 'keyType must be Ed25519, RSA, secp256k1 or ECDSA')
      if (cmd.bits !== undefined && (cmd.keyType !== 'RSA' || !RSA_BITS_SET.has(cmd.bits))) return invalid('bits', 'bits is for RSA keys only: 2048, 3072 or 4096')
      return name(cmd.name, 'name')
    case 'key.rename':
      return name(cmd.from, 'from') ?? name(cmd.to, 'to')
    case 'key.remove':
      return name(cmd.name, 'name')
    case 'key.export':
      return name(cmd.name, 'name') ?? passphrase(cmd.passphrase)
    case 'key.import':
      if (typeof cmd.data !== 'string' || cmd.data.length === 0 || cmd.data.length > MAX_EXPORT_CHARS) return invalid('data', `data must be an export document of at most ${MAX_EXPORT_CHARS} characters`)
      return name(cmd.name, 'name') ?? passphrase(cmd.passphrase)
    case 'record.create': {
      if (cmd.key !== undefined) {
        const k = name(cmd.key, 'key')
        if (k !== undefined) return k
      }
      if (typeof cmd.value !== 'string' || cmd.value.length === 0 || cmd.value.length > MAX_VALUE_CHARS) return invalid('value', 'value must be an /ipfs/… or /ipns/… path')
      if (cmd.sequence !== undefined) {
        const ok = typeof cmd.sequence === 'bigint' ? cmd.sequence >= 0n && cmd.sequence <= UINT64_MAX : Number.isSafeInteger(cmd.sequence) && cmd.sequence >= 0
        if (!ok) return invalid('sequence', 'sequence must be an integer from 0 to 2^64-1')
      }
      if (cmd.lifetimeMs !== undefined && !(Number.isFinite(cmd.lifetimeMs) && cmd.lifetimeMs > 0 && cmd.lifetimeMs <= MAX_LIFETIME_MS)) return invalid('lifetimeMs', 'lifetimeMs must be positive and at most a century')
      if (cmd.ttlMs !== undefined && !(Number.isFinite(cmd.ttlMs) && cmd.ttlMs >= 0 && cmd.ttlMs <= MAX_LIFETIME_MS)) return invalid('ttlMs', 'ttlMs must be zero or positive')
      if (cmd.v2Only !== undefined && typeof cmd.v2Only !== 'boolean') return invalid('v2Only', 'v2Only must be a boolean')
      return undefined
    }
    default:
      return invalid('type', `unknown key command '${String((cmd as { type: unknown }).type)}'`)
  }
}

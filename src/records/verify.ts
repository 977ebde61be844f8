/**
 * The expensive half of record validation: one signature check, a plain value
 * that can be shipped to a worker. `verifySignature` never throws; anything it
 * cannot check is `false`. Used inline (validateRecord), by the inline batch
 * verifier and by the Piscina worker, so all give the same verdicts.
 *
 * Ed25519 goes to the chosen backend. RSA and secp256k1 verify through
 * @libp2p/crypto's key objects (synchronous in Node). ECDSA keys are parsed by
 * @libp2p/crypto, whose verify is WebCrypto (async only); we verify them
 * synchronously with node:crypto using the same parameters (SHA-256,
 * IEEE-P1363 r‖s signatures), which gives the same verdicts.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { LRUCache } from 'lru-cache'
import { defaultEd25519Backend, ed25519Verifier, isEd25519Backend } from './ed25519.js'
import type { Ed25519Backend } from './ed25519.js'
import type { KeyType, PublicKey } from '@libp2p/interface'
import type { KeyObject } from 'node:crypto'

export const KEY_TYPES: readonly KeyType[] = ['RSA', 'Ed25519', 'secp256k1', 'ECDSA']

/** One signature check: the raw public key (libp2p `PublicKey.raw`), the signed bytes and the signature. */
/** A digest naming a check exactly (key type, key, signature, data): equal checks have equal verdicts. */
export function sigCheckKey (sig: SigCheck): string {
  const h = createHash('sha256')
  h.update(sig.keyType)
  h.update(sig.publicKey)
  h.update(sig.signature)
  h.update(sig.data)
  return h.digest('base64')
}

export interface SigCheck {
  keyType: KeyType
  /** the key's raw form: 32 bytes for Ed25519, 33 for secp256k1, PKIX DER for RSA and ECDSA */
  publicKey: Uint8Array
  /** exactly the bytes that were signed ("ipns-signature:" ‖ data for a record) */
  data: Uint8Array
  signature: Uint8Array
}

export const OTHER_KEY_CACHE_SIZE = 256

interface ParsedKey { key: PublicKey, nodeKey?: KeyObject }
const parsedKeys = new LRUCache<string, ParsedKey | false>({ max: OTHER_KEY_CACHE_SIZE })

export function isKeyType (value: unknown): value is KeyType {
  return (KEY_TYPES as readonly unknown[]).includes(value)
}

export function verifySignature (check: SigCheck, backend: Ed25519Backend = defaultEd25519Backend()): boolean {
  try {
    if (!isSigCheck(check) || !isEd25519Backend(backend)) return false
    if (check.keyType === 'Ed25519') return ed25519Verifier(backend)(check.publicKey, check.data, check.signature)
    const parsed = parseKey(check.keyType, check.publicKey)
    if (parsed === false) return false
    if (parsed.nodeKey !== undefined) {
      return nodeVerify('sha256', check.data, { key: parsed.nodeKey, dsaEncoding: 'ieee-p1363' }, check.signature)
    }
    const verdict = parsed.key.verify(check.data, check.signature)
    return verdict === true
  } catch {
    // a key or signature the crypto library cannot even parse does not verify: that is the verdict
    return false
  }
}

export function isSigCheck (value: unknown): value is SigCheck {
  if (typeof value !== 'object' || value === null) return false
  const c = value as Record<string, unknown>
  return isKeyType(c.keyType) && c.publicKey instanceof Uint8Array && c.data instanceof Uint8Array && c.signature instanceof Uint8Array
}

function parseKey (keyType: Exclude<KeyType, 'Ed25519'>, raw: Uint8Array): ParsedKey | false {
  const id = `${keyType}:${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`
  let parsed = parsedKeys.get(id)
  if (parsed === undefined) {
    parsed = tryParseKey(keyType, raw)
    parsedKeys.set(id, parsed)
  }
  return parsed
}

function tryParseKey (keyType: Exclude<KeyType, 'Ed25519'>, raw: Uint8Array): ParsedKey | false {
  try {
    const key = publicKeyFromRaw(raw)
    if (key.type !== keyType) return false
    if (key.type === 'ECDSA') {
      return { key, nodeKey: createPublicKey({ key: { kty: 'EC', crv: key.jwk.crv, x: key.jwk.x, y: key.jwk.y }, format: 'jwk' }) }
    }
    return { key }
  } catch {
    // a key or signature the crypto library cannot even parse does not verify: that is the verdict
    return false
  }
}

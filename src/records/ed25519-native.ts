/**
 * The node:crypto (OpenSSL) Ed25519 verification backend. Key objects are
 * built from SPKI DER and kept in a bounded LRU, since building one costs
 * about as much as a verification.
 */
import { createPublicKey, verify } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { passesEd25519Policy } from './ed25519-policy.js'
import type { KeyObject } from 'node:crypto'

/** SubjectPublicKeyInfo header for an Ed25519 key (OID 1.3.101.112) */
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

export const NATIVE_KEY_CACHE_SIZE = 1024

const keyObjects = new LRUCache<string, KeyObject>({ max: NATIVE_KEY_CACHE_SIZE })

export function verifyEd25519Native (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!passesEd25519Policy(publicKey, signature) || !(message instanceof Uint8Array)) return false
  try {
    return verify(null, message, keyObjectFor(publicKey), signature)
  } catch {
    // a key node:crypto refuses (off the curve, wrong length) does not verify
    return false
  }
}

function keyObjectFor (publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64')
  let key = keyObjects.get(id)
  if (key === undefined) {
    const der = new Uint8Array(SPKI_PREFIX.byteLength + publicKey.byteLength)
    der.set(SPKI_PREFIX)
    der.set(publicKey, SPKI_PREFIX.byteLength)
    key = createPublicKey({ key: Buffer.from(der.buffer), format: 'der', type: 'spki' })
    keyObjects.set(id, key)
  }
  return key
}

/** true when node:crypto verifies Ed25519 (checked once against RFC 8032 test 1) */
export function nativeEd25519Available (): boolean {
  if (available === undefined) {
    try {
      const pub = Uint8Array.from(Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex'))
      const sig = Uint8Array.from(Buffer.from('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b', 'hex'))
      available = verifyEd25519Native(pub, new Uint8Array(0), sig)
    } catch {
      // no native Ed25519 in this runtime: the noble implementation serves instead
      available = false
    }
  }
  return available
}

let available: boolean | undefined

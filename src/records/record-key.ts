/**
 * Which public key verifies a record: the embedded `pubKey` if present (it must
 * hash to the name), otherwise the key inlined in an identity-multihash name.
 */
import { createHash } from 'node:crypto'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import * as Digest from 'multiformats/hashes/digest'
import { equals } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'
import { recordError } from './errors.js'
import { IDENTITY_HASH } from './name.js'
import type { IpnsName } from './name.js'
import type { PublicKey, RSAPublicKey } from '@libp2p/interface'

/** go-libp2p refuses smaller RSA keys (MinRsaKeyBits); so do we. */
export const MIN_RSA_BITS = 2048

/**
 * The key a record embeds (its `pubKey` field), whatever name it is for.
 * Throws InvalidRecordError bad-pubkey: not a libp2p public key, or an RSA key
 * below MIN_RSA_BITS.
 */
export function embeddedPublicKey (embedded: Uint8Array): PublicKey {
  let key: PublicKey
  try {
    key = publicKeyFromProtobuf(embedded)
  } catch (err) {
    throw recordError('bad-pubkey', `embedded pubKey is not a libp2p public key: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (key.type === 'RSA' && rsaModulusBits(key) < MIN_RSA_BITS) {
    throw recordError('bad-pubkey', `RSA key of ${rsaModulusBits(key)} bits is below the ${MIN_RSA_BITS}-bit minimum`)
  }
  return key
}

/** Throws InvalidRecordError: bad-pubkey, key-mismatch or missing-pubkey. */
export function recordPublicKey (name: IpnsName, embedded: Uint8Array | undefined): PublicKey {
  if (embedded !== undefined && embedded.byteLength > 0) {
    const key = embeddedPublicKey(embedded)
    if (!keyHashesToName(key, name)) throw recordError('key-mismatch', 'embedded pubKey does not hash to the name')
    return key
  }
  if (!name.inlinesKey) throw recordError('missing-pubkey', 'the name is a hash of the key and the record embeds no pubKey')
  const key = name.publicKey()
  if (key === undefined) throw recordError('bad-pubkey', 'no public key in the name')
  return key
}

/** The key's protobuf, hashed with the name's hash function (identity or sha2-256), equals the name. */
export function keyHashesToName (key: PublicKey, name: IpnsName): boolean {
  const protobuf = publicKeyToProtobuf(key)
  const digest = name.multihash.code === IDENTITY_HASH
    ? Digest.create(IDENTITY_HASH, protobuf)
    : Digest.create(name.multihash.code, createHash('sha256').update(protobuf).digest())
  return equals(digest.bytes, name.multihash.bytes)
}

export function rsaModulusBits (key: RSAPublicKey): number {
  const n = key.jwk.n
  if (typeof n !== 'string') return 0
  const bytes = fromString(n, 'base64url')
  let i = 0
  while (i < bytes.byteLength && bytes[i] === 0) i++
  if (i === bytes.byteLength) return 0
  return (bytes.byteLength - i - 1) * 8 + (32 - Math.clz32(bytes[i]!))
}

/**
 * IPNS names: the multihash of a libp2p public key (identity-hashed when the
 * protobuf-encoded key is at most 42 bytes, sha2-256 otherwise), written as a
 * CIDv1 with codec libp2p-key (0x72) in base36 (`k51…`), base32 (`bafz…`), or
 * as a base58btc peer id (`12D3Koo…`, `Qm…`). The DHT routing key is ASCII
 * `/ipns/` followed by the raw multihash bytes.
 */
import { createHash } from 'node:crypto'
import { publicKeyFromMultihash, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { base32, base32upper } from 'multiformats/bases/base32'
import { base36, base36upper } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { equals as bytesEqual } from 'uint8arrays/equals'
import { recordError } from './errors.js'
import type { PublicKey } from '@libp2p/interface'
import type { MultihashDigest } from 'multiformats/hashes/interface'

export const LIBP2P_KEY_CODEC = 0x72
export const DAG_PB_CODEC = 0x70
export const IDENTITY_HASH = 0x00
export const SHA2_256_HASH = 0x12
/** protobuf-encoded keys up to this size are inlined in the name with the identity hash */
export const MAX_INLINE_KEY_LENGTH = 42

const IPNS_PREFIX = '/ipns/'
const ROUTING_PREFIX = new TextEncoder().encode(IPNS_PREFIX)
const cidDecoder = base36.decoder.or(base36upper.decoder).or(base32.decoder).or(base32upper.decoder).or(base58btc.decoder)

export type NameFormat = 'base36' | 'base32' | 'base58btc'

/** An IPNS name: the multihash of the public key that signs its records. */
export class IpnsName {
  readonly multihash: MultihashDigest

  private constructor (multihash: MultihashDigest) {
    this.multihash = multihash
  }

  /** Checks that the multihash can name a key: sha2-256 (32 bytes) or an identity-inlined public key. */
  static fromMultihash (multihash: MultihashDigest): IpnsName {
    if (multihash.code === SHA2_256_HASH) {
      if (multihash.digest.byteLength !== 32) throw recordError('bad-name', 'sha2-256 name digest must be 32 bytes')
      return new IpnsName(multihash)
    }
    if (multihash.code === IDENTITY_HASH) {
      try {
        publicKeyFromMultihash(multihash as MultihashDigest<0x00>)
      } catch (err) {
        throw recordError('bad-name', `identity name does not hold a public key: ${messageOf(err)}`)
      }
      return new IpnsName(multihash)
    }
    throw recordError('bad-name', `name multihash must be identity or sha2-256, not 0x${multihash.code.toString(16)}`)
  }

  /** Decodes raw multihash bytes (the part of a routing key after `/ipns/`). */
  static fromMultihashBytes (bytes: Uint8Array): IpnsName {
    let digest: MultihashDigest
    try {
      digest = Digest.decode(bytes)
    } catch (err) {
      throw recordError('bad-name', `not a multihash: ${messageOf(err)}`)
    }
    return IpnsName.fromMultihash(digest)
  }

  /** true when the public key is inlined in the name (identity multihash) */
  get inlinesKey (): boolean {
    return this.multihash.code === IDENTITY_HASH
  }

  /** The public key inlined in the name, or undefined for sha2-256 names. */
  publicKey (): PublicKey | undefined {
    if (!this.inlinesKey) return undefined
    return publicKeyFromMultihash(this.multihash as MultihashDigest<0x00>)
  }

  /** The name as a CIDv1 (libp2p-key by default; dag-pb for the legacy form). */
  toCID (codec: number = LIBP2P_KEY_CODEC): CID {
    return CID.createV1(codec, this.multihash)
  }

  toRoutingKey (): Uint8Array {
    const bytes = this.multihash.bytes
    const key = new Uint8Array(ROUTING_PREFIX.byteLength + bytes.byteLength)
    key.set(ROUTING_PREFIX)
    key.set(bytes, ROUTING_PREFIX.byteLength)
    return key
  }

  format (format: NameFormat = 'base36'): string {
    switch (format) {
      case 'base36': return this.toCID().toString(base36)
      case 'base32': return this.toCID().toString(base32)
      case 'base58btc': return base58btc.baseEncode(this.multihash.bytes)
    }
  }

  /** base36 CIDv1 libp2p-key, the canonical text form (`k51…`) */
  toString (): string {
    return this.format('base36')
  }

  equals (other: IpnsName): boolean {
    return bytesEqual(this.multihash.bytes, other.multihash.bytes)
  }
}

export interface ParsedName {
  name: IpnsName
  /** whatever followed the name (`/a/b`), or '' */
  path: string
}

/**
 * Parses `k51…`, `bafz…`, `12D3Koo…`, `Qm…`, with or without a leading
 * `/ipns/`, and with an optional trailing path that is returned separately.
 */
export function parseName (input: string): ParsedName {
  if (typeof input !== 'string') throw recordError('bad-name', 'name must be a string')
  const rest = input.startsWith(IPNS_PREFIX) ? input.slice(IPNS_PREFIX.length) : input
  const slash = rest.indexOf('/')
  const text = slash === -1 ? rest : rest.slice(0, slash)
  const path = slash === -1 ? '' : rest.slice(slash)
  if (text.length === 0) throw recordError('bad-name', 'empty name')
  return { name: nameFromText(text), path }
}

function nameFromText (text: string): IpnsName {
  // a bare base58btc multihash: peer ids start with 1 (identity) or Qm (sha2-256)
  if (text.startsWith('1') || text.startsWith('Qm')) {
    let bytes: Uint8Array
    try {
      bytes = base58btc.baseDecode(text)
    } catch (err) {
      throw recordError('bad-name', `not base58btc: ${messageOf(err)}`)
    }
    return IpnsName.fromMultihashBytes(bytes)
  }
  let cid: CID
  try {
    cid = CID.parse(text, cidDecoder)
  } catch (err) {
    throw recordError('bad-name', `not a peer id or CID: ${messageOf(err)}`)
  }
  if (cid.version !== 1 || cid.code !== LIBP2P_KEY_CODEC) {
    throw recordError('bad-name', `an IPNS name CID must be CIDv1 libp2p-key (0x72), got v${cid.version} codec 0x${cid.code.toString(16)}`)
  }
  return IpnsName.fromMultihash(cid.multihash)
}

/** The name of a public key: identity multihash if its protobuf is ≤ 42 bytes, else sha2-256. */
export function nameFromPublicKey (key: PublicKey): IpnsName {
  return IpnsName.fromMultihash(multihashOfKey(publicKeyToProtobuf(key)))
}

/** The peer-id multihash of a protobuf-encoded public key. */
export function multihashOfKey (keyProtobuf: Uint8Array): MultihashDigest {
  if (keyProtobuf.byteLength <= MAX_INLINE_KEY_LENGTH) return Digest.create(IDENTITY_HASH, keyProtobuf)
  return Digest.create(SHA2_256_HASH, createHash('sha256').update(keyProtobuf).digest())
}

export function nameToRoutingKey (name: IpnsName): Uint8Array {
  return name.toRoutingKey()
}

/** Reads a DHT routing key: ASCII `/ipns/` + raw multihash bytes. */
export function nameFromRoutingKey (key: Uint8Array): IpnsName {
  if (!(key instanceof Uint8Array) || key.byteLength <= ROUTING_PREFIX.byteLength ||
      !bytesEqual(key.subarray(0, ROUTING_PREFIX.byteLength), ROUTING_PREFIX)) {
    throw recordError('bad-name', 'routing key must be /ipns/ followed by a multihash')
  }
  return IpnsName.fromMultihashBytes(key.subarray(ROUTING_PREFIX.byteLength))
}

/** A name given as text, a parsed name, or a routing key. */
export type NameInput = string | IpnsName | Uint8Array

export function toIpnsName (input: NameInput): IpnsName {
  if (input instanceof IpnsName) return input
  if (input instanceof Uint8Array) return nameFromRoutingKey(input)
  return parseName(input).name
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

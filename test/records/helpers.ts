/**
 * Test helpers: the shared conformance vectors, and a record forger that signs
 * whatever fields it is given (so each validation rule can be hit on its own).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { concat } from 'uint8arrays/concat'
import { encodeRecordData } from '../../src/records/cbor.js'
import { encodeEntry } from '../../src/records/codec.js'
import { IpnsEntry } from '../../src/records/pb/ipns.js'
import { SIGNATURE_V2_PREFIX } from '../../src/records/validate.js'
import type { IpnsEntryInput } from '../../src/records/codec.js'
import type { RecordSigner } from '../../src/records/signer.js'

export const CONFORMANCE_DIR = process.env.SWARMBUS_CONFORMANCE_DIR ?? join(import.meta.dirname, '../fixtures/conformance/ipns')

export interface ManifestEntry {
  file: string
  name: string
  expected: 'valid' | 'invalid'
  reason?: string
  value?: string
  sequence: number
  validity: string
  ttl_ns: string
  roundtrip_byte_exact?: boolean
  decoded: { key_type: string, pubkey_embedded: boolean, protobuf_fields_present: string[], npm_ipns_ipnsValidator: string }
}

export interface NameVector {
  key_type: string
  peer_id_b58mh: string
  ipns_name_base36: string
  cidv1_dag_pb_base36?: string
}

export function manifest (): ManifestEntry[] {
  return JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'manifest.json'), 'utf8')) as ManifestEntry[]
}

export function nameVectors (): NameVector[] {
  return JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'names.json'), 'utf8')) as NameVector[]
}

export function recordBytes (entry: ManifestEntry): Uint8Array {
  return new Uint8Array(readFileSync(join(CONFORMANCE_DIR, entry.file)))
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)

export interface ForgeOptions {
  value?: string
  validity?: string
  validityType?: bigint
  sequence?: bigint
  ttl?: bigint
  /** raw data bytes instead of the CBOR map built from the fields */
  data?: Uint8Array
  /** write the V1 protobuf copies (default true); each can be overridden */
  v1?: boolean
  pb?: Partial<IpnsEntryInput>
  embedPubKey?: boolean
  /** sign something other than "ipns-signature:" ‖ data */
  signatureV2?: Uint8Array
}

/** Builds and signs a record from exactly the given fields (no checks). */
export async function forgeRecord (signer: RecordSigner, o: ForgeOptions = {}): Promise<Uint8Array> {
  const value = text(o.value ?? '/ipfs/bafkqaddwgevxmmraojswg33smq')
  const validity = text(o.validity ?? '2123-01-01T00:00:00.5Z')
  const sequence = o.sequence ?? 1n
  const ttl = o.ttl ?? 300_000_000_000n
  const data = o.data ?? encodeRecordData({ value, validity, validityType: o.validityType ?? 0n, sequence, ttl })
  const entry: IpnsEntryInput = {
    signatureV2: o.signatureV2 ?? await signer.sign(concat([SIGNATURE_V2_PREFIX, data])),
    data
  }
  if (o.embedPubKey === true) entry.pubKey = publicKeyToProtobuf(signer.publicKey)
  if (o.v1 ?? true) {
    entry.value = value
    entry.validity = validity
    entry.validityType = IpnsEntry.ValidityType.EOL
    entry.sequence = sequence
    entry.ttl = ttl
    entry.signatureV1 = await signer.sign(concat([value, validity, text('EOL')]))
  }
  return encodeEntry({ ...entry, ...o.pb })
}

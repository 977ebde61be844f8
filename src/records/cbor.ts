/**
 * The DAG-CBOR `data` document of an IPNS record: a map with Value (bytes),
 * Validity (bytes, RFC 3339 text), ValidityType (int, 0 = EOL), Sequence
 * (uint64) and TTL (uint64 nanoseconds). cborg writes map keys in DAG-CBOR
 * canonical order (shorter keys first, then bytewise): TTL, Value, Sequence,
 * Validity, ValidityType, which is the order kubo and the spec vectors use.
 * Reading ignores extra keys and takes integers above 2^53 as bigint.
 */
import * as cborg from 'cborg'
import { recordError } from './errors.js'

export interface RecordData {
  value: Uint8Array
  validity: Uint8Array
  /** 0 (EOL) is the only known type; others are kept so the validator can name them */
  validityType: bigint
  sequence: bigint
  ttl: bigint
}

const UINT64_MAX = (1n << 64n) - 1n

export function encodeRecordData (data: RecordData): Uint8Array {
  const bytes = cborg.encode({
    Value: data.value,
    Validity: data.validity,
    ValidityType: toCborInt(data.validityType),
    Sequence: toCborInt(data.sequence),
    TTL: toCborInt(data.ttl)
  })
  // cborg hands back a Node Buffer; give callers a plain Uint8Array view
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Decodes `data`; throws InvalidRecordError('bad-cbor') for anything but a well-typed map. */
export function decodeRecordData (bytes: Uint8Array): RecordData {
  let doc: unknown
  try {
    doc = cborg.decode(bytes, { rejectDuplicateMapKeys: true, allowUndefined: false })
  } catch (err) {
    throw recordError('bad-cbor', `data is not DAG-CBOR: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || doc instanceof Uint8Array || doc instanceof Map) {
    throw recordError('bad-cbor', 'data is not a CBOR map')
  }
  const map = doc as Record<string, unknown>
  return {
    value: bytesField(map, 'Value'),
    validity: bytesField(map, 'Validity'),
    validityType: intField(map, 'ValidityType', false),
    sequence: intField(map, 'Sequence', true),
    ttl: intField(map, 'TTL', true)
  }
}

function bytesField (map: Record<string, unknown>, key: string): Uint8Array {
  const v = Object.hasOwn(map, key) ? map[key] : undefined
  if (!(v instanceof Uint8Array)) throw recordError('bad-cbor', `data.${key} must be a byte string`)
  return v
}

function intField (map: Record<string, unknown>, key: string, unsigned: boolean): bigint {
  const v = Object.hasOwn(map, key) ? map[key] : undefined
  let n: bigint
  if (typeof v === 'bigint') n = v
  else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v)
  else throw recordError('bad-cbor', `data.${key} must be an integer`)
  if (unsigned && (n < 0n || n > UINT64_MAX)) throw recordError('bad-cbor', `data.${key} must be a uint64`)
  return n
}

/** small values as numbers so cborg writes the minimal encoding either way */
function toCborInt (n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n
}

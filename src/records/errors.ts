/**
 * The codes an `InvalidRecordError` from the record layer carries, in the order
 * `prepareRecord` / `validateRecord` check them (see docs/records.md), then the
 * codes only `createRecord` and the name parsers raise.
 */
import { InvalidRecordError } from '../messages/errors.js'

export const VALIDATION_ERROR_CODES = [
  /** the name / routing key the record is checked against is not an IPNS name */
  'bad-name',
  /** the marshalled record is larger than 10 KiB (checked before parsing) */
  'too-large',
  /** the bytes are not an IpnsEntry protobuf */
  'bad-protobuf',
  /** signatureV2 is absent or empty (e.g. a legacy V1-only record) */
  'missing-signature-v2',
  /** data (the DAG-CBOR document) is absent or empty */
  'missing-data',
  /** the embedded pubKey is not a usable libp2p public key (unparseable, unknown type, RSA < 2048 bits) */
  'bad-pubkey',
  /** the embedded pubKey does not hash to the name */
  'key-mismatch',
  /** the name is a sha2-256 hash and the record embeds no pubKey */
  'missing-pubkey',
  /** data is not a DAG-CBOR map with Value, Validity, ValidityType, Sequence and TTL of the right types */
  'bad-cbor',
  /** the Value is neither a content path nor a CID */
  'bad-value',
  /** signatureV1 or value is present and a protobuf copy differs from the CBOR field */
  'v1-v2-mismatch',
  /** ValidityType is not 0 (EOL) */
  'unknown-validity-type',
  /** Validity is not an RFC 3339 timestamp */
  'bad-validity',
  /** the EOL is before `now` */
  'expired',
  /** signatureV2 does not verify over "ipns-signature:" ‖ data */
  'bad-signature'
] as const

/** Codes raised only when creating records. */
export const CREATE_ERROR_CODES = [
  /** sequence is not an integer in [0, 2^64) */
  'bad-sequence',
  /** ttl is not an integer number of nanoseconds in [0, 2^64) */
  'bad-ttl',
  /** lifetime is not a finite number of milliseconds ≥ 0, or the EOL would not fit RFC 3339 */
  'bad-lifetime',
  /** the signer produced no usable signature */
  'signing-failed'
] as const

export type ValidationErrorCode = (typeof VALIDATION_ERROR_CODES)[number]
export type CreateErrorCode = (typeof CREATE_ERROR_CODES)[number]
export type RecordErrorCode = ValidationErrorCode | CreateErrorCode

export const RECORD_ERROR_CODES: readonly RecordErrorCode[] = [...VALIDATION_ERROR_CODES, ...CREATE_ERROR_CODES]

export function recordError (code: RecordErrorCode, message: string): InvalidRecordError {
  return new InvalidRecordError(code, message)
}

export function isRecordErrorCode (code: string): code is RecordErrorCode {
  return (RECORD_ERROR_CODES as readonly string[]).includes(code)
}

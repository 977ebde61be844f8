/**
 * IPNS record validation, split so the signature check can run elsewhere.
 *
 * `prepareRecord` does every cheap check, failing on the first error:
 *   bad-name → too-large → bad-protobuf → missing-signature-v2 → missing-data →
 *   bad-pubkey / key-mismatch / missing-pubkey → bad-cbor → bad-value →
 *   v1-v2-mismatch → unknown-validity-type → bad-validity → expired
 * and hands back the signature check; `verifySignature` (verify.ts) runs it;
 * `finishValidation` turns its verdict into 'bad-signature'. `validateRecord`
 * does all of it inline. `inspectRecord` is every check before `expired`: it
 * does not depend on the time, so its result can be computed on another
 * thread and cached, with `expiryError` applied at the time of each ask.
 *
 * The spec checks the signature before V1/V2 consistency and expiry. Running it
 * last gives the same verdict for every record (it is invalid if any check
 * fails); only a record with several faults reports a cheaper one first.
 */
import { concat } from 'uint8arrays/concat'
import { equals } from 'uint8arrays/equals'
import { InvalidRecordError } from '../messages/errors.js'
import { decodeRecordData } from './cbor.js'
import { decodeEntry, MAX_RECORD_SIZE } from './codec.js'
import { recordError } from './errors.js'
import { toIpnsName } from './name.js'
import { IpnsEntry } from './pb/ipns.js'
import { recordPublicKey } from './record-key.js'
import { nsToMs, parseRfc3339 } from './rfc3339.js'
import { decodeValue } from './value.js'
import { verifySignature } from './verify.js'
import type { RecordData } from './cbor.js'
import type { Ed25519Backend } from './ed25519.js'
import type { NameInput } from './name.js'
import type { SigCheck } from './verify.js'
import type { KeyType } from '@libp2p/interface'

/** "ipns-signature:" — the V2 signature covers this prefix followed by data */
export const SIGNATURE_V2_PREFIX = new TextEncoder().encode('ipns-signature:')

/** The fields of a record, read from its signed CBOR data. */
export interface RecordFields {
  /** the content path the name points at */
  value: string
  sequence: bigint
  /** EOL as written in the record (RFC 3339) */
  validity: string
  /** EOL in milliseconds since the epoch (floor) */
  validityMs: number
  /** EOL in nanoseconds since the epoch */
  validityNs: bigint
  /** 0 = EOL, the only validity type */
  validityType: 0
  /** nanoseconds a resolver may cache the record */
  ttl: bigint
  keyType: KeyType
  /** the record embeds its public key (pubKey field) */
  hasPubKey: boolean
  /** the record carries a legacy V1 signature (never checked) */
  hasV1Signature: boolean
}

export type PrepareResult =
  | { ok: false, error: InvalidRecordError }
  | { ok: true, sigCheck: SigCheck, fields: RecordFields }

/** every rule but `expired` and the signature: a pure function of (name, bytes) */
export type InspectResult = PrepareResult

export type ValidationResult =
  | { ok: false, error: InvalidRecordError }
  | { ok: true, fields: RecordFields }

/**
 * Every check but the signature. `name` is the name (text, IpnsName) or the DHT
 * routing key the record was found under; `now` is the time in ms.
 */
export function prepareRecord (name: NameInput, bytes: Uint8Array, now: number): PrepareResult {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now must be a finite number of milliseconds')
  const inspected = inspectRecord(name, bytes)
  if (!inspected.ok) return inspected
  const expired = expiryError(inspected.fields, now)
  return expired === undefined ? inspected : { ok: false, error: expired }
}

/** Every check before `expired`, in the same order; never throws. */
export function inspectRecord (name: NameInput, bytes: Uint8Array): InspectResult {
  try {
    return { ok: true, ...inspect(name, bytes) }
  } catch (err) {
    return { ok: false, error: asRecordError(err) }
  }
}

/** The `expired` rule: the record's EOL is before `now` (ms). */
export function expiryError (fields: Pick<RecordFields, 'validity' | 'validityNs'>, now: number): InvalidRecordError | undefined {
  const nowNs = BigInt(Math.floor(now)) * 1_000_000n
  return fields.validityNs < nowNs ? recordError('expired', `record expired at ${fields.validity}`) : undefined
}

/** Turns the signature verdict for a prepared record into the final result. */
export function finishValidation (prepared: PrepareResult, signatureValid: boolean): ValidationResult {
  if (!prepared.ok) return prepared
  if (!signatureValid) return { ok: false, error: recordError('bad-signature', 'signatureV2 does not verify') }
  return { ok: true, fields: prepared.fields }
}

/** prepareRecord + verifySignature inline, without throwing. */
export function checkRecord (name: NameInput, bytes: Uint8Array, now: number, backend?: Ed25519Backend): ValidationResult {
  const prepared = prepareRecord(name, bytes, now)
  if (!prepared.ok) return prepared
  return finishValidation(prepared, verifySignature(prepared.sigCheck, backend))
}

/** Validates a record inline; returns its fields or throws InvalidRecordError. */
export function validateRecord (name: NameInput, bytes: Uint8Array, now: number, backend?: Ed25519Backend): RecordFields {
  const result = checkRecord(name, bytes, now, backend)
  if (!result.ok) throw result.error
  return result.fields
}

function inspect (nameInput: NameInput, bytes: Uint8Array): { sigCheck: SigCheck, fields: RecordFields } {
  const name = toIpnsName(nameInput)
  if (!(bytes instanceof Uint8Array)) throw recordError('bad-protobuf', 'record must be bytes')
  checkRecordSize(bytes)
  const entry = decodeEntry(bytes)
  const [missing] = missingParts(entry)
  if (missing !== undefined) throw missing
  // missingParts found both
  const signatureV2 = entry.signatureV2 as Uint8Array
  const dataBytes = entry.data as Uint8Array
  const key = recordPublicKey(name, entry.pubKey)
  const data = decodeRecordData(dataBytes)
  const value = decodeValue(data.value)
  const hasV1Signature = entry.signatureV1 !== undefined && entry.signatureV1.byteLength > 0
  const [differs] = v1v2Differences(entry, data)
  if (differs !== undefined) throw recordError('v1-v2-mismatch', V1_MISMATCH[differs])
  checkValidityType(data)
  const validity = decodeValidity(data.validity)
  const validityNs = parseRfc3339(validity)
  return {
    sigCheck: { keyType: key.type, publicKey: key.raw, data: concat([SIGNATURE_V2_PREFIX, dataBytes]), signature: signatureV2 },
    fields: {
      value,
      sequence: data.sequence,
      validity,
      validityMs: nsToMs(validityNs),
      validityNs,
      validityType: 0,
      ttl: data.ttl,
      keyType: key.type,
      hasPubKey: entry.pubKey !== undefined && entry.pubKey.byteLength > 0,
      hasV1Signature
    }
  }
}

/*
 * The rules one by one, for tools that report every fault of a record
 * rather than the first (the CLI's `record inspect`). prepare() applies them
 * in its order and throws the first failure.
 */

/** Throws InvalidRecordError too-large past MAX_RECORD_SIZE. */
export function checkRecordSize (bytes: Uint8Array): void {
  if (bytes.byteLength > MAX_RECORD_SIZE) throw recordError('too-large', `record is ${bytes.byteLength} bytes, more than ${MAX_RECORD_SIZE}`)
}

/** What a record lacks of the V2 parts every record needs, in check order: missing-signature-v2, missing-data. */
export function missingParts (entry: IpnsEntry): InvalidRecordError[] {
  const missing: InvalidRecordError[] = []
  if (entry.signatureV2 === undefined || entry.signatureV2.byteLength === 0) missing.push(recordError('missing-signature-v2', 'record has no signatureV2'))
  if (entry.data === undefined || entry.data.byteLength === 0) missing.push(recordError('missing-data', 'record has no data'))
  return missing
}

export type V1Field = 'value' | 'validity' | 'validityType' | 'sequence' | 'ttl'

const V1_MISMATCH: Record<V1Field, string> = {
  value: 'protobuf value differs from CBOR Value',
  validity: 'protobuf validity differs from CBOR Validity',
  validityType: 'protobuf validityType differs from CBOR ValidityType',
  sequence: 'protobuf sequence differs from CBOR Sequence',
  ttl: 'protobuf ttl differs from CBOR TTL'
}

/**
 * Spec: if signatureV1 or value is present, the protobuf copies of value,
 * validity, validityType, sequence and ttl must equal the CBOR fields. An
 * absent protobuf field counts as its default (empty / 0), as boxo's getters
 * do. The fields that differ, in that order; none for a record without V1
 * fields.
 */
export function v1v2Differences (entry: IpnsEntry, data: RecordData): V1Field[] {
  if (entry.signatureV1 === undefined && entry.value === undefined) return []
  const empty = new Uint8Array(0)
  const differ: V1Field[] = []
  if (!equals(entry.value ?? empty, data.value)) differ.push('value')
  if (!equals(entry.validity ?? empty, data.validity)) differ.push('validity')
  const pbValidityType = entry.validityType === undefined || entry.validityType === IpnsEntry.ValidityType.EOL ? 0n : -1n
  if (pbValidityType !== data.validityType) differ.push('validityType')
  if ((entry.sequence ?? 0n) !== data.sequence) differ.push('sequence')
  if ((entry.ttl ?? 0n) !== data.ttl) differ.push('ttl')
  return differ
}

/** Throws InvalidRecordError unknown-validity-type unless ValidityType is 0 (EOL). */
export function checkValidityType (data: RecordData): void {
  if (data.validityType !== 0n) throw recordError('unknown-validity-type', `ValidityType ${data.validityType} is not 0 (EOL)`)
}

/** Throws InvalidRecordError expired when the EOL (`validityNs`, as written: `validity`) is before `now` (ms). */
export function checkNotExpired (validity: string, validityNs: bigint, now: number): void {
  const expired = expiryError({ validity, validityNs }, now)
  if (expired !== undefined) throw expired
}

const ascii = new TextDecoder('utf-8', { fatal: true })

/** The Validity bytes as text; throws InvalidRecordError bad-validity when they are not UTF-8. */
export function decodeValidity (bytes: Uint8Array): string {
  try {
    return ascii.decode(bytes)
  } catch {
    throw recordError('bad-validity', 'Validity is not UTF-8 text')
  }
}

/** every stage raises its own code; this only catches what a library threw unexpectedly */
function asRecordError (err: unknown): InvalidRecordError {
  if (err instanceof InvalidRecordError) return err
  return recordError('bad-protobuf', `unreadable record: ${err instanceof Error ? err.message : String(err)}`)
}

/**
 * The IPNS record layer: names, the record codec, creation, validation (split
 * into cheap checks and a signature check that can run in a worker),
 * selection, and Ed25519 with two verification backends. Pure code: no actors,
 * no clock (time is always a parameter).
 */
export { IpnsName, parseName, nameFromPublicKey, nameFromRoutingKey, nameToRoutingKey, toIpnsName, multihashOfKey, LIBP2P_KEY_CODEC, DAG_PB_CODEC, MAX_INLINE_KEY_LENGTH } from './name.js'
export type { NameFormat, NameInput, ParsedName } from './name.js'
export { decodeEntry, encodeEntry, IpnsEntry, MAX_RECORD_SIZE, IPNS_RECORD_CONTENT_TYPE } from './codec.js'
export type { IpnsEntryInput } from './codec.js'
export { decodeRecordData, encodeRecordData } from './cbor.js'
export type { RecordData } from './cbor.js'
export { createRecord, DEFAULT_LIFETIME_MS, DEFAULT_TTL_NS } from './create.js'
export type { CreateRecordOptions, CreatedRecord } from './create.js'
export { prepareRecord, finishValidation, checkRecord, validateRecord, SIGNATURE_V2_PREFIX } from './validate.js'
export type { PrepareResult, ValidationResult, RecordFields } from './validate.js'
export { verifySignature, isSigCheck, KEY_TYPES } from './verify.js'
export type { SigCheck } from './verify.js'
export { selectRecord, compareRecords, compareSelectionKeys, selectionKey, selectionKeyOf } from './select.js'
export type { SelectionKey } from './select.js'
export {
  ED25519_BACKENDS, defaultEd25519Backend, ed25519Verifier, verifyEd25519, isEd25519Backend,
  generateEd25519SecretKey, ed25519PublicKeyOf, ed25519Sign, ed25519Signer, generateEd25519Signer
} from './ed25519.js'
export type { Ed25519Backend, Ed25519Verify } from './ed25519.js'
export type { RecordSigner } from './signer.js'
export { recordPublicKey, MIN_RSA_BITS } from './record-key.js'
export { normaliseValue, checkContentPath, decodeValue } from './value.js'
export { parseRfc3339, formatRfc3339Nano } from './rfc3339.js'
export { RECORD_ERROR_CODES, VALIDATION_ERROR_CODES, CREATE_ERROR_CODES, isRecordErrorCode } from './errors.js'
export type { RecordErrorCode, ValidationErrorCode, CreateErrorCode } from './errors.js'

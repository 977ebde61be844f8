/**
 * The whole of record.verify but the expiry check, for a batch of records:
 * every structural rule (inspectRecord, in the spec's order) and the
 * signature. Plain code: the Piscina worker runs it on a request buffer, the
 * inline checker on the calling thread, with the same verdicts; a verifier
 * that only checks signatures gets the structural half here
 * (recordChecker()).
 *
 * A record already expired at the batch's hint is not signature-checked: the
 * caller checks `expired` before the signature, so its verdict cannot depend on
 * it.
 */
import { defaultEd25519Backend, isEd25519Backend } from '../records/ed25519.js'
import { isRecordErrorCode, recordError } from '../records/errors.js'
import { expiryError, inspectRecord } from '../records/validate.js'
import { verifySignature } from '../records/verify.js'
import { decodeRecordBatch, encodeVerdicts } from './record-codec.js'
import { importEd25519Keys, verifyEd25519WithKey } from './ed25519-keys.js'
import type { Ed25519Backend } from '../records/ed25519.js'
import type { InspectResult, ValidationResult } from '../records/validate.js'
import type { SigCheck } from '../records/verify.js'
import type { RecordItem, RecordVerdict } from './record-codec.js'
import type { BatchVerifier, RecordChecker } from './verify-pool.js'

const UNREADABLE: RecordVerdict = { ok: false, code: 'bad-protobuf', message: 'unreadable batch entry' }

interface Inspected {
  results: Array<InspectResult | undefined>
  /** the signature check each record needs (undefined: none) */
  wanted: Array<SigCheck | undefined>
}

function inspectItems (items: ReadonlyArray<RecordItem | undefined>, expiryHintMs: number): Inspected {
  const results = items.map(item => item === undefined ? undefined : inspectRecord(item.name, item.record))
  const wanted = results.map(r => {
    if (r === undefined || !r.ok) return undefined
    if (Number.isFinite(expiryHintMs) && expiryError(r.fields, expiryHintMs) !== undefined) return undefined
    return r.sigCheck
  })
  return { results, wanted }
}

/** verdicts from the inspections and one signature verdict per wanted check, in order */
function assemble ({ results, wanted }: Inspected, signatures: readonly boolean[]): RecordVerdict[] {
  let k = 0
  return results.map((r, i): RecordVerdict => {
    if (r === undefined) return UNREADABLE
    if (!r.ok) return { ok: false, code: isRecordErrorCode(r.error.code) ? r.error.code : 'bad-protobuf', message: r.error.message }
    return { ok: true, fields: r.fields, signature: wanted[i] === undefined ? null : signatures[k++] === true }
  })
}

export async function checkRecordItems (items: ReadonlyArray<RecordItem | undefined>, expiryHintMs: number, backend: Ed25519Backend = defaultEd25519Backend()): Promise<RecordVerdict[]> {
  const chosen = isEd25519Backend(backend) ? backend : defaultEd25519Backend()
  const inspected = inspectItems(items, expiryHintMs)
  const checks = inspected.wanted.filter((c): c is SigCheck => c !== undefined)
  const fast = chosen === 'native' ? checks.filter(c => c.keyType === 'Ed25519') : []
  const keys = fast.length > 0 ? await importEd25519Keys(fast.map(c => c.publicKey)) : []
  let k = 0
  const signatures = checks.map(c => chosen === 'native' && c.keyType === 'Ed25519'
    ? verifyEd25519WithKey(keys[k++], c.publicKey, c.data, c.signature)
    : verifySignature(c, chosen))
  return assemble(inspected, signatures)
}

/**
 * The verdict at time `now` (ms): exactly what validateRecord(name, record, now)
 * gives — undefined when the signature was not checked and the record is not
 * expired at `now` (check it again).
 */
export function verdictAt (v: RecordVerdict, now: number): ValidationResult | undefined {
  if (!v.ok) return { ok: false, error: recordError(v.code, v.message) }
  const expired = expiryError(v.fields, now)
  if (expired !== undefined) return { ok: false, error: expired }
  if (v.signature === null) return undefined
  if (!v.signature) return { ok: false, error: recordError('bad-signature', 'signatureV2 does not verify') }
  return { ok: true, fields: v.fields }
}

/** The worker's task: a request buffer in, a verdicts buffer out. Never throws. */
export async function checkRecordBuffer (request: ArrayBuffer, backend?: Ed25519Backend): Promise<ArrayBuffer> {
  const { items, expiryHintMs } = decodeRecordBatch(request)
  return encodeVerdicts(await checkRecordItems(items, expiryHintMs, backend))
}

/**
 * The verifier's own checkRecords, or — for one that only checks signatures —
 * the structural checks on the calling thread and the signatures through its
 * verifyBatch.
 */
export function recordChecker (verifier: BatchVerifier): RecordChecker {
  if (verifier.checkRecords !== undefined) return verifier.checkRecords.bind(verifier)
  return async (items, options = {}) => {
    const inspected = inspectItems(items, options.expiryHintMs ?? Number.NaN)
    const checks = inspected.wanted.filter((c): c is SigCheck => c !== undefined)
    return assemble(inspected, checks.length > 0 ? await verifier.verifyBatch(checks) : [])
  }
}

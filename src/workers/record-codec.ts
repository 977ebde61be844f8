/**
 * Packs N whole-record checks (name, marshalled record) into one ArrayBuffer
 * for a worker, and the worker's verdicts back into another, so the main
 * thread neither decodes records nor clones objects per record: it copies
 * bytes in and reads a few numbers and two short strings out.
 *
 * Request, little-endian:
 *   0        u32  magic 0x31525653 (bytes "SVR1")
 *   4        u32  N
 *   8        f64  expiry hint, ms since the epoch (NaN: none): a record whose
 *                 EOL is before it is not signature-checked (it is expired for
 *                 every ask of the batch, and `expired` is checked first)
 *   16       N entry headers of 8 bytes: u32 name length (UTF-8), u32 record length
 *   16 + 8N  payload: for each entry, name ‖ record
 *
 * Verdicts, little-endian:
 *   0        u32  magic 0x31445653 (bytes "SVD1")
 *   4        u32  N
 *   8        per entry, in order:
 *            u8 status: 0 signature valid, 1 signature invalid, 2 signature not
 *               checked (expired at the hint), 3 a rule failed
 *            status 3: u8 rule (index in RECORD_ERROR_CODES; 255 unknown), u32 message length, message
 *            status 0–2: u8 key type (0 RSA, 1 Ed25519, 2 secp256k1, 3 ECDSA),
 *               u8 flags (1 hasPubKey, 2 hasV1Signature), u64 sequence, u64 ttl,
 *               u64 EOL ns high, u64 EOL ns low, f64 EOL ms,
 *               u32 value length, value, u32 validity length, validity
 *
 * Neither decoder throws: an entry of a request that runs past the buffer is
 * unusable (undefined), and so is every later one; verdicts that cannot be
 * read decode as undefined.
 */
import { RECORD_ERROR_CODES } from '../records/errors.js'
import { KEY_TYPES } from '../records/verify.js'
import type { RecordErrorCode } from '../records/errors.js'
import type { RecordFields } from '../records/validate.js'

export const RECORD_BATCH_MAGIC = 0x31525653
export const VERDICTS_MAGIC = 0x31445653
/**
 * the longest name (UTF-16 units; at most 3 UTF-8 bytes each) and record a
 * request carries; the pool checks longer ones, and names that are not
 * well-formed Unicode, on the calling thread (they fail early)
 */
export const MAX_NAME_CHARS = 1024
export const MAX_RECORD_BYTES = 64 * 1024
export const MAX_RECORD_ENTRIES = 65_536

const REQUEST_HEADER = 16
const ENTRY_HEADER = 8
const U64 = (1n << 64n) - 1n

/** one ask's input */
export interface RecordItem { name: string, record: Uint8Array }

/**
 * What a worker found: a rule before `expired` failed (time-independent), or
 * the record's fields and its signature verdict (null: not checked).
 */
export type RecordVerdict =
  | { ok: false, code: RecordErrorCode, message: string }
  | { ok: true, fields: RecordFields, signature: boolean | null }

/** with the u flag a surrogate pair is one code point: this finds only unpaired ones, which UTF-8 cannot carry */
const LONE_SURROGATE = /\p{Surrogate}/u
const utf8 = new TextEncoder()
const text = new TextDecoder()

/** whether the request codec can carry this item */
export function encodable (item: RecordItem): boolean {
  return typeof item.name === 'string' && item.record instanceof Uint8Array &&
    item.name.length <= MAX_NAME_CHARS && !LONE_SURROGATE.test(item.name) && item.record.byteLength <= MAX_RECORD_BYTES
}

export function encodeRecordBatch (items: readonly RecordItem[], expiryHintMs = Number.NaN): ArrayBuffer {
  if (items.length > MAX_RECORD_ENTRIES) throw new RangeError(`a batch holds at most ${MAX_RECORD_ENTRIES} records`)
  const names = items.map(i => utf8.encode(i.name))
  let payload = 0
  items.forEach((item, i) => {
    if (!encodable(item)) throw new RangeError('name or record over the batch limits')
    payload += names[i]!.byteLength + item.record.byteLength
  })
  const tableEnd = REQUEST_HEADER + ENTRY_HEADER * items.length
  const buffer = new ArrayBuffer(tableEnd + payload)
  const view = new DataView(buffer)
  const bytes = new Uint8Array(buffer)
  view.setUint32(0, RECORD_BATCH_MAGIC, true)
  view.setUint32(4, items.length, true)
  view.setFloat64(8, expiryHintMs, true)
  let offset = tableEnd
  items.forEach((item, i) => {
    const name = names[i]!
    view.setUint32(REQUEST_HEADER + ENTRY_HEADER * i, name.byteLength, true)
    view.setUint32(REQUEST_HEADER + ENTRY_HEADER * i + 4, item.record.byteLength, true)
    bytes.set(name, offset)
    bytes.set(item.record, offset + name.byteLength)
    offset += name.byteLength + item.record.byteLength
  })
  return buffer
}

export interface DecodedRecordBatch {
  items: Array<RecordItem | undefined>
  /** NaN when the request gave none */
  expiryHintMs: number
}

/** Decodes a request; records are views into `buffer`. Never throws. */
export function decodeRecordBatch (buffer: ArrayBuffer): DecodedRecordBatch {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < REQUEST_HEADER) return { items: [], expiryHintMs: Number.NaN }
  const view = new DataView(buffer)
  const n = view.getUint32(4, true)
  if (view.getUint32(0, true) !== RECORD_BATCH_MAGIC || n > MAX_RECORD_ENTRIES) return { items: [], expiryHintMs: Number.NaN }
  const items = new Array<RecordItem | undefined>(n).fill(undefined)
  const expiryHintMs = view.getFloat64(8, true)
  const tableEnd = REQUEST_HEADER + ENTRY_HEADER * n
  if (tableEnd > buffer.byteLength) return { items, expiryHintMs }
  let offset = tableEnd
  for (let i = 0; i < n; i++) {
    const nameLen = view.getUint32(REQUEST_HEADER + ENTRY_HEADER * i, true)
    const recordLen = view.getUint32(REQUEST_HEADER + ENTRY_HEADER * i + 4, true)
    const end = offset + nameLen + recordLen
    if (nameLen > MAX_NAME_CHARS * 3 || recordLen > MAX_RECORD_BYTES || end > buffer.byteLength) break
    items[i] = { name: text.decode(new Uint8Array(buffer, offset, nameLen)), record: new Uint8Array(buffer, offset + nameLen, recordLen) }
    offset = end
  }
  return { items, expiryHintMs }
}

export function encodeVerdicts (verdicts: readonly RecordVerdict[]): ArrayBuffer {
  const strings = verdicts.map(v => v.ok ? [utf8.encode(v.fields.value), utf8.encode(v.fields.validity)] : [utf8.encode(v.message)])
  let size = 8
  verdicts.forEach((v, i) => {
    const [a, b] = strings[i]!
    size += v.ok ? 2 + 2 + 8 * 5 + 8 + a!.byteLength + b!.byteLength : 2 + 4 + a!.byteLength
  })
  const buffer = new ArrayBuffer(size)
  const view = new DataView(buffer)
  const bytes = new Uint8Array(buffer)
  view.setUint32(0, VERDICTS_MAGIC, true)
  view.setUint32(4, verdicts.length, true)
  let at = 8
  const putBytes = (b: Uint8Array): void => {
    view.setUint32(at, b.byteLength, true)
    bytes.set(b, at + 4)
    at += 4 + b.byteLength
  }
  verdicts.forEach((v, i) => {
    const [a, b] = strings[i]!
    if (!v.ok) {
      view.setUint8(at, 3)
      view.setUint8(at + 1, RECORD_ERROR_CODES.indexOf(v.code) & 0xff)
      at += 2
      putBytes(a!)
      return
    }
    const f = v.fields
    view.setUint8(at, v.signature === true ? 0 : v.signature === false ? 1 : 2)
    view.setUint8(at + 1, KEY_TYPES.indexOf(f.keyType))
    view.setUint8(at + 2, (f.hasPubKey ? 1 : 0) | (f.hasV1Signature ? 2 : 0))
    view.setBigUint64(at + 4, f.sequence & U64, true)
    view.setBigUint64(at + 12, f.ttl & U64, true)
    view.setBigUint64(at + 20, (f.validityNs >> 64n) & U64, true)
    view.setBigUint64(at + 28, f.validityNs & U64, true)
    view.setFloat64(at + 36, f.validityMs, true)
    at += 44
    putBytes(a!)
    putBytes(b!)
  })
  return buffer
}

/** Reads `count` verdicts; one that is missing or unreadable is undefined, and so is every later one. */
export function decodeVerdicts (buffer: ArrayBuffer, count: number): Array<RecordVerdict | undefined> {
  const out = new Array<RecordVerdict | undefined>(count).fill(undefined)
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < 8) return out
  const view = new DataView(buffer)
  if (view.getUint32(0, true) !== VERDICTS_MAGIC) return out
  const n = Math.min(count, view.getUint32(4, true))
  let at = 8
  const getText = (): string | undefined => {
    if (at + 4 > buffer.byteLength) return undefined
    const len = view.getUint32(at, true)
    if (at + 4 + len > buffer.byteLength) return undefined
    const s = text.decode(new Uint8Array(buffer, at + 4, len))
    at += 4 + len
    return s
  }
  for (let i = 0; i < n; i++) {
    if (at + 2 > buffer.byteLength) break
    const status = view.getUint8(at)
    if (status === 3) {
      const code = RECORD_ERROR_CODES[view.getUint8(at + 1)]
      at += 2
      const message = getText()
      if (code === undefined || message === undefined) break
      out[i] = { ok: false, code, message }
      continue
    }
    if (status > 2 || at + 44 > buffer.byteLength) break
    const keyType = KEY_TYPES[view.getUint8(at + 1)]
    const flags = view.getUint8(at + 2)
    const sequence = view.getBigUint64(at + 4, true)
    const ttl = view.getBigUint64(at + 12, true)
    const validityNs = (view.getBigUint64(at + 20, true) << 64n) | view.getBigUint64(at + 28, true)
    const validityMs = view.getFloat64(at + 36, true)
    at += 44
    const value = getText()
    const validity = getText()
    if (keyType === undefined || value === undefined || validity === undefined) break
    out[i] = {
      ok: true,
      signature: status === 0 ? true : status === 1 ? false : null,
      fields: { value, sequence, validity, validityMs, validityNs, validityType: 0, ttl, keyType, hasPubKey: (flags & 1) !== 0, hasV1Signature: (flags & 2) !== 0 }
    }
  }
  return out
}

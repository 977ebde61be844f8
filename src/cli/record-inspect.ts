/**
 * `swarmbus record inspect`: everything a marshalled IPNS record says, read
 * field by field without validating. Each stage that fails adds a problem
 * (named by the record layer's code, in its validation order) and the rest
 * is still read, so a broken record shows what it can. The signature is
 * never checked here: that is `record verify --name`.
 *
 * The rules and their messages are the record layer's (src/records: the
 * checks prepareRecord runs, one by one); this file only reads the fields out
 * and formats what those checks report.
 */
import * as cborg from 'cborg'
import { decodeRecordData } from '../records/cbor.js'
import { decodeEntry } from '../records/codec.js'
import { nameFromPublicKey } from '../records/name.js'
import { IpnsEntry } from '../records/pb/ipns.js'
import { embeddedPublicKey, recordPublicKey } from '../records/record-key.js'
import { nsToMs, parseRfc3339 } from '../records/rfc3339.js'
import { checkNotExpired, checkRecordSize, checkValidityType, decodeValidity, missingParts, v1v2Differences } from '../records/validate.js'
import { decodeValue } from '../records/value.js'
import type { IpnsName } from '../records/name.js'
import type { RecordData } from '../records/cbor.js'
import type { PublicKey } from '@libp2p/interface'

export interface Problem { code: string, message: string }

/** A CBOR value for display: text for printable UTF-8 bytes, else hex; integers as bigint. */
export type Shown = string | bigint | number | boolean | null | { bytes: number, hex?: string, text?: string } | Shown[] | { [k: string]: Shown }

export interface Inspection {
  /** size of the marshalled record */
  size: number
  /** no problem found (the signature is not checked) */
  ok: boolean
  problems: Problem[]
  /** the protobuf fields present, in field-number order */
  fields: string[]
  value?: string
  sequence?: bigint
  /** EOL as written (RFC 3339) */
  validity?: string
  validityMs?: number
  expired?: boolean
  validityType?: bigint
  /** nanoseconds */
  ttl?: bigint
  keyType?: string
  /** where the key type came from */
  keySource?: 'pubKey' | 'name'
  hasPubKey: boolean
  pubKeyLength?: number
  hasV1Signature: boolean
  signatureV1Length?: number
  signatureV2Length: number
  dataLength: number
  /** the IPNS name (k51…): from the embedded key, or --name */
  name?: string
  peerId?: string
  /** the DAG-CBOR `data` map, every key in its order (extra keys too) */
  data?: Array<{ key: string, value: Shown }>
  /** the legacy V1 protobuf copies, when present */
  v1?: { value?: string, validity?: string, validityType?: number, sequence?: bigint, ttl?: bigint }
}

const FIELDS: Array<keyof IpnsEntry> = ['value', 'signatureV1', 'validityType', 'validity', 'sequence', 'ttl', 'pubKey', 'signatureV2', 'data']
const utf8 = new TextDecoder('utf-8', { fatal: true })

function text (bytes: Uint8Array): string | undefined {
  try {
    const s = utf8.decode(bytes)
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(s) ? undefined : s
  } catch {
    return undefined
  }
}

function show (v: unknown): Shown {
  if (v instanceof Uint8Array) {
    const t = text(v)
    return t !== undefined ? { bytes: v.byteLength, text: t } : { bytes: v.byteLength, hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') }
  }
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (typeof v === 'bigint' || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v
  if (v === null || v === undefined) return null
  if (Array.isArray(v)) return v.map(show)
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), show(x)]))
  return String(v)
}

const messageOf = (err: unknown): string => err instanceof Error ? err.message : String(err)
const codeOf = (err: unknown, fallback: string): string => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && (err as Error).name === 'InvalidRecordError' ? code : fallback
}

/**
 * Reads a record at time `now` (ms). With `name`, the key comes from the name
 * when the record embeds none, and an embedded key is checked against it.
 */
export function inspectRecord (bytes: Uint8Array, now: number, name?: IpnsName): Inspection {
  const problems: Problem[] = []
  const add = (code: string, message: string): void => { problems.push({ code, message }) }
  /** runs one of the record layer's checks; its failure is a problem, and the inspection goes on */
  const attempt = <T>(check: () => T, fallback: string): T | undefined => {
    try {
      return check()
    } catch (err) {
      add(codeOf(err, fallback), messageOf(err))
      return undefined
    }
  }
  /** a check that returns nothing: whether it passed */
  const passes = (check: () => void, fallback: string): boolean => attempt(() => { check(); return true }, fallback) === true
  const out: Inspection = { size: bytes.byteLength, ok: false, problems, fields: [], hasPubKey: false, hasV1Signature: false, signatureV2Length: 0, dataLength: 0 }
  passes(() => { checkRecordSize(bytes) }, 'too-large')

  let entry: IpnsEntry
  try {
    entry = decodeEntry(bytes)
  } catch (err) {
    add(codeOf(err, 'bad-protobuf'), messageOf(err))
    return out
  }
  out.fields = FIELDS.filter(f => entry[f] !== undefined)
  out.signatureV2Length = entry.signatureV2?.byteLength ?? 0
  out.dataLength = entry.data?.byteLength ?? 0
  out.hasV1Signature = entry.signatureV1 !== undefined && entry.signatureV1.byteLength > 0
  if (out.hasV1Signature) out.signatureV1Length = entry.signatureV1?.byteLength
  out.hasPubKey = entry.pubKey !== undefined && entry.pubKey.byteLength > 0
  if (out.hasPubKey) out.pubKeyLength = entry.pubKey?.byteLength
  if (entry.signatureV1 !== undefined || entry.value !== undefined || entry.validity !== undefined || entry.sequence !== undefined || entry.ttl !== undefined) {
    const v1: NonNullable<Inspection['v1']> = {}
    if (entry.value !== undefined) v1.value = text(entry.value) ?? `0x${Buffer.from(entry.value).toString('hex')}`
    if (entry.validity !== undefined) v1.validity = text(entry.validity) ?? `0x${Buffer.from(entry.validity).toString('hex')}`
    if (entry.validityType !== undefined) v1.validityType = entry.validityType === IpnsEntry.ValidityType.EOL ? 0 : -1
    if (entry.sequence !== undefined) v1.sequence = entry.sequence
    if (entry.ttl !== undefined) v1.ttl = entry.ttl
    out.v1 = v1
  }

  for (const missing of missingParts(entry)) add(missing.code, missing.message)

  // the key: embedded, else inlined in --name
  let key: PublicKey | undefined
  if (out.hasPubKey) {
    key = attempt(() => embeddedPublicKey(entry.pubKey as Uint8Array), 'bad-pubkey')
    if (key !== undefined) {
      out.keyType = key.type
      out.keySource = 'pubKey'
      const own = nameFromPublicKey(key)
      out.name = own.format('base36')
      out.peerId = own.format('base58btc')
    }
  }
  if (name !== undefined) {
    try {
      const k = recordPublicKey(name, entry.pubKey)
      if (key === undefined) {
        out.keyType = k.type
        out.keySource = 'name'
      }
    } catch (err) {
      if (!problems.some(p => p.code === 'bad-pubkey')) add(codeOf(err, 'bad-pubkey'), messageOf(err))
    }
    out.name = name.format('base36')
    out.peerId = name.format('base58btc')
  }

  let data: RecordData | undefined
  if (entry.data !== undefined && entry.data.byteLength > 0) {
    try {
      const map = cborg.decode(entry.data, { useMaps: true })
      if (map instanceof Map) out.data = [...map].map(([k, v]) => ({ key: String(k), value: show(v) }))
    } catch {
      // decodeRecordData below says what is wrong
    }
    try {
      data = decodeRecordData(entry.data)
    } catch (err) {
      add(codeOf(err, 'bad-cbor'), messageOf(err))
    }
  }
  if (data !== undefined) {
    try {
      out.value = decodeValue(data.value)
    } catch (err) {
      add(codeOf(err, 'bad-value'), messageOf(err))
    }
    out.sequence = data.sequence
    out.ttl = data.ttl
    out.validityType = data.validityType
    // every field that differs, where validation stops at the first
    const differ = v1v2Differences(entry, data)
    if (differ.length > 0) add('v1-v2-mismatch', `the protobuf ${differ.join(', ')} differ${differ.length === 1 ? 's' : ''} from the CBOR data`)
    passes(() => { checkValidityType(data) }, 'unknown-validity-type')
    const validity = attempt(() => decodeValidity(data.validity), 'bad-validity')
    if (validity !== undefined) {
      out.validity = validity
      const ns = attempt(() => parseRfc3339(validity), 'bad-validity')
      if (ns !== undefined) {
        out.validityMs = nsToMs(ns)
        out.expired = !passes(() => { checkNotExpired(validity, ns, now) }, 'expired')
      }
    }
  }
  out.ok = problems.length === 0
  return out
}

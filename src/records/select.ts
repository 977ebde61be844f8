/**
 * Choosing the best of several records for one name: the higher sequence wins,
 * then the later EOL, then a record with a V2 signature over one without; a
 * full tie goes to the lexicographically greater bytes, so the choice does not
 * depend on the order records arrived in. Records that cannot be read at all
 * rank below every readable one.
 *
 * Selection does not validate: validate first and select among valid records
 * (the DHT selector contract), or accept that an unverified record can win.
 */
import { compare as compareBytes } from 'uint8arrays/compare'
import { decodeRecordData } from './cbor.js'
import { decodeEntry } from './codec.js'
import { parseRfc3339 } from './rfc3339.js'
import type { RecordFields } from './validate.js'

export interface SelectionKey {
  sequence: bigint
  /** EOL in ns since the epoch */
  validityNs: bigint
  hasSignatureV2: boolean
}

/** Reads the ordering fields (from the CBOR data, else the V1 protobuf copies); undefined if unreadable. */
export function selectionKey (bytes: Uint8Array): SelectionKey | undefined {
  try {
    const entry = decodeEntry(bytes)
    const hasSignatureV2 = entry.signatureV2 !== undefined && entry.signatureV2.byteLength > 0
    if (entry.data !== undefined && entry.data.byteLength > 0) {
      const data = decodeRecordData(entry.data)
      return { sequence: data.sequence, validityNs: parseRfc3339(new TextDecoder().decode(data.validity)), hasSignatureV2 }
    }
    if (entry.validity === undefined) return undefined
    return { sequence: entry.sequence ?? 0n, validityNs: parseRfc3339(new TextDecoder().decode(entry.validity)), hasSignatureV2 }
  } catch {
    // a record whose fields cannot be read has no rank: the caller treats it as the lowest
    return undefined
  }
}

/** The selection key of already-validated fields (valid records always carry V2). */
export function selectionKeyOf (fields: Pick<RecordFields, 'sequence' | 'validityNs'>): SelectionKey {
  return { sequence: fields.sequence, validityNs: fields.validityNs, hasSignatureV2: true }
}

/** > 0 when `a` is better than `b`, < 0 when worse, 0 when equal on every criterion. */
export function compareSelectionKeys (a: SelectionKey, b: SelectionKey): number {
  if (a.sequence !== b.sequence) return a.sequence > b.sequence ? 1 : -1
  if (a.validityNs !== b.validityNs) return a.validityNs > b.validityNs ? 1 : -1
  if (a.hasSignatureV2 !== b.hasSignatureV2) return a.hasSignatureV2 ? 1 : -1
  return 0
}

/** > 0 when record `a` is better than `b`; ties broken by the bytes; 0 only for identical records. */
export function compareRecords (a: Uint8Array, b: Uint8Array): number {
  const ka = selectionKey(a)
  const kb = selectionKey(b)
  if (ka === undefined || kb === undefined) {
    if (ka !== kb) return ka === undefined ? -1 : 1
  } else {
    const c = compareSelectionKeys(ka, kb)
    if (c !== 0) return c
  }
  return compareBytes(a, b)
}

/** The index of the best record (the libp2p DHT selector contract); -1 for an empty list. */
export function selectRecord (records: readonly Uint8Array[]): number {
  let best = -1
  let bestKey: SelectionKey | undefined
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    const key = selectionKey(record)
    if (best === -1) {
      best = i
      bestKey = key
      continue
    }
    let c: number
    if (key === undefined || bestKey === undefined) c = key === bestKey ? 0 : (key === undefined ? -1 : 1)
    else c = compareSelectionKeys(key, bestKey)
    if (c === 0) c = compareBytes(record, records[best]!)
    if (c > 0) {
      best = i
      bestKey = key
    }
  }
  return best
}

/**
 * What the republisher reads from a stored published record: its EOL and its
 * value. Pure code over the record bytes (no clock, no signature check — the
 * record is this node's own, written by its own publish).
 */
import { decodeRecordData } from '../../records/cbor.js'
import { decodeEntry } from '../../records/codec.js'
import { nsToMs, parseRfc3339 } from '../../records/rfc3339.js'
import { decodeValue } from '../../records/value.js'
import type { StoredRecord } from '../../messages/store.js'

/** The record's EOL in ms since the epoch, or undefined when it cannot be read. */
export function recordEolMs (record: Uint8Array): number | undefined {
  try {
    const data = decodeRecordData(decodeEntry(record).data ?? new Uint8Array())
    return nsToMs(parseRfc3339(new TextDecoder('utf-8', { fatal: true }).decode(data.validity)))
  } catch {
    // an EOL that cannot be read: undefined, which the republisher takes as due (it republishes rather than let the name lapse)
    return undefined
  }
}

/** The value to publish again: as the publish stored it, else read from the record. */
export function storedValue (entry: StoredRecord): string | undefined {
  if (typeof entry.value === 'string' && entry.value.length > 0) return entry.value
  try {
    const data = decodeRecordData(decodeEntry(entry.record).data ?? new Uint8Array())
    return decodeValue(data.value)
  } catch {
    // no readable value: undefined, which the republisher reports as the run's 'no-value' failure for the name
    return undefined
  }
}

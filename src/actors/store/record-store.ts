/**
 * The datastore side of the store actor: one CBOR entry per (kind, name)
 * under /swarmbus/ipns/<kind>/<name>. A put is one datastore write, so an
 * entry is either the old one or the new one, never half of each.
 */
import { decode, encode } from 'cborg'
import { Key } from 'interface-datastore'
import { NotFoundError } from '../../messages/errors.js'
import type { StoredKind, StoredRecord } from '../../messages/store.js'
import type { Datastore } from 'interface-datastore'

/** most entries a list returns */
export const MAX_LIST = 10_000

const keyOf = (kind: StoredKind, name: string): Key => new Key(`/swarmbus/ipns/${kind}/${name}`)

interface Row {
  record: Uint8Array
  receivedAt: number
  sequence: bigint
  key?: string
  value?: string
  lifetimeMs?: number
  ttlMs?: number
}

function toRow (e: StoredRecord): Row {
  const row: Row = { record: e.record, receivedAt: e.receivedAt, sequence: e.sequence }
  if (e.key !== undefined) row.key = e.key
  if (e.value !== undefined) row.value = e.value
  if (e.lifetimeMs !== undefined) row.lifetimeMs = e.lifetimeMs
  if (e.ttlMs !== undefined) row.ttlMs = e.ttlMs
  return row
}

function fromRow (kind: StoredKind, name: string, bytes: Uint8Array): StoredRecord {
  const row = decode(bytes, { useMaps: false }) as Row
  const seq = row.sequence as unknown
  const entry: StoredRecord = { kind, name, record: row.record, receivedAt: row.receivedAt, sequence: typeof seq === 'bigint' ? seq : BigInt(seq as number) }
  if (row.key !== undefined) entry.key = row.key
  if (row.value !== undefined) entry.value = row.value
  if (row.lifetimeMs !== undefined) entry.lifetimeMs = row.lifetimeMs
  if (row.ttlMs !== undefined) entry.ttlMs = row.ttlMs
  return entry
}

export interface RecordStoreOps {
  put(entry: StoredRecord): Promise<void>
  get(kind: StoredKind, name: string): Promise<StoredRecord>
  list(kind: StoredKind): Promise<StoredRecord[]>
}

export function datastoreRecordStore (ds: Datastore): RecordStoreOps {
  return {
    put: async e => { await ds.put(keyOf(e.kind, e.name), encode(toRow(e))) },
    get: async (kind, name) => {
      const k = keyOf(kind, name)
      if (!await ds.has(k)) throw new NotFoundError(`no ${kind} record for ${name}`)
      return fromRow(kind, name, await ds.get(k))
    },
    list: async kind => {
      const out: StoredRecord[] = []
      const prefix = `/swarmbus/ipns/${kind}/`
      for await (const { key, value } of ds.query({ prefix })) {
        if (out.length >= MAX_LIST) break
        out.push(fromRow(kind, key.toString().slice(prefix.length), value))
      }
      return out
    }
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => {})
/** replay: results come from the trace */
export const inertRecordStore: RecordStoreOps = { put: never, get: never, list: never }

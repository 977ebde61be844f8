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

/** what is stored: the entry without its key parts (kind, name), and without absent optional fields (CBOR has no undefined) */
type Row = Omit<StoredRecord, 'kind' | 'name'>

function toRow (e: StoredRecord): Row {
  const { kind: _kind, name: _name, ...rest } = e
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Row
}

function fromRow (kind: StoredKind, name: string, bytes: Uint8Array): StoredRecord {
  const row = decode(bytes, { useMaps: false }) as Row
  // cborg decodes a small integer as a number
  const seq: unknown = row.sequence
  return { ...row, kind, name, sequence: typeof seq === 'bigint' ? seq : BigInt(seq as number) }
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

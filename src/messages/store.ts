/**
 * Protocol of the store actor: IPNS records this node published or resolved,
 * kept in the repo's datastore with the time they were received, so they
 * survive a restart and answer offline resolves.
 */

export type StoredKind = 'published' | 'resolved'

export interface StoredRecord {
  kind: StoredKind
  /** IPNS name, base36 (k51…) */
  name: string
  record: Uint8Array
  /** wall-clock date (ms since the epoch) the record was stored */
  receivedAt: number
  /** the record's sequence, as stored alongside for listing */
  sequence: bigint
  /** for published records: the key that signed it */
  key?: string
  /** for published records: the value as published (republishing re-signs it) */
  value?: string
  /** for published records: lifetime and TTL asked for (republishing keeps them) */
  lifetimeMs?: number
  ttlMs?: number
}

export interface StorePut {
  type: 'store.put'
  entry: StoredRecord
}

export interface StoreGet {
  type: 'store.get'
  kind: StoredKind
  name: string
}

export interface StoreList {
  type: 'store.list'
  kind: StoredKind
}

declare module './commands.js' {
  interface CommandMap {
    /** durable before it answers */
    'store.put': { command: StorePut, reply: { stored: true } }
    'store.get': { command: StoreGet, reply: StoredRecord }
    'store.list': { command: StoreList, reply: { entries: StoredRecord[] } }
  }
}

/**
 * Protocol of the record commands. record.create is served by the keys actor
 * (the key material never leaves it); record.verify by the verifier actor.
 */

export interface RecordCreate {
  type: 'record.create'
  /** a key name from key.list (default 'self') */
  key?: string
  /** an /ipfs/… or /ipns/… path, optionally with a sub-path */
  value: string
  /** default 0 */
  sequence?: bigint | number
  /** default 48 h */
  lifetimeMs?: number
  /** default 5 min */
  ttlMs?: number
  /** leave out the legacy V1 fields and signature */
  v2Only?: boolean
}

export interface CreatedRecordReply {
  /** the IPNS name (k51…) */
  name: string
  /** the marshalled IpnsEntry */
  record: Uint8Array
  value: string
  sequence: bigint
  /** EOL, RFC 3339 */
  validity: string
}

export interface RecordVerify {
  type: 'record.verify'
  /** the name the record must belong to (k51…, peer id, /ipns/…) */
  name: string
  record: Uint8Array
}

export interface VerifiedRecord {
  value: string
  sequence: bigint
  validity: string
  validityMs: number
  validityType: 0
  /** nanoseconds a resolver may cache it */
  ttl: bigint
  keyType: string
  hasPubKey: boolean
  hasV1Signature: boolean
}

declare module './commands.js' {
  interface CommandMap {
    'record.create': { command: RecordCreate, reply: CreatedRecordReply }
    'record.verify': { command: RecordVerify, reply: VerifiedRecord }
  }
}

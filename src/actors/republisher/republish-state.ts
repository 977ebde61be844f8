/**
 * The one piece of republisher state the published records do not hold: the
 * names whose republish has not been confirmed. A name goes in before its
 * republish starts and comes out when the DHT put succeeded, so a failure —
 * or a crash or restart in the middle — is retried by the next run, even
 * though ipns.publish stored the newer record (and its fresh EOL) before its
 * put. Kept as one CBOR document in the repo's datastore.
 */
import { decode, encode } from 'cborg'
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'

/** most names kept (the store lists at most 10,000 published records) */
export const MAX_PENDING = 10_000

export interface PendingName {
  name: string
  /** why it is pending: a failure reason, or 'started' (written before the attempt) */
  reason: string
}

export interface RepublishStateOps {
  load(): Promise<PendingName[]>
  save(pending: PendingName[]): Promise<void>
}

export const REPUBLISH_STATE_KEY = new Key('/swarmbus/republish/pending')

function parse (bytes: Uint8Array): PendingName[] {
  const doc = decode(bytes, { useMaps: false }) as unknown
  if (!Array.isArray(doc)) return []
  const out: PendingName[] = []
  for (const row of doc as unknown[]) {
    if (out.length >= MAX_PENDING) break
    if (typeof row !== 'object' || row === null) continue
    const { name, reason } = row as { name?: unknown, reason?: unknown }
    if (typeof name === 'string') out.push({ name, reason: typeof reason === 'string' ? reason : 'started' })
  }
  return out
}

export function datastoreRepublishState (ds: Datastore): RepublishStateOps {
  return {
    load: async () => (await ds.has(REPUBLISH_STATE_KEY)) ? parse(await ds.get(REPUBLISH_STATE_KEY)) : [],
    save: async pending => {
      if (pending.length === 0) await ds.delete(REPUBLISH_STATE_KEY)
      else await ds.put(REPUBLISH_STATE_KEY, encode(pending.slice(0, MAX_PENDING).map(p => ({ name: p.name, reason: p.reason }))))
    }
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => {})
/** replay: results come from the trace */
export const inertRepublishState: RepublishStateOps = { load: never, save: never }

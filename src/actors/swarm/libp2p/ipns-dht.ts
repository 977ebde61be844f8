/**
 * IPNS in kad-dht: the `ipns` record namespace's validator and selector, and a
 * datastore guard that keeps this node, as a DHT server, from replacing a
 * stored IPNS record with one of a lower sequence (kad-dht's PUT_VALUE handler
 * overwrites whatever it validated; go-libp2p's refuses an older record).
 * The validator checks signatures through the verifier pool, not on the event
 * loop.
 */
import { Libp2pRecord } from '@libp2p/record'
import { prepareRecord } from '../../../records/validate.js'
import { compareRecords, selectRecord } from '../../../records/select.js'
import type { BatchVerifier } from '../../../workers/verify-pool.js'
import { KeyedLock } from './keyed-lock.js'
import { InvalidRecordError } from '../../../messages/errors.js'
import type { KeyedLockLimits } from './keyed-lock.js'
import type { RefusalCounts } from '../../../messages/swarm.js'
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht'
import type { Datastore, Key } from 'interface-datastore'

export const IPNS_NAMESPACE = 'ipns'
const IPNS_KEY_PREFIX = new TextEncoder().encode('/ipns/')
/** where kad-dht keeps records in its datastore (datastorePrefix '/dht' + '/record') */
export const DHT_RECORD_PREFIX = '/dht/record/'

export class LowerSequenceError extends Error {
  override readonly name = 'LowerSequenceError'
}

/** the six reasons a refusal is counted under (swarm.status → refusals.byReason) */
export type RefusalReason = keyof RefusalCounts

/** a fine-grained rule ('ipns/expired', 'kad/malformed', …) → its reason; rules not listed are 'malformed' */
const REASON_OF: Record<string, RefusalReason> = {
  'ipns/too-large': 'tooLarge',
  'kad/too-large': 'tooLarge',
  'ipns/bad-signature': 'invalidSignature',
  'ipns/expired': 'expired',
  'ipns/lower-sequence': 'lowerSequence',
  'ipns/key-mismatch': 'wrongKey',
  'ipns/bad-name': 'wrongKey'
}

export function refusalReasonOf (rule: string): RefusalReason {
  return REASON_OF[rule] ?? 'malformed'
}

/**
 * What this node's DHT refused, by rule ('ipns/expired', 'ipns/bad-signature',
 * 'ipns/lower-sequence', 'kad/malformed', …; bounded to 64 rules) and by
 * reason (the six of RefusalReason, every refusal under exactly one).
 * Fed by the IPNS validator (peers' PUT_VALUEs and GET_VALUE answers), the
 * datastore guard (lower sequence) and the inbound guard (messages:
 * kad-inbound-guard.ts).
 */
export class RejectionCounter {
  private readonly counts: Record<string, number> = {}
  private readonly reasons: Record<RefusalReason, number> = { malformed: 0, tooLarge: 0, invalidSignature: 0, expired: 0, lowerSequence: 0, wrongKey: 0 }
  add (rule: string): void {
    if (rule in this.counts || Object.keys(this.counts).length < 64) this.counts[rule] = (this.counts[rule] ?? 0) + 1
    this.reasons[refusalReasonOf(rule)]++
  }

  snapshot (): Record<string, number> {
    return { ...this.counts }
  }

  byReason (): RefusalCounts {
    return { ...this.reasons }
  }
}

export function ipnsValidator (verifier: BatchVerifier, now: () => number, rejected?: RejectionCounter): ValidateFn {
  return async (key, value) => {
    const prepared = prepareRecord(key, value, now())
    if (!prepared.ok) {
      rejected?.add(`ipns/${prepared.error.code}`)
      throw prepared.error
    }
    const [valid] = await verifier.verifyBatch([prepared.sigCheck])
    if (valid !== true) {
      rejected?.add('ipns/bad-signature')
      throw new InvalidRecordError('bad-signature', 'IPNS record signature does not verify')
    }
  }
}

export const ipnsSelector: SelectFn = (_key, records) => selectRecord(records)

const isIpnsKey = (k: Uint8Array): boolean => k.byteLength > IPNS_KEY_PREFIX.byteLength && IPNS_KEY_PREFIX.every((b, i) => k[i] === b)

function ipnsValueOf (stored: Uint8Array): { key: Uint8Array, value: Uint8Array } | undefined {
  try {
    const r = Libp2pRecord.deserialize(stored)
    return isIpnsKey(r.key) ? { key: r.key, value: r.value } : undefined
  } catch {
    // bytes that are not a libp2p record are not an IPNS record to guard: they pass through as kad-dht wrote them
    return undefined
  }
}

/**
 * A datastore whose put of a DHT IPNS record fails (LowerSequenceError) when
 * the record already stored for that name ranks higher (sequence, then EOL).
 * Everything else passes straight through.
 *
 * The read, the comparison and the write of one key run as one critical
 * section (a KeyedLock per guard): two PUT_VALUEs of the same name cannot
 * both read the old record and then write in the wrong order, so the
 * higher-ranked record is what stays, whatever the interleaving. Puts of
 * different keys do not wait for each other. The lock is bounded
 * (`limits`: 4 096 keys busy, 64 puts per key by default); a put beyond
 * either fails with OverloadedError without touching the store. A refusal
 * is counted in `rejected` as 'ipns/lower-sequence'.
 */
export function guardIpnsRecords (inner: Datastore, limits?: KeyedLockLimits, rejected?: RejectionCounter): Datastore {
  const lock = new KeyedLock(limits)
  const guardedPut = async (key: Key, value: Uint8Array, incoming: Uint8Array, options?: Parameters<Datastore['put']>[2]): Promise<Key> => {
    options?.signal?.throwIfAborted()
    if (await inner.has(key, options)) {
      const current = ipnsValueOf(await inner.get(key, options))
      if (current !== undefined && compareRecords(incoming, current.value) < 0) {
        rejected?.add('ipns/lower-sequence')
        throw new LowerSequenceError('refusing to replace a stored IPNS record with a lower-ranked one')
      }
    }
    return await inner.put(key, value, options)
  }
  const put = async (key: Key, value: Uint8Array, options?: Parameters<Datastore['put']>[2]): Promise<Key> => {
    const name = key.toString()
    const incoming = name.startsWith(DHT_RECORD_PREFIX) ? ipnsValueOf(value) : undefined
    if (incoming === undefined) return await inner.put(key, value, options)
    return await lock.run(name, async () => await guardedPut(key, value, incoming.value, options))
  }
  return new Proxy(inner, {
    get (target, prop, receiver) {
      if (prop === 'put') return put
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    }
  })
}

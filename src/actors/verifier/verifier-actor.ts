/**
 * The verifier actor serves record.verify. `receive` does no per-record
 * decoding: it names the ask's (name, record) by a digest, answers from a
 * bounded LRU of verdicts or joins a check already under way, and otherwise
 * queues the raw bytes. Queued records go to the verifier's checkRecords in
 * batches — when a batch is full or a short delay after its first record — so
 * the structural checks (protobuf, CBOR, name and key) and the signature run
 * on the worker pool, which sends back a compact verdict per record. Only the
 * `expired` rule is applied here, at the time each ask arrived (it is the one
 * rule that depends on the clock, and it comes before the signature), so a
 * cached verdict stays right as time passes.
 *
 * Batches already handed to the pool are never aborted (that would kill a
 * worker thread); an ask that times out simply no longer waits for them.
 */
import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { defineActor } from '../runtime/actor.js'
import { failure } from '../../messages/failure.js'
import { inspectRecord } from '../../records/validate.js'
import { recordChecker, verdictAt } from '../../workers/check-records.js'
import type { ActorDefinition, ReplyPort, Settled } from '../runtime/actor.js'
import type { BatchVerifier } from '../../workers/verify-pool.js'
import type { RecordItem, RecordVerdict } from '../../workers/record-codec.js'
import type { RecordFields } from '../../records/validate.js'
import type { RecordVerify, VerifiedRecord } from '../../messages/records.js'
import '../../messages/records.js'

export const VERIFIER_ACTOR = 'verifier'

export interface VerifierActorOptions {
  verifier: BatchVerifier
  /** records per batch (default 64) */
  batchSize?: number
  /** flush a partial batch this long after its first record (default 2 ms) */
  flushDelayMs?: number
  /** records waiting for a batch (default 20,000); beyond it asks fail with overloaded */
  maxQueue?: number
  /** batches in the pool at once (default 4) */
  maxInFlight?: number
  /** verdicts remembered (default 10,000) */
  cacheSize?: number
}

/**
 * `result` holds one verdict per record of the batch (undefined or null: the
 * worker gave none). Traces recorded before records were checked on the
 * workers hold a signature verdict (boolean) instead; those still replay.
 */
export type VerifierMsg =
  | { type: 'flush' }
  | { type: 'verdicts', batch: number, result: Settled<ReadonlyArray<RecordVerdict | boolean | undefined | null>> }

/** an ask and the clock when it arrived (the time its `expired` rule is checked at) */
/** an ask waiting for a record's verdict: its typed port, and its date (expiry is judged at it) */
interface Waiter { port: ReplyPort<RecordVerify>, at: number }
interface Check { key: string, item: RecordItem, waiters: Waiter[] }

const MAX_WAITERS_PER_CHECK = 10_000
/** names up to this length are part of a verdict's key as they are; longer ones by digest */
const MAX_KEYED_NAME = 256

export function toVerified (f: RecordFields): VerifiedRecord {
  return {
    value: f.value,
    sequence: f.sequence,
    validity: f.validity,
    validityMs: f.validityMs,
    validityType: f.validityType,
    ttl: f.ttl,
    keyType: f.keyType,
    hasPubKey: f.hasPubKey,
    hasV1Signature: f.hasV1Signature
  }
}

/** Equal keys mean equal (name, record); the record digest has a fixed length, so the split is unambiguous. */
export function verdictKey (name: string, record: Uint8Array): string {
  const n = name.length <= MAX_KEYED_NAME ? `n${name}` : `h${hash('sha256', name, 'base64')}`
  return `${n} ${hash('sha256', record, 'base64')}`
}

/** a verdict recorded by an earlier version: the record passed every structural rule then */
function fromLegacy (item: RecordItem, signature: boolean): RecordVerdict {
  const r = inspectRecord(item.name, item.record)
  return r.ok ? { ok: true, fields: r.fields, signature } : { ok: false, code: 'bad-protobuf', message: r.error.message }
}

export function verifierActor (options: VerifierActorOptions): ActorDefinition<RecordVerify, VerifierMsg> {
  const batchSize = options.batchSize ?? 64
  const flushDelayMs = options.flushDelayMs ?? 2
  const maxQueue = options.maxQueue ?? 20_000
  const maxInFlight = options.maxInFlight ?? 4
  const check = recordChecker(options.verifier)
  return defineActor<RecordVerify, VerifierMsg>({
    name: VERIFIER_ACTOR,
    commands: ['record.verify'],
    mailbox: { capacity: 16_384 },
    validate: cmd => {
      if (typeof cmd.name !== 'string' || cmd.name.length === 0) return failure('invalid', 'name must be an IPNS name', { field: 'name' })
      if (!(cmd.record instanceof Uint8Array)) return failure('invalid', 'record must be a Uint8Array', { field: 'record' })
      return undefined
    },
    start: ctx => {
      const cache = new LRUCache<string, RecordVerdict>({ max: options.cacheSize ?? 10_000 })
      const queued = new Map<string, Check>() // waiting for a batch, in order
      const inFlight = new Map<number, Check[]>()
      const joinable = new Map<string, Check>() // queued or in flight, by key
      let nextBatch = 1
      let cancelFlush: (() => void) | undefined
      let verified = 0
      let hits = 0
      let overloaded = 0
      let poolOverloaded = 0

      /** settles the ask from a verdict; false when the verdict cannot answer it (signature not checked, not expired) */
      const answer = (w: Waiter, v: RecordVerdict): boolean => {
        const r = verdictAt(v, w.at)
        if (r === undefined) return false
        if (r.ok) w.port.reply(toVerified(r.fields))
        else w.port.fail(r.error.toFailure())
        return true
      }

      const refuse = (w: Waiter, message: string): void => {
        overloaded++
        w.port.fail(failure('overloaded', message))
      }

      const flush = (): void => {
        cancelFlush?.()
        cancelFlush = undefined
        while (queued.size > 0 && inFlight.size < maxInFlight) {
          const batch: Check[] = []
          let earliest = Number.POSITIVE_INFINITY
          for (const [key, c] of queued) {
            queued.delete(key)
            // skip records nobody waits for any more
            const open = c.waiters.filter(w => w.port.isOpen())
            if (open.length > 0) {
              batch.push(c)
              for (const w of open) earliest = Math.min(earliest, w.at)
            } else joinable.delete(key)
            if (batch.length >= batchSize) break
          }
          if (batch.length === 0) continue
          const id = nextBatch++
          inFlight.set(id, batch)
          ctx.pipe(check(batch.map(c => c.item), { expiryHintMs: earliest }), result => ({ type: 'verdicts', batch: id, result }))
        }
      }

      const enqueue = (key: string, item: RecordItem, w: Waiter): void => {
        const joining = joinable.get(key)
        if (joining !== undefined) {
          if (joining.waiters.length >= MAX_WAITERS_PER_CHECK) refuse(w, `${MAX_WAITERS_PER_CHECK} asks already wait for this record's check`)
          else joining.waiters.push(w)
          return
        }
        if (queued.size >= maxQueue) {
          refuse(w, `the verifier queue is full (${maxQueue} records)`)
          return
        }
        const c: Check = { key, item, waiters: [w] }
        queued.set(key, c)
        joinable.set(key, c)
        if (queued.size >= batchSize) flush()
        else if (cancelFlush === undefined) cancelFlush = ctx.after(flushDelayMs, { type: 'flush' })
      }

      const settleBatch = (batch: readonly Check[], result: VerifierMsg & { type: 'verdicts' }): void => {
        const r = result.result
        if (!r.ok && r.failure.kind === 'overloaded') poolOverloaded++
        batch.forEach((c, i) => {
          if (joinable.get(c.key) === c) joinable.delete(c.key)
          const open = c.waiters.filter(w => w.port.isOpen())
          if (!r.ok) {
            const kind = r.failure.kind === 'overloaded' || r.failure.kind === 'stopped' ? r.failure.kind : 'failed'
            for (const w of open) w.port.fail(failure(kind, `record check failed: ${r.failure.message}`))
            return
          }
          const raw = r.value[i]
          const v = typeof raw === 'boolean' ? fromLegacy(c.item, raw) : raw ?? undefined
          if (v === undefined) {
            for (const w of open) w.port.fail(failure('failed', 'record check failed: the worker gave no verdict'))
            return
          }
          verified++
          cache.set(c.key, v)
          for (const w of open) if (!answer(w, v)) enqueue(c.key, c.item, w)
        })
      }

      return {
        receive: msg => {
          if (msg.kind === 'cancel') return
          if (msg.kind === 'command') {
            const { command } = msg
            const key = verdictKey(command.name, command.record)
            // the ask's date: a record's expiry is judged on the wall clock
            const waiter: Waiter = { port: msg.port, at: ctx.clock.wall() }
            const known = cache.get(key)
            if (known !== undefined && answer(waiter, known)) {
              hits++
              return
            }
            // a copy: the caller may reuse its buffer before the batch leaves
            enqueue(key, { name: command.name, record: command.record.slice() }, waiter)
            return
          }
          const m = msg.msg
          if (m.type === 'flush') {
            cancelFlush = undefined
            flush()
            return
          }
          const batch = inFlight.get(m.batch) ?? []
          inFlight.delete(m.batch)
          settleBatch(batch, m)
          if (queued.size > 0) flush()
        },
        status: () => {
          return {
            queued: queued.size,
            inFlightBatches: inFlight.size,
            verified,
            cacheHits: hits,
            cacheSize: cache.size,
            // present once non-zero (status is a recorded output: traces from before these counters still replay)
            ...(overloaded > 0 ? { overloaded } : {}),
            ...(poolOverloaded > 0 ? { poolOverloaded } : {})
          }
        }
      }
    }
  })
}

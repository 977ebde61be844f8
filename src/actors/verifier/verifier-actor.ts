/**
 * The verifier actor serves record.verify. Everything but the signature is
 * checked in receive (cheap, in the spec's order, on the injected clock);
 * signature checks are queued and sent to the worker pool in batches — when a
 * batch is full or a short delay after its first entry — so the event loop
 * stays responsive. Identical checks are verified once: while one is in
 * flight later asks join it, and verdicts are kept in a bounded LRU.
 * Batches already handed to the pool are never aborted (that would kill a
 * worker thread); an ask that times out simply no longer waits for them.
 */
import { LRUCache } from 'lru-cache'
import { defineActor } from '../runtime/actor.js'
import { failure } from '../../messages/failure.js'
import { finishValidation, prepareRecord } from '../../records/validate.js'
import type { ActorDefinition, Settled } from '../runtime/actor.js'
import type { BatchVerifier } from '../../workers/verify-pool.js'
import { sigCheckKey } from '../../records/verify.js'
import type { SigCheck } from '../../records/verify.js'
import type { PrepareResult, RecordFields } from '../../records/validate.js'
import type { QueryId } from '../../messages/ids.js'
import type { RecordVerify, VerifiedRecord } from '../../messages/records.js'
import '../../messages/records.js'

export const VERIFIER_ACTOR = 'verifier'

export interface VerifierActorOptions {
  verifier: BatchVerifier
  /** checks per batch (default 64) */
  batchSize?: number
  /** flush a partial batch this long after its first check (default 2 ms) */
  flushDelayMs?: number
  /** checks waiting for a batch (default 20,000); beyond it asks fail with overloaded */
  maxQueue?: number
  /** batches in the pool at once (default 4) */
  maxInFlight?: number
  /** verdicts remembered (default 10,000) */
  cacheSize?: number
}

export type VerifierMsg =
  | { type: 'flush' }
  | { type: 'verdicts', batch: number, result: Settled<boolean[]> }

interface Waiter { id: QueryId, prepared: PrepareResult & { ok: true } }
interface Check { key: string, sig: SigCheck, waiters: Waiter[] }

const MAX_WAITERS_PER_CHECK = 10_000

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

export function verifierActor (options: VerifierActorOptions): ActorDefinition<RecordVerify, VerifierMsg> {
  const batchSize = options.batchSize ?? 64
  const flushDelayMs = options.flushDelayMs ?? 2
  const maxQueue = options.maxQueue ?? 20_000
  const maxInFlight = options.maxInFlight ?? 4
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
      const cache = new LRUCache<string, boolean>({ max: options.cacheSize ?? 10_000 })
      const queued = new Map<string, Check>() // waiting for a batch, in order
      const inFlight = new Map<number, Check[]>()
      const joinable = new Map<string, Check>() // queued or in flight, by key
      let nextBatch = 1
      let cancelFlush: (() => void) | undefined
      let verified = 0
      let hits = 0

      const answer = (w: Waiter, valid: boolean): void => {
        if (!ctx.isOpen(w.id)) return
        const r = finishValidation(w.prepared, valid)
        if (r.ok) ctx.reply(w.id, toVerified(r.fields))
        else ctx.fail(w.id, r.error.toFailure())
      }

      const flush = (): void => {
        cancelFlush?.()
        cancelFlush = undefined
        while (queued.size > 0 && inFlight.size < maxInFlight) {
          const batch: Check[] = []
          for (const [key, c] of queued) {
            queued.delete(key)
            // skip checks nobody waits for any more
            if (c.waiters.some(w => ctx.isOpen(w.id))) batch.push(c)
            else joinable.delete(key)
            if (batch.length >= batchSize) break
          }
          if (batch.length === 0) continue
          const id = nextBatch++
          inFlight.set(id, batch)
          ctx.pipe(options.verifier.verifyBatch(batch.map(c => c.sig)), result => ({ type: 'verdicts', batch: id, result }))
        }
      }

      return {
        receive: msg => {
          if (msg.kind === 'cancel') return
          if (msg.kind === 'command') {
            const { id, command } = msg.env
            const prepared = prepareRecord(command.name, command.record, ctx.clock.wall())
            if (!prepared.ok) {
              ctx.fail(id, prepared.error.toFailure())
              return
            }
            const key = sigCheckKey(prepared.sigCheck)
            const known = cache.get(key)
            if (known !== undefined) {
              hits++
              answer({ id, prepared }, known)
              return
            }
            const joining = joinable.get(key)
            if (joining !== undefined) {
              if (joining.waiters.length >= MAX_WAITERS_PER_CHECK) {
                ctx.fail(id, failure('overloaded', `${MAX_WAITERS_PER_CHECK} asks already wait for this record's check`))
                return
              }
              joining.waiters.push({ id, prepared })
              return
            }
            if (queued.size >= maxQueue) {
              ctx.fail(id, failure('overloaded', `the verifier queue is full (${maxQueue} checks)`))
              return
            }
            const check: Check = { key, sig: prepared.sigCheck, waiters: [{ id, prepared }] }
            queued.set(key, check)
            joinable.set(key, check)
            if (queued.size >= batchSize) flush()
            else if (cancelFlush === undefined) cancelFlush = ctx.after(flushDelayMs, { type: 'flush' })
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
          batch.forEach((c, i) => {
            if (joinable.get(c.key) === c) joinable.delete(c.key)
            if (m.result.ok) {
              const valid = m.result.value[i] === true
              cache.set(c.key, valid)
              verified++
              for (const w of c.waiters) answer(w, valid)
            } else {
              for (const w of c.waiters) if (ctx.isOpen(w.id)) ctx.fail(w.id, failure('failed', `signature check failed: ${m.result.failure.message}`))
            }
          })
          if (queued.size > 0) flush()
        },
        status: () => {
          return {
            queued: queued.size,
            inFlightBatches: inFlight.size,
            verified,
            cacheHits: hits,
            cacheSize: cache.size
          }
        }
      }
    }
  })
}

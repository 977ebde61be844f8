/**
 * A BatchVerifier in front of another that checks each distinct signature
 * once: a check already decided is answered from a bounded LRU of verdicts,
 * one being decided is joined. kad-dht's IPNS validator sees the same record
 * from every peer that answers a lookup (16 copies for one resolve); without
 * this each copy went to the pool.
 *
 * Verdicts are pure functions of the check (key type, key, signature, data),
 * so caching them is sound; expiry and every other rule are checked by the
 * caller each time.
 */
import { LRUCache } from 'lru-cache'
import { sigCheckKey } from '../records/verify.js'
import type { SigCheck } from '../records/verify.js'
import type { BatchVerifier } from './verify-pool.js'

export interface VerdictCacheOptions {
  /** verdicts kept (default 4,096) */
  max?: number
  /** checks being decided that later callers may join (default 4,096; beyond it they go to the inner verifier) */
  maxJoinable?: number
}

export function withVerdictCache (inner: BatchVerifier, options: VerdictCacheOptions = {}): BatchVerifier & { stats: () => { hits: number, joined: number, verified: number } } {
  const verdicts = new LRUCache<string, boolean>({ max: options.max ?? 4_096 })
  const deciding = new Map<string, Promise<boolean>>()
  const maxJoinable = options.maxJoinable ?? 4_096
  let hits = 0
  let joined = 0
  let verified = 0
  return {
    async verifyBatch (checks: readonly SigCheck[]): Promise<boolean[]> {
      const out: Array<boolean | Promise<boolean>> = []
      const fresh: Array<{ key: string, check: SigCheck, index: number }> = []
      checks.forEach((check, index) => {
        const key = sigCheckKey(check)
        const known = verdicts.get(key)
        if (known !== undefined) {
          hits++
          out.push(known)
          return
        }
        const pending = deciding.get(key)
        if (pending !== undefined) {
          joined++
          out.push(pending)
          return
        }
        fresh.push({ key, check, index })
        out.push(false)
      })
      if (fresh.length > 0) {
        verified += fresh.length
        const batch = inner.verifyBatch(fresh.map(f => f.check))
        fresh.forEach(({ key, index }, i) => {
          const one = batch.then(all => all[i] === true)
          out[index] = one
          if (deciding.size < maxJoinable) {
            deciding.set(key, one)
            // a failed check caches no verdict; its rejection reaches the caller through out[index]
            // eslint-disable-next-line no-restricted-syntax -- the failure is not lost: Promise.all(out) rejects with it
            one.then(valid => { verdicts.set(key, valid) }, () => {}).finally(() => { deciding.delete(key) })
          }
        })
      }
      return await Promise.all(out)
    },
    // whole records go straight through: their verdicts are cached by the verifier actor
    ...(inner.checkRecords !== undefined ? { checkRecords: inner.checkRecords.bind(inner) } : {}),
    async destroy (): Promise<void> {
      verdicts.clear()
      await inner.destroy()
    },
    stats: () => ({ hits, joined, verified })
  }
}

/**
 * One verify pool per process, shared by every node in it (a testnet of 20
 * nodes must not start 40 worker threads). Reference-counted: the threads stop
 * when the last node using them stops. Its size and priority are the pool's
 * defaults (defaultPoolThreads(): one thread per core but one, both cores
 * of a 2-core machine), at nice 10.
 */
import { createVerifyPool } from '../workers/verify-pool.js'
import type { BatchVerifier, VerifyPool, VerifyPoolStats } from '../workers/verify-pool.js'

let pool: VerifyPool | undefined
let users = 0

export function acquireSharedPool (): BatchVerifier & { stats: () => VerifyPoolStats } {
  pool ??= createVerifyPool()
  users++
  let released = false
  const shared = pool
  return {
    verifyBatch: async checks => await shared.verifyBatch(checks),
    checkRecords: async (items, options) => await shared.checkRecords(items, options),
    stats: () => shared.stats(),
    destroy: async () => {
      if (released) return
      released = true
      if (--users === 0 && pool === shared) {
        pool = undefined
        await shared.destroy()
      }
    }
  }
}

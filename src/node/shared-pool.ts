/**
 * One verify pool per process, shared by every node in it (a testnet of 20
 * nodes must not start 40 worker threads). Reference-counted: the threads stop
 * when the last node using them stops.
 */
import { createVerifyPool } from '../workers/verify-pool.js'
import type { BatchVerifier, VerifyPool } from '../workers/verify-pool.js'

let pool: VerifyPool | undefined
let users = 0

export function acquireSharedPool (): BatchVerifier {
  pool ??= createVerifyPool()
  users++
  let released = false
  const shared = pool
  return {
    verifyBatch: async checks => await shared.verifyBatch(checks),
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

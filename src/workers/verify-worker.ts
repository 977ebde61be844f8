/**
 * Piscina worker entry (loaded from dist/workers/verify-worker.js): verifies
 * one batch and moves the result bitmap back. Never throws: a task that is not
 * `{ batch: ArrayBuffer, backend }` gets an empty bitmap, so every check in it
 * reads as false.
 */
import { move } from 'piscina'
import { isEd25519Backend } from '../records/ed25519.js'
import { verifyBatchBuffer } from './verify-batch.js'
import type { Ed25519Backend } from '../records/ed25519.js'

export interface VerifyTask {
  batch: ArrayBuffer
  backend: Ed25519Backend
}

/** returns the bitmap's ArrayBuffer, marked for transfer (it arrives as a plain ArrayBuffer) */
export default function verifyTask (task: unknown): ReturnType<typeof move> {
  let result: ArrayBuffer
  try {
    const t = (typeof task === 'object' && task !== null ? task : {}) as Partial<Record<keyof VerifyTask, unknown>>
    const batch = t.batch instanceof ArrayBuffer ? t.batch : new ArrayBuffer(0)
    result = verifyBatchBuffer(batch, isEd25519Backend(t.backend) ? t.backend : undefined)
  } catch {
    result = new ArrayBuffer(0)
  }
  return move(result)
}

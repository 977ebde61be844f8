/**
 * Piscina worker entry (loaded from dist/workers/verify-worker.js). Two kinds
 * of task:
 *   { batch, backend }    signature checks (batch-codec.ts) → result bitmap
 *   { records, backend }  whole records (record-codec.ts) → verdicts buffer
 * Never throws: a task of neither shape gets an empty buffer, which decodes as
 * "false" for every check and "unreadable" for every record.
 */
import { setPriority } from 'node:os'
import { move, workerData } from 'piscina'
import { isEd25519Backend } from '../records/ed25519.js'
import { checkRecordBuffer } from './check-records.js'
import { verifyBatchBuffer } from './verify-batch.js'
import type { Ed25519Backend } from '../records/ed25519.js'

export type VerifyTask =
  | { batch: ArrayBuffer, backend: Ed25519Backend }
  | { records: ArrayBuffer, backend: Ed25519Backend }

/**
 * The pool may ask its threads to run at a lower priority (a nice value, 0–19):
 * on Linux the nice value is per thread, so this lowers only this worker, and
 * the event loop is served first when both want a core.
 */
const nice = (workerData as { nice?: unknown } | undefined)?.nice
if (typeof nice === 'number' && Number.isInteger(nice) && nice > 0 && nice <= 19) {
  try {
    setPriority(nice)
  } catch (err) {
    // the platform refused (not Linux, or a sandbox): run at the default priority, and say so once
    process.emitWarning(`verify worker: could not lower its priority: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** returns the result's ArrayBuffer, marked for transfer (it arrives as a plain ArrayBuffer) */
export default async function verifyTask (task: unknown): Promise<ReturnType<typeof move>> {
  let result: ArrayBuffer
  try {
    const t = (typeof task === 'object' && task !== null ? task : {}) as Record<string, unknown>
    const backend = isEd25519Backend(t.backend) ? t.backend : undefined
    if (t.records instanceof ArrayBuffer) result = await checkRecordBuffer(t.records, backend)
    else result = verifyBatchBuffer(t.batch instanceof ArrayBuffer ? t.batch : new ArrayBuffer(0), backend)
  } catch {
    result = new ArrayBuffer(0)
  }
  return move(result)
}

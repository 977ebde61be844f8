/**
 * Signature verification off the main thread: a Piscina pool running
 * dist/workers/verify-worker.js, fed batches packed by batch-codec.ts, and an
 * inline verifier with the same interface (same code path, on the calling
 * thread) for tests and replay.
 *
 * Piscina cannot load .ts workers under tsx or vitest, so the pool always runs
 * the built worker: next to this module when it runs from dist/, or
 * ../../dist/workers/verify-worker.js when it runs from src/ (build first with
 * `npm run build`). Tasks are never aborted: aborting a running Piscina task
 * kills its thread.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { FailedError, StoppedError } from '../messages/errors.js'
import { defaultEd25519Backend } from '../records/ed25519.js'
import { decodeResults, encodeBatch, MAX_BATCH_ENTRIES } from './batch-codec.js'
import { verifyBatchBuffer } from './verify-batch.js'
import type { VerifyTask } from './verify-worker.js'
import type { Ed25519Backend } from '../records/ed25519.js'
import type { SigCheck } from '../records/verify.js'

export interface BatchVerifier {
  /** one verdict per check, in order; a malformed check is false, never an error */
  verifyBatch (checks: readonly SigCheck[]): Promise<boolean[]>
  destroy (): Promise<void>
}

export interface VerifyPoolOptions {
  /** worker threads (default 2) */
  threads?: number
  /** Ed25519 backend the workers use (default: the fastest available) */
  backend?: Ed25519Backend
  /** checks per task; larger inputs are split (default 256) */
  batchSize?: number
  /** path or file URL of the built worker (default: resolveVerifyWorker()) */
  workerFile?: string
}

export const DEFAULT_POOL_THREADS = 2
export const DEFAULT_POOL_BATCH_SIZE = 256

/**
 * Where the built worker is: beside this module in dist/, or in ../../dist/
 * when this module runs from src/. Throws FailedError if it is not built.
 */
export function resolveVerifyWorker (moduleUrl: string = import.meta.url): string {
  const fromSource = /\.[cm]?ts$/.test(new URL(moduleUrl).pathname)
  const url = new URL(fromSource ? '../../dist/workers/verify-worker.js' : './verify-worker.js', moduleUrl)
  const file = fileURLToPath(url)
  if (!existsSync(file)) {
    throw new FailedError(`verify worker not built: ${file} is missing; run \`npm run build\` (Piscina cannot load .ts workers)`)
  }
  return file
}

export class VerifyPool implements BatchVerifier {
  readonly threads: number
  readonly backend: Ed25519Backend
  readonly batchSize: number
  readonly #pool: Piscina<VerifyTask, ArrayBuffer>
  #destroyed = false

  constructor (options: VerifyPoolOptions = {}) {
    this.threads = positiveInteger(options.threads ?? DEFAULT_POOL_THREADS, 'threads')
    this.batchSize = Math.min(positiveInteger(options.batchSize ?? DEFAULT_POOL_BATCH_SIZE, 'batchSize'), MAX_BATCH_ENTRIES)
    this.backend = options.backend ?? defaultEd25519Backend()
    this.#pool = new Piscina<VerifyTask, ArrayBuffer>({
      filename: options.workerFile ?? resolveVerifyWorker(),
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 60_000
    })
  }

  /** tasks (batches) the workers have finished */
  get completedTasks (): number {
    return this.#pool.completed
  }

  /** worker threads currently running */
  get runningThreads (): number {
    return this.#pool.threads.length
  }

  async verifyBatch (checks: readonly SigCheck[]): Promise<boolean[]> {
    if (this.#destroyed) throw new StoppedError('verify pool destroyed')
    const chunks: Array<Promise<boolean[]>> = []
    for (let start = 0; start < checks.length; start += this.batchSize) {
      chunks.push(this.#runChunk(checks.slice(start, start + this.batchSize)))
    }
    return (await Promise.all(chunks)).flat()
  }

  async #runChunk (checks: readonly SigCheck[]): Promise<boolean[]> {
    const batch = encodeBatch(checks)
    let result: ArrayBuffer
    try {
      result = await this.#pool.run({ batch, backend: this.backend }, { transferList: [batch] })
    } catch (err) {
      if (this.#destroyed) throw new StoppedError('verify pool destroyed')
      throw new FailedError(`verify worker failed: ${err instanceof Error ? err.message : String(err)}`)
    }
    return decodeResults(result, checks.length)
  }

  /** Waits for running tasks to finish (they are never aborted), then stops the threads. */
  async destroy (): Promise<void> {
    if (this.#destroyed) return
    this.#destroyed = true
    await this.#pool.close()
    await this.#pool.destroy()
  }
}

export function createVerifyPool (options: VerifyPoolOptions = {}): VerifyPool {
  return new VerifyPool(options)
}

/** The same batch path on the calling thread (blocks it while verifying). */
export function createInlineVerifier (options: { backend?: Ed25519Backend } = {}): BatchVerifier {
  const backend = options.backend ?? defaultEd25519Backend()
  let destroyed = false
  return {
    async verifyBatch (checks: readonly SigCheck[]): Promise<boolean[]> {
      if (destroyed) throw new StoppedError('inline verifier destroyed')
      const out: boolean[] = []
      for (let start = 0; start < checks.length; start += MAX_BATCH_ENTRIES) {
        const chunk = checks.slice(start, start + MAX_BATCH_ENTRIES)
        out.push(...decodeResults(verifyBatchBuffer(encodeBatch(chunk), backend), chunk.length))
      }
      return out
    },
    async destroy (): Promise<void> {
      destroyed = true
    }
  }
}

function positiveInteger (n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer`)
  return n
}

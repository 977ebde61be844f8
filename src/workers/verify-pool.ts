/**
 * Signature and record verification off the main thread: a Piscina pool
 * running dist/workers/verify-worker.js, fed batches packed by batch-codec.ts
 * (signature checks) or record-codec.ts (whole records), and an inline
 * verifier with the same interface (same code, on the calling thread) for
 * tests and replay.
 *
 * Piscina cannot load .ts workers under tsx or vitest, so the pool always runs
 * the built worker: next to this module when it runs from dist/, or
 * ../../dist/workers/verify-worker.js when it runs from src/ (build first with
 * `npm run build`). Tasks are never aborted: aborting a running Piscina task
 * kills its thread. The tasks a pool holds (running or waiting) are bounded:
 * beyond `maxQueue` waiting, a call fails with OverloadedError, counted.
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { FailedError, OverloadedError, StoppedError } from '../messages/errors.js'
import { defaultEd25519Backend } from '../records/ed25519.js'
import { decodeResults, encodeBatch, MAX_BATCH_ENTRIES } from './batch-codec.js'
import { checkRecordItems } from './check-records.js'
import { decodeVerdicts, encodable, encodeRecordBatch } from './record-codec.js'
import { verifyBatchBuffer } from './verify-batch.js'
import type { VerifyTask } from './verify-worker.js'
import type { RecordItem, RecordVerdict } from './record-codec.js'
import type { Ed25519Backend } from '../records/ed25519.js'
import type { SigCheck } from '../records/verify.js'

export interface RecordCheckOptions {
  /** ms since the epoch: records expired before it are not signature-checked (see record-codec.ts) */
  expiryHintMs?: number
}

export interface BatchVerifier {
  /** one verdict per check, in order; a malformed check is false, never an error */
  verifyBatch (checks: readonly SigCheck[]): Promise<boolean[]>
  /**
   * every rule of record.verify but `expired`, for whole records, where the
   * signatures are checked (a verifier without it gets the structural checks
   * done on the calling thread: recordChecker())
   */
  checkRecords?: (items: readonly RecordItem[], options?: RecordCheckOptions) => Promise<Array<RecordVerdict | undefined>>
  destroy (): Promise<void>
}

export type RecordChecker = Required<Pick<BatchVerifier, 'checkRecords'>>['checkRecords']

export interface VerifyPoolOptions {
  /** worker threads (default: defaultPoolThreads(): one fewer than the machine's cores; on 1–2 cores, one per core) */
  threads?: number
  /** Ed25519 backend the workers use (default: the fastest available) */
  backend?: Ed25519Backend
  /** checks or records per task; larger inputs are split (default 256) */
  batchSize?: number
  /** tasks that may wait for a thread (default 1,024); beyond it calls fail with OverloadedError */
  maxQueue?: number
  /**
   * nice value of the worker threads, 0 (as the event loop) to 19 (the
   * lowest); default 10, so the kernel serves the event loop first when both
   * want a core. Linux applies it per thread; 0 keeps the default priority.
   */
  nice?: number
  /** path or file URL of the built worker (default: resolveVerifyWorker()) */
  workerFile?: string
}

export interface VerifyPoolStats {
  threads: number
  /** tasks running or waiting */
  pendingTasks: number
  maxQueue: number
  completedTasks: number
  /** calls refused because the queue was full */
  overloaded: number
}

export const DEFAULT_POOL_BATCH_SIZE = 256
export const DEFAULT_POOL_MAX_QUEUE = 1024
/** measured: at nice 0 the loop's p99 delay through node.ask was 5.9–13.7 ms, at 10 it was 3.1–4.6 ms (docs/benchmarks.md) */
export const DEFAULT_POOL_NICE = 10

/**
 * One thread per core but one, so the event loop keeps a core to itself —
 * except on one or two cores. There a single worker cannot outrun the
 * caller's own thread by much: an Ed25519 verification alone is ~80% of what
 * the `ipns` package's whole validator costs per record (94 against ~120 µs
 * measured on one thread of a 2-core machine), so one thread would verify at
 * most ~1.3× as fast as a host doing it inline. On 2 cores the pool takes both,
 * at nice 10 (DEFAULT_POOL_NICE): the kernel still serves the event loop first
 * whenever both want a core, which keeps the loop's delay low by priority
 * instead of by an idle core (docs/benchmarks.md#verify, docs/records.md).
 */
export function defaultPoolThreads (cores: number = availableParallelism()): number {
  return cores <= 2 ? Math.max(1, cores) : cores - 1
}

/** the default on this machine, read once */
export const DEFAULT_POOL_THREADS = defaultPoolThreads()

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
  readonly maxQueue: number
  readonly nice: number
  readonly #pool: Piscina<VerifyTask, ArrayBuffer>
  #destroyed = false
  #pending = 0
  #overloaded = 0

  constructor (options: VerifyPoolOptions = {}) {
    this.threads = positiveInteger(options.threads ?? defaultPoolThreads(), 'threads')
    this.batchSize = Math.min(positiveInteger(options.batchSize ?? DEFAULT_POOL_BATCH_SIZE, 'batchSize'), MAX_BATCH_ENTRIES)
    this.maxQueue = nonNegativeInteger(options.maxQueue ?? DEFAULT_POOL_MAX_QUEUE, 'maxQueue')
    this.backend = options.backend ?? defaultEd25519Backend()
    this.nice = nonNegativeInteger(options.nice ?? DEFAULT_POOL_NICE, 'nice')
    if (this.nice > 19) throw new RangeError('nice must be from 0 to 19')
    this.#pool = new Piscina<VerifyTask, ArrayBuffer>({
      workerData: { nice: this.nice },
      filename: options.workerFile ?? resolveVerifyWorker(),
      minThreads: this.threads,
      maxThreads: this.threads,
      // a backstop: #run refuses first, at the same bound
      maxQueue: this.maxQueue,
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

  stats (): VerifyPoolStats {
    return { threads: this.threads, pendingTasks: this.#pending, maxQueue: this.maxQueue, completedTasks: this.#pool.completed, overloaded: this.#overloaded }
  }

  async verifyBatch (checks: readonly SigCheck[]): Promise<boolean[]> {
    this.#admit(Math.ceil(checks.length / this.batchSize))
    const chunks: Array<Promise<boolean[]>> = []
    for (let start = 0; start < checks.length; start += this.batchSize) {
      const chunk = checks.slice(start, start + this.batchSize)
      const batch = encodeBatch(chunk)
      chunks.push(this.#run({ batch, backend: this.backend }, batch).then(result => decodeResults(result, chunk.length)))
    }
    return (await Promise.all(chunks)).flat()
  }

  async checkRecords (items: readonly RecordItem[], options: RecordCheckOptions = {}): Promise<Array<RecordVerdict | undefined>> {
    const hint = options.expiryHintMs ?? Number.NaN
    const sendable: number[] = []
    const local: number[] = []
    items.forEach((item, i) => { (encodable(item) ? sendable : local).push(i) })
    this.#admit(Math.ceil(sendable.length / this.batchSize))
    const out = new Array<RecordVerdict | undefined>(items.length).fill(undefined)
    const chunks: Array<Promise<void>> = []
    for (let start = 0; start < sendable.length; start += this.batchSize) {
      const at = sendable.slice(start, start + this.batchSize)
      const records = encodeRecordBatch(at.map(i => items[i]!), hint)
      chunks.push(this.#run({ records, backend: this.backend }, records).then(result => {
        decodeVerdicts(result, at.length).forEach((v, j) => { out[at[j]!] = v })
      }))
    }
    // what the codec cannot carry (over-long names, records over 64 KiB) fails early; check it here
    if (local.length > 0) {
      const verdicts = await checkRecordItems(local.map(i => items[i]!), hint, this.backend)
      local.forEach((i, j) => { out[i] = verdicts[j] })
    }
    await Promise.all(chunks)
    return out
  }

  /** refuses the whole call, before any of it runs, when its tasks would not fit */
  #admit (tasks: number): void {
    if (this.#destroyed) throw new StoppedError('verify pool destroyed')
    if (tasks > 0 && this.#pending + tasks > this.maxQueue + this.threads) {
      this.#overloaded++
      throw new OverloadedError(`the verify pool is full (${this.#pending} tasks running or waiting; at most ${this.maxQueue} wait)`)
    }
  }

  async #run (task: VerifyTask, transfer: ArrayBuffer): Promise<ArrayBuffer> {
    this.#pending++
    try {
      return await this.#pool.run(task, { transferList: [transfer] })
    } catch (err) {
      if (this.#destroyed) throw new StoppedError('verify pool destroyed', { cause: err })
      if (err instanceof Error && err.message === 'Task queue is at limit') {
        this.#overloaded++
        throw new OverloadedError('the verify pool is full', { cause: err })
      }
      throw new FailedError(`verify worker failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    } finally {
      this.#pending--
    }
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

/** The same batch paths on the calling thread (blocks it while verifying). */
export function createInlineVerifier (options: { backend?: Ed25519Backend } = {}): BatchVerifier {
  const backend = options.backend ?? defaultEd25519Backend()
  let destroyed = false
  const alive = (): void => {
    if (destroyed) throw new StoppedError('inline verifier destroyed')
  }
  return {
    async verifyBatch (checks: readonly SigCheck[]): Promise<boolean[]> {
      alive()
      const out: boolean[] = []
      for (let start = 0; start < checks.length; start += MAX_BATCH_ENTRIES) {
        const chunk = checks.slice(start, start + MAX_BATCH_ENTRIES)
        out.push(...decodeResults(verifyBatchBuffer(encodeBatch(chunk), backend), chunk.length))
      }
      return out
    },
    async checkRecords (items: readonly RecordItem[], opts: RecordCheckOptions = {}): Promise<Array<RecordVerdict | undefined>> {
      alive()
      return await checkRecordItems(items, opts.expiryHintMs ?? Number.NaN, backend)
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

function nonNegativeInteger (n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer`)
  return n
}

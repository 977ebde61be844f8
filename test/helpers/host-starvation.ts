/**
 * Host starvation, measured from outside the event loop under test.
 *
 * A deadline test on a shared machine needs to tell two delays apart: the
 * host not running this process (other processes on the same cores — not our
 * bug), and our own code keeping the event loop busy (a synchronous check, a
 * busy loop — exactly the bug a deadline test must catch). A probe timer on
 * the test's own event loop cannot tell them apart: when our code blocks the
 * loop, the probe is blocked too, and subtracting its lag forgives our stall.
 *
 * So the probe lives on another thread: a worker_threads Worker that sleeps
 * in short steps with Atomics.wait (a blocking OS-level sleep; no event loop,
 * no timers, nothing the main thread can hold up) and, on each wake, adds how
 * much later than asked it woke — beyond a small per-step tolerance — to a
 * running total in a SharedArrayBuffer (Atomics on both sides). A late
 * wake-up of that thread is what the OS scheduler did to every thread of the
 * process: host starvation. A busy main thread does not make it late (it runs on its own thread), so our
 * own stalls are not counted.
 *
 * One limit, on a host with no idle core: the scheduler shares the CPU out
 * per process group (autogroup), so while our main thread is busy the whole
 * process counts as a CPU hog and every thread of it, the probe included,
 * waits longer to run. Under such load a share of a long stall can show up
 * as starvation; the whole of it never does (the unit test bounds it), and on
 * a host with a free core none of it does. A probe in a separate process
 * would not see that share, but neither would it see our process being
 * descheduled (the test SIGSTOPs the process to show that this probe does).
 *
 * Tests read it around the work they time (`timedOnHost`) and assert
 * `elapsed <= deadline + slack + starvedMs`, where starvedMs is only what the
 * other thread saw.
 */
import { Worker } from 'node:worker_threads'

/** how long the probe thread sleeps per step (ms) */
export const STEP_MS = 2
/** lateness per step not counted: timer-resolution jitter, not starvation (ms) */
export const TOLERANCE_MS = 1

// slots of the shared BigInt64Array, read and written with Atomics (times in µs)
const TOTAL = 0 // starvation counted so far
const TICKS = 1 // wakes so far (notified on each)
const STOP = 2 // set to 1 to end the probe
const WORST = 3 // the longest single late wake-up

const PROBE = `
const { workerData } = require('node:worker_threads')
const a = new BigInt64Array(workerData.sab)
const sleeper = new Int32Array(new SharedArrayBuffer(4))
const { step, tolerance } = workerData
let last = performance.now()
while (Atomics.load(a, ${STOP}) === 0n) {
  Atomics.wait(sleeper, 0, 0, step)
  const t = performance.now()
  const late = BigInt(Math.round((t - last - step - tolerance) * 1000))
  if (late > 0n) {
    Atomics.add(a, ${TOTAL}, late)
    if (late > Atomics.load(a, ${WORST})) Atomics.store(a, ${WORST}, late)
  }
  Atomics.add(a, ${TICKS}, 1n)
  Atomics.notify(a, ${TICKS})
  last = t
}
`

const ms = (us: bigint): number => Number(us) / 1000

/** Atomics.waitAsync (ES2024; the project's TypeScript lib is older) */
const waitAsync = (Atomics as unknown as {
  waitAsync: (a: BigInt64Array, index: number, value: bigint, timeoutMs: number) => { async: boolean, value: Promise<string> | string }
}).waitAsync

/** A reading of the probe, to subtract from a later one. */
export interface StarvationMark { totalUs: bigint }

export class HostStarvation {
  private readonly a: BigInt64Array
  private readonly worker: Worker

  /** Starts the probe thread; it counts from its first wake-up (use start() to wait for that). */
  constructor () {
    const sab = new SharedArrayBuffer(8 * 4)
    this.a = new BigInt64Array(sab)
    this.worker = new Worker(PROBE, { eval: true, workerData: { sab, step: STEP_MS, tolerance: TOLERANCE_MS } })
    this.worker.unref()
  }

  /** Start a probe thread; resolves once it has ticked. */
  static async start (): Promise<HostStarvation> {
    const probe = new HostStarvation()
    await probe.nextTick()
    return probe
  }

  /** Starvation so far, as the probe thread has counted it. */
  mark (): StarvationMark {
    return { totalUs: Atomics.load(this.a, TOTAL) }
  }

  /**
   * Host starvation (ms) since `from`. Waits for the probe's next wake first,
   * so a late wake-up still in progress is counted too.
   */
  async since (from: StarvationMark): Promise<number> {
    await this.nextTick()
    return Math.max(0, ms(Atomics.load(this.a, TOTAL) - from.totalUs))
  }

  /** The longest single late wake-up the probe has seen (ms). */
  get worstMs (): number {
    return ms(Atomics.load(this.a, WORST))
  }

  /** Resolves after the probe thread has woken at least once more (waiting asynchronously: this thread's loop keeps running). */
  async nextTick (): Promise<void> {
    const seen = Atomics.load(this.a, TICKS)
    const wait = waitAsync(this.a, TICKS, seen, 60_000)
    if (wait.async) await wait.value
  }

  async stop (): Promise<void> {
    Atomics.store(this.a, STOP, 1n)
    await this.worker.terminate()
  }
}

let shared: HostStarvation | undefined

/**
 * One probe thread per test process, started on first use (unref'd: it never
 * holds the process). Until its first wake-up it has counted nothing, which
 * forgives less, never more.
 */
export function hostStarvation (): HostStarvation {
  shared ??= new HostStarvation()
  return shared
}

/**
 * Run fn (called at once, synchronously, like a plain ask); return how it
 * ended, how long it took (ms), and how much of that the host starved the
 * process (ms, measured on the probe thread only).
 */
export async function timedOnHost<T> (fn: () => Promise<T>): Promise<{ ms: number, starvedMs: number, value?: T, error?: Error }> {
  const probe = hostStarvation()
  const mark = probe.mark()
  const start = performance.now()
  let value: T | undefined
  let error: Error | undefined
  try {
    value = await fn()
  } catch (err) {
    error = err as Error
  }
  const ms = performance.now() - start
  const starvedMs = await probe.since(mark)
  return error === undefined ? { ms, starvedMs, value } : { ms, starvedMs, error }
}

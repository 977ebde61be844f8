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
 * running total in a SharedArrayBuffer. A late wake-up of that thread is what
 * the OS scheduler did to every thread of the process: host starvation. A
 * busy main thread does not make it late (it runs on its own thread), so our
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

// slots of the shared Float64Array
const TOTAL = 0 // starvation counted so far (ms)
const TICKS = 1 // wakes so far
const STOP = 2 // set to 1 to end the probe
const WORST = 3 // the longest single late wake-up (ms)

const PROBE = `
const { workerData } = require('node:worker_threads')
const f = new Float64Array(workerData.sab)
const sleeper = new Int32Array(new SharedArrayBuffer(4))
const { step, tolerance } = workerData
const now = () => performance.now()
let last = now()
while (f[${STOP}] === 0) {
  Atomics.wait(sleeper, 0, 0, step)
  const t = now()
  const late = t - last - step - tolerance
  if (late > 0) {
    f[${TOTAL}] += late
    if (late > f[${WORST}]) f[${WORST}] = late
  }
  f[${TICKS}] += 1
  last = t
}
`

/** A reading of the probe, to subtract from a later one. */
export interface StarvationMark { total: number }

export class HostStarvation {
  private readonly f: Float64Array
  private readonly worker: Worker

  /** Starts the probe thread; it counts from its first wake-up (use start() to wait for that). */
  constructor () {
    const sab = new SharedArrayBuffer(8 * 4)
    this.f = new Float64Array(sab)
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
    return { total: this.f[TOTAL] ?? 0 }
  }

  /**
   * Host starvation (ms) since `from`. Waits for the probe's next wake first,
   * so a late wake-up still in progress is counted too.
   */
  async since (from: StarvationMark): Promise<number> {
    await this.nextTick()
    return Math.max(0, (this.f[TOTAL] ?? 0) - from.total)
  }

  /** The longest single late wake-up the probe has seen (ms). */
  get worstMs (): number {
    return this.f[WORST] ?? 0
  }

  /** Resolves after the probe thread has woken at least once more (it never waits on this thread's loop). */
  async nextTick (): Promise<void> {
    const seen = this.f[TICKS] ?? 0
    for (let i = 0; i < 100_000 && (this.f[TICKS] ?? 0) === seen; i++) {
      await new Promise<void>(resolve => { setTimeout(resolve, 1) })
    }
  }

  async stop (): Promise<void> {
    this.f[STOP] = 1
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

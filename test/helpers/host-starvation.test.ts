/**
 * The host-starvation probe counts what the OS did to the whole process, not
 * what our own code did to the event loop: a synchronous busy loop on the
 * main thread shows up as main-thread timer lag but not as host starvation,
 * while the whole process stopped (SIGSTOP, resumed by another process's
 * SIGCONT) is counted as starvation of about that length.
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HostStarvation, timedOnHost } from './host-starvation.js'

/** The longest gap between ticks of a 5 ms timer on this (the main) thread while fn runs, beyond the 5 ms. */
async function mainThreadLag (fn: () => void | Promise<void>): Promise<number> {
  let last = performance.now()
  let worst = 0
  const probe = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - 5)
    last = now
  }, 5)
  try {
    await new Promise<void>(resolve => { setTimeout(resolve, 20) })
    await fn()
    await new Promise<void>(resolve => { setTimeout(resolve, 20) })
  } finally {
    clearInterval(probe)
  }
  return worst
}

/** our own stall, and how many times it is tried: on a loaded host the probe waits for a CPU too, now and then */
const STALL_MS = 300
const TRIES = 5

function busy (ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) { /* our own stall */ }
}

describe('HostStarvation', () => {
  let probe: HostStarvation
  beforeAll(async () => { probe = await HostStarvation.start() })
  afterAll(async () => { await probe.stop() })

  it('does not count a 300 ms synchronous busy loop on the main thread, which main-thread timers see as lag', async () => {
    // several tries: real starvation by other processes comes and goes, a stall counted as starvation would be in every one
    const starved: number[] = []
    for (let i = 0; i < TRIES; i++) {
      const mark = probe.mark()
      const lag = await mainThreadLag(() => { busy(STALL_MS) })
      starved.push(await probe.since(mark))
      console.info(`${STALL_MS} ms busy loop: main-thread lag ${lag.toFixed(1)} ms, host starvation ${starved.at(-1)?.toFixed(1)} ms`)
      expect(lag).toBeGreaterThanOrEqual(STALL_MS - 10)
    }
    // the probe thread kept running on its own; what it lost is the host's doing, and far less than our stall
    expect(Math.min(...starved)).toBeLessThan(STALL_MS / 2)
  })

  it('counts the whole process being stopped by the OS (SIGSTOP for ~300 ms) as starvation', async () => {
    const mark = probe.mark()
    const resumer = spawn('/bin/sh', ['-c', `sleep 0.3; kill -CONT ${process.pid}`], { stdio: 'ignore' })
    const exited = new Promise<void>(resolve => { resumer.on('exit', () => { resolve() }) })
    await new Promise<void>((resolve, reject) => { resumer.on('spawn', resolve); resumer.on('error', reject) })
    const t0 = performance.now()
    process.kill(process.pid, 'SIGSTOP')
    // the signal is delivered asynchronously; by the time this thread runs again the process has been stopped
    await exited
    const stoppedFor = performance.now() - t0
    const starved = await probe.since(mark)
    console.info(`process stopped ~${stoppedFor.toFixed(1)} ms: host starvation ${starved.toFixed(1)} ms`)
    expect(stoppedFor).toBeGreaterThanOrEqual(250)
    expect(starved).toBeGreaterThanOrEqual(200)
    expect(probe.worstMs).toBeGreaterThanOrEqual(200)
  })

  it('since() never goes backwards and an idle moment adds at most what the host took', async () => {
    const mark = probe.mark()
    const a = await probe.since(mark)
    const b = await probe.since(mark)
    expect(b).toBeGreaterThanOrEqual(a)
    expect(a).toBeGreaterThanOrEqual(0)
  })
})

describe('timedOnHost', () => {
  it('calls fn at once, synchronously, as a plain ask would start', async () => {
    let called = false
    const timing = timedOnHost(async () => { called = true })
    expect(called).toBe(true)
    await timing
  })

  it('reports the value or the error, the elapsed time, and leaves a busy loop of our own out of starvedMs', async () => {
    const runs = []
    for (let i = 0; i < TRIES; i++) runs.push(await timedOnHost(async () => { busy(STALL_MS); return 7 }))
    for (const ok of runs) {
      expect(ok.value).toBe(7)
      expect(ok.error).toBeUndefined()
      expect(ok.ms).toBeGreaterThanOrEqual(STALL_MS)
    }
    // a deadline test asserting `ms <= deadline + slack + starvedMs` is not forgiven our stall
    // (the least of the tries: other processes' share comes and goes, a counted stall would not)
    expect(Math.min(...runs.map(r => r.starvedMs))).toBeLessThan(STALL_MS / 2)
    const failed = await timedOnHost(async () => { throw new RangeError('no') })
    expect(failed.error?.name).toBe('RangeError')
    expect(failed.value).toBeUndefined()
  })
})

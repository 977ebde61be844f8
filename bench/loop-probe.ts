/**
 * Event-loop delay measured from outside the loop: a worker thread pings the
 * main thread over a MessagePort every `intervalMs` (one ping outstanding at a
 * time) and records how long each answer took, on its own clock. A main
 * thread that is busy — a long synchronous turn, a long microtask chain —
 * answers late, whatever it is doing; the probe itself is idle between pings.
 *
 *   const probe = await startLoopProbe()
 *   … work …
 *   const delay = await probe.stop()   // { p50_ms, p99_ms, max_ms, samples }
 *
 * The same file is the worker's entry (dist-bench/bench/loop-probe.js).
 */
import { isMainThread, MessageChannel, parentPort, Worker, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { MessagePort } from 'node:worker_threads'

export interface LoopDelay { p50_ms: number, p99_ms: number, max_ms: number, samples: number }

export interface LoopProbe { stop: () => Promise<LoopDelay> }

/** the most samples kept (at 1 ms a sample, over 4 minutes) */
const MAX_SAMPLES = 250_000

export async function startLoopProbe (intervalMs = 1): Promise<LoopProbe> {
  const { port1, port2 } = new MessageChannel()
  // answer every ping at once: the answer's lateness is the loop's delay
  port1.on('message', (n: number) => { port1.postMessage(n) })
  // the built file (from src/, under tsx or vitest, the one in dist/)
  const fromSource = import.meta.url.endsWith('.ts')
  const worker = new Worker(fileURLToPath(new URL(fromSource ? '../dist-bench/bench/loop-probe.js' : './loop-probe.js', import.meta.url)), {
    workerData: { port: port2, intervalMs },
    transferList: [port2]
  })
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => { resolve() })
    worker.once('error', reject)
  })
  return {
    stop: async () => {
      const result = new Promise<LoopDelay>((resolve, reject) => {
        worker.once('message', (d: LoopDelay) => { resolve(d) })
        worker.once('error', reject)
      })
      worker.postMessage('stop')
      const delay = await result
      port1.close()
      await worker.terminate()
      return delay
    }
  }
}

function probe (port: MessagePort, intervalMs: number): void {
  const samples: number[] = []
  let sentAt = 0
  let seq = 0
  let stopping = false
  const ping = (): void => {
    sentAt = performance.now()
    port.postMessage(++seq)
  }
  port.on('message', (n: number) => {
    if (n !== seq) return
    if (samples.length < MAX_SAMPLES) samples.push(performance.now() - sentAt)
    if (!stopping) setTimeout(ping, intervalMs)
  })
  parentPort?.on('message', () => {
    stopping = true
    const s = samples.sort((a, b) => a - b)
    const q = (p: number): number => round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN)
    parentPort?.postMessage({ p50_ms: q(0.5), p99_ms: q(0.99), max_ms: round(s.at(-1) ?? Number.NaN), samples: s.length })
  })
  ping()
  parentPort?.postMessage('ready')
}

function round (n: number): number {
  return Math.round(n * 100) / 100
}

if (!isMainThread && (workerData as { port?: unknown } | undefined)?.port !== undefined) {
  const { port, intervalMs } = workerData as { port: MessagePort, intervalMs: number }
  probe(port, intervalMs)
}

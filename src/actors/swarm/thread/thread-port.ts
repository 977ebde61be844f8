/**
 * A DhtPort whose libp2p node runs in a worker thread (network-worker.ts):
 * the main-thread side, a proxy speaking thread-protocol.ts over the
 * worker's MessagePort, so noise, yamux, protobuf and kad-dht's stream
 * plumbing run off the host's event loop (issue 10).
 *
 * - Each op has a call id; at most `maxCalls` are in flight (past it:
 *   PortOverloadedError, at once, nothing sent).
 * - The caller's signal firing ends the call at once with PortAbortError and
 *   sends `cancel`, which aborts the worker-side AbortController (the query
 *   really stops there).
 * - Streams receive items on credit: at most STREAM_CREDIT wait in the
 *   host's buffer; the worker waits for more credit as the consumer reads.
 * - Errors cross as the same port-errors.ts classes (wire-errors.ts).
 * - multiaddrs(), connections() and status() answer from the worker's latest
 *   snapshot (pushed on change every SNAPSHOT_INTERVAL_MS, and with each
 *   dial, bootstrap and findPeer result).
 * - The worker dying (an uncaught error, an exit) fails every pending call
 *   with PortFailedError (cause kept) and every later one the same way, then
 *   tells the onFailure listeners (the swarm actor, which crashes into its
 *   supervisor; its restart path, createPort, builds a new thread).
 * - stop() stops libp2p in the worker, then terminates it.
 */
import { Worker } from 'node:worker_threads'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { RealClock } from '../../../platform/real-clock.js'
import { reportViolation } from '../../../node/network-guard.js'
import type { Clock } from '../../runtime/clock.js'
import {
  abortError, type DhtPortError, notStartedError, PortFailedError, PortOverloadedError
} from '../port-errors.js'
import { decodePortError } from './wire-errors.js'
import { STREAM_CREDIT } from './thread-protocol.js'
import type { NetworkStatus } from '../../../messages/swarm.js'
import type { Failure } from '../../../messages/failure.js'
import type {
  DhtConnection, DhtGetValue, DhtOpOptions, DhtPeerInfo, DhtPort, DhtPortStatus, DhtProgress
} from '../dht-port.js'
import type { HostMessage, NetworkThreadConfig, OneShotOp, StreamItem, StreamOp, ThreadSnapshot, WorkerMessage } from './thread-protocol.js'
import { ThreadStream } from './thread-stream.js'

/** calls in flight at once, by default (the swarm actor's own bound is below it) */
export const MAX_THREAD_CALLS = 2_048
/** how long stop() waits for libp2p to stop in the worker before terminating it */
const STOP_GRACE_MS = 10_000
/** onNetworkChange and onFailure subscribers, each (the swarm actor has one of each per port) */
const MAX_LISTENERS = 64

export interface ThreadPortOptions {
  /** the built worker (default: dist/actors/swarm/thread/network-worker.js, resolveNetworkWorker) */
  workerFile?: string
  maxCalls?: number
  /** items a stream may send ahead of its reader (default STREAM_CREDIT) */
  streamCredit?: number
  /** stop()'s grace timer */
  clock?: Clock
  /** receives the Worker once started (supervision, tests that kill it) */
  onWorker?: (worker: Worker) => void
}

/** Where the built worker is: beside this module in dist/, or in dist/ when this module runs from src/. */
export function resolveNetworkWorker (moduleUrl: string = import.meta.url): string {
  const fromSource = /\.[cm]?ts$/.test(new URL(moduleUrl).pathname)
  const file = fileURLToPath(new URL(fromSource ? '../../../../dist/actors/swarm/thread/network-worker.js' : './network-worker.js', moduleUrl))
  if (!existsSync(file)) throw new PortFailedError(`network worker not built: ${file} is missing; run \`npm run build\``)
  return file
}

interface OneShotCall {
  kind: 'call'
  resolve: (value: unknown) => void
  reject: (err: DhtPortError) => void
  onProgress: ((e: DhtProgress) => void) | undefined
}

interface StreamCall {
  kind: 'stream'
  stream: ThreadStream<StreamItem>
  onProgress: ((e: DhtProgress) => void) | undefined
}

export async function createThreadDhtPort (config: NetworkThreadConfig, options: ThreadPortOptions = {}): Promise<DhtPort> {
  const worker = new Worker(options.workerFile ?? resolveNetworkWorker(), { workerData: config })
  options.onWorker?.(worker)
  const ready = await new Promise<{ peerId: string, snapshot: ThreadSnapshot }>((resolve, reject) => {
    const onMessage = (m: WorkerMessage): void => {
      if (m.t === 'ready') { done(); resolve(m) } else if (m.t === 'init-failed') { done(); reject(decodePortError(m.error)) } else if (m.t === 'violation') reportViolation(m.violation)
    }
    const onError = (err: Error): void => { done(); reject(new PortFailedError(`the network thread failed to start: ${err.message}`, { cause: err, name: err.name })) }
    const onExit = (code: number): void => { done(); reject(new PortFailedError(`the network thread exited (code ${code}) before it started`)) }
    const done = (): void => { worker.off('message', onMessage); worker.off('error', onError); worker.off('exit', onExit) }
    worker.on('message', onMessage)
    worker.on('error', onError)
    worker.on('exit', onExit)
  }).catch(async (err: unknown) => {
    await worker.terminate()
    throw err
  })
  return new ThreadDhtPort(worker, ready.peerId, ready.snapshot, options)
}

class ThreadDhtPort implements DhtPort {
  private snapshot: ThreadSnapshot
  private readonly calls = new Map<number, OneShotCall | StreamCall>()
  private nextId = 1
  private dead: Error | undefined
  private stopping: Promise<void> | undefined
  private stoppedReply: ((error: DhtPortError | undefined) => void) | undefined
  private readonly listeners = new Set<(status: NetworkStatus) => void>()
  private readonly failureListeners = new Set<(f: Failure) => void>()
  private readonly maxCalls: number
  private readonly streamCredit: number
  private readonly clock: Clock

  constructor (private readonly worker: Worker, readonly peerId: string, snapshot: ThreadSnapshot, options: ThreadPortOptions) {
    this.snapshot = snapshot
    this.maxCalls = options.maxCalls ?? MAX_THREAD_CALLS
    this.streamCredit = Math.max(1, options.streamCredit ?? STREAM_CREDIT)
    this.clock = options.clock ?? new RealClock()
    worker.on('message', (m: WorkerMessage) => { this.onMessage(m) })
    worker.on('error', err => { this.die(err) })
    worker.on('messageerror', err => { this.die(err) })
    worker.on('exit', code => { this.die(new Error(`the network thread exited with code ${code}`)) })
  }

  private failure (): DhtPortError {
    if (this.stopping !== undefined) return notStartedError()
    const cause = this.dead
    return new PortFailedError(`the network thread died: ${cause?.message ?? 'unknown'}`, { cause, name: 'NetworkThreadError' })
  }

  /** the thread is gone: every pending call fails, and every later one */
  private die (err: Error): void {
    if (this.dead !== undefined) return
    this.dead = err
    this.stoppedReply?.(undefined)
    const failure = this.failure()
    const calls = [...this.calls.values()]
    this.calls.clear()
    for (const c of calls) {
      if (c.kind === 'call') c.reject(failure)
      else c.stream.fail(failure)
    }
    // a thread that ends because stop() ended it has not failed
    if (this.stopping !== undefined) return
    const f = failure.toFailure()
    const listeners = [...this.failureListeners]
    this.failureListeners.clear()
    for (const fn of listeners) fn(f)
  }

  private send (m: HostMessage): void {
    if (this.dead === undefined) this.worker.postMessage(m)
  }

  private onMessage (m: WorkerMessage): void {
    switch (m.t) {
      case 'result': {
        if (m.snapshot !== undefined) this.snapshot = m.snapshot
        const c = this.calls.get(m.id)
        if (c?.kind !== 'call') return
        this.calls.delete(m.id)
        c.resolve(m.value)
        return
      }
      case 'error': {
        const c = this.calls.get(m.id)
        if (c === undefined) return
        this.calls.delete(m.id)
        const err = decodePortError(m.error)
        if (c.kind === 'call') c.reject(err)
        else c.stream.fail(err)
        return
      }
      case 'item': {
        const c = this.calls.get(m.id)
        if (c?.kind === 'stream') c.stream.push(m.item)
        return
      }
      case 'end': {
        const c = this.calls.get(m.id)
        if (c?.kind !== 'stream') return
        this.calls.delete(m.id)
        c.stream.end()
        return
      }
      case 'progress':
        for (const [id, events] of m.batch) {
          const fn = this.calls.get(id)?.onProgress
          if (fn !== undefined) for (const e of events) fn(e)
        }
        return
      case 'snapshot':
        this.snapshot = m.snapshot
        return
      case 'net':
        for (const fn of this.listeners) fn(m.status)
        return
      case 'violation':
        reportViolation(m.violation)
        return
      case 'stopped':
        this.stoppedReply?.(m.error === undefined ? undefined : decodePortError(m.error))
        return
      case 'ready':
      case 'init-failed':
    }
  }

  /** the checks every call makes before anything is sent */
  private admit (signal: AbortSignal): number {
    if (this.stopping !== undefined || this.dead !== undefined) throw this.failure()
    if (signal.aborted) throw abortError(signal)
    if (this.calls.size >= this.maxCalls) throw new PortOverloadedError(`the network thread has ${this.maxCalls} calls in flight already`)
    return this.nextId++
  }

  private async call<T> (call: OneShotOp, options: DhtOpOptions): Promise<T> {
    const { signal, onProgress } = options
    const id = this.admit(signal)
    return await new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.calls.get(id) !== entry) return
        this.calls.delete(id)
        this.send({ t: 'cancel', id })
        reject(abortError(signal))
      }
      const entry: OneShotCall = {
        kind: 'call',
        resolve: value => { signal.removeEventListener('abort', onAbort); resolve(value as T) },
        reject: err => { signal.removeEventListener('abort', onAbort); reject(err) },
        onProgress
      }
      this.calls.set(id, entry)
      signal.addEventListener('abort', onAbort, { once: true })
      this.send({ t: 'call', id, call, progress: onProgress !== undefined })
    })
  }

  /** a stream op, opened when iteration starts (its checks reject the iteration, as the direct port's do) */
  private stream<T extends StreamItem> (call: StreamOp, options: DhtOpOptions): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: () => {
        const { signal, onProgress } = options
        const id = this.admit(signal)
        const stream = new ThreadStream<StreamItem>(this.streamCredit, signal, {
          credit: n => { if (this.calls.get(id) === entry) this.send({ t: 'credit', id, n }) },
          cancel: () => {
            if (this.calls.get(id) !== entry) return
            this.calls.delete(id)
            this.send({ t: 'cancel', id })
          }
        })
        const entry: StreamCall = { kind: 'stream', stream, onProgress }
        this.calls.set(id, entry)
        this.send({ t: 'stream', id, call, progress: onProgress !== undefined, credit: this.streamCredit })
        return stream as unknown as AsyncIterator<T>
      }
    }
  }

  multiaddrs (): string[] { return [...this.snapshot.multiaddrs] }
  connections (): DhtConnection[] { return [...this.snapshot.connections] }
  status (): DhtPortStatus { return this.snapshot.status }

  onNetworkChange (fn: (status: NetworkStatus) => void): () => void {
    if (this.listeners.size >= MAX_LISTENERS) throw new PortOverloadedError(`more than ${MAX_LISTENERS} network-change listeners`)
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  onFailure (fn: (failure: Failure) => void): () => void {
    if (this.failureListeners.size >= MAX_LISTENERS) throw new PortOverloadedError(`more than ${MAX_LISTENERS} failure listeners`)
    if (this.dead !== undefined && this.stopping === undefined) {
      // already dead: told at once, as a listener added before would have been
      const f = this.failure().toFailure()
      queueMicrotask(() => { fn(f) })
      return () => {}
    }
    this.failureListeners.add(fn)
    return () => { this.failureListeners.delete(fn) }
  }

  async put (key: Uint8Array, value: Uint8Array, options: DhtOpOptions): Promise<{ peers: number }> {
    return await this.call({ op: 'put', key, value }, options)
  }

  async putTo (key: Uint8Array, value: Uint8Array, peers: string[], now: number, options: DhtOpOptions): Promise<{ peers: number }> {
    return await this.call({ op: 'putTo', key, value, peers, now }, options)
  }

  get (key: Uint8Array, options: DhtOpOptions): AsyncIterable<DhtGetValue> {
    return this.stream({ op: 'get', key, ...(options.want !== undefined ? { want: options.want } : {}) }, options)
  }

  async provide (cid: string, options: DhtOpOptions): Promise<{ peers: number }> {
    return await this.call({ op: 'provide', cid }, options)
  }

  findProviders (cid: string, options: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    return this.stream({ op: 'findProviders', cid }, options)
  }

  async findPeer (peerId: string, options: DhtOpOptions): Promise<DhtPeerInfo> {
    return await this.call({ op: 'findPeer', peerId }, options)
  }

  closestPeers (key: Uint8Array, options: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    return this.stream({ op: 'closestPeers', key }, options)
  }

  async dial (multiaddr: string, options: DhtOpOptions): Promise<{ peerId: string }> {
    return await this.call({ op: 'dial', multiaddr }, options)
  }

  async bootstrap (options: DhtOpOptions): Promise<{ connected: number, routingTableSize: number, failed?: Array<{ addr: string, error: string }> }> {
    return await this.call({ op: 'bootstrap' }, options)
  }

  async stop (): Promise<void> {
    this.stopping ??= this.stopThread()
    await this.stopping
  }

  private async stopThread (): Promise<void> {
    // calls still in flight end now, as not-started (the worker aborts its side)
    const calls = [...this.calls.values()]
    this.calls.clear()
    for (const c of calls) {
      if (c.kind === 'call') c.reject(notStartedError())
      else c.stream.fail(notStartedError())
    }
    let stopError: DhtPortError | undefined
    if (this.dead === undefined) {
      stopError = await new Promise<DhtPortError | undefined>(resolve => {
        const grace = this.clock.setTimer(this.clock.now() + STOP_GRACE_MS, () => {
          resolve(new PortFailedError(`libp2p did not stop in the network thread within ${STOP_GRACE_MS} ms`, { name: 'StopTimeoutError' }))
        })
        this.stoppedReply = err => { this.clock.clearTimer(grace); resolve(err) }
        this.send({ t: 'stop' })
      })
    }
    this.stoppedReply = undefined
    await this.worker.terminate()
    if (stopError !== undefined) throw stopError
  }
}

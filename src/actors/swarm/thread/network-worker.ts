/**
 * The network thread's entry (run from dist/, like the verify pool's worker):
 * builds the libp2p DhtPort from the NetworkThreadConfig in workerData
 * (thread-port-options.ts) and serves the host's calls over parentPort
 * (thread-protocol.ts). Each call gets its own AbortController, aborted by
 * the host's `cancel` or by `stop`; a stream sends an item only while it has
 * credit, and waits for more otherwise. Status snapshots go to the host with
 * each dial/bootstrap/findPeer result and every SNAPSHOT_INTERVAL_MS when
 * they changed. The thread runs at nice 10 by default (config.nice), below
 * the host's event loop.
 */
import { getPriority, setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { RealClock } from '../../../platform/real-clock.js'
import { createLibp2pDhtPort } from '../libp2p/libp2p-dht-port.js'
import { encodePortError } from './wire-errors.js'
import { threadPortOptions } from './thread-port-options.js'
import { DEFAULT_NETWORK_THREAD_NICE, MAX_PROGRESS_PER_CALL, SNAPSHOT_INTERVAL_MS } from './thread-protocol.js'
import type { DhtOpOptions, DhtPort, DhtProgress } from '../dht-port.js'
import type { HostMessage, NetworkThreadConfig, OneShotOp, StreamItem, StreamOp, ThreadSnapshot, WorkerMessage } from './thread-protocol.js'
import type { MessagePort } from 'node:worker_threads'

interface Call {
  controller: AbortController
  /** streams: items it may still send, and the wake-up of a stream waiting for credit */
  credit: number
  wake: (() => void) | undefined
  progressSent: number
  /** the host cancelled it: nothing more is sent, it stays counted until its op ends */
  cancelled: boolean
}

/** calls served at once; the host bounds its own below this */
const MAX_CALLS = 4_096

class NetworkWorker {
  private readonly calls = new Map<number, Call>()
  private progress = new Map<number, DhtProgress[]>()
  private flushArmed = false
  private lastSnapshot = ''
  private ticker: number | undefined
  private stopping = false
  private readonly clock = new RealClock()

  constructor (private readonly host: MessagePort, private readonly port: DhtPort, private readonly nice: number) {}

  start (): void {
    this.port.onNetworkChange?.(status => { this.post({ t: 'net', status }) })
    this.post({ t: 'ready', peerId: this.port.peerId, snapshot: this.snapshot() })
    this.tick()
    this.host.on('message', (m: HostMessage) => { this.onMessage(m) })
  }

  private tick (): void {
    this.ticker = this.clock.setTimer(this.clock.now() + SNAPSHOT_INTERVAL_MS, () => {
      if (this.stopping) return
      const s = this.snapshot()
      const text = JSON.stringify(s)
      if (text !== this.lastSnapshot) {
        this.lastSnapshot = text
        this.post({ t: 'snapshot', snapshot: s })
      }
      this.tick()
    })
  }

  snapshot (): ThreadSnapshot {
    return {
      multiaddrs: this.port.multiaddrs(),
      connections: this.port.connections(),
      status: { ...this.port.status(), thread: { calls: this.calls.size, nice: this.nice } }
    }
  }

  post (msg: WorkerMessage): void {
    this.flush()
    this.host.postMessage(msg)
  }

  /** progress events of this turn, one message for every call */
  private flush (): void {
    if (this.progress.size === 0) return
    const batch = [...this.progress.entries()]
    this.progress = new Map()
    this.host.postMessage({ t: 'progress', batch } satisfies WorkerMessage)
  }

  private onProgress (id: number, call: Call): (e: DhtProgress) => void {
    return e => {
      if (call.cancelled || call.progressSent >= MAX_PROGRESS_PER_CALL) return
      call.progressSent++
      let list = this.progress.get(id)
      if (list === undefined) this.progress.set(id, list = [])
      list.push(e)
      if (!this.flushArmed) {
        this.flushArmed = true
        this.clock.setTimer(this.clock.now(), () => { this.flushArmed = false; this.flush() })
      }
    }
  }

  private open (id: number, progress: boolean, credit: number): { call: Call, options: DhtOpOptions } | undefined {
    if (this.stopping || this.calls.has(id) || this.calls.size >= MAX_CALLS) {
      this.post({ t: 'error', id, error: encodePortError(new Error(this.stopping ? 'the network thread is stopping' : 'too many calls in the network thread')) })
      return undefined
    }
    const call: Call = { controller: new AbortController(), credit, wake: undefined, progressSent: 0, cancelled: false }
    this.calls.set(id, call)
    const options: DhtOpOptions = { signal: call.controller.signal, ...(progress ? { onProgress: this.onProgress(id, call) } : {}) }
    return { call, options }
  }

  private onMessage (m: HostMessage): void {
    switch (m.t) {
      case 'call': {
        const opened = this.open(m.id, m.progress, 0)
        if (opened !== undefined) this.runCall(m.id, m.call, opened.call, opened.options)
        return
      }
      case 'stream': {
        const opened = this.open(m.id, m.progress, m.credit)
        if (opened !== undefined) void this.runStream(m.id, m.call, opened.call, opened.options)
        return
      }
      case 'credit': {
        const call = this.calls.get(m.id)
        if (call === undefined) return
        call.credit += m.n
        call.wake?.()
        return
      }
      case 'cancel': {
        const call = this.calls.get(m.id)
        if (call === undefined) return
        call.cancelled = true
        call.controller.abort()
        call.wake?.()
        return
      }
      case 'stop':
        void this.stop()
    }
  }

  private oneShot (c: OneShotOp, options: DhtOpOptions): Promise<unknown> {
    switch (c.op) {
      case 'put': return this.port.put(c.key, c.value, options)
      case 'putTo': return this.port.putTo(c.key, c.value, c.peers, c.now, options)
      case 'provide': return this.port.provide(c.cid, options)
      case 'findPeer': return this.port.findPeer(c.peerId, options)
      case 'dial': return this.port.dial(c.multiaddr, options)
      case 'bootstrap': return this.port.bootstrap(options)
    }
  }

  private runCall (id: number, c: OneShotOp, call: Call, options: DhtOpOptions): void {
    // a synchronous throw (a malformed argument) is the call's error too
    const work = (async () => await this.oneShot(c, options))()
    work.then(value => {
      if (!this.settled(id, call)) return
      // what a dial, bootstrap or peer lookup changed, as the caller will read it next
      const fresh = c.op === 'dial' || c.op === 'bootstrap' || c.op === 'findPeer'
      this.post({ t: 'result', id, value, ...(fresh ? { snapshot: this.snapshot() } : {}) })
    }, (err: unknown) => {
      if (!this.settled(id, call)) return
      this.post({ t: 'error', id, error: encodePortError(err, call.controller.signal) })
    })
  }

  /** the call's op has ended: forget it; whether the host still waits for its answer */
  private settled (id: number, call: Call): boolean {
    if (this.calls.get(id) === call) this.calls.delete(id)
    return !call.cancelled && !this.stopping
  }

  private streamOf (c: StreamOp, options: DhtOpOptions): AsyncIterable<StreamItem> {
    switch (c.op) {
      case 'get': return this.port.get(c.key, c.want !== undefined ? { ...options, want: c.want } : options)
      case 'findProviders': return this.port.findProviders(c.cid, options)
      case 'closestPeers': return this.port.closestPeers(c.key, options)
    }
  }

  private async runStream (id: number, c: StreamOp, call: Call, options: DhtOpOptions): Promise<void> {
    const signal = call.controller.signal
    try {
      for await (const item of this.streamOf(c, options)) {
        while (call.credit <= 0 && !signal.aborted) {
          await new Promise<void>(resolve => { call.wake = resolve })
          call.wake = undefined
        }
        // cancelled: leaving the loop ends the port's query
        if (signal.aborted) break
        call.credit--
        this.post({ t: 'item', id, item })
      }
      if (!this.settled(id, call)) return
      this.post({ t: 'end', id })
    } catch (err) {
      if (!this.settled(id, call)) return
      this.post({ t: 'error', id, error: encodePortError(err, signal) })
    }
  }

  private async stop (): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    if (this.ticker !== undefined) this.clock.clearTimer(this.ticker)
    for (const call of this.calls.values()) {
      call.cancelled = true
      call.controller.abort()
      call.wake?.()
    }
    try {
      await this.port.stop()
      this.post({ t: 'stopped' })
    } catch (err) {
      this.post({ t: 'stopped', error: encodePortError(err) })
    }
  }
}

/** below the host's event loop: the kernel serves the loop first when both want a core (Linux: this thread only) */
function lowerPriority (nice: number): void {
  if (nice === 0) return
  try {
    setPriority(nice)
  } catch (err) {
    // the platform refused (not Linux, or a sandbox): run at the default priority, and say so once
    process.emitWarning(`network thread: could not lower its priority: ${err instanceof Error ? err.message : String(err)}`)
  }
}

async function main (): Promise<void> {
  const host = parentPort
  if (host === null) throw new Error('network-worker.js runs in a worker thread')
  let worker: NetworkWorker | undefined
  try {
    const nice = (workerData as NetworkThreadConfig).nice ?? DEFAULT_NETWORK_THREAD_NICE
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError(`the network thread's nice value must be an integer from 0 to 19, not ${nice}`)
    lowerPriority(nice)
    const options = threadPortOptions(workerData as NetworkThreadConfig, violation => {
      const msg: WorkerMessage = { t: 'violation', violation }
      if (worker !== undefined) worker.post(msg)
      else host.postMessage(msg)
    })
    const port = await createLibp2pDhtPort(options)
    // the priority the thread has, as the kernel reports it (0 where lowering it was refused)
    worker = new NetworkWorker(host, port, getPriority())
    worker.start()
  } catch (err) {
    host.postMessage({ t: 'init-failed', error: encodePortError(err) } satisfies WorkerMessage)
  }
}

await main()

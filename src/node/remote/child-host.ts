/**
 * The parent's side of one testnet child process (testnet-child.ts): forks
 * it, sends it requests and matches the answers by id, each request with a
 * deadline of its own, so a child that hangs or dies never leaves a caller
 * waiting. When the child exits, every request still waiting fails at once
 * with StoppedError naming the exit, and the exit is reported to whoever
 * listens (process-testnet.ts reports it as a testnet event).
 *
 * Bounds: MAX_PENDING requests in flight per child (then OverloadedError);
 * a stream holds at most STREAM_WINDOW items the reader has not taken (the
 * child sends no more until it is granted credit); the child's stderr is kept
 * only as its last STDERR_TAIL bytes, for the exit report.
 */
import { fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AbortError, FailedError, OverloadedError, StoppedError, TimeoutError, failureToError } from '../../messages/errors.js'
import { STREAM_WINDOW } from './protocol.js'
import type { ChildProcess } from 'node:child_process'
import type { FromChild, ProcessStats, ToChild } from './protocol.js'

export const MAX_PENDING = 10_000
/** what a request may take beyond its own timeout: the channel, and a child's turn */
export const IPC_MARGIN_MS = 5_000
const STDERR_TAIL = 4_096
const READY_TIMEOUT_MS = 30_000
const EXIT_TIMEOUT_MS = 20_000

export interface ChildExit { process: number, pid: number | undefined, code: number | null, signal: NodeJS.Signals | null, stderr: string }

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never
/** a request to the child, without its id (the host gives one) */
export type ChildRequest = Distribute<Extract<ToChild, { id: number }>>

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

interface StreamState {
  items: unknown[]
  done: boolean
  error: Error | undefined
  wake: (() => void) | undefined
}

/** The built child entry: beside this module in dist/, or in dist/ when this runs from src/. */
export function resolveChildEntry (moduleUrl: string = import.meta.url): string {
  const fromSource = /\.[cm]?ts$/.test(new URL(moduleUrl).pathname)
  const file = fileURLToPath(new URL(fromSource ? '../../../dist/node/remote/testnet-child.js' : './testnet-child.js', moduleUrl))
  if (!existsSync(file)) throw new FailedError(`testnet child not built: ${file} is missing; run \`npm run build\``)
  return file
}

export class ChildHost {
  readonly index: number
  private readonly child: ChildProcess
  private readonly pending = new Map<number, Pending>()
  private readonly streams = new Map<number, StreamState>()
  private readonly progress = new Map<number, Set<(e: Extract<FromChild, { t: 'progress' }>['event']) => void>>()
  private readonly exitListeners = new Set<(e: ChildExit) => void>()
  private nextId = 1
  private stderr = ''
  private exit: ChildExit | undefined
  private readonly exited: Promise<ChildExit>

  private constructor (index: number, child: ChildProcess) {
    this.index = index
    this.child = child
    child.stderr?.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL) })
    child.on('message', (m: FromChild) => { this.onMessage(m) })
    this.exited = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        const e: ChildExit = { process: index, pid: child.pid, code, signal, stderr: this.stderr }
        this.exit = e
        const why = new StoppedError(`testnet process ${index} (pid ${child.pid ?? '?'}) exited (${signal ?? `code ${code ?? '?'}`})`)
        for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(why) }
        this.pending.clear()
        for (const s of this.streams.values()) { s.error ??= why; s.wake?.() }
        for (const fn of this.exitListeners) fn(e)
        resolve(e)
      })
    })
  }

  /** Forks the child and waits until it says it is ready. */
  static async spawn (index: number, entry: string = resolveChildEntry()): Promise<ChildHost> {
    const child = fork(entry, [], { serialization: 'advanced', execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    const host = new ChildHost(index, child)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new TimeoutError(`testnet process ${index} was not ready within ${READY_TIMEOUT_MS} ms`)) }, READY_TIMEOUT_MS)
      const onReady = (m: FromChild): void => {
        if (m.t !== 'ready') return
        clearTimeout(timer)
        child.off('message', onReady)
        resolve()
      }
      child.on('message', onReady)
      void host.exited.then(e => { clearTimeout(timer); reject(new StoppedError(`testnet process ${index} exited before it was ready (${e.signal ?? `code ${e.code ?? '?'}`}): ${e.stderr.slice(-500)}`)) })
    }).catch(async (err: unknown) => {
      child.kill('SIGKILL')
      throw err
    })
    return host
  }

  get pid (): number | undefined { return this.child.pid }
  get alive (): boolean { return this.exit === undefined }

  onExit (fn: (e: ChildExit) => void): () => void {
    this.exitListeners.add(fn)
    return () => { this.exitListeners.delete(fn) }
  }

  private send (m: ToChild): void {
    if (this.exit !== undefined || !this.child.connected) throw new StoppedError(`testnet process ${this.index} has exited`)
    this.child.send(m)
  }

  private take (): number {
    if (this.pending.size + this.streams.size >= MAX_PENDING) throw new OverloadedError(`testnet process ${this.index} has ${MAX_PENDING} requests in flight already`)
    return this.nextId++
  }

  /** One request, one answer, within `deadlineMs` (its own timeout plus IPC_MARGIN_MS is the caller's choice). */
  async request (req: ChildRequest, deadlineMs: number, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted === true) throw new AbortError('the request was aborted before it was sent')
    const id = this.take()
    return await new Promise<unknown>((resolve, reject) => {
      const onAbort = (): void => {
        settle()
        try { this.send({ t: 'cancel', id }) } catch { /* the child is gone: nothing to cancel */ }
        reject(new AbortError('the request was aborted'))
      }
      const settle = (): void => {
        clearTimeout(timer)
        this.pending.delete(id)
        signal?.removeEventListener('abort', onAbort)
      }
      const timer = setTimeout(() => {
        settle()
        try { this.send({ t: 'cancel', id }) } catch { /* the child is gone: nothing to cancel */ }
        reject(new TimeoutError(`testnet process ${this.index} gave no answer to ${req.t} within ${deadlineMs} ms`))
      }, deadlineMs)
      this.pending.set(id, {
        resolve: v => { settle(); resolve(v) },
        reject: e => { settle(); reject(e) },
        timer
      })
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        this.send({ ...req, id } as ToChild)
      } catch (err) {
        settle()
        reject(err instanceof Error ? err : new FailedError(String(err)))
      }
    })
  }

  /** A stream: items as the child sends them, at most STREAM_WINDOW ahead of the reader. */
  async * stream (node: number, command: { type: string }, timeoutMs: number, signal?: AbortSignal): AsyncGenerator<unknown> {
    const id = this.take()
    const s: StreamState = { items: [], done: false, error: undefined, wake: undefined }
    this.streams.set(id, s)
    const fail = (err: Error): void => { s.error ??= err; s.wake?.() }
    const deadlineMs = timeoutMs + IPC_MARGIN_MS
    const timer = setTimeout(() => { fail(new TimeoutError(`testnet process ${this.index} did not end the stream within ${deadlineMs} ms`)) }, deadlineMs)
    const onAbort = (): void => { fail(new AbortError('the stream was aborted')) }
    signal?.addEventListener('abort', onAbort, { once: true })
    let taken = 0
    try {
      this.send({ t: 'stream', id, node, command, timeoutMs })
      for (;;) {
        const item = s.items.shift()
        if (item !== undefined) {
          if (++taken >= STREAM_WINDOW / 2) {
            this.send({ t: 'credit', id, n: taken })
            taken = 0
          }
          yield item
          continue
        }
        if (s.error !== undefined) throw s.error
        if (s.done) return
        await new Promise<void>(resolve => { s.wake = resolve })
        s.wake = undefined
      }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      this.streams.delete(id)
      if (!s.done && this.alive) {
        try { this.send({ t: 'cancel', id }) } catch { /* the child is gone: nothing to cancel */ }
      }
    }
  }

  /** Progress events of a node in this child (asks the child to forward them the first time). */
  watch (node: number, fn: (e: Extract<FromChild, { t: 'progress' }>['event']) => void): () => void {
    let set = this.progress.get(node)
    if (set === undefined) {
      set = new Set()
      this.progress.set(node, set)
      this.send({ t: 'watch', node })
    }
    set.add(fn)
    return () => { set.delete(fn) }
  }

  private onMessage (m: FromChild): void {
    switch (m.t) {
      case 'ready': return
      case 'progress':
        for (const fn of this.progress.get(m.node) ?? []) fn(m.event)
        return
      case 'dropped':
        for (const fn of this.progress.get(m.node) ?? []) fn({ type: 'swarmbus:progress:dropped', actor: 'testnet', detail: { count: m.count } })
        return
      case 'item': {
        const s = this.streams.get(m.id)
        if (s === undefined) return
        s.items.push(m.value === undefined ? null : m.value)
        s.wake?.()
        return
      }
      case 'end': {
        const s = this.streams.get(m.id)
        if (s !== undefined) { s.done = true; s.wake?.() }
        return
      }
      case 'fail': {
        const err = failureToError(m.failure)
        const s = this.streams.get(m.id)
        if (s !== undefined) { s.error ??= err; s.wake?.(); return }
        this.pending.get(m.id)?.reject(err)
        return
      }
      case 'started':
        this.pending.get(m.id)?.resolve(m.nodes)
        return
      case 'reply':
        this.pending.get(m.id)?.resolve(m.value)
    }
  }

  /** Asks the child to stop its nodes and exit; kills it if it has not within EXIT_TIMEOUT_MS. */
  async stop (): Promise<ChildExit> {
    if (this.exit !== undefined) return this.exit
    try { this.send({ t: 'exit' }) } catch { /* already disconnected: it exits by itself */ }
    const timer = setTimeout(() => { this.child.kill('SIGKILL') }, EXIT_TIMEOUT_MS)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  /** What the child uses and holds now (protocol.ts ProcessStats). */
  async stats (timeoutMs: number = 10_000): Promise<ProcessStats> {
    return { ...await this.request({ t: 'stats' }, timeoutMs) as ProcessStats, process: this.index }
  }

  /** Sends a signal (tests: kill -9 a child mid-workload). */
  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal)
  }
}

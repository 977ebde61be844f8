/**
 * A handle on a node that lives in a testnet child process: the same typed
 * `ask` / `stream` / `on('progress')` / `stop` as a SwarmNode, carried over
 * the child's IPC channel (child-host.ts). Every ask has a deadline (its
 * timeoutMs, default the node's 30 s) that the child's node enforces, and
 * the handle waits at most IPC_MARGIN_MS longer for the answer, so neither a
 * slow node nor a dead process leaves the caller waiting.
 */
import { IPC_MARGIN_MS } from './child-host.js'
import type { ChildHost } from './child-host.js'
import type { AskOptions, ProgressEvent } from '../../actors/runtime/actor.js'
import type { AskCommand, AskType, ItemOf, ReplyOf, StreamCommand, StreamType } from '../../messages/commands.js'
import type { QueryId } from '../../messages/ids.js'

/** What every testnet node offers, in this process or another. */
export interface NodeHandle {
  readonly peerId: string
  /** listen addresses including /p2p/<peerId> */
  readonly multiaddrs: string[]
  ask<C extends AskCommand>(command: C, options?: AskOptions): Promise<ReplyOf<C['type'] & AskType>>
  stream<C extends StreamCommand>(command: C, options?: AskOptions): AsyncIterable<ItemOf<C['type'] & StreamType>>
  on(event: 'progress', fn: (e: ProgressEvent) => void): () => void
  stop(): Promise<void>
}

export const REMOTE_DEFAULT_TIMEOUT_MS = 30_000

export class RemoteNode implements NodeHandle {
  private stopped: Promise<void> | undefined

  constructor (
    /** the node's index in its testnet */
    readonly index: number,
    readonly peerId: string,
    readonly multiaddrs: string[],
    private readonly host: ChildHost,
    private readonly defaultTimeoutMs: number = REMOTE_DEFAULT_TIMEOUT_MS
  ) {}

  /** the child process it lives in */
  get process (): number { return this.host.index }
  get pid (): number | undefined { return this.host.pid }

  /** the ask's time: its deadline (a date) from now, or its timeoutMs, or the default */
  private timeoutOf (options: AskOptions): number {
    if (options.deadline !== undefined) return Math.max(0, options.deadline - Date.now())
    return options.timeoutMs ?? this.defaultTimeoutMs
  }

  async ask<C extends AskCommand>(command: C, options: AskOptions = {}): Promise<ReplyOf<C['type'] & AskType>> {
    const timeoutMs = this.timeoutOf(options)
    return await this.host.request({ t: 'ask', node: this.index, command, timeoutMs }, timeoutMs + IPC_MARGIN_MS, options.signal) as ReplyOf<C['type'] & AskType>
  }

  stream<C extends StreamCommand>(command: C, options: AskOptions = {}): AsyncIterable<ItemOf<C['type'] & StreamType>> {
    return this.host.stream(this.index, command, this.timeoutOf(options), options.signal) as AsyncIterable<ItemOf<C['type'] & StreamType>>
  }

  on (event: 'progress', fn: (e: ProgressEvent) => void): () => void {
    if (event !== 'progress') throw new TypeError(`a testnet node in another process has only 'progress' events, not '${String(event)}'`)
    return this.host.watch(this.index, e => { fn({ ...e, ...(e.id !== undefined ? { id: e.id as QueryId } : {}) } as ProgressEvent) })
  }

  async stop (): Promise<void> {
    this.stopped ??= (async () => {
      if (!this.host.alive) return
      await this.host.request({ t: 'stopNode', node: this.index }, 30_000)
    })()
    await this.stopped
  }
}

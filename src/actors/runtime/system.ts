/**
 * The actor system: registry, routing of commands to actors, the port table
 * (reply ports keyed by query id), deadlines, supervision, dead letters,
 * scheduling and tracing. Everything an actor does to the outside world goes
 * through here, which is what makes the exactly-once and deadline guarantees
 * hold for every actor, and what the trace recorder observes.
 */
import { InvalidCommandError, StoppedError } from '../../messages/errors.js'
import { HostStream } from './host-stream.js'
import type { ActorDefinition, AskOptions } from './actor.js'
import type { AskCommand, AskType, BaseCommand, ItemOf, ReplyOf, StreamCommand, StreamType } from '../../messages/commands.js'
import type { QueryId } from '../../messages/ids.js'
import { ContextMaker } from './actor-context.js'
import { Cell } from './cell.js'
import type { AnyDef } from './cell.js'

export { WALL_TOLERANCE_MS } from './system-base.js'
export type { SystemOptions } from './system-base.js'

/**
 * The actor system. Its layers, each in its own file:
 * - system-base.ts: state, clock and turns, the wall clock, trace outputs,
 *   dead letters, progress, status (the registry's cells and routes);
 * - port-table.ts: reply ports keyed by query id, deadlines, settling;
 * - scheduler.ts: the run queue and deliveries;
 * - supervision.ts: crashes, restarts and stops;
 * - actor-context.ts: the context an actor incarnation gets;
 * - this file: spawning, host asks and streams, and replay's inputs.
 * The test driver (runUntilQuiet) is in src/testing/, exported as 'swarmbus/testing'.
 */
export class ActorSystem extends ContextMaker {
  spawn<C extends BaseCommand, I> (def: ActorDefinition<C, I>): void {
    if (this.stopped) throw new StoppedError('the system is stopped')
    if (this.cells.has(def.name)) throw new InvalidCommandError('name', `an actor named '${def.name}' already exists`)
    const types = [...def.commands.map(t => ({ t, port: 'once' as const })), ...(def.streams ?? []).map(t => ({ t, port: 'stream' as const }))]
    for (const { t } of types) {
      if (this.routes.has(t)) throw new InvalidCommandError('commands', `command type '${t}' is already served by '${this.routes.get(t)?.cell.def.name ?? ''}'`)
    }
    const cell = new Cell(def as unknown as AnyDef)
    this.cells.set(def.name, cell)
    for (const { t, port } of types) {
      const counter = { served: 0, failed: 0, totalMs: 0, maxMs: 0 }
      cell.counters.set(t, counter)
      this.routes.set(t, { cell, port, counter })
    }
    this.startCell(cell)
  }

  /** Ask from host code: resolves with the typed reply or rejects with a typed Error. */
  ask<C extends AskCommand> (command: C, options: AskOptions = {}): Promise<ReplyOf<C['type'] & AskType>> {
    return new Promise((resolve, reject) => {
      // a turn, inlined: this is the hot path of every host ask
      if (this.frozen !== undefined) {
        this.open(command, 'once', undefined, options, 'host', undefined, undefined, resolve as (v: unknown) => void, reject)
        return
      }
      this.frozen = this.freeze()
      try {
        this.open(command, 'once', undefined, options, 'host', undefined, undefined, resolve as (v: unknown) => void, reject)
      } finally {
        this.frozen = undefined
      }
    })
  }

  /** Stream from host code: an async iterable of the typed items. */
  stream<C extends StreamCommand> (command: C, options: AskOptions = {}): AsyncIterable<ItemOf<C['type'] & StreamType>> {
    const out = new HostStream<ItemOf<C['type'] & StreamType>>(this.opts.streamBuffer)
    const id = this.turn(() => this.open(command, 'stream', {
      item: v => out.push(v as ItemOf<C['type'] & StreamType>),
      done: r => { out.finish(r) }
    }, options, 'host', undefined))
    out.onCancel = () => { this.hostCancel(id) }
    return out
  }

  /** Replay: an ask from the host. false if the id source does not issue the recorded id. */
  replayAsk (recordedId: QueryId, command: BaseCommand, port: 'once' | 'stream', deadline: number, aborted = false): boolean {
    const id = this.ids.next()
    if (id !== recordedId) return false
    const options: AskOptions = { deadline }
    if (aborted) options.signal = AbortSignal.abort()
    // the recorded deadline is on the monotonic clock already
    this.turn(() => this.open(command, port, { item: () => true, done: () => {} }, options, 'host', undefined, id, undefined, undefined, true))
    return true
  }
}

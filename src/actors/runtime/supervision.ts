/**
 * The actor system's supervision (see system.ts for the whole).
 */
import { errorToFailure, StoppedError } from '../../messages/errors.js'
import { failure } from '../../messages/failure.js'
import type { ActorContext } from './actor.js'
import { Scheduler } from './scheduler.js'
import type { Cell } from './cell.js'

/**
 * Supervision: an actor that throws is restarted (intensity within a period,
 * exponential backoff) or stopped for good; the incarnation that ends leaves
 * nothing behind (its timers, the asks it made, its queued completions).
 */
export abstract class Supervision extends Scheduler {
  protected abstract makeContext (cell: Cell): ActorContext<unknown>

  protected startCell (cell: Cell): void {
    if (this.stopped || cell.state === 'stopped') return
    cell.ctx = this.makeContext(cell)
    try {
      cell.behavior = cell.def.start(cell.ctx)
      cell.state = 'running'
    } catch (err) {
      this.crash(cell, err)
      return
    }
    if (!cell.mailbox.empty) this.enqueueCell(cell)
  }

  protected crash (cell: Cell, err: unknown): void {
    const now = this.now()
    this.out({ type: 'crash', actor: cell.def.name, error: errorToFailure(err).message })
    const old = cell.behavior
    cell.behavior = undefined
    cell.incarnation++
    this.clearTimers(cell)
    this.failOpen(cell, true, 'the actor crashed and is restarting')
    // completions and cancels queued for the crashed incarnation had nowhere to go
    for (const m of cell.mailbox.drainSystem()) this.dead('stale-incarnation', cell.def.name, m.kind === 'cancel' ? m.id : undefined)
    cell.stopping = Promise.resolve().then(() => old?.stop?.()).catch((err: unknown) => { this.incidents.add('stop-failed', err, this.base.now(), cell.def.name) })
    const p = cell.policy
    cell.restartTimes = cell.restartTimes.filter(t => now - t < p.periodMs)
    if (cell.restartTimes.length >= p.maxRestarts) {
      this.stopCell(cell, `crashed ${p.maxRestarts + 1} times within ${p.periodMs} ms`)
      return
    }
    cell.restartTimes.push(now)
    cell.restarts++
    cell.state = 'restarting'
    const backoff = Math.min(p.backoffMs * 2 ** (cell.restartTimes.length - 1), p.maxBackoffMs)
    cell.restartTimer = this.clock.setTimer(now + backoff, () => {
      cell.restartTimer = undefined
      this.startCell(cell)
    })
  }

  /** Clear the timers the actor set through ctx.after (they belong to the incarnation that ends). */
  protected clearTimers (cell: Cell): void {
    for (const t of cell.timers) this.clock.clearTimer(t)
    cell.timers.clear()
  }

  /** Fail the ports this actor serves (only those already delivered, or all) and cancel its own asks. */
  protected failOpen (cell: Cell, deliveredOnly: boolean, why: string): void {
    for (const e of [...this.ports.values()]) {
      if (e.owner === cell && (!deliveredOnly || e.delivered)) {
        e.controller?.abort(new StoppedError(why))
        this.settle(e.id, { ok: false, failure: failure('stopped', `${e.type}: ${why}`) })
      }
    }
    for (const id of [...cell.outgoing]) this.cancelPort(id, 'aborted', `asker '${cell.def.name}' stopped`)
    cell.outgoing.clear()
  }

  protected stopCell (cell: Cell, why: string): void {
    if (cell.state === 'stopped') return
    const old = cell.behavior
    cell.state = 'stopped'
    cell.behavior = undefined
    cell.incarnation++
    this.clearTimers(cell)
    if (cell.restartTimer !== undefined) this.clock.clearTimer(cell.restartTimer)
    cell.restartTimer = undefined
    this.failOpen(cell, false, why)
    cell.mailbox.drainUser() // their ports were failed above
    for (const m of cell.mailbox.drainSystem()) this.dead('actor-stopped', cell.def.name, m.kind === 'cancel' ? m.id : undefined)
    const prev = cell.stopping ?? Promise.resolve()
    cell.stopping = prev.then(() => old?.stop?.()).catch((err: unknown) => { this.incidents.add('stop-failed', err, this.base.now(), cell.def.name) })
  }

  /** Stop one actor: its open asks fail with StoppedError, later asks too. */
  async stopActor (name: string): Promise<void> {
    const cell = this.cells.get(name)
    if (cell === undefined) return
    this.stopCell(cell, `actor '${name}' stopped`)
    await cell.stopping
  }

  /** Stop everything: every open ask fails with StoppedError; actors release their resources. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const cell of this.cells.values()) this.stopCell(cell, 'the node is stopping')
    this.sweeper.clear()
    await Promise.all([...this.cells.values()].map(async c => { await c.stopping }))
  }
}

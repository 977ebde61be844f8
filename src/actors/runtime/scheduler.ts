/**
 * The actor system's scheduler (see system.ts for the whole).
 */
import type { Incoming } from './actor.js'
import type { BaseCommand } from '../../messages/commands.js'
import type { Envelope } from '../../messages/envelope.js'
import type { QueryId } from '../../messages/ids.js'
import { DeliveredPort } from './reply-port.js'
import { InvariantError } from './invariant.js'
import { PortTable } from './port-table.js'
import type { Cell, SystemMsg } from './cell.js'

/**
 * Scheduling: actors with waiting messages sit on a run queue and get one
 * delivery per step, round robin, the system lane before the user lane;
 * completions, timers and replies re-enter as internal messages.
 */
export abstract class Scheduler extends PortTable {
  protected abstract crash (cell: Cell, err: unknown): void

  protected postSystem (cell: Cell, msg: SystemMsg<unknown>): boolean {
    if (!cell.mailbox.offerSystem(msg)) {
      this.dead('system-lane-full', cell.def.name, msg.kind === 'cancel' ? msg.id : undefined)
      return false
    }
    this.enqueueCell(cell)
    return true
  }

  protected enqueueCell (cell: Cell): void {
    if (cell.queued || cell.state !== 'running') return
    cell.queued = true
    this.runQueue.push(cell)
    if (!this.drainScheduled && !this.opts.manual) {
      this.drainScheduled = true
      // the slice is used up: this drain waits for the host's turn too
      if (this.sliceStart !== undefined && this.base.now() - this.sliceStart >= this.opts.deliverySliceMs) this.opts.yieldToHost(this.drainBound)
      else queueMicrotask(this.drainBound)
    }
  }

  protected readonly drainBound = (): void => { this.drain() }

  /**
   * When the current slice began (host clock), undefined while the host has
   * had its turn since the last delivery: a slice spans every drain until a
   * `yieldToHost` callback queued at its start runs, i.e. until the stretch
   * of microtasks it belongs to has ended.
   */
  private sliceStart: number | undefined
  private readonly endSlice = (): void => { this.sliceStart = undefined }

  protected drain (): void {
    this.drainScheduled = false
    const slice = this.opts.deliverySliceMs
    if (this.sliceStart === undefined && slice !== Infinity) {
      this.sliceStart = this.base.now()
      this.opts.yieldToHost(this.endSlice)
    }
    let budget = this.opts.deliveryBudget
    // at least one delivery a drain, so a drain that yields at once still makes progress
    while (budget-- > 0 && this.step()) {
      if (this.sliceStart !== undefined && this.base.now() - this.sliceStart >= slice) break
    }
    if (this.runHead < this.runQueue.length && !this.drainScheduled) {
      this.drainScheduled = true
      this.opts.yieldToHost(this.drainBound)
    }
  }

  /** Deliver one message (round robin over actors). false when nothing is waiting. */
  step (): boolean {
    while (this.runHead < this.runQueue.length) {
      const cell = this.runQueue[this.runHead++] as Cell
      if (this.runHead > 64 && this.runHead * 2 > this.runQueue.length) {
        this.runQueue.splice(0, this.runHead)
        this.runHead = 0
      }
      cell.queued = false
      if (cell.state !== 'running') continue
      const sysMsg = cell.mailbox.takeSystem()
      const env = sysMsg === undefined ? cell.mailbox.takeUser() : undefined
      if (sysMsg === undefined && env === undefined) continue
      // the turn's time first: a wall step found here is an input before this delivery
      const outer = this.frozen
      if (outer === undefined) this.frozen = this.freeze()
      this.deliveries++
      try {
        if (sysMsg !== undefined) this.deliverSystem(cell, sysMsg)
        else this.deliverCommand(cell, env as Envelope)
      } finally {
        this.frozen = outer
      }
      this.checkCell(cell)
      if (!cell.mailbox.empty) this.enqueueCell(cell)
      return true
    }
    return false
  }

  /**
   * The bounds a cell must keep, checked after each of its deliveries
   * (cheap: a few comparisons); a broken one crashes the actor.
   */
  protected checkCell (cell: Cell): void {
    if (cell.state !== 'running') return
    const m = cell.mailbox
    const broken =
      m.depth > m.limits.capacity ? `mailbox holds ${m.depth} commands, more than its ${m.limits.capacity}`
        : m.systemDepth > m.limits.systemCapacity ? `system lane holds ${m.systemDepth}, more than its ${m.limits.systemCapacity}`
          : cell.open < 0 ? `serves ${cell.open} open ports`
            : cell.outgoing.size > this.opts.maxOpenPorts ? `has ${cell.outgoing.size} asks open, more than the system's ${this.opts.maxOpenPorts} ports`
              : undefined
    if (broken !== undefined) this.crash(cell, new InvariantError(`invariant broken: '${cell.def.name}' ${broken}`))
  }

  /** Is an actor waiting to be delivered to (a step would deliver)? */
  get runnable (): boolean {
    return this.runHead < this.runQueue.length
  }

  /** Messages waiting in all mailboxes. */
  get waiting (): number {
    let n = 0
    for (const c of this.cells.values()) n += c.mailbox.depth + c.mailbox.systemDepth
    return n
  }

  protected deliverCommand (cell: Cell, env: Envelope): void {
    const entry = this.ports.get(env.id)
    if (entry === undefined) {
      // settled while queued (deadline, abort): nothing to do
      if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'skip', id: env.id })
      return
    }
    entry.delivered = true
    if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'command', id: env.id, what: env.command.type })
    this.receive(cell, { kind: 'command', type: env.command.type, command: env.command, env, port: new DeliveredPort(cell.ctx, env.id) })
  }

  protected deliverSystem (cell: Cell, sm: SystemMsg<unknown>): void {
    if (sm.kind === 'cancel') {
      if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'cancel', id: sm.id, what: sm.reason })
      this.receive(cell, sm)
      return
    }
    if (sm.inc !== cell.incarnation) {
      if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'skip' })
      this.dead('stale-incarnation', cell.def.name)
      return
    }
    if (this.trace !== undefined) this.out({ type: 'deliver', actor: cell.def.name, kind: 'internal', what: describe(sm.msg) })
    this.receive(cell, { kind: 'internal', msg: sm.msg })
  }

  protected receive (cell: Cell, msg: Incoming<BaseCommand, unknown>): void {
    try {
      cell.behavior?.receive(msg)
    } catch (err) {
      this.crash(cell, err)
    }
  }

  /** Put an internal message on an actor's system lane. When full, the owning query fails with overloaded. */
  protected injectInternal (cell: Cell, inc: number, msg: unknown, owner: QueryId | undefined): boolean {
    if (cell.incarnation !== inc) {
      this.dead('stale-incarnation', cell.def.name, owner)
      return false
    }
    if (this.postSystem(cell, { kind: 'internal', msg, inc })) return true
    if (owner !== undefined) this.cancelPort(owner, 'aborted', `system lane of '${cell.def.name}' is full`, 'overloaded')
    return false
  }

  /** Replay: deliver a recorded external completion. */
  injectExternal (actor: string, incarnation: number, msg: unknown, owner?: QueryId): void {
    const cell = this.cells.get(actor)
    if (cell === undefined || cell.incarnation !== incarnation || cell.state === 'stopped') {
      this.dead(cell?.state === 'stopped' ? 'actor-stopped' : 'stale-incarnation', actor, owner)
      return
    }
    this.injectInternal(cell, incarnation, msg, owner)
  }
}

function describe (msg: unknown): string | undefined {
  if (typeof msg === 'object' && msg !== null && 'type' in msg && typeof msg.type === 'string') return msg.type
  return undefined
}

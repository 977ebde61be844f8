/**
 * The actor system's actor context (see system.ts for the whole).
 */
import { AbortError, errorToFailure } from '../../messages/errors.js'
import { failure } from '../../messages/failure.js'
import type { ActorContext, AskOptions, Settled } from './actor.js'
import type { TraceInput } from './trace-events.js'
import type { BaseCommand } from '../../messages/commands.js'
import type { QueryId } from '../../messages/ids.js'
import { invariant, MAX_TIMERS_PER_ACTOR } from './invariant.js'
import { Supervision } from './supervision.js'
import type { Cell } from './cell.js'

/**
 * The context each actor incarnation gets: its typed way to settle ports,
 * turn async work into messages, set timers, ask other actors, and report
 * progress and transitions — every one of them through the system.
 */
export abstract class ContextMaker extends Supervision {
  protected makeContext (cell: Cell): ActorContext<unknown> {
    const inc = cell.incarnation
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the context's closures read better as sys.x
    const sys = this
    const name = cell.def.name
    // this incarnation, from start() on ('starting'/'restarting' too: a reply to an ask made in start() must not be lost)
    const alive = (): boolean => cell.incarnation === inc && cell.state !== 'stopped'
    const external = (msg: unknown, owner: QueryId | undefined): void => {
      this.turn(() => {
        // recorded even when it is going to be a dead letter: the replay must
        // produce that dead letter at the same point
        if (this.trace !== undefined) {
          const input: TraceInput = { type: 'external', actor: name, incarnation: inc, msg }
          if (owner !== undefined) input.owner = owner
          this.trace.input(input, this.now(), this.deliveries)
        }
        this.injectExternal(name, inc, msg, owner)
      })
    }
    const ctx: ActorContext<unknown> = {
      name,
      clock: this.clock,
      rng: this.rng,
      ids: this.ids,
      incarnation: inc,
      reply: (id, value) => {
        if (sys.ports.get(id)?.port === 'stream') return sys.settleOrDead(cell, id, { ok: false, failure: failure('failed', 'a stream was answered with a single reply') })
        return sys.settleOrDead(cell, id, { ok: true, value })
      },
      fail: (id, f) => sys.settleOrDead(cell, id, { ok: false, failure: f }),
      end: id => sys.settleOrDead(cell, id, { ok: true, value: undefined }),
      next: (id, item) => {
        const e = sys.ports.get(id)
        if (e === undefined || e.owner !== cell || e.port !== 'stream') {
          sys.dead('late-item', name, id)
          return false
        }
        sys.out({ type: 'item', id, item })
        if (e.sink === undefined || !e.sink.item(item)) {
          sys.cancelPort(id, 'aborted', `the consumer fell more than ${sys.opts.streamBuffer} items behind`, 'overloaded')
          return false
        }
        return true
      },
      isOpen: id => sys.ports.get(id)?.owner === cell,
      signal: id => {
        const e = sys.ports.get(id)
        if (e === undefined) {
          const c = new AbortController()
          c.abort(new AbortError('the query is no longer open'))
          return c.signal
        }
        e.controller ??= new AbortController()
        return e.controller.signal
      },
      pipe: (work, toMsg, owner) => {
        if (sys.opts.manual) {
          // replay: the recorded completion is injected instead; the live outcome is not an input
          // eslint-disable-next-line no-restricted-syntax -- ignoring it is the point of replay
          work.catch(() => {})
          return
        }
        work.then(
          value => { external(toMsg({ ok: true, value }), owner) },
          (err: unknown) => { external(toMsg({ ok: false, failure: errorToFailure(err) }), owner) }
        ).catch((err: unknown) => {
          // toMsg threw: the completion had nowhere to go; never an unhandled rejection in the host
          sys.incidents.add('completion-lost', err, sys.base.now(), name)
          sys.dead('late-settle', name, owner)
        })
      },
      pump: (source, onItem, onEnd, owner) => {
        if (sys.opts.manual) return
        void (async () => {
          let n = 0
          try {
            for await (const item of source) {
              if (!alive()) break
              n++
              external(onItem(item), owner)
              if (owner !== undefined && !sys.ports.has(owner)) break
            }
            external(onEnd({ ok: true, value: n }), owner)
          } catch (err) {
            try {
              external(onEnd({ ok: false, failure: errorToFailure(err) }), owner)
            } catch (lost) {
              sys.incidents.add('completion-lost', lost, sys.base.now(), name)
              sys.dead('late-settle', name, owner)
            }
          }
        })()
      },
      after: (delayMs, msg) => {
        invariant(cell.timers.size < MAX_TIMERS_PER_ACTOR, () => `'${name}' has ${MAX_TIMERS_PER_ACTOR} timers set (ctx.after) and none fired`)
        const timer = sys.clock.setTimer(sys.clock.now() + delayMs, () => {
          cell.timers.delete(timer)
          sys.injectInternal(cell, inc, msg, undefined)
        })
        cell.timers.add(timer)
        return () => {
          cell.timers.delete(timer)
          sys.clock.clearTimer(timer)
        }
      },
      self: msg => { sys.injectInternal(cell, inc, msg, undefined) },
      external: (msg, owner) => { if (!sys.opts.manual) external(msg, owner) },
      ask: (command: BaseCommand, options: AskOptions, toMsg: (r: Settled<unknown>) => unknown) => sys.open(command, 'once', {
        item: () => false,
        done: r => { if (alive()) sys.injectInternal(cell, inc, toMsg(r), undefined) }
      }, options, name, cell),
      stream: (command: BaseCommand, options: AskOptions, onItem: (item: unknown) => unknown, onEnd: (r: Settled<number>) => unknown) => {
        let n = 0
        return sys.open(command, 'stream', {
          item: v => { n++; return alive() && sys.injectInternal(cell, inc, onItem(v), undefined) },
          done: r => { if (alive()) sys.injectInternal(cell, inc, onEnd(r.ok ? { ok: true, value: n } : r), undefined) }
        }, options, name, cell)
      },
      cancel: id => {
        if (cell.outgoing.has(id)) sys.cancelPort(id, 'aborted', `cancelled by '${name}'`)
      },
      progress: event => { sys.emitProgress({ ...event, actor: name }) },
      progressWatched: () => sys.trace !== undefined || sys.progressWatchers > 0,
      transition: (machine, id, state, event) => { if (sys.trace !== undefined) sys.out({ type: 'transition', actor: name, machine, id, state, event }) },
      systemStatus: () => sys.status()
    }
    return ctx
  }
}

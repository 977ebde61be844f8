/**
 * A small test actor: `test.echo` answers with its text (at once, after a
 * simulated delay, twice, never, or by crashing), `test.count` streams
 * 0..n-1. Every timer goes through ctx.after, so it runs on the simulated
 * clock. The log records what the actor saw, for assertions.
 */
import { defineActor } from '../../src/actors/runtime/actor.js'
import { failure } from '../../src/messages/failure.js'
import type { ActorDefinition, Cancel, SupervisionPolicy } from '../../src/actors/runtime/actor.js'
import type { BaseCommand } from '../../src/messages/commands.js'

export interface EchoCommand extends BaseCommand {
  type: 'test.echo'
  text: string
  /** answer after this many ms (ctx.after); 0 or absent: at once */
  delayMs?: number
  /** answer twice (the second goes to dead letters) */
  twice?: boolean
  /** throw from receive */
  crash?: boolean
  /** never answer this one */
  ignore?: boolean
}

export interface CountCommand extends BaseCommand {
  type: 'test.count'
  n: number
  /** ms between items */
  delayMs?: number
  /** fail the stream after the items instead of ending it */
  fail?: boolean
}

export type EchoMode = 'prompt' | 'slow' | 'never'

export interface EchoOptions {
  name?: string
  /** prompt: as the command says; slow: every answer comes after lateMs; never: valid commands are never answered */
  mode?: EchoMode
  lateMs?: number
  capacity?: number
  systemCapacity?: number
  supervision?: Partial<SupervisionPolicy>
  /** command type prefix, so two echo actors can live in one system */
  prefix?: string
}

type EchoMsg =
  | { type: 'answer', id: string, text: string, twice: boolean }
  | { type: 'item', id: string, i: number, n: number, delayMs: number, fail: boolean }

export interface EchoLog {
  /** starts, one per incarnation */
  starts: number[]
  /** command ids in delivery order, with the incarnation that got them */
  commands: Array<{ id: string, incarnation: number }>
  cancels: Cancel[]
  /** what ctx.reply / ctx.next / ctx.end returned, per query id */
  settleResults: Array<{ id: string, ok: boolean }>
  signals: Map<string, AbortSignal>
  stops: number
}

export function newEchoLog (): EchoLog {
  return { starts: [], commands: [], cancels: [], settleResults: [], signals: new Map(), stops: 0 }
}

export function echoActor (options: EchoOptions = {}, log: EchoLog = newEchoLog()): ActorDefinition<EchoCommand | CountCommand, EchoMsg> {
  const mode = options.mode ?? 'prompt'
  const lateMs = options.lateMs ?? 60_000
  const prefix = options.prefix ?? 'test'
  const mailbox: { capacity?: number, systemCapacity?: number } = {}
  if (options.capacity !== undefined) mailbox.capacity = options.capacity
  if (options.systemCapacity !== undefined) mailbox.systemCapacity = options.systemCapacity
  return defineActor<EchoCommand | CountCommand, EchoMsg>({
    name: options.name ?? 'echo',
    commands: [`${prefix}.echo` as 'test.echo'],
    streams: [`${prefix}.count` as 'test.count'],
    mailbox,
    ...(options.supervision === undefined ? {} : { supervision: options.supervision }),
    validate: command => {
      if (command.type.endsWith('.echo')) {
        const c = command as EchoCommand
        if (typeof c.text !== 'string') return failure('invalid', 'text must be a string', { field: 'text' })
        if (c.delayMs !== undefined && !(typeof c.delayMs === 'number' && c.delayMs >= 0)) return failure('invalid', 'delayMs must be >= 0', { field: 'delayMs' })
      } else {
        const c = command as CountCommand
        if (!Number.isInteger(c.n) || c.n < 0) return failure('invalid', 'n must be a non-negative integer', { field: 'n' })
      }
      return undefined
    },
    start: ctx => {
      log.starts.push(ctx.incarnation)
      const result = (id: string, ok: boolean): void => { log.settleResults.push({ id, ok }) }
      return {
        receive: msg => {
          if (msg.kind === 'cancel') {
            log.cancels.push(msg)
            return
          }
          if (msg.kind === 'internal') {
            const m = msg.msg
            if (m.type === 'answer') {
              result(m.id, ctx.reply(m.id, { text: m.text, incarnation: ctx.incarnation }))
              if (m.twice) result(m.id, ctx.reply(m.id, { text: m.text, incarnation: ctx.incarnation }))
              return
            }
            if (m.i < m.n) {
              result(m.id, ctx.next(m.id, m.i))
              const next = { ...m, i: m.i + 1 }
              if (m.delayMs > 0) ctx.after(m.delayMs, next)
              else ctx.self(next)
              return
            }
            result(m.id, m.fail ? ctx.fail(m.id, failure('failed', 'the stream failed on purpose')) : ctx.end(m.id))
            return
          }
          const env = msg.env
          log.commands.push({ id: env.id, incarnation: ctx.incarnation })
          log.signals.set(env.id, ctx.signal(env.id))
          const c = env.command
          if (c.type.endsWith('.echo')) {
            const e = c as EchoCommand
            if (e.crash === true) throw new Error('echo crashed on purpose')
            if (mode === 'never' || e.ignore === true) return
            const answer: EchoMsg = { type: 'answer', id: env.id, text: e.text, twice: e.twice === true }
            const delay = mode === 'slow' ? lateMs : (e.delayMs ?? 0)
            if (delay > 0) {
              ctx.after(delay, answer)
            } else {
              result(env.id, ctx.reply(env.id, { text: e.text, incarnation: ctx.incarnation }))
              if (e.twice === true) result(env.id, ctx.reply(env.id, { text: e.text, incarnation: ctx.incarnation }))
            }
            return
          }
          const s = c as CountCommand
          if (mode === 'never') return
          const first: EchoMsg = { type: 'item', id: env.id, i: 0, n: s.n, delayMs: s.delayMs ?? 0, fail: s.fail === true }
          if (mode === 'slow') ctx.after(lateMs, first)
          else ctx.self(first)
        },
        stop: () => { log.stops++ }
      }
    }
  })
}

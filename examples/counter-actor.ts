/**
 * An extension actor, written the way a user of the published package writes
 * one: everything comes from 'swarmbus', and the actor's command types join
 * the bus's registry by declaration merging, so `node.ask({ type:
 * 'counter.add', … })` is typed end to end (the reply type is inferred).
 *
 * Named counters:
 *   counter.add      { name, by }  → { name, value }    add `by` (may be negative)
 *   counter.get      { name }      → { name, value }    NotFoundError if the counter does not exist
 *   counter.publish  { name }      → { name, value, key, peers }
 *                                    put the value into the DHT under /swarmbus/counter/<name>
 *                                    (an ask to the swarm actor that re-enters as an internal message)
 *   counter.list     { prefix? }   ⇒ stream of { name, value }
 *
 * See docs/adding-an-actor.md for the walk-through.
 */
import { defineActor, InvalidCommandError, NotFoundError, OverloadedError } from 'swarmbus'
import type { ActorDefinition, BaseCommand, Delivery, DhtPut, Failure, ReplyOf, ReplyPort, Settled } from 'swarmbus'

// ───────────────────────────── protocol ─────────────────────────────

export interface CounterAdd extends BaseCommand { type: 'counter.add', name: string, by: number }
export interface CounterGet extends BaseCommand { type: 'counter.get', name: string }
export interface CounterPublish extends BaseCommand { type: 'counter.publish', name: string }
export interface CounterList extends BaseCommand { type: 'counter.list', prefix?: string }

export type CounterCommand = CounterAdd | CounterGet | CounterPublish | CounterList

export interface CounterValue { name: string, value: number }
export interface CounterPublished extends CounterValue {
  /** the DHT key the value was put under */
  key: string
  /** how many peers accepted the put */
  peers: number
}

declare module 'swarmbus' {
  interface CommandMap {
    'counter.add': { command: CounterAdd, reply: CounterValue }
    'counter.get': { command: CounterGet, reply: CounterValue }
    'counter.publish': { command: CounterPublish, reply: CounterPublished }
  }
  interface StreamMap {
    'counter.list': { command: CounterList, item: CounterValue }
  }
}

// ───────────────────────────── validation ─────────────────────────────

/** Longest counter name (characters of [A-Za-z0-9._-]). */
export const MAX_NAME_LENGTH = 64
/** Largest |by| of one counter.add. */
export const MAX_STEP = 1_000_000

const NAME = /^[A-Za-z0-9._-]+$/

const invalid = (field: string, message: string): Failure => new InvalidCommandError(field, message).toFailure()

function checkName (name: unknown, field = 'name'): Failure | undefined {
  if (typeof name !== 'string') return invalid(field, `${field} must be a string`)
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return invalid(field, `${field} must be 1 to ${MAX_NAME_LENGTH} characters`)
  if (!NAME.test(name)) return invalid(field, `${field} may only use letters, digits, '.', '_' and '-'`)
  return undefined
}

/** Runs before a command is queued; a Failure rejects the ask with InvalidCommandError naming the field. */
export function validateCounterCommand (cmd: CounterCommand): Failure | undefined {
  switch (cmd.type) {
    case 'counter.add':
      if (!Number.isSafeInteger(cmd.by) || cmd.by === 0 || Math.abs(cmd.by) > MAX_STEP) {
        return checkName(cmd.name) ?? invalid('by', `by must be a non-zero integer from -${MAX_STEP} to ${MAX_STEP}`)
      }
      return checkName(cmd.name)
    case 'counter.get':
    case 'counter.publish':
      return checkName(cmd.name)
    case 'counter.list':
      return cmd.prefix === undefined || cmd.prefix === '' ? undefined : checkName(cmd.prefix, 'prefix')
  }
}

// ───────────────────────────── the actor ─────────────────────────────

export interface CounterOptions {
  /** registry name (default 'counter') */
  name?: string
  /**
   * counters kept at once (default 1,000); adding one more fails with
   * OverloadedError. counter.list sends them all in one turn, so keep this
   * within the system's streamBuffer (1,024 by default), the most items a
   * stream may run ahead of its consumer.
   */
  maxCounters?: number
  /** publishes in flight at once (default 64) */
  maxPublishing?: number
  /** counters to start with, and to start again with after a crash (a restart runs start() afresh) */
  initial?: Readonly<Record<string, number>>
}

/** The actor's own messages. Plain data only: they are recorded in traces. */
export type CounterMsg =
  | { type: 'published', id: string, name: string, value: number, key: string, result: Settled<ReplyOf<'dht.put'>> }

interface Publishing {
  /** the port of the counter.publish being served: typed, it only takes a CounterPublished */
  port: ReplyPort<CounterPublish>
  /** the query id of the ask this actor made to the swarm */
  inner: string
}

const utf8 = new TextEncoder()

export function counterActor (options: CounterOptions = {}): ActorDefinition<CounterCommand, CounterMsg> {
  const maxCounters = options.maxCounters ?? 1_000
  const maxPublishing = options.maxPublishing ?? 64
  const initial = Object.entries(options.initial ?? {})
  if (initial.length > maxCounters) throw new RangeError(`initial has more than maxCounters (${maxCounters}) counters`)
  for (const [name, value] of initial) {
    if (checkName(name) !== undefined || !Number.isSafeInteger(value)) throw new RangeError(`initial counter '${name}' needs a valid name and a safe integer value`)
  }

  return defineActor<CounterCommand, CounterMsg>({
    name: options.name ?? 'counter',
    commands: ['counter.add', 'counter.get', 'counter.publish'],
    streams: ['counter.list'],
    mailbox: { capacity: 256, systemCapacity: 512 },
    supervision: { maxRestarts: 5, periodMs: 10_000 },
    validate: validateCounterCommand,
    // start runs again, fresh, after a crash: state lives in this closure and
    // is lost on restart (persist it through another actor if it must survive)
    start: ctx => {
      const counters = new Map<string, number>(initial)
      /** outer query id → the swarm ask serving it */
      const publishing = new Map<string, Publishing>()

      // msg.type narrows the command and its typed reply port together
      const onCommand = (msg: Delivery<CounterCommand>): void => {
        const { id, deadline } = msg.env
        switch (msg.type) {
          case 'counter.add': {
            const cmd = msg.command
            const current = counters.get(cmd.name)
            if (current === undefined && counters.size >= maxCounters) {
              msg.port.fail(new OverloadedError(`the counter actor keeps ${maxCounters} counters already`).toFailure())
              return
            }
            const value = (current ?? 0) + cmd.by
            if (!Number.isSafeInteger(value)) {
              msg.port.fail(invalid('by', `counter '${cmd.name}' would leave the safe integer range`))
              return
            }
            counters.set(cmd.name, value)
            msg.port.reply({ name: cmd.name, value })
            return
          }
          case 'counter.get': {
            const cmd = msg.command
            const value = counters.get(cmd.name)
            if (value === undefined) msg.port.fail(new NotFoundError(`no counter named '${cmd.name}'`).toFailure())
            else msg.port.reply({ name: cmd.name, value })
            return
          }
          case 'counter.publish': {
            const cmd = msg.command
            const value = counters.get(cmd.name)
            if (value === undefined) {
              msg.port.fail(new NotFoundError(`no counter named '${cmd.name}'`).toFailure())
              return
            }
            if (publishing.size >= maxPublishing) {
              msg.port.fail(new OverloadedError(`${maxPublishing} publishes are in flight already`).toFailure())
              return
            }
            const key = `/swarmbus/counter/${cmd.name}`
            // The swarm's reply comes back as an internal message; the
            // snapshot (name, value, key) travels with it, so the reply says
            // what was published even if the counter moved on meanwhile.
            // The inner ask shares the outer deadline.
            // ctx.ask is typed for commands in the CommandMap: the compiler
            // checks the fields of the DhtPut and infers the reply type.
            const put: DhtPut = { type: 'dht.put', key, value: utf8.encode(JSON.stringify({ name: cmd.name, value })) }
            const inner = ctx.ask(put, { deadline }, result => ({ type: 'published', id, name: cmd.name, value, key, result }))
            publishing.set(id, { port: msg.port, inner })
            return
          }
          case 'counter.list': {
            const { prefix } = msg.command
            for (const [name, value] of counters) {
              if (prefix !== undefined && !name.startsWith(prefix)) continue
              // false: the consumer went away or fell too far behind (the port is failed for us)
              if (!msg.port.next({ name, value })) return
            }
            msg.port.end()
          }
        }
      }

      const onPublished = (m: CounterMsg): void => {
        // the outer ask may have timed out or been aborted meanwhile
        const p = publishing.get(m.id)
        if (p === undefined) return
        publishing.delete(m.id)
        if (!m.result.ok) {
          p.port.fail(m.result.failure)
          return
        }
        p.port.reply({ name: m.name, value: m.value, key: m.key, peers: m.result.value.peers })
      }

      return {
        receive: msg => {
          switch (msg.kind) {
            case 'command':
              onCommand(msg)
              return
            case 'cancel': {
              // the asker's deadline passed or it aborted: stop the work serving it
              const p = publishing.get(msg.id)
              if (p !== undefined) {
                publishing.delete(msg.id)
                ctx.cancel(p.inner)
              }
              return
            }
            case 'internal':
              onPublished(msg.msg)
          }
        },
        // reported as `detail` of this actor in swarm.status / system.status()
        status: () => ({ counters: counters.size, publishing: publishing.size })
      }
    }
  })
}

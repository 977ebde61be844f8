/**
 * The IPNS actor: one XState machine per publish or resolve (the machine id is
 * the query id), its effects provided with machine.provide and carried out
 * through the bus (swarm, verifier, store, keys), every result fed back to the
 * machine as an event on this actor's own mailbox. Concurrent resolves of the
 * same name with the same options share one machine (single flight). Resolved
 * hops are cached until received + TTL (bounded LRU). Every transition goes to
 * the trace and, as ipns:publish:* / ipns:resolve:* progress, to the host.
 */
import { expired, expiryIn, NEVER, sooner } from '../runtime/expiry.js'
import type { Expiry } from '../runtime/expiry.js'
import { LRUCache } from 'lru-cache'
import { assign, createActor } from 'xstate'
import { defineActor } from '../runtime/actor.js'
import { failure } from '../../messages/failure.js'
import { parseName } from '../../records/name.js'
import { MAX_GET_VALUES_WANT, MAX_PUT_TO_PEERS } from '../../messages/swarm.js'
import { MAX_HOPS, resolveMachine } from './resolve-machine.js'
import { nextSequence, publishMachine } from './publish-machine.js'
import { validateIpnsCommand } from './validate.js'
import { parseTarget } from './target.js'
import type { Actor } from 'xstate'
import type { ActorContext, ActorDefinition, Settled } from '../runtime/actor.js'
import type { HopResult, ResolveContext, ResolveMachine } from './resolve-machine.js'
import type { PublishContext, PublishMachine } from './publish-machine.js'
import type { QueryId } from '../../messages/ids.js'
import type { IpnsPublish, IpnsResolve, ResolveReply } from '../../messages/ipns.js'
import type { KeyInfo } from '../../messages/keys.js'
import type { CreatedRecordReply, RecordCreate, VerifiedRecord } from '../../messages/records.js'
import type { AskCommand } from '../../messages/commands.js'
import type { StoredRecord } from '../../messages/store.js'
import type { DnsLinkReply } from '../../messages/dnslink.js'
import '../../messages/ipns.js'
import '../../messages/keys.js'
import '../../messages/records.js'
import '../../messages/store.js'
import '../../messages/swarm.js'
import '../../messages/dnslink.js'

export const IPNS_ACTOR = 'ipns'

export interface IpnsActorOptions {
  /** valid answers that end a DHT query (default 16, the spec's quorum) */
  quorum?: number
  /** resolved names cached (default 1,024) */
  cacheSize?: number
  /** most resolves and publishes in flight (default 1,024) */
  maxFlights?: number
  /** most asks waiting on one shared resolve (default 10,000) */
  maxWaiters?: number
}

export type IpnsCommand = IpnsPublish | IpnsResolve

export type IpnsMsg =
  | { type: 'r.value', flight: string, hop: number, value: Uint8Array, from: string }
  | { type: 'r.end', flight: string, hop: number, result: Settled<number> }
  | { type: 'r.verified', flight: string, hop: number, key: string, result: Settled<unknown> }
  | { type: 'r.local', flight: string, hop: number, result: Settled<unknown> }
  | { type: 'r.soft', flight: string }
  | { type: 'r.dnslink', flight: string, hop: number, result: Settled<unknown> }
  | { type: 'p.key', flight: string, result: Settled<unknown> }
  | { type: 'p.seen', flight: string, result: Settled<unknown> }
  | { type: 'p.signed', flight: string, result: Settled<unknown> }
  | { type: 'p.stored', flight: string, result: Settled<unknown> }
  | { type: 'p.put', flight: string, result: Settled<unknown> }
  | { type: 'side', what: string, result: Settled<unknown> }

interface CacheEntry { hop: HopResult, expiresAt: Expiry }

/** a whole answer, for repeats of the same resolve: names are the hops it went through */
interface AnswerEntry { reply: ResolveReply, expiresAt: Expiry, names: string[] }

interface ResolveFlight {
  kind: 'resolve'
  id: string
  group: string
  machine: Actor<ResolveMachine>
  waiters: Set<QueryId>
  deadline: number
  /** asks this flight made (cancelled when it ends) */
  subs: Set<QueryId>
  stream: QueryId | undefined
  /** which hop the running query belongs to (late results of an earlier hop are dropped) */
  hop: number
  /** the answer cache key, and the earliest expiry and the names of the hops so far */
  answerKey: string | undefined
  expiresAt: Expiry
  names: string[]
  localPending: number
  cancelSoft: (() => void) | undefined
  /** a name it goes through was published here while it ran: its answer may be older, so it caches nothing and takes no joiners */
  stale: boolean
}

interface PublishFlight {
  kind: 'publish'
  id: string
  key: string
  machine: Actor<PublishMachine>
  waiter: QueryId
  deadline: number
  subs: Set<QueryId>
}

type Flight = ResolveFlight | PublishFlight

const SIDE_TASKS_MAX = 256
/**
 * A resolve joins a running resolve of the same name only if its own deadline
 * is at most this much later: the flight answers by its first asker's deadline,
 * and an asker who gave itself much longer must not be answered that early.
 */
const JOIN_SLACK_MS = 1_000
/** publishes of one key waiting for the one in flight */
const MAX_QUEUED_PUBLISHES = 64

export function ipnsActor (options: IpnsActorOptions = {}): ActorDefinition<IpnsCommand, IpnsMsg> {
  const defaultQuorum = options.quorum ?? 16
  const maxFlights = options.maxFlights ?? 1024
  const maxWaiters = options.maxWaiters ?? 10_000

  return defineActor<IpnsCommand, IpnsMsg>({
    name: IPNS_ACTOR,
    commands: ['ipns.publish', 'ipns.resolve'],
    mailbox: { capacity: 16_384 },
    validate: validateIpnsCommand,
    start: (ctx: ActorContext<IpnsMsg>) => {
      const cache = new LRUCache<string, CacheEntry>({ max: options.cacheSize ?? 1024 })
      // Repeats of a resolve whose whole answer is fresh are answered here,
      // without starting a machine: that is what keeps a cached resolve in
      // microseconds. Anything else (a new path, a hop expired) runs the machine,
      // whose own cache state serves the hops that are still fresh.
      const answers = new LRUCache<string, AnswerEntry>({ max: options.cacheSize ?? 1024 })
      const flights = new Map<string, Flight>()
      const groups = new Map<string, ResolveFlight>()
      const waiterFlight = new Map<QueryId, string>()
      // Publishes of one key run one at a time: each must see the sequence the
      // previous one stored, or two would sign the same sequence.
      const publishing = new Set<string>()
      const queuedPublishes = new Map<string, Array<{ id: QueryId, cmd: IpnsPublish, deadline: number }>>()
      let sideTasks = 0
      const counters = { resolves: 0, shared: 0, cacheHits: 0, publishes: 0, corrections: 0, dhtQueries: 0 }
      /** records peers answered with that were not used, by reason (the failed rule's code) */
      const rejected: Record<string, number> = {}
      const reject = (code: string): void => {
        if (Object.keys(rejected).length < 64 || code in rejected) rejected[code] = (rejected[code] ?? 0) + 1
      }

      const inspect = (machineName: string, id: string) => (ev: { type: string, event?: { type: string }, snapshot?: unknown }) => {
        if (ev.type !== '@xstate.snapshot') return
        const snap = ev.snapshot as { value: unknown }
        const state = typeof snap.value === 'string' ? snap.value : JSON.stringify(snap.value)
        const event = ev.event?.type ?? ''
        ctx.transition(machineName, id, state, event)
        ctx.progress({ type: `ipns:${machineName}:${state.replace(/[{}"]/g, '').replace(':', '.')}`, id, detail: { event } })
      }

      /** fire-and-forget asks (store, entry correction): bounded, results only counted */
      const side = (run: () => void): void => {
        if (sideTasks >= SIDE_TASKS_MAX) return
        sideTasks++
        run()
      }

      const fresh = (name: string): HopResult | undefined => {
        const e = cache.get(name)
        if (e === undefined) return undefined
        if (expired(ctx.clock, e.expiresAt)) {
          cache.delete(name)
          return undefined
        }
        return { ...e.hop, source: 'cache', stale: [] }
      }

      /** cache a hop for its TTL, never past its record's EOL (a date), unless its flight went stale; returns until when it is fresh */
      const remember = (hop: HopResult, stale: boolean): Expiry => {
        const expiresAt = expiryIn(ctx.clock, Number(hop.fields.ttl / 1_000_000n), hop.fields.validityMs)
        if (!expired(ctx.clock, expiresAt) && !stale) cache.set(hop.name, { hop, expiresAt })
        return expiresAt
      }

      /** a hop of a flight was resolved: its freshness bounds the whole answer's */
      const hopDone = (f: ResolveFlight, name: string, expiresAt: Expiry): void => {
        f.expiresAt = sooner(f.expiresAt, expiresAt)
        if (f.names.length < 64) f.names.push(name)
      }

      /** forget every cached answer that went through this name (it was just published) */
      const forgetAnswers = (name: string): void => {
        cache.delete(name)
        for (const [k, a] of answers.entries()) if (a.names.includes(name)) answers.delete(k)
        // a resolve already running may have read the older record: it must not
        // cache it, nor answer resolves asked after this publish
        for (const f of flights.values()) {
          if (f.kind !== 'resolve' || f.stale || !(f.names.includes(name) || f.machine.getSnapshot().context.name === name)) continue
          f.stale = true
          if (groups.get(f.group) === f) groups.delete(f.group)
        }
      }

      // ─────────────────────────── resolve ───────────────────────────

      const endFlight = (f: Flight): void => {
        flights.delete(f.id)
        for (const sub of f.subs) ctx.cancel(sub)
        f.subs.clear()
        if (f.kind === 'resolve') {
          f.cancelSoft?.()
          if (groups.get(f.group) === f) groups.delete(f.group)
          for (const w of f.waiters) waiterFlight.delete(w)
        } else {
          waiterFlight.delete(f.waiter)
          publishing.delete(f.key)
        }
        f.machine.stop()
        if (f.kind === 'publish') startQueuedPublish(f.key)
      }

      const settleResolve = (f: ResolveFlight): void => {
        const snap = f.machine.getSnapshot()
        if (snap.status !== 'done') return
        const { result, failure: fail } = snap.context
        if (result !== undefined && f.answerKey !== undefined && !f.stale && !expired(ctx.clock, f.expiresAt)) {
          answers.set(f.answerKey, { reply: { ...result, source: 'cache' }, expiresAt: f.expiresAt, names: f.names })
        }
        for (const w of f.waiters) {
          if (result !== undefined) ctx.reply(w, result)
          else ctx.fail(w, fail ?? failure('failed', 'the resolve ended without a result'))
        }
        endFlight(f)
      }

      const startResolve = (id: QueryId, cmd: IpnsResolve, deadline: number): void => {
        const answerKey = cmd.offline === true ? undefined : `${cmd.name}\u0000${cmd.recursive !== false}`
        if (answerKey !== undefined && cmd.nocache !== true) {
          const hit = answers.get(answerKey)
          if (hit !== undefined) {
            if (!expired(ctx.clock, hit.expiresAt)) {
              counters.resolves++
              counters.cacheHits++
              ctx.reply(id, hit.reply)
              return
            }
            answers.delete(answerKey)
          }
        }
        const target = parseTarget(cmd.name)
        const parsed = { path: target.path }
        const name = target.kind === 'name' ? target.name : target.domain
        const quorum = cmd.quorum ?? defaultQuorum
        const group = `${name}|${parsed.path}|${cmd.nocache === true}|${cmd.offline === true}|${cmd.recursive !== false}|${quorum}`
        counters.resolves++
        const joined = groups.get(group)
        if (joined !== undefined && joined.waiters.size < maxWaiters && deadline <= joined.deadline + JOIN_SLACK_MS) {
          counters.shared++
          joined.waiters.add(id)
          waiterFlight.set(id, joined.id)
          return
        }
        if (flights.size >= maxFlights) {
          ctx.fail(id, failure('overloaded', `${maxFlights} resolves and publishes are in flight already`))
          return
        }
        const f: ResolveFlight = {
          kind: 'resolve', id, group, machine: undefined as unknown as Actor<ResolveMachine>, waiters: new Set([id]),
          deadline, subs: new Set(), stream: undefined, hop: 0, localPending: 0, cancelSoft: undefined,
          answerKey, expiresAt: NEVER, names: [], stale: false
        }
        // answer with the best found a little before the deadline, rather than time out with nothing
        const armSoft = (): void => {
          const now = ctx.clock.now()
          const soft = deadline - Math.max(5, Math.min(250, (deadline - now) * 0.1))
          if (soft > now) f.cancelSoft = ctx.after(soft - now, { type: 'r.soft', flight: id })
        }
        const startQuery = (c: ResolveContext): void => {
          f.hop = c.hops
          // a hop queried after the soft deadline fired gets one of its own, in what time is left
          if (c.hops > 0 && f.cancelSoft === undefined) armSoft()
          const hop = c.hops
          if (c.offline) {
            f.localPending = 2
            for (const kind of ['published', 'resolved'] as const) {
              f.subs.add(ctx.ask({ type: 'store.get', kind, name: c.name }, { deadline: f.deadline }, result => ({ type: 'r.local', flight: f.id, hop, result })))
            }
            return
          }
          counters.dhtQueries++
          const routingKey = parseName(c.name).name.toRoutingKey()
          // as many requests in flight as answers needed (own copy included): a
          // peer that answers without a value makes room for the next one
          f.stream = ctx.stream({ type: 'dht.getValues', key: routingKey, want: Math.min(MAX_GET_VALUES_WANT, c.quorum) }, { deadline: f.deadline },
            item => ({ type: 'r.value', flight: f.id, hop, value: item.value, from: item.from }),
            result => ({ type: 'r.end', flight: f.id, hop, result }))
          f.subs.add(f.stream)
        }
        const machine = resolveMachine.provide({
          guards: {
            cached: ({ context }) => !context.nocache && !context.offline && fresh(context.name) !== undefined
          },
          actions: {
            startQuery: ({ context }) => { startQuery(context) },
            stopQuery: () => {
              if (f.stream !== undefined) {
                ctx.cancel(f.stream)
                f.subs.delete(f.stream)
                f.stream = undefined
              }
            },
            requestVerify: ({ context }, params) => {
              const c = context.candidates.get(params.key)
              if (c === undefined || c.from.length !== 1 || c.state !== 'verifying') return
              const hop = context.hops
              f.subs.add(ctx.ask({ type: 'record.verify', name: context.name, record: params.record }, { deadline: f.deadline },
                result => ({ type: 'r.verified', flight: f.id, hop, key: params.key, result })))
            },
            resolveDnslink: ({ context }) => {
              // the DNSLink actor keeps its own cache; the answer is fresh for its TTL (known when it comes)
              f.hop = context.hops
              const hop = context.hops
              f.subs.add(ctx.ask({ type: 'dnslink.resolve', domain: context.name, nocache: context.nocache }, { deadline: f.deadline },
                result => ({ type: 'r.dnslink', flight: f.id, hop, result })))
            },
            takeCached: assign(({ context }) => {
              counters.cacheHits++
              const e = cache.get(context.name)
              if (e !== undefined) hopDone(f, context.name, e.expiresAt)
              return { hop: fresh(context.name) }
            }),
            keep: ({ context }) => {
              const hop = context.hop
              if (hop === undefined) return
              hopDone(f, hop.name, remember(hop, f.stale))
              if (hop.source !== 'dht') return
              side(() => {
                ctx.ask({ type: 'store.put', entry: { kind: 'resolved', name: hop.name, record: hop.record, receivedAt: ctx.clock.wall(), sequence: hop.fields.sequence } },
                  { timeoutMs: 30_000 }, result => ({ type: 'side', what: 'store', result }))
              })
              if (hop.stale.length > 0) {
                for (let i = 0; i < hop.stale.length; i++) reject('older')
                counters.corrections++
                // the best record goes to the peers that answered with an older one, and only to them
                side(() => {
                  ctx.ask({ type: 'dht.putTo', key: parseName(hop.name).name.toRoutingKey(), value: hop.record, peers: hop.stale.slice(0, MAX_PUT_TO_PEERS) },
                    { timeoutMs: 30_000 }, result => ({ type: 'side', what: 'correct', result }))
                })
              }
            }
          }
        })
        f.machine = createActor(machine, {
          id,
          input: { id, name, rest: parsed.path, quorum, nocache: cmd.nocache === true, offline: cmd.offline === true, recursive: cmd.recursive !== false },
          inspect: inspect('resolve', id)
        })
        flights.set(id, f)
        groups.set(group, f)
        waiterFlight.set(id, id)
        armSoft()
        f.machine.start()
        settleResolve(f)
      }

      // ─────────────────────────── publish ───────────────────────────

      const settlePublish = (f: PublishFlight): void => {
        const snap = f.machine.getSnapshot()
        if (snap.status !== 'done') return
        const { result, failure: fail } = snap.context
        if (result !== undefined) {
          // again now that it is acknowledged: a resolve started since the signing may have read the older record
          forgetAnswers(result.name)
          ctx.reply(f.waiter, result)
        } else {
          ctx.fail(f.waiter, fail ?? failure('failed', 'the publish ended without a result'))
        }
        endFlight(f)
      }

      function startQueuedPublish (key: string): void {
        const queue = queuedPublishes.get(key)
        for (let next = queue?.shift(); next !== undefined; next = queue?.shift()) {
          waiterFlight.delete(next.id)
          if (!ctx.isOpen(next.id)) continue // its asker gave up while it waited
          if (queue?.length === 0) queuedPublishes.delete(key)
          startPublish(next.id, next.cmd, next.deadline)
          return
        }
        queuedPublishes.delete(key)
      }

      function startPublish (id: QueryId, cmd: IpnsPublish, deadline: number): void {
        const key = cmd.key ?? 'self'
        if (publishing.has(key)) {
          const queue = queuedPublishes.get(key) ?? []
          if (queue.length >= MAX_QUEUED_PUBLISHES) {
            ctx.fail(id, failure('overloaded', `${MAX_QUEUED_PUBLISHES} publishes of key '${key}' are waiting already`))
            return
          }
          queue.push({ id, cmd, deadline })
          queuedPublishes.set(key, queue)
          return
        }
        if (flights.size >= maxFlights) {
          ctx.fail(id, failure('overloaded', `${maxFlights} resolves and publishes are in flight already`))
          return
        }
        counters.publishes++
        publishing.add(key)
        const f: PublishFlight = { kind: 'publish', id, key, machine: undefined as unknown as Actor<PublishMachine>, waiter: id, deadline, subs: new Set() }
        const ask = (command: AskCommand, toMsg: (r: Settled<unknown>) => IpnsMsg): void => {
          f.subs.add(ctx.ask(command, { deadline: f.deadline }, toMsg))
        }
        const machine = publishMachine.provide({
          actions: {
            loadKey: () => { ask({ type: 'key.list' }, result => ({ type: 'p.key', flight: id, result })) },
            loadSeen: ({ context }) => {
              for (const kind of ['published', 'resolved'] as const) {
                ask({ type: 'store.get', kind, name: context.name ?? '' }, result => ({ type: 'p.seen', flight: id, result }))
              }
            },
            sign: ({ context }) => {
              const cached = context.name === undefined ? undefined : cache.get(context.name)
              let seen = context.seen
              if (cached !== undefined && (seen === undefined || cached.hop.fields.sequence > seen)) seen = cached.hop.fields.sequence
              const c: RecordCreate = { type: 'record.create', key: context.key, value: context.value, sequence: nextSequence(seen) }
              if (context.lifetimeMs !== undefined) c.lifetimeMs = context.lifetimeMs
              if (context.ttlMs !== undefined) c.ttlMs = context.ttlMs
              ask(c, result => ({ type: 'p.signed', flight: id, result }))
            },
            store: ({ context }) => {
              const c = context.created
              if (c === undefined) return
              const entry: StoredRecord = { kind: 'published', name: c.name, record: c.record, receivedAt: ctx.clock.wall(), sequence: c.sequence, key: context.key, value: context.value }
              if (context.lifetimeMs !== undefined) entry.lifetimeMs = context.lifetimeMs
              if (context.ttlMs !== undefined) entry.ttlMs = context.ttlMs
              ask({ type: 'store.put', entry }, result => ({ type: 'p.stored', flight: id, result }))
            },
            put: ({ context }) => {
              const c = context.created
              if (c === undefined) return
              ask({ type: 'dht.put', key: parseName(c.name).name.toRoutingKey(), value: c.record }, result => ({ type: 'p.put', flight: id, result }))
            }
          }
        })
        f.machine = createActor(machine, {
          id,
          input: { id, key, value: cmd.value, lifetimeMs: cmd.lifetimeMs, ttlMs: cmd.ttlMs, offline: cmd.offline === true },
          inspect: inspect('publish', id)
        })
        flights.set(id, f)
        waiterFlight.set(id, id)
        f.machine.start()
        settlePublish(f)
      }

      const onPublishMsg = (f: PublishFlight, m: Extract<IpnsMsg, { type: `p.${string}` }>): void => {
        const r = m.result
        if (!r.ok && m.type !== 'p.seen') {
          f.machine.send({ type: 'FAILED', failure: r.failure })
        } else if (m.type === 'p.key') {
          const ctxName = f.machine.getSnapshot().context.key
          const info = (r.ok ? (r.value as { keys: KeyInfo[] }).keys : []).find(k => k.name === ctxName)
          if (info === undefined) f.machine.send({ type: 'FAILED', failure: failure('not-found', `no key named '${ctxName}'`) })
          else f.machine.send({ type: 'KEY', name: info.ipnsName })
        } else if (m.type === 'p.seen') {
          if (!r.ok && r.failure.kind !== 'not-found') f.machine.send({ type: 'FAILED', failure: r.failure })
          else f.machine.send({ type: 'SEEN', sequence: r.ok ? (r.value as StoredRecord).sequence : undefined })
        } else if (m.type === 'p.signed') {
          const created = (r as { ok: true, value: unknown }).value as CreatedRecordReply
          // what this node cached for the name is now older than what it publishes
          forgetAnswers(created.name)
          f.machine.send({ type: 'SIGNED', created })
        } else if (m.type === 'p.stored') {
          f.machine.send({ type: 'STORED' })
        } else {
          f.machine.send({ type: 'PUT', peers: ((r as { ok: true, value: unknown }).value as { peers: number }).peers })
        }
        settlePublish(f)
      }

      // ─────────────────────────── messages ───────────────────────────

      const onResolveMsg = (f: ResolveFlight, m: Extract<IpnsMsg, { type: `r.${string}` }>): void => {
        const send = (ev: Parameters<Actor<ResolveMachine>['send']>[0]): void => {
          f.machine.send(ev)
          settleResolve(f)
        }
        switch (m.type) {
          case 'r.value':
            // an answer of an earlier hop's query, already queued when that query was stopped
            if (m.hop !== f.hop) return
            send({ type: 'VALUE', key: base64Of(m.value), value: m.value, from: m.from })
            return
          case 'r.end':
            if (m.hop !== f.hop) return
            f.stream = undefined
            send(m.result.ok ? { type: 'QUERY_END' } : { type: 'QUERY_END', failure: m.result.failure })
            return
          case 'r.verified':
            if (m.hop !== f.hop) return
            if (m.result.ok) send({ type: 'VERIFIED', key: m.key, fields: m.result.value as VerifiedRecord })
            else {
              reject(m.result.failure.code ?? m.result.failure.kind)
              send({ type: 'REJECTED', key: m.key, code: m.result.failure.code ?? m.result.failure.kind })
            }
            return
          case 'r.local':
            if (m.hop !== f.hop) return
            f.localPending--
            if (m.result.ok) {
              const rec = (m.result.value as StoredRecord).record
              f.machine.send({ type: 'VALUE', key: base64Of(rec), value: rec, from: 'local' })
            }
            if (f.localPending === 0) f.machine.send({ type: 'QUERY_END' })
            settleResolve(f)
            return
          case 'r.dnslink':
            if (m.hop !== f.hop) return
            if (m.result.ok) {
              const link = m.result.value as DnsLinkReply
              hopDone(f, f.machine.getSnapshot().context.name, expiryIn(ctx.clock, link.ttlMs))
              send({ type: 'DNSLINK', value: link.value, ttlMs: link.ttlMs })
            } else {
              send({ type: 'DNSLINK_FAILED', failure: m.result.failure })
            }
            return
          case 'r.soft':
            f.cancelSoft = undefined
            send({ type: 'SOFT_DEADLINE' })
        }
      }

      return {
        receive: msg => {
          if (msg.kind === 'command') {
            const { id, command, deadline } = msg.env
            if (command.type === 'ipns.resolve') startResolve(id, command, deadline)
            else startPublish(id, command, deadline)
            return
          }
          if (msg.kind === 'cancel') {
            const fid = waiterFlight.get(msg.id)
            const f = fid === undefined ? undefined : flights.get(fid)
            waiterFlight.delete(msg.id)
            if (f === undefined) return
            if (f.kind === 'resolve') {
              f.waiters.delete(msg.id)
              if (f.waiters.size === 0) endFlight(f)
            } else {
              endFlight(f)
            }
            return
          }
          const m = msg.msg
          if (m.type === 'side') {
            sideTasks--
            return
          }
          const f = flights.get(m.flight)
          if (f === undefined) return
          if (f.kind === 'resolve' && m.type.startsWith('r.')) onResolveMsg(f, m as Extract<IpnsMsg, { type: `r.${string}` }>)
          else if (f.kind === 'publish' && m.type.startsWith('p.')) onPublishMsg(f, m as Extract<IpnsMsg, { type: `p.${string}` }>)
        },
        status: () => ({ ...counters, rejected: { ...rejected }, inFlight: flights.size, cached: cache.size, maxHops: MAX_HOPS }),
        stop: () => {
          for (const f of [...flights.values()]) endFlight(f)
        }
      }
    }
  })
}

export type { PublishContext }

/**
 * A record's identity among the values of one resolve: its bytes in unpadded
 * base64 (multibase 'm' without the prefix), by Node's native encoder; the JS
 * one cost ~2 % of a resolver's CPU.
 */
function base64Of (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '')
}

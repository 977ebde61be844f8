/**
 * Resolve flights: one resolve machine per (name, options), shared by the
 * asks that join it while it runs (single flight), answered from the answer
 * cache when the whole answer is still fresh. The machine's effects are
 * asks through the bus (store, swarm's dht.getValues, verifier, dnslink);
 * their results come back as messages that become machine events here.
 */
import { assign, createActor } from 'xstate'
import { expired, expiryIn, NEVER } from '../runtime/expiry.js'
import { failure } from '../../messages/failure.js'
import { parseName } from '../../records/name.js'
import { MAX_GET_VALUES_WANT, MAX_PUT_TO_PEERS } from '../../messages/swarm.js'
import { resolveMachine } from './resolve-machine.js'
import { better, LOCAL_FROM, ROUTER_FROM } from './resolve-select.js'
import { parseTarget } from './target.js'
import { resolveImprover } from './resolve-improver.js'
import { streamOpening, streamSettle, streamStep } from './resolve-stream.js'
import type { ResolveImprover } from './resolve-improver.js'
import type { Actor } from 'xstate'
import type { ReplyPort } from '../runtime/actor.js'
import type { ResolveContext, ResolveMachine } from './resolve-machine.js'
import type { IpnsState, ResolveFlight, ResolveMsg } from './ipns-state.js'
import type { IpnsResolve, IpnsResolveStream } from '../../messages/ipns.js'

/**
 * A resolve joins a running resolve of the same name only if its own deadline
 * is at most this much later: the flight answers by its first asker's deadline,
 * and an asker who gave itself much longer must not be answered that early.
 */
const JOIN_SLACK_MS = 1_000

export interface ResolveFlights {
  start(port: ReplyPort<IpnsResolve>, cmd: IpnsResolve, deadline: number): void
  /** an ipns.resolveStream (resolve-stream.ts) */
  startStream(port: ReplyPort<IpnsResolveStream>, cmd: IpnsResolveStream, deadline: number): void
  onMsg(f: ResolveFlight, m: ResolveMsg): void
  /** the DHT queries still improving resolves that answered at their settle time */
  readonly improver: ResolveImprover
}

export function resolveFlights (s: IpnsState): ResolveFlights {
  const { ctx, counters } = s
  const improver = resolveImprover(s)

  const settle = (f: ResolveFlight): void => {
    const snap = f.machine.getSnapshot()
    if (snap.status !== 'done') return
    const { result, failure: fail } = snap.context
    // the last record's bytes, for askers that want them (a DNSLink hop has none)
    const record = snap.context.hop?.record
    const reply = result !== undefined && f.withRecord && record !== undefined && record.byteLength > 0 ? { ...result, record } : result
    if (reply !== undefined && f.answerKey !== undefined && !f.stale && !expired(ctx.clock, f.expiresAt)) {
      s.answers.set(f.answerKey, { reply: { ...reply, source: 'cache' }, expiresAt: f.expiresAt, names: f.names })
    }
    streamSettle(f, reply, snap.context.hop, fail)
    for (const w of f.waiters.values()) {
      if (reply !== undefined) w.reply(reply)
      else w.fail(fail ?? failure('failed', 'the resolve ended without a result'))
    }
    s.endFlight(f)
  }

  const start = (port: ReplyPort<IpnsResolve>, cmd: IpnsResolve, deadline: number): void => {
    const id = port.id
    const withRecord = cmd.record === true
    // an offline resolve reads the answers an online one cached, and caches none of its own (its repo record may be past its TTL)
    const cacheKey = `${cmd.name}\u0000${cmd.recursive !== false}${withRecord ? '\u0000r' : ''}`
    const answerKey = cmd.offline === true ? undefined : cacheKey
    if (cmd.nocache !== true) {
      const hit = s.answers.get(cacheKey)
      if (hit !== undefined) {
        if (!expired(ctx.clock, hit.expiresAt)) {
          counters.resolves++
          counters.cacheHits++
          port.reply(hit.reply)
          return
        }
        s.answers.delete(cacheKey)
      }
    }
    const target = parseTarget(cmd.name)
    const name = target.kind === 'name' ? target.name : target.domain
    const quorum = cmd.quorum ?? s.defaultQuorum
    const group = `${name}|${target.path}|${cmd.nocache === true}|${cmd.offline === true}|${cmd.recursive !== false}|${quorum}${withRecord ? '|r' : ''}`
    counters.resolves++
    const joined = s.groups.get(group)
    if (joined !== undefined && joined.waiters.size < s.maxWaiters && deadline <= joined.deadline + JOIN_SLACK_MS) {
      counters.shared++
      joined.waiters.set(id, port)
      s.waiterFlight.set(id, joined.id)
      return
    }
    launch(id, { ...cmd, quorum }, deadline, answerKey, group, port, undefined)
  }

  const startStream = (port: ReplyPort<IpnsResolveStream>, cmd: IpnsResolveStream, deadline: number): void => {
    const id = port.id
    const withRecord = cmd.record === true
    counters.resolves++
    const answerKey = `${cmd.name}\u0000${cmd.recursive !== false}${withRecord ? '\u0000r' : ''}`
    launch(id, { type: 'ipns.resolve', name: cmd.name, nocache: cmd.nocache === true, recursive: cmd.recursive !== false, quorum: cmd.quorum ?? s.defaultQuorum, record: withRecord },
      deadline, answerKey, `stream|${id}`, undefined, port)
  }

  /** a new flight and its machine: for an ask (`port`, joinable under `group`) or a stream (`streamPort`, alone) */
  const launch = (id: string, cmd: IpnsResolve & { quorum: number }, deadline: number, answerKey: string | undefined, group: string,
    port: ReplyPort<IpnsResolve> | undefined, streamPort: ReplyPort<IpnsResolveStream> | undefined): void => {
    const withRecord = cmd.record === true
    const target = parseTarget(cmd.name)
    const parsed = { path: target.path }
    const name = target.kind === 'name' ? target.name : target.domain
    const quorum = cmd.quorum
    if (s.flights.size >= s.maxFlights) {
      (port ?? streamPort)?.fail(failure('overloaded', `${s.maxFlights} resolves and publishes are in flight already`))
      return
    }
    const f: ResolveFlight = {
      kind: 'resolve', id, group, machine: undefined as unknown as Actor<ResolveMachine>, waiters: new Map(port === undefined ? [] : [[id, port]]),
      deadline, subs: new Set(), stream: undefined, hop: 0, localPending: 0, cancelSoft: undefined, cancelSettle: undefined, improve: false,
      answerKey, expiresAt: NEVER, names: [], stale: false, withRecord, streamPort, streamed: undefined, streamedHop: 0, lastItem: undefined
    }
    // answer with the best found a little before the deadline, rather than time out with nothing
    const armSoft = (): void => {
      const now = ctx.clock.now()
      const soft = deadline - Math.max(5, Math.min(250, (deadline - now) * 0.1))
      if (soft > now) f.cancelSoft = ctx.after(soft - now, { type: 'r.soft', flight: id })
    }
    const readRepo = (c: ResolveContext): void => {
      f.hop = c.hops
      // a hop read after the soft deadline fired gets one of its own, in what time is left
      if (c.hops > 0 && f.cancelSoft === undefined) armSoft()
      const hop = c.hops
      f.localPending = 2
      for (const kind of ['published', 'resolved'] as const) {
        f.subs.add(ctx.ask({ type: 'store.get', kind, name: c.name }, { deadline: f.deadline }, result => ({ type: 'r.local', flight: f.id, hop, result })))
      }
    }
    const startQuery = (c: ResolveContext): void => {
      const hop = c.hops
      counters.dhtQueries++
      f.cancelSettle?.()
      f.cancelSettle = undefined
      f.improve = false
      if (c.routers) {
        // every HTTP router at once, beside the DHT (the routers actor fans out and verifies)
        counters.routerQueries = (counters.routerQueries ?? 0) + 1
        f.subs.add(ctx.ask({ type: 'routers.getIpns', name: c.name }, { deadline: f.deadline }, result => ({ type: 'r.router', flight: f.id, hop, result })))
      }
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
        // a stream asks the network for its first hop even when it is cached (the cached answer is its first item)
        cached: ({ context }) => !context.nocache && !(context.live && context.hops === 0) && s.fresh(context.name) !== undefined
      },
      actions: {
        readRepo: ({ context }) => { readRepo(context) },
        startQuery: ({ context }) => { startQuery(context) },
        stopQuery: ({ context }) => {
          if (f.improve && f.stream !== undefined && improver.room()) {
            // answered at the settle time: the DHT query goes on in the background, to keep a better record if one comes
            const done = [...context.candidates].filter(([, c]) => c.state !== 'verifying').map(([k]) => k)
            improver.adopt(f.id, f.stream, context.name, context.hops, done)
            f.subs.delete(f.stream)
            f.stream = undefined
            return
          }
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
          f.subs.add(ctx.ask({ type: 'dnslink.resolve', domain: context.name, nocache: context.nocache, ...(context.offline ? { offline: true } : {}) }, { deadline: f.deadline },
            result => ({ type: 'r.dnslink', flight: f.id, hop, result })))
        },
        takeCached: assign(({ context }) => {
          counters.cacheHits++
          const e = s.cache.get(context.name)
          if (e !== undefined) s.hopDone(f, context.name, e.expiresAt)
          return { hop: s.fresh(context.name) }
        }),
        keep: ({ context }) => {
          const hop = context.hop
          if (hop === undefined) return
          s.hopDone(f, hop.name, s.remember(hop, f.stale))
          improver.answered(f.id, hop)
          if (hop.source !== 'dht' && hop.source !== 'router') return
          // a router that answered with an older valid record gets the better one
          if (hop.source === 'dht' && [...context.candidates.values()].some(c => c.state === 'valid' && c.fields !== undefined && c.from.some(p => p.startsWith(ROUTER_FROM)) && better(hop.fields, c.fields))) {
            s.correctRouters(hop.name, hop.record)
          }
          s.side(() => {
            ctx.ask({ type: 'store.put', entry: { kind: 'resolved', name: hop.name, record: hop.record, receivedAt: ctx.clock.wall(), sequence: hop.fields.sequence } },
              { timeoutMs: 30_000 }, result => ({ type: 'side', what: 'store', result }))
          })
          if (hop.stale.length > 0) {
            for (let i = 0; i < hop.stale.length; i++) s.reject('older')
            counters.corrections++
            // the best record goes to the peers that answered with an older one, and only to them
            s.side(() => {
              ctx.ask({ type: 'dht.putTo', key: parseName(hop.name).name.toRoutingKey(), value: hop.record, peers: hop.stale.slice(0, MAX_PUT_TO_PEERS) },
                { timeoutMs: 30_000 }, result => ({ type: 'side', what: 'correct', result }))
            })
          }
        }
      }
    })
    f.machine = createActor(machine, {
      id,
      input: { id, name, rest: parsed.path, quorum, nocache: cmd.nocache === true, offline: cmd.offline === true, recursive: cmd.recursive !== false, routers: s.settleMs !== undefined, live: streamPort !== undefined },
      inspect: s.inspect('resolve', id)
    })
    s.flights.set(id, f)
    if (streamPort === undefined) s.groups.set(group, f)
    s.waiterFlight.set(id, id)
    if (streamPort !== undefined && !(cmd.nocache === true || target.kind !== 'name' || streamOpening(s, f, name, parsed.path, cmd.recursive !== false))) {
      s.endFlight(f)
      return
    }
    armSoft()
    f.machine.start()
    settle(f)
  }

  /**
   * One source has a valid record and the other is still out: a router's
   * record proved valid while the DHT queries, or the DHT ended with a valid
   * record while the routers have not answered. The resolve answers a settle
   * time later, with the best found by then.
   */
  const armSettle = (f: ResolveFlight): void => {
    // a stream waits for better records until its query ends: no settle time
    if (s.settleMs === undefined || f.cancelSettle !== undefined || f.streamPort !== undefined) return
    const snap = f.machine.getSnapshot()
    if (snap.status !== 'active' || snap.value !== 'querying') return
    const c = snap.context
    // the repo's records wait for no one: they are the fallback, not a source that answered
    const valid = [...c.candidates.values()].filter(x => x.state === 'valid' && x.from.some(p => p !== LOCAL_FROM))
    const fromRouter = valid.some(x => x.from.some(p => p.startsWith(ROUTER_FROM)))
    if (!fromRouter && !(c.queryEnded && c.routerPending && valid.length > 0)) return
    const hop = f.hop
    f.cancelSettle = ctx.after(s.settleMs, { type: 'r.settle', flight: f.id, hop })
  }

  const onMsg = (f: ResolveFlight, m: ResolveMsg): void => {
    const send = (ev: Parameters<Actor<ResolveMachine>['send']>[0]): void => {
      f.machine.send(ev)
      if (!streamStep(f)) {
        s.endFlight(f)
        return
      }
      settle(f)
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
        // an end that came past the deadline (a late timer on a busy loop) is
        // the deadline's: the lookup did not end in time, so "not found" would
        // claim more than is known (kubo says "context deadline exceeded")
        if (ctx.clock.now() >= f.deadline && (m.result.ok || m.result.failure.kind === 'not-found')) {
          send({ type: 'QUERY_END', failure: failure('timeout', `the deadline passed before the DHT lookup for /ipns/${f.machine.getSnapshot().context.name} ended`) })
        } else {
          send(m.result.ok ? { type: 'QUERY_END' } : { type: 'QUERY_END', failure: m.result.failure })
        }
        armSettle(f)
        return
      case 'r.router': {
        if (m.hop !== f.hop) return
        const r = m.result
        const name = f.machine.getSnapshot().context.name
        ctx.progress({ type: 'ipns:resolve:router', id: f.id, detail: r.ok ? { name, endpoint: r.value.endpoint, sequence: r.value.sequence.toString(), value: r.value.value } : { name, error: r.failure.message, kind: r.failure.kind } })
        if (r.ok) {
          counters.routerAnswers = (counters.routerAnswers ?? 0) + 1
          const key = base64Of(r.value.record)
          send({ type: 'ROUTER_VALUE', key, value: r.value.record, from: `${ROUTER_FROM}${r.value.endpoint}` })
          // the same bytes may have proved valid already (a peer's copy)
          armSettle(f)
        } else {
          send({ type: 'ROUTER_END', failure: r.failure })
        }
        return
      }
      case 'r.settle':
        if (m.hop !== f.hop) return
        f.cancelSettle = undefined
        f.improve = true
        send({ type: 'SETTLE_TIME' })
        return
      case 'r.verified':
        if (m.hop !== f.hop) return
        if (m.result.ok) {
          send({ type: 'VERIFIED', key: m.key, fields: m.result.value })
          armSettle(f)
        }
        else {
          s.reject(m.result.failure.code ?? m.result.failure.kind)
          send({ type: 'REJECTED', key: m.key, code: m.result.failure.code ?? m.result.failure.kind })
        }
        return
      case 'r.local': {
        // the repo's records for the hop being read (not-found is the usual answer)
        if (m.hop !== f.hop || f.localPending === 0) return
        f.localPending--
        const last = f.localPending === 0
        if (m.result.ok) {
          const { record, receivedAt } = m.result.value
          f.machine.send({ type: 'STORED', key: base64Of(record), value: record, receivedAt })
        }
        if (last) f.machine.send({ type: 'REPO_END', wall: ctx.clock.wall() })
        if (!streamStep(f)) {
          s.endFlight(f)
          return
        }
        settle(f)
        return
      }
      case 'r.dnslink':
        if (m.hop !== f.hop) return
        if (m.result.ok) {
          const link = m.result.value
          s.hopDone(f, f.machine.getSnapshot().context.name, expiryIn(ctx.clock, link.ttlMs))
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

  return { start, startStream, onMsg, improver }
}

/**
 * A record's identity among the values of one resolve: its bytes in unpadded
 * base64 (multibase 'm' without the prefix), by Node's native encoder; the JS
 * one cost ~2 % of a resolver's CPU.
 */
function base64Of (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '')
}

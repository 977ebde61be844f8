/**
 * Publish flights: one publish machine per ipns.publish, at most one at a
 * time per key (each must see the sequence the previous one stored; the
 * others wait in a bounded queue). The machine's effects are asks through
 * the bus (keys, store, swarm); their results come back as messages that
 * become machine events here.
 */
import { createActor } from 'xstate'
import { failure } from '../../messages/failure.js'
import { parseName } from '../../records/name.js'
import { nextSequence, publishMachine } from './publish-machine.js'
import type { Actor } from 'xstate'
import type { ReplyPort, Settled } from '../runtime/actor.js'
import type { PublishMachine } from './publish-machine.js'
import type { IpnsMsg, IpnsState, PublishFlight, PublishMsg } from './ipns-state.js'
import type { AskCommand, AskType, ReplyOf } from '../../messages/commands.js'
import type { IpnsPublish } from '../../messages/ipns.js'
import type { RecordCreate } from '../../messages/records.js'
import type { StoredRecord } from '../../messages/store.js'

/** publishes of one key waiting for the one in flight */
const MAX_QUEUED_PUBLISHES = 64
/** DHT puts that go on after a router acknowledged their publish; beyond, a publish waits for its DHT put as well */
export const MAX_BACKGROUND_PUTS = 64

export interface PublishFlights {
  start(port: ReplyPort<IpnsPublish>, cmd: IpnsPublish, deadline: number): void
  onMsg(f: PublishFlight, m: PublishMsg): void
  /** the end of a DHT put whose publish was acknowledged already: true when it was one */
  onBackground(m: PublishMsg): boolean
  /** cancel the DHT puts still running in the background (the actor stops) */
  stop(): void
}

export function publishFlights (s: IpnsState): PublishFlights {
  const { ctx, counters } = s

  const settle = (f: PublishFlight): void => {
    const snap = f.machine.getSnapshot()
    if (snap.status !== 'done') return
    const { result, failure: fail } = snap.context
    if (result !== undefined) {
      // again now that it is acknowledged: a resolve started since the signing may have read the older record
      s.forgetAnswers(result.name)
      f.waiter.reply(f.routerOutcomes !== undefined || f.routersPut !== undefined ? { ...result, routers: f.routerOutcomes ?? [], dhtPending: f.dhtPending === true } : result)
    } else {
      f.waiter.fail(fail ?? failure('failed', 'the publish ended without a result'))
    }
    s.endFlight(f)
  }

  /** the next publish of this key that is still wanted, now that the one in flight ended */
  s.afterPublish = (key: string): void => {
    const queue = s.queuedPublishes.get(key)
    for (let next = queue?.shift(); next !== undefined; next = queue?.shift()) {
      s.waiterFlight.delete(next.port.id)
      if (!next.port.isOpen()) continue // its asker gave up while it waited
      if (queue?.length === 0) s.queuedPublishes.delete(key)
      start(next.port, next.cmd, next.deadline)
      return
    }
    s.queuedPublishes.delete(key)
  }

  const start = (port: ReplyPort<IpnsPublish>, cmd: IpnsPublish, deadline: number): void => {
    const id = port.id
    const key = cmd.key ?? 'self'
    if (s.publishing.has(key)) {
      const queue = s.queuedPublishes.get(key) ?? []
      if (queue.length >= MAX_QUEUED_PUBLISHES) {
        port.fail(failure('overloaded', `${MAX_QUEUED_PUBLISHES} publishes of key '${key}' are waiting already`))
        return
      }
      queue.push({ port, cmd, deadline })
      s.queuedPublishes.set(key, queue)
      return
    }
    if (s.flights.size >= s.maxFlights) {
      port.fail(failure('overloaded', `${s.maxFlights} resolves and publishes are in flight already`))
      return
    }
    counters.publishes++
    s.publishing.add(key)
    const f: PublishFlight = { kind: 'publish', id, key, machine: undefined as unknown as Actor<PublishMachine>, waiter: port, deadline, subs: new Set() }
    /** an ask of the flight, cancelled when it ends; its reply comes back typed */
    const ask = <C extends AskCommand>(command: C, toMsg: (r: Settled<ReplyOf<C['type'] & AskType>>) => IpnsMsg): void => {
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
          const cached = context.name === undefined ? undefined : s.cache.get(context.name)
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
          f.dhtPutQuery = ctx.ask({ type: 'dht.put', key: parseName(c.name).name.toRoutingKey(), value: c.record }, { deadline: f.deadline }, result => ({ type: 'p.put', flight: id, result }))
          f.subs.add(f.dhtPutQuery)
          // and to every HTTP router, in parallel
          if (s.settleMs !== undefined) ask({ type: 'routers.putIpns', name: c.name, record: c.record }, result => ({ type: 'p.routers', flight: id, result }))
        }
      }
    })
    f.machine = createActor(machine, {
      id,
      input: { id, key, value: cmd.value, lifetimeMs: cmd.lifetimeMs, ttlMs: cmd.ttlMs, offline: cmd.offline === true },
      inspect: s.inspect('publish', id)
    })
    s.flights.set(id, f)
    s.waiterFlight.set(id, id)
    f.machine.start()
    settle(f)
  }

  /**
   * With routers, the publish is acknowledged once the routers have answered
   * (each one's outcome goes in the reply) and the record is held by the
   * store (it is already) and by at least one router or the DHT: a router
   * that took it acknowledges at once, the DHT put, if it has not answered,
   * going on in the background (dhtPending) until the ask's deadline. When
   * no router took it, the DHT put decides; it fails only when neither did.
   */
  const onPut = (f: PublishFlight, m: Extract<PublishMsg, { type: 'p.put' | 'p.routers' }>): void => {
    if (m.type === 'p.put') f.dhtPut = m.result
    else {
      f.routersPut = m.result
      const outcomes = m.result.ok ? m.result.value.outcomes : undefined
      if (outcomes !== undefined) f.routerOutcomes = outcomes
      ctx.progress({ type: 'ipns:publish:routers', id: f.id, detail: m.result.ok ? { accepted: m.result.value.accepted, outcomes: m.result.value.outcomes } : { error: m.result.failure.message, kind: m.result.failure.kind } })
    }
    const dht = f.dhtPut
    const routers = f.routersPut
    if (routers === undefined) return
    if (dht === undefined) {
      if (!routers.ok || s.backgroundPuts.size >= MAX_BACKGROUND_PUTS || f.dhtPutQuery === undefined) return
      // a router holds it: acknowledged now; the DHT put outlives the flight
      const name = f.machine.getSnapshot().context.name ?? ''
      f.subs.delete(f.dhtPutQuery)
      s.backgroundPuts.set(f.id, { query: f.dhtPutQuery, name })
      f.dhtPending = true
      counters.dhtPutsBehind = (counters.dhtPutsBehind ?? 0) + 1
      f.machine.send({ type: 'PUT', peers: 0 })
      settle(f)
      return
    }
    if (dht.ok) f.machine.send({ type: 'PUT', peers: dht.value.peers })
    else if (routers.ok) f.machine.send({ type: 'PUT', peers: 0 })
    else f.machine.send({ type: 'FAILED', failure: failure(dht.failure.kind, `${dht.failure.message}; and no HTTP router took it: ${routers.failure.message}`.slice(0, 2000)) })
    settle(f)
  }

  const onMsg = (f: PublishFlight, m: PublishMsg): void => {
    if (s.settleMs !== undefined && (m.type === 'p.put' || m.type === 'p.routers')) {
      onPut(f, m)
      return
    }
    if (m.type === 'p.seen') {
      const r = m.result
      if (!r.ok && r.failure.kind !== 'not-found') f.machine.send({ type: 'FAILED', failure: r.failure })
      else f.machine.send({ type: 'SEEN', sequence: r.ok ? r.value.sequence : undefined })
      settle(f)
      return
    }
    if (!m.result.ok) {
      f.machine.send({ type: 'FAILED', failure: m.result.failure })
      settle(f)
      return
    }
    switch (m.type) {
      case 'p.key': {
        const keyName = f.machine.getSnapshot().context.key
        const info = m.result.value.keys.find(k => k.name === keyName)
        if (info === undefined) f.machine.send({ type: 'FAILED', failure: failure('not-found', `no key named '${keyName}'`) })
        else f.machine.send({ type: 'KEY', name: info.ipnsName })
        break
      }
      case 'p.signed': {
        const created = m.result.value
        // what this node cached for the name is now older than what it publishes
        s.forgetAnswers(created.name)
        f.machine.send({ type: 'SIGNED', created })
        break
      }
      case 'p.stored':
        f.machine.send({ type: 'STORED' })
        break
      case 'p.put':
        f.machine.send({ type: 'PUT', peers: m.result.value.peers })
    }
    settle(f)
  }

  const onBackground = (m: PublishMsg): boolean => {
    if (m.type !== 'p.put') return false
    const b = s.backgroundPuts.get(m.flight)
    if (b === undefined) return false
    s.backgroundPuts.delete(m.flight)
    if (m.result.ok) counters.dhtPutsBehindOk = (counters.dhtPutsBehindOk ?? 0) + 1
    else counters.dhtPutsBehindFailed = (counters.dhtPutsBehindFailed ?? 0) + 1
    ctx.progress({ type: 'ipns:publish:dht', id: m.flight, detail: m.result.ok ? { name: b.name, peers: m.result.value.peers } : { name: b.name, error: m.result.failure.message, kind: m.result.failure.kind } })
    return true
  }

  const stop = (): void => {
    for (const b of s.backgroundPuts.values()) ctx.cancel(b.query)
    s.backgroundPuts.clear()
  }

  return { start, onMsg, onBackground, stop }
}

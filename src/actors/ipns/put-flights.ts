/**
 * Put flights: ipns.put, a record signed elsewhere (a Routing V1 PUT). No
 * machine: a straight line of asks through the bus, each result back as a
 * message —
 *
 *   record.verify (signature, name, EOL) ─▶ store.get published + resolved
 *   (and the hop cache): refused if this node holds a higher sequence ─▶
 *   store.put as 'resolved' (durable) ─▶ forget cached answers ─▶ dht.put
 *   (unless offline) ─▶ reply
 *
 * Puts of one name run one at a time (each must see what the previous one
 * stored), at most 64 waiting.
 */
import { failure } from '../../messages/failure.js'
import { parseName } from '../../records/name.js'
import type { ReplyPort, Settled } from '../runtime/actor.js'
import type { IpnsMsg, IpnsState, PutFlight, PutMsg } from './ipns-state.js'
import type { AskCommand, AskType, ReplyOf } from '../../messages/commands.js'
import type { IpnsPut } from '../../messages/ipns.js'

const MAX_QUEUED_PUTS = 64

export interface PutFlights {
  start(port: ReplyPort<IpnsPut>, cmd: IpnsPut, deadline: number): void
  onMsg(f: PutFlight, m: PutMsg): void
}

export function putFlights (s: IpnsState): PutFlights {
  const { ctx } = s
  const queued = new Map<string, Array<{ port: ReplyPort<IpnsPut>, cmd: IpnsPut, deadline: number }>>()

  const ask = <C extends AskCommand>(f: PutFlight, command: C, toMsg: (r: Settled<ReplyOf<C['type'] & AskType>>) => IpnsMsg): void => {
    f.subs.add(ctx.ask(command, { deadline: f.deadline }, toMsg))
  }

  s.afterPut = (name: string): void => {
    const queue = queued.get(name)
    for (let next = queue?.shift(); next !== undefined; next = queue?.shift()) {
      s.waiterFlight.delete(next.port.id)
      if (!next.port.isOpen()) continue
      if (queue?.length === 0) queued.delete(name)
      start(next.port, next.cmd, next.deadline)
      return
    }
    queued.delete(name)
  }

  const start = (port: ReplyPort<IpnsPut>, cmd: IpnsPut, deadline: number): void => {
    const name = parseName(cmd.name).name.format('base36')
    if (s.putting.has(name)) {
      const queue = queued.get(name) ?? []
      if (queue.length >= MAX_QUEUED_PUTS) {
        port.fail(failure('overloaded', `${MAX_QUEUED_PUTS} puts of ${name} are waiting already`))
        return
      }
      queue.push({ port, cmd, deadline })
      queued.set(name, queue)
      return
    }
    if (s.flights.size >= s.maxFlights) {
      port.fail(failure('overloaded', `${s.maxFlights} resolves and publishes are in flight already`))
      return
    }
    const f: PutFlight = {
      kind: 'put', id: port.id, name, record: cmd.record, offline: cmd.offline === true, waiter: port, deadline,
      subs: new Set(), verified: undefined, awaiting: 2, seen: undefined
    }
    s.putting.add(name)
    s.flights.set(f.id, f)
    s.waiterFlight.set(f.id, f.id)
    ask(f, { type: 'record.verify', name, record: cmd.record }, result => ({ type: 'u.verified', flight: f.id, result }))
  }

  const fail = (f: PutFlight, why: Parameters<typeof f.waiter.fail>[0]): void => {
    f.waiter.fail(why)
    s.endFlight(f)
  }

  const onMsg = (f: PutFlight, m: PutMsg): void => {
    if (m.type === 'u.seen') {
      const r = m.result
      if (!r.ok && r.failure.kind !== 'not-found') {
        fail(f, r.failure)
        return
      }
      if (r.ok && (f.seen === undefined || r.value.sequence > f.seen)) f.seen = r.value.sequence
      if (--f.awaiting > 0) return
      const cached = s.cache.get(f.name)?.hop.fields.sequence
      const seen = cached !== undefined && (f.seen === undefined || cached > f.seen) ? cached : f.seen
      const verified = f.verified
      if (verified === undefined) return
      if (seen !== undefined && verified.sequence < seen) {
        fail(f, failure('invalid-record', `record sequence ${verified.sequence} is below the ${seen} this node holds for ${f.name}`, { code: 'older' }))
        return
      }
      ask(f, { type: 'store.put', entry: { kind: 'resolved', name: f.name, record: f.record, receivedAt: ctx.clock.wall(), sequence: verified.sequence } },
        result => ({ type: 'u.stored', flight: f.id, result }))
      return
    }
    if (!m.result.ok) {
      fail(f, m.result.failure)
      return
    }
    switch (m.type) {
      case 'u.verified':
        f.verified = m.result.value
        for (const kind of ['published', 'resolved'] as const) {
          ask(f, { type: 'store.get', kind, name: f.name }, result => ({ type: 'u.seen', flight: f.id, result }))
        }
        return
      case 'u.stored':
        // what this node cached for the name is older than what it now holds
        s.forgetAnswers(f.name)
        if (f.offline) {
          finish(f, 0)
          return
        }
        ask(f, { type: 'dht.put', key: parseName(f.name).name.toRoutingKey(), value: f.record }, result => ({ type: 'u.put', flight: f.id, result }))
        return
      case 'u.put':
        finish(f, m.result.value.peers)
    }
  }

  const finish = (f: PutFlight, peers: number): void => {
    s.forgetAnswers(f.name)
    f.waiter.reply({ name: f.name, sequence: f.verified?.sequence ?? 0n, peers })
    s.endFlight(f)
  }

  return { start, onMsg }
}

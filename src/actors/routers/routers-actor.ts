/**
 * The routers actor: the one owner of the Delegated Routing V1 HTTP clients
 * (one RouterPort per endpoint). Each ask becomes one operation with a leg
 * per endpoint, run at once; the policy is all here, on the injected clock
 * and rng, so a replay decides the same:
 *
 * - a leg's request gets the per-endpoint timeout (or what is left of the
 *   ask's deadline, if less); a timer of the actor aborts it;
 * - a transient failure (5xx, network, timeout) is tried again after a
 *   jittered, doubling backoff, a bounded number of times, while the
 *   deadline allows; not-found and refusals (4xx) are not;
 * - each endpoint has a circuit breaker (endpoint-health.ts) and a bound on
 *   requests in flight; a leg the breaker or the bound refuses is not made;
 * - every IPNS record goes to the verifier (record.verify, the check DHT
 *   answers get) for the name asked; an invalid one is counted and dropped;
 * - providers and peers stream from every endpoint, de-duplicated by peer id.
 */
import { defineActor } from '../runtime/actor.js'
import { failure } from '../../messages/failure.js'
import { EndpointHealth } from './endpoint-health.js'
import { reasonOf } from './router-port.js'
import { isRoutingMsg, routingFlights } from './routing-flights.js'
import { DEFAULT_ROUTER_STREAM_LIMIT, MAX_ROUTER_RECORD, nameOf, peerIdOf, validateRoutersCommand } from './validate.js'
import type { ActorDefinition, ReplyPort, Settled } from '../runtime/actor.js'
import type { Failure } from '../../messages/failure.js'
import type { QueryId } from '../../messages/ids.js'
import type { VerifiedRecord } from '../../messages/records.js'
import type { RouterPort, RouterPortPeer } from './router-port.js'
import type { RoutingMsg } from './routing-flights.js'
import type {
  RouterPutOutcome, RoutersFindPeers, RoutersFindProviders, RoutersGetIpns, RoutersPutIpns, RoutersStatus, RoutersStatusReply,
  RoutingFindPeer, RoutingFindProviders
} from '../../messages/routers.js'
import '../../messages/routers.js'
import '../../messages/records.js'

export const ROUTERS_ACTOR = 'routers'

/** The policy: plain data (recorded in a trace header). */
export interface RoutersSettings {
  /** per-endpoint request timeout, ms (default 5 s) */
  timeoutMs?: number
  /** tries after the first, on transient failures (default 2) */
  retries?: number
  /** first retry's backoff, ms (default 200; doubles per retry, jittered to 50–100 %) */
  backoffMs?: number
  /** cap on a backoff, ms (default 2 s) */
  maxBackoffMs?: number
  /** failures in a row that open an endpoint's breaker (default 5) */
  breakerThreshold?: number
  /** how long an open breaker waits before a trial request, ms (default 30 s) */
  breakerCooldownMs?: number
  /** requests in flight per endpoint (default 16); beyond it the endpoint is skipped, counted as overloaded */
  maxInFlight?: number
  /** operations served at once (default 256); beyond it asks fail with overloaded */
  maxPending?: number
}

export interface RoutersActorOptions extends RoutersSettings {
  ports: RouterPort[]
}

export type RoutersCommand = RoutersGetIpns | RoutersPutIpns | RoutersFindProviders | RoutersFindPeers | RoutersStatus | RoutingFindProviders | RoutingFindPeer

export type RoutersMsg =
  | { type: 'leg.bytes', op: QueryId, leg: number, seq: number, result: Settled<Uint8Array> }
  | { type: 'leg.put', op: QueryId, leg: number, seq: number, result: Settled<true> }
  | { type: 'leg.item', op: QueryId, leg: number, seq: number, item: RouterPortPeer }
  | { type: 'leg.end', op: QueryId, leg: number, seq: number, result: Settled<number> }
  | { type: 'leg.timeout', op: QueryId, leg: number, seq: number }
  | { type: 'leg.retry', op: QueryId, leg: number }
  | { type: 'leg.verified', op: QueryId, leg: number, record: Uint8Array, result: Settled<VerifiedRecord> }
  | RoutingMsg

interface Leg {
  index: number
  /** requests made */
  attempts: number
  /** bumped per request: a completion of an older one is stale */
  seq: number
  state: 'running' | 'waiting' | 'verifying' | 'ok' | 'failed'
  abort?: AbortController
  cancelTimer?: () => void
  /** the running request's timer is the operation's deadline, not the endpoint's timeout: its firing is no fault of the endpoint */
  cutByDeadline?: boolean
  items: number
  failure?: Failure
}

type Op =
  | { kind: 'get', id: QueryId, name: string, port: ReplyPort<RoutersGetIpns>, deadline: number, legs: Leg[] }
  | { kind: 'put', id: QueryId, name: string, record: Uint8Array, port: ReplyPort<RoutersPutIpns>, deadline: number, legs: Leg[] }
  | { kind: 'stream', what: 'providers' | 'peers', id: QueryId, target: string, port: ReplyPort<RoutersFindProviders | RoutersFindPeers>, deadline: number, legs: Leg[], seen: Set<string>, limit: number }

function positive (name: string, v: number | undefined, fallback: number, min = 1): number {
  if (v === undefined) return fallback
  if (!Number.isFinite(v) || v < min) throw new RangeError(`routers: ${name} must be a number ≥ ${min}`)
  return v
}

export function routersActor (options: RoutersActorOptions): ActorDefinition<RoutersCommand, RoutersMsg> {
  const timeoutMs = positive('timeoutMs', options.timeoutMs, 5_000)
  const retries = Math.floor(positive('retries', options.retries, 2, 0))
  const backoffMs = positive('backoffMs', options.backoffMs, 200, 0)
  const maxBackoffMs = positive('maxBackoffMs', options.maxBackoffMs, 2_000, 0)
  const breaker = { threshold: Math.floor(positive('breakerThreshold', options.breakerThreshold, 5)), cooldownMs: positive('breakerCooldownMs', options.breakerCooldownMs, 30_000, 0) }
  const maxInFlight = Math.floor(positive('maxInFlight', options.maxInFlight, 16))
  const maxPending = Math.floor(positive('maxPending', options.maxPending, 256))
  const ports = options.ports

  return defineActor<RoutersCommand, RoutersMsg>({
    name: ROUTERS_ACTOR,
    commands: ['routers.getIpns', 'routers.putIpns', 'routers.status'],
    streams: ['routers.findProviders', 'routers.findPeers', 'routing.findProviders', 'routing.findPeer'],
    mailbox: { capacity: 4096 },
    validate: validateRoutersCommand,
    start: ctx => {
      // fresh counters per incarnation: a restart starts with closed breakers
      const health = ports.map(p => new EndpointHealth(p.endpoint, breaker, maxInFlight))
      const ops = new Map<QueryId, Op>()
      // routing.*: the DHT and these routers at once (routing-flights.ts)
      const routing = routingFlights<RoutersMsg>(ctx, m => m)

      const status = (): RoutersStatusReply => ({ endpoints: health.map(h => h.status(ctx.clock.now())), pending: ops.size + routing.size })

      const stopLeg = (leg: Leg, outcome: 'aborted' | 'timeout' | undefined): void => {
        leg.cancelTimer?.()
        leg.cancelTimer = undefined
        if (leg.state === 'running') {
          leg.abort?.abort()
          health[leg.index]?.done(ctx.clock.now(), outcome ?? 'aborted')
        }
        leg.abort = undefined
        leg.seq++
      }

      const finishOp = (op: Op): void => {
        ops.delete(op.id)
        for (const leg of op.legs) if (leg.state === 'running' || leg.state === 'waiting' || leg.state === 'verifying') stopLeg(leg, undefined)
      }

      /** the failure of an operation no leg answered: the most telling of its legs' */
      const combined = (op: Op): Failure => {
        const fails = op.legs.map(l => ({ endpoint: ports[l.index]?.endpoint ?? '?', f: l.failure ?? failure('failed', 'no answer') }))
        const text = fails.map(x => `${x.endpoint}: ${x.f.message}`).join('; ').slice(0, 2000)
        if (fails.length === 0) return failure('failed', 'no routers are configured')
        if (fails.every(x => x.f.kind === 'overloaded')) return failure('overloaded', `every router is busy (${text})`)
        if (op.kind === 'get' && fails.some(x => x.f.kind === 'not-found' || x.f.kind === 'invalid-record')) return failure('not-found', `no router has a valid record for ${op.name} (${text})`)
        if (fails.every(x => x.f.kind === 'timeout')) return failure('timeout', `every router timed out (${text})`)
        return failure('failed', `no router answered (${text})`)
      }

      /** every leg has ended: settle what is left to settle */
      const maybeDone = (op: Op): void => {
        if (op.legs.some(l => l.state !== 'ok' && l.state !== 'failed')) return
        finishOp(op)
        switch (op.kind) {
          case 'get':
            op.port.fail(combined(op))
            return
          case 'put': {
            const outcomes: RouterPutOutcome[] = op.legs.map(l => ({
              endpoint: ports[l.index]?.endpoint ?? '?',
              ok: l.state === 'ok',
              attempts: l.attempts,
              ...(l.failure !== undefined ? { kind: l.failure.kind, error: l.failure.message } : {})
            }))
            const accepted = outcomes.filter(o => o.ok).length
            if (accepted > 0) op.port.reply({ name: op.name, accepted, outcomes })
            else op.port.fail(combined(op))
            return
          }
          case 'stream':
            if (op.legs.length > 0 && op.legs.every(l => l.state === 'failed')) op.port.fail(combined(op))
            else op.port.end()
        }
      }

      const failLeg = (op: Op, leg: Leg, f: Failure): void => {
        leg.state = 'failed'
        leg.failure = f
        ctx.progress({ type: 'routers:answer', id: op.id, detail: { endpoint: ports[leg.index]?.endpoint, outcome: f.kind, message: f.message } })
        maybeDone(op)
      }

      /** a request of the leg failed (its health already told): try again, or give up */
      const afterFailure = (op: Op, leg: Leg, f: Failure, transient: boolean): void => {
        leg.state = 'waiting'
        const delay = Math.min(maxBackoffMs, backoffMs * 2 ** (leg.attempts - 1)) * (0.5 + 0.5 * ctx.rng.next())
        const left = op.deadline - ctx.clock.now()
        // a stream leg that already gave items is not asked again: its answer stands, cut short
        if (transient && leg.attempts <= retries && leg.items === 0 && left > delay + 1) {
          leg.failure = f
          leg.cancelTimer = ctx.after(delay, { type: 'leg.retry', op: op.id, leg: leg.index })
          return
        }
        failLeg(op, leg, f)
      }

      const startLeg = (op: Op, leg: Leg): void => {
        const port = ports[leg.index]
        const h = health[leg.index]
        if (port === undefined || h === undefined) return
        const now = ctx.clock.now()
        const left = op.deadline - now
        if (left <= 0) {
          failLeg(op, leg, leg.failure ?? failure('timeout', 'the deadline passed'))
          return
        }
        const admission = h.admit(now, leg.attempts > 0)
        if (admission === 'open') {
          failLeg(op, leg, leg.failure ?? failure('failed', `${port.endpoint}: circuit open (the endpoint keeps failing)`))
          return
        }
        if (admission === 'overloaded') {
          failLeg(op, leg, failure('overloaded', `${port.endpoint}: ${maxInFlight} requests in flight already`))
          return
        }
        leg.attempts++
        leg.state = 'running'
        const seq = ++leg.seq
        const abort = new AbortController()
        leg.abort = abort
        const opts = { signal: abort.signal }
        const ms = Math.min(timeoutMs, left)
        leg.cutByDeadline = left < timeoutMs
        leg.cancelTimer = ctx.after(ms, { type: 'leg.timeout', op: op.id, leg: leg.index, seq })
        ctx.progress({ type: 'routers:request', id: op.id, detail: { endpoint: port.endpoint, op: op.kind === 'stream' ? op.what : op.kind, attempt: leg.attempts } })
        const base = { op: op.id, leg: leg.index, seq }
        switch (op.kind) {
          case 'get':
            ctx.pipe((async () => await port.getIpns(op.name, opts))(), result => ({ type: 'leg.bytes', ...base, result }), op.id)
            return
          case 'put':
            ctx.pipe((async () => { await port.putIpns(op.name, op.record, opts); return true as const })(), result => ({ type: 'leg.put', ...base, result }), op.id)
            return
          case 'stream': {
            const source = op.what === 'providers' ? port.findProviders(op.target, opts) : port.findPeers(op.target, opts)
            ctx.pump(source, item => ({ type: 'leg.item', ...base, item }), result => ({ type: 'leg.end', ...base, result }), op.id)
          }
        }
      }

      /** the leg's request ended (its timer and health settled here) */
      const ended = (op: Op, leg: Leg, outcome: 'ok' | 'not-found' | 'error'): void => {
        leg.cancelTimer?.()
        leg.cancelTimer = undefined
        leg.abort = undefined
        health[leg.index]?.done(ctx.clock.now(), outcome)
      }

      const onResult = (op: Op, leg: Leg, result: Settled<unknown>): boolean => {
        if (result.ok) {
          ended(op, leg, 'ok')
          return true
        }
        const reason = reasonOf(result.failure)
        ended(op, leg, reason === 'not-found' ? 'not-found' : 'error')
        afterFailure(op, leg, result.failure, reason === 'transient')
        return false
      }

      const onMsg = (m: RoutersMsg): void => {
        if (isRoutingMsg(m)) {
          routing.onMsg(m)
          return
        }
        const op = ops.get(m.op)
        const leg = op?.legs[m.leg]
        if (op === undefined || leg === undefined) return
        if (m.type === 'leg.retry') {
          if (leg.state === 'waiting') startLeg(op, leg)
          return
        }
        if (m.type === 'leg.verified') {
          if (leg.state !== 'verifying' || op.kind !== 'get') return
          if (m.result.ok) {
            const v = m.result.value
            leg.state = 'ok'
            ctx.progress({ type: 'routers:answer', id: op.id, detail: { endpoint: ports[leg.index]?.endpoint, outcome: 'record', sequence: v.sequence.toString() } })
            finishOp(op)
            op.port.reply({ name: op.name, record: m.record, endpoint: ports[leg.index]?.endpoint ?? '?', value: v.value, sequence: v.sequence, validity: v.validity })
            return
          }
          if (m.result.failure.kind === 'invalid-record') health[leg.index]?.invalidRecord()
          failLeg(op, leg, m.result.failure)
          return
        }
        if (m.seq !== leg.seq || leg.state !== 'running') return // a request the actor gave up on
        switch (m.type) {
          case 'leg.timeout': {
            leg.cancelTimer = undefined
            // the asker's deadline, reached while the endpoint still had time of its own: not counted against it
            stopLeg(leg, leg.cutByDeadline === true ? 'aborted' : 'timeout')
            afterFailure(op, leg, failure('timeout', `${ports[leg.index]?.endpoint ?? '?'}: no answer within ${Math.round(timeoutMs)} ms`), true)
            return
          }
          case 'leg.bytes': {
            if (op.kind !== 'get' || !onResult(op, leg, m.result) || !m.result.ok) return
            const record = m.result.value
            if (record.byteLength > MAX_ROUTER_RECORD) {
              health[leg.index]?.invalidRecord()
              failLeg(op, leg, failure('invalid-record', `the record is larger than ${MAX_ROUTER_RECORD} bytes`, { code: 'too-large' }))
              return
            }
            leg.state = 'verifying'
            ctx.ask({ type: 'record.verify', name: op.name, record }, { deadline: op.deadline },
              result => ({ type: 'leg.verified', op: op.id, leg: leg.index, record, result }))
            return
          }
          case 'leg.put':
            if (op.kind !== 'put' || !onResult(op, leg, m.result)) return
            leg.state = 'ok'
            leg.failure = undefined
            maybeDone(op)
            return
          case 'leg.item': {
            if (op.kind !== 'stream') return
            leg.items++
            const peer = m.item
            if (op.seen.has(peer.peerId)) return
            op.seen.add(peer.peerId)
            if (!op.port.next({ ...peer, endpoint: ports[leg.index]?.endpoint ?? '?' })) {
              finishOp(op)
              return
            }
            if (op.seen.size >= op.limit) {
              finishOp(op)
              op.port.end()
            }
            return
          }
          case 'leg.end':
            if (op.kind !== 'stream' || !onResult(op, leg, m.result)) return
            leg.state = 'ok'
            leg.failure = undefined
            maybeDone(op)
        }
      }

      const newLegs = (): Leg[] => ports.map((_p, index) => ({ index, attempts: 0, seq: 0, state: 'waiting', items: 0 }))

      return {
        receive: msg => {
          if (msg.kind === 'cancel') {
            if (routing.cancel(msg.id)) return
            const op = ops.get(msg.id)
            if (op !== undefined) finishOp(op)
            return
          }
          if (msg.kind === 'internal') {
            onMsg(msg.msg)
            return
          }
          if (msg.type === 'routers.status') {
            msg.port.reply(status())
            return
          }
          if (ops.size + routing.size >= maxPending) {
            msg.port.fail(failure('overloaded', `the routers serve ${maxPending} operations already`))
            return
          }
          const id = msg.port.id
          const deadline = msg.env.deadline
          if (msg.type === 'routing.findProviders' || msg.type === 'routing.findPeer') {
            routing.start(msg.port, msg.command, deadline, ports.length > 0)
            return
          }
          let op: Op
          switch (msg.type) {
            case 'routers.getIpns':
              op = { kind: 'get', id, name: nameOf(msg.command.name) ?? '', port: msg.port, deadline, legs: newLegs() }
              break
            case 'routers.putIpns':
              op = { kind: 'put', id, name: nameOf(msg.command.name) ?? '', record: msg.command.record, port: msg.port, deadline, legs: newLegs() }
              break
            case 'routers.findProviders':
              op = { kind: 'stream', what: 'providers', id, target: msg.command.cid, port: msg.port, deadline, legs: newLegs(), seen: new Set(), limit: msg.command.limit ?? DEFAULT_ROUTER_STREAM_LIMIT }
              break
            case 'routers.findPeers':
              op = { kind: 'stream', what: 'peers', id, target: peerIdOf(msg.command.peerId) ?? '', port: msg.port, deadline, legs: newLegs(), seen: new Set(), limit: msg.command.limit ?? DEFAULT_ROUTER_STREAM_LIMIT }
              break
          }
          ops.set(id, op)
          for (const leg of op.legs) if (ops.has(id)) startLeg(op, leg)
          if (op.legs.length === 0) maybeDone(op)
        },
        status: () => ({ ...status() }),
        stop: async () => {
          for (const op of [...ops.values()]) finishOp(op)
          routing.stop()
          await Promise.all(ports.map(async p => { await p.stop() }))
        }
      }
    }
  })
}

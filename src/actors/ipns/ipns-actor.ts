/**
 * The IPNS actor: one XState machine per publish or resolve (the machine id is
 * the query id), its effects provided with machine.provide and carried out
 * through the bus (swarm, verifier, store, keys), every result fed back to the
 * machine as an event on this actor's own mailbox. Concurrent resolves of the
 * same name with the same options share one machine (single flight). Resolved
 * hops are cached until received + TTL (bounded LRU). Every transition goes to
 * the trace and, as ipns:publish:* / ipns:resolve:* progress, to the host.
 *
 * The resolves live in resolve-flights.ts, the publishes in
 * publish-flights.ts, what they share (caches, flights, counters) in
 * ipns-state.ts; this file routes the messages.
 */
import { defineActor } from '../runtime/actor.js'
import { MAX_HOPS } from './resolve-machine.js'
import { createIpnsState, isPublishMsg, isPutMsg, isResolveMsg } from './ipns-state.js'
import { publishFlights } from './publish-flights.js'
import { resolveFlights } from './resolve-flights.js'
import { putFlights } from './put-flights.js'
import { validateIpnsCommand } from './validate.js'
import type { ActorContext, ActorDefinition } from '../runtime/actor.js'
import type { IpnsActorOptions, IpnsMsg } from './ipns-state.js'
import type { PublishContext } from './publish-machine.js'
import type { IpnsPublish, IpnsPut, IpnsResolve, IpnsResolveStream } from '../../messages/ipns.js'
import '../../messages/ipns.js'

export const IPNS_ACTOR = 'ipns'

export type { IpnsActorOptions, IpnsMsg } from './ipns-state.js'
export type IpnsCommand = IpnsPublish | IpnsResolve | IpnsPut | IpnsResolveStream

export function ipnsActor (options: IpnsActorOptions = {}): ActorDefinition<IpnsCommand, IpnsMsg> {
  return defineActor<IpnsCommand, IpnsMsg>({
    name: IPNS_ACTOR,
    commands: ['ipns.publish', 'ipns.resolve', 'ipns.put'],
    streams: ['ipns.resolveStream'],
    mailbox: { capacity: 16_384 },
    validate: validateIpnsCommand,
    start: (ctx: ActorContext<IpnsMsg>) => {
      const s = createIpnsState(ctx, options)
      const resolves = resolveFlights(s)
      const publishes = publishFlights(s)
      const puts = putFlights(s)

      return {
        receive: msg => {
          if (msg.kind === 'command') {
            if (msg.type === 'ipns.resolve') resolves.start(msg.port, msg.command, msg.env.deadline)
            else if (msg.type === 'ipns.resolveStream') resolves.startStream(msg.port, msg.command, msg.env.deadline)
            else if (msg.type === 'ipns.put') puts.start(msg.port, msg.command, msg.env.deadline)
            else publishes.start(msg.port, msg.command, msg.env.deadline)
            return
          }
          if (msg.kind === 'cancel') {
            const fid = s.waiterFlight.get(msg.id)
            const f = fid === undefined ? undefined : s.flights.get(fid)
            s.waiterFlight.delete(msg.id)
            if (f === undefined) return
            if (f.kind === 'resolve') {
              f.waiters.delete(msg.id)
              if (f.waiters.size === 0) s.endFlight(f)
            } else {
              s.endFlight(f)
            }
            return
          }
          const m = msg.msg
          if (m.type === 'side') {
            s.sideTasks--
            return
          }
          // a resolve's DHT query that goes on in the background after it answered; a publish's DHT put after a router acknowledged it
          if (isResolveMsg(m) && resolves.improver.onMsg(m)) return
          if (isPublishMsg(m) && publishes.onBackground(m)) return
          const f = s.flights.get(m.flight)
          if (f === undefined) return
          if (f.kind === 'resolve' && isResolveMsg(m)) resolves.onMsg(f, m)
          else if (f.kind === 'publish' && isPublishMsg(m)) publishes.onMsg(f, m)
          else if (f.kind === 'put' && isPutMsg(m)) puts.onMsg(f, m)
        },
        status: () => ({ ...s.counters, rejected: { ...s.rejected }, inFlight: s.flights.size, cached: s.cache.size, maxHops: MAX_HOPS, ...(s.settleMs !== undefined ? { dhtPutsRunning: s.backgroundPuts.size } : {}) }),
        stop: () => {
          resolves.improver.stop()
          publishes.stop()
          for (const f of [...s.flights.values()]) s.endFlight(f)
        }
      }
    }
  })
}

export type { PublishContext }

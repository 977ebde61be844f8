/**
 * The swarm actor: the one owner of the libp2p node. It takes dht.* and
 * swarm.* commands from its mailbox, starts each as a DhtPort operation with
 * the signal of the ask's own port (so the ask's deadline, the caller's abort
 * and node stop all reach libp2p), and turns every result, streamed item and
 * progress event back into a message of its own. The pending map is bounded
 * and keyed by query id; an entry leaves it when its port settles, however
 * that happens.
 */
import { defineActor } from '../runtime/actor.js'
import { causeOf, failure } from '../../messages/failure.js'
import { SWARM_ASKS, SWARM_STREAMS } from './swarm-commands.js'
import { swarmValidator, validateSwarmCommand } from './validate.js'
import { bootstrapJoiner } from './bootstrap-joiner.js'
import type { BootstrapRetryOptions } from './bootstrap-joiner.js'
import { answer, PortDiedError, republishSection, routersSection, toKey } from './swarm-state.js'
import type { Pending, SwarmMsg } from './swarm-state.js'
export type { SwarmMsg } from './swarm-state.js'
import type { ActorContext, ActorDefinition, Delivery } from '../runtime/actor.js'
import type { DhtPort, DhtPortStatus, DhtProgress } from './dht-port.js'
import type { SwarmCommand } from './swarm-commands.js'
import type { QueryId } from '../../messages/ids.js'
import type { SwarmStatusReply } from '../../messages/swarm.js'
import '../../messages/swarm.js'

export const SWARM_ACTOR = 'swarm'

export interface SwarmActorOptions {
  /** the node's port, already started */
  port: DhtPort
  /** builds a fresh port when the actor restarts after a crash */
  createPort?: () => Promise<DhtPort>
  /**
   * replay: the port of a restarted incarnation, at once. The recorded
   * port.ready still decides when it is adopted, as it did live; this only
   * spares the replay an async factory it could not wait for.
   */
  restartPort?: () => DhtPort
  /** DHT operations at once, counting those libp2p still runs after their ask settled (default 1,024); beyond it asks fail with overloaded */
  maxPending?: number
  /** commands held while a restarted node comes up (default 1,024) */
  maxHeld?: number
  /** progress events forwarded per query (default 64) */
  progressPerQuery?: number
  /** most distinct peers remembered per stream for de-duplication (default 1,000) */
  maxSeenPerStream?: number
  mailboxCapacity?: number
  /** record namespaces the node's DHT validates; dht.put/get keys outside them are rejected before libp2p */
  namespaces?: readonly string[]
  /** keep trying to join in the background after a bootstrap that reached no peer (default: no retries) */
  bootstrapRetry?: BootstrapRetryOptions
}

export function swarmActor (options: SwarmActorOptions): ActorDefinition<SwarmCommand, SwarmMsg> {
  const maxPending = options.maxPending ?? 1024
  const maxHeld = options.maxHeld ?? 1024
  const progressCap = options.progressPerQuery ?? 64
  const maxSeen = options.maxSeenPerStream ?? 1000
  // Shared across incarnations: the first one uses the given port; a restart
  // waits for the previous node to stop, then builds a fresh one.
  let initial: DhtPort | undefined = options.port
  let lastStop: Promise<void> = Promise.resolve()
  let nextPort: DhtPort | undefined
  // a libp2p node that failed to stop: counted, and shown in the status detail of the incarnations after it
  const portStops = { failed: 0, lastError: undefined as string | undefined }

  return defineActor<SwarmCommand, SwarmMsg>({
    name: SWARM_ACTOR,
    commands: SWARM_ASKS,
    streams: SWARM_STREAMS,
    mailbox: { capacity: options.mailboxCapacity ?? 4096 },
    validate: options.namespaces === undefined ? validateSwarmCommand : swarmValidator(options.namespaces),
    start: ctx => {
      let port: DhtPort | undefined = initial
      initial = undefined
      const pending = new Map<QueryId, Pending>()
      const joiner = bootstrapJoiner<SwarmMsg>(ctx, options.bootstrapRetry, () => port, msg => ({ type: 'boot', msg }))
      const held: Array<Delivery<SwarmCommand>> = []
      let running = 0
      // a node switching DHT mode or reachability says so: a `swarm:mode` progress event;
      // a port that dies (its network thread gone) crashes this incarnation
      let unwatch: Array<(() => void) | undefined> = []
      const watch = (p: DhtPort | undefined): void => {
        for (const u of unwatch) u?.()
        unwatch = p === undefined
          ? []
          : [
              p.onNetworkChange?.(status => { ctx.external({ type: 'net.change', status }) }),
              p.onFailure?.(f => { ctx.external({ type: 'port.failed', failure: f }) })
            ]
      }
      watch(port)

      if (port === undefined && options.restartPort !== undefined) {
        nextPort = options.restartPort()
      } else if (port === undefined) {
        const factory = options.createPort
        if (factory === undefined) throw new Error('the swarm actor cannot restart without createPort')
        ctx.pipe(lastStop.then(async () => {
          nextPort = await factory()
          return nextPort.peerId
        }), result => ({ type: 'port.ready', result }))
      }

      const onProgress = (id: QueryId): (e: DhtProgress) => void => {
        let n = 0
        return e => { if (++n <= progressCap) ctx.external({ type: 'op.progress', id, event: e }) }
      }

      // kad-dht's query events only when someone receives them: otherwise each is a delivery (and, with a
      // network thread, a message across threads) that feeds nothing
      const opts = (id: QueryId): { signal: AbortSignal, onProgress?: (e: DhtProgress) => void } =>
        ctx.progressWatched() ? { signal: ctx.signal(id), onProgress: onProgress(id) } : { signal: ctx.signal(id) }

      const track = (id: QueryId, entry: Pending): void => {
        pending.set(id, entry)
        running++
      }

      const start = (p: DhtPort, msg: Delivery<SwarmCommand>): void => {
        const id = msg.port.id
        switch (msg.type) {
          case 'dht.put':
          case 'dht.putTo':
          case 'dht.provide': {
            const c = msg.command
            track(id, { kind: 'peers', type: c.type, port: msg.port })
            const work = c.type === 'dht.put'
              ? p.put(toKey(c.key), c.value, opts(id))
              : c.type === 'dht.putTo' ? p.putTo(toKey(c.key), c.value, c.peers, ctx.clock.wall(), opts(id)) : p.provide(c.cid, opts(id))
            ctx.pipe(work, result => ({ type: 'op.done', id, kind: 'peers', result }), id)
            return
          }
          case 'dht.findPeer':
            track(id, { kind: 'findPeer', port: msg.port })
            ctx.pipe(p.findPeer(msg.command.peerId, opts(id)), result => ({ type: 'op.done', id, kind: 'findPeer', result }), id)
            return
          case 'swarm.dial':
            track(id, { kind: 'dial', port: msg.port })
            ctx.pipe(p.dial(msg.command.multiaddr, opts(id)), result => ({ type: 'op.done', id, kind: 'dial', result }), id)
            return
          case 'swarm.bootstrap':
            track(id, { kind: 'bootstrap', port: msg.port })
            ctx.pipe(p.bootstrap(opts(id)), result => ({ type: 'op.done', id, kind: 'bootstrap', result }), id)
            return
          case 'dht.get':
            track(id, { kind: 'get', port: msg.port })
            ctx.pump(p.get(toKey(msg.command.key), opts(id)), item => ({ type: 'op.item', id, kind: 'value', item }), result => ({ type: 'op.end', id, result }), id)
            return
          case 'dht.getValues': {
            const c = msg.command
            track(id, { kind: 'values', port: msg.port })
            ctx.pump(p.get(toKey(c.key), { ...opts(id), ...(c.want !== undefined ? { want: c.want } : {}) }), item => ({ type: 'op.item', id, kind: 'value', item }), result => ({ type: 'op.end', id, result }), id)
            return
          }
          case 'dht.findProviders':
            track(id, { kind: 'peerStream', port: msg.port, limit: msg.command.limit ?? Infinity, count: 0, seen: new Set() })
            ctx.pump(p.findProviders(msg.command.cid, opts(id)), item => ({ type: 'op.item', id, kind: 'peer', item }), result => ({ type: 'op.end', id, result }), id)
            return
          case 'dht.closestPeers':
            track(id, { kind: 'peerStream', port: msg.port, limit: Infinity, count: 0, seen: new Set() })
            ctx.pump(p.closestPeers(toKey(msg.command.key), opts(id)), item => ({ type: 'op.item', id, kind: 'peer', item }), result => ({ type: 'op.end', id, result }), id)
            return
          // Reads of the live node are inputs too: they come back as recorded
          // completions, so a replay answers with what the node said then.
          case 'swarm.peers':
            track(id, { kind: 'connections', port: msg.port })
            ctx.pipe(Promise.resolve().then(() => ({ peers: p.connections() })), result => ({ type: 'op.done', id, kind: 'connections', result }), id)
            return
          case 'swarm.status':
            track(id, { kind: 'status', port: msg.port })
            ctx.pipe(Promise.resolve().then(() => p.status()), result => ({ type: 'op.done', id, kind: 'status', result }), id)
        }
      }

      const status = (s: DhtPortStatus): SwarmStatusReply => {
        const sys = ctx.systemStatus()
        return {
          peerId: s.peerId,
          multiaddrs: s.multiaddrs,
          mode: s.mode,
          connections: s.connections,
          routingTableSize: s.routingTableSize,
          ...(s.buckets !== undefined ? { buckets: s.buckets } : {}),
          recordsRejected: s.recordsRejected ?? {},
          ...(s.refusals !== undefined ? { refusals: s.refusals } : {}),
          ...(s.dhtRequests !== undefined ? { dhtRequests: s.dhtRequests } : {}),
          ...(s.peerInfoCache !== undefined ? { peerInfoCache: s.peerInfoCache } : {}),
          ...(s.network !== undefined ? { network: s.network } : {}),
          pendingQueries: pending.size,
          runningQueries: running,
          heldCommands: held.length,
          bootstrap: joiner.status(),
          actors: sys.actors,
          deadLetters: sys.deadLetters,
          openPorts: sys.openPorts,
          ...republishSection(sys.actors),
          ...routersSection(sys.actors)
        }
      }

      const onCommand = (msg: Delivery<SwarmCommand>): void => {
        if (port === undefined) {
          if (held.length >= maxHeld) msg.port.fail(failure('overloaded', 'the swarm is restarting and holds too many commands'))
          else held.push(msg)
          return
        }
        // bound the libp2p work itself, not only the asks waiting for it: an
        // answered or cancelled query runs on until libp2p notices the abort
        if (Math.max(pending.size, running) >= maxPending) {
          msg.port.fail(failure('overloaded', `the swarm serves ${maxPending} queries already`))
          return
        }
        try {
          start(port, msg)
        } catch (err) {
          // a port method that throws synchronously is the node's failure, not ours; what it threw is the cause
          pending.delete(msg.port.id)
          msg.port.fail(failure('failed', err instanceof Error ? err.message : String(err), { cause: causeOf(err) }))
          running = Math.max(0, running - 1)
        }
      }

      /** the entry waiting for a result, removed */
      const take = (id: QueryId): Pending | undefined => {
        const p = pending.get(id)
        pending.delete(id)
        return p
      }

      const onItem = (m: Extract<SwarmMsg, { type: 'op.item' }>): void => {
        const p = pending.get(m.id)
        if (p === undefined) return
        if (m.kind === 'value') {
          if (p.kind === 'get') {
            pending.delete(m.id)
            p.port.reply(m.item)
          } else if (p.kind === 'values' && !p.port.next(m.item)) {
            pending.delete(m.id)
          }
          return
        }
        if (p.kind !== 'peerStream') return
        const key = m.item.peerId
        if (p.seen.has(key)) return
        if (p.seen.size < maxSeen) p.seen.add(key)
        p.count++
        if (!p.port.next(m.item)) {
          pending.delete(m.id)
          return
        }
        if (p.count >= p.limit) {
          pending.delete(m.id)
          p.port.end()
        }
      }

      /** a stream of the port ended: a get that found nothing, or a stream's normal end */
      const onEnd = (m: Extract<SwarmMsg, { type: 'op.end' }>): void => {
        running = Math.max(0, running - 1)
        const p = take(m.id)
        if (p === undefined) return
        if (!m.result.ok) {
          p.port.fail(m.result.failure)
          return
        }
        if (p.kind === 'get') p.port.fail(failure('not-found', 'no peer returned a value for the key'))
        else if (p.kind === 'values' || p.kind === 'peerStream') p.port.end()
        else p.port.fail(failure('failed', `${p.kind}: the port ended a stream for a one-shot command`))
      }

      const onDone = (m: Extract<SwarmMsg, { type: 'op.done' }>): void => {
        running = Math.max(0, running - 1)
        const p = take(m.id)
        if (p === undefined) return
        if (!m.result.ok && p.kind === 'bootstrap') joiner.ran({ error: m.result.failure.message })
        if (p.kind !== m.kind) {
          // cannot happen: each entry gets the results of its own kind
          p.port.fail(failure('failed', `the swarm got a ${m.kind} result for a ${p.kind} query`))
          return
        }
        switch (m.kind) {
          case 'peers': {
            if (p.kind !== 'peers') return
            const r = m.result
            if (r.ok && r.value.peers === 0) p.port.fail(failure('failed', `${p.type}: no peer accepted it (is the routing table empty?)`))
            else answer(p.port, r)
            return
          }
          case 'findPeer': if (p.kind === 'findPeer') answer(p.port, m.result); return
          case 'dial': if (p.kind === 'dial') answer(p.port, m.result); return
          case 'connections': if (p.kind === 'connections') answer(p.port, m.result); return
          case 'status':
            if (p.kind === 'status') answer(p.port, m.result.ok ? { ok: true, value: status(m.result.value) } : m.result)
            return
          case 'bootstrap': {
            if (p.kind !== 'bootstrap') return
            const r = m.result
            if (!r.ok) {
              p.port.fail(r.failure)
              return
            }
            joiner.ran(r.value)
            p.port.reply({ connected: r.value.connected, routingTableSize: r.value.routingTableSize, failed: r.value.failed ?? [] })
          }
        }
      }

      return {
        receive: msg => {
          switch (msg.kind) {
            case 'command':
              onCommand(msg)
              return
            case 'cancel':
              // a bootstrap whose ask ran out of time (or was aborted) reached no one as far as anyone waited
              if (pending.get(msg.id)?.kind === 'bootstrap') joiner.ran({ error: `the bootstrap was cut short (${msg.reason})` })
              pending.delete(msg.id)
              return
            case 'internal': {
              const m = msg.msg
              switch (m.type) {
                case 'op.done':
                  onDone(m)
                  return
                case 'op.item':
                  onItem(m)
                  return
                case 'op.end':
                  onEnd(m)
                  return
                case 'boot':
                  joiner.receive(m.msg)
                  return
                case 'net.change':
                  ctx.progress({ type: 'swarm:mode', detail: { ...m.status } })
                  return
                case 'port.failed': {
                  // every ask it serves fails with what killed the port, then the supervisor restarts us on a new one
                  const open = [...pending.values()]
                  pending.clear()
                  for (const p of open) p.port.fail(m.failure)
                  throw new PortDiedError(m.failure)
                }
                case 'op.progress':
                  if (pending.has(m.id)) ctx.progress({ type: m.event.type, id: m.id, detail: { ...m.event } })
                  return
                case 'port.ready':
                  if (!m.result.ok || nextPort === undefined) throw new Error(`the libp2p node did not start: ${m.result.ok ? 'no port' : m.result.failure.message}`)
                  port = nextPort
                  nextPort = undefined
                  watch(port)
                  for (const h of held.splice(0)) if (h.port.isOpen()) onCommand(h)
              }
            }
          }
        },
        status: () => ({
          pendingQueries: pending.size,
          runningQueries: running,
          heldCommands: held.length,
          bootstrap: joiner.status(),
          ...(portStops.failed > 0 ? { portStopsFailed: portStops.failed, lastPortStopError: portStops.lastError ?? '' } : {})
        }),
        stop: async () => {
          joiner.stop()
          watch(undefined)
          const p = port
          port = undefined
          if (p !== undefined) {
            // the next incarnation's node waits on this one's stop, failed or not; a failure is kept for its status
            lastStop = p.stop().catch((err: unknown) => {
              portStops.failed++
              portStops.lastError = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 500) : String(err).slice(0, 500)
            })
            await lastStop
          }
        }
      }
    }
  })
}

export type SwarmActorContext = ActorContext<SwarmMsg>

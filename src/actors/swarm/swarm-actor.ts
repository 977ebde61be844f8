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
import { REPUBLISHER_ACTOR } from '../republisher/republisher-actor.js'
import { causeOf, failure } from '../../messages/failure.js'
import { SWARM_ASKS, SWARM_STREAMS } from './swarm-commands.js'
import { swarmValidator, validateSwarmCommand } from './validate.js'
import { bootstrapJoiner } from './bootstrap-joiner.js'
import type { BootstrapMsg, BootstrapRetryOptions } from './bootstrap-joiner.js'
import type { ActorContext, ActorDefinition, Incoming, Settled } from '../runtime/actor.js'
import type { DhtPort, DhtPortStatus, DhtProgress } from './dht-port.js'
import type { SwarmCommand } from './swarm-commands.js'
import type { Failure } from '../../messages/failure.js'
import type { QueryId } from '../../messages/ids.js'
import type { PeerInfo, SwarmStatusReply } from '../../messages/swarm.js'
import type { RepublishStatus } from '../../messages/republish.js'
import type { ActorStatus } from '../../messages/system.js'
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

/** The swarm actor's own messages: plain data, recorded in traces. */
export type SwarmMsg =
  | { type: 'op.done', id: QueryId, result: Settled<unknown> }
  | { type: 'op.item', id: QueryId, item: unknown }
  | { type: 'op.end', id: QueryId, result: Settled<number> }
  | { type: 'op.progress', id: QueryId, event: DhtProgress }
  | { type: 'port.ready', result: Settled<string> }
  | { type: 'boot', msg: BootstrapMsg }

interface Pending {
  id: QueryId
  type: SwarmCommand['type']
  limit: number
  count: number
  seen: Set<string> | undefined
}

/** the republisher's status detail becomes the `republish` section of swarm.status (name as in republisher-actor.ts) */
function republishSection (actors: ActorStatus[]): { republish?: RepublishStatus } {
  const detail = actors.find(a => a.name === REPUBLISHER_ACTOR)?.detail
  return detail === undefined ? {} : { republish: detail as unknown as RepublishStatus }
}

const utf8 = new TextEncoder()
const toKey = (key: Uint8Array | string): Uint8Array => typeof key === 'string' ? utf8.encode(key) : key

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
      const held: Array<Incoming<SwarmCommand, SwarmMsg> & { kind: 'command' }> = []
      let running = 0

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

      const opts = (id: QueryId): { signal: AbortSignal, onProgress: (e: DhtProgress) => void } =>
        ({ signal: ctx.signal(id), onProgress: onProgress(id) })

      const track = (id: QueryId, type: SwarmCommand['type'], limit = Infinity, dedupe = false): void => {
        pending.set(id, { id, type, limit, count: 0, seen: dedupe ? new Set() : undefined })
        running++
      }

      const settleFailure = (id: QueryId, f: Failure): void => {
        pending.delete(id)
        ctx.fail(id, f)
      }

      const start = (p: DhtPort, id: QueryId, cmd: SwarmCommand): void => {
        switch (cmd.type) {
          case 'dht.put':
            track(id, cmd.type)
            ctx.pipe(p.put(toKey(cmd.key), cmd.value, opts(id)), result => ({ type: 'op.done', id, result }), id)
            return
          case 'dht.putTo':
            track(id, cmd.type)
            ctx.pipe(p.putTo(toKey(cmd.key), cmd.value, cmd.peers, ctx.clock.wall(), opts(id)), result => ({ type: 'op.done', id, result }), id)
            return
          case 'dht.provide':
            track(id, cmd.type)
            ctx.pipe(p.provide(cmd.cid, opts(id)), result => ({ type: 'op.done', id, result }), id)
            return
          case 'dht.findPeer':
            track(id, cmd.type)
            ctx.pipe(p.findPeer(cmd.peerId, opts(id)), result => ({ type: 'op.done', id, result }), id)
            return
          case 'swarm.dial':
            track(id, cmd.type)
            ctx.pipe(p.dial(cmd.multiaddr, opts(id)), result => ({ type: 'op.done', id, result }), id)
            return
          case 'swarm.bootstrap':
            track(id, cmd.type)
            ctx.pipe(p.bootstrap(opts(id)), result => ({ type: 'op.done', id, result }), id)
            return
          case 'dht.get':
            track(id, cmd.type, 1)
            ctx.pump(p.get(toKey(cmd.key), opts(id)), item => ({ type: 'op.item', id, item }), result => ({ type: 'op.end', id, result }), id)
            return
          case 'dht.getValues':
            track(id, cmd.type)
            ctx.pump(p.get(toKey(cmd.key), { ...opts(id), ...(cmd.want !== undefined ? { want: cmd.want } : {}) }), item => ({ type: 'op.item', id, item }), result => ({ type: 'op.end', id, result }), id)
            return
          case 'dht.findProviders':
            track(id, cmd.type, cmd.limit ?? Infinity, true)
            ctx.pump(p.findProviders(cmd.cid, opts(id)), item => ({ type: 'op.item', id, item }), result => ({ type: 'op.end', id, result }), id)
            return
          case 'dht.closestPeers':
            track(id, cmd.type, Infinity, true)
            ctx.pump(p.closestPeers(toKey(cmd.key), opts(id)), item => ({ type: 'op.item', id, item }), result => ({ type: 'op.end', id, result }), id)
            return
          // Reads of the live node are inputs too: they come back as recorded
          // completions, so a replay answers with what the node said then.
          case 'swarm.peers':
            track(id, cmd.type)
            ctx.pipe(Promise.resolve().then(() => ({ peers: p.connections() })), result => ({ type: 'op.done', id, result }), id)
            return
          case 'swarm.status':
            track(id, cmd.type)
            ctx.pipe(Promise.resolve().then(() => p.status()), result => ({ type: 'op.done', id, result }), id)
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
          recordsRejected: s.recordsRejected ?? {},
          ...(s.dhtRequests !== undefined ? { dhtRequests: s.dhtRequests } : {}),
          ...(s.peerInfoCache !== undefined ? { peerInfoCache: s.peerInfoCache } : {}),
          pendingQueries: pending.size,
          runningQueries: running,
          heldCommands: held.length,
          bootstrap: joiner.status(),
          actors: sys.actors,
          deadLetters: sys.deadLetters,
          openPorts: sys.openPorts,
          ...republishSection(sys.actors)
        }
      }

      const onCommand = (msg: Incoming<SwarmCommand, SwarmMsg> & { kind: 'command' }): void => {
        const { id, command } = msg.env
        if (port === undefined) {
          if (held.length >= maxHeld) ctx.fail(id, failure('overloaded', 'the swarm is restarting and holds too many commands'))
          else held.push(msg)
          return
        }
        // bound the libp2p work itself, not only the asks waiting for it: an
        // answered or cancelled query runs on until libp2p notices the abort
        if (Math.max(pending.size, running) >= maxPending) {
          ctx.fail(id, failure('overloaded', `the swarm serves ${maxPending} queries already`))
          return
        }
        try {
          start(port, id, command)
        } catch (err) {
          // a port method that throws synchronously is the node's failure, not ours; what it threw is the cause
          settleFailure(id, failure('failed', err instanceof Error ? err.message : String(err), { cause: causeOf(err) }))
          running = Math.max(0, running - 1)
        }
      }

      const onItem = (id: QueryId, item: unknown): void => {
        const p = pending.get(id)
        if (p === undefined) return
        if (p.type === 'dht.get') {
          pending.delete(id)
          ctx.reply(id, item)
          return
        }
        if (p.seen !== undefined) {
          const key = (item as PeerInfo).peerId
          if (p.seen.has(key)) return
          if (p.seen.size < maxSeen) p.seen.add(key)
        }
        p.count++
        if (!ctx.next(id, item)) {
          pending.delete(id)
          return
        }
        if (p.count >= p.limit) {
          pending.delete(id)
          ctx.end(id)
        }
      }

      const onEnd = (id: QueryId, result: Settled<unknown>): void => {
        running = Math.max(0, running - 1)
        const p = pending.get(id)
        if (p === undefined) return
        pending.delete(id)
        if (!result.ok) {
          if (p.type === 'swarm.bootstrap') joiner.ran({ error: result.failure.message })
          ctx.fail(id, result.failure)
          return
        }
        switch (p.type) {
          case 'dht.get':
            ctx.fail(id, failure('not-found', 'no peer returned a value for the key'))
            return
          case 'dht.findProviders':
          case 'dht.closestPeers':
          case 'dht.getValues':
            ctx.end(id)
            return
          case 'swarm.status':
            ctx.reply(id, status(result.value as DhtPortStatus))
            return
          case 'swarm.bootstrap': {
            const v = result.value as { connected: number, routingTableSize: number, failed?: Array<{ addr: string, error: string }> }
            joiner.ran(v)
            ctx.reply(id, { connected: v.connected, routingTableSize: v.routingTableSize, failed: v.failed ?? [] })
            return
          }
          case 'dht.put':
          case 'dht.putTo':
          case 'dht.provide': {
            const peers = (result.value as { peers: number }).peers
            if (peers === 0) ctx.fail(id, failure('failed', `${p.type}: no peer accepted it (is the routing table empty?)`))
            else ctx.reply(id, result.value)
            return
          }
          default:
            ctx.reply(id, result.value)
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
              if (pending.get(msg.id)?.type === 'swarm.bootstrap') joiner.ran({ error: `the bootstrap was cut short (${msg.reason})` })
              pending.delete(msg.id)
              return
            case 'internal': {
              const m = msg.msg
              switch (m.type) {
                case 'op.done':
                  onEnd(m.id, m.result)
                  return
                case 'op.item':
                  onItem(m.id, m.item)
                  return
                case 'op.end':
                  onEnd(m.id, m.result)
                  return
                case 'boot':
                  joiner.receive(m.msg)
                  return
                case 'op.progress':
                  if (pending.has(m.id)) ctx.progress({ type: m.event.type, id: m.id, detail: { ...m.event } })
                  return
                case 'port.ready':
                  if (!m.result.ok || nextPort === undefined) throw new Error(`the libp2p node did not start: ${m.result.ok ? 'no port' : m.result.failure.message}`)
                  port = nextPort
                  nextPort = undefined
                  for (const h of held.splice(0)) if (ctx.isOpen(h.env.id)) onCommand(h)
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

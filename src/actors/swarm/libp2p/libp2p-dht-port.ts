/**
 * DhtPort over js-libp2p 3 + @libp2p/kad-dht 16.
 *
 * Every operation hands the caller's AbortSignal (joined with one that fires
 * when a stream is left early) to libp2p, and races it itself so an abort
 * ends the call at once with an AbortError. The port sets no deadline
 * timers (the swarm actor owns deadlines); its housekeeping timers — the
 * stream pool's idle sweep, a lookup's hedges — run on its own clock, outside
 * the replay boundary.
 *
 * Here: values (get: our own lookup, value-lookup.ts, or kad-dht's; putTo),
 * dials, bootstrap, status. kad-queries.ts: what kad-dht runs itself (put,
 * provide, providers, peers, closest peers, the self lookup). Helpers:
 * port-helpers.ts (peer info, parsing, record keys, error text);
 * bootstrap-wait.ts (waiting for bootstrap peers to settle).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { Libp2pRecord } from '@libp2p/record'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { libp2pFindNodeRpc, libp2pGetValueRpc, libp2pPutValueRpc, PeerGate } from '../dht-client/kad-rpc.js'
import { KadStreamPool } from '../dht-client/kad-stream-pool.js'
import { RouteAroundState } from '../dht-client/route-around.js'
import { lookupClosestPeers } from '../dht-client/closest-peers.js'
import { RealClock } from '../../../platform/real-clock.js'
import type { Clock } from '../../runtime/clock.js'
import type { CachedPeerStore } from '../tweaks/peer-info-cache.js'
import type { FindNodeRpc, GetValueRpc, PutValueRpc } from '../dht-client/kad-rpc.js'
import { toDhtProgress, valueFromProgress } from './kad-progress.js'
import type { AnyProgressEvent } from './kad-progress.js'
import { buildLibp2pOptions, DEFAULT_KAD_PROTOCOL, modeFor, peerInfoMapperFor } from './libp2p-options.js'
import { LOCAL_PROFILE } from './profiles.js'
import { NetworkWatch } from './network-watch.js'
import { RecordSweeper } from './record-sweeper.js'
import type { NetworkStatus } from '../../../messages/swarm.js'
import { kadId, LOOKUP_K, lookupValues } from '../dht-client/value-lookup.js'
import type { Libp2pDhtPortOptions, PortServices } from './libp2p-options.js'
import { notStartedError, toPortError } from '../port-errors.js'
import { KadQueries } from './kad-queries.js'
import { queryStream } from './query-stream.js'
import type { QueryContext } from './query-stream.js'
import { routingTableOf } from './routing-table.js'
import { routingBucketsOf } from './routing-buckets.js'
import type { RoutingTableView } from './routing-table.js'
import { raceAbort } from './wakeup.js'
import { untilBootstrapPeersSettled } from './bootstrap-wait.js'
import { LocalRecords } from './local-records.js'
import { addrWithoutPeer, errorText, MAX_STREAM_RESULTS, parsed, recordKey } from './port-helpers.js'
import type {
  DhtConnection, DhtGetValue, DhtOpOptions, DhtPeerInfo, DhtPort, DhtPortStatus, DhtProgress
} from '../dht-port.js'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { QueryEvent } from '@libp2p/kad-dht'
import type { Datastore } from 'interface-datastore'

export type { Libp2pDhtPortOptions } from './libp2p-options.js'
export { ed25519KeyFromSeed } from './libp2p-options.js'

export { MAX_STREAM_RESULTS } from './port-helpers.js'
/**
 * DHT requests of ours open to one peer at once, each on its own stream;
 * more wait in order for one to finish. kad-dht's handler takes 32 inbound
 * streams per connection and resets the rest. Fewer is cheaper: a burst opens
 * up to this many fresh streams to every peer it asks, and a fresh stream
 * costs both ends more than the request (docs/libp2p-notes.md). More helps
 * only when a peer is slow to answer rather than busy. 100 concurrent
 * resolves, 20 nodes in one process, cold streams (medians of 7 bursts, runs
 * in one batch): 1.73 s at 24, 1.53 s at 16, 1.53 s at 12; with 2 slow and 2
 * frozen peers of 20 (ipns-slow, first burst) 1.49 s at 24, 1.78 s at 12,
 * 2.21 s at 8. go-libp2p's client sends one request at a time per peer.
 */
const GETS_PER_PEER = 12
/** GET_VALUE requests waiting for a peer's slot, over all peers */
const MAX_WAITING_GETS = 8_192

export async function createLibp2pDhtPort (options: Libp2pDhtPortOptions): Promise<DhtPort> {
  let cache: CachedPeerStore | undefined
  const node = await createLibp2p<PortServices>(buildLibp2pOptions({
    ...options,
    onPeerInfoCache: store => { cache = store; options.onPeerInfoCache?.(store) }
  }))
  try {
    return new Libp2pDhtPort(node, routingTableOf(node.services.dht), options, cache)
  } catch (err) {
    await node.stop()
    throw err
  }
}

class Libp2pDhtPort implements DhtPort {
  readonly peerId: string
  private readonly node: Libp2p<PortServices>
  private readonly routingTable: RoutingTableView
  private readonly bootstrapAddrs: string[]
  private readonly kadProtocol: string
  private stopped = false
  private readonly rejections: (() => Record<string, number>) | undefined
  private readonly refusals: Libp2pDhtPortOptions['refusals']
  private readonly valueLookup: 'direct' | 'kad-dht'
  private readonly datastore: Datastore
  /** the node's own records, as lookups read them (local-records.ts) */
  private readonly records: LocalRecords
  private readonly getValueRpc: GetValueRpc
  private readonly findNodeRpc: FindNodeRpc
  private readonly putValueRpc: PutValueRpc
  private readonly gate = new PeerGate(GETS_PER_PEER, MAX_WAITING_GETS)
  private readonly streams: KadStreamPool
  private readonly clock: Clock
  /** stalled and suspect peers (route-around.ts); undefined when routeAround is off */
  private readonly routeAround: RouteAroundState | undefined
  private readonly mapper: ReturnType<typeof peerInfoMapperFor>
  private readonly network: NetworkWatch
  private readonly sweeper: RecordSweeper | undefined
  /** kad-dht's own queries: provide, providers, peers, closest peers (kad-queries.ts) */
  private readonly queries: KadQueries

  constructor (node: Libp2p<PortServices>, routingTable: RoutingTableView, options: Libp2pDhtPortOptions, private readonly peerInfoCache: CachedPeerStore | undefined) {
    this.node = node
    this.routingTable = routingTable
    this.peerId = node.peerId.toString()
    this.bootstrapAddrs = [...(options.bootstrap ?? [])]
    this.rejections = options.rejections
    this.refusals = options.refusals
    this.kadProtocol = options.kadProtocol ?? DEFAULT_KAD_PROTOCOL
    this.valueLookup = options.valueLookup ?? 'direct'
    this.datastore = options.datastore
    this.records = new LocalRecords(options.datastore, options.validators ?? {}, this.peerId)
    this.mapper = peerInfoMapperFor(options)
    // our GET_VALUE and PUT_VALUE requests: through the per-peer gate, on reused streams
    this.clock = options.clock ?? new RealClock()
    // which peers answer, which are suspects: the lookups route around frozen peers (route-around.ts)
    const ra = options.routeAround !== false ? new RouteAroundState(this.clock) : undefined
    this.routeAround = ra
    this.streams = new KadStreamPool(node, this.kadProtocol, this.gate, this.clock, {}, ra !== undefined ? peer => { ra.openFailed(peer) } : undefined)
    const getValue = libp2pGetValueRpc(node, this.streams)
    const findNode = libp2pFindNodeRpc(node, this.streams)
    this.getValueRpc = ra !== undefined ? ra.track(getValue) : getValue
    this.findNodeRpc = ra !== undefined ? ra.track(findNode) : findNode
    this.putValueRpc = libp2pPutValueRpc(this.streams)
    const profile = options.profile ?? LOCAL_PROFILE
    this.network = new NetworkWatch(node, { profile: profile.name, modeSetting: modeFor(options), autonat: profile.autonat, upnp: profile.upnp })
    // expired DHT records leave the store on the port's clock (record-sweeper.ts)
    this.sweeper = profile.recordSweep !== undefined ? new RecordSweeper(options.datastore, this.clock, profile.recordSweep) : undefined
    this.sweeper?.start()
    this.queries = new KadQueries(node)
  }

  onNetworkChange (fn: (status: NetworkStatus) => void): () => void {
    return this.network.onChange(fn)
  }

  multiaddrs (): string[] {
    return this.node.getMultiaddrs().map(addr => addr.toString())
  }

  async put (key: Uint8Array, value: Uint8Array, options: DhtOpOptions): Promise<{ peers: number }> {
    this.assertRunning()
    return await this.queries.put(key, value, options)
  }

  async putTo (key: Uint8Array, value: Uint8Array, peers: string[], now: number, options: DhtOpOptions): Promise<{ peers: number }> {
    this.assertRunning()
    const { signal } = options
    const ids = peers.map(p => parsed('peer id', () => peerIdFromString(p)))
    const validate = this.records.validatorFor(key)
    // a record this node would refuse is not sent to anyone
    try {
      await validate(key, value, { signal })
    } catch (err) {
      throw toPortError(err, signal)
    }
    // a server stamps the record with its own time received; `now` is for our own store
    const record = new Libp2pRecord(key, value, new Date(now)).serialize()
    const acked = await raceAbort(Promise.all(ids.map(async id => {
      try {
        if (id.equals(this.node.peerId)) {
          await this.datastore.put(recordKey(key), record, { signal })
          return true
        }
        options.onProgress?.({ type: 'kad-dht:query:send-query', peer: id.toString(), detail: 'PUT_VALUE' })
        const echoed = await this.putValueRpc(id, key, record, signal)
        const ok = echoed !== undefined && uint8ArrayEquals(Libp2pRecord.deserialize(echoed).value, value)
        options.onProgress?.({ type: 'kad-dht:query:peer-response', peer: id.toString(), detail: `PUT_VALUE${ok ? ' record' : ''}` })
        return ok
      } catch (err) {
        // one peer's refusal (an older-record guard, a reset) is that peer's answer, not the call's
        if (!signal.aborted) options.onProgress?.({ type: 'kad-dht:query:query-error', peer: id.toString(), detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })
        return false
      }
    })), signal).catch((err: unknown) => { throw toPortError(err, signal) })
    return { peers: acked.filter(Boolean).length }
  }

  get (key: Uint8Array, options: DhtOpOptions): AsyncIterable<DhtGetValue> {
    if (this.valueLookup === 'direct') {
      return this.guarded(() => queryStream<DhtGetValue, DhtGetValue>({
        signal: options.signal,
        maxResults: MAX_STREAM_RESULTS,
        start: ctx => this.directValues(key, ctx, options),
        onEvent: (found, ctx) => { ctx.push(found) }
      }))
    }
    // kad-dht's get() holds every VALUE back until the whole query (and its
    // record correction) is over; its onProgress callback sees each VALUE,
    // local hit included, the moment it is validated. Stream from there.
    return this.guarded(() => queryStream<QueryEvent, DhtGetValue>({
      signal: options.signal,
      maxResults: MAX_STREAM_RESULTS,
      start: ctx => this.node.services.dht.get(key, {
        signal: ctx.signal,
        onProgress: (event: AnyProgressEvent) => {
          if (!ctx.isOpen()) return
          const found = valueFromProgress(event)
          if (found !== undefined) ctx.push(found)
          options.onProgress?.(toDhtProgress(event))
        }
      })
    }))
  }

  /** this node's own copy first, then the direct lookup's values (value-lookup.ts) */
  private async * directValues (key: Uint8Array, ctx: QueryContext<DhtGetValue>, options: DhtOpOptions): AsyncGenerator<DhtGetValue> {
    const onProgress = (event: DhtProgress): void => { if (ctx.isOpen()) options.onProgress?.(event) }
    const local = await this.records.localValue(key, ctx.signal, onProgress)
    if (local !== undefined) {
      onProgress({ type: 'kad-dht:query:value', peer: this.peerId, detail: `bytes=${local.byteLength}` })
      yield { value: local, from: this.peerId }
    }
    const fromPeers = options.want !== undefined ? Math.max(1, options.want - (local !== undefined ? 1 : 0)) : undefined
    yield * lookupValues({
      key,
      self: this.node.peerId,
      start: this.routingTable.closestPeers(kadId(key), { count: LOOKUP_K }),
      rpc: this.getValueRpc,
      validate: async record => await this.records.validRecordValue(key, record, ctx.signal),
      dialable: (id, addrs) => this.dialableAddrs(id, addrs),
      signal: ctx.signal,
      // the own copy is one of the values wanted: one request fewer in flight,
      // and no more peers asked than values still wanted
      ...(fromPeers !== undefined ? { width: fromPeers, values: fromPeers } : {}),
      ...(this.routeAround !== undefined ? { routeAround: this.routeAround.forWalk() } : {}),
      onProgress
    })
  }

  /** our own FIND_NODE walk (closest-peers.ts); kad-dht's query when routeAround is off */
  private closestByWalk (key: Uint8Array, options: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    const ra = this.routeAround
    if (ra === undefined) return this.queries.closestPeers(key, options)
    return queryStream<DhtPeerInfo, DhtPeerInfo>({
      signal: options.signal,
      maxResults: MAX_STREAM_RESULTS,
      start: ctx => (async function * (port: Libp2pDhtPort) {
        const onProgress = (event: DhtProgress): void => { if (ctx.isOpen()) options.onProgress?.(event) }
        for await (const peer of lookupClosestPeers({
          key,
          self: port.node.peerId,
          start: port.routingTable.closestPeers(kadId(key), { count: LOOKUP_K }),
          rpc: port.findNodeRpc,
          dialable: (id, addrs) => port.dialableAddrs(id, addrs),
          signal: ctx.signal,
          routeAround: ra.forWalk(),
          onProgress
        })) {
          yield { peerId: peer.id.toString(), multiaddrs: await port.addrsOf(peer.id, peer.addrs, ctx.signal) }
        }
      })(this),
      onEvent: (found, ctx) => { ctx.push(found) }
    })
  }

  /** a peer's addresses without /p2p: those an answer gave, else the peer store's */
  private async addrsOf (id: PeerId, fromAnswer: Multiaddr[], signal: AbortSignal): Promise<string[]> {
    if (fromAnswer.length > 0) return [...new Set(fromAnswer.map(addrWithoutPeer))]
    try {
      const peer = await raceAbort(this.node.peerStore.get(id, { signal }), signal)
      return [...new Set(peer.addresses.map(({ multiaddr }) => addrWithoutPeer(multiaddr)))]
    } catch (err) {
      if (signal.aborted) throw err
      return []
    }
  }

  private dialableAddrs (id: PeerId, addrs: Multiaddr[]): Multiaddr[] {
    return this.mapper({ id, multiaddrs: addrs }).multiaddrs.map(a => a.encapsulate(`/p2p/${id.toString()}`))
  }

  async provide (cid: string, options: DhtOpOptions): Promise<{ peers: number }> {
    this.assertRunning()
    return await this.queries.provide(cid, options)
  }

  findProviders (cid: string, options: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    return this.guarded(() => this.queries.findProviders(cid, options))
  }

  async findPeer (peerId: string, options: DhtOpOptions): Promise<DhtPeerInfo> {
    this.assertRunning()
    return await this.queries.findPeer(peerId, options)
  }

  closestPeers (key: Uint8Array, options: DhtOpOptions): AsyncIterable<DhtPeerInfo> {
    return this.guarded(() => this.closestByWalk(key, options))
  }

  async dial (addr: string, options: DhtOpOptions): Promise<{ peerId: string }> {
    this.assertRunning()
    const target = parsed('multiaddr', () => multiaddr(addr))
    const { signal, onProgress } = options
    try {
      const connection = await raceAbort(this.node.dial(target, {
        signal,
        onProgress: (event: AnyProgressEvent) => { onProgress?.(toDhtProgress(event)) }
      }), signal)
      return { peerId: connection.remotePeer.toString() }
    } catch (err) {
      throw toPortError(err, signal)
    }
  }

  connections (): DhtConnection[] {
    return this.node.getConnections().map(connection => ({
      peerId: connection.remotePeer.toString(),
      remoteAddr: addrWithoutPeer(connection.remoteAddr),
      direction: connection.direction
    }))
  }

  async bootstrap (options: DhtOpOptions): Promise<{ connected: number, routingTableSize: number, failed: Array<{ addr: string, error: string }> }> {
    this.assertRunning()
    const { signal } = options
    const dialled = await Promise.allSettled(this.bootstrapAddrs.map(async addr => this.dial(addr, options)))
    if (signal.aborted) throw toPortError(undefined, signal)
    const peers = new Set<string>()
    const failed: Array<{ addr: string, error: string }> = []
    dialled.forEach((result, i) => {
      if (result.status === 'fulfilled') peers.add(result.value.peerId)
      else failed.push({ addr: this.bootstrapAddrs[i] ?? '', error: errorText(result.reason) })
    })
    if (peers.size > 0) {
      await untilBootstrapPeersSettled(this.node, this.routingTable, this.kadProtocol, [...peers].map(p => peerIdFromString(p)), signal)
      // refresh: a lookup of our own id fills the routing table with the
      // peers closest to us (every responder is offered to the table)
      await this.queries.selfLookup(options)
    }
    return { connected: peers.size, routingTableSize: this.routingTable.size, failed }
  }

  status (): DhtPortStatus {
    return {
      peerId: this.peerId,
      multiaddrs: this.multiaddrs(),
      connections: this.node.getConnections().length,
      routingTableSize: this.routingTable.size,
      mode: this.node.services.dht.getMode(),
      ...(this.rejections !== undefined ? { recordsRejected: this.rejections() } : {}),
      ...(this.refusals !== undefined ? { refusals: this.refusals() } : {}),
      dhtRequests: { ...this.streams.stats(), ...(this.routeAround?.stats() ?? { stalls: 0, lateAnswers: 0, suspects: 0, suspected: 0 }) },
      ...(this.peerInfoCache !== undefined ? { peerInfoCache: this.peerInfoCache.cacheStats() } : {}),
      network: { ...this.network.status(), ...(this.sweeper !== undefined ? { recordSweep: this.sweeper.stats() } : {}) },
      buckets: routingBucketsOf(this.node.services.dht)
    }
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.network.stop()
    await this.sweeper?.stop()
    this.streams.close()
    await this.node.stop()
  }

  private assertRunning (): void {
    if (this.stopped) throw notStartedError()
  }

  /** Runs the checks of a streaming operation when iteration starts, so they reject the iteration. */
  private guarded<V> (open: () => AsyncIterable<V>): AsyncIterable<V> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const port = this
    return {
      [Symbol.asyncIterator]: () => {
        port.assertRunning()
        return open()[Symbol.asyncIterator]()
      }
    }
  }
}

/**
 * createNode wires one node: its repo, the libp2p node (behind a DhtPort, given
 * to the swarm actor that owns it from then on), the keystore, the verify pool,
 * the actor system with its built-in actors (system, swarm, keys, verifier,
 * store, ipns, dnslink, republisher), and optionally a trace of everything.
 */
import { randomBytes } from 'node:crypto'
import { createLibp2pDhtPort } from '../actors/swarm/libp2p/libp2p-dht-port.js'
import { defaultSelectors, defaultValidators } from '../actors/swarm/libp2p/namespaces.js'
import { swarmActor } from '../actors/swarm/swarm-actor.js'
import { systemActor } from '../actors/system/system-actor.js'
import { ActorSystem } from '../actors/runtime/system.js'
import { openTraceFile } from './trace-file.js'
import { guardedConnectionGater } from './network-guard.js'
import { checkNetworkThreadOptions, networkThreadPorts } from './network-thread.js'
import { releaseAfter } from './release-after.js'
import { resolveNetworkProfile } from '../actors/swarm/libp2p/profiles.js'
import type { NetworkName, NetworkSettings } from '../actors/swarm/libp2p/profiles.js'
import { dnsForServers } from '../actors/swarm/libp2p/dns-resolver.js'
import type { TraceFile, TraceFileStatus } from './trace-file.js'
import { RealClock } from '../platform/real-clock.js'
import { loadIdentity, openRepo } from './repo.js'
import { keysActor } from '../actors/keys/keys-actor.js'
import { keystoreOps } from '../actors/keys/key-ops.js'
import { Keystore } from '../actors/keys/keystore.js'
import type { KeyOps } from '../actors/keys/key-ops.js'
import { verifierActor } from '../actors/verifier/verifier-actor.js'
import { createInlineVerifier } from '../workers/verify-pool.js'
import { acquireSharedPool } from './shared-pool.js'
import { withVerdictCache } from '../workers/verdict-cache.js'
import { storeActor } from '../actors/store/store-actor.js'
import { datastoreRecordStore } from '../actors/store/record-store.js'
import { ipnsActor } from '../actors/ipns/ipns-actor.js'
import { dnslinkActor } from '../actors/dnslink/dnslink-actor.js'
import { nodeDnsOps } from '../actors/dnslink/dns-ops.js'
import type { DnsLinkSettings } from '../actors/dnslink/dnslink-actor.js'
import type { DnsOps } from '../actors/dnslink/dns-ops.js'
import { guardIpnsRecords, IPNS_NAMESPACE, ipnsSelector, ipnsValidator, RejectionCounter } from '../actors/swarm/libp2p/ipns-dht.js'
import { inboundLimitsOf, KadInboundGuard } from '../actors/swarm/libp2p/kad-inbound-guard.js'
import { republisherActor } from '../actors/republisher/republisher-actor.js'
import { datastoreRepublishState } from '../actors/republisher/republish-state.js'
import type { RepublisherOptions } from '../actors/republisher/republisher-actor.js'
import { routersActor } from '../actors/routers/routers-actor.js'
import { heliaRouterPort } from '../actors/routers/http/helia-router-port.js'
import type { RoutersSettings } from '../actors/routers/routers-actor.js'
import type { BatchVerifier } from '../workers/verify-pool.js'
import type { ActorDefinition, AskOptions, ProgressEvent } from '../actors/runtime/actor.js'
import type { DeadLetter } from '../actors/runtime/dead-letters.js'
import type { Incident } from '../actors/runtime/incidents.js'
import type { DhtPort } from '../actors/swarm/dht-port.js'
import type { Libp2pDhtPortOptions } from '../actors/swarm/libp2p/libp2p-options.js'
import type { BootstrapRetryOptions } from '../actors/swarm/bootstrap-joiner.js'
import { checkBootstrapRetry, noPeerReason } from '../actors/swarm/bootstrap-joiner.js'
import { BootstrapError } from '../messages/errors.js'
import type { TraceSink } from '../actors/runtime/trace-events.js'
import type { AskCommand, AskType, BaseCommand, ItemOf, ReplyOf, StreamCommand, StreamType } from '../messages/commands.js'
import type { Selectors, Validators } from '@libp2p/kad-dht'
import type { ConnectionGater } from '@libp2p/interface'

export interface NodeOptions {
  /** 'memory' (default) or a directory: a LevelDB datastore with the node's identity */
  repo?: string
  /** listen multiaddrs; default /ip4/127.0.0.1/tcp/0 (tcp) or a fresh /memory/… address */
  listen?: string[]
  /**
   * addresses to announce (identify, peer records) instead of the listen
   * ones, e.g. a proxy or NAT mapping in front of the node; default none
   */
  announce?: string[]
  /**
   * libp2p connection gater (default: allow everything); for benches and
   * tests that must keep some peers from dialling or accepting others
   */
  connectionGater?: ConnectionGater
  /**
   * peers (multiaddrs with /p2p/…) that swarm.bootstrap dials; the node
   * bootstraps on start when given, and createNode fails with a
   * BootstrapError naming each peer's error if it reaches none of them
   * within `bootstrapTimeoutMs` (unless `bootstrapRetry`)
   */
  bootstrap?: string[]
  /** how long createNode's bootstrap may take (default 10 s) */
  bootstrapTimeoutMs?: number
  /**
   * start even when bootstrap reaches no peer, and keep trying in the
   * background (waits doubling from 1 s to 60 s, 10 s per try, or what you
   * give), visible in swarm.status.bootstrap and as swarm:bootstrap:*
   * progress events; default off: such a node fails createNode
   */
  bootstrapRetry?: boolean | BootstrapRetryOptions
  /** deterministic identity (for a new repo) and seeded randomness */
  seed?: number
  transport?: 'tcp' | 'memory'
  /**
   * DHT server, client, or 'auto' (kad-dht decides: server once the node has
   * a confirmed public address); default the network profile's (local:
   * server, amino: auto; a dial-only node, `listen: []`: client)
   */
  mode?: 'server' | 'client' | 'auto'
  /**
   * the network profile (docs/network.md): 'local' (default: loopback, dials
   * nothing it was not given) or 'amino' (the public IPFS DHT: its bootstrap
   * peers, TCP 4001 + WebSockets 4002 on every interface, AutoNAT, …), or
   * settings on top of one; bootstrap, listen, announce, mode and loopback
   * given here override the profile's
   */
  network?: NetworkName | NetworkSettings
  /** testnet settings: keep loopback addresses in the DHT, allow-list loopback dials */
  loopback?: boolean
  /** deadline of an ask that names none (default 30 s) */
  defaultTimeoutMs?: number
  /**
   * yield to the host's event loop after this many ms of deliveries, not only
   * after 2,048 of them (default off; SystemOptions.deliverySliceMs says what
   * it costs: a burst of asks spans several host turns)
   */
  deliverySliceMs?: number
  /** record a trace: a file path (JSONL) or a sink */
  trace?: string | TraceSink
  /**
   * a trace file's bound on lines waiting for the disk (default 32 MiB):
   * past it the recording is cut with a `truncated` marker (reason
   * 'buffer-full'), never silently; see traceStatus() and docs/replay.md
   */
  traceBufferBytes?: number
  /** extra DHT record namespaces (`/<ns>/…`) beside the built-in `swarmbus` one */
  validators?: Validators
  selectors?: Selectors
  /**
   * passphrase of the keystore (named keys are sealed with it). A memory repo
   * without one gets a random one; a directory repo without one has a locked
   * keystore: key.list works, and so does everything with the node's own key
   * 'self' (stored unsealed, like kubo's identity); named keys cannot be used,
   * created, imported, renamed or removed. A wrong one fails createNode.
   */
  passphrase?: string
  /**
   * where signatures are checked: 'pool' (default; worker threads shared by
   * every node of the process), 'inline' (on the event loop; tests), or your own
   */
  verifier?: 'pool' | 'inline' | BatchVerifier
  /** IPNS: valid answers that end a DHT lookup (default 16), resolve cache size (default 1,024) */
  ipns?: { quorum?: number, cacheSize?: number }
  /**
   * IPNS republishing of the names this node published (default on: check
   * every 1 h ± 10 %, re-sign within 24 h of EOL, 4 at once, first run 60 s
   * after start when something is due); false turns it off. See docs/republish.md.
   */
  republish?: RepublisherOptions | false
  /**
   * DNSLink (`dnslink.resolve`, and IPNS names that are domains): the DNS
   * servers to ask (`'127.0.0.1:5353'`, `'[::1]:53'`, DoH URLs; default the
   * system's), answers cached for their records' TTL (`ttlMs`, default 60 s,
   * for an answer that has none), the
   * cache size, the bare-domain fallback, or a lookup of your own. A malformed
   * server address fails createNode. See docs/dnslink.md.
   */
  dns?: DnsLinkSettings & { servers?: string[], lookup?: DnsOps }
  /**
   * libp2p's own metrics (`createLibp2p({ metrics })`), e.g.
   * libp2pPrometheusMetrics(registry) from src/node/libp2p-metrics.ts; a
   * libp2p node rebuilt after a crash gets the same factory. Default none.
   */
  libp2pMetrics?: Libp2pDhtPortOptions['metrics']
  /**
   * Route around frozen DHT peers (default true; docs/dht.md): lookups stop
   * waiting on stalled requests and make peers that fail them suspects.
   * `false` for comparisons (benches).
   */
  routeAround?: boolean
  /**
   * run the libp2p node in its own worker thread (src/node/network-thread.ts),
   * off this event loop; default off. Refused (TypeError) with `validators`,
   * `selectors`, `connectionGater`, `libp2pMetrics`, a directory repo or the
   * memory transport. See docs/architecture.md, "The network thread".
   */
  networkThread?: boolean
  /**
   * Delegated Routing V1 HTTP endpoints (`routers.*` commands): their base
   * URLs (default the network profile's: none on `local`, so no routers
   * actor; https://delegated-ipfs.dev on `amino`; `[]` turns it off), the per-endpoint timeout, retries,
   * breaker and in-flight limits. A malformed URL fails createNode. See
   * docs/routing.md.
   */
  routers?: RoutersSettings & {
    endpoints?: string[]
    /** IPNS resolve: how long after a router's valid record the best found answers, unless the DHT's quorum comes first (default 300 ms) */
    settleMs?: number
  }
}

export interface SwarmNode {
  readonly peerId: string
  /** listen addresses including /p2p/<peerId> */
  readonly multiaddrs: string[]
  ask<C extends AskCommand>(command: C, options?: AskOptions): Promise<ReplyOf<C['type'] & AskType>>
  stream<C extends StreamCommand>(command: C, options?: AskOptions): AsyncIterable<ItemOf<C['type'] & StreamType>>
  on(event: 'progress', fn: (e: ProgressEvent) => void): () => void
  on(event: 'dead-letter', fn: (d: DeadLetter) => void): () => void
  /** failures nobody waits for: an actor's stop that failed, a listener that threw, a completion that was lost */
  on(event: 'incident', fn: (i: Incident) => void): () => void
  /** add an extension actor; its command types become askable */
  spawn<C extends BaseCommand, I>(def: ActorDefinition<C, I>): void
  /** the node's actor system (status, dead letters) */
  readonly system: ActorSystem
  /**
   * the trace file being written (createNode({ trace: path })): events so
   * far, bytes waiting for the disk, and whether the recording was cut short
   * (its buffer filled, or the file could not be written); undefined without one
   */
  traceStatus(): TraceFileStatus | undefined
  stop(): Promise<void>
}

async function openTrace (trace: string | TraceSink | undefined, seed: number, startedAt: number, wallAt: number, config: Record<string, unknown>, now: () => number, maxBufferBytes: number | undefined): Promise<{ sink?: TraceSink, file?: TraceFile, close: () => Promise<void> }> {
  if (trace === undefined) return { close: async () => {} }
  if (typeof trace !== 'string') return { sink: trace, close: async () => {} }
  const file = await openTraceFile({ path: trace, seed, startedAt, wallAt, config, now, ...(maxBufferBytes !== undefined ? { maxBufferBytes } : {}) })
  return { sink: file.recorder, file, close: async () => { await file.close() } }
}

export async function createNode (options: NodeOptions = {}): Promise<SwarmNode> {
  if (typeof options.bootstrapRetry === 'object') checkBootstrapRetry(options.bootstrapRetry)
  if (options.bootstrapTimeoutMs !== undefined && !(Number.isFinite(options.bootstrapTimeoutMs) && options.bootstrapTimeoutMs > 0)) {
    throw new RangeError('bootstrapTimeoutMs must be a positive number of ms')
  }
  if (options.deliverySliceMs !== undefined && !(options.deliverySliceMs > 0)) {
    throw new RangeError('deliverySliceMs must be a positive number of ms (or Infinity)')
  }
  if (options.networkThread === true) checkNetworkThreadOptions(options)
  const transport = options.transport ?? 'tcp'
  // a malformed network setting fails before anything is opened
  const profile = resolveNetworkProfile(options.network)
  const bootstrap = options.bootstrap ?? [...profile.bootstrap]
  const repo = await openRepo(options.repo ?? 'memory')
  let port: DhtPort | undefined
  let verifier: BatchVerifier | undefined
  let trace: Awaited<ReturnType<typeof openTrace>> | undefined
  try {
    // DNS settings first: a malformed server address or setting fails before anything starts
    const { servers: dnsServers, lookup: dnsLookup, ...dnsSettings } = options.dns ?? {}
    const dnslink = dnslinkActor({ ...dnsSettings, ops: dnsLookup ?? nodeDnsOps(dnsServers !== undefined ? { servers: dnsServers } : {}) })
    // /dnsaddr bootstrap addresses resolve on the same servers as DNSLink
    const dialDns = dnsForServers(dnsServers)
    // router endpoints next: a malformed URL or setting fails before anything starts
    // the profile's endpoints (amino: delegated-ipfs.dev) unless endpoints are given; `endpoints: []` is none
    const { endpoints: routerEndpoints = [...profile.routers], settleMs, ...routerSettings } = options.routers ?? {}
    if (settleMs !== undefined && !(Number.isFinite(settleMs) && settleMs >= 0)) throw new RangeError('routers: settleMs must be a non-negative number of ms')
    const routers = routerEndpoints.length === 0
      ? undefined
      : routersActor({ ...routerSettings, ports: routerEndpoints.map(url => heliaRouterPort({ url, ...(routerSettings.maxInFlight !== undefined ? { concurrentRequests: routerSettings.maxInFlight } : {}) })) })
    // with routers, IPNS resolves and publishes use them beside the DHT (the composite router)
    const ipnsOptions = routers === undefined ? options.ipns ?? {} : { ...options.ipns, routers: settleMs !== undefined ? { settleMs } : {} }
    const privateKey = await loadIdentity(repo, options.seed)
    const listen = options.listen ?? (transport === 'memory' ? [`/memory/swarmbus-${randomBytes(6).toString('hex')}`] : undefined)
    verifier = options.verifier === 'inline'
      ? createInlineVerifier()
      : options.verifier === undefined || options.verifier === 'pool' ? acquireSharedPool() : options.verifier
    const ownsVerifier = typeof options.verifier !== 'object'
    // one verdict per distinct signature for this node: kad-dht's validator sees
    // each peer's copy of a record, the verifier actor the record once more
    const shared = withVerdictCache(verifier)
    // records kad-dht refused through our validators never reach an actor: count them here, report them in swarm.status
    const rejected = new RejectionCounter()
    // the validator runs inside libp2p, outside any turn; it reads the same wall
    // clock as the actors (the system's, once it exists)
    let wallNow = (): number => clock.wall()
    const validators = { ...defaultValidators(), [IPNS_NAMESPACE]: ipnsValidator(shared, () => wallNow(), rejected), ...options.validators }
    const selectors = { ...defaultSelectors(), [IPNS_NAMESPACE]: ipnsSelector, ...options.selectors }
    // the actor system's clock: its timer firings are inputs of the trace, by id
    const clock = new RealClock()
    // as a DHT server, never replace a stored IPNS record with a lower one
    const dhtDatastore = guardIpnsRecords(repo.datastore, undefined, rejected)
    // the port's own clock (caches, idle streams, lookup hedges): its timers are
    // libp2p's side of the replay boundary and must not take ids from the
    // system's sequence, or a replay (which has no port) sees other timer ids
    const portClock = new RealClock()
    // inbound DHT requests: size limit, per-peer rate, malformed and stream counts; refusals into the same counter
    const inbound = new KadInboundGuard({ clock: portClock, rejected, ...inboundLimitsOf(profile) })
    // under SWARMBUS_NETWORK_GUARD (tests), dials outside this machine are refused (network-guard.ts)
    const gater = guardedConnectionGater(options.connectionGater)
    const makePort = options.networkThread === true ? networkThreadPorts({
      privateKey, listen, profile, bootstrap, announce: options.announce, mode: options.mode, loopback: options.loopback, dnsServers
    }) : async (): Promise<DhtPort> => await createLibp2pDhtPort({
      clock: portClock,
      datastore: dhtDatastore,
      privateKey,
      transport,
      ...(listen !== undefined ? { listen } : {}),
      profile,
      ...(dialDns !== undefined ? { dns: dialDns } : {}),
      ...(bootstrap.length > 0 ? { bootstrap } : {}),
      ...(options.announce !== undefined ? { announce: options.announce } : {}),
      ...(gater !== undefined ? { connectionGater: gater } : {}),
      ...(options.libp2pMetrics !== undefined ? { metrics: options.libp2pMetrics } : {}),
      ...(options.mode !== undefined ? { mode: options.mode } : {}),
      ...(options.loopback !== undefined ? { loopback: options.loopback } : {}),
      ...(options.routeAround !== undefined ? { routeAround: options.routeAround } : {}),
      validators,
      selectors,
      rejections: () => rejected.snapshot(),
      inboundGuard: inbound,
      refusals: () => ({ byReason: rejected.byReason(), inbound: inbound.stats() })
    })
    const passphrase = options.passphrase ?? (repo.location === 'memory' ? randomBytes(24).toString('base64') : undefined)
    const keystore = await Keystore.open(repo.datastore, privateKey, passphrase)
    const openKeys = async (): Promise<KeyOps> => keystoreOps(await Keystore.open(repo.datastore, privateKey, passphrase))
    port = await makePort()
    const seed = options.seed ?? randomBytes(4).readUInt32LE(0)
    const bootstrapRetry = options.bootstrapRetry === true ? {} : options.bootstrapRetry === false ? undefined : options.bootstrapRetry
    const startedAt = clock.now()
    const wallAt = clock.wall()
    const systemConfig = { defaultTimeoutMs: options.defaultTimeoutMs ?? 30_000 }
    trace = await openTrace(options.trace, seed, startedAt, wallAt, {
      peerId: port.peerId,
      actors: ['system', 'swarm', 'keys', 'verifier', 'store', 'ipns', ...(options.republish === false ? [] : ['republisher']), 'dnslink', ...(routers !== undefined ? ['routers'] : [])],
      ipns: ipnsOptions,
      dnslink: dnsSettings,
      ...(routers !== undefined ? { routers: { endpoints: routerEndpoints, ...routerSettings } } : {}),
      ...(options.republish === false ? {} : { republish: options.republish ?? {} }),
      namespaces: Object.keys(validators),
      ...(bootstrapRetry !== undefined ? { bootstrapRetry } : {}),
      system: systemConfig
    }, () => clock.now(), options.traceBufferBytes)
    const system = new ActorSystem({
      clock,
      wallOffset: wallAt - startedAt,
      seed,
      ...systemConfig,
      ...(options.deliverySliceMs !== undefined ? { deliverySliceMs: options.deliverySliceMs } : {}),
      yieldToHost: fn => { setImmediate(fn) },
      ...(trace.sink !== undefined ? { trace: trace.sink } : {})
    })
    wallNow = () => system.wall()
    system.spawn(systemActor())
    system.spawn(swarmActor({ port, createPort: makePort, namespaces: Object.keys(validators), ...(bootstrapRetry !== undefined ? { bootstrapRetry } : {}) }))
    system.spawn(keysActor({ ops: keystoreOps(keystore), open: openKeys }))
    system.spawn(verifierActor({ verifier: shared }))
    system.spawn(storeActor({ ops: datastoreRecordStore(repo.datastore) }))
    system.spawn(ipnsActor(ipnsOptions))
    system.spawn(dnslink)
    if (options.republish !== false) system.spawn(republisherActor({ ...options.republish, state: datastoreRepublishState(repo.datastore) }))
    if (routers !== undefined) system.spawn(routers)
    const first = port
    let stopping: Promise<void> | undefined

    const node: SwarmNode = {
      peerId: first.peerId,
      get multiaddrs () { return first.multiaddrs() },
      ask: (command, opts) => system.ask(command, opts),
      stream: (command, opts) => system.stream(command, opts),
      on: ((event: 'progress' | 'dead-letter' | 'incident', fn: (e: never) => void) => {
        if (event === 'progress') return system.onProgress(fn as (e: ProgressEvent) => void)
        if (event === 'dead-letter') return system.deadLetters.onDeadLetter(fn as (d: DeadLetter) => void)
        if (event === 'incident') return system.incidents.onIncident(fn as (i: Incident) => void)
        throw new TypeError(`unknown event '${String(event)}'`)
      }) as SwarmNode['on'],
      spawn: def => { system.spawn(def) },
      system,
      traceStatus: () => trace?.file?.status(),
      stop: async () => {
        stopping ??= (async () => {
          await system.stop()
          if (ownsVerifier) await verifier?.destroy()
          await trace?.close()
          await repo.close()
        })()
        await stopping
      }
    }
    if (bootstrap.length > 0) {
      const timeoutMs = options.bootstrapTimeoutMs ?? 10_000
      let reached = 0
      let why: string
      let cause: unknown
      let failures: Array<{ addr: string, error: string }> = []
      try {
        const r = await node.ask({ type: 'swarm.bootstrap' }, { timeoutMs })
        reached = r.connected
        failures = r.failed
        why = noPeerReason(r.failed)
      } catch (err) {
        cause = err
        why = `the bootstrap failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`
        failures = bootstrap.map(addr => ({ addr, error: why }))
      }
      // a node that reaches none of its bootstrap peers says so, unless it was told to start alone and keep trying
      if (reached === 0 && bootstrapRetry === undefined) {
        await node.stop()
        throw new BootstrapError(`createNode: ${why} within ${timeoutMs} ms (pass bootstrapRetry to start alone and keep trying)`, failures, { cause })
      }
    }
    return node
  } catch (err) {
    throw await releaseAfter(err, [
      port === undefined ? undefined : async () => { await port?.stop() },
      trace === undefined ? undefined : async () => { await trace?.close() },
      typeof options.verifier !== 'object' && verifier !== undefined ? async () => { await verifier?.destroy() } : undefined,
      async () => { await repo.close() }
    ])
  }
}

/**
 * The runtime's own metrics, read from swarm.status at each scrape (one ask,
 * bounded in time): per actor its mailbox, pending asks, restarts, and per
 * command type the asks served and failed with their mean and max latency;
 * the DHT (routing table, connections, requests); the IPNS actor's counters
 * (cache hit ratio, in flight); the verifier's queue and throughput; open
 * reply ports. Dead letters are counted as they happen (node.on('dead-letter')),
 * event-loop delay by perf_hooks.monitorEventLoopDelay. Labels are actor
 * names, command types and reasons: bounded sets, no peer ids.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Counter, Gauge } from 'prom-client'
import type { Registry } from 'prom-client'
import type { SwarmNode } from '../../node/create-node.js'
import type { SwarmStatusReply } from '../../messages/swarm.js'
import '../../messages/swarm.js'

/** how long a scrape waits for swarm.status before it serves what it had */
export const STATUS_TIMEOUT_MS = 5_000

type Labels<K extends string> = Partial<Record<K, string | number>>

/** a counter whose value is read from a snapshot: reset, then set to the snapshot's totals */
function setCounter<K extends string> (c: Counter<K>, rows: Array<[Labels<K>, number]>): void {
  c.reset()
  for (const [labels, v] of rows) if (Number.isFinite(v) && v >= 0) c.inc(labels, v)
}

function setGauge<K extends string> (g: Gauge<K>, rows: Array<[Labels<K>, number]>): void {
  g.reset()
  for (const [labels, v] of rows) if (Number.isFinite(v)) g.set(labels, v)
}

const num = (v: unknown): number => typeof v === 'number' && Number.isFinite(v) ? v : 0

export interface RuntimeMetrics {
  /** read swarm.status into the gauges; false if it could not be read in time (the last values stay) */
  refresh(node: SwarmNode): Promise<boolean>
  /** count the node's dead letters from now on */
  watch(node: SwarmNode): () => void
  close(): void
}

export function runtimeMetrics (registry: Registry): RuntimeMetrics {
  const r = [registry]
  const mailbox = new Gauge({ name: 'swarmbus_actor_mailbox_depth', help: 'messages waiting in an actor\'s user lane', labelNames: ['actor'], registers: r })
  const capacity = new Gauge({ name: 'swarmbus_actor_mailbox_capacity', help: 'size of an actor\'s user lane (full: OverloadedError)', labelNames: ['actor'], registers: r })
  const pending = new Gauge({ name: 'swarmbus_actor_pending_asks', help: 'asks an actor is serving now', labelNames: ['actor'], registers: r })
  const restarts = new Counter({ name: 'swarmbus_actor_restarts_total', help: 'supervisor restarts of an actor', labelNames: ['actor'], registers: r })
  const commands = new Counter({ name: 'swarmbus_actor_commands_total', help: 'asks an actor settled, by command type and outcome (served, failed)', labelNames: ['actor', 'command', 'outcome'], registers: r })
  const meanLatency = new Gauge({ name: 'swarmbus_actor_command_latency_mean_seconds', help: 'mean latency of the settled asks of a command type', labelNames: ['actor', 'command'], registers: r })
  const maxLatency = new Gauge({ name: 'swarmbus_actor_command_latency_max_seconds', help: 'largest latency seen for a command type', labelNames: ['actor', 'command'], registers: r })
  const openPorts = new Gauge({ name: 'swarmbus_open_reply_ports', help: 'asks open in the whole actor system', registers: r })
  const deadLetters = new Counter({ name: 'swarmbus_dead_letters_total', help: 'dead letters, by reason (since the metrics were attached)', labelNames: ['reason'], registers: r })
  const dhtPeers = new Gauge({ name: 'ipns_dht_peers_total', help: 'peers in the kad-dht routing table', registers: r })
  const connections = new Gauge({ name: 'swarmbus_libp2p_connections', help: 'open libp2p connections', registers: r })
  const dhtRequests = new Gauge({ name: 'swarmbus_dht_requests', help: 'our own DHT requests: open and waiting now, streams idle now', labelNames: ['state'], registers: r })
  const rejected = new Counter({ name: 'swarmbus_dht_records_rejected_total', help: 'records kad-dht\'s validators refused, by namespace/rule', labelNames: ['reason'], registers: r })
  const refused = new Counter({ name: 'swarmbus_dht_refusals_total', help: 'bad DHT input this node refused, by reason (malformed, tooLarge, invalidSignature, expired, lowerSequence, wrongKey)', labelNames: ['reason'], registers: r })
  const inboundStreams = new Gauge({ name: 'swarmbus_dht_inbound_streams', help: 'kad-dht inbound streams as the inbound guard sees them: open now, and the peak', labelNames: ['state'], registers: r })
  const rateLimited = new Counter({ name: 'swarmbus_dht_inbound_rate_limited_total', help: 'times a peer\'s DHT requests were held back for its request rate', registers: r })
  const cacheHitRate = new Gauge({ name: 'ipns_cache_hit_rate', help: 'share of ipns.resolve answered from the resolve caches (cache hits / resolves) since start', registers: r })
  const ipnsCounters = new Counter({ name: 'ipns_actor_events_total', help: 'the IPNS actor\'s own counters: resolves, shared, cacheHits, publishes, corrections, dhtQueries', labelNames: ['event'], registers: r })
  const ipnsInFlight = new Gauge({ name: 'ipns_in_flight', help: 'resolves and publishes the IPNS actor runs now', registers: r })
  const verifierQueue = new Gauge({ name: 'swarmbus_verifier_queued', help: 'records waiting for a signature check', registers: r })
  const verifierBatches = new Gauge({ name: 'swarmbus_verifier_batches_in_flight', help: 'batches on the worker pool now', registers: r })
  const verifierDone = new Counter({ name: 'swarmbus_verifier_records_total', help: 'records the verifier checked, by how (verified on the pool, cache hit, refused as overloaded)', labelNames: ['result'], registers: r })
  const statusFailures = new Counter({ name: 'swarmbus_metrics_status_failures_total', help: 'scrapes that could not read swarm.status in time (their runtime values are the previous ones)', registers: r })

  const loop: ReturnType<typeof monitorEventLoopDelay> = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const loopDelay = new Gauge({
    name: 'swarmbus_event_loop_delay_seconds',
    help: 'event-loop delay since the previous scrape (perf_hooks.monitorEventLoopDelay), by statistic',
    labelNames: ['stat'],
    registers: r,
    collect () {
      if (loop.count === 0) return
      const s = (ns: number): number => ns / 1e9
      this.set({ stat: 'p50' }, s(loop.percentile(50)))
      this.set({ stat: 'p90' }, s(loop.percentile(90)))
      this.set({ stat: 'p99' }, s(loop.percentile(99)))
      this.set({ stat: 'max' }, s(loop.max))
      this.set({ stat: 'mean' }, s(loop.mean))
      loop.reset()
    }
  })
  void loopDelay

  const apply = (st: SwarmStatusReply): void => {
    setGauge(mailbox, st.actors.map(a => [{ actor: a.name }, a.mailbox.depth]))
    setGauge(capacity, st.actors.map(a => [{ actor: a.name }, a.mailbox.capacity]))
    setGauge(pending, st.actors.map(a => [{ actor: a.name }, a.pending]))
    setCounter(restarts, st.actors.map(a => [{ actor: a.name }, a.restarts]))
    const perCommand = st.actors.flatMap(a => Object.entries(a.commands).map(([command, c]) => ({ actor: a.name, command, c })))
    setCounter(commands, perCommand.flatMap(({ actor, command, c }) => [[{ actor, command, outcome: 'served' }, c.served], [{ actor, command, outcome: 'failed' }, c.failed]]))
    setGauge(meanLatency, perCommand.map(({ actor, command, c }) => [{ actor, command }, c.meanMs / 1000]))
    setGauge(maxLatency, perCommand.map(({ actor, command, c }) => [{ actor, command }, c.maxMs / 1000]))
    openPorts.set(st.openPorts)
    dhtPeers.set(st.routingTableSize)
    connections.set(st.connections)
    const req = st.dhtRequests
    setGauge(dhtRequests, req === undefined ? [] : [[{ state: 'open' }, req.open], [{ state: 'waiting' }, req.waiting], [{ state: 'idle-streams' }, req.streamsIdle]])
    setCounter(rejected, Object.entries(st.recordsRejected).map(([reason, v]) => [{ reason }, v]))
    if (st.refusals !== undefined) {
      setCounter(refused, Object.entries(st.refusals.byReason).map(([reason, v]) => [{ reason }, v]))
      setGauge(inboundStreams, [[{ state: 'open' }, st.refusals.inbound.open], [{ state: 'peak' }, st.refusals.inbound.peak]])
      setCounter(rateLimited, [[{}, st.refusals.inbound.rateLimited]])
    }
    const ipns = st.actors.find(a => a.name === 'ipns')?.detail ?? {}
    const resolves = num(ipns.resolves)
    cacheHitRate.set(resolves === 0 ? 0 : num(ipns.cacheHits) / resolves)
    setCounter(ipnsCounters, ['resolves', 'shared', 'cacheHits', 'publishes', 'corrections', 'dhtQueries'].map(e => [{ event: e }, num(ipns[e])]))
    ipnsInFlight.set(num(ipns.inFlight))
    const v = st.actors.find(a => a.name === 'verifier')?.detail ?? {}
    verifierQueue.set(num(v.queued))
    verifierBatches.set(num(v.inFlightBatches))
    setCounter(verifierDone, [[{ result: 'verified' }, num(v.verified)], [{ result: 'cache-hit' }, num(v.cacheHits)], [{ result: 'overloaded' }, num(v.overloaded) + num(v.poolOverloaded)]])
  }

  return {
    refresh: async (node) => {
      try {
        apply(await node.ask({ type: 'swarm.status' }, { timeoutMs: STATUS_TIMEOUT_MS }))
        return true
      } catch {
        // the node is busy or stopping: this scrape serves the previous values, and says so
        statusFailures.inc()
        return false
      }
    },
    watch: (node) => node.on('dead-letter', d => { deadLetters.inc({ reason: d.reason }) }),
    close: () => { loop.disable() }
  }
}

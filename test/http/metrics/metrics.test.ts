/**
 * /debug/metrics/prometheus of a node on a 3-node loopback testnet, with
 * libp2p's own metrics in the same registry: the exposition parses strictly,
 * every documented family is there, and the counters move with the work —
 * a publish and a resolve (asked directly and through the Routing V1 face),
 * HTTP requests by route and code, the actors' per-command counters. No
 * label carries a peer id. prom-client's global registry is left as it was.
 */
import Fastify from 'fastify'
import { register as globalRegistry } from 'prom-client'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { libp2pPrometheusMetrics } from '../../../src/node/libp2p-metrics.js'
import { createSwarmMetrics, METRICS_PATH, metricsFace } from '../../../src/http/metrics/index.js'
import { routingV1Face } from '../../../src/http/routing-v1/index.js'
import { parsePrometheusText, valueOf } from './prometheus-text.js'
import { echoActor } from '../../helpers/echo-actor.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { FastifyInstance } from 'fastify'
import type { Family } from './prometheus-text.js'
import type { SwarmMetrics } from '../../../src/http/metrics/index.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { Testnet } from '../../../src/node/create-testnet.js'

const SEED = 74_000

describe('Prometheus metrics of a node', () => {
  let net: Testnet
  let metrics: SwarmMetrics
  let app: FastifyInstance
  let url: string
  let observed: SwarmNode
  const globalBefore = globalRegistry.getMetricsAsArray().map(m => m.name).sort()

  const scrape = async (): Promise<Map<string, Family>> => {
    const res = await fetch(new URL(METRICS_PATH, url))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return parsePrometheusText(await res.text())
  }

  beforeAll(async () => {
    metrics = createSwarmMetrics()
    const libp2pMetrics = libp2pPrometheusMetrics(metrics.registry)
    net = await createTestnet({ nodes: 3, seed: SEED, settleTimeoutMs: 20_000, node: { verifier: 'inline', republish: false }, nodeAt: async i => i === 0 ? { libp2pMetrics } : {} })
    observed = metrics.attach(net.nodes[0] as SwarmNode)
    app = Fastify({ logger: false })
    app.addHook('onResponse', metrics.onResponse)
    await app.register(routingV1Face(observed))
    await app.register(metricsFace(observed, { metrics }))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`
  }, 60_000)

  afterAll(async () => {
    await app?.close()
    metrics?.close()
    await net?.stop()
  }, 30_000)

  it('parses strictly and holds every family: IPNS, runtime, HTTP, libp2p, process', async () => {
    const f = await scrape()
    for (const name of [
      'ipns_publish_total', 'ipns_publish_duration_seconds', 'ipns_resolve_total', 'ipns_resolve_duration_seconds', 'ipns_dht_peers_total', 'ipns_cache_hit_rate',
      'ipns_actor_events_total', 'ipns_in_flight',
      'swarmbus_actor_mailbox_depth', 'swarmbus_actor_mailbox_capacity', 'swarmbus_actor_pending_asks', 'swarmbus_actor_restarts_total', 'swarmbus_actor_commands_total',
      'swarmbus_actor_command_latency_mean_seconds', 'swarmbus_actor_command_latency_max_seconds', 'swarmbus_open_reply_ports', 'swarmbus_dead_letters_total',
      'swarmbus_libp2p_connections', 'swarmbus_dht_requests', 'swarmbus_dht_records_rejected_total', 'swarmbus_verifier_queued', 'swarmbus_verifier_batches_in_flight',
      'swarmbus_dht_refusals_total', 'swarmbus_dht_inbound_streams', 'swarmbus_dht_inbound_rate_limited_total',
      'swarmbus_verifier_records_total', 'swarmbus_event_loop_delay_seconds', 'swarmbus_metrics_status_failures_total',
      'swarmbus_http_requests_total', 'swarmbus_http_request_duration_seconds', 'swarmbus_metrics_label_overflow_total', 'process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes'
    ]) expect(f.has(name), name).toBe(true)
    expect(f.get('ipns_publish_total')?.type).toBe('counter')
    expect(f.get('ipns_resolve_duration_seconds')?.type).toBe('histogram')
    // libp2p's own, through @libp2p/prometheus-metrics, in the same registry
    expect([...f.keys()].filter(n => n.startsWith('libp2p_')).length).toBeGreaterThan(5)
    expect([...f.keys()].some(n => n.startsWith('libp2p_kad_dht'))).toBe(true)
    // the runtime read from swarm.status: every actor, the routing table
    const actors = new Set(f.get('swarmbus_actor_mailbox_capacity')?.samples.map(s => s.labels.actor))
    for (const a of ['system', 'swarm', 'keys', 'verifier', 'store', 'ipns', 'dnslink']) expect(actors.has(a), a).toBe(true)
    expect(valueOf(f, 'ipns_dht_peers_total')).toBeGreaterThanOrEqual(2)
    // swarm.status.refusals: one sample per reason, the inbound guard's streams
    expect(new Set(f.get('swarmbus_dht_refusals_total')?.samples.map(s => s.labels.reason))).toEqual(new Set(['malformed', 'tooLarge', 'invalidSignature', 'expired', 'lowerSequence', 'wrongKey']))
    expect(new Set(f.get('swarmbus_dht_inbound_streams')?.samples.map(s => s.labels.state))).toEqual(new Set(['open', 'peak']))
    expect(valueOf(f, 'swarmbus_event_loop_delay_seconds', { stat: 'max' })).toBeGreaterThan(0)
    // prom-client's global registry was not touched (nor cleared)
    expect(globalRegistry.getMetricsAsArray().map(m => m.name).sort()).toEqual(globalBefore)
  })

  it('a publish and a resolve move the IPNS counters, the histograms and the actor counters', async () => {
    const before = await scrape()
    const published = await observed.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa' }, { timeoutMs: 20_000 })
    await observed.ask({ type: 'ipns.resolve', name: published.name, nocache: true }, { timeoutMs: 20_000 })
    await observed.ask({ type: 'ipns.resolve', name: published.name }, { timeoutMs: 20_000 })
    await expect(observed.ask({ type: 'ipns.resolve', name: 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8', offline: true })).rejects.toThrow()
    const after = await scrape()
    const delta = (name: string, labels: Record<string, string> = {}): number => valueOf(after, name, labels) - valueOf(before, name, labels)
    expect(delta('ipns_publish_total', { outcome: 'ok' })).toBe(1)
    expect(delta('ipns_publish_duration_seconds_count', { outcome: 'ok' })).toBe(1)
    expect(delta('ipns_resolve_total', { outcome: 'ok' })).toBe(2)
    expect(delta('ipns_resolve_total', { outcome: 'not-found', source: 'none' })).toBe(1)
    expect(delta('ipns_resolve_total', { source: 'cache', outcome: 'ok' })).toBe(1)
    expect(delta('ipns_resolve_duration_seconds_count')).toBe(3)
    expect(delta('swarmbus_actor_commands_total', { actor: 'ipns', command: 'ipns.publish', outcome: 'served' })).toBe(1)
    expect(delta('swarmbus_actor_commands_total', { actor: 'ipns', command: 'ipns.resolve' })).toBe(3)
    expect(delta('ipns_actor_events_total', { event: 'cacheHits' })).toBeGreaterThanOrEqual(1)
    expect(valueOf(after, 'ipns_cache_hit_rate')).toBeGreaterThan(0)
    expect(valueOf(after, 'swarmbus_actor_command_latency_max_seconds', { actor: 'ipns', command: 'ipns.publish' })).toBeGreaterThan(0)
  })

  it('HTTP requests are counted by route template and code; a Routing V1 GET is a resolve', async () => {
    const publisher = net.nodes[1] as SwarmNode
    const published = await publisher.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa' }, { timeoutMs: 20_000 })
    const before = await scrape()
    const name = CID.parse(published.name, base36).toString()
    const res = await fetch(new URL(`routing/v1/ipns/${name}`, url), { headers: { accept: 'application/vnd.ipfs.ipns-record' } })
    expect(res.status).toBe(200)
    expect((await fetch(new URL('routing/v1/ipns/nonsense', url), { headers: { accept: 'application/vnd.ipfs.ipns-record' } })).status).toBe(400)
    expect((await fetch(new URL('nowhere', url))).status).toBe(404)
    const after = await scrape()
    const delta = (n: string, labels: Record<string, string>): number => valueOf(after, n, labels) - valueOf(before, n, labels)
    const route = '/routing/v1/ipns/:name'
    expect(delta('swarmbus_http_requests_total', { method: 'GET', route, code: '200' })).toBe(1)
    expect(delta('swarmbus_http_requests_total', { method: 'GET', route, code: '400' })).toBe(1)
    expect(delta('swarmbus_http_requests_total', { method: 'GET', route: 'unmatched', code: '404' })).toBe(1)
    expect(delta('swarmbus_http_request_duration_seconds_count', { route, code: '200' })).toBe(1)
    // the scrape before this one is counted too
    expect(delta('swarmbus_http_requests_total', { route: METRICS_PATH, code: '200' })).toBe(1)
    expect(delta('ipns_resolve_total', { source: 'dht', outcome: 'ok' })).toBe(1)
  })

  it('dead letters are counted by reason as they happen, as swarm.status counts them', async () => {
    const node = net.nodes[0] as SwarmNode
    const base = (await node.ask({ type: 'swarm.status' })).deadLetters.byReason as Record<string, number>
    const before = await scrape()
    // an extension actor that answers twice: each second answer is a late settle
    node.spawn(echoActor({ prefix: 'metrics' }))
    const ask = node.system.ask.bind(node.system) as unknown as (c: BaseCommand) => Promise<unknown>
    for (let i = 0; i < 3; i++) await ask({ type: 'metrics.echo', text: 'x', twice: true } as BaseCommand)
    await new Promise(resolve => setTimeout(resolve, 50))
    const now = (await node.ask({ type: 'swarm.status' })).deadLetters.byReason as Record<string, number>
    const after = await scrape()
    const reasons = new Set([...Object.keys(now), ...Object.keys(base)])
    let moved = 0
    for (const reason of reasons) {
      const want = (now[reason] ?? 0) - (base[reason] ?? 0)
      moved += want
      expect(valueOf(after, 'swarmbus_dead_letters_total', { reason }) - valueOf(before, 'swarmbus_dead_letters_total', { reason }), reason).toBe(want)
    }
    expect(moved).toBeGreaterThanOrEqual(3)
    expect(valueOf(after, 'swarmbus_dead_letters_total', { reason: 'late-settle' }) - valueOf(before, 'swarmbus_dead_letters_total', { reason: 'late-settle' })).toBeGreaterThanOrEqual(3)
  })

  it('no label carries a peer id', async () => {
    const f = await scrape()
    const ids = net.nodes.map(n => n.peerId)
    for (const fam of f.values()) {
      for (const s of fam.samples) {
        for (const [k, v] of Object.entries(s.labels)) {
          expect(/peer/i.test(k) && k !== 'peer_store' ? `${fam.name}{${k}}` : '').toBe('')
          expect(ids.some(id => v.includes(id)), `${fam.name}{${k}="${v}"}`).toBe(false)
        }
      }
    }
  })
})

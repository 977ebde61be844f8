/**
 * libp2p's own metrics (@libp2p/prometheus-metrics: connections, streams,
 * kad-dht's operations, RPCs, routing table and queues, data transfer) into
 * a prom-client registry of ours, for createNode({ libp2pMetrics }). Node
 * wiring, because only src/actors/swarm/ and src/node/ may import libp2p.
 *
 * `preserveExistingMetrics` keeps it from clearing prom-client's global
 * registry, and a registry of our own keeps its metrics beside ours; its
 * default process metrics are left to the caller (registering them twice on
 * one registry throws). Its metric objects are kept per name for the whole
 * process, so a libp2p node rebuilt after a crash reuses them.
 */
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import type { Registry } from 'prom-client'
import type { NodeOptions } from './create-node.js'

export function libp2pPrometheusMetrics (registry: Registry): NonNullable<NodeOptions['libp2pMetrics']> {
  return prometheusMetrics({ registry, preserveExistingMetrics: true, collectDefaultMetrics: false })
}

/**
 * IPNS metrics of the asks a host makes: a SwarmNode wrapper that times each
 * ipns.publish and ipns.resolve and labels it with the reply's source
 * (cache, local, dht, dns) and the outcome (ok, or the failure's kind:
 * not-found, timeout, invalid-record, …). Only the ask is wrapped; the
 * IPNS actor is not touched. The faces of a daemon take the wrapped node.
 */
import { SwarmbusError } from '../../messages/errors.js'
import { timedFamily } from './bounded.js'
import type { Registry } from 'prom-client'
import type { SwarmNode } from '../../node/create-node.js'
import '../../messages/ipns.js'

/** seconds: a cached resolve is microseconds, a DHT one up to the routing deadline */
export const IPNS_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** label sets each IPNS family keeps (past it: `other`, counted in swarmbus_metrics_label_overflow_total) */
export const MAX_IPNS_LABEL_SETS = 64

export interface IpnsMetrics {
  instrument(node: SwarmNode): SwarmNode
}

const outcomeOf = (err: unknown): string => err instanceof SwarmbusError ? err.kind : 'error'

export function ipnsMetrics (registry: Registry): IpnsMetrics {
  // one derived promise per ask (no async wrapper); the time read once on each side
  const timed = <T>(work: Promise<T>, done: (seconds: number, value: T | undefined, err: unknown) => void): Promise<T> => {
    const start = performance.now()
    return work.then(value => {
      done((performance.now() - start) / 1000, value, undefined)
      return value
    }, (err: unknown) => {
      done((performance.now() - start) / 1000, undefined, err)
      throw err
    })
  }

  // sources × outcomes are a few kinds each; the bound is for a value that is not (a source or kind a later change adds)
  const published = timedFamily({
    registry,
    counter: { name: 'ipns_publish_total', help: 'ipns.publish asks settled, by outcome (ok or the failure kind)' },
    histogram: { name: 'ipns_publish_duration_seconds', help: 'ipns.publish latency (sign, store, DHT put), by outcome', buckets: IPNS_BUCKETS },
    labelNames: ['outcome'],
    maxLabelSets: MAX_IPNS_LABEL_SETS
  })
  const resolved = timedFamily({
    registry,
    counter: { name: 'ipns_resolve_total', help: 'ipns.resolve asks settled, by source of the answer (cache, local, dht, dns; none on failure) and outcome' },
    histogram: { name: 'ipns_resolve_duration_seconds', help: 'ipns.resolve latency, by source and outcome', buckets: IPNS_BUCKETS },
    labelNames: ['source', 'outcome'],
    maxLabelSets: MAX_IPNS_LABEL_SETS
  })

  return {
    instrument: (node) => {
      const ask: SwarmNode['ask'] = (command, options) => {
        const work = node.ask(command, options)
        if (command.type === 'ipns.resolve') {
          return timed(work, (s, value, err) => {
            if (err === undefined) resolved.observe([String((value as { source?: string } | undefined)?.source ?? 'none'), 'ok'], s)
            else resolved.observe(['none', outcomeOf(err)], s)
          })
        }
        if (command.type === 'ipns.publish') {
          return timed(work, (s, _value, err) => { published.observe([err === undefined ? 'ok' : outcomeOf(err)], s) })
        }
        return work
      }
      return {
        get peerId () { return node.peerId },
        get multiaddrs () { return node.multiaddrs },
        get system () { return node.system },
        ask,
        stream: (command, options) => node.stream(command, options),
        on: node.on.bind(node),
        spawn: def => { node.spawn(def) },
        traceStatus: () => node.traceStatus(),
        stop: async () => { await node.stop() }
      }
    }
  }
}

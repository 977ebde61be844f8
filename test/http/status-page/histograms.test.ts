/**
 * latencyHistograms reads prom-client's histograms (a real Registry): one
 * entry per label set with observations, counts per bucket (not cumulative),
 * bounds in ms, the mean; metrics absent from the registry are skipped.
 */
import { Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { latencyHistograms } from '../../../src/http/status-page/histograms.js'

describe('latencyHistograms', () => {
  it('turns cumulative buckets into counts per bucket, per label set', async () => {
    const registry = new Registry()
    const h = new Histogram({ name: 'ipns_resolve_duration_seconds', help: 'h', labelNames: ['source', 'outcome'], buckets: [0.01, 0.1, 1], registers: [registry] })
    h.observe({ source: 'dht', outcome: 'ok' }, 0.005)
    h.observe({ source: 'dht', outcome: 'ok' }, 0.05)
    h.observe({ source: 'dht', outcome: 'ok' }, 0.06)
    h.observe({ source: 'dht', outcome: 'ok' }, 5)
    h.observe({ source: 'cache', outcome: 'ok' }, 0.001)
    h.zero({ source: 'none', outcome: 'not-found' })
    const out = await latencyHistograms(registry)
    expect(out).toHaveLength(2)
    const dht = out.find(x => x.labels.source === 'dht')
    expect(dht).toEqual({ metric: 'ipns_resolve_duration_seconds', labels: { source: 'dht', outcome: 'ok' }, boundsMs: [10, 100, 1000], counts: [1, 2, 0, 1], count: 4, meanMs: 1278.75 })
    expect(out.find(x => x.labels.source === 'cache')?.counts).toEqual([1, 0, 0, 0])
  })

  it('is empty for a registry without the IPNS metrics', async () => {
    expect(await latencyHistograms(new Registry())).toEqual([])
  })
})

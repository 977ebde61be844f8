/**
 * The IPNS latency histograms since start, read from the daemon's Prometheus
 * registry (docs/metrics.md): `ipns_resolve_duration_seconds` by source and
 * outcome, `ipns_publish_duration_seconds` by outcome. They count the asks
 * the daemon's faces make through the metrics' node (cache hits included),
 * where the ring (operations.ts) holds only the last operations that ran a
 * machine. Converted from prom-client's cumulative buckets to a count per
 * bucket; at most MAX_SERIES label sets per metric.
 */
import type { Registry } from 'prom-client'

export const LATENCY_METRICS = ['ipns_resolve_duration_seconds', 'ipns_publish_duration_seconds'] as const
export const MAX_SERIES = 64

export interface LatencyHistogram {
  metric: string
  /** the series' labels but `le`, e.g. { source: 'dht', outcome: 'ok' } */
  labels: Record<string, string>
  /** upper bounds in ms; the last count is for what lies above them all */
  boundsMs: number[]
  counts: number[]
  count: number
  /** mean in ms (0 for an empty series) */
  meanMs: number
}

interface Sample { metricName?: string, value: number, labels: Record<string, string | number> }

export async function latencyHistograms (registry: Registry): Promise<LatencyHistogram[]> {
  const out: LatencyHistogram[] = []
  for (const metric of LATENCY_METRICS) {
    const m = registry.getSingleMetric(metric)
    if (m === undefined) continue
    const samples = (await m.get()).values as Sample[]
    const series = new Map<string, { labels: Record<string, string>, buckets: Array<[number, number]>, sum: number, count: number }>()
    for (const s of samples) {
      const { le, ...rest } = s.labels
      const labels = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v)]))
      const key = JSON.stringify(labels)
      let entry = series.get(key)
      if (entry === undefined) {
        if (series.size >= MAX_SERIES) continue
        entry = { labels, buckets: [], sum: 0, count: 0 }
        series.set(key, entry)
      }
      if (s.metricName === `${metric}_bucket` && le !== undefined && le !== '+Inf') entry.buckets.push([Number(le), s.value])
      else if (s.metricName === `${metric}_sum`) entry.sum = s.value
      else if (s.metricName === `${metric}_count`) entry.count = s.value
    }
    for (const e of series.values()) {
      if (e.count === 0) continue
      e.buckets.sort((a, b) => a[0] - b[0])
      const counts: number[] = []
      let below = 0
      for (const [, cumulative] of e.buckets) {
        counts.push(cumulative - below)
        below = cumulative
      }
      counts.push(e.count - below)
      out.push({ metric, labels: e.labels, boundsMs: e.buckets.map(([le]) => le * 1000), counts, count: e.count, meanMs: Math.round(e.sum / e.count * 1e5) / 100 })
    }
  }
  return out
}

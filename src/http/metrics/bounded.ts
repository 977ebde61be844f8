/**
 * A counter and a histogram counted together (requests and their latency)
 * under one bounded set of label sets, cheap enough for every request.
 *
 * Bounded: label values come from requests and replies (methods, route
 * templates, status codes, failure kinds); each is drawn from a finite set,
 * but their product can be large, and a registry that grows with every new
 * combination is memory a hostile client can make the daemon spend. So a
 * family keeps at most `maxLabelSets` label sets; an observation past that
 * goes to ONE overflow set whose every label is `other`, and is counted in
 * `swarmbus_metrics_label_overflow_total{metric}`. Totals stay right (the
 * sum over all label sets is every observation); only the split is lost.
 *
 * Cheap: prom-client's Counter and Histogram hash and validate the labels
 * on every inc/observe, even through a cached child (~1.9 µs per request for
 * the pair, 6 % of a cached routing GET's CPU). Here an observation is a map
 * lookup and a few additions to plain numbers; the two families are metric
 * objects of their own on the same prom-client registry (registerMetric),
 * rendered by it in the same text format as prom-client's own.
 */
import { Counter } from 'prom-client'
import type { Metric, Registry } from 'prom-client'

/** the value of every label of the overflow set */
export const OVERFLOW_LABEL = 'other'
export const LABEL_OVERFLOW_METRIC = 'swarmbus_metrics_label_overflow_total'

/** the registry's overflow counter: made once per registry, shared by every bounded family on it */
export function labelOverflowCounter (registry: Registry): Counter<'metric'> {
  const existing = registry.getSingleMetric(LABEL_OVERFLOW_METRIC)
  if (existing !== undefined) return existing as Counter<'metric'>
  return new Counter({
    name: LABEL_OVERFLOW_METRIC,
    help: 'observations counted under the label set whose labels are all "other", because their metric already had its maximum of label sets, by metric',
    labelNames: ['metric'],
    registers: [registry]
  })
}

export interface TimedFamily {
  /** count one observation of `seconds` under these label values (in the family's label order) */
  observe(values: readonly string[], seconds: number): void
  /** label sets kept (the overflow set not included); never more than the bound */
  readonly size: number
}

export interface TimedFamilyOptions<K extends string> {
  registry: Registry
  /** the counter (…_total): observations by label set */
  counter: { name: string, help: string }
  /** the histogram: their values (seconds) by label set */
  histogram: { name: string, help: string, buckets: readonly number[] }
  labelNames: readonly K[]
  maxLabelSets: number
}

interface Series {
  labels: Record<string, string>
  count: number
  sum: number
  /** observations per bucket (not cumulative), the last past every bound (+Inf) */
  buckets: Float64Array
}

/** one sample as the registry renders it: `metricName{labels,sharedLabels} value` (metricName defaults to the family's name) */
interface SampleValue { metricName?: string, labels: Record<string, string | number>, sharedLabels?: Record<string, string>, value: number }

/**
 * a metric object the prom-client registry renders: it reads name, help,
 * type and getForPromString() or get() (prom-client's types give `type` as an enum; at run time
 * it is the exposition's type name, as here), and resets through reset()
 */
interface MetricData { name: string, help: string, type: 'counter' | 'histogram', aggregator: 'sum', values: SampleValue[] }
interface RegistryMetric {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'histogram'
  /** the samples with all their labels (what getMetricsAsJSON and the status page read) */
  get(): Promise<MetricData>
  /** the registry's text rendering prefers this when present, as for prom-client's Histogram */
  getForPromString?: () => Promise<MetricData>
  reset(): void
}

export function timedFamily<K extends string> (options: TimedFamilyOptions<K>): TimedFamily {
  const { registry, labelNames, maxLabelSets } = options
  if (!Number.isInteger(maxLabelSets) || maxLabelSets < 1) throw new RangeError(`maxLabelSets must be a positive integer, got ${maxLabelSets}`)
  const bounds = [...options.histogram.buckets].sort((a, b) => a - b)
  if (bounds.length === 0 || bounds.some(b => !Number.isFinite(b))) throw new RangeError('histogram buckets must be finite numbers, at least one')
  const overflowCount = labelOverflowCounter(registry).labels({ metric: options.counter.name })

  const series = new Map<string, Series>()
  let overflow: Series | undefined
  const newSeries = (values: readonly string[]): Series => ({
    labels: Object.fromEntries(labelNames.map((k, i) => [k, values[i] ?? ''])),
    count: 0,
    sum: 0,
    buckets: new Float64Array(bounds.length + 1)
  })
  const all = (): Series[] => overflow === undefined ? [...series.values()] : [...series.values(), overflow]
  const reset = (): void => {
    series.clear()
    overflow = undefined
  }

  const counter: RegistryMetric = {
    name: options.counter.name,
    help: options.counter.help,
    type: 'counter',
    get: async () => ({
      name: options.counter.name,
      help: options.counter.help,
      type: 'counter',
      aggregator: 'sum',
      values: all().map(s => ({ labels: s.labels, value: s.count }))
    }),
    reset
  }
  const hname = options.histogram.name
  /** the histogram's samples; `shared` as prom-client renders them (le first, the set's labels formatted once), else merged as its get() gives them */
  const histogramValues = (shared: boolean): SampleValue[] => {
    const values: SampleValue[] = []
    const sample = (metricName: string, labels: Record<string, string | number>, s: Series, value: number): void => {
      values.push(shared ? { metricName, labels, sharedLabels: s.labels, value } : { metricName, labels: { ...s.labels, ...labels }, value })
    }
    for (const s of all()) {
      let acc = 0
      for (let i = 0; i < bounds.length; i++) {
        acc += s.buckets[i] as number
        sample(`${hname}_bucket`, { le: bounds[i] as number }, s, acc)
      }
      sample(`${hname}_bucket`, { le: '+Inf' }, s, s.count)
      sample(`${hname}_sum`, {}, s, s.sum)
      sample(`${hname}_count`, {}, s, s.count)
    }
    return values
  }
  const histogramObject = (values: SampleValue[]): MetricData => ({ name: hname, help: options.histogram.help, type: 'histogram', aggregator: 'sum', values })
  const histogram: RegistryMetric = {
    name: hname,
    help: options.histogram.help,
    type: 'histogram',
    get: async () => histogramObject(histogramValues(false)),
    getForPromString: async () => histogramObject(histogramValues(true)),
    reset
  }
  registry.registerMetric(counter as unknown as Metric)
  registry.registerMetric(histogram as unknown as Metric)

  return {
    observe: (values, seconds) => {
      const key = values.join('\u0000')
      let s = series.get(key)
      if (s === undefined) {
        if (series.size >= maxLabelSets) {
          overflow ??= newSeries(labelNames.map(() => OVERFLOW_LABEL))
          overflowCount.inc()
          s = overflow
        } else {
          s = newSeries(values)
          series.set(key, s)
        }
      }
      // a value that is not a number (NaN) is counted, and not summed nor put in a bucket below +Inf
      s.count++
      if (Number.isFinite(seconds)) {
        s.sum += seconds
        let i = 0
        while (i < bounds.length && seconds > (bounds[i] as number)) i++
        s.buckets[i] = (s.buckets[i] as number) + 1
      } else {
        s.buckets[bounds.length] = (s.buckets[bounds.length] as number) + 1
      }
    },
    get size () { return series.size }
  }
}

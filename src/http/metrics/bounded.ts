/**
 * A counter and a histogram counted together under one bounded set of label
 * sets. Label values come from requests and replies (methods, route
 * templates, status codes, failure kinds): each is drawn from a finite set,
 * but their product can be large, and a registry that grows with every new
 * combination is memory a hostile client can make the daemon spend. So each
 * family keeps at most `maxLabelSets` label sets with their prom-client
 * children (cached: no label hashing per observation); an observation past
 * that goes to ONE overflow set whose every label is `other`, and is counted
 * in `swarmbus_metrics_label_overflow_total{metric}`. Totals stay right
 * (sum over all label sets = every observation); only the split is lost.
 */
import { Counter } from 'prom-client'
import type { Histogram, Registry } from 'prom-client'

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

interface Child { count: () => void, time: (s: number) => void }

export interface TimedFamilyOptions<K extends string> {
  /** the counter's name: the `metric` label of its overflow count */
  name: string
  counter: Counter<K>
  histogram: Histogram<K>
  labelNames: readonly K[]
  maxLabelSets: number
  /** labelOverflowCounter(registry) */
  overflowed: Counter<'metric'>
}

export function timedFamily<K extends string> ({ name, counter, histogram, labelNames, maxLabelSets, overflowed }: TimedFamilyOptions<K>): TimedFamily {
  if (!Number.isInteger(maxLabelSets) || maxLabelSets < 1) throw new RangeError(`maxLabelSets must be a positive integer, got ${maxLabelSets}`)
  const children = new Map<string, Child>()
  const childOf = (values: readonly string[]): Child => {
    const labels = Object.fromEntries(labelNames.map((k, i) => [k, values[i] ?? ''])) as Record<K, string>
    const c = counter.labels(labels)
    const h = histogram.labels(labels)
    return { count: () => { c.inc() }, time: s => { h.observe(s) } }
  }
  let overflow: Child | undefined
  const overflowCount = overflowed.labels({ metric: name })
  return {
    observe: (values, seconds) => {
      const key = values.join('\u0000')
      let child = children.get(key)
      if (child === undefined) {
        if (children.size >= maxLabelSets) {
          overflow ??= childOf(labelNames.map(() => OVERFLOW_LABEL))
          overflowCount.inc()
          child = overflow
        } else {
          child = childOf(values)
          children.set(key, child)
        }
      }
      child.count()
      child.time(seconds)
    },
    get size () { return children.size }
  }
}

/**
 * The HTTP metrics' label sets are bounded: requests spread over many
 * (method, route, code) combinations — as a hostile client can make them,
 * with odd methods on unknown paths and routes that answer many codes — fill
 * at most the bound, every request past it is counted under the one set whose
 * labels are all `other`, and the overflow is counted by metric. Totals stay
 * right. Checked on a real fastify app, read with the strict text parser.
 */
import Fastify from 'fastify'
import { Counter, Histogram, Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { httpMetrics, LABEL_OVERFLOW_METRIC, MAX_HTTP_LABEL_SETS } from '../../../src/http/metrics/index.js'
import { labelOverflowCounter, timedFamily } from '../../../src/http/metrics/bounded.js'
import { parsePrometheusText, valueOf } from './prometheus-text.js'
import type { FastifyInstance } from 'fastify'
import type { Family } from './prometheus-text.js'

const REQUESTS = 'swarmbus_http_requests_total'
const DURATION = 'swarmbus_http_request_duration_seconds'

/** a route answering the status code in its path (200–599), under two templates */
async function appWith (registry: Registry, maxLabelSets?: number): Promise<{ app: FastifyInstance, labelSets: () => number }> {
  const metrics = httpMetrics(registry, { maxLabelSets })
  const app = Fastify({ logger: false })
  app.addHook('onResponse', metrics.onResponse)
  for (const prefix of ['/a', '/b']) {
    app.get(`${prefix}/:code`, async (request, reply) => {
      const code = Number((request.params as { code: string }).code)
      return await reply.code(code >= 200 && code <= 599 ? code : 400).send('x')
    })
  }
  await app.ready()
  return { app, labelSets: () => metrics.labelSets }
}

const series = (f: Map<string, Family>, name: string): Array<Record<string, string>> => (f.get(name)?.samples ?? []).filter(s => s.name === name).map(s => s.labels)

describe('HTTP metrics label-set bound', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => { await app?.close() })

  it('past the bound, requests go to the `other` set and are counted as overflow; kept sets still count', async () => {
    const registry = new Registry()
    const made = await appWith(registry, 8)
    app = made.app
    // 8 distinct sets fill the bound
    for (let code = 200; code < 208; code++) expect((await app.inject(`/a/${code}`)).statusCode).toBe(code)
    // 5 new sets, one of them twice: 6 overflowed requests
    for (const code of [300, 301, 302, 303, 404, 404]) expect((await app.inject(`/b/${code}`)).statusCode).toBe(code)
    // a kept set is still counted under its own labels
    await app.inject('/a/200')
    expect(made.labelSets()).toBe(8)

    const f = parsePrometheusText(await registry.metrics())
    const sets = series(f, REQUESTS)
    expect(sets.length).toBe(9) // 8 kept + the overflow set
    expect(valueOf(f, REQUESTS, { method: 'other', route: 'other', code: 'other' })).toBe(6)
    expect(valueOf(f, `${DURATION}_count`, { method: 'other', route: 'other', code: 'other' })).toBe(6)
    expect(valueOf(f, LABEL_OVERFLOW_METRIC, { metric: REQUESTS })).toBe(6)
    expect(valueOf(f, REQUESTS, { method: 'GET', route: '/a/:code', code: '200' })).toBe(2)
    expect(valueOf(f, REQUESTS, { route: '/b/:code' })).toBe(0)
    // nothing lost: every request is in the totals
    expect(valueOf(f, REQUESTS)).toBe(15)
    expect(valueOf(f, `${DURATION}_count`)).toBe(15)
  })

  it('the default bound holds against many combinations and odd methods on unknown paths', async () => {
    const registry = new Registry()
    const made = await appWith(registry)
    app = made.app
    let sent = 0
    for (const prefix of ['/a', '/b']) {
      for (let code = 200; code <= 599; code++) {
        await app.inject(`${prefix}/${code}`)
        sent++
      }
    }
    // methods the HTTP parser accepts but no face uses: one `other` method, not one label value each
    for (const method of ['PROPFIND', 'MKCOL', 'LOCK', 'UNLOCK', 'SEARCH', 'PURGE'] as const) {
      await app.inject({ method, url: '/nowhere' })
      sent++
    }
    expect(made.labelSets()).toBe(MAX_HTTP_LABEL_SETS)

    const f = parsePrometheusText(await registry.metrics())
    const sets = series(f, REQUESTS)
    expect(sets.length).toBe(MAX_HTTP_LABEL_SETS + 1)
    const methods = new Set(sets.map(s => s.method))
    for (const odd of ['PROPFIND', 'MKCOL', 'LOCK', 'UNLOCK', 'SEARCH', 'PURGE']) expect(methods.has(odd), odd).toBe(false)
    const overflow = valueOf(f, LABEL_OVERFLOW_METRIC, { metric: REQUESTS })
    expect(overflow).toBe(sent - MAX_HTTP_LABEL_SETS)
    expect(valueOf(f, REQUESTS, { method: 'other', route: 'other', code: 'other' })).toBe(overflow)
    expect(valueOf(f, REQUESTS)).toBe(sent)
  })

  it('odd methods below the bound are one `other` method on the unmatched route', async () => {
    const registry = new Registry()
    const made = await appWith(registry)
    app = made.app
    for (const method of ['PROPFIND', 'MKCOL', 'LOCK'] as const) expect((await app.inject({ method, url: '/nowhere' })).statusCode).toBe(404)
    expect(made.labelSets()).toBe(1)
    const f = parsePrometheusText(await registry.metrics())
    expect(series(f, REQUESTS)).toEqual([{ method: 'other', route: 'unmatched', code: '404' }])
    expect(valueOf(f, REQUESTS)).toBe(3)
    expect(valueOf(f, LABEL_OVERFLOW_METRIC)).toBe(0)
  })

  it('families on one registry share one overflow counter, by metric; the bound must be positive', async () => {
    const registry = new Registry()
    const overflowed = labelOverflowCounter(registry)
    expect(labelOverflowCounter(registry)).toBe(overflowed)
    const options = { registry, counter: { name: 't_total', help: 't' }, histogram: { name: 't_seconds', help: 't', buckets: [0.01, 1] }, labelNames: ['k'] }
    const family = timedFamily({ ...options, maxLabelSets: 2 })
    for (const k of ['x', 'y', 'z', 'w', 'x']) family.observe([k], 0.001)
    expect(family.size).toBe(2)
    const f = parsePrometheusText(await registry.metrics())
    expect(series(f, 't_total')).toEqual([{ k: 'x' }, { k: 'y' }, { k: 'other' }])
    expect(valueOf(f, 't_total', { k: 'x' })).toBe(2)
    expect(valueOf(f, 't_total', { k: 'other' })).toBe(2)
    expect(valueOf(f, LABEL_OVERFLOW_METRIC, { metric: 't_total' })).toBe(2)
    expect(() => timedFamily({ ...options, registry: new Registry(), maxLabelSets: 0 })).toThrow(RangeError)
  })

  it('renders exactly as a prom-client Counter and Histogram given the same observations', async () => {
    const ours = new Registry()
    const theirs = new Registry()
    const buckets = [0.0005, 0.001, 0.01, 0.1, 1]
    const family = timedFamily({ registry: ours, counter: { name: 'x_total', help: 'x "help" \\ with\nescapes' }, histogram: { name: 'x_seconds', help: 'x latency', buckets }, labelNames: ['a', 'b'], maxLabelSets: 16 })
    // the overflow counter comes first on our registry, its series at 0: the same on theirs
    labelOverflowCounter(theirs).labels({ metric: 'x_total' })
    const counter = new Counter({ name: 'x_total', help: 'x "help" \\ with\nescapes', labelNames: ['a', 'b'], registers: [theirs] })
    const histogram = new Histogram({ name: 'x_seconds', help: 'x latency', labelNames: ['a', 'b'], buckets, registers: [theirs] })
    // values on the bounds, between them, past the last, and label values that need escaping
    const observations: Array<[string, string, number]> = [['GET', '200', 0.0005], ['GET', '200', 0.0007], ['GET', '200', 0.001], ['PUT', 'q"\\\n', 0.5], ['GET', '200', 3], ['PUT', 'q"\\\n', 0.1], ['HEAD', '', 0]]
    for (const [a, b, v] of observations) {
      family.observe([a, b], v)
      counter.inc({ a, b })
      histogram.observe({ a, b }, v)
    }
    const text = await ours.metrics()
    expect(text).toBe(await theirs.metrics())
    parsePrometheusText(text)
    // and get() (what getMetricsAsJSON and the status page read): every sample with all its labels
    const json = async (r: Registry): Promise<unknown> => (await r.getMetricsAsJSON()).map(m => ({ name: m.name, type: m.type, help: m.help, values: m.values.map(v => ({ metricName: (v as { metricName?: string }).metricName, labels: v.labels, value: v.value })) }))
    expect(await json(ours)).toEqual(await json(theirs))
    ours.resetMetrics()
    expect(parsePrometheusText(await ours.metrics()).get('x_total')?.samples).toEqual([])
  })
})

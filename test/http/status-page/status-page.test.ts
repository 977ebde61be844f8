/**
 * The status page of a node on a 3-node loopback testnet, served by the
 * daemon's listener (startHttpServer with the status-page face): after a
 * publish and a resolve, /api/status agrees with the node's own swarm.status
 * and swarm.peers (peer id, peers, buckets, republisher) and lists the
 * resolve with its lifecycle; the page, loaded in headless Chromium
 * (playwright-core, Debian's chromium), shows the same, and shows a hostile
 * name as text. GET only, no CORS, a strict CSP, API.Authorizations honoured,
 * and without them a Host guard against DNS rebinding.
 *
 * The browser cases skip only when no Chromium executable is installed
 * (.ci/run installs Debian's `chromium`).
 */
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { startHttpServer } from '../../../src/http/server.js'
import { STATUS_JSON_PATH, statusPageFace } from '../../../src/http/status-page/index.js'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { createSwarmMetrics } from '../../../src/http/metrics/index.js'
import type { SwarmMetrics } from '../../../src/http/metrics/index.js'
import type { Browser } from 'playwright-core'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { HttpServer } from '../../../src/http/server.js'
import type { PageStatus } from '../../../src/http/status-page/index.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { Testnet } from '../../../src/node/create-testnet.js'

const SEED = 75_000
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(p => existsSync(p))
const EVIL = '<img src=x onerror="window.__pwned=1">'

interface HostileCommand extends BaseCommand { type: 'statuspage.hostile' }

/** an actor that reports an IPNS-looking operation whose name and error are markup */
const hostileActor = defineActor<HostileCommand>({
  name: 'hostile',
  commands: ['statuspage.hostile'],
  start: ctx => ({
    receive: msg => {
      if (msg.kind !== 'command') return
      ctx.progress({ type: 'ipns:resolve:router', id: msg.env.id, detail: { name: EVIL, error: '<script>window.__pwned=2</script>' } })
      ctx.progress({ type: 'ipns:resolve:failed', id: msg.env.id, detail: { event: '<b>x</b>' } })
      ctx.reply(msg.env.id, {})
    }
  })
})

describe('the status page', () => {
  let net: Testnet
  let node: SwarmNode
  let metrics: SwarmMetrics
  let server: HttpServer
  let guarded: HttpServer
  let resolveId = ''
  let hostileId = ''
  let publishedName = ''

  const getStatus = async (): Promise<PageStatus> => {
    const res = await fetch(new URL(STATUS_JSON_PATH, server.url))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    return await res.json() as PageStatus
  }

  beforeAll(async () => {
    net = await createTestnet({ nodes: 3, seed: SEED, settleTimeoutMs: 20_000, node: { verifier: 'inline' } })
    // as the daemon does: the faces get the node the metrics observe, and the registry
    metrics = createSwarmMetrics({ defaultMetrics: false })
    node = metrics.attach(net.nodes[0] as SwarmNode)
    node.spawn(hostileActor)
    server = await startHttpServer({ node, listen: '/ip4/127.0.0.1/tcp/0', faces: [{ name: 'status-page', plugin: statusPageFace(node, { registry: metrics.registry }) }] })
    guarded = await startHttpServer({
      node,
      listen: '/ip4/127.0.0.1/tcp/0',
      faces: [{ name: 'status-page', plugin: statusPageFace(node, { authorizations: { page: { AuthSecret: 'basic:alice:s3cret', AllowedPaths: ['/'] }, rpc: { AuthSecret: 'bearer:tok', AllowedPaths: ['/api/v0'] } } }) }]
    })
    const published = await node.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa' }, { timeoutMs: 20_000 })
    publishedName = published.name
    const ids = new Set<string>()
    const off = node.on('progress', e => { if (e.type.startsWith('ipns:resolve:') && e.id !== undefined) ids.add(e.id) })
    await node.ask({ type: 'ipns.resolve', name: published.name, nocache: true }, { timeoutMs: 20_000 })
    off()
    expect(ids.size).toBe(1)
    resolveId = [...ids][0] ?? ''
    const hostile = new Set<string>()
    const off2 = node.on('progress', e => { if (e.actor === 'hostile' && e.id !== undefined) hostile.add(e.id) })
    const ask = node.system.ask.bind(node.system) as unknown as (c: BaseCommand) => Promise<unknown>
    await ask({ type: 'statuspage.hostile' } as BaseCommand)
    off2()
    expect(hostile.size).toBe(1)
    hostileId = [...hostile][0] ?? ''
  }, 60_000)

  afterAll(async () => {
    await server?.close()
    await guarded?.close()
    metrics?.close()
    await net?.stop()
  }, 30_000)

  it('/api/status agrees with swarm.status and swarm.peers', async () => {
    const s = await getStatus()
    const status = await node.ask({ type: 'swarm.status' })
    const peers = await node.ask({ type: 'swarm.peers' })
    expect(s.node.peerId).toBe(node.peerId)
    expect(s.node.multiaddrs).toEqual(status.multiaddrs)
    expect(s.peers.count).toBe(new Set(peers.peers.map(p => p.peerId)).size)
    expect(s.peers.count).toBe(2)
    expect(s.peers.list.map(c => c.peerId).sort()).toEqual(peers.peers.map(p => p.peerId).sort())
    expect(s.network).toEqual(status.network)
    expect(s.network?.profile).toBe('local')
    // the buckets hold the routing table's peers
    expect(s.buckets).not.toBeNull()
    expect(s.buckets?.reduce((n, b) => n + b.size, 0)).toBe(status.routingTableSize)
    expect(s.buckets?.some(b => b.self)).toBe(true)
    const inBuckets = new Set(s.buckets?.flatMap(b => b.peers.map(p => p.peerId)))
    for (const p of net.nodes.slice(1)) expect(inBuckets.has(p.peerId)).toBe(true)
    // the republisher as swarm.status has it (the publish made it track the name)
    expect(s.republish).not.toBeNull()
    expect(s.republish?.intervalMs).toBe(status.republish?.intervalMs)
    expect(s.republish?.concurrency).toBe(status.republish?.concurrency)
    // per-command latency from the actors
    const resolves = s.commands.find(c => c.actor === 'ipns' && c.command === 'ipns.resolve')
    expect(resolves?.served).toBeGreaterThanOrEqual(1)
    expect(resolves?.maxMs).toBeGreaterThan(0)
  })

  it('lists the resolve and the publish with their lifecycles, and their durations', async () => {
    const s = await getStatus()
    const r = s.operations.operations.find(o => o.kind === 'resolve' && o.id === resolveId)
    expect(r).toBeDefined()
    expect(r?.outcome).toBe('done')
    expect(r?.durationMs).toBeGreaterThan(0)
    expect(r?.steps.at(-1)?.state).toBe('done')
    expect(r?.steps.length).toBeGreaterThanOrEqual(2)
    expect(r?.steps.map(x => x.atMs)).toEqual([...(r?.steps.map(x => x.atMs) ?? [])].sort((a, b) => a - b))
    const p = s.operations.operations.find(o => o.kind === 'publish' && o.outcome === 'done')
    expect(p?.steps.map(x => x.state)).toContain('putting')
    expect(s.durations.histograms.find(h => h.kind === 'resolve' && h.outcome === 'done')?.total).toBeGreaterThanOrEqual(1)
    expect(s.durations.histograms.find(h => h.kind === 'publish' && h.outcome === 'done')?.total).toBeGreaterThanOrEqual(1)
    // the registry's histograms since start: the one publish, the resolve from the DHT
    const publishes = s.latency?.find(h => h.metric === 'ipns_publish_duration_seconds' && h.labels.outcome === 'ok')
    expect(publishes?.count).toBe(1)
    expect(publishes?.counts.reduce((a, b) => a + b, 0)).toBe(1)
    expect(s.latency?.some(h => h.metric === 'ipns_resolve_duration_seconds' && h.labels.outcome === 'ok' && h.count >= 1)).toBe(true)
    // nothing secret: no key material, no config
    const text = JSON.stringify(s)
    for (const word of ['privateKey', 'passphrase', 'AuthSecret', 'PrivKey']) expect(text).not.toContain(word)
  })

  it('is GET only, same-origin (no CORS) and under a strict CSP', async () => {
    const page = await fetch(server.url, { headers: { origin: 'https://evil.example' } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(page.headers.get('access-control-allow-origin')).toBeNull()
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await page.text()).toContain('<script src="/status-page.js"')
    const js = await fetch(new URL('/status-page.js', server.url))
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(await js.text()).not.toContain('innerHTML')
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const res = await fetch(new URL(STATUS_JSON_PATH, server.url), { method })
      expect(res.status, method).toBe(404)
      await res.body?.cancel()
    }
    const preflight = await fetch(new URL(STATUS_JSON_PATH, server.url), { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } })
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    await preflight.body?.cancel()
  })

  it('refuses a Host that is a name other than localhost (DNS rebinding), unless authorizations guard it', async () => {
    for (const host of ['evil.example', 'evil.example:5001', '127.0.0.1.nip.io']) {
      const res = await server.app.inject({ method: 'GET', url: STATUS_JSON_PATH, headers: { host } })
      expect(res.statusCode, host).toBe(403)
    }
    for (const host of ['127.0.0.1:5001', 'localhost:5001', 'localhost', '[::1]:5001', '10.1.2.3']) {
      const res = await server.app.inject({ method: 'GET', url: STATUS_JSON_PATH, headers: { host } })
      expect(res.statusCode, host).toBe(200)
    }
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`
    const guardedRes = await guarded.app.inject({ method: 'GET', url: STATUS_JSON_PATH, headers: { host: 'node.example:5001', authorization: basic } })
    expect(guardedRes.statusCode).toBe(200)
  })

  it('with API.Authorizations, needs a secret whose paths cover it (Basic challenge)', async () => {
    const none = await fetch(new URL(STATUS_JSON_PATH, guarded.url))
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic /)
    await none.body?.cancel()
    const rpcOnly = await fetch(guarded.url, { headers: { authorization: 'Bearer tok' } })
    expect(rpcOnly.status).toBe(401)
    await rpcOnly.body?.cancel()
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`
    const ok = await fetch(new URL(STATUS_JSON_PATH, guarded.url), { headers: { authorization: basic } })
    expect(ok.status).toBe(200)
    expect((await ok.json() as PageStatus).node.peerId).toBe(node.peerId)
  })

  describe.skipIf(CHROMIUM === undefined)('in headless Chromium', () => {
    let browser: Browser

    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    }, 30_000)
    afterAll(async () => { await browser?.close() })

    it('shows the node as the daemon has it: peer, peers, buckets, the resolve and its states, the republisher', async () => {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', e => { errors.push(e.message) })
      page.on('console', m => { if (m.type() === 'error') errors.push(m.text()) })
      await page.goto(server.url)
      await page.waitForSelector('body[data-generated-at]', { timeout: 10_000 })
      const status = await node.ask({ type: 'swarm.status' })
      const peers = await node.ask({ type: 'swarm.peers' })

      expect(await page.textContent('#peer-id')).toBe(node.peerId)
      expect(await page.textContent('#peer-count')).toBe(String(new Set(peers.peers.map(p => p.peerId)).size))
      expect(await page.textContent('#connection-count')).toBe(String(peers.peers.length))
      expect(await page.textContent('#mode')).toBe(status.mode)
      expect(await page.textContent('#reachability')).toBe(status.network?.reachability)
      expect(await page.textContent('#routing-table-size')).toBe(String(status.routingTableSize))
      for (const p of peers.peers) expect(await page.locator(`#connections tr[data-peer="${p.peerId}"]`).count()).toBeGreaterThanOrEqual(1)
      expect(await page.locator('#buckets tbody tr').count()).toBe(status.buckets?.length)

      const row = page.locator(`#operations tr[data-kind="resolve"][data-id="${resolveId}"]`)
      expect(await row.count()).toBe(1)
      expect(await row.getAttribute('data-outcome')).toBe('done')
      const states = await row.locator('[data-state]').evaluateAll(els => els.map(e => e.getAttribute('data-state')))
      expect(states.at(-1)).toBe('done')
      expect(states.length).toBeGreaterThanOrEqual(2)
      expect(await page.locator('#operations tr[data-kind="publish"][data-outcome="done"]').count()).toBeGreaterThanOrEqual(1)
      expect(await page.locator('#durations .hist[data-kind="resolve"][data-outcome="done"]').count()).toBe(1)
      expect(await page.locator('#commands tr[data-command="ipns ipns.resolve"]').count()).toBe(1)
      expect(await page.locator('#latency .hist[data-metric="ipns_publish_duration_seconds"][data-labels="outcome=ok"]').count()).toBe(1)

      const r = status.republish
      expect(r).toBeDefined()
      expect(await page.textContent('#republish [data-field="tracked"]')).toBe(String(r?.tracked))
      expect(await page.textContent('#republish [data-field="runs"]')).toBe(String(r?.runs))
      expect(await page.textContent('#republish [data-field="inFlight"]')).toBe(`${r?.inFlight ?? ''} of ${r?.concurrency ?? ''}`)
      expect(await page.textContent('#republish [data-field="state"]')).toMatch(/^(idle|running|loading)$/)

      // untrusted text is shown as text: the hostile name is there, its markup never ran
      const evil = page.locator(`#operations tr[data-id="${hostileId}"]`)
      expect(await evil.textContent()).toContain(EVIL)
      expect(await evil.textContent()).toContain('<script>')
      expect(await page.locator('#operations img, #operations script, #operations b').count()).toBe(0)
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()
      expect(errors).toEqual([])
      expect(publishedName).not.toBe('')
      await page.close()
    }, 30_000)

    it('keeps polling: a new resolve shows up without a reload', async () => {
      const page = await browser.newPage()
      await page.goto(server.url)
      await page.waitForSelector('body[data-generated-at]', { timeout: 10_000 })
      const ids = new Set<string>()
      const off = node.on('progress', e => { if (e.type.startsWith('ipns:resolve:') && e.id !== undefined) ids.add(e.id) })
      // nocache: a resolve answered from the cache runs no machine, so it has no lifecycle to list
      await node.ask({ type: 'ipns.resolve', name: publishedName, nocache: true }, { timeoutMs: 20_000 })
      off()
      expect(ids.size).toBe(1)
      const id = [...ids][0] ?? ''
      expect(await page.locator(`#operations tr[data-id="${id}"]`).count()).toBe(0)
      await page.waitForSelector(`#operations tr[data-kind="resolve"][data-id="${id}"][data-outcome="done"]`, { timeout: 10_000 })
      await page.close()
    }, 30_000)
  })
})

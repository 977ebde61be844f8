/**
 * The HTTP listener on real nodes: /health and /ready (standalone, joined a
 * 2-node TCP testnet, not joined while its bootstrap peer is absent, ?wait),
 * the concurrency gate (503 beyond the bound, counted, probes still
 * answered), the body limit (413), faces registered in order, graceful close
 * (in-flight finishes, nothing new is taken), the drain bound
 * (onDrainTimeout, then the connections are cut), and listen errors.
 */
import { connect, createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createNode, createTestnet } from '../../src/index.js'
import { startHttpServer } from '../../src/http/server.js'
import { parseListenAddress, isLoopback } from '../../src/http/listen-address.js'
import type { HttpFace, HttpServer } from '../../src/http/server.js'
import type { SwarmNode } from '../../src/index.js'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function memoryNode (): Promise<SwarmNode> {
  const node = await createNode({ transport: 'memory', verifier: 'inline', republish: false })
  cleanup.push(async () => { await node.stop() })
  return node
}

async function serve (node: SwarmNode, extra: Partial<Parameters<typeof startHttpServer>[0]> = {}): Promise<HttpServer> {
  const server = await startHttpServer({ node, listen: '/ip4/127.0.0.1/tcp/0', ...extra })
  cleanup.push(async () => { await server.close() })
  return server
}

/** A face whose GET /slow answers once release() is called (or the request is aborted). */
function slowFace (): { face: HttpFace, release: () => void, started: () => number } {
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  let started = 0
  const face: HttpFace = {
    name: 'slow',
    plugin: async app => {
      app.get('/slow', async () => {
        started++
        await gate
        return { done: true }
      })
      app.post('/echo', async request => ({ bytes: JSON.stringify(request.body).length }))
    }
  }
  return { face, release: () => { release() }, started: () => started }
}

async function until (what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = performance.now() + ms
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

describe('/health and /ready', () => {
  it('a standalone node is live and ready', async () => {
    const node = await memoryNode()
    const server = await serve(node)
    expect(server.multiaddr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    const health = await fetch(`${server.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', peerId: node.peerId })
    const ready = await fetch(`${server.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, reason: expect.stringContaining('standalone') })
    await node.stop()
    const down = await fetch(`${server.url}/health`)
    expect(down.status).toBe(503)
    expect(await down.json()).toMatchObject({ status: 'down', reason: expect.stringContaining('StoppedError') })
  })

  it('a node of a testnet is ready once it has a peer in its routing table', async () => {
    const net = await createTestnet({ nodes: 2, node: { verifier: 'inline', republish: false } })
    cleanup.push(async () => { await net.stop() })
    const server = await serve(net.nodes[0] as SwarmNode)
    const r = await fetch(`${server.url}/ready?wait=10s`)
    expect(r.status).toBe(200)
    expect(await r.json()).toMatchObject({ ready: true, reason: 'joined', routingTableSize: 1 })
  })

  it('a node whose bootstrap peer is not there is live but not ready; ?wait holds the answer', async () => {
    const free = await freePort()
    const node = await createNode({
      verifier: 'inline',
      republish: false,
      loopback: true,
      bootstrap: [`/ip4/127.0.0.1/tcp/${free}/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA`],
      bootstrapRetry: { firstMs: 60_000, maxMs: 60_000 },
      bootstrapTimeoutMs: 2_000
    })
    cleanup.push(async () => { await node.stop() })
    const server = await serve(node)
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    const t0 = performance.now()
    const r = await fetch(`${server.url}/ready?wait=400ms`)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(350)
    expect(r.status).toBe(503)
    expect(await r.json()).toMatchObject({ ready: false, reason: expect.stringContaining('not joined') })
    expect((await fetch(`${server.url}/ready?wait=soon`)).status).toBe(400)
  })
})

describe('limits', () => {
  it('answers 503 beyond maxConcurrentRequests, counts it, and still answers the probes', async () => {
    const node = await memoryNode()
    const slow = slowFace()
    const server = await serve(node, { faces: [slow.face], limits: { maxConcurrentRequests: 2 } })
    const first = [fetch(`${server.url}/slow`), fetch(`${server.url}/slow`)]
    await until('two requests in the handler', () => slow.started() === 2)
    const third = await fetch(`${server.url}/slow`)
    expect(third.status).toBe(503)
    expect(third.headers.get('retry-after')).toBe('1')
    expect(await third.json()).toMatchObject({ Type: 'error', Message: expect.stringContaining('overloaded: 2 requests in flight') })
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    expect(server.stats()).toMatchObject({ inFlight: 2, rejectedOverload: 1 })
    slow.release()
    for (const r of await Promise.all(first)) expect(r.status).toBe(200)
    await until('in-flight back to 0', () => server.stats().inFlight === 0)
    expect((await fetch(`${server.url}/slow`)).status).toBe(200)
  })

  it('answers 503 when a route has not started its answer within handlerTimeoutMs, and its response closes', async () => {
    const node = await memoryNode()
    let aborted = 0
    const face: HttpFace = {
      name: 'hang',
      plugin: async app => {
        app.setErrorHandler(async (err: Error & { statusCode?: number, code?: string }, _request, reply) => await reply.code(err.statusCode ?? 500).send({ error: err.name, code: err.code, message: err.message }))
        app.get('/hang', async (request, reply) => {
          // what the faces do: the work stops when the response closes before the handler answered
          await new Promise<void>(resolve => { reply.raw.once('close', () => { aborted++; resolve() }) })
          expect(request.signal.aborted).toBe(false)
          return reply
        })
        app.get('/fast', async () => ({ ok: true }))
        // headers out at once, the body later than the timeout: the answer had started, it is not cut
        app.get('/started', async (_request, reply) => {
          reply.raw.writeHead(200, { 'content-type': 'text/plain' })
          reply.raw.write('a')
          await new Promise(resolve => setTimeout(resolve, 350))
          reply.raw.end('b')
          return reply.hijack()
        })
      }
    }
    const server = await serve(node, { faces: [face], limits: { handlerTimeoutMs: 200 } })
    const t0 = performance.now()
    const r = await fetch(`${server.url}/hang`)
    const took = performance.now() - t0
    expect(r.status).toBe(503)
    expect(await r.json()).toMatchObject({ error: 'HandlerTimeoutError', code: 'SWARMBUS_HANDLER_TIMEOUT', message: expect.stringContaining('within 200 ms') })
    // answered after the bound, and at most one sweep (50 ms here) and some scheduling later
    expect(took).toBeGreaterThanOrEqual(190)
    expect(took).toBeLessThan(1_000)
    await until('the handler saw its response close', () => aborted === 1)
    expect((await fetch(`${server.url}/fast`)).status).toBe(200)
    const started = await fetch(`${server.url}/started`)
    expect(started.status).toBe(200)
    expect(await started.text()).toBe('ab')
    await until('in-flight back to 0', () => server.stats().inFlight === 0)
  })

  it('refuses a body over maxBodyBytes with 413', async () => {
    const node = await memoryNode()
    const server = await serve(node, { faces: [slowFace().face], limits: { maxBodyBytes: 100 } })
    const post = async (n: number): Promise<Response> => await fetch(`${server.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ s: 'x'.repeat(n) }) })
    expect((await post(10)).status).toBe(200)
    expect((await post(200)).status).toBe(413)
  })

  it('closes a connection beyond maxConnections at once', async () => {
    const node = await memoryNode()
    const server = await serve(node, { limits: { maxConnections: 1 } })
    const { port } = parseListenAddress(server.multiaddr)
    const held = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { held.once('connect', resolve).once('error', reject) })
    cleanup.push(async () => { held.destroy() })
    // the server has taken the held connection in once it counts it
    while (await connections(server) < 1) await new Promise(resolve => setTimeout(resolve, 10))
    await expect(fetch(`${server.url}/health`)).rejects.toThrow()
    held.destroy()
    await new Promise(resolve => setTimeout(resolve, 50))
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
  })

  it('refuses bad limits and bad listen addresses, naming them', async () => {
    const node = await memoryNode()
    await expect(startHttpServer({ node, listen: '/ip4/127.0.0.1/tcp/0', limits: { maxConcurrentRequests: 0 } })).rejects.toThrow(/maxConcurrentRequests/)
    await expect(startHttpServer({ node, listen: '/dns4/example.com/tcp/5001' })).rejects.toThrow(/expected \/ip4/)
    const taken = await serve(node)
    await expect(startHttpServer({ node, listen: taken.multiaddr })).rejects.toThrow(/address is in use/)
    expect(parseListenAddress('/ip6/::1/tcp/5001/http')).toEqual({ host: '::1', port: 5001, family: 6 })
    expect(isLoopback('127.0.0.2') && isLoopback('::1') && !isLoopback('0.0.0.0')).toBe(true)
  })

  it('registers faces in order and names one that fails', async () => {
    const node = await memoryNode()
    const order: string[] = []
    const face = (name: string): HttpFace => ({ name, plugin: async () => { order.push(name) } })
    await serve(node, { faces: [face('a'), face('b'), face('c')] })
    expect(order).toEqual(['a', 'b', 'c'])
    const broken: HttpFace = { name: 'broken', plugin: async () => { throw new Error('no') } }
    await expect(startHttpServer({ node, listen: '/ip4/127.0.0.1/tcp/0', faces: [broken] })).rejects.toThrow(/'broken' failed to register: no/)
  })
})

describe('graceful close', () => {
  it('lets an in-flight request finish (its connection then closes) and takes no new one', async () => {
    const node = await memoryNode()
    const slow = slowFace()
    const server = await startHttpServer({ node, listen: '/ip4/127.0.0.1/tcp/0', faces: [slow.face] })
    const inFlight = fetch(`${server.url}/slow`)
    await until('the request in the handler', () => slow.started() === 1)
    const closed = server.close()
    await expect(fetch(`${server.url}/health`, { headers: { connection: 'close' } })).rejects.toThrow()
    slow.release()
    const r = await inFlight
    expect(r.status).toBe(200)
    // its answer ends its keep-alive connection: no next request into a closed server
    expect(r.headers.get('connection')).toBe('close')
    expect(await r.json()).toEqual({ done: true })
    await closed
  })

  it('after shutdownTimeoutMs calls onDrainTimeout, then cuts what is left', async () => {
    const node = await memoryNode()
    const slow = slowFace()
    let drained = 0
    const server = await startHttpServer({
      node,
      listen: '/ip4/127.0.0.1/tcp/0',
      faces: [slow.face],
      limits: { shutdownTimeoutMs: 300 },
      onDrainTimeout: async () => { drained++ }
    })
    const inFlight = fetch(`${server.url}/slow`)
    await until('the request in the handler', () => slow.started() === 1)
    const t0 = performance.now()
    await server.close()
    const ms = performance.now() - t0
    expect(drained).toBe(1)
    expect(ms).toBeGreaterThanOrEqual(290)
    expect(ms).toBeLessThan(3_000)
    await expect(inFlight).rejects.toThrow()
    slow.release()
  })
})

/** the server's open connections */
async function connections (server: HttpServer): Promise<number> {
  return await new Promise((resolve, reject) => { server.app.server.getConnections((err, n) => { if (err !== null) reject(err); else resolve(n) }) })
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : 0) })
    })
    s.on('error', reject)
  })
}

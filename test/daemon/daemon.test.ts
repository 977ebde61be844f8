/**
 * startDaemon in this process, on a real repo (LevelDB) and TCP: a graceful
 * stop waits for a request in flight, which still reaches the node; a start
 * that fails (the API port is taken, the config names another identity)
 * undoes itself: the lock is released and the datastore closed, so the next
 * start works.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createNode } from '../../src/index.js'
import { startDaemon } from '../../src/daemon/daemon.js'
import { defaultConfig } from '../../src/daemon/config-schema.js'
import { loadConfig, saveConfig, setKey } from '../../src/daemon/config-file.js'
import { createLogger } from '../../src/daemon/logger.js'
import { startHttpServer } from '../../src/http/server.js'
import { findDaemon, writeApiFile } from '../../src/daemon/api-file.js'
import type { Daemon } from '../../src/daemon/daemon.js'
import type { HttpFace } from '../../src/http/server.js'

let dir = ''
const lines: string[] = []
const logger = createLogger({ format: 'json', level: 'info', out: { write: (l: string) => { lines.push(l) } } })
const running: Daemon[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-daemon-'))
  lines.length = 0
})
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('test over')
  await rm(dir, { recursive: true, force: true })
})

/** what `swarmbus init` makes: the identity in the datastore, a config on free ports */
async function init (): Promise<void> {
  const node = await createNode({ repo: dir, transport: 'memory', verifier: 'inline', republish: false })
  const peerId = node.peerId
  await node.stop()
  let config = defaultConfig(peerId)
  config = setKey(config, 'Addresses', { Swarm: ['/ip4/127.0.0.1/tcp/0'], API: '/ip4/127.0.0.1/tcp/0' })
  await saveConfig(dir, config)
}

describe('startDaemon', () => {
  it('stops gracefully: a request in flight finishes and still reaches the node', async () => {
    await init()
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    let entered = false
    const face = (node: Daemon['node']): HttpFace => ({
      name: 'slow',
      plugin: async app => {
        app.get('/slow-status', async request => {
          entered = true
          await gate
          const s = await node.ask({ type: 'swarm.status' }, { signal: request.signal })
          return { peerId: s.peerId }
        })
      }
    })
    const d = await startDaemon({ repo: dir, logger, faces: ctx => [face(ctx.node)] })
    expect(existsSync(join(dir, 'api'))).toBe(true)
    const answer = fetch(`${d.http.url}/slow-status`)
    while (!entered) await new Promise(resolve => setTimeout(resolve, 5))
    const stopped = d.stop('test')
    await new Promise(resolve => setTimeout(resolve, 100))
    release()
    const r = await answer
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ peerId: d.node.peerId })
    await stopped
    expect(existsSync(join(dir, 'api'))).toBe(false)
    expect(existsSync(join(dir, 'repo.lock'))).toBe(false)
    expect(lines.join('')).not.toContain('stopping the node under the requests')
    // the repo opens again: the datastore was closed
    expect(await findDaemon(dir)).toBeUndefined()
    const again = await startDaemon({ repo: dir, logger })
    running.push(again)
    expect(again.node.peerId).toBe(d.node.peerId)
    expect(await findDaemon(dir)).toEqual({ multiaddr: again.http.multiaddr, url: again.http.url, pid: process.pid })
  })

  it('serves its faces on the one listener: Routing V1 and the metrics of what it did', async () => {
    await init()
    // one DHT peer for the daemon's node to publish to and resolve from
    const peer = await createNode({ loopback: true, verifier: 'inline', republish: false })
    try {
      await saveConfig(dir, setKey(await loadConfig(dir), 'Bootstrap', [peer.multiaddrs[0]]))
      const d = await startDaemon({ repo: dir, logger })
      running.push(d)
      const { name } = await d.node.ask({ type: 'ipns.publish', value: '/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui' }, { timeoutMs: 20_000 })
      const r = await fetch(`${d.http.url}/routing/v1/ipns/${name}`, { headers: { accept: 'application/vnd.ipfs.ipns-record' } })
      expect([r.status, r.headers.get('content-type')]).toEqual([200, 'application/vnd.ipfs.ipns-record'])
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(100)
      const m = await fetch(`${d.http.url}/debug/metrics/prometheus`)
      expect(m.status).toBe(200)
      const text = await m.text()
      // the resolve the Routing V1 GET made, and that request itself
      expect(text).toMatch(/^ipns_resolve_total\{[^}]*\} 1$/m)
      expect(text).toMatch(/^swarmbus_http_requests_total\{[^}]*\} 1$/m)
      // (libp2p's own metrics: test/http/metrics; @libp2p/prometheus-metrics keeps them per process, in the first registry given)
    } finally {
      await peer.stop()
    }
  })

  it('findDaemon ignores an API file with no live daemon behind it', async () => {
    await writeApiFile(dir, '/ip4/127.0.0.1/tcp/1')
    expect(await findDaemon(dir)).toBeUndefined()
  })

  it('undoes a failed start: the API port is taken', async () => {
    await init()
    const other = await createNode({ transport: 'memory', verifier: 'inline', republish: false })
    const taken = await startHttpServer({ node: other, listen: '/ip4/127.0.0.1/tcp/0' })
    try {
      await saveConfig(dir, setKey(await loadConfig(dir), 'Addresses.API', taken.multiaddr))
      await expect(startDaemon({ repo: dir, logger })).rejects.toThrow(/cannot listen on .*the address is in use/)
      expect(existsSync(join(dir, 'repo.lock'))).toBe(false)
      await saveConfig(dir, setKey(await loadConfig(dir), 'Addresses.API', '/ip4/127.0.0.1/tcp/0'))
      running.push(await startDaemon({ repo: dir, logger }))
    } finally {
      await taken.close()
      await other.stop()
    }
  })

  it('refuses a config that names another identity, and a missing config', async () => {
    await expect(startDaemon({ repo: dir, logger })).rejects.toThrow(/no config at .*swarmbus init/)
    await init()
    const config = await loadConfig(dir)
    config.Identity.PeerID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
    await saveConfig(dir, config)
    await expect(startDaemon({ repo: dir, logger })).rejects.toThrow(/Identity\.PeerID: the config names 12D3KooWD3eck.* but the repo's key is/)
    expect(existsSync(join(dir, 'repo.lock'))).toBe(false)
  })
})

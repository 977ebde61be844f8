/**
 * The daemon serves the status page (src/daemon/faces.ts): startDaemon in
 * this process on a temp repo with one DHT peer; `/` is the page and
 * `/api/status` describes the daemon's node and its peer. With
 * API.Authorizations in the config, the page asks for one.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createNode } from '../../../src/index.js'
import { startDaemon } from '../../../src/daemon/daemon.js'
import { defaultConfig } from '../../../src/daemon/config-schema.js'
import { saveConfig, setKey } from '../../../src/daemon/config-file.js'
import { createLogger } from '../../../src/daemon/logger.js'
import type { Daemon } from '../../../src/daemon/daemon.js'
import type { PageStatus } from '../../../src/http/status-page/index.js'
import type { DaemonConfig } from '../../../src/daemon/config-schema.js'

let dir = ''
const logger = createLogger({ format: 'json', level: 'warn', out: { write: () => {} } })
const running: Daemon[] = []

beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'swarmbus-status-page-')) })
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('test over')
  await rm(dir, { recursive: true, force: true })
})

async function init (edit: (c: DaemonConfig) => DaemonConfig = c => c): Promise<void> {
  const node = await createNode({ repo: dir, transport: 'memory', verifier: 'inline', republish: false })
  const peerId = node.peerId
  await node.stop()
  await saveConfig(dir, edit(setKey(defaultConfig(peerId), 'Addresses', { Swarm: ['/ip4/127.0.0.1/tcp/0'], API: '/ip4/127.0.0.1/tcp/0' })))
}

describe('the daemon serves the status page', () => {
  it('at / with its JSON at /api/status, describing the daemon\'s node', async () => {
    const peer = await createNode({ loopback: true, verifier: 'inline', republish: false })
    try {
      await init(c => setKey(c, 'Bootstrap', [peer.multiaddrs[0]]))
      const d = await startDaemon({ repo: dir, logger })
      running.push(d)
      const page = await fetch(`${d.http.url}/`)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('<title>swarmbus status</title>')
      const s = await (await fetch(`${d.http.url}/api/status`)).json() as PageStatus
      expect(s.node.peerId).toBe(d.node.peerId)
      expect(s.peers.list.map(c => c.peerId)).toContain(peer.peerId)
      expect(s.republish).not.toBeNull()
    } finally {
      await peer.stop()
    }
  })

  it('behind API.Authorizations when the config has them', async () => {
    await init(c => setKey(c, 'API', { ...c.API, Authorizations: { me: { AuthSecret: 'bearer:t0k', AllowedPaths: ['/'] } } }))
    const d = await startDaemon({ repo: dir, logger })
    running.push(d)
    const none = await fetch(`${d.http.url}/api/status`)
    expect(none.status).toBe(401)
    await none.body?.cancel()
    const ok = await fetch(`${d.http.url}/api/status`, { headers: { authorization: 'Bearer t0k' } })
    expect(ok.status).toBe(200)
    expect((await ok.json() as PageStatus).node.peerId).toBe(d.node.peerId)
  })
})

/**
 * Record → replay of a live node, afresh in every run: a node joins a real
 * TCP testnet on loopback and does every command of docs/messages.md
 * (test/helpers/live-scenario.ts: lookups found, not found and out of time,
 * streams cut short, an abort, publishes, cached and uncached resolves,
 * republish, DNSLink on a local DNS server, a supervised restart), with its
 * trace written to a file. The trace must replay identically, through the
 * library and through `swarmbus replay` (the built CLI, with the extension
 * actor loaded by --actors). A change that breaks replay of real recordings
 * fails here, not only on golden traces recorded long ago.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { createTestnet } from '../../src/node/create-testnet.js'
import { replayNodeTraceFile } from '../../src/node/replay-node.js'
import { parseTrace } from '../../src/actors/runtime/trace-recorder.js'
import { startDnsServer } from '../helpers/dns-server.js'
import { SilentListener } from './support.js'
import { prepareLiveTestnet, runLiveScenario, waitUntilQuiet } from '../helpers/live-scenario.js'
import { crashyActor } from '../fixtures/actors/crashy-actor.mjs'
import type { LiveStep } from '../helpers/live-scenario.js'
import type { Testnet } from '../../src/node/create-testnet.js'
import type { TestDnsServer } from '../helpers/dns-server.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const CRASHY = join(ROOT, 'test', 'fixtures', 'actors', 'crashy-actor.mjs')

describe('a live node recorded on a TCP testnet replays identically', () => {
  let net: Testnet
  let dns: TestDnsServer
  let silent: SilentListener
  let dir: string
  let file: string
  let steps: LiveStep[] = []
  const log: string[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmbus-live-'))
    file = join(dir, 'live.jsonl')
    dns = await startDnsServer()
    silent = await new SilentListener().listen()
    net = await createTestnet({ nodes: 5, settleTimeoutMs: 20_000 })
    const prepared = await prepareLiveTestnet(net, dns)
    const node = await createNode({
      trace: file,
      loopback: true,
      bootstrap: [net.nodes[0]?.multiaddrs[0] ?? ''],
      defaultTimeoutMs: 10_000,
      dns: { servers: [dns.server] }
    })
    try {
      node.spawn(crashyActor())
      for (let i = 0; i < 100; i++) {
        if ((await node.ask({ type: 'swarm.status' })).routingTableSize >= net.nodes.length - 1) break
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      steps = await runLiveScenario(node, net, prepared, silent.port, log)
      expect(await waitUntilQuiet(node)).toBe(true)
    } finally {
      await node.stop()
    }
  }, 120_000)

  afterAll(async () => {
    await net?.stop()
    await dns?.close()
    await silent?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('did the work: every command type, found and not found, timeouts, a restart', async () => {
    const outcome = (what: string): string | undefined => steps.find(s => s.what === what)?.outcome
    expect(outcome('dht.get remote'), log.join('\n')).toBe('ok')
    expect(outcome('dht.get missing'), log.join('\n')).toBe('NotFoundError')
    expect(outcome('dht.get with a 2 ms deadline'), log.join('\n')).toBe('TimeoutError')
    expect(outcome('dht.get aborted by the caller'), log.join('\n')).toBe('AbortError')
    expect(outcome('dht.findPeer unknown with a 2 ms deadline'), log.join('\n')).toBe('TimeoutError')
    expect(outcome('dht.findPeer unknown'), log.join('\n')).toBe('NotFoundError')
    expect(outcome('swarm.dial a silent peer'), log.join('\n')).toBe('TimeoutError')
    expect(outcome('ipns.resolve uncached'), log.join('\n')).toBe('ok')
    expect(outcome('ipns.resolve cached'), log.join('\n')).toBe('ok')
    expect(outcome('ipns.resolve recursive'), log.join('\n')).toBe('ok')
    expect(outcome('ipns.resolve unpublished'), log.join('\n')).toBe('NotFoundError')
    expect(outcome('ipns.resolve a DNSLink domain'), log.join('\n')).toBe('ok')
    expect(outcome('ipns.republish'), log.join('\n')).toBe('ok')
    expect(outcome('crashy.crash'), log.join('\n')).toBe('StoppedError')
    expect(outcome('crashy.ping after the restart'), log.join('\n')).toBe('ok')
    for (const s of steps.filter(s => !['dht.get missing', 'dht.get with a 2 ms deadline', 'dht.get aborted by the caller',
      'dht.findPeer unknown with a 2 ms deadline', 'dht.findPeer unknown', 'swarm.dial a silent peer', 'ipns.resolve unpublished', 'ipns.resolve with a 3 ms deadline',
      'record.verify of another name', 'dnslink.resolve of a missing domain', 'crashy.crash'].includes(s.what))) {
      expect(s.outcome, `${s.what}\n${log.join('\n')}`).toBe('ok')
    }
    const { events } = parseTrace(await readFile(file, 'utf8'))
    const asked = new Set(events.flatMap(e => e.dir === 'in' && e.type === 'ask' ? [(e.command as { type: string }).type] : []))
    for (const type of ['system.ping', 'swarm.status', 'swarm.peers', 'swarm.dial', 'swarm.bootstrap', 'dht.put', 'dht.putTo', 'dht.get',
      'dht.getValues', 'dht.provide', 'dht.findProviders', 'dht.closestPeers', 'dht.findPeer', 'key.generate', 'key.list', 'key.export',
      'key.import', 'key.rename', 'key.remove', 'record.create', 'record.verify', 'ipns.publish', 'ipns.resolve', 'ipns.republish',
      'store.list', 'store.get', 'dnslink.resolve']) {
      expect(asked, type).toContain(type)
    }
    expect(events.some(e => e.type === 'crash')).toBe(true)
    expect(events.filter(e => e.dir === 'in' && e.type === 'timer').length).toBeGreaterThan(0)
  })

  it('replays identically through the library', async () => {
    const report = await replayNodeTraceFile(file, { extraActors: () => [crashyActor()] })
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
  })

  it('replays identically with `swarmbus replay --actors`', async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'replay', file, '--actors', CRASHY, '--json'])
    const report = JSON.parse(stdout) as { ok: boolean, divergence?: unknown }
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
  })
})

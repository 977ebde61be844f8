/**
 * `swarmbus name` on the public-network profile (amino), offline: the built
 * CLI as guarded child processes (SWARMBUS_NETWORK_GUARD=1, so a libp2p dial
 * off this machine is refused and warned about on stderr), with local
 * stand-ins for everything public: a `swarmbus testnet` child for kubo's
 * bootstrap peers (--bootstrap, or a /dnsaddr name answered by the DNS server
 * of test/helpers/dns-server.ts through --dns), and Routing V1 servers on
 * 127.0.0.1 (test/helpers/routing-v1-server.ts) for delegated-ipfs.dev
 * (--router). No child runs without --router, so none reaches for the
 * default endpoint. What the defaults pick with no flags at all is
 * name-node.test.ts's (asserted without starting a node).
 *
 * Shown: publish puts to the DHT and to each router and prints each
 * router's outcome; resolve with no --network joins amino and prints
 * progress (peers joined, DHT answers x/quorum, routers answered) with
 * --progress and nothing on stderr with --json; a record only a router holds
 * answers with source 'router'; a router that is down leaves the DHT's
 * answer; a /dnsaddr bootstrap (with --loopback: the name stands for a peer
 * on this machine, whose addresses the amino policy would otherwise drop); a
 * DHT that cannot be joined leaves the routers. Needs `npm run build` first.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRecord } from '../../src/records/create.js'
import { startDnsServer } from '../helpers/dns-server.js'
import { startRoutingV1Server } from '../helpers/routing-v1-server.js'
import type { ChildProcess } from 'node:child_process'
import type { TestDnsServer } from '../helpers/dns-server.js'
import type { RoutingV1Server } from '../helpers/routing-v1-server.js'
import { MAIN, runCli, startTestnetProcess, stopProcess } from '../helpers/cli-process.js'
import type { CliRun } from '../helpers/cli-process.js'

const children = new Set<ChildProcess>()
const servers: RoutingV1Server[] = []
let dir = ''
let testnet: ChildProcess | undefined
let dns: TestDnsServer | undefined
/** the testnet's addresses and peer ids, once it is ready */
let boot: string[] = []

type Run = CliRun
interface RouterOutcome { endpoint: string, ok: boolean, kind?: string, error?: string, attempts: number }
interface Published { name: string, value: string, sequence: string, peers: number, network: string, routers: RouterOutcome[] }
interface Resolved { name: string, value: string, sequence: string, source: string, network: string, routers: Array<{ endpoint: string, outcome: string, sequence?: string }> }

/** the CLI, guarded (test/helpers/cli-process.ts) */
function cli (args: string[], timeoutMs = 40_000, env: Record<string, string> = {}): Promise<Run> {
  return runCli(children, args, timeoutMs, env)
}

function json<T> (r: Run, what: string): T {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0)
  return JSON.parse(r.stdout) as T
}

async function router (init: Parameters<typeof startRoutingV1Server>[0] = {}): Promise<RoutingV1Server> {
  const s = await startRoutingV1Server(init)
  servers.push(s)
  return s
}

/** Starts `swarmbus testnet --nodes 4 --json`; resolves with its bootstrap addresses once it is ready. */
async function startTestnet (): Promise<string[]> {
  const { child, ready } = await startTestnetProcess(children, ['--nodes', '4'])
  testnet = child
  return ready.bootstrap
}

/** --bootstrap flags for two of the testnet's nodes: the stand-ins for kubo's list */
const twoPeers = (): string[] => boot.slice(0, 2).flatMap(a => ['--bootstrap', a])

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'npm run build' first`)
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-name-public-'))
  dns = await startDnsServer()
  boot = await startTestnet()
}, 50_000)

afterAll(async () => {
  await stopProcess(testnet)
  for (const child of children) child.kill('SIGKILL')
  for (const s of servers) await s.close()
  await dns?.close()
  if (dir !== '') await rm(dir, { recursive: true, force: true })
}, 20_000)

describe('swarmbus name on the amino profile, with local stand-ins', () => {
  it('publish puts to the DHT and every router (each outcome printed); resolve joins amino by default, with progress', async () => {
    const good = await router()
    const refusing = await router({ behaviour: { refusePuts: true } })
    const a = join(dir, 'a')
    const routers = ['--router', good.url, '--router', refusing.url]
    const p = json<Published>(await cli(['name', 'publish', '/ipfs/bafkqaaa', '--repo', a, '--network', 'amino', ...twoPeers(), ...routers, '--json']), 'publish')
    expect(p).toMatchObject({ value: '/ipfs/bafkqaaa', sequence: '0', network: 'amino' })
    expect(p.peers).toBeGreaterThan(0)
    expect(p.routers).toHaveLength(2)
    expect(p.routers.find(o => o.endpoint === good.url)).toMatchObject({ ok: true, attempts: 1 })
    const refused = p.routers.find(o => o.endpoint === refusing.url)
    expect(refused).toMatchObject({ ok: false, attempts: 1 })
    expect(refused?.error).toMatch(/./)
    // the router that took it holds the record, byte for byte what the DHT got
    expect(good.records.has(p.name)).toBe(true)
    expect(refusing.records.has(p.name)).toBe(false)

    // the human form prints each router's outcome; --progress shows the steps on stderr
    const human = await cli(['name', 'publish', '/ipfs/bafkqaaa/v2', '--repo', a, ...twoPeers(), '--router', good.url, '--progress'])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(new RegExp(`^published /ipns/${p.name} → /ipfs/bafkqaaa/v2\\n {2}sequence 1; stored in the repo and on \\d+ DHT peers?( \\(the DHT put ended after a router took it\\))?; [\\d.]+ ms\\n {2}router ${good.url.replace(/\./g, '\\.')}: stored\\n$`))
    expect(human.stderr).toMatch(/^joining amino through 2 bootstrap peers: \d+ connections?, \d+ peers? in the routing table/m)
    expect(human.stderr).toMatch(/^publishing \/ipfs\/bafkqaaa\/v2 under the key self: routers answered 1\/1/m)

    // resolve with no --network at all: amino (the stand-ins for its lists given); the JSON form says nothing on stderr
    const [quiet, loud] = await Promise.all([
      cli(['name', 'resolve', p.name, ...twoPeers(), '--router', good.url, '--json']),
      cli(['name', 'resolve', p.name, ...twoPeers(), '--router', good.url, '--progress', '--quorum', '2'])
    ])
    const r = json<Resolved>(quiet, 'resolve')
    expect(r).toMatchObject({ value: '/ipfs/bafkqaaa/v2', sequence: '1', network: 'amino' })
    expect(['dht', 'router']).toContain(r.source)
    expect(quiet.stderr).toBe('')
    expect(loud.code, loud.stderr).toBe(0)
    expect(loud.stdout).toBe('/ipfs/bafkqaaa/v2\n')
    expect(loud.stderr).toMatch(/^joining amino through 2 bootstrap peers: /m)
    expect(loud.stderr).toMatch(new RegExp(`^resolving ${p.name}: DHT answers \\d+/2`, 'm'))
    // the router is asked at once; the DHT's quorum of 2 may come before its answer
    expect(loud.stderr).toMatch(/DHT answers \d+\/2, routers answered [01]\/1 \(/)
    // nothing was refused by the guard (it would warn on stderr)
    expect(loud.stderr).not.toMatch(/network guard/)
  }, 90_000)

  it('a record only a router holds: source router, the endpoint named; a router that is down leaves the DHT', async () => {
    const key = await generateKeyPair('Ed25519')
    const rec = await createRecord(key, '/ipfs/bafkqaaa/router-only', { now: Date.now(), sequence: 3 })
    const name = rec.name.format('base36')
    const holder = await router({ records: new Map([[name, rec.bytes]]) })
    const down = await router()
    await down.close()
    const [viaRouter, verbose] = await Promise.all([
      cli(['name', 'resolve', name, ...twoPeers(), '--router', holder.url, '--settle', '50ms', '--json']),
      cli(['name', 'resolve', `/ipns/${name}/x`, ...twoPeers(), '--router', holder.url, '--verbose'])
    ])
    const r = json<Resolved>(viaRouter, 'router-only resolve')
    expect(r).toMatchObject({ value: '/ipfs/bafkqaaa/router-only', sequence: '3', source: 'router' })
    expect(r.routers).toEqual([{ endpoint: holder.url, outcome: 'record', sequence: '3' }])
    expect(verbose.code, verbose.stderr).toBe(0)
    expect(verbose.stdout).toBe('/ipfs/bafkqaaa/router-only/x\n')
    expect(verbose.stderr).toContain(`from the HTTP router ${holder.url}`)
    expect(verbose.stderr).toContain(`router ${holder.url}: a valid record, sequence 3`)

    // published to the DHT only (--router none); the router that is down fails its leg, the DHT answers
    const b = join(dir, 'b')
    const p = json<Published>(await cli(['name', 'publish', '/ipfs/bafkqaaa/dht', '--repo', b, ...twoPeers(), '--router', 'none', '--json']), 'DHT-only publish')
    expect(p.routers).toEqual([])
    const fromDht = json<Resolved>(await cli(['name', 'resolve', p.name, ...twoPeers(), '--router', down.url, '--router-timeout', '1s', '--json']), 'resolve with a router down')
    expect(fromDht).toMatchObject({ value: '/ipfs/bafkqaaa/dht', source: 'dht' })
    // the router was asked; it failed or had not answered yet (retrying) when the DHT's answer came
    expect(fromDht.routers).toHaveLength(1)
    expect(fromDht.routers[0]).toMatchObject({ endpoint: down.url })
    expect(fromDht.routers[0]?.outcome).not.toBe('record')
  }, 90_000)

  it('a /dnsaddr bootstrap name resolved through --dns; a DHT that cannot be joined leaves the routers', async () => {
    const key = await generateKeyPair('Ed25519')
    const rec = await createRecord(key, '/ipfs/bafkqaaa/dnsaddr', { now: Date.now(), sequence: 1 })
    const name = rec.name.format('base36')
    const holder = await router({ records: new Map([[name, rec.bytes]]) })
    const first = boot[0] ?? ''
    const peerId = first.split('/p2p/')[1] ?? ''
    dns?.setTxt('_dnsaddr.boot.swarmbus.test', [`dnsaddr=${first}`])
    const gone = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWCfRaLkrCj1jbMbUiBjFJL14aoC3BWdqJZXsoPATTCWvk'
    const [viaDnsaddr, unjoined] = await Promise.all([
      cli(['name', 'resolve', name, '--network', 'amino', '--bootstrap', `/dnsaddr/boot.swarmbus.test/p2p/${peerId}`, '--dns', dns?.server ?? '', '--loopback', '--router', holder.url, '--verbose', '--json']),
      cli(['name', 'resolve', name, '--bootstrap', gone, '--router', holder.url, '--timeout', '10s', '--progress'])
    ])
    expect(json<Resolved>(viaDnsaddr, '/dnsaddr resolve')).toMatchObject({ value: '/ipfs/bafkqaaa/dnsaddr', sequence: '1' })
    expect(viaDnsaddr.stderr).toMatch(/network amino, routers http:\/\/127\.0\.0\.1:\d+/)
    expect(viaDnsaddr.stderr).toMatch(/joined: [1-9]\d* peers? in the routing table/)
    expect(dns?.count('_dnsaddr.boot.swarmbus.test')).toBeGreaterThan(0)

    // the join gives up at half of --timeout; the router still answers
    expect(unjoined.code, unjoined.stderr).toBe(0)
    expect(unjoined.stdout).toBe('/ipfs/bafkqaaa/dnsaddr\n')
    expect(unjoined.stderr).toMatch(/name resolve: joined no peer [\d.]+s after the start: .*; going on with the HTTP router only/)
  }, 60_000)
})

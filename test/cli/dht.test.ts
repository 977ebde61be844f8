/**
 * `swarmbus dht …` through the built CLI as guarded child processes
 * (SWARMBUS_NETWORK_GUARD=1), joined to a `swarmbus testnet --nodes 4
 * --json` child: put then get (another process), provide then findprovs
 * (the provider's peer id), closest, findpeer of a testnet node; on the
 * amino profile with local stand-ins (the testnet for the bootstrap peers, a
 * Routing V1 server on 127.0.0.1 for the router) findprovs and findpeer
 * merge the router's answers with the DHT's; with a daemon on --repo the
 * commands go to its kubo RPC; usage errors exit 2 before a node starts. Needs `npm run build` first.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRoutingV1Server } from '../helpers/routing-v1-server.js'
import type { ChildProcess } from 'node:child_process'
import type { RoutingV1Server } from '../helpers/routing-v1-server.js'
import { MAIN, runCli, startDaemonProcess, startTestnetProcess, stopProcess } from '../helpers/cli-process.js'
import type { CliRun } from '../helpers/cli-process.js'

const children = new Set<ChildProcess>()
let testnet: ChildProcess | undefined
let router: RoutingV1Server | undefined
let boot: Array<{ peerId: string, multiaddrs: string[] }> = []
let bootstrap: string[] = []
let dir = ''

type Run = CliRun
interface Found { peerId: string, multiaddrs: string[], from: string }

/** a peer only the router knows (its id is well formed; nobody runs it) */
const ROUTER_PEER = '12D3KooWCfRaLkrCj1jbMbUiBjFJL14aoC3BWdqJZXsoPATTCWvk'
const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

/** the CLI, guarded (test/helpers/cli-process.ts) */
function cli (args: string[], timeoutMs = 40_000): Promise<Run> {
  return runCli(children, args, timeoutMs)
}

function json<T> (r: Run, what: string): T {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0)
  return JSON.parse(r.stdout) as T
}

const local = (): string[] => ['--network', 'local', ...bootstrap.flatMap(a => ['--bootstrap', a])]

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'npm run build' first`)
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-dht-'))
  router = await startRoutingV1Server({
    providers: new Map([[CID_A, [{ Schema: 'peer', ID: ROUTER_PEER, Addrs: ['/ip4/127.0.0.1/tcp/9/p2p/' + ROUTER_PEER], Protocols: ['transport-bitswap'] }]]])
  })
  const { child, ready: first } = await startTestnetProcess(children, ['--nodes', '4'])
  testnet = child
  boot = first.nodes
  bootstrap = first.bootstrap.slice(0, 2)
}, 50_000)

afterAll(async () => {
  await stopProcess(testnet)
  for (const c of children) c.kill('SIGKILL')
  await router?.close()
  if (dir !== '') await rm(dir, { recursive: true, force: true })
}, 20_000)

describe('swarmbus dht', () => {
  it('usage errors exit 2 before a node starts; --help', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['dht'], /Usage: swarmbus dht <command>/],
      [['dht', 'frob'], /unknown dht command 'frob' \(one of get, put, findprovs, findpeer, provide, closest\)/],
      [['dht', 'get'], /missing KEY/],
      [['dht', 'put', '/swarmbus/x'], /missing VALUE/],
      [['dht', 'get', '/swarmbus/x', '--offline'], /--offline: the dht commands need the network/],
      [['dht', 'findprovs', 'not-a-cid'], /CID: /],
      [['dht', 'findprovs', CID_A, '-n', '0'], /--num-providers must be an integer from 1 to 256/],
      [['dht', 'findpeer', 'nobody'], /PEER: /],
      [['dht', 'get', '/ipns/nobody'], /KEY: \/ipns\/nobody is not \/ipns\/<an IPNS name>/],
      [['dht', 'get', '/swarmbus/x', '--network', 'local'], /no peers to join on --network local/]
    ]
    const runs = await Promise.all(cases.map(async ([args]) => await cli(args)))
    cases.forEach(([args, message], i) => {
      expect(runs[i]?.code, args.join(' ')).toBe(2)
      expect(runs[i]?.stderr, args.join(' ')).toMatch(message)
    })
    const [h, g] = await Promise.all([cli(['dht', 'findprovs', '--help']), cli(['--help'])])
    expect(h.stdout).toMatch(/^Usage: swarmbus dht findprovs CID[\s\S]*--num-providers N[\s\S]*--network NAME[\s\S]*--router URL/)
    expect(g.stdout).toMatch(/^ {2}dht +DHT records, providers and peers/m)
  }, 40_000)

  it('on a testnet: put then get, provide then findprovs, closest, findpeer', async () => {
    const put = await cli(['dht', 'put', '/swarmbus/greeting', 'hello from the CLI', ...local(), '--progress'])
    expect(put.code, put.stderr).toBe(0)
    expect(put.stdout).toMatch(/^stored \/swarmbus\/greeting on [1-9]\d* DHT peers?; [\d.]+ ms\n$/)
    expect(put.stderr).toMatch(/^joining 2 bootstrap peers: /m)
    expect(put.stderr).toMatch(/^putting \/swarmbus\/greeting…/m)
    const [provideRun, publishRun] = await Promise.all([
      cli(['dht', 'provide', CID_A, ...local(), '--json']),
      cli(['name', 'publish', '/ipfs/bafkqaaa/by-name', '--repo', join(dir, 'publisher'), ...local(), '--json'])
    ])
    const provided = json<{ provider: string, peers: number }>(provideRun, 'provide')
    expect(provided.peers).toBeGreaterThan(0)
    // an /ipns/<name> key is the name's routing key: the value is the signed record
    const published = json<{ name: string }>(publishRun, 'name publish')
    const record = json<{ value: string, from: string }>(await cli(['dht', 'get', `/ipns/${published.name}`, ...local(), '--json']), 'dht get /ipns/')
    expect(Buffer.from(record.value, 'base64').toString('latin1')).toContain('/ipfs/bafkqaaa/by-name')
    expect(boot.some(b => b.peerId === record.from)).toBe(true)

    const target = boot[3] as { peerId: string, multiaddrs: string[] }
    const [got, provs, near, where] = await Promise.all([
      cli(['dht', 'get', '/swarmbus/greeting', ...local()]),
      cli(['dht', 'findprovs', CID_A, ...local(), '--json']),
      cli(['dht', 'closest', '/swarmbus/greeting', ...local()]),
      cli(['dht', 'findpeer', target.peerId, ...local(), '--json'])
    ])
    expect(got.code, got.stderr).toBe(0)
    expect(got.stdout).toBe('hello from the CLI')
    const p = json<{ providers: Found[] }>(provs, 'findprovs')
    expect(p.providers).toContainEqual(expect.objectContaining({ peerId: provided.provider, from: 'dht' }))
    expect(near.code, near.stderr).toBe(0)
    const ids = near.stdout.trim().split('\n')
    expect(ids.length).toBeGreaterThan(0)
    expect(ids.every(id => boot.some(b => b.peerId === id))).toBe(true)
    const w = json<{ multiaddrs: string[], from: string[] }>(where, 'findpeer')
    expect(w.from).toEqual(['dht'])
    expect(w.multiaddrs.some(a => target.multiaddrs.some(t => t.startsWith(a)))).toBe(true)
  }, 90_000)

  it('on amino with stand-ins: findprovs merges the router\'s providers with the DHT\'s, each once', async () => {
    const url = router?.url ?? ''
    const amino = ['--network', 'amino', ...bootstrap.flatMap(a => ['--bootstrap', a]), '--router', url]
    const [provs, human] = await Promise.all([
      cli(['dht', 'findprovs', CID_A, ...amino, '--json']),
      cli(['dht', 'findprovs', CID_A, ...amino, '--verbose'])
    ])
    const p = json<{ providers: Found[], network: string }>(provs, 'findprovs on amino')
    expect(p.network).toBe('amino')
    expect(p.providers).toContainEqual({ peerId: ROUTER_PEER, multiaddrs: [`/ip4/127.0.0.1/tcp/9/p2p/${ROUTER_PEER}`], from: url })
    // the DHT's provider (the test before provided CID_A on the testnet) is there too
    expect(p.providers.some(f => f.from === 'dht')).toBe(true)
    expect(new Set(p.providers.map(f => f.peerId)).size).toBe(p.providers.length)
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout.split('\n')).toContain(ROUTER_PEER)
    expect(human.stderr).toContain(`${ROUTER_PEER} from ${url}`)
    expect(router?.requests.some(r => r.path.startsWith(`/routing/v1/providers/${CID_A}`))).toBe(true)
  }, 60_000)

  it('with a daemon on --repo: through its RPC API (put, get, findprovs, findpeer, provide)', async () => {
    const repo = join(dir, 'daemon')
    const init = await cli(['init', '--repo', repo, '--api', '/ip4/127.0.0.1/tcp/0', '--swarm', '/ip4/127.0.0.1/tcp/0'])
    expect(init.code, init.stderr).toBe(0)
    const set = await cli(['config', 'set', 'Bootstrap', JSON.stringify(bootstrap), '--repo', repo])
    expect(set.code, set.stderr).toBe(0)
    const { child } = await startDaemonProcess(children, repo)
    try {
      const put = await cli(['dht', 'put', '/swarmbus/via-daemon', 'through the RPC', '--repo', repo, '--bootstrap', bootstrap[0] ?? ''])
      expect(put.code, put.stderr).toBe(0)
      expect(put.stdout).toMatch(/^stored \/swarmbus\/via-daemon through the daemon at http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)/)
      expect(put.stderr).toMatch(/which has its own network: --bootstrap ignored/)
      const [got, provs, where, near] = await Promise.all([
        cli(['dht', 'get', '/swarmbus/via-daemon', '--repo', repo]),
        cli(['dht', 'findprovs', CID_A, '--repo', repo, '--json']),
        cli(['dht', 'findpeer', boot[2]?.peerId ?? '', '--repo', repo]),
        cli(['dht', 'closest', '/swarmbus/via-daemon', '--repo', repo])
      ])
      expect(got.code, got.stderr).toBe(0)
      expect(got.stdout).toBe('through the RPC')
      const p = json<{ providers: Found[], daemon: string }>(provs, 'findprovs through the daemon')
      expect(p.providers.length).toBeGreaterThan(0)
      expect(p.providers.every(f => f.from === p.daemon)).toBe(true)
      expect(where.code, where.stderr).toBe(0)
      expect(where.stdout).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
      // kubo's dht/query takes a peer id
      expect(near.code).toBe(2)
      expect(near.stderr).toMatch(/closest takes a peer id/)
      const provided = json<{ peers: number }>(await cli(['dht', 'provide', 'bafkqaaa', '--repo', repo, '--json']), 'provide through the daemon')
      expect(provided.peers).toBeGreaterThan(0)
    } finally {
      child.kill('SIGTERM')
    }
  }, 90_000)
})

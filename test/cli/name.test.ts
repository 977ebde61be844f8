/**
 * `swarmbus name publish|resolve` through the built CLI (dist/cli/main.js) as
 * child processes on `--network local`, joined to a `swarmbus testnet --nodes
 * 4 --json` child (the public network's defaults are name-public.test.ts's):
 * publish from one repo and resolve from another (same value; a republish
 * increments the sequence; sub-paths are joined), --offline publish and
 * resolve on one repo, a name nobody published (NotFoundError, exit 1), a
 * bootstrap peer that is not there (TimeoutError), and usage errors (exit 2
 * before a node starts). Flows on different repos run at the same time.
 * Every child has a SIGKILL timeout and the network guard on
 * (SWARMBUS_NETWORK_GUARD=1: libp2p dials off this machine are refused).
 * Needs `npm run build` first.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'
import { identity } from 'multiformats/hashes/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDnsServer } from '../helpers/dns-server.js'
import type { ChildProcess } from 'node:child_process'
import type { TestDnsServer } from '../helpers/dns-server.js'
import { MAIN, runCli, startTestnetProcess, stopProcess } from '../helpers/cli-process.js'
import type { CliRun } from '../helpers/cli-process.js'

const children = new Set<ChildProcess>()
let dir = ''
let testnet: ChildProcess | undefined
/** a DNS server on 127.0.0.1 for the DNSLink domains */
let dns: TestDnsServer | undefined
/** --bootstrap flags for two of the testnet's nodes (set once it is ready) */
let join2: string[] = []

type Run = CliRun
interface State { state: string, atMs: number, ms?: number, events: Record<string, number> }
interface Published { name: string, value: string, sequence: string, peers: number, offline: boolean, key: string, ms: number, lifecycle: State[] }
interface Resolved { name: string, value: string, sequence: string, validity: string, ttl: string, source: string, hops: number, ms: number, lifecycle: State[] }

/** the CLI, guarded (test/helpers/cli-process.ts) */
function cli (args: string[], timeoutMs = 40_000, env: Record<string, string> = {}): Promise<Run> {
  return runCli(children, args, timeoutMs, env)
}

function json<T> (r: Run, what: string): T {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0)
  return JSON.parse(r.stdout) as T
}

/** A well-formed IPNS name (Ed25519, identity multihash) of a key nobody holds. */
function unknownName (): string {
  const pubKey = Uint8Array.from([0x08, 0x01, 0x12, 0x20, ...randomBytes(32)])
  return CID.createV1(0x72, identity.digest(pubKey)).toString(base36)
}

const states = (l: State[]): string[] => l.map(s => s.state)

/** Starts `swarmbus testnet --nodes 4 --json`; resolves with --bootstrap flags for two of its nodes once it is ready. */
async function startTestnet (): Promise<string[]> {
  const { child, ready } = await startTestnetProcess(children, ['--nodes', '4'])
  testnet = child
  return ['--network', 'local', ...ready.bootstrap.slice(0, 2).flatMap(a => ['--bootstrap', a])]
}

/** the testnet starts while the usage errors run */
let testnetReady: Promise<string[]> = Promise.resolve([])

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'npm run build' first`)
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-name-'))
  dns = await startDnsServer()
  testnetReady = startTestnet()
  testnetReady.catch(() => {}) // reported by the tests that need it
})

afterAll(async () => {
  await stopProcess(testnet)
  for (const child of children) child.kill('SIGKILL')
  await dns?.close()
  if (dir !== '') await rm(dir, { recursive: true, force: true })
}, 20_000)

describe('swarmbus name without a network (while the testnet starts)', () => {
  it.concurrent('--help everywhere; usage errors exit 2 before a node starts', async () => {
    const repo = join(dir, 'never')
    const name = unknownName()
    const peer = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWCfRaLkrCj1jbMbUiBjFJL14aoC3BWdqJZXsoPATTCWvk'
    const usage: Array<[string[], RegExp]> = [
      [['name'], /Usage: swarmbus name <command>/],
      [['name', 'frob'], /unknown name command 'frob' \(one of publish, resolve\)/],
      [['name', 'publish', '--repo', repo, '--offline'], /missing the PATH to publish/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--offline'], /missing --repo DIR/],
      [['name', 'publish', 'not-a-path', '--repo', repo, '--offline'], /PATH: value must be \/ipfs\/<cid>/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--network', 'local'], /no peers to join on --network local: give --bootstrap ADDR/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--network', 'mainnet'], /--network must be one of amino, local \(got 'mainnet'\)/],
      [['name', 'resolve', name, '--router', 'ftp://x.example'], /--router 'ftp:\/\/x\.example' must be an http: or https: URL/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--offline', '--bootstrap', peer], /--offline and --bootstrap exclude each other/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--bootstrap', '/ip4/127.0.0.1/tcp/1'], /has no \/p2p\/<peer id>/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--bootstrap', 'nonsense'], /--bootstrap 'nonsense' is not a multiaddr/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--offline', '--lifetime', '2 days'], /--lifetime: '2 days' is not a duration/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--offline', '--ttl', '30'], /--ttl: '30' needs a unit/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--offline', '--lifetime', '0'], /--lifetime must be above 0/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--offline', '--key', 'no spaces'], /--key: key must be a key name/],
      [['name', 'publish', '/ipfs/bafkqaaa', '--repo', repo, '--offline', '--passphrase', 'x'], /--passphrase is not accepted/],
      [['name', 'resolve', '--offline', '--repo', repo], /missing the NAME to resolve/],
      [['name', 'resolve', 'nobody', '--offline', '--repo', repo], /NAME: not an IPNS name/],
      [['name', 'resolve', name, '--offline'], /--offline needs --repo DIR/],
      [['name', 'resolve', name, '--offline', '--repo', repo, '--quorum', '0'], /--quorum must be an integer from 1 to 64/],
      [['name', 'resolve', name, '--offline', '--repo', repo, '--timeout', '11m'], /--timeout must be above 0 and at most 10m/],
      [['name', 'resolve', name, 'extra', '--offline', '--repo', repo], /unexpected argument: 'extra'/],
      [['name', 'resolve', name, '--bogus'], /unknown option '--bogus'/],
      [['name', 'resolve', 'example.com', '--dns', 'not-an-address'], /--dns: /]
    ]
    const helps = [['name', '--help'], ['name', 'publish', '--help'], ['name', 'resolve', '-h'], ['help', 'name']]
    const [usageRuns, helpRuns, global] = await Promise.all([
      Promise.all(usage.map(async ([args]) => await cli(args))),
      Promise.all(helps.map(async args => await cli(args))),
      cli(['--help'])
    ])
    usage.forEach(([args, message], i) => {
      const r = usageRuns[i] as Run
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
      expect(r.stdout, args.join(' ')).toBe('')
    })
    expect((usageRuns[2] as Run).stderr).toContain("Run 'swarmbus name publish --help' for usage.")
    helpRuns.forEach((r, i) => {
      const args = helps[i] as string[]
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout, args.join(' ')).toMatch(/^Usage: swarmbus name/)
    })
    expect(helpRuns[1]?.stdout).toMatch(/--lifetime D[\s\S]*--ttl D[\s\S]*--offline[\s\S]*--bootstrap ADDR[\s\S]*--timeout D/)
    expect(helpRuns[2]?.stdout).toMatch(/--nocache[\s\S]*--quorum N/)
    expect(global.stdout).toMatch(/^ {2}name +publish and resolve IPNS names/m)
    // nothing was opened: a usage error never reaches createNode
    expect(existsSync(repo)).toBe(false)
  }, 45_000)

  it.concurrent('--offline publish, then --offline resolve from the same repo; a name pointing at itself fails at 32 hops', async () => {
    const c = join(dir, 'c')
    const p0 = json<Published>(await cli(['name', 'publish', '/ipfs/bafkqaaa', '--repo', c, '--offline', '--json']), 'offline publish')
    expect(p0).toMatchObject({ sequence: '0', peers: 0, offline: true })
    expect(states(p0.lifecycle)).toEqual(['preparing.key', 'preparing.seen', 'signing', 'storing', 'done'])
    const r = json<Resolved>(await cli(['name', 'resolve', p0.name, '--repo', c, '--offline', '--json']), 'offline resolve')
    expect(r).toMatchObject({ value: '/ipfs/bafkqaaa', sequence: '0', source: 'local', hops: 1 })
    expect(states(r.lifecycle)).toEqual(['reading', 'done'])

    // the next publish points the name at itself: a loop
    const loop = await cli(['name', 'publish', `/ipns/${p0.name}/loop`, '--repo', c, '--offline'])
    expect(loop.code, loop.stderr).toBe(0)
    expect(loop.stdout).toMatch(new RegExp(`^published /ipns/${p0.name} → /ipns/${p0.name}/loop\\n {2}sequence 1; stored in the repo only \\(--offline\\)`))
    const hops = await cli(['name', 'resolve', p0.name, '--repo', c, '--offline'])
    expect(hops.code).toBe(1)
    expect(hops.stderr).toMatch(/^swarmbus name resolve: InvalidRecordError: resolving \/ipns\/k51\w+ took more than 32 hops \(a loop\?\) \(code: too-many-hops\)/)
  }, 60_000)
  it.concurrent('on --network local, a DNSLink domain pointing at /ipfs/ needs no --bootstrap; one with no DNSLink fails with NotFoundError', async () => {
    dns?.setTxt('_dnslink.docs.example', ['v=spf1 -all', 'dnslink=/ipfs/bafkqaaa/docs'])
    const server = dns?.server ?? ''
    const [found, missing] = await Promise.all([
      cli(['name', 'resolve', 'docs.example', '--network', 'local', '--dns', server, '--json', '--verbose']),
      cli(['name', 'resolve', 'nothing-here.example', '--dns', server], 40_000, { SWARMBUS_NETWORK: 'local' })
    ])
    const r = json<Resolved>(found, 'DNSLink resolve')
    expect(r).toMatchObject({ value: '/ipfs/bafkqaaa/docs', sequence: '0', validity: '', source: 'dns', hops: 1 })
    expect(found.stderr).toContain('ipns:resolve:dnslink')
    expect(found.stderr).not.toContain('joined')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^swarmbus name resolve: NotFoundError: /)
  }, 45_000)
})

describe('swarmbus name against a testnet', () => {
  beforeAll(async () => { join2 = await testnetReady }, 50_000)

  it.concurrent('publish from one repo, resolve from another: the same value; a republish increments the sequence', async () => {
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    const p0 = json<Published>(await cli(['name', 'publish', '/ipfs/bafkqaaa', '--repo', a, ...join2, '--json', '--ttl', '1m', '--lifetime', '1h']), 'publish')
    expect(p0).toMatchObject({ value: '/ipfs/bafkqaaa', sequence: '0', offline: false, key: 'self' })
    expect(p0.name).toMatch(/^k51/)
    expect(p0.peers).toBeGreaterThan(0)
    expect(states(p0.lifecycle)).toEqual(['preparing.key', 'preparing.seen', 'signing', 'storing', 'putting', 'done'])
    expect(p0.lifecycle[1]?.events).toEqual({ SEEN: 2 })

    const r0 = json<Resolved>(await cli(['name', 'resolve', p0.name, '--repo', b, ...join2, '--json']), 'resolve')
    expect(r0).toMatchObject({ value: '/ipfs/bafkqaaa', sequence: '0', source: 'dht', hops: 1, ttl: String(60n * 1_000_000_000n) })
    // b's repo had nothing: read, then the DHT
    expect(states(r0.lifecycle)).toEqual(['reading', 'querying', 'done'])
    expect(r0.lifecycle[1]?.events.VALUE).toBeGreaterThan(0)

    // the next publish from the same repo: sequence 1, and another repo sees it
    const p1 = json<Published>(await cli(['name', 'publish', '/ipfs/bafkqaaa/v2', '--repo', a, ...join2, '--json']), 'republish')
    expect(p1).toMatchObject({ name: p0.name, value: '/ipfs/bafkqaaa/v2', sequence: '1' })
    // b's repo still holds sequence 0 within its TTL (60 s): without --nocache it answers from there, as kubo's repo would
    const staleRun = await cli(['name', 'resolve', p0.name, '--repo', b, ...join2, '--json', '--verbose'])
    const stale = json<Resolved>(staleRun, 'resolve within the TTL')
    expect(stale).toMatchObject({ value: '/ipfs/bafkqaaa', sequence: '0', source: 'local' })
    expect(states(stale.lifecycle)).toEqual(['reading', 'done'])
    // and before joining anyone: the repo answered
    expect(staleRun.stderr).toContain('answered from the repo, without joining')
    expect(staleRun.stderr).not.toMatch(/joined: \d+ peer/)
    const r1 = await cli(['name', 'resolve', `/ipns/${p0.name}/index.html`, '--repo', b, '--nocache', ...join2, '--verbose'])
    expect(r1.code, r1.stderr).toBe(0)
    expect(r1.stdout).toBe('/ipfs/bafkqaaa/v2/index.html\n')
    expect(r1.stderr).toMatch(/joined: \d+ peers? in the routing table/)
    // --nocache: the DHT is asked at once, beside the repo read; b's record of sequence 0 comes in and competes
    expect(r1.stderr).toMatch(/\+\s*[\d.]+ ms {2}ipns:resolve:querying {2}\(xstate\.init\)/)
    expect(r1.stderr).toMatch(/\+\s*[\d.]+ ms {2}ipns:resolve:querying {2}\(STORED\)/)
    expect(r1.stderr).toContain('ipns:resolve:done')
    expect(r1.stderr).toMatch(/sequence 1, from the DHT, 1 hop, TTL 5m/)
    expect(r1.stderr).toMatch(/name resolve: querying [\d.]+ ms \(.*STORED.*VALUE.*\) → done/)

    // what b resolved is stored in its repo: offline it answers from there;
    // and a DNSLink domain that points at the name: two hops, paths joined
    dns?.setTxt('_dnslink.blog.example', [`dnslink=/ipns/${p0.name}/site`])
    const [offline, viaDns] = await Promise.all([
      cli(['name', 'resolve', p0.name, '--repo', b, '--offline', '--json']),
      cli(['name', 'resolve', '/ipns/blog.example/index.html', '--dns', dns?.server ?? '', ...join2, '--json'])
    ])
    expect(json<Resolved>(offline, 'offline resolve on b')).toMatchObject({ value: '/ipfs/bafkqaaa/v2', sequence: '1', source: 'local' })
    expect(json<Resolved>(viaDns, 'DNSLink resolve')).toMatchObject({ value: '/ipfs/bafkqaaa/v2/site/index.html', sequence: '1', source: 'dht', hops: 2 })
  }, 80_000)

  it.concurrent('a name nobody published fails with NotFoundError (exit 1)', async () => {
    const name = unknownName()
    const [human, asJson] = await Promise.all([
      cli(['name', 'resolve', name, ...join2]),
      cli(['name', 'resolve', `/ipns/${name}`, ...join2, '--json'])
    ])
    expect(human.code).toBe(1)
    expect(human.stdout).toBe('')
    expect(human.stderr).toMatch(new RegExp(`^swarmbus name resolve: NotFoundError: no valid record found for /ipns/${name}`))
    expect(asJson.code).toBe(1)
    expect(JSON.parse(asJson.stdout)).toEqual({ ok: false, error: expect.stringMatching(/^NotFoundError: /) as unknown })
  }, 60_000)

  it.concurrent('a bootstrap peer that is not there: TimeoutError once --timeout is spent (exit 1)', async () => {
    const gone = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWCfRaLkrCj1jbMbUiBjFJL14aoC3BWdqJZXsoPATTCWvk'
    const t = performance.now()
    const r = await cli(['name', 'resolve', unknownName(), '--network', 'local', '--bootstrap', gone, '--timeout', '2s'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^swarmbus name resolve: TimeoutError: joined no peer [\d.]+s after the start: the routing table is empty \(0 connections; bootstrap \/ip4\/127\.0\.0\.1\/tcp\/1\//)
    expect(performance.now() - t).toBeLessThan(20_000)
  }, 30_000)
})

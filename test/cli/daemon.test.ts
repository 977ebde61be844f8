/**
 * `swarmbus init`, `config` and `daemon` through the built CLI
 * (dist/cli/main.js) as child processes: init and a config get/set round
 * trip with validation errors naming the key; a daemon that writes DIR/api
 * and serves /health and /ready over HTTP; a second daemon on the same repo
 * refused with the holder's pid; a lock left by a killed daemon taken over;
 * a non-loopback API without authorizations refused; SIGTERM with a request
 * in flight (it is answered, exit 0, DIR/api and the lock removed); a second
 * signal exits at once. Every child is SIGKILLed after the test.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { MAIN, runCli, startDaemonProcess } from '../helpers/cli-process.js'
import type { CliRun, DaemonProcess } from '../helpers/cli-process.js'

const children = new Set<ChildProcess>()
let dir = ''
let repos = 0
/** a peer nobody runs: a daemon bootstrapping to it starts alone and is not ready */
const ABSENT_PEER = '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

type Run = CliRun

/** the CLI, guarded (test/helpers/cli-process.ts) */
function cli (args: string[], timeoutMs = 30_000): Promise<Run> {
  return runCli(children, args, timeoutMs)
}

type Running = DaemonProcess

/** `swarmbus daemon --repo repo`, once ready (test/helpers/cli-process.ts) */
async function daemon (repo: string): Promise<Running> {
  return await startDaemonProcess(children, repo)
}

/** A fresh initialised repo on free ports, with config keys set. */
async function repo (set: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, `repo-${++repos}`)
  const r = await cli(['init', '--repo', path, '--api', '/ip4/127.0.0.1/tcp/0', '--swarm', '/ip4/127.0.0.1/tcp/0'])
  expect(r.code, r.stderr).toBe(0)
  for (const [key, value] of Object.entries(set)) {
    const s = await cli(['config', 'set', key, JSON.stringify(value), '--repo', path])
    expect(s.code, s.stderr).toBe(0)
  }
  return path
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'npm run build' first`)
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-daemon-'))
})
afterEach(() => {
  for (const child of children) child.kill('SIGKILL')
})
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('swarmbus init and config', () => {
  it('init makes a repo, refuses to redo it, and config get/set round-trips with errors naming the key', async () => {
    const path = join(dir, 'init')
    const init = await cli(['init', '--repo', path, '--json'])
    expect(init.code, init.stderr).toBe(0)
    const made = JSON.parse(init.stdout) as { peerId: string, config: string }
    expect(made.peerId).toMatch(/^12D3KooW/)
    const again = await cli(['init', '--repo', path])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/is a repo already .*--force/)
    expect((await cli(['init', '--repo', path, '--force', '--json'])).stdout).toContain(made.peerId)
    expect((await cli(['init', '--repo', join(dir, 'bad'), '--api', '/dns4/x/tcp/1'])).stderr).toMatch(/--api: expected \/ip4/)

    expect((await cli(['config', 'get', 'Identity.PeerID', '--repo', path])).stdout).toBe(`${made.peerId}\n`)
    expect((await cli(['config', 'get', 'Addresses.API', '--repo', path])).stdout).toBe('/ip4/127.0.0.1/tcp/5001\n')
    const set = await cli(['config', 'set', 'Ipns.Quorum', '8', '--repo', path, '--json'])
    expect(JSON.parse(set.stdout)).toEqual({ key: 'Ipns.Quorum', value: 8 })
    expect((await cli(['config', 'set', 'Ipns.RecordTTL', '90s', '--repo', path])).code).toBe(0)
    const auth = { AuthSecret: 'bearer:s3cret', AllowedPaths: ['/api/v0'] }
    expect((await cli(['config', 'set', 'API.Authorizations.ci', JSON.stringify(auth), '--repo', path])).code).toBe(0)
    const got = JSON.parse((await cli(['config', 'get', 'Ipns', '--repo', path, '--json'])).stdout) as { value: Record<string, unknown> }
    expect(got.value).toMatchObject({ Quorum: 8, RecordTTL: '90s', RecordLifetime: '48h' })
    const shown = JSON.parse((await cli(['config', 'show', '--repo', path, '--json'])).stdout) as { API: { Authorizations: unknown } }
    expect(shown.API.Authorizations).toEqual({ ci: auth })

    const bad: Array<[string[], RegExp]> = [
      [['Ipns.Quorum', '0'], /ConfigError: Ipns\.Quorum: must be an integer from 1 to 64 \(got 0\)/],
      [['Ipns.Quorom', '8'], /ConfigError: Ipns\.Quorom: unknown key/],
      [['Ipns.RecordTTL', '30'], /Ipns\.RecordTTL: must be a duration string such as "48h"/],
      [['Ipns.RecordTTL', '"30"'], /Ipns\.RecordTTL: '30' needs a unit/],
      [['Bootstrap', '["/ip4/127.0.0.1/tcp/1"]'], /Bootstrap: \[0\] .*needs a \/p2p\/<peer id>/],
      [['API.Authorizations.x', '{"AuthSecret":"s3cret","AllowedPaths":["/api/v0"]}'], /API\.Authorizations: \.x\.AuthSecret must be "bearer:/],
      [['Identity.PeerID', 'x'], /Identity\.PeerID: the identity is the repo's key/]
    ]
    // refused sets write nothing, so they may run side by side
    const runs = await Promise.all(bad.map(async ([args]) => await cli(['config', 'set', ...args, '--repo', path])))
    for (const [i, [args, message]] of bad.entries()) {
      expect(runs[i]?.code, args.join(' ')).toBe(1)
      expect(runs[i]?.stderr, args.join(' ')).toMatch(message)
    }
    // nothing of the refused sets was written
    expect((await cli(['config', 'get', 'Ipns.Quorum', '--repo', path])).stdout).toBe('8\n')
    const [nope, none, missing] = await Promise.all([
      cli(['config', 'get', 'Nope', '--repo', path]),
      cli(['config', 'show', '--repo', join(dir, 'none')]),
      cli(['config', 'set', 'Ipns.Quorum', '--repo', path])
    ])
    expect(nope.stderr).toMatch(/Nope: unknown key/)
    expect(none.stderr).toMatch(/no config at .*run 'swarmbus init --repo/)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/missing the VALUE/)
  })
})

describe('swarmbus daemon', () => {
  it('writes DIR/api, serves /health and /ready, locks the repo against a second daemon, and removes DIR/api on SIGTERM', async () => {
    const path = await repo()
    const d = await daemon(path)
    expect(await readFile(join(path, 'api'), 'utf8')).toBe(d.api)
    expect(d.api).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    const health = await fetch(`${d.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', peerId: d.peerId })
    const ready = await fetch(`${d.url}/ready`)
    expect(ready.status).toBe(200)
    expect(JSON.parse(await readFile(join(path, 'repo.lock'), 'utf8'))).toMatchObject({ pid: d.child.pid, command: 'daemon' })

    const second = await cli(['daemon', '--repo', path])
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(new RegExp(`RepoLockedError: .* in use by another swarmbus process \\(pid ${String(d.child.pid)}, daemon`))

    d.child.kill('SIGTERM')
    expect(await d.exited).toEqual({ code: 0, signal: null })
    expect(existsSync(join(path, 'api'))).toBe(false)
    expect(existsSync(join(path, 'repo.lock'))).toBe(false)
    const logs = d.stderr().trim().split('\n').map(l => JSON.parse(l) as { level: string, msg: string })
    expect(logs.map(l => l.msg)).toEqual(expect.arrayContaining(['daemon started', 'shutting down: no new requests', 'stopped']))
  })

  it('takes over the lock of a killed daemon, and refuses a non-loopback API without authorizations', async () => {
    const path = await repo()
    const first = await daemon(path)
    first.child.kill('SIGKILL')
    await first.exited
    expect(existsSync(join(path, 'repo.lock'))).toBe(true)
    const second = await daemon(path)
    expect(second.peerId).toBe(first.peerId)
    expect(await readFile(join(path, 'api'), 'utf8')).toBe(second.api)
    second.child.kill('SIGTERM')
    expect((await second.exited).code).toBe(0)

    expect((await cli(['config', 'set', 'Addresses.API', '/ip4/0.0.0.0/tcp/0', '--repo', path])).code).toBe(0)
    const open = await cli(['daemon', '--repo', path])
    expect(open.code).toBe(1)
    expect(open.stderr).toMatch(/ConfigError: Addresses\.API: \/ip4\/0\.0\.0\.0\/tcp\/0 is not a loopback address.*API\.Authorizations/)
  })

  it('on SIGTERM answers the request in flight, then exits 0', async () => {
    const path = await repo({ Bootstrap: [ABSENT_PEER], 'API.Limits.ShutdownTimeout': '1s' })
    const d = await daemon(path)
    const notReady = await fetch(`${d.url}/ready`)
    expect(notReady.status).toBe(503)
    expect(await notReady.json()).toMatchObject({ ready: false, reason: expect.stringContaining('not joined') })
    // a request that waits (for a readiness that never comes) while the daemon stops
    const inFlight = fetch(`${d.url}/ready?wait=30s`)
    await new Promise(resolve => setTimeout(resolve, 300))
    const t0 = performance.now()
    d.child.kill('SIGTERM')
    const answer = await inFlight
    expect(answer.status).toBe(503)
    expect(await answer.json()).toMatchObject({ ready: false, reason: expect.stringMatching(/StoppedError/) })
    expect(await d.exited).toEqual({ code: 0, signal: null })
    expect(performance.now() - t0).toBeLessThan(8_000)
    expect(existsSync(join(path, 'api'))).toBe(false)
    expect(existsSync(join(path, 'repo.lock'))).toBe(false)
    expect(d.stderr()).toContain('shutdown: stopping the node under the requests still in flight')
  })

  it('a second signal (SIGINT, then SIGTERM) exits at once', async () => {
    const path = await repo({ Bootstrap: [ABSENT_PEER], 'API.Limits.ShutdownTimeout': '30s' })
    const d = await daemon(path)
    const inFlight = fetch(`${d.url}/ready?wait=30s`).then(r => r.status, (err: unknown) => String(err))
    await new Promise(resolve => setTimeout(resolve, 300))
    d.child.kill('SIGINT')
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(d.child.exitCode).toBe(null)
    const t0 = performance.now()
    d.child.kill('SIGTERM')
    expect(await d.exited).toEqual({ code: 143, signal: null })
    expect(performance.now() - t0).toBeLessThan(2_000)
    expect(existsSync(join(path, 'api'))).toBe(false)
    expect(existsSync(join(path, 'repo.lock'))).toBe(false)
    expect(d.stderr()).toContain('second signal: exiting now')
    expect(await inFlight).not.toBe(200)
  })
})

describe('the daemon on a local testnet, used from another shell and from kubo-rpc-client', () => {
  it('swarmbus name publish/resolve --repo DIR go through the running daemon; kubo-rpc-client publishes and resolves through it', async () => {
    const { createTestnet } = await import('../../src/index.js')
    const { create } = await import('kubo-rpc-client')
    const net = await createTestnet({ nodes: 3 })
    try {
      const path = await repo({ Bootstrap: [net.nodes[0]!.multiaddrs[0]] })
      const d = await daemon(path)
      const VALUE = '/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui'
      const pub = await cli(['name', 'publish', VALUE, '--repo', path, '--json'])
      expect(pub.code, pub.stderr).toBe(0)
      const published = JSON.parse(pub.stdout) as { name: string, value: string, daemon: string }
      expect(published).toMatchObject({ value: VALUE, daemon: d.url })
      // the record reached the testnet: a node there resolves it from the DHT
      expect(await net.nodes[2]!.ask({ type: 'ipns.resolve', name: published.name, nocache: true })).toMatchObject({ value: VALUE, source: 'dht' })
      const res = await cli(['name', 'resolve', published.name, '--repo', path, '--nocache'])
      expect([res.code, res.stdout], res.stderr).toEqual([0, `${VALUE}\n`])
      // --offline on a repo the daemon holds: through the daemon too (its cache and repo, no network request)
      const off = await cli(['name', 'resolve', published.name, '--repo', path, '--offline', '--json'])
      expect(off.code, off.stderr).toBe(0)
      expect(JSON.parse(off.stdout)).toMatchObject({ value: VALUE, daemon: d.url })
      const unknown = (await net.nodes[1]!.ask({ type: 'key.list' })).keys[0]?.ipnsName ?? ''
      const missing = await cli(['name', 'resolve', unknown, '--repo', path, '--offline'])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/offline/)

      // a script of a kubo user
      const kubo = create({ url: `${d.url}/api/v0` })
      const other = '/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
      const r = await kubo.name.publish(other)
      expect(r.name).toBe(published.name)
      let last = ''
      for await (const p of kubo.name.resolve(r.name, { nocache: true })) last = p
      expect(last).toBe(other)
      d.child.kill('SIGTERM')
      expect(await d.exited).toEqual({ code: 0, signal: null })
    } finally {
      await net.stop()
    }
  })
})

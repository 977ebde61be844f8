/**
 * `npm run bench -- http`: the daemon's HTTP faces under load, on loopback,
 * with autocannon (in this process) against a real `swarmbus daemon` (the
 * built CLI, a child process) on a repo joined to a local testnet (in this
 * process, idle during the runs):
 *
 * - cached `GET /routing/v1/ipns/{name}` (Accept: application/vnd.ipfs.ipns-record)
 *   and `POST /api/v0/name/resolve?arg=…`, the name published through the
 *   daemon and resolved once before (so the IPNS cache answers);
 * - beside a bare fastify route returning a constant, in its own child
 *   process (the framework's ceiling on this machine), and beside
 *   @helia/delegated-routing-v1-http-api-server (a devDependency) in a child
 *   of its own, over a Helia routing holding the same record bytes
 *   (http-helia-server.ts), the same GET with the same settings;
 * - at 10, 100 and 1,000 connections each, in rounds (HTTP_BENCH_ROUNDS, 3):
 *   each round loads every server once for HTTP_BENCH_SECONDS (3), in an
 *   order that turns round by round, so a ratio compares runs seconds apart
 *   on this shared machine; per server the medians of the rounds' req/s,
 *   latency p50/p99 (ms), and the sums of non-2xx answers (the daemon's
 *   503s) and socket errors apart; the targets' ratios are the medians of
 *   the rounds' own ratios;
 * - per server and run, its process's CPU time (every thread, from
 *   /proc/<pid>/stat) per answered request: on a shared machine a server's
 *   req/s follows the share of the cores it gets, its CPU per request does
 *   not, so the bare route's CPU per request over ours is printed beside the
 *   req/s ratio;
 * - the daemon's RSS before and after the 1,000-connection runs;
 * - API.Limits set high enough for 1,000 connections (MaxConcurrentRequests
 *   and MaxConnections 4096) so the path is measured, not the gate; then one
 *   short run at 1,000 connections against a second daemon with the default
 *   limits (256 concurrent requests), its 503s counted.
 *
 * Targets (printed with verdicts): routing GET ≥ 50 % of the bare route's
 * req/s; its p99 ≤ 10 ms at 100 connections; RSS bounded at 1,000
 * connections (after ≤ before + 150 MiB, and under 512 MiB).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import { round } from './stats.js'

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const HELIA_SERVER = fileURLToPath(new URL('./http-helia-server.js', import.meta.url))
const CONNECTIONS = [10, 100, 1000] as const
const DURATION_S = Number(process.env.HTTP_BENCH_SECONDS ?? 3)
/** rounds per connection level: each round loads every server once, in an order that turns round by round */
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 3)
const MEDIA_IPNS_RECORD = 'application/vnd.ipfs.ipns-record'
const BENCH_LIMITS = { MaxConcurrentRequests: 4096, MaxConnections: 4096 }
/** /proc's clock ticks per second (USER_HZ: 100 on Linux) */
const CLOCK_TICKS = Number(process.env.HTTP_BENCH_CLK_TCK ?? 100)

interface AutocannonResult {
  requests: { average: number, total: number }
  latency: { p50: number, p99: number, average: number, max: number }
  non2xx: number
  errors: number
  timeouts: number
  statusCodeStats?: Record<string, { count: number }>
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

export interface Run {
  connections: number
  /** the median of the rounds (req/s, p50, p99); the counts are their sums */
  reqPerSec: number
  /** each round's req/s */
  rounds?: number[]
  p50ms: number
  p99ms: number
  ok: number
  non2xx: number
  /** status code → count, for codes other than 2xx */
  refused: Record<string, number>
  errors: number
  timeouts: number
  /**
   * the server process's CPU time (user + system, every thread) per answered
   * request, in µs: what each request costs the server whatever share of the
   * shared cores it got (req/s depends on that share, this does not)
   */
  cpuUsPerReq: number
}

interface Target { url: string, method: 'GET' | 'POST', headers?: Record<string, string>, pid?: number }

/** a process's CPU time so far (user + system, all its threads), in µs */
async function cpuUs (pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${String(pid)}/stat`, 'utf8')
  // fields after the command name (which may hold spaces): utime and stime are the 12th and 13th
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) * 1e6 / CLOCK_TICKS
}

async function load (t: Target, connections: number, seconds = DURATION_S, pid?: number): Promise<Run> {
  const cpu0 = pid !== undefined ? await cpuUs(pid) : NaN
  const r = await autocannon({ url: t.url, method: t.method, headers: t.headers ?? {}, connections, duration: seconds, pipelining: 1, timeout: 10 })
  const refused: Record<string, number> = {}
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) if (!code.startsWith('2')) refused[code] = s.count
  return {
    connections,
    reqPerSec: Math.round(r.requests.average),
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    ok: r.requests.total - r.non2xx,
    non2xx: r.non2xx,
    refused,
    errors: r.errors,
    timeouts: r.timeouts,
    cpuUsPerReq: pid !== undefined ? round((await cpuUs(pid) - cpu0) / Math.max(1, r.requests.total), 1) : NaN
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/** the rounds of one server at one level as one Run: medians of the rates and latencies, sums of the counts */
function merge (rs: Run[]): Run {
  const refused: Record<string, number> = {}
  for (const r of rs) for (const [code, n] of Object.entries(r.refused)) refused[code] = (refused[code] ?? 0) + n
  const sum = (f: (r: Run) => number): number => rs.reduce((n, r) => n + f(r), 0)
  return {
    connections: rs[0]?.connections ?? 0,
    reqPerSec: Math.round(median(rs.map(r => r.reqPerSec))),
    rounds: rs.map(r => r.reqPerSec),
    p50ms: median(rs.map(r => r.p50ms)),
    p99ms: median(rs.map(r => r.p99ms)),
    ok: sum(r => r.ok),
    non2xx: sum(r => r.non2xx),
    refused,
    errors: sum(r => r.errors),
    timeouts: sum(r => r.timeouts),
    cpuUsPerReq: median(rs.map(r => r.cpuUsPerReq))
  }
}

async function rssMiB (pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
  return round(kb / 1024, 1)
}

interface Child { child: ChildProcess, url: string, stop: () => Promise<void> }

/** a child process that prints `line` (a regex with the URL's port as group 1) once it listens */
async function start (args: string[], line: RegExp, what: string): Promise<Child> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', SWARMBUS_NETWORK_GUARD: '1' } })
  let out = ''
  let err = ''
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { err = (err + s).slice(-4000) })
  const exited = new Promise<void>(resolve => { child.once('close', () => { resolve() }) })
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${what} did not start within 30 s: ${err}`)) }, 30_000)
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s
      const m = line.exec(out)
      if (m?.[1] !== undefined) { clearTimeout(timer); resolve(m[1]) }
    })
    void exited.then(() => { clearTimeout(timer); reject(new Error(`${what} exited before it listened: ${err}`)) })
  })
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 15_000)
      await exited
      clearTimeout(timer)
    }
  }
}

async function cli (args: string[]): Promise<string> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const code = await new Promise<number | null>(resolve => { child.once('close', resolve) })
  if (code !== 0) throw new Error(`swarmbus ${args.join(' ')} failed (${String(code)}): ${err}`)
  return out
}

async function daemonOn (repo: string, bootstrap: string, limits: Record<string, number> | undefined): Promise<Child> {
  await cli(['init', '--repo', repo, '--api', '/ip4/127.0.0.1/tcp/0', '--swarm', '/ip4/127.0.0.1/tcp/0', '--bootstrap', bootstrap])
  for (const [k, v] of Object.entries(limits ?? {})) await cli(['config', 'set', `API.Limits.${k}`, String(v), '--repo', repo])
  return await start([MAIN, 'daemon', '--repo', repo, '--log-format', 'json'], /RPC API server listening on \S+\/tcp\/(\d+)[\s\S]*Daemon is ready/, 'the daemon')
}

/** the bare-route server: this file run as a script with `bare-server` */
async function bareServer (): Promise<void> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false, keepAliveTimeout: 5_000 })
  app.server.maxConnections = BENCH_LIMITS.MaxConnections
  app.get('/constant', async () => ({ hello: 'world' }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const a = app.server.address()
  process.stdout.write(`listening on port ${typeof a === 'object' && a !== null ? a.port : 0}\n`)
  process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
}

export interface HttpBench {
  durationSeconds: number
  rounds: number
  /** per level: ours / the bare route's req/s, each round */
  ratios: Record<string, number[]>
  /** per level: ours / Helia's server's req/s, each round */
  heliaRatios: Record<string, number[]>
  /** per level: the bare route's CPU µs per request / ours, each round */
  cpuRatios: Record<string, number[]>
  load: { before: number[], after: number[] }
  limits: string
  bare: Run[]
  routingGet: Run[]
  kuboResolve: Run[]
  /** @helia/delegated-routing-v1-http-api-server's GET of the same record */
  helia: Run[]
  heliaServer: string
  rssMiB: { daemonStart: number, before1000: number, after1000: number, bare: number, helia: number }
  defaultLimitsAt1000: Run & { note: string }
  targets: Array<{ target: string, measured: string, ok: boolean }>
}

export async function benchHttp (): Promise<HttpBench> {
  const loadBefore = loadavg().map(x => round(x, 2))
  const { createTestnet } = await import('../src/index.js')
  const net = await createTestnet({ nodes: 3 })
  const dir = await mkdtemp(join(tmpdir(), 'swarmbus-bench-http-'))
  const children: Child[] = []
  try {
    const bootstrap = net.nodes[0]?.multiaddrs[0] ?? ''
    const d = await daemonOn(join(dir, 'repo'), bootstrap, BENCH_LIMITS)
    children.push(d)
    const daemonStart = await rssMiB(d.child.pid)
    const pub = await fetch(`${d.url}/api/v0/name/publish?arg=/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui`, { method: 'POST' })
    if (pub.status !== 200) throw new Error(`name/publish answered ${pub.status}: ${await pub.text()}`)
    const name = ((await pub.json()) as { Name: string }).Name
    const routingGet: Target = { url: `${d.url}/routing/v1/ipns/${name}`, method: 'GET', headers: { accept: MEDIA_IPNS_RECORD }, pid: d.child.pid }
    const kuboResolve: Target = { url: `${d.url}/api/v0/name/resolve?arg=${name}`, method: 'POST', pid: d.child.pid }
    // the first resolve fills the cache; check both answer what they should
    const g = await fetch(routingGet.url, { headers: routingGet.headers })
    if (g.status !== 200 || g.headers.get('content-type') !== MEDIA_IPNS_RECORD) throw new Error(`GET /routing/v1/ipns answered ${g.status} ${String(g.headers.get('content-type'))}`)
    const recordBytes = new Uint8Array(await g.arrayBuffer())
    const k = await fetch(kuboResolve.url, { method: 'POST' })
    if (k.status !== 200) throw new Error(`name/resolve answered ${k.status}: ${await k.text()}`)
    await k.text()

    const bare = await start([fileURLToPath(import.meta.url), 'bare-server'], /listening on port (\d+)/, 'the bare fastify server')
    children.push(bare)
    const bareTarget: Target = { url: `${bare.url}/constant`, method: 'GET', pid: bare.child.pid }

    const helia = await start([HELIA_SERVER, name, Buffer.from(recordBytes).toString('base64')], /listening on port (\d+)/, "Helia's Routing V1 server")
    children.push(helia)
    const heliaTarget: Target = { url: `${helia.url}/routing/v1/ipns/${name}`, method: 'GET', headers: { accept: MEDIA_IPNS_RECORD }, pid: helia.child.pid }
    const h = await fetch(heliaTarget.url, { headers: heliaTarget.headers })
    const heliaBytes = new Uint8Array(await h.arrayBuffer())
    if (h.status !== 200 || h.headers.get('content-type') !== MEDIA_IPNS_RECORD || Buffer.compare(heliaBytes, recordBytes) !== 0) throw new Error(`Helia's GET /routing/v1/ipns answered ${h.status} ${String(h.headers.get('content-type'))}, not the record`)

    const runs = { bare: [] as Run[], routingGet: [] as Run[], helia: [] as Run[], kuboResolve: [] as Run[] }
    let before1000 = NaN
    // per level and round, ours / the bare route's req/s (a ratio of runs seconds apart)
    const ratios = new Map<number, number[]>()
    const heliaRatios = new Map<number, number[]>()
    // per level and round, the bare route's CPU per request / ours: the req/s ratio a server would reach with a core of its own
    const cpuRatios = new Map<number, number[]>()
    const servers: Array<{ key: keyof typeof runs, target: Target }> = [
      { key: 'bare', target: bareTarget }, { key: 'routingGet', target: routingGet }, { key: 'helia', target: heliaTarget }, { key: 'kuboResolve', target: kuboResolve }
    ]
    for (const c of CONNECTIONS) {
      if (c === 1000) before1000 = await rssMiB(d.child.pid)
      // a short warm-up at each level (JIT, sockets), not counted
      for (const s of servers) await load(s.target, c, 1)
      const rounds = new Map<keyof typeof runs, Run[]>(servers.map(s => [s.key, []]))
      for (let r = 0; r < ROUNDS; r++) {
        // the order turns each round, so no server always runs right after another's load
        for (let i = 0; i < servers.length; i++) {
          const s = servers[(i + r) % servers.length] as (typeof servers)[number]
          rounds.get(s.key)?.push(await load(s.target, c, DURATION_S, s.target.pid))
        }
      }
      for (const s of servers) runs[s.key].push(merge(rounds.get(s.key) ?? []))
      const rps = (k: keyof typeof runs): number[] => (rounds.get(k) ?? []).map(x => x.reqPerSec)
      ratios.set(c, rps('routingGet').map((x, i) => x / Math.max(1, rps('bare')[i] ?? 0)))
      heliaRatios.set(c, rps('routingGet').map((x, i) => x / Math.max(1, rps('helia')[i] ?? 0)))
      const cpu = (k: keyof typeof runs): number[] => (rounds.get(k) ?? []).map(x => x.cpuUsPerReq)
      cpuRatios.set(c, cpu('bare').map((x, i) => x / (cpu('routingGet')[i] ?? NaN)))
    }
    const after1000 = await rssMiB(d.child.pid)
    const bareRss = await rssMiB(bare.child.pid)
    const heliaRss = await rssMiB(helia.child.pid)
    await helia.stop()
    await bare.stop()
    await d.stop()

    // the same path, under the default API.Limits (256 requests at once)
    const dflt = await daemonOn(join(dir, 'repo-defaults'), bootstrap, undefined)
    children.push(dflt)
    const dpub = await fetch(`${dflt.url}/api/v0/name/publish?arg=/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui`, { method: 'POST' })
    const dname = ((await dpub.json()) as { Name: string }).Name
    const dTarget: Target = { url: `${dflt.url}/routing/v1/ipns/${dname}`, method: 'GET', headers: { accept: MEDIA_IPNS_RECORD } }
    await (await fetch(dTarget.url, { headers: dTarget.headers })).arrayBuffer()
    const defaultsRun = await load(dTarget, 1000, 3, dflt.child.pid)
    await dflt.stop()

    const at = (rs: Run[], c: number): Run => rs.find(r => r.connections === c) as Run
    const targets = CONNECTIONS.map(c => {
      const ratio = median(ratios.get(c) ?? [])
      return { target: `routing GET ≥ 50 % of the bare route's req/s at ${c} connections (median of the rounds' ratios)`, measured: `${Math.round(ratio * 100)} % (rounds: ${(ratios.get(c) ?? []).map(x => Math.round(x * 100)).join(', ')})`, ok: ratio >= 0.5 }
    })
    const p99 = at(runs.routingGet, 100).p99ms
    targets.push({ target: 'routing GET p99 ≤ 10 ms at 100 connections', measured: `${p99} ms`, ok: p99 <= 10 })
    const kp99 = at(runs.kuboResolve, 100).p99ms
    targets.push({ target: 'name/resolve p99 ≤ 10 ms at 100 connections', measured: `${kp99} ms`, ok: kp99 <= 10 })
    targets.push({ target: 'daemon RSS bounded at 1,000 connections (grows < 150 MiB, stays < 512 MiB)', measured: `${before1000} → ${after1000} MiB`, ok: after1000 - before1000 < 150 && after1000 < 512 })
    const failures = [...runs.routingGet, ...runs.kuboResolve].reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0)
    targets.push({ target: 'no refused or failed request with the bench limits', measured: `${failures}`, ok: failures === 0 })
    const line = (label: string, rs: Run[]): string => `${label.padEnd(22)}${rs.map(r => `${String(r.reqPerSec).padStart(7)} req/s p50 ${String(r.p50ms).padStart(4)} p99 ${String(r.p99ms).padStart(4)} ms ${String(r.cpuUsPerReq).padStart(5)} µs CPU${r.non2xx + r.errors > 0 ? ` (${r.non2xx} non-2xx, ${r.errors} errors)` : ''}`).join(' | ')}\n`
    process.stderr.write(`http bench (${ROUNDS} rounds of ${DURATION_S} s per server and level, medians; connections ${CONNECTIONS.join(' | ')})\n` +
      line('bare fastify', runs.bare) + line('GET routing/v1/ipns', runs.routingGet) + line('Helia server GET', runs.helia) + line('POST name/resolve', runs.kuboResolve) +
      CONNECTIONS.map(c => `ours / Helia's req/s at ${c} connections (median of the rounds): ${round(median(heliaRatios.get(c) ?? []), 2)}; bare route's CPU per request / ours: ${round(median(cpuRatios.get(c) ?? []), 2)}\n`).join('') +
      targets.map(t => `${t.ok ? 'PASS' : 'FAIL'} ${t.target}: ${t.measured}\n`).join(''))
    return {
      durationSeconds: DURATION_S,
      rounds: ROUNDS,
      ratios: Object.fromEntries([...ratios].map(([c, rs]) => [String(c), rs.map(x => round(x, 3))])),
      heliaRatios: Object.fromEntries([...heliaRatios].map(([c, rs]) => [String(c), rs.map(x => round(x, 3))])),
      cpuRatios: Object.fromEntries([...cpuRatios].map(([c, rs]) => [String(c), rs.map(x => round(x, 3))])),
      load: { before: loadBefore, after: loadavg().map(x => round(x, 2)) },
      limits: `API.Limits.MaxConcurrentRequests ${BENCH_LIMITS.MaxConcurrentRequests}, API.Limits.MaxConnections ${BENCH_LIMITS.MaxConnections} (defaults 256 and 1024); other settings default; log level info`,
      ...runs,
      heliaServer: '@helia/delegated-routing-v1-http-api-server 5.2.1 over a Helia routing that holds the same record bytes (a map: no network, cache or expiry check), fastify 5 with @fastify/cors, as createDelegatedRoutingV1HttpApiServer builds it',
      rssMiB: { daemonStart, before1000, after1000, bare: bareRss, helia: heliaRss },
      defaultLimitsAt1000: { ...defaultsRun, note: 'routing GET, 3 s, no warm-up, a fresh daemon with the default API.Limits (MaxConcurrentRequests 256, MaxConnections 1024); non2xx / refused count the 503s of its gate' },
      targets
    }
  } finally {
    for (const c of children) await c.stop()
    await net.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'bare-server') {
  await bareServer()
}

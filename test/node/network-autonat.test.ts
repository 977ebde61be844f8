/**
 * AutoNAT decides the DHT mode (the amino profile: mode 'auto', AutoNAT on),
 * on a topology of network namespaces where one node is reachable and one
 * is not. Three namespaces hang off a router namespace (veth pairs, IPv4
 * forwarding inside the router only; nothing touches the host's own
 * network): A on 11.0.0.2, B on 12.0.0.2, C on 13.0.0.2 — addresses libp2p
 * takes for public ones, routed nowhere but between these namespaces. B is
 * the peer A and C join. In B's namespace a routing rule lets B answer the
 * connections C opens but blackholes any connection B opens to C, so B's
 * AutoNAT dial-back reaches A and not C:
 *
 * - A's listen address is confirmed (dialled back), its peer record gains a
 *   public address, and kad-dht switches it to server: a `swarm:mode` event,
 *   swarm.status.network { mode: 'server', reachability: 'public' };
 * - C's is never confirmed: it stays a client, reachability private.
 *
 * Each node runs in its own process (`ip netns exec`, test/helpers/
 * netns-node.mjs, loading dist/). Needs root and `ip netns`; skipped
 * without. The addresses are allowed to the network guard through
 * SWARMBUS_TEST_ALLOW_HOSTS, in the children only.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildProcess } from 'node:child_process'

const SCRIPT = fileURLToPath(new URL('../helpers/netns-node.mjs', import.meta.url))
const tag = String(process.pid % 100_000)
const NS = { r: `sb${tag}r`, a: `sb${tag}a`, b: `sb${tag}b`, c: `sb${tag}c` }
const NETS = { a: 11, b: 12, c: 13 } as const
const B_PORT = 4001

function ip (...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function canUseNetns (): boolean {
  if (process.getuid?.() !== 0) return false
  try {
    ip('netns', 'add', `sb${tag}probe`)
    ip('netns', 'del', `sb${tag}probe`)
    return true
  } catch {
    return false
  }
}

const available = canUseNetns()

function buildTopology (): void {
  for (const ns of Object.values(NS)) ip('netns', 'add', ns)
  ip('netns', 'exec', NS.r, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1')
  for (const [side, net] of Object.entries(NETS) as Array<[keyof typeof NETS, number]>) {
    const inner = `v${tag}${side}`
    const outer = `r${tag}${side}`
    ip('link', 'add', inner, 'type', 'veth', 'peer', 'name', outer)
    ip('link', 'set', inner, 'netns', NS[side])
    ip('link', 'set', outer, 'netns', NS.r)
    ip('-n', NS[side], 'addr', 'add', `${net}.0.0.2/24`, 'dev', inner)
    ip('-n', NS[side], 'link', 'set', inner, 'up')
    ip('-n', NS[side], 'link', 'set', 'lo', 'up')
    ip('-n', NS[side], 'route', 'add', 'default', 'via', `${net}.0.0.1`)
    ip('-n', NS.r, 'addr', 'add', `${net}.0.0.1/24`, 'dev', outer)
    ip('-n', NS.r, 'link', 'set', outer, 'up')
  }
  // in B: packets to C from B's listening port (answers on C's connections) route as usual; any other (B's own dials) are blackholed
  ip('-n', NS.b, 'rule', 'add', 'to', '13.0.0.0/24', 'sport', String(B_PORT), 'lookup', 'main', 'pref', '100')
  ip('-n', NS.b, 'rule', 'add', 'to', '13.0.0.0/24', 'lookup', '200', 'pref', '200')
  ip('-n', NS.b, 'route', 'add', 'blackhole', '13.0.0.0/24', 'table', '200')
}

function removeTopology (): void {
  for (const ns of Object.values(NS)) {
    try {
      ip('netns', 'del', ns)
    } catch {
      // not created (a failed setup): nothing to remove
    }
  }
}

interface Child {
  proc: ChildProcess
  lines: Array<Record<string, unknown>>
  next: (key: string, timeoutMs?: number) => Promise<Record<string, unknown>>
  send: (line: string) => void
}

function startNode (ns: string, options: Record<string, unknown>): Child {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, SCRIPT, JSON.stringify(options)], {
    env: { ...process.env, SWARMBUS_TEST_ALLOW_HOSTS: '11.0.0.0/24,12.0.0.0/24,13.0.0.0/24', SWARMBUS_TEST_NO_BUILD: '1' },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', line => {
    lines.push(JSON.parse(line) as Record<string, unknown>)
    for (const w of waiters.splice(0)) w()
  })
  let seen = 0
  const next = async (key: string, timeoutMs = 20_000): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = lines.findIndex((l, j) => j >= seen && key in l)
      if (i >= 0) { seen = i + 1; return lines[i] as Record<string, unknown> }
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no "${key}" line from the node in ${ns} (got ${JSON.stringify(lines)})`)
      await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 200) })
    }
  }
  return { proc, lines, next, send: line => { proc.stdin?.write(line + '\n') } }
}

async function stopNode (c: Child | undefined): Promise<void> {
  if (c === undefined || c.proc.exitCode !== null) return
  const exited = new Promise<void>(resolve => { c.proc.once('exit', () => { resolve() }) })
  c.send('stop')
  const timer = setTimeout(() => { c.proc.kill('SIGKILL') }, 5_000)
  await exited
  clearTimeout(timer)
}

const AMINO = { profile: 'amino', wsPort: false }

describe.skipIf(!available)('AutoNAT decides the DHT mode (network namespaces)', () => {
  const children: Child[] = []

  beforeAll(() => { removeTopology(); buildTopology() })
  afterAll(async () => {
    for (const c of children) await stopNode(c)
    removeTopology()
  })

  it('the reachable node becomes a DHT server, the one behind the blackhole stays a client', async () => {
    const b = startNode(NS.b, { network: { ...AMINO, tcpPort: B_PORT }, listen: [`/ip4/12.0.0.2/tcp/${B_PORT}`], bootstrap: [] })
    children.push(b)
    const bReady = (await b.next('ready')).ready as { peerId: string, multiaddrs: string[] }
    // a public listen address is not announced until it is confirmed: B's list is empty so far
    expect(bReady.multiaddrs).toEqual([])
    const bAddr = `/ip4/12.0.0.2/tcp/${B_PORT}/p2p/${bReady.peerId}`

    const a = startNode(NS.a, { network: { ...AMINO, tcpPort: 4001 }, listen: ['/ip4/11.0.0.2/tcp/4001'], bootstrap: [bAddr] })
    const c = startNode(NS.c, { network: { ...AMINO, tcpPort: 4001 }, listen: ['/ip4/13.0.0.2/tcp/4001'], bootstrap: [bAddr] })
    children.push(a, c)
    await a.next('ready')
    await c.next('ready')

    // A: confirmed by B's dial-back, then kad-dht's auto mode serves
    // (its reachability turns public first, in one event; kad-dht's switch to server follows in the next)
    let switched = (await a.next('mode')).mode as Record<string, unknown>
    expect(switched).toMatchObject({ reachability: 'public' })
    if (switched.mode !== 'server') switched = (await a.next('mode')).mode as Record<string, unknown>
    expect(switched).toMatchObject({ mode: 'server', reachability: 'public', modeSetting: 'auto', autonat: true })
    expect(switched.publicAddresses).toEqual([expect.stringMatching(/^\/ip4\/11\.0\.0\.2\/tcp\/4001\/p2p\//)])
    a.send('status')
    expect((await a.next('status')).status).toMatchObject({ mode: 'server', reachability: 'public', modeChanges: 1 })

    // C: B's dial-back never reaches it; give it as long as A needed and more
    await new Promise(resolve => setTimeout(resolve, 3_000))
    c.send('status')
    expect((await c.next('status')).status).toMatchObject({ mode: 'client', reachability: 'private', modeChanges: 0 })
    expect(c.lines.some(l => 'mode' in l)).toBe(false)
  }, 60_000)
})

/**
 * `swarmbus init --repo DIR`: a new repo (as `ipfs init`): the node's
 * identity (an Ed25519 key in the repo's LevelDB datastore) and the config
 * file DIR/config with the defaults, adjusted by the flags. An initialised
 * repo is refused unless --force, which rewrites the config and keeps the
 * identity (and everything else in the datastore).
 * Exit codes: 0 done, 1 failed (repo exists, in use, unwritable), 2 usage error.
 */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parse, UsageError } from './args.js'
import { failed, jsonLine, repoOf } from './key-repo.js'

export const summary = 'create a repo: the node\'s identity and its config file'

export const help = `Usage: swarmbus init --repo DIR [options]

Creates a repo in DIR (made if missing, mode 0700): the node's identity (an
Ed25519 key, kept in the repo's datastore: the peer id survives restarts) and
the config file DIR/config (JSON, kubo's layout; see docs/daemon.md and
'swarmbus config'). Then run 'swarmbus daemon --repo DIR'.

Options:
  --repo DIR          the repo directory (required)
  --profile NAME      the network profile: local (loopback testnets; the
                      default) or amino (the public IPFS DHT: kubo's
                      bootstrap peers, TCP 4001 and WebSockets 4002 on every
                      interface, DHT server once reachable)
  --api ADDR          Addresses.API, the HTTP API's multiaddr
                      (default /ip4/127.0.0.1/tcp/5001; tcp/0 picks a port)
  --swarm ADDR        Addresses.Swarm, a libp2p listen address (repeat for
                      more; default the profile's: local
                      /ip4/127.0.0.1/tcp/4001, amino 0.0.0.0 and :: on
                      tcp/4001 and tcp/4002/ws)
  --swarm-port PORT   the profile's swarm addresses on TCP port PORT
                      instead of 4001 (not with --swarm)
  --ws-port PORT|off  amino: its WebSockets addresses on PORT instead of
                      4002, or none (not with --swarm)
  --bootstrap ADDR    a Bootstrap peer (multiaddr with /p2p/<peer id>;
                      repeat for more; default the profile's: none for
                      local, kubo's public peers for amino)
  --force             rewrite the config of an initialised repo (the
                      identity is kept)
  --json              print JSON
  -h, --help          show this help

Examples:
  swarmbus init --repo ./node1
  swarmbus init --repo /var/lib/swarmbus --profile amino
  swarmbus init --repo ./public2 --profile amino --swarm-port 4101 --ws-port 4102 --api /ip4/127.0.0.1/tcp/5002
  swarmbus init --repo ./node2 --api /ip4/127.0.0.1/tcp/5002 --swarm /ip4/127.0.0.1/tcp/4002 \\
    --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…
`

/** a well-formed peer id, to check the flags before the identity exists */
const PLACEHOLDER_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

const list = (v: unknown): string[] | undefined => Array.isArray(v) ? v.map(String) : undefined

function port (command: string, flag: string, v: string | undefined, off: boolean): number | false | undefined {
  if (v === undefined) return undefined
  if (off && v === 'off') return false
  const n = Number(v)
  if (!/^\d+$/.test(v) || n > 65_535) throw new UsageError(command, `${flag}: must be a port number from 0 to 65535${off ? ' or off' : ''} (got '${v}')`)
  return n
}

export async function run (argv: string[]): Promise<number> {
  const command = 'init'
  const p = parse(command, argv, {
    repo: { type: 'string' },
    profile: { type: 'string' },
    api: { type: 'string' },
    swarm: { type: 'string', multiple: true },
    'swarm-port': { type: 'string' },
    'ws-port': { type: 'string' },
    bootstrap: { type: 'string', multiple: true },
    force: { type: 'boolean' },
    json: { type: 'boolean' }
  })
  if (p.values.help === true) {
    process.stdout.write(help)
    return 0
  }
  const dir = resolve(repoOf(command, p.values))
  const json = p.values.json === true
  const { ConfigError, NETWORK_PROFILES, profileSwarm, validateConfig } = await import('../daemon/config-schema.js')
  const tcpPort = port(command, '--swarm-port', p.values['swarm-port'] as string | undefined, false)
  const wsPort = port(command, '--ws-port', p.values['ws-port'] as string | undefined, true)
  let swarm = list(p.values.swarm)
  if (tcpPort !== undefined || wsPort !== undefined) {
    if (swarm !== undefined) throw new UsageError(command, '--swarm-port and --ws-port adjust the profile\'s swarm addresses; with --swarm, give the addresses in full')
    const profile = String(p.values.profile ?? 'local')
    if (!(NETWORK_PROFILES as readonly string[]).includes(profile)) throw new UsageError(command, `--profile: must be one of ${NETWORK_PROFILES.join(', ')} (got '${profile}')`)
    swarm = profileSwarm(profile as typeof NETWORK_PROFILES[number], { ...(tcpPort !== undefined ? { tcpPort: tcpPort as number } : {}), ...(wsPort !== undefined ? { wsPort } : {}) })
  }
  const raw = {
    Identity: { PeerID: PLACEHOLDER_ID },
    ...(p.values.api !== undefined || swarm !== undefined
      ? { Addresses: { ...(p.values.api !== undefined ? { API: p.values.api } : {}), ...(swarm !== undefined ? { Swarm: swarm } : {}) } }
      : {}),
    ...(list(p.values.bootstrap) !== undefined ? { Bootstrap: list(p.values.bootstrap) } : {}),
    ...(p.values.profile !== undefined ? { Network: { Profile: p.values.profile } } : {})
  }
  let config
  try {
    config = validateConfig(raw)
  } catch (err) {
    if (err instanceof ConfigError) {
      const flag = ({ 'Addresses.API': '--api', 'Addresses.Swarm': '--swarm', Bootstrap: '--bootstrap', 'Network.Profile': '--profile' } as Record<string, string>)[err.key]
      throw new UsageError(command, `${flag ?? err.key}: ${err.message.slice(err.key.length + 2)}`)
    }
    throw err
  }
  const { configPath, saveConfig } = await import('../daemon/config-file.js')
  const path = configPath(dir)
  if (existsSync(path) && p.values.force !== true) {
    return failed(command, new Error(`${dir} is a repo already (${path} exists); use --force to rewrite its config (the identity is kept)`), json, false)
  }
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const { lockRepo } = await import('../daemon/repo-lock.js')
    const lock = await lockRepo(dir, 'init')
    try {
      const { createNode } = await import('../index.js')
      // the repo's node, on the memory transport (no socket): it makes and stores the identity
      const node = await createNode({ repo: dir, transport: 'memory', verifier: 'inline', republish: false })
      const peerId = node.peerId
      await node.stop()
      config.Identity.PeerID = peerId
      await saveConfig(dir, config)
    } finally {
      await lock.release()
    }
  } catch (err) {
    return failed(command, err, json, false)
  }
  const peerId = config.Identity.PeerID
  process.stdout.write(json
    ? jsonLine({ repo: dir, peerId, config: path, profile: config.Network.Profile, api: config.Addresses.API, swarm: config.Addresses.Swarm, bootstrap: config.Bootstrap.length })
    : `initialized a swarmbus repo at ${dir}\npeer identity: ${peerId}\nconfig: ${path} (profile ${config.Network.Profile}, API ${config.Addresses.API}, swarm ${config.Addresses.Swarm.join(' ')}, ${config.Bootstrap.length} bootstrap peer(s))\n` +
      `${config.Network.Profile === 'amino' ? 'this node joins the public IPFS DHT when the daemon starts (kubo\'s bootstrap peers; edit Bootstrap to change them)\n' : ''}next: swarmbus daemon --repo ${dir}\n`)
  return 0
}

/**
 * What the daemon's config means for its node: config → createNode's options,
 * for the local and amino profiles, the routing types and the delegated
 * routers; and `swarmbus init --profile amino` writing an amino config. No
 * node is started on amino here (the mapping is plain data).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfigError, defaultConfig, profileSwarm, validateConfig } from '../../src/daemon/config-schema.js'
import { loadConfig } from '../../src/daemon/config-file.js'
import { httpLimits, nodeOptions } from '../../src/daemon/node-options.js'
import { AMINO_BOOTSTRAP } from '../../src/actors/swarm/libp2p/profiles.js'
import { run as init } from '../../src/cli/init.js'
import { UsageError } from '../../src/cli/args.js'

const ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const PEER = '/ip4/127.0.0.1/tcp/4100/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const AMINO_SWARM = ['/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws', '/ip6/::/tcp/4002/ws']

const dirs: string[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('nodeOptions', () => {
  it('local: loopback, a DHT server, no bootstrap, no routers', () => {
    const o = nodeOptions('/r', defaultConfig(ID), undefined)
    expect(o).toMatchObject({ repo: '/r', transport: 'tcp', network: 'local', listen: ['/ip4/127.0.0.1/tcp/4001'], bootstrap: [], mode: 'server', loopback: true, republish: { intervalMs: 3_600_000, startDelayMs: 60_000 } })
    expect(o.routers).toBeUndefined()
    expect(o.bootstrapRetry).toBeUndefined()
    expect(o.announce).toBeUndefined()
    expect(o.passphrase).toBeUndefined()
  })

  it('amino: the profile with its defaults written out, auto mode, public addresses only', () => {
    const c = defaultConfig(ID, 'amino')
    expect(c.Addresses.Swarm).toEqual(AMINO_SWARM)
    expect(c.Bootstrap).toEqual([...AMINO_BOOTSTRAP])
    const o = nodeOptions('/r', c, 'pw')
    expect(o).toMatchObject({ network: 'amino', listen: AMINO_SWARM, bootstrap: [...AMINO_BOOTSTRAP], bootstrapRetry: true, mode: 'auto', loopback: false, passphrase: 'pw' })
  })

  it('amino: Addresses.Swarm, Announce and Bootstrap replace the profile\'s, an empty Bootstrap included', () => {
    const c = validateConfig({
      Identity: { PeerID: ID },
      Network: { Profile: 'amino' },
      Addresses: { Swarm: ['/ip4/0.0.0.0/tcp/4101'], Announce: ['/ip4/203.0.113.7/tcp/4101'] },
      Bootstrap: []
    })
    const o = nodeOptions('/r', c, undefined)
    expect(o).toMatchObject({ network: 'amino', listen: ['/ip4/0.0.0.0/tcp/4101'], announce: ['/ip4/203.0.113.7/tcp/4101'], bootstrap: [] })
    expect(o.bootstrapRetry).toBeUndefined()
    const mine = nodeOptions('/r', validateConfig({ Identity: { PeerID: ID }, Network: { Profile: 'amino' }, Bootstrap: [PEER] }), undefined)
    expect(mine.bootstrap).toEqual([PEER])
  })

  it('Routing.Type: auto is the profile\'s mode, dhtserver and dhtclient fix it', () => {
    const mode = (Profile: string, Type: string): unknown => nodeOptions('/r', validateConfig({ Identity: { PeerID: ID }, Network: { Profile }, Routing: { Type } }), undefined).mode
    expect([mode('local', 'auto'), mode('local', 'dhtserver'), mode('local', 'dhtclient')]).toEqual(['server', 'server', 'client'])
    expect([mode('amino', 'auto'), mode('amino', 'dhtserver'), mode('amino', 'dhtclient')]).toEqual(['auto', 'server', 'client'])
  })

  it('Routing.Routers (kubo\'s shape) become the delegated routers, in the config\'s order', () => {
    const c = validateConfig({
      Identity: { PeerID: ID },
      Routing: {
        Routers: {
          someguy: { Type: 'http', Parameters: { Endpoint: 'http://127.0.0.1:8190' } },
          backup: { Type: 'http', Parameters: { Endpoint: 'https://127.0.0.1:8191/' } }
        }
      }
    })
    expect(nodeOptions('/r', c, undefined).routers).toEqual({ endpoints: ['http://127.0.0.1:8190', 'https://127.0.0.1:8191/'] })
  })

  it('Ipns settings: quorum, cache size, republish period (0 turns it off); the HTTP limits', () => {
    const c = validateConfig({ Identity: { PeerID: ID }, Ipns: { Quorum: 3, ResolveCacheSize: 10, RepublishPeriod: '90s', RepublishStartDelay: '0s' }, API: { Limits: { MaxConnections: 5, ShutdownTimeout: '2s' } } })
    const o = nodeOptions('/r', c, undefined)
    expect(o.ipns).toEqual({ quorum: 3, cacheSize: 10 })
    expect(o.republish).toEqual({ intervalMs: 90_000, startDelayMs: 0 })
    expect(nodeOptions('/r', validateConfig({ Identity: { PeerID: ID }, Ipns: { RepublishPeriod: '0' } }), undefined).republish).toBe(false)
    expect(httpLimits(c)).toMatchObject({ maxConnections: 5, maxConcurrentRequests: 256, shutdownTimeoutMs: 2_000 })
  })

  it('a bad profile is named by its key', () => {
    expect(() => validateConfig({ Identity: { PeerID: ID }, Network: { Profile: 'mars' } })).toThrow(ConfigError)
    expect(() => validateConfig({ Identity: { PeerID: ID }, Network: { Profile: 'mars' } })).toThrow(/Network.Profile: must be one of "local", "amino"/)
  })

  it('profileSwarm: the profile\'s addresses on other ports', () => {
    expect(profileSwarm('local')).toEqual(['/ip4/127.0.0.1/tcp/4001'])
    expect(profileSwarm('local', { tcpPort: 4100 })).toEqual(['/ip4/127.0.0.1/tcp/4100'])
    expect(profileSwarm('amino', { tcpPort: 4101, wsPort: 4102 })).toEqual(['/ip4/0.0.0.0/tcp/4101', '/ip6/::/tcp/4101', '/ip4/0.0.0.0/tcp/4102/ws', '/ip6/::/tcp/4102/ws'])
    expect(profileSwarm('amino', { wsPort: false })).toEqual(['/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001'])
  })
})

describe('swarmbus init --profile', () => {
  const repo = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'swarmbus-init-'))
    dirs.push(d)
    return join(d, 'repo')
  }

  it('amino writes an amino config (kubo\'s peers, the public addresses), which the daemon maps to an amino node', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    const dir = await repo()
    expect(await init(['--repo', dir, '--profile', 'amino'])).toBe(0)
    const c = await loadConfig(dir)
    expect(c.Network.Profile).toBe('amino')
    expect(c.Addresses.Swarm).toEqual(AMINO_SWARM)
    expect(c.Bootstrap).toEqual([...AMINO_BOOTSTRAP])
    expect(nodeOptions(dir, c, undefined)).toMatchObject({ network: 'amino', mode: 'auto', loopback: false, bootstrap: [...AMINO_BOOTSTRAP] })
  })

  it('--swarm-port and --ws-port move the profile\'s addresses; --bootstrap replaces kubo\'s peers', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    const dir = await repo()
    expect(await init(['--repo', dir, '--profile', 'amino', '--swarm-port', '4101', '--ws-port', 'off', '--bootstrap', PEER])).toBe(0)
    const c = await loadConfig(dir)
    expect(c.Addresses.Swarm).toEqual(['/ip4/0.0.0.0/tcp/4101', '/ip6/::/tcp/4101'])
    expect(c.Bootstrap).toEqual([PEER])
    const local = await repo()
    expect(await init(['--repo', local, '--swarm-port', '4102'])).toBe(0)
    expect((await loadConfig(local)).Addresses.Swarm).toEqual(['/ip4/127.0.0.1/tcp/4102'])
  })

  it('refuses a bad port, and a port with --swarm', async () => {
    const dir = await repo()
    await expect(init(['--repo', dir, '--swarm-port', '70000'])).rejects.toThrow(UsageError)
    await expect(init(['--repo', dir, '--swarm-port', '4101', '--swarm', '/ip4/127.0.0.1/tcp/1'])).rejects.toThrow(/give the addresses in full/)
    await expect(init(['--repo', dir, '--profile', 'mars', '--ws-port', '1'])).rejects.toThrow(/--profile: must be one of local, amino/)
  })
})

/**
 * What `swarmbus name` builds for its node, without starting one (so nothing
 * leaves this machine): with no flags and no environment, the amino profile
 * with kubo's bootstrap list and https://delegated-ipfs.dev, dial-only;
 * --network / SWARMBUS_NETWORK, --bootstrap, --router / SWARMBUS_ROUTERS,
 * --router-timeout and --settle each change what they name; usage errors.
 * And createNode's side of the default: an amino node without `routers`
 * runs the routers actor on the profile's endpoint, `endpoints: []` turns it
 * off, local has none (seen in swarm.status, which asks no endpoint; the
 * bootstrap list is emptied so nothing is dialled).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/args.js'
import { networkFlags, nodeOptions } from '../../src/cli/name-node.js'
import { AMINO_BOOTSTRAP, AMINO_ROUTERS, LOCAL_PROFILE } from '../../src/actors/swarm/libp2p/profiles.js'
import { createNode } from '../../src/node/create-node.js'
import type { SwarmNode } from '../../src/node/create-node.js'

const CMD = 'name resolve'
const PEER = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWCfRaLkrCj1jbMbUiBjFJL14aoC3BWdqJZXsoPATTCWvk'

const flags = async (values: Record<string, string | boolean | string[] | undefined>, env: NodeJS.ProcessEnv = {}, needsPeers = true): ReturnType<typeof networkFlags> =>
  await networkFlags(CMD, values as never, needsPeers, env, false)

async function usage (values: Record<string, string | boolean | string[] | undefined>, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    await flags(values, env)
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error('no usage error')
}

describe('the network a name command picks', () => {
  it('no flags, no environment: amino, kubo\'s bootstrap list, delegated-ipfs.dev, a dial-only DHT client', async () => {
    const net = await flags({})
    expect(net).toMatchObject({ profile: 'amino', offline: false, bootstrapFromProfile: true, loopback: false, progress: 'off' })
    expect(net.bootstrap).toEqual([...AMINO_BOOTSTRAP])
    expect(net.routers).toEqual(['https://delegated-ipfs.dev'])
    expect(AMINO_ROUTERS).toEqual(['https://delegated-ipfs.dev'])
    const o = nodeOptions('memory', undefined, net)
    expect(o).toMatchObject({
      repo: 'memory',
      transport: 'tcp',
      mode: 'client',
      listen: [],
      loopback: false,
      network: { profile: 'amino', autonat: false, upnp: false },
      bootstrap: [...AMINO_BOOTSTRAP],
      routers: { endpoints: ['https://delegated-ipfs.dev'] },
      republish: false,
      verifier: 'inline'
    })
    // a longer join than on a testnet, and it keeps trying while it reaches nobody
    expect(o.bootstrapTimeoutMs).toBe(30_000)
    expect(o.bootstrapRetry).toEqual({ firstMs: 1_000, maxMs: 5_000 })
    // a publish has the same defaults
    expect(nodeOptions('memory', undefined, await networkFlags('name publish', {}, true, {}, false))).toMatchObject({ bootstrap: [...AMINO_BOOTSTRAP], routers: { endpoints: [...AMINO_ROUTERS] } })
  })

  it('amino with --bootstrap and --router: those replace the profile\'s lists; loopback peers keep loopback addresses', async () => {
    const net = await flags({ network: 'amino', bootstrap: [PEER], router: ['http://127.0.0.1:8080', 'http://127.0.0.1:8081'], 'router-timeout': '2s', settle: '50ms' })
    expect(net).toMatchObject({ profile: 'amino', bootstrap: [PEER], bootstrapFromProfile: false, loopback: true, routers: ['http://127.0.0.1:8080', 'http://127.0.0.1:8081'], routerTimeoutMs: 2_000, settleMs: 50 })
    expect(nodeOptions('memory', undefined, net)).toMatchObject({
      listen: [],
      loopback: true,
      bootstrap: [PEER],
      routers: { endpoints: ['http://127.0.0.1:8080', 'http://127.0.0.1:8081'], timeoutMs: 2_000, settleMs: 50 }
    })
    // --router none: the DHT alone; a /dnsaddr bootstrap is not loopback
    const dhtOnly = await flags({ router: ['none'], bootstrap: ['/dnsaddr/boot.swarmbus.test/p2p/12D3KooWCfRaLkrCj1jbMbUiBjFJL14aoC3BWdqJZXsoPATTCWvk'] })
    expect(dhtOnly).toMatchObject({ routers: [], loopback: false })
    expect(nodeOptions('memory', undefined, dhtOnly).routers).toEqual({ endpoints: [] })
  })

  it('SWARMBUS_NETWORK and SWARMBUS_ROUTERS pick when no flag does; a flag wins', async () => {
    expect(await usage({}, { SWARMBUS_NETWORK: 'local' })).toMatch(/no peers to join on --network local/)
    const local = await flags({ bootstrap: [PEER] }, { SWARMBUS_NETWORK: 'local' })
    expect(local).toMatchObject({ profile: 'local', routers: [], bootstrap: [PEER], loopback: true })
    const o = nodeOptions('memory', undefined, local)
    expect(o).toMatchObject({ network: 'local', transport: 'tcp', mode: 'client', bootstrap: [PEER], bootstrapTimeoutMs: 20_000, routers: { endpoints: [] } })
    expect(o.listen).toBeUndefined()
    expect(LOCAL_PROFILE.routers).toEqual([])
    expect((await flags({ network: 'amino' }, { SWARMBUS_NETWORK: 'local' })).profile).toBe('amino')
    expect((await flags({}, { SWARMBUS_ROUTERS: 'http://127.0.0.1:1, http://127.0.0.1:2' })).routers).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2'])
    expect((await flags({ router: ['http://127.0.0.1:3'] }, { SWARMBUS_ROUTERS: 'http://127.0.0.1:1' })).routers).toEqual(['http://127.0.0.1:3'])
    expect((await flags({}, { SWARMBUS_ROUTERS: 'none' })).routers).toEqual([])
  })

  it('offline opens no network; local without peers is the memory transport for a domain', async () => {
    const off = await flags({ offline: true })
    expect(off).toMatchObject({ offline: true, bootstrap: [], routers: [] })
    expect(nodeOptions('memory', undefined, off)).toMatchObject({ transport: 'memory', routers: { endpoints: [] } })
    const domain = await networkFlags(CMD, { network: 'local' }, false, {}, false)
    expect(nodeOptions('memory', undefined, domain)).toMatchObject({ transport: 'memory', network: 'local' })
  })

  it('progress: lines with --progress, a status line on a terminal, none with --json or --verbose', async () => {
    expect((await flags({ progress: true, json: true })).progress).toBe('lines')
    expect((await networkFlags(CMD, {}, true, {}, true)).progress).toBe('tty')
    expect((await networkFlags(CMD, { json: true }, true, {}, true)).progress).toBe('off')
    expect((await networkFlags(CMD, { verbose: true }, true, {}, true)).progress).toBe('off')
  })

  it('usage errors', async () => {
    expect(await usage({ network: 'mainnet' })).toMatch(/--network must be one of amino, local \(got 'mainnet'\)/)
    expect(await usage({}, { SWARMBUS_NETWORK: 'x' })).toMatch(/SWARMBUS_NETWORK must be one of amino, local/)
    expect(await usage({ router: ['ftp://example.org'] })).toMatch(/--router 'ftp:\/\/example\.org' must be an http: or https: URL/)
    expect(await usage({ router: ['not a url'] })).toMatch(/--router 'not a url' is not a URL/)
    expect(await usage({ router: ['none', 'http://127.0.0.1:1'] })).toMatch(/'none' cannot be combined/)
    expect(await usage({}, { SWARMBUS_ROUTERS: 'nope' })).toMatch(/SWARMBUS_ROUTERS 'nope' is not a URL/)
    expect(await usage({ offline: true, router: ['http://127.0.0.1:1'] })).toMatch(/--offline and --router exclude each other/)
    expect(await usage({ settle: '2m' })).toMatch(/--settle must be 0 or more and at most 1m/)
    expect(await usage({ 'router-timeout': '0' })).toMatch(/--router-timeout must be above 0/)
  })
})

describe('createNode: the amino profile\'s default HTTP router', () => {
  const nodes: SwarmNode[] = []
  afterEach(async () => { for (const n of nodes.splice(0)) await n.stop() })
  const node = async (options: Parameters<typeof createNode>[0]): Promise<SwarmNode> => {
    // no bootstrap peers and no listener: nothing is dialled, nothing listens on 0.0.0.0
    const n = await createNode({ verifier: 'inline', republish: false, bootstrap: [], listen: [], ...options })
    nodes.push(n)
    return n
  }

  it('amino without routers asks delegated-ipfs.dev; routers.endpoints [] turns it off; local has none', async () => {
    const amino = await node({ network: { profile: 'amino', autonat: false } })
    const status = await amino.ask({ type: 'swarm.status' })
    expect(status.routers?.endpoints.map(e => e.endpoint)).toEqual(['https://delegated-ipfs.dev'])
    expect(status.routers?.endpoints[0]).toMatchObject({ requests: 0, breaker: 'closed' })
    // settings without endpoints keep the profile's endpoint
    const tuned = await node({ network: { profile: 'amino', autonat: false }, routers: { timeoutMs: 1_000 } })
    expect((await tuned.ask({ type: 'swarm.status' })).routers?.endpoints.map(e => e.endpoint)).toEqual(['https://delegated-ipfs.dev'])
    const off = await node({ network: { profile: 'amino', autonat: false }, routers: { endpoints: [] } })
    expect((await off.ask({ type: 'swarm.status' })).routers).toBeUndefined()
    const local = await node({ network: 'local' })
    expect((await local.ask({ type: 'swarm.status' })).routers).toBeUndefined()
    // given endpoints replace the profile's
    const mine = await node({ network: { profile: 'amino', autonat: false }, routers: { endpoints: ['http://127.0.0.1:9'] } })
    expect((await mine.ask({ type: 'swarm.status' })).routers?.endpoints.map(e => e.endpoint)).toEqual(['http://127.0.0.1:9'])
  })
})

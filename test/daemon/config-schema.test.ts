/**
 * The config schema: defaults filled in, unknown keys refused, every error
 * naming its key; and the dotted get/set of config-file.ts (map entries,
 * null removes one, Identity refused, the result validated).
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, configKeys, defaultConfig, ms, routerEndpoints, validateConfig } from '../../src/daemon/config-schema.js'
import { getKey, parseValue, setKey } from '../../src/daemon/config-file.js'

const ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

function error (f: () => unknown): ConfigError {
  try {
    f()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('no ConfigError')
}

describe('validateConfig', () => {
  it('fills in every default, kubo-style', () => {
    const c = defaultConfig(ID)
    expect(c.Addresses.API).toBe('/ip4/127.0.0.1/tcp/5001')
    expect(c.Ipns).toEqual({ RecordLifetime: '48h', RecordTTL: '5m', RepublishPeriod: '1h', RepublishStartDelay: '1m', ResolveCacheSize: 1024, Quorum: 16 })
    expect(c.Network.Profile).toBe('local')
    expect(c.API.Limits.MaxConcurrentRequests).toBe(256)
    expect(configKeys()).toContain('API.Limits.ShutdownTimeout')
    expect(ms(c.API.Limits.ShutdownTimeout)).toBe(10_000)
    expect(ms('1h30m')).toBe(5_400_000)
  })

  it('names the key of every error', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ Identity: { PeerID: ID }, Ipns: { Quorum: 65 } }, 'Ipns.Quorum', /integer from 1 to 64/],
      [{ Identity: { PeerID: ID }, Ipns: { Extra: 1 } }, 'Ipns.Extra', /unknown key \(known here: RecordLifetime/],
      [{ Identity: { PeerID: ID }, Addresses: { API: '/ip4/1.2.3.4/udp/1' } }, 'Addresses.API', /expected \/ip4/],
      [{ Identity: { PeerID: ID }, Addresses: { Swarm: ['nonsense'] } }, 'Addresses.Swarm', /\[0\] 'nonsense' is not a multiaddr/],
      [{ Identity: { PeerID: ID }, Network: { Profile: 'mars' } }, 'Network.Profile', /one of "local"/],
      [{ Identity: { PeerID: ID }, Routing: { Routers: { a: { Type: 'http', Parameters: { Endpoint: 'ftp://x' } } } } }, 'Routing.Routers', /\.a\.Parameters\.Endpoint must be an http\(s\) URL/],
      [{ Identity: { PeerID: ID }, API: { Limits: { ShutdownTimeout: 'soon' } } }, 'API.Limits.ShutdownTimeout', /not a duration/],
      [{ Identity: { PeerID: ID }, API: { Authorizations: { a: { AuthSecret: 'basic:u:p', AllowedPaths: [] } } } }, 'API.Authorizations', /AllowedPaths must be a non-empty array/],
      [{ Identity: { PeerID: 'x' } }, 'Identity.PeerID', /the repo's peer id/],
      [{ Identity: { PeerID: ID }, Ipns: 3 }, 'Ipns', /must be an object/]
    ]
    for (const [raw, key, message] of cases) {
      const e = error(() => validateConfig(raw))
      expect(e.key, key).toBe(key)
      expect(e.message, key).toMatch(message)
      expect(e.message.startsWith(`${key}: `), key).toBe(true)
    }
    expect(error(() => validateConfig([])).message).toMatch(/must be a JSON object/)
  })

  it('holds the routers and authorizations as kubo writes them', () => {
    const c = validateConfig({
      Identity: { PeerID: ID },
      Routing: { Routers: { local: { Type: 'http', Parameters: { Endpoint: 'http://127.0.0.1:8080' } } } },
      API: { Authorizations: { ci: { AuthSecret: 'bearer:t', AllowedPaths: ['/api/v0'] } } }
    })
    expect(routerEndpoints(c)).toEqual(['http://127.0.0.1:8080'])
    expect(c.API.Authorizations.ci?.AuthSecret).toBe('bearer:t')
  })
})

describe('dotted keys', () => {
  const base = defaultConfig(ID)

  it('gets and sets leaves and branches, validating the result', () => {
    expect(getKey(base, 'Ipns.Quorum')).toBe(16)
    expect(getKey(base, 'Addresses')).toMatchObject({ API: '/ip4/127.0.0.1/tcp/5001' })
    const next = setKey(base, 'Ipns.Quorum', 4)
    expect(next.Ipns.Quorum).toBe(4)
    expect(base.Ipns.Quorum).toBe(16)
    expect(setKey(base, 'Ipns', { Quorum: 2 }).Ipns).toMatchObject({ Quorum: 2, RecordLifetime: '48h' })
    expect(error(() => setKey(base, 'Ipns.Quorum', '4')).key).toBe('Ipns.Quorum')
    expect(error(() => setKey(base, 'Ipns.Nope', 1)).message).toMatch(/^Ipns\.Nope: unknown key/)
    expect(error(() => setKey(base, 'Ipns.Quorum.x', 1)).message).toMatch(/unknown key/)
    expect(error(() => setKey(base, 'Identity.PeerID', ID)).message).toMatch(/set by swarmbus init/)
    expect(error(() => getKey(base, 'Nope.x')).message).toMatch(/^Nope\.x: unknown key/)
    expect(error(() => getKey(base, 'a..b')).message).toMatch(/not a config key/)
  })

  it('sets and removes entries of a map setting', () => {
    const auth = { AuthSecret: 'bearer:t', AllowedPaths: ['/api/v0/name'] }
    const withAuth = setKey(base, 'API.Authorizations.ci', auth)
    expect(getKey(withAuth, 'API.Authorizations.ci')).toEqual(auth)
    expect(error(() => setKey(base, 'API.Authorizations.ci', { AuthSecret: 'nope', AllowedPaths: ['/'] })).key).toBe('API.Authorizations')
    expect(setKey(withAuth, 'API.Authorizations.ci', null).API.Authorizations).toEqual({})
  })

  it('reads command-line values as JSON, else as a string', () => {
    expect(parseValue('8')).toBe(8)
    expect(parseValue('["/ip4/127.0.0.1/tcp/1"]')).toEqual(['/ip4/127.0.0.1/tcp/1'])
    expect(parseValue('5m')).toBe('5m')
    expect(parseValue('/ip4/127.0.0.1/tcp/5001')).toBe('/ip4/127.0.0.1/tcp/5001')
  })
})

/**
 * The daemon's config (the JSON file `DIR/config`, kubo's layout where kubo
 * has the setting): every key, its default and its check, in one table.
 * validateConfig fills in missing keys with their defaults, refuses unknown
 * ones (a typo is an error, not a silently ignored setting), and names the
 * key in every error: `Ipns.Quorum: must be an integer from 1 to 64 (got 0)`.
 * The reference of every key is docs/daemon.md.
 */
import { parseDuration } from '../cli/record-duration.js'
import { parseListenAddress } from '../http/listen-address.js'
import { multiaddr } from '@multiformats/multiaddr'
import { AMINO_BOOTSTRAP, resolveNetworkProfile } from '../actors/swarm/libp2p/profiles.js'

/**
 * network profiles the daemon knows: 'local' (loopback testnets) and 'amino'
 * (the public IPFS DHT; docs/network.md)
 */
export const NETWORK_PROFILES = ['local', 'amino'] as const
export type NetworkProfile = typeof NETWORK_PROFILES[number]

/** the local profile's swarm address when none is given (a fixed port, as kubo's 4001) */
export const LOCAL_SWARM = '/ip4/127.0.0.1/tcp/4001'

/**
 * Addresses.Swarm as a profile writes it: local 127.0.0.1 (tcp 4001),
 * amino TCP on every interface (4001) and WebSockets (4002), or the ports
 * given (`wsPort: false`: no WebSockets).
 */
export function profileSwarm (profile: NetworkProfile, ports: { tcpPort?: number, wsPort?: number | false } = {}): string[] {
  // the local profile's own default is a random port (tcp/0); a daemon's is fixed, as kubo's
  const tcpPort = ports.tcpPort ?? (profile === 'local' ? 4001 : undefined)
  const p = resolveNetworkProfile({ profile, ...(tcpPort !== undefined ? { tcpPort } : {}), ...(ports.wsPort !== undefined ? { wsPort: ports.wsPort } : {}) })
  return [...p.listen, ...p.websockets]
}

/** Bootstrap as a profile writes it: none for local, kubo's public peers for amino */
export function profileBootstrap (profile: NetworkProfile): string[] {
  return profile === 'amino' ? [...AMINO_BOOTSTRAP] : []
}

export const ROUTING_TYPES = ['auto', 'dhtserver', 'dhtclient'] as const

export interface Authorization {
  /** 'bearer:<token>' or 'basic:<user>:<password>' */
  AuthSecret: string
  /** path prefixes this secret may call, e.g. ['/api/v0'] */
  AllowedPaths: string[]
}

export interface HttpRouter {
  Type: 'http'
  Parameters: { Endpoint: string }
}

export interface DaemonConfig {
  Identity: { PeerID: string }
  Addresses: { Swarm: string[], Announce: string[], API: string }
  Bootstrap: string[]
  Network: { Profile: NetworkProfile }
  Routing: { Type: typeof ROUTING_TYPES[number], Routers: Record<string, HttpRouter> }
  Ipns: { RecordLifetime: string, RecordTTL: string, RepublishPeriod: string, RepublishStartDelay: string, ResolveCacheSize: number, Quorum: number }
  API: {
    Authorizations: Record<string, Authorization>
    Limits: {
      MaxBodyBytes: number
      MaxConcurrentRequests: number
      MaxConnections: number
      ConnectionTimeout: string
      KeepAliveTimeout: string
      RequestTimeout: string
      HandlerTimeout: string
      ShutdownTimeout: string
    }
  }
}

/** A config that does not hold together; `key` is the dotted key at fault. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly key: string
  constructor (key: string, message: string, options?: ErrorOptions) {
    super(key === '' ? message : `${key}: ${message}`, options)
    this.key = key
  }
}

type Check = (value: unknown) => string | undefined
/** a default may depend on the config it fills (the network profile's addresses); `root` is the raw config */
type Default = (root?: Record<string, unknown>) => unknown
interface Leaf { leaf: true, default: Default, check: Check }
interface Branch { [key: string]: Leaf | Branch }

const leaf = (dflt: Default, check: Check): Leaf => ({ leaf: true, default: dflt, check })

/** the profile a raw config names (its default when it names none or a bad one, which its own check reports) */
const profileOf = (root: Record<string, unknown> | undefined): NetworkProfile => {
  const network = root?.Network
  const p = typeof network === 'object' && network !== null ? (network as Record<string, unknown>).Profile : undefined
  return p === 'amino' ? 'amino' : 'local'
}
const shown = (v: unknown): string => { const s = JSON.stringify(v) ?? String(v); return s.length > 80 ? `${s.slice(0, 79)}…` : s }

const integer = (min: number, max: number): Check => v =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? undefined : `must be an integer from ${min} to ${max} (got ${shown(v)})`

const oneOf = (choices: readonly string[]): Check => v =>
  typeof v === 'string' && choices.includes(v) ? undefined : `must be one of ${choices.map(c => `"${c}"`).join(', ')} (got ${shown(v)})`

/** a Go-style duration string ("48h", "5m", "1h30m", "0s") within [min, max] ms */
const duration = (minMs: number, maxMs: number): Check => v => {
  if (typeof v !== 'string') return `must be a duration string such as "48h", "5m" or "1h30m" (got ${shown(v)})`
  let ms: number
  try {
    ms = parseDuration(v === '0s' ? '0' : v)
  } catch (err) {
    return (err as Error).message
  }
  if (ms < minMs || ms > maxMs) return `must be from ${minMs} ms to ${maxMs} ms (got "${v}")`
  return undefined
}

const checkMultiaddr = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return `must be a multiaddr string (got ${shown(v)})`
  try {
    multiaddr(v)
    return undefined
  } catch (err) {
    return `'${v}' is not a multiaddr: ${(err as Error).message}`
  }
}

const list = (each: Check, max: number): Check => v => {
  if (!Array.isArray(v)) return `must be an array (got ${shown(v)})`
  if (v.length > max) return `holds at most ${max} entries (got ${v.length})`
  for (const [i, x] of v.entries()) {
    const e = each(x)
    if (e !== undefined) return `[${i}] ${e}`
  }
  return undefined
}

const bootstrapAddr: Check = v => {
  const e = checkMultiaddr(v)
  if (e !== undefined) return e
  return (v as string).includes('/p2p/') ? undefined : `'${String(v)}' needs a /p2p/<peer id> part (the peer to join)`
}

const apiAddr: Check = v => {
  if (typeof v !== 'string') return `must be a multiaddr string (got ${shown(v)})`
  try {
    parseListenAddress(v)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

const plainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const MAX_ENTRIES = 64

const authorizations: Check = v => {
  if (!plainObject(v)) return `must be an object of name → { AuthSecret, AllowedPaths } (got ${shown(v)})`
  if (Object.keys(v).length > MAX_ENTRIES) return `holds at most ${MAX_ENTRIES} entries`
  for (const [name, a] of Object.entries(v)) {
    if (!plainObject(a)) return `.${name} must be an object { AuthSecret, AllowedPaths }`
    const extra = Object.keys(a).filter(k => k !== 'AuthSecret' && k !== 'AllowedPaths')
    if (extra.length > 0) return `.${name}: unknown key ${extra.map(k => `'${k}'`).join(', ')}`
    const secret = a.AuthSecret
    if (typeof secret !== 'string' || !/^(bearer:.+|basic:[^:]+:.+)$/.test(secret)) return `.${name}.AuthSecret must be "bearer:<token>" or "basic:<user>:<password>"`
    const paths = a.AllowedPaths
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every(p => typeof p === 'string' && p.startsWith('/'))) {
      return `.${name}.AllowedPaths must be a non-empty array of paths starting with '/' (e.g. ["/api/v0"])`
    }
  }
  return undefined
}

const routers: Check = v => {
  if (!plainObject(v)) return `must be an object of name → { Type: "http", Parameters: { Endpoint } } (got ${shown(v)})`
  if (Object.keys(v).length > MAX_ENTRIES) return `holds at most ${MAX_ENTRIES} entries`
  for (const [name, r] of Object.entries(v)) {
    if (!plainObject(r) || r.Type !== 'http' || !plainObject(r.Parameters)) return `.${name} must be { "Type": "http", "Parameters": { "Endpoint": "http(s)://…" } }`
    const extra = [...Object.keys(r).filter(k => k !== 'Type' && k !== 'Parameters'), ...Object.keys(r.Parameters).filter(k => k !== 'Endpoint')]
    if (extra.length > 0) return `.${name}: unknown key ${extra.map(k => `'${k}'`).join(', ')}`
    const endpoint = r.Parameters.Endpoint
    let ok = false
    try {
      const u = new URL(String(endpoint))
      ok = typeof endpoint === 'string' && (u.protocol === 'http:' || u.protocol === 'https:')
    } catch { /* not a URL: ok stays false and the message below says so */ }
    if (!ok) return `.${name}.Parameters.Endpoint must be an http(s) URL (got ${shown(endpoint)})`
  }
  return undefined
}

const peerIdText: Check = v => typeof v === 'string' && /^[1-9A-HJ-NP-Za-km-z]{40,100}$/.test(v) ? undefined : `must be the repo's peer id (got ${shown(v)})`

const DAY = 86_400_000
const YEAR = 365 * DAY
const TIMER_MAX = 2 ** 31 - 1

/** Every key: its default and its check (the order is the file's). */
export const SCHEMA: Branch = {
  Identity: { PeerID: leaf(() => '', peerIdText) },
  Addresses: {
    Swarm: leaf(root => profileSwarm(profileOf(root)), list(checkMultiaddr, MAX_ENTRIES)),
    Announce: leaf(() => [], list(checkMultiaddr, MAX_ENTRIES)),
    API: leaf(() => '/ip4/127.0.0.1/tcp/5001', apiAddr)
  },
  Bootstrap: leaf(root => profileBootstrap(profileOf(root)), list(bootstrapAddr, 256)),
  Network: { Profile: leaf(() => 'local', oneOf(NETWORK_PROFILES)) },
  Routing: {
    Type: leaf(() => 'auto', oneOf(ROUTING_TYPES)),
    Routers: leaf(() => ({}), routers)
  },
  Ipns: {
    RecordLifetime: leaf(() => '48h', duration(1_000, 100 * YEAR)),
    RecordTTL: leaf(() => '5m', duration(0, 100 * YEAR)),
    RepublishPeriod: leaf(() => '1h', v => v === '0' || v === '0s' ? undefined : duration(1_000, TIMER_MAX)(v)),
    RepublishStartDelay: leaf(() => '1m', duration(0, TIMER_MAX)),
    ResolveCacheSize: leaf(() => 1024, integer(1, 1_000_000)),
    Quorum: leaf(() => 16, integer(1, 64))
  },
  API: {
    Authorizations: leaf(() => ({}), authorizations),
    Limits: {
      MaxBodyBytes: leaf(() => 1024 * 1024, integer(1, 1024 * 1024 * 1024)),
      MaxConcurrentRequests: leaf(() => 256, integer(1, 100_000)),
      MaxConnections: leaf(() => 1024, integer(1, 1_000_000)),
      ConnectionTimeout: leaf(() => '60s', duration(0, TIMER_MAX)),
      KeepAliveTimeout: leaf(() => '5s', duration(1, TIMER_MAX)),
      RequestTimeout: leaf(() => '30s', duration(1, TIMER_MAX)),
      HandlerTimeout: leaf(() => '10m', duration(0, TIMER_MAX)),
      ShutdownTimeout: leaf(() => '10s', duration(1, TIMER_MAX))
    }
  }
}

const isLeaf = (s: Leaf | Branch): s is Leaf => (s as Leaf).leaf === true

/** The schema entry at a dotted key (a leaf, a branch, or undefined). */
export function schemaAt (key: string): Leaf | Branch | undefined {
  let at: Leaf | Branch = SCHEMA
  for (const part of key.split('.')) {
    if (isLeaf(at)) return undefined
    const next: Leaf | Branch | undefined = Object.hasOwn(at, part) ? at[part] : undefined
    if (next === undefined) return undefined
    at = next
  }
  return at
}

/** the dotted keys of every setting */
export function configKeys (branch: Branch = SCHEMA, prefix = ''): string[] {
  return Object.entries(branch).flatMap(([k, s]) => isLeaf(s) ? [`${prefix}${k}`] : configKeys(s, `${prefix}${k}.`))
}

function fill (branch: Branch, raw: unknown, prefix: string, root: Record<string, unknown>): Record<string, unknown> {
  if (raw !== undefined && !plainObject(raw)) throw new ConfigError(prefix.replace(/\.$/, ''), `must be an object (got ${shown(raw)})`)
  const given = raw ?? {}
  const unknown = Object.keys(given).filter(k => !Object.hasOwn(branch, k))
  if (unknown.length > 0) {
    const k = `${prefix}${unknown[0] ?? ''}`
    throw new ConfigError(k, `unknown key (known here: ${Object.keys(branch).join(', ')})`)
  }
  const out: Record<string, unknown> = {}
  for (const [k, s] of Object.entries(branch)) {
    const v = given[k]
    if (isLeaf(s)) {
      const value = v === undefined ? s.default(root) : v
      const problem = s.check(value)
      if (problem !== undefined) throw new ConfigError(`${prefix}${k}`, problem)
      out[k] = value
    } else {
      out[k] = fill(s, v, `${prefix}${k}.`, root)
    }
  }
  return out
}

/** The config with defaults filled in; a ConfigError names the first bad key. */
export function validateConfig (raw: unknown): DaemonConfig {
  if (!plainObject(raw)) throw new ConfigError('', `the config must be a JSON object (got ${shown(raw)})`)
  return fill(SCHEMA, raw, '', raw) as unknown as DaemonConfig
}

/** The default config for a repo whose node is `peerId` (on `profile`, default local). */
export function defaultConfig (peerId: string, profile: NetworkProfile = 'local'): DaemonConfig {
  return validateConfig({ Identity: { PeerID: peerId }, Network: { Profile: profile } })
}

/** milliseconds of a duration the schema has checked ("0s" is 0) */
export function ms (duration: string): number {
  return duration === '0s' ? 0 : parseDuration(duration)
}

/** the delegated routers' endpoints, in the config's order */
export function routerEndpoints (config: DaemonConfig): string[] {
  return Object.values(config.Routing.Routers).map(r => r.Parameters.Endpoint)
}

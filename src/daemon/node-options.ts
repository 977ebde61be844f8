/**
 * What the config means for the daemon's node (createNode's options) and its
 * listener (the HTTP limits). A daemon keeps trying its bootstrap peers while
 * it reaches none (bootstrapRetry): it starts alone and joins when they come.
 *
 * Network.Profile picks createNode's network profile; the config's own
 * Addresses.Swarm, Addresses.Announce and Bootstrap always win over the
 * profile's (an empty Bootstrap on amino joins through nobody, as in kubo).
 * Routing.Type: auto is the profile's mode (local: DHT server; amino:
 * kad-dht's auto mode, a server once AutoNAT confirms a public address);
 * dhtserver and dhtclient fix it. Routing.Routers are the delegated routers.
 */
import { ms, routerEndpoints } from './config-schema.js'
import type { DaemonConfig } from './config-schema.js'
import type { NodeOptions } from '../node/create-node.js'
import type { HttpLimits } from '../http/limits.js'

export function nodeOptions (repo: string, config: DaemonConfig, passphrase: string | undefined): NodeOptions {
  const period = config.Ipns.RepublishPeriod
  const profile = config.Network.Profile
  const routers = routerEndpoints(config)
  const type = config.Routing.Type
  return {
    repo,
    transport: 'tcp',
    network: profile,
    listen: config.Addresses.Swarm,
    ...(config.Addresses.Announce.length > 0 ? { announce: config.Addresses.Announce } : {}),
    // always given: the config's list replaces the profile's (amino's kubo peers), even when empty
    bootstrap: config.Bootstrap,
    ...(config.Bootstrap.length > 0 ? { bootstrapRetry: true } : {}),
    mode: type === 'dhtclient' ? 'client' : type === 'dhtserver' ? 'server' : profile === 'amino' ? 'auto' : 'server',
    // a local daemon keeps loopback addresses in the DHT (testnets); amino keeps public ones only
    loopback: profile === 'local',
    ipns: { quorum: config.Ipns.Quorum, cacheSize: config.Ipns.ResolveCacheSize },
    republish: period === '0' || period === '0s' ? false : { intervalMs: ms(period), startDelayMs: ms(config.Ipns.RepublishStartDelay) },
    ...(routers.length > 0 ? { routers: { endpoints: routers } } : {}),
    ...(passphrase !== undefined ? { passphrase } : {})
  }
}

export function httpLimits (config: DaemonConfig): HttpLimits {
  const l = config.API.Limits
  return {
    maxBodyBytes: l.MaxBodyBytes,
    maxConcurrentRequests: l.MaxConcurrentRequests,
    maxConnections: l.MaxConnections,
    connectionTimeoutMs: ms(l.ConnectionTimeout),
    keepAliveTimeoutMs: ms(l.KeepAliveTimeout),
    requestTimeoutMs: ms(l.RequestTimeout),
    handlerTimeoutMs: ms(l.HandlerTimeout),
    shutdownTimeoutMs: ms(l.ShutdownTimeout)
  }
}

/** the settings worth a line in the startup log */
export function summary (config: DaemonConfig): Record<string, unknown> {
  return {
    profile: config.Network.Profile,
    routing: config.Routing.Type,
    bootstrap: config.Bootstrap.length,
    routers: routerEndpoints(config),
    authorizations: Object.keys(config.API.Authorizations).length
  }
}

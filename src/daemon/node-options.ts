/**
 * What the config means for the daemon's node (createNode's options) and its
 * listener (the HTTP limits). A daemon keeps trying its bootstrap peers while
 * it reaches none (bootstrapRetry): it starts alone and joins when they come.
 */
import { ms, routerEndpoints } from './config-schema.js'
import type { DaemonConfig } from './config-schema.js'
import type { NodeOptions } from '../node/create-node.js'
import type { HttpLimits } from '../http/limits.js'

export function nodeOptions (repo: string, config: DaemonConfig, passphrase: string | undefined): NodeOptions {
  const period = config.Ipns.RepublishPeriod
  return {
    repo,
    transport: 'tcp',
    listen: config.Addresses.Swarm,
    ...(config.Addresses.Announce.length > 0 ? { announce: config.Addresses.Announce } : {}),
    ...(config.Bootstrap.length > 0 ? { bootstrap: config.Bootstrap, bootstrapRetry: true } : {}),
    // 'auto' on the local profile: a DHT server (the amino profile decides by reachability)
    mode: config.Routing.Type === 'dhtclient' ? 'client' : 'server',
    loopback: config.Network.Profile === 'local',
    ipns: { quorum: config.Ipns.Quorum, cacheSize: config.Ipns.ResolveCacheSize },
    republish: period === '0' || period === '0s' ? false : { intervalMs: ms(period) },
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

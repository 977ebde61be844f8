/**
 * The libp2p port's options built from a NetworkThreadConfig: what createNode
 * passes a direct port, rebuilt inside the network thread from plain data.
 * The record validators (`swarmbus`, and `ipns` with its own inline Ed25519
 * verifier: off the main thread already), selectors, the lower-sequence
 * guard over the thread's own MemoryDatastore, the inbound guard, the
 * refusal counters and, under SWARMBUS_NETWORK_GUARD, the network guard's
 * gater (its refusals reported through `report`, to the host's register).
 *
 * The contract tests build a direct port from the same function, so both
 * sides run the same node.
 */
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { RealClock } from '../../../platform/real-clock.js'
import { createInlineVerifier } from '../../../workers/verify-pool.js'
import { withVerdictCache } from '../../../workers/verdict-cache.js'
import { guardAllowFromEnv, NETWORK_GUARD_ENV, networkGuardGater } from '../../../node/network-guard.js'
import type { NetworkViolation } from '../../../node/network-guard.js'
import { dnsForServers } from '../libp2p/dns-resolver.js'
import { guardIpnsRecords, IPNS_NAMESPACE, ipnsSelector, ipnsValidator, RejectionCounter } from '../libp2p/ipns-dht.js'
import { inboundLimitsOf, KadInboundGuard } from '../libp2p/kad-inbound-guard.js'
import { defaultSelectors, defaultValidators } from '../libp2p/namespaces.js'
import type { Libp2pDhtPortOptions } from '../libp2p/libp2p-options.js'
import type { NetworkThreadConfig } from './thread-protocol.js'

export function threadPortOptions (config: NetworkThreadConfig, report: (v: NetworkViolation) => void, env: NodeJS.ProcessEnv = process.env): Libp2pDhtPortOptions {
  const clock = new RealClock()
  const rejected = new RejectionCounter()
  const verifier = withVerdictCache(createInlineVerifier())
  const inbound = new KadInboundGuard({ clock, rejected, ...inboundLimitsOf(config.profile) })
  const flag = env[NETWORK_GUARD_ENV]
  const guarded = flag !== undefined && flag !== '' && flag !== '0'
  const dns = dnsForServers(config.dnsServers)
  return {
    clock,
    datastore: guardIpnsRecords(new MemoryDatastore(), undefined, rejected),
    privateKey: privateKeyFromProtobuf(config.privateKey),
    transport: config.transport,
    ...(config.listen !== undefined ? { listen: config.listen } : {}),
    profile: config.profile,
    ...(dns !== undefined ? { dns } : {}),
    ...(config.bootstrap !== undefined && config.bootstrap.length > 0 ? { bootstrap: config.bootstrap } : {}),
    ...(config.announce !== undefined ? { announce: config.announce } : {}),
    ...(guarded ? { connectionGater: networkGuardGater(undefined, { allow: guardAllowFromEnv(env), report }) } : {}),
    ...(config.mode !== undefined ? { mode: config.mode } : {}),
    ...(config.loopback !== undefined ? { loopback: config.loopback } : {}),
    ...(config.valueLookup !== undefined ? { valueLookup: config.valueLookup } : {}),
    validators: { ...defaultValidators(), [IPNS_NAMESPACE]: ipnsValidator(verifier, () => clock.wall(), rejected) },
    selectors: { ...defaultSelectors(), [IPNS_NAMESPACE]: ipnsSelector },
    rejections: () => rejected.snapshot(),
    inboundGuard: inbound,
    refusals: () => ({ byReason: rejected.byReason(), inbound: inbound.stats() })
  }
}

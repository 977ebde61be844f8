/**
 * Replays a trace recorded by a node (createNode({ trace })): the same actors,
 * a simulated clock, an inert DhtPort, and the recorded inputs. Extension
 * actors a host spawned beside the built-in ones are rebuilt by `extraActors`.
 */
import { readFile } from 'node:fs/promises'
import { replayTrace } from '../actors/runtime/replayer.js'
import { parseTrace } from '../actors/runtime/trace-recorder.js'
import { InertDhtPort } from '../actors/swarm/inert-dht-port.js'
import { swarmActor } from '../actors/swarm/swarm-actor.js'
import { systemActor } from '../actors/system/system-actor.js'
import { keysActor } from '../actors/keys/keys-actor.js'
import { inertKeyOps } from '../actors/keys/key-ops.js'
import { verifierActor } from '../actors/verifier/verifier-actor.js'
import { storeActor } from '../actors/store/store-actor.js'
import { inertRecordStore } from '../actors/store/record-store.js'
import { ipnsActor } from '../actors/ipns/ipns-actor.js'
import { dnslinkActor } from '../actors/dnslink/dnslink-actor.js'
import { inertDnsOps } from '../actors/dnslink/dns-ops.js'
import type { DnsLinkSettings } from '../actors/dnslink/dnslink-actor.js'
import type { IpnsActorOptions } from '../actors/ipns/ipns-actor.js'
import { republisherActor } from '../actors/republisher/republisher-actor.js'
import { inertRepublishState } from '../actors/republisher/republish-state.js'
import type { RepublisherOptions } from '../actors/republisher/republisher-actor.js'
import { routersActor } from '../actors/routers/routers-actor.js'
import { inertRouterPort } from '../actors/routers/inert-router-port.js'
import type { RoutersSettings } from '../actors/routers/routers-actor.js'
import type { BootstrapRetryOptions } from '../actors/swarm/bootstrap-joiner.js'
import type { BatchVerifier } from '../workers/verify-pool.js'

/** verdicts come from the trace on replay: this verifier never answers */
const inertVerifier: BatchVerifier = { verifyBatch: async () => await new Promise<boolean[]>(() => {}), destroy: async () => {} }
import type { ActorDefinition } from '../actors/runtime/actor.js'
import type { ReplayReport } from '../actors/runtime/replayer.js'
import type { TraceHeader } from '../actors/runtime/trace-events.js'
import type { BaseCommand } from '../messages/commands.js'

export interface NodeReplayReport extends ReplayReport {
  header: TraceHeader
}

export interface NodeReplayOptions {
  /** extension actors the recording node had beside the built-in ones (host-spawned with node.spawn) */
  extraActors?: (header: TraceHeader) => Array<ActorDefinition<BaseCommand, unknown>>
}

export async function replayNodeTrace (text: string, options: NodeReplayOptions = {}): Promise<NodeReplayReport> {
  const { header, events } = parseTrace(text)
  const config = header.config as { peerId?: unknown, actors?: unknown, namespaces?: unknown, ipns?: unknown, republish?: unknown, dnslink?: unknown, routers?: unknown, bootstrapRetry?: unknown, system?: { defaultTimeoutMs?: unknown } }
  const peerId = typeof config.peerId === 'string' ? config.peerId : 'unknown'
  const actors = Array.isArray(config.actors) ? config.actors : []
  const defaultTimeoutMs = typeof config.system?.defaultTimeoutMs === 'number' ? config.system.defaultTimeoutMs : undefined
  const report = await replayTrace({
    header,
    events,
    system: defaultTimeoutMs !== undefined ? { defaultTimeoutMs } : {},
    build: system => {
      system.spawn(systemActor())
      const namespaces = Array.isArray(config.namespaces) ? config.namespaces.filter((n): n is string => typeof n === 'string') : undefined
      const bootstrapRetry = typeof config.bootstrapRetry === 'object' && config.bootstrapRetry !== null ? config.bootstrapRetry as BootstrapRetryOptions : undefined
      system.spawn(swarmActor({
        port: new InertDhtPort(peerId),
        restartPort: () => new InertDhtPort(peerId),
        ...(namespaces !== undefined ? { namespaces } : {}),
        ...(bootstrapRetry !== undefined ? { bootstrapRetry } : {})
      }))
      if (actors.includes('keys')) system.spawn(keysActor({ ops: inertKeyOps, open: async () => inertKeyOps, reopen: () => inertKeyOps }))
      if (actors.includes('verifier')) system.spawn(verifierActor({ verifier: inertVerifier }))
      if (actors.includes('store')) system.spawn(storeActor({ ops: inertRecordStore }))
      if (actors.includes('ipns')) system.spawn(ipnsActor(typeof config.ipns === 'object' && config.ipns !== null ? config.ipns as IpnsActorOptions : {}))
      // DNS answers come from the trace: the lookup never answers
      if (actors.includes('dnslink')) system.spawn(dnslinkActor({ ...(typeof config.dnslink === 'object' && config.dnslink !== null ? config.dnslink as DnsLinkSettings : {}), ops: inertDnsOps }))
      if (actors.includes('republisher')) {
        const republish = typeof config.republish === 'object' && config.republish !== null ? config.republish as RepublisherOptions : {}
        system.spawn(republisherActor({ ...republish, state: inertRepublishState }))
      }
      // endpoints' answers come from the trace: the ports never answer
      if (actors.includes('routers')) {
        const { endpoints = [], ...settings } = typeof config.routers === 'object' && config.routers !== null ? config.routers as RoutersSettings & { endpoints?: string[] } : {}
        system.spawn(routersActor({ ...settings, ports: endpoints.map(inertRouterPort) }))
      }
      for (const def of options.extraActors?.(header) ?? []) system.spawn(def)
    }
  })
  return { ...report, header }
}

export async function replayNodeTraceFile (path: string, options: NodeReplayOptions = {}): Promise<NodeReplayReport> {
  return await replayNodeTrace(await readFile(path, 'utf8'), options)
}

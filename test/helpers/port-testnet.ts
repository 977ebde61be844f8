/**
 * A testnet of real Libp2pDhtPorts on loopback TCP or the in-process memory
 * transport, meshed with src/actors/swarm/libp2p/mesh.ts. Every node is stopped by
 * stop(); a failed start stops the nodes already started.
 */
import { createHash } from 'node:crypto'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2pDhtPort, ed25519KeyFromSeed } from '../../src/actors/swarm/libp2p/libp2p-dht-port.js'
import { connectMesh } from '../../src/actors/swarm/libp2p/mesh.js'
import type { DhtPort } from '../../src/actors/swarm/dht-port.js'
import type { Libp2pDhtPortOptions } from '../../src/actors/swarm/libp2p/libp2p-dht-port.js'
import type { MeshClock, MeshOptions, MeshReport } from '../../src/actors/swarm/libp2p/mesh.js'

export const realClock: MeshClock = {
  now: () => performance.now(),
  wait: async ms => new Promise(resolve => { setTimeout(resolve, ms) })
}

/** A stable 32-byte seed, so a node's peer id is the same on every run. */
export function testSeed (label: string, index: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`swarmbus-test/${label}/${index}`).digest())
}

export interface PortTestnetOptions {
  nodes: number
  /** Seeds and memory addresses derive from it; use one label per testnet in a process. */
  label: string
  transport?: 'tcp' | 'memory'
  validators?: Libp2pDhtPortOptions['validators']
  selectors?: Libp2pDhtPortOptions['selectors']
  /** Overrides for connectMesh (topology, target, timeoutMs, …); `false` leaves the nodes unconnected. */
  mesh?: Partial<MeshOptions> | false
}

export interface PortTestnet {
  ports: DhtPort[]
  /** ms to start every node */
  startMs: number
  mesh: MeshReport | undefined
  stop: () => Promise<void>
}

export async function startPort (options: PortTestnetOptions, index: number, extra: Partial<Libp2pDhtPortOptions> = {}): Promise<DhtPort> {
  const transport = options.transport ?? 'tcp'
  return createLibp2pDhtPort({
    datastore: new MemoryDatastore(),
    privateKey: await ed25519KeyFromSeed(testSeed(options.label, index)),
    transport,
    listen: transport === 'memory' ? [`/memory/swarmbus-${options.label}-${index}`] : ['/ip4/127.0.0.1/tcp/0'],
    loopback: true,
    validators: options.validators,
    selectors: options.selectors,
    ...extra
  })
}

export async function stopAll (ports: DhtPort[]): Promise<void> {
  await Promise.allSettled(ports.map(async port => port.stop()))
}

export async function startPortTestnet (options: PortTestnetOptions): Promise<PortTestnet> {
  const ports: DhtPort[] = []
  const t0 = realClock.now()
  try {
    for (let i = 0; i < options.nodes; i++) {
      ports.push(await startPort(options, i))
    }
    const startMs = realClock.now() - t0
    const mesh = options.mesh === false ? undefined : await connectMesh(ports, { ...realClock, ...options.mesh })
    if (mesh !== undefined && !mesh.settled) {
      throw new Error(`testnet did not settle: sizes ${mesh.sizes.join(',')} < ${mesh.target}`)
    }
    return { ports, startMs, mesh, stop: async () => stopAll(ports) }
  } catch (err) {
    await stopAll(ports)
    throw err
  }
}

/**
 * The faults of one testnet child process (testnet-child.ts): a delay proxy
 * (delay-proxy.ts) in front of each of its nodes, which the node announces
 * instead of its own listener, and the partition table (partition.ts) every
 * node's connection gater reads. The parent changes them with `fault`
 * requests (FaultOp); see docs/testnets.md for the model.
 */
import net from 'node:net'
import { DelayProxy } from './delay-proxy.js'
import { PartitionTable, partitionGater } from './partition.js'
import type { LinkDelay } from './delay-proxy.js'
import type { NodeOptions, SwarmNode } from '../create-node.js'

/** what the parent can ask of a child's faults; `nodes` are testnet indices hosted by that child */
export type FaultOp =
  | { kind: 'delay', nodes: number[], latencyMs: number, jitterMs: number }
  | { kind: 'stall', nodes: number[], ms: number }
  | { kind: 'freeze', nodes: number[] }
  | { kind: 'thaw', nodes: number[] }
  /** peer id → group; null heals */
  | { kind: 'partition', groups: Record<string, number> | null }

export interface FaultReply {
  /** nodes of this child the op reached */
  nodes: number
  /** connections cut (a partition) */
  severed: number
}

/** a free TCP port of 127.0.0.1, for a node's listener (bound and released at once) */
async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { resolve() })
  })
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  return port
}

function tcpPortOf (multiaddr: string): number | undefined {
  const parts = multiaddr.split('/')
  const i = parts.indexOf('tcp')
  const port = Number(parts[i + 1])
  return i >= 0 && Number.isInteger(port) ? port : undefined
}

interface Hosted { proxy: DelayProxy, node?: SwarmNode }

export class ChildFaults {
  private readonly hosted = new Map<number, Hosted>()
  readonly table = new PartitionTable()

  /**
   * The options node `index` is created with (behind a proxy with `delay`),
   * and what to call once it runs.
   */
  async prepare (index: number, delay: LinkDelay, seed: number): Promise<{ options: Pick<NodeOptions, 'listen' | 'announce' | 'connectionGater'>, started: (node: SwarmNode) => Promise<void>, failed: () => Promise<void> }> {
    const proxy = new DelayProxy({ ...delay, seed })
    const proxyPort = await proxy.listen()
    const nodePort = await freePort()
    // forward at once: peers that find this node while it bootstraps must reach it
    // (a connection before libp2p listens is refused upstream, and closed)
    proxy.setTarget(nodePort)
    let self: string | undefined
    return {
      options: {
        listen: [`/ip4/127.0.0.1/tcp/${nodePort}`],
        announce: [`/ip4/127.0.0.1/tcp/${proxyPort}`],
        connectionGater: partitionGater(this.table, () => self)
      },
      started: async node => {
        self = node.peerId
        this.hosted.set(index, { proxy, node })
        if (this.table.active) await this.sever(index)
      },
      failed: async () => { await proxy.close() }
    }
  }

  /** the node stopped: its proxy closes (nothing reaches it any more) */
  async release (index: number): Promise<void> {
    const h = this.hosted.get(index)
    this.hosted.delete(index)
    await h?.proxy.close()
  }

  async releaseAll (): Promise<void> {
    await Promise.allSettled([...this.hosted.keys()].map(async i => { await this.release(i) }))
  }

  private pick (nodes: number[]): Hosted[] {
    return nodes.map(i => this.hosted.get(i)).filter((h): h is Hosted => h !== undefined)
  }

  async apply (op: FaultOp): Promise<FaultReply> {
    switch (op.kind) {
      case 'delay': {
        const list = this.pick(op.nodes)
        for (const h of list) h.proxy.setDelay({ latencyMs: op.latencyMs, jitterMs: op.jitterMs })
        return { nodes: list.length, severed: 0 }
      }
      case 'stall': {
        const list = this.pick(op.nodes)
        for (const h of list) h.proxy.stall(op.ms)
        return { nodes: list.length, severed: 0 }
      }
      case 'freeze':
      case 'thaw': {
        const list = this.pick(op.nodes)
        for (const h of list) { if (op.kind === 'freeze') h.proxy.freeze(); else h.proxy.thaw() }
        return { nodes: list.length, severed: 0 }
      }
      case 'partition': {
        this.table.set(op.groups ?? undefined)
        if (op.groups === null) return { nodes: this.hosted.size, severed: 0 }
        const cut = await Promise.all([...this.hosted.keys()].map(async i => await this.sever(i)))
        return { nodes: this.hosted.size, severed: cut.reduce((a, b) => a + b, 0) }
      }
    }
  }

  /** cuts the connections node `index` accepted from peers the partition puts in another group */
  private async sever (index: number): Promise<number> {
    const h = this.hosted.get(index)
    if (h?.node === undefined) return 0
    const me = h.node.peerId
    const { peers } = await h.node.ask({ type: 'swarm.peers' }, { timeoutMs: 10_000 })
    const ports = new Set<number>()
    for (const c of peers) {
      if (c.direction !== 'inbound' || !this.table.separated(me, c.peerId)) continue
      const port = tcpPortOf(c.remoteAddr)
      if (port !== undefined) ports.add(port)
    }
    return ports.size === 0 ? 0 : h.proxy.sever(ports)
  }
}

/**
 * The faults of one testnet child process (testnet-child.ts): a delay proxy
 * (delay-proxy.ts) in front of each of its nodes, which the node announces
 * instead of its own listener, and the partition table (partition.ts) every
 * node's connection gater reads. The parent changes them with `fault`
 * requests (FaultOp); see docs/testnets.md for the model.
 */
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { FailedError } from '../../messages/errors.js'
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

/**
 * The kernel's range of ephemeral ports (what connect() and listen(0) take),
 * from /proc where there is one.
 */
function ephemeralRange (): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return [low, high]
  } catch {
    // no /proc (not Linux): assume the IANA range
  }
  return [49152, 65535]
}

/** ports handed out by this process, never handed out twice */
const handedOut = new Set<number>()

/**
 * A free TCP port of 127.0.0.1 for a node's listener, outside the ephemeral
 * range: a port found free and released is soon taken by some outbound
 * connection if it is inside it (a testnet opens thousands), and then the
 * node cannot listen on it.
 */
export async function freePort (): Promise<number> {
  const [low, high] = ephemeralRange()
  const [from, to] = low > 12_000 ? [10_000, low - 1] : high < 63_000 ? [high + 1, 65_535] : [1_024, 65_535]
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from + 1))
    if (handedOut.has(port)) continue
    const server = net.createServer()
    const ok = await new Promise<boolean>(resolve => {
      server.once('error', () => { resolve(false) })
      server.listen(port, '127.0.0.1', () => { resolve(true) })
    })
    if (!ok) continue
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    handedOut.add(port)
    return port
  }
  throw new FailedError(`no free TCP port found in ${from}–${to} after 200 tries`)
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

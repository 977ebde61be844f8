/**
 * Helpers for the integration tests on real loopback nodes: bounded polling,
 * timing, counters from swarm.status, and (from bench/tcp-proxy.ts) a TCP
 * proxy that can freeze a connection (a peer that stops answering without
 * closing anything).
 */
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { CommandCounters } from '../../src/messages/system.js'
import type { SwarmStatusReply } from '../../src/messages/swarm.js'

/** Poll until check() returns true; bounded in time and rounds. Returns whether it became true. */
export async function poll (check: () => boolean | Promise<boolean>, timeoutMs = 5_000, intervalMs = 20): Promise<boolean> {
  const start = performance.now()
  for (let i = 0; i < 10_000; i++) {
    if (await check()) return true
    if (performance.now() - start > timeoutMs) return false
    await sleep(intervalMs)
  }
  return false
}

/** Run fn; return how it ended and how long it took (ms). */
export async function timed<T> (fn: () => Promise<T>): Promise<{ ms: number, value?: T, error?: Error }> {
  const start = performance.now()
  try {
    const value = await fn()
    return { ms: performance.now() - start, value }
  } catch (err) {
    return { ms: performance.now() - start, error: err as Error }
  }
}

/** Collect a stream (bounded). */
export async function collect<T> (it: AsyncIterable<T>, max = 1_000): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) {
    out.push(x)
    if (out.length >= max) break
  }
  return out
}

export async function status (node: SwarmNode): Promise<SwarmStatusReply> {
  return await node.ask({ type: 'swarm.status' }, { timeoutMs: 5_000 })
}

/** served/failed counters of one command type on the swarm actor (zeros if never asked) */
export function counters (s: SwarmStatusReply, type: string): CommandCounters {
  return s.actors.find(a => a.name === 'swarm')?.commands[type] ?? { served: 0, failed: 0, meanMs: 0, maxMs: 0 }
}

/** Wait (bounded) until the node has no pending and no running queries; returns the last status. */
export async function quiet (node: SwarmNode, timeoutMs = 3_000): Promise<SwarmStatusReply> {
  let last = await status(node)
  await poll(async () => {
    last = await status(node)
    return last.pendingQueries === 0 && last.runningQueries === 0
  }, timeoutMs)
  return last
}

import { listenLoopback } from '../../bench/tcp-proxy.js'
export { FreezableProxy, tcpPort } from '../../bench/tcp-proxy.js'

/**
 * A TCP listener that accepts connections and never says a word (nor closes).
 * A libp2p dial to it hangs in the security handshake.
 */
export class SilentListener {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  port = 0

  constructor () {
    this.server = net.createServer(socket => {
      socket.on('error', () => {})
      this.sockets.add(socket)
    })
  }

  async listen (): Promise<this> {
    this.port = await listenLoopback(this.server)
    return this
  }

  get accepted (): number {
    return this.sockets.size
  }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
  }
}

/**
 * The demo's checks, in process, on stand-in nodes: every step passes on
 * nodes that behave, and a node that answers wrongly (a get returning other
 * bytes, a provider that is not the providing node, an ask that hangs past
 * its deadline) fails that step, shows FAIL in the table and makes the demo
 * exit 1.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { run } from '../../src/cli/demo.js'
import type { Lib } from '../../src/cli/demo.js'
import { toJson } from '../../src/messages/codec.js'
import { InvalidCommandError, NotFoundError, TimeoutError } from '../../src/messages/errors.js'
import type { AskOptions, PeerInfo, SwarmNode, SwarmStatusReply } from '../../src/index.js'

type Fault = 'wrong-value' | 'wrong-provider' | 'leaks-pending' | undefined

/** base58btc Ed25519 peer ids (made up, but well formed) */
const IDS = [
  '12D3KooWBk1AzSorDvot9i5fjsT6FW6d9ZjMz4JnsT9SVAWL22K6',
  '12D3KooWA33G5mTgCGeh25B293Zz77p9soaupPdjU7TWwkv6pw2T',
  '12D3KooWPkRdBFwJQ8JtNPhPcnCM3VL7vGLT4is2xA9Ye9orT3J3',
  '12D3KooWCk7Gf1PFvfo4cBkFH13JiEhrrkezxRPargb6atUcFn28'
]

/** A shared in-memory "DHT" behind stand-in nodes that answer like the swarm actor. */
function fakeLib (fault: Fault): { lib: Lib, stopped: () => number } {
  const records = new Map<string, Uint8Array>()
  const providers = new Map<string, string>()
  let stopped = 0
  const nodes: SwarmNode[] = IDS.map((peerId, i) => {
    const multiaddrs = [`/ip4/127.0.0.1/tcp/${4000 + i}/p2p/${peerId}`]
    const info = (id: string): PeerInfo => ({ peerId: id, multiaddrs: [`/ip4/127.0.0.1/tcp/${4000 + IDS.indexOf(id)}`] })
    let pending = 0
    const status = (): SwarmStatusReply => ({
      peerId, multiaddrs, mode: 'server', connections: IDS.length - 1, routingTableSize: IDS.length - 1,
      pendingQueries: fault === 'leaks-pending' ? pending : 0, runningQueries: 0, heldCommands: 0,
      actors: [{ name: 'swarm', state: 'running', mailbox: { depth: 0, systemDepth: 0, capacity: 16 }, pending: 0, restarts: 0, commands: { 'dht.put': { served: 1, failed: 0, meanMs: 1, maxMs: 1 } } }],
      deadLetters: { total: 0, byReason: {} }, openPorts: 1
    })
    const ask = async (cmd: { type: string, [k: string]: unknown }, opts: AskOptions = {}): Promise<unknown> => {
      const key = typeof cmd.key === 'string' ? cmd.key : ''
      switch (cmd.type) {
        case 'swarm.status': return status()
        case 'system.ping': return {}
        case 'dht.put':
          if (key === '') throw new InvalidCommandError('key', 'key must not be empty')
          records.set(key, cmd.value as Uint8Array)
          return { peers: 3 }
        case 'dht.get': {
          const value = records.get(key)
          if (value === undefined) throw new NotFoundError('no peer returned a value for the key')
          return { value: fault === 'wrong-value' ? new TextEncoder().encode('something else') : value, from: IDS[0] }
        }
        case 'dht.provide':
          providers.set(cmd.cid as string, peerId)
          return { peers: 3 }
        case 'dht.findPeer': return info(cmd.peerId as string)
        case 'swarm.dial':
          // a silent peer: only the deadline ends it
          pending++
          await new Promise(resolve => { setTimeout(resolve, opts.timeoutMs ?? 1000) })
          throw new TimeoutError('swarm.dial: deadline exceeded')
        default: throw new Error(`the stand-in does not know ${cmd.type}`)
      }
    }
    async function * stream (cmd: { type: string, [k: string]: unknown }): AsyncGenerator<PeerInfo> {
      if (cmd.type === 'dht.findProviders') {
        const p = providers.get(cmd.cid as string)
        if (p !== undefined) yield info(fault === 'wrong-provider' ? IDS.find(id => id !== p) ?? p : p)
        return
      }
      if (cmd.type === 'dht.closestPeers') {
        for (const id of IDS) if (id !== peerId) yield info(id)
      }
    }
    return {
      peerId, multiaddrs, ask, stream, stop: async () => { stopped++ }
    } as unknown as SwarmNode
  })
  const lib = {
    toJson,
    createTestnet: async () => ({
      nodes,
      report: { settled: true, elapsedMs: 1, dials: 6, failedDials: 0, refreshes: 0, routingTableSizes: nodes.map(() => IDS.length - 1) },
      stop: async () => { await Promise.all(nodes.map(async n => { await n.stop() })) }
    }),
    createNode: async () => { throw new Error('not used without --trace') }
  } as unknown as Lib
  return { lib, stopped: () => stopped }
}

async function demo (fault: Fault, args: string[] = []): Promise<{ code: number, out: string, stopped: number }> {
  let out = ''
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  const { lib, stopped } = fakeLib(fault)
  try {
    const code = await run(['--nodes', String(IDS.length), ...args], lib)
    return { code, out, stopped: stopped() }
  } finally {
    spy.mockRestore()
  }
}

afterEach(() => { vi.restoreAllMocks() })

describe('demo checks', () => {
  it('every step passes on nodes that behave; all nodes are stopped', async () => {
    const r = await demo(undefined, ['--json'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out) as { ok: boolean, steps: Array<{ step: string, ok: boolean, result: string, error?: string }> }
    expect(report.steps.filter(s => !s.ok)).toEqual([])
    expect(report.ok).toBe(true)
    expect(r.stopped).toBe(IDS.length)
  })

  it('a get that returns other bytes fails dht.get and exits 1', async () => {
    const r = await demo('wrong-value')
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^dht\.get\s+n2 got 14 B from n1\s+FAIL\s+[\d.]+$/m)
    expect(r.out).toContain("failed:\n  dht.get: the value got differs from the value put ('something else')")
    expect(r.out).toMatch(/11 of 12 steps ok/)
    expect(r.stopped).toBe(IDS.length)
  })

  it('a provider that is not the providing node fails dht.findProviders', async () => {
    const r = await demo('wrong-provider', ['--json'])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.out) as { ok: boolean, steps: Array<{ step: string, ok: boolean, result: string, error?: string }> }
    expect(report.ok).toBe(false)
    const failed = report.steps.filter(s => !s.ok)
    expect(failed.map(s => s.step)).toEqual(['dht.findProviders'])
    expect(failed[0]?.result).toBe('FAIL')
    expect(failed[0]?.error).toMatch(/not the providing node n3/)
  })

  it('a query left pending after its deadline fails the deadline step', async () => {
    const r = await demo('leaks-pending', ['--json'])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.out) as { steps: Array<{ step: string, ok: boolean, result: string, error?: string }> }
    const step = report.steps.find(s => s.step === 'deadline 200 ms')
    expect(step?.ok).toBe(false)
    expect(step?.error).toMatch(/1 pending queries afterwards/)
  })
})

/**
 * The demo's checks, in process, on stand-in nodes: every step passes on
 * nodes that behave, and a node that answers wrongly (a get returning other
 * bytes, a provider that is not the providing node, an ask that hangs past
 * its deadline, a republish that keeps its sequence, a resolve that returns
 * the old value) fails that step, shows FAIL in the table and makes the demo
 * exit 1. The IPNS steps show the lifecycle from the progress events.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { run } from '../../src/cli/demo.js'
import type { Lib } from '../../src/cli/demo.js'
import { toJson } from '../../src/messages/codec.js'
import { InvalidCommandError, NotFoundError, TimeoutError } from '../../src/messages/errors.js'
import type { AskOptions, PeerInfo, ProgressEvent, SwarmNode, SwarmStatusReply } from '../../src/index.js'

const IPNS_NAME = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'

const PUBLISH_LIFECYCLE: Array<[string, string]> = [
  ['preparing.key', 'xstate.init'], ['preparing.seen', 'KEY'], ['preparing.seen', 'SEEN'], ['signing', 'SEEN'],
  ['storing', 'SIGNED'], ['putting', 'STORED'], ['done', 'PUT']
]

type Fault = 'wrong-value' | 'wrong-provider' | 'leaks-pending' | 'same-sequence' | 'stale-resolve' | undefined

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
  /** the stand-in IPNS name: its value and sequence, once published */
  let ipns: { value: string, sequence: bigint } | undefined
  let stopped = 0
  let queries = 0
  const nodes: SwarmNode[] = IDS.map((peerId, i) => {
    const multiaddrs = [`/ip4/127.0.0.1/tcp/${4000 + i}/p2p/${peerId}`]
    const info = (id: string): PeerInfo => ({ peerId: id, multiaddrs: [`/ip4/127.0.0.1/tcp/${4000 + IDS.indexOf(id)}`] })
    let pending = 0
    const listeners = new Set<(e: ProgressEvent) => void>()
    const cache = new Map<string, { value: string, sequence: bigint }>()
    const progress = (machine: string, id: string, steps: Array<[string, string]>): void => {
      for (const [state, event] of steps) for (const l of listeners) l({ type: `ipns:${machine}:${state}`, actor: 'ipns', id, detail: { event } })
    }
    const status = (): SwarmStatusReply => ({
      peerId, multiaddrs, mode: 'server', connections: IDS.length - 1, routingTableSize: IDS.length - 1, recordsRejected: {},
      pendingQueries: fault === 'leaks-pending' ? pending : 0, runningQueries: 0, heldCommands: 0, bootstrap: { state: 'joined', retries: 0, connected: 1 },
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
        case 'ipns.publish': {
          const sequence = ipns === undefined ? 0n : fault === 'same-sequence' ? ipns.sequence : ipns.sequence + 1n
          ipns = { value: cmd.value as string, sequence }
          cache.delete(IPNS_NAME)
          progress('publish', `q${++queries}`, PUBLISH_LIFECYCLE)
          return { name: IPNS_NAME, value: ipns.value, sequence, record: new Uint8Array(8), peers: 3 }
        }
        case 'ipns.resolve': {
          const id = `q${++queries}`
          const hit = cmd.nocache === true ? undefined : cache.get(IPNS_NAME)
          if (hit !== undefined) {
            progress('resolve', id, [['done', 'xstate.init']])
            return { ...hit, validity: '2030-01-01T00:00:00Z', ttl: 300_000_000_000n, source: 'cache', hops: 1 }
          }
          if (ipns === undefined) throw new NotFoundError(`no valid record found for /ipns/${IPNS_NAME}`)
          progress('resolve', id, [['querying', 'xstate.init'], ['querying', 'VALUE'], ['querying', 'VALUE'], ['querying', 'VERIFIED'], ['done', 'QUERY_END']])
          // a stale resolver keeps answering with the first record it saw
          const got = fault === 'stale-resolve' && cache.has('first') ? cache.get('first') as { value: string, sequence: bigint } : ipns
          if (!cache.has('first')) cache.set('first', got)
          cache.set(IPNS_NAME, got)
          return { ...got, validity: '2030-01-01T00:00:00Z', ttl: 300_000_000_000n, source: 'dht', hops: 1 }
        }
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
    const on = (event: string, fn: (e: ProgressEvent) => void): (() => void) => {
      if (event !== 'progress') return () => {}
      listeners.add(fn)
      return () => { listeners.delete(fn) }
    }
    return {
      peerId, multiaddrs, ask, stream, on, stop: async () => { stopped++ }
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
    expect(r.out).toMatch(/16 of 17 steps ok/)
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

  it('the IPNS steps show each lifecycle: the publish states with timings, the resolve states with the events handled', async () => {
    const r = await demo(undefined, ['--json'])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.out) as { steps: Array<{ step: string, ok: boolean, what: string, data?: { lifecycle?: Array<{ state: string }> } }> }
    const ipns = report.steps.filter(s => s.step.startsWith('ipns.'))
    expect(ipns.map(s => s.step)).toEqual(['ipns.publish', 'ipns.resolve', 'ipns.resolve cached', 'ipns.publish again', 'ipns.resolve nocache'])
    const [publish, resolve, cached, again, nocache] = ipns
    expect(publish?.what).toMatch(/^n1 published \/ipns\/k51qzi5u…v0v8 → \/ipfs\/bafkrei\w{3}…\w{4}, sequence 0, stored on 3 peers: preparing\.key [\d.]+ ms → preparing\.seen [\d.]+ ms \(SEEN×2\) → signing [\d.]+ ms → storing [\d.]+ ms → putting [\d.]+ ms → done$/)
    expect(publish?.data?.lifecycle?.map(s => s.state)).toEqual(['preparing.key', 'preparing.seen', 'signing', 'storing', 'putting', 'done'])
    expect(resolve?.what).toMatch(/^3 nodes, one after another, resolved it over the DHT: .*; n2: querying [\d.]+ ms \(VALUE×2, VERIFIED, QUERY_END\) → done$/)
    expect(cached?.what).toMatch(/3 nodes answered from their cache: .*; n2: done \(a cache hit passes lookup and hopResolved in one step\); 1,000 serial cached resolves/)
    expect(again?.what).toMatch(/sequence 1, stored on 3 peers/)
    expect(nocache?.what).toMatch(/^3 nodes skipped their cache \(still sequence 0 until received \+ TTL\) and got \/ipfs\/\w+…\w{4}\/v2, sequence 1/)
  })

  it('a republish that keeps its sequence fails ipns.publish again', async () => {
    const r = await demo('same-sequence', ['--json'])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.out) as { steps: Array<{ step: string, ok: boolean, error?: string }> }
    const failed = report.steps.filter(s => !s.ok)
    expect(failed.map(s => s.step)).toEqual(['ipns.publish again'])
    expect(failed[0]?.error).toBe('sequence 0 after 0: not the next one')
  })

  it('a resolve that returns the old record after a republish fails ipns.resolve nocache', async () => {
    const r = await demo('stale-resolve')
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/^ipns\.resolve nocache\s.*\sFAIL\s+[\d.]+$/m)
    expect(r.out).toMatch(/ipns\.resolve nocache: n2 resolved \/ipfs\/\w+…\w{4}, not the published \/ipfs\/\w+…\w{4}\/v2 \(nocache, after the republish\)/)
  })
})

/**
 * createTestnet({ processes }): nodes in child processes, driven through
 * typed handles over IPC — asks, streams, progress events, typed errors and
 * deadlines crossing the process boundary — and a child killed mid-run
 * reported, its asks failing at once, the rest of the testnet working on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestnet } from '../../src/node/create-testnet.js'
import type { ProcessTestnet } from '../../src/node/process-testnet.js'
import type { ProgressEvent } from '../../src/actors/runtime/actor.js'

const VALUE = '/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui'
const text = new TextEncoder()

let net: ProcessTestnet

beforeAll(async () => {
  net = await createTestnet({ nodes: 10, processes: 2, seed: 4_200, settleTimeoutMs: 60_000 })
}, 120_000)

afterAll(async () => {
  const pids = net?.processes.map(p => p.pid) ?? []
  await net?.stop()
  // every child is gone after stop()
  for (const pid of pids) expect(() => process.kill(pid as number, 0)).toThrow(/ESRCH/)
}, 60_000)

describe('a testnet over 2 child processes', () => {
  it('starts with sparse bootstrap and reports how full the routing tables got', () => {
    expect(net.nodes).toHaveLength(10)
    expect(net.processes.map(p => p.nodes)).toEqual([[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]])
    expect(new Set(net.processes.map(p => p.pid)).size).toBe(2)
    expect(net.processes.every(p => p.pid !== process.pid)).toBe(true)
    expect(net.report.fill.target).toBe(9)
    expect(net.report.routingTableSizes).toHaveLength(10)
    expect(net.report.fill.min).toBeGreaterThanOrEqual(1)
    expect(net.report.settled).toBe(net.report.fill.min >= 9)
    expect(new Set(net.nodes.map(n => n.peerId)).size).toBe(10)
  })

  it('puts and gets, publishes and resolves across processes, through the typed ask', async () => {
    const key = text.encode('/swarmbus/process-testnet')
    const put = await net.nodes[0]!.ask({ type: 'dht.put', key, value: text.encode('across') }, { timeoutMs: 20_000 })
    expect(put.peers).toBeGreaterThan(0)
    const got = await net.nodes[9]!.ask({ type: 'dht.get', key }, { timeoutMs: 20_000 })
    expect(new TextDecoder().decode(got.value)).toBe('across')
    expect(got.value).toBeInstanceOf(Uint8Array)

    const published = await net.nodes[1]!.ask({ type: 'ipns.publish', value: VALUE }, { timeoutMs: 30_000 })
    expect(typeof published.sequence).toBe('bigint')
    const events: ProgressEvent[] = []
    const off = net.nodes[6]!.on('progress', e => { events.push(e) })
    const resolved = await net.nodes[6]!.ask({ type: 'ipns.resolve', name: published.name, nocache: true }, { timeoutMs: 30_000 })
    expect(resolved).toMatchObject({ value: VALUE, source: 'dht', sequence: published.sequence })
    await new Promise(resolve => setTimeout(resolve, 200))
    off()
    expect(events.some(e => e.type.startsWith('ipns:resolve:'))).toBe(true)
  })

  it('streams with a deadline, and a stream left early leaves nothing running', async () => {
    const key = text.encode('closest')
    const peers: string[] = []
    for await (const p of net.nodes[4]!.stream({ type: 'dht.closestPeers', key }, { timeoutMs: 20_000 })) peers.push(p.peerId)
    expect(peers.length).toBeGreaterThan(0)
    expect(new Set(peers).size).toBe(peers.length)
    for await (const _ of net.nodes[4]!.stream({ type: 'dht.closestPeers', key }, { timeoutMs: 20_000 })) break
    expect((await net.nodes[4]!.ask({ type: 'swarm.status' })).routingTableSize).toBeGreaterThan(0)
  })

  it('brings typed errors across: invalid command, not found, timeout, abort', async () => {
    const node = net.nodes[3]!
    await expect(node.ask({ type: 'dht.get', key: 'not bytes' } as unknown as { type: 'dht.get', key: Uint8Array })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'key' })
    await expect(node.ask({ type: 'dht.get', key: text.encode('/swarmbus/nobody-put-this') }, { timeoutMs: 15_000 })).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(node.ask({ type: 'dht.get', key: text.encode('/swarmbus/slow') }, { timeoutMs: 1 })).rejects.toMatchObject({ name: 'TimeoutError' })
    const abort = new AbortController()
    const pending = node.ask({ type: 'dht.get', key: text.encode('/swarmbus/aborted') }, { timeoutMs: 15_000, signal: abort.signal })
    abort.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('net.processes shows the nodes add() placed, and each child reports what it uses and holds', async () => {
    const added = await net.add(2)
    expect(added.map(n => n.index)).toEqual([10, 11])
    const byProcess = new Map(net.processes.map(p => [p.index, p.nodes]))
    for (const node of added) expect(byProcess.get(node.process)).toContain(node.index)
    expect(net.processes.flatMap(p => p.nodes).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i))
    expect(net.processes.every(p => p.alive)).toBe(true)
    const stats = await net.processStats()
    expect(stats.map(s => s.process)).toEqual([0, 1])
    expect(stats.map(s => s.pid)).toEqual(net.processes.map(p => p.pid))
    expect(stats.map(s => s.nodes)).toEqual(net.processes.map(p => p.nodes.length))
    for (const s of stats) {
      expect(s.silentNodes).toBe(0)
      expect(s.memory.rss).toBeGreaterThan(10_000_000)
      expect(s.cpu.user).toBeGreaterThan(0)
      expect(s.open.connections).toBeGreaterThan(0)
      expect(s.activeResources.TCPServerWrap).toBeGreaterThanOrEqual(s.nodes)
    }
  })

  it('reports a child killed mid-run; its asks fail at once, the others keep working', async () => {
    const exits: Array<{ process: number, signal: string | null, nodes: number[] }> = []
    net.on('process-exit', e => { exits.push(e) })
    const victim = net.nodes[5]!
    const waiting = victim.ask({ type: 'dht.get', key: text.encode('/swarmbus/never') }, { timeoutMs: 60_000 })
    net.host(1).kill('SIGKILL')
    const t0 = performance.now()
    await expect(waiting).rejects.toMatchObject({ name: 'StoppedError' })
    expect(performance.now() - t0).toBeLessThan(5_000)
    expect(exits).toEqual([expect.objectContaining({ process: 1, signal: 'SIGKILL', nodes: net.processes[1]!.nodes })])
    expect(net.processes[1]!.nodes.filter(i => i < 10)).toEqual([1, 3, 5, 7, 9])
    expect(net.processes.map(p => p.alive)).toEqual([true, false])
    expect((await net.processStats()).map(s => s.process)).toEqual([0])
    await expect(victim.ask({ type: 'swarm.status' })).rejects.toMatchObject({ name: 'StoppedError' })
    expect((await net.nodes[2]!.ask({ type: 'swarm.status' })).peerId).toBe(net.nodes[2]!.peerId)
    const sizes = await net.routingTableSizes()
    expect(sizes.filter((_, i) => net.nodes[i]!.process === 1).every(s => s === -1)).toBe(true)
  })
})

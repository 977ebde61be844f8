/**
 * IPNS records in a directory repo (LevelDB): published and resolved records
 * survive a restart and answer offline resolves; and a process killed with
 * SIGKILL in the middle of publishing loses no record it acknowledged.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { poll } from './support.js'
import type { SwarmNode } from '../../src/node/create-node.js'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const PASSPHRASE = 'ipns-repo-test passphrase'
const ROOT = resolve(import.meta.dirname, '..', '..')

const dirs: string[] = []
const nodes: SwarmNode[] = []

async function tempDir (label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `swarmbus-${label}-`))
  dirs.push(dir)
  return dir
}

async function open (repo: string, extra: Parameters<typeof createNode>[0] = {}): Promise<SwarmNode> {
  const node = await createNode({ repo, passphrase: PASSPHRASE, loopback: true, verifier: 'inline', ...extra })
  nodes.push(node)
  return node
}

async function close (node: SwarmNode): Promise<void> {
  await node.stop()
  nodes.splice(nodes.indexOf(node), 1)
}

async function selfName (node: SwarmNode): Promise<string> {
  const self = (await node.ask({ type: 'key.list' })).keys.find(k => k.name === 'self')
  if (self === undefined) throw new Error('no self key')
  return self.ipnsName
}

afterAll(async () => {
  await Promise.allSettled(nodes.map(async n => { await n.stop() }))
  await Promise.allSettled(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
}, 30_000)

describe('IPNS records in a directory repo', () => {
  it('published and resolved records survive a restart and answer offline resolves', async () => {
    const dir = await tempDir('ipns-restart')
    const remote = await createNode({ loopback: true, verifier: 'inline', seed: 67_000 })
    nodes.push(remote)
    let local = await open(dir, { bootstrap: [remote.multiaddrs[0] ?? ''] })
    expect(await poll(async () => (await local.ask({ type: 'swarm.status' })).routingTableSize >= 1, 10_000)).toBe(true)
    expect(await poll(async () => (await remote.ask({ type: 'swarm.status' })).routingTableSize >= 1, 10_000)).toBe(true)

    const published = await remote.ask({ type: 'ipns.publish', value: `/ipfs/${CID}/remote` }, { timeoutMs: 20_000 })
    const resolved = await local.ask({ type: 'ipns.resolve', name: published.name, nocache: true }, { timeoutMs: 15_000 })
    expect(resolved).toMatchObject({ value: `/ipfs/${CID}/remote`, source: 'dht' })
    // the resolved record is written to the repo in the background
    expect(await poll(async () => await local.ask({ type: 'store.get', kind: 'resolved', name: published.name }).then(() => true, () => false), 10_000)).toBe(true)
    const own = await local.ask({ type: 'ipns.publish', value: `/ipfs/${CID}/own`, offline: true })
    expect(own).toMatchObject({ sequence: 0n, peers: 0 })
    const ownName = await selfName(local)
    await close(local)

    // restarted on the same repo, with no network at all
    local = await open(dir)
    expect(await selfName(local)).toBe(ownName)
    const stored = await local.ask({ type: 'store.get', kind: 'resolved', name: published.name })
    expect(stored).toMatchObject({ kind: 'resolved', sequence: published.sequence })
    expect(stored.record).toEqual(published.record)
    expect(stored.receivedAt).toBeGreaterThan(0)
    // online too, the repo answers first: the record is within its TTL (5 min), so no peer is asked (there is none)
    const queries = (await local.ask({ type: 'swarm.status' })).actors.find(a => a.name === 'ipns')?.detail?.dhtQueries
    expect(await local.ask({ type: 'ipns.resolve', name: published.name }, { timeoutMs: 5_000 })).toMatchObject({ value: `/ipfs/${CID}/remote`, sequence: published.sequence, source: 'local' })
    expect((await local.ask({ type: 'swarm.status' })).actors.find(a => a.name === 'ipns')?.detail?.dhtQueries).toBe(queries)
    // offline reads the cache first (the answer above is in it), then the repo
    expect(await local.ask({ type: 'ipns.resolve', name: published.name, offline: true })).toMatchObject({ value: `/ipfs/${CID}/remote`, sequence: published.sequence, source: 'cache' })
    expect(await local.ask({ type: 'ipns.resolve', name: `/ipns/${ownName}/sub`, offline: true })).toMatchObject({ value: `/ipfs/${CID}/own/sub`, sequence: 0n, source: 'local' })
    // publishing continues above what the repo holds
    expect((await local.ask({ type: 'ipns.publish', value: `/ipfs/${CID}/own-2`, offline: true })).sequence).toBe(1n)
    // a name the repo never saw: not found, offline
    await expect(local.ask({ type: 'ipns.resolve', name: (await remote.ask({ type: 'key.generate', name: 'never' })).ipnsName, offline: true })).rejects.toMatchObject({ name: 'NotFoundError' })
  }, 60_000)

  it('kill -9 in the middle of publishing loses no acknowledged record', async () => {
    const dir = await tempDir('ipns-kill')
    const script = join(await tempDir('ipns-kill-script'), 'publisher.mts')
    const createNodeUrl = pathToFileURL(join(ROOT, 'src', 'node', 'create-node.ts')).href
    await writeFile(script, [
      `import { createNode } from ${JSON.stringify(createNodeUrl)}`,
      `const node = await createNode({ repo: process.argv[2], passphrase: ${JSON.stringify(PASSPHRASE)}, transport: 'memory', verifier: 'inline' })`,
      'process.stdout.write(\'READY\\n\')',
      'for (let i = 0; i < 100_000; i++) {',
      `  const r = await node.ask({ type: 'ipns.publish', value: '/ipfs/${CID}/' + i, offline: true })`,
      '  process.stdout.write(`ACK ${r.sequence} ${r.value}\\n`)',
      '}'
    ].join('\n'))

    /** Runs the publisher until it has acknowledged `acks` records, then kills it with SIGKILL. */
    const runAndKill = async (acks: number): Promise<Array<{ sequence: bigint, value: string }>> => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      const acked: Array<{ sequence: bigint, value: string }> = []
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      const exited = new Promise<NodeJS.Signals | null>(resolve => { child.once('exit', (_code, signal) => { resolve(signal) }) })
      let buffer = ''
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString()
        const lines = buffer.split('\n')
        buffer = lines.pop() ?? ''
        for (const line of lines) {
          const m = /^ACK (\d+) (\S+)$/.exec(line)
          if (m === null) continue
          acked.push({ sequence: BigInt(m[1] as string), value: m[2] as string })
          // kill the moment the target is reached: the next publish is already under way
          if (acked.length === acks) child.kill('SIGKILL')
        }
      })
      const killer = setTimeout(() => { child.kill('SIGKILL') }, 40_000)
      const signal = await exited
      clearTimeout(killer)
      expect(signal, stderr).toBe('SIGKILL')
      expect(acked.length, stderr).toBeGreaterThanOrEqual(acks)
      return acked
    }

    const first = await runAndKill(25)
    // acknowledgements come in order, one sequence at a time from 0
    expect(first.slice(0, 25).map(a => a.sequence)).toEqual(Array.from({ length: 25 }, (_, i) => BigInt(i)))
    const lastFirst = first.at(-1)!

    let node = await open(dir, { transport: 'memory' })
    const name = await selfName(node)
    let stored = await node.ask({ type: 'store.get', kind: 'published', name })
    expect(stored.sequence).toBeGreaterThanOrEqual(lastFirst.sequence)
    // what is stored is a whole, valid record of that sequence
    const verified = await node.ask({ type: 'record.verify', name, record: stored.record })
    expect(verified.sequence).toBe(stored.sequence)
    expect(verified.value).toBe(stored.value)
    expect((await node.ask({ type: 'ipns.resolve', name, offline: true })).sequence).toBe(stored.sequence)
    await close(node)

    // a second run continues above what the repo holds, and is killed again
    const second = await runAndKill(10)
    expect(second[0]!.sequence).toBe(stored.sequence + 1n)
    node = await open(dir, { transport: 'memory' })
    stored = await node.ask({ type: 'store.get', kind: 'published', name })
    expect(stored.sequence).toBeGreaterThanOrEqual(second.at(-1)!.sequence)
    expect((await node.ask({ type: 'record.verify', name, record: stored.record })).sequence).toBe(stored.sequence)
    await close(node)
  }, 60_000)
})

/**
 * Nothing acknowledged is lost (issue 12): a `swarmbus daemon` (the built
 * CLI, a child process) acknowledges a publish through its kubo RPC, is
 * killed with SIGKILL right after the 200, and is started again on the same
 * repo (it takes over the lock the dead pid left). The record is in the repo
 * and the restarted daemon's republisher puts it to the network.
 *
 * The publish is made offline (kubo's allow-offline, the daemon having no
 * peer yet) so the only copy of the record is the one in the repo: no node
 * of the testnet can hold it before the restart (checked), and the record
 * the testnet resolves afterwards can only come from the repo, through the
 * republisher (which lists the published records of the store; sequence one
 * above the acknowledged one). The record's lifetime is 1 h, under the
 * republisher's 24 h threshold, so it is due at once, and
 * Ipns.RepublishStartDelay is 1 s instead of a minute.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { MAIN, runCli, startDaemonProcess } from '../helpers/cli-process.js'
import type { CliRun, DaemonProcess } from '../helpers/cli-process.js'

const children = new Set<ChildProcess>()
let dir = ''

type Run = CliRun

/** the CLI, guarded (test/helpers/cli-process.ts) */
function cli (args: string[], timeoutMs = 30_000): Promise<Run> {
  return runCli(children, args, timeoutMs)
}

type Running = DaemonProcess

/** `swarmbus daemon --repo repo`, once ready (test/helpers/cli-process.ts) */
async function daemon (repo: string): Promise<Running> {
  return await startDaemonProcess(children, repo)
}

async function set (repo: string, key: string, value: unknown): Promise<void> {
  const r = await cli(['config', 'set', key, JSON.stringify(value), '--repo', repo])
  expect(r.code, r.stderr).toBe(0)
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'npm run build' first`)
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-durable-'))
})
afterEach(() => {
  for (const child of children) child.kill('SIGKILL')
})
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('the daemon killed after an acknowledged publish', () => {
  it('keeps the record: after kill -9 and a restart on the same repo it is resolved through the daemon and republished to the testnet', async () => {
    const { createTestnet } = await import('../../src/index.js')
    const { create } = await import('kubo-rpc-client')
    const net = await createTestnet({ nodes: 2 })
    try {
      const repo = join(dir, 'repo')
      const init = await cli(['init', '--repo', repo, '--api', '/ip4/127.0.0.1/tcp/0', '--swarm', '/ip4/127.0.0.1/tcp/0'])
      expect(init.code, init.stderr).toBe(0)
      await set(repo, 'Ipns.RepublishStartDelay', '1s')

      // 1. a standalone daemon acknowledges an offline publish, and dies at once
      const first = await daemon(repo)
      const VALUE = '/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui'
      const published = await create({ url: `${first.url}/api/v0` }).name.publish(VALUE, { allowOffline: true, lifetime: '1h', ttl: '1s' })
      first.child.kill('SIGKILL')
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' })
      // it left its lock and DIR/api behind (no shutdown ran)
      expect(existsSync(join(repo, 'repo.lock'))).toBe(true)
      expect(existsSync(join(repo, 'api'))).toBe(true)
      const name = published.name
      // the record never left that process: the testnet does not have it
      await expect(net.nodes[1]!.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 5_000 })).rejects.toThrow()

      // 2. the same repo, now joined to the testnet, under a new daemon that takes over the dead pid's lock
      await set(repo, 'Bootstrap', [net.nodes[0]!.multiaddrs[0]])
      const second = await daemon(repo)
      expect(await readFile(join(repo, 'repo.lock'), 'utf8')).toContain(String(second.child.pid))
      // 3. its republisher puts the record it found in the repo to the network: the testnet resolves it, re-signed
      const deadline = Date.now() + 20_000
      let found: { value: string, sequence: bigint } | undefined
      while (found === undefined && Date.now() < deadline) {
        try {
          found = await net.nodes[1]!.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 3_000 })
        } catch (err) {
          if (!(err instanceof Error)) throw err
          await new Promise(resolve => setTimeout(resolve, 250))
        }
      }
      expect(found, `the testnet never saw the republished record; daemon log:\n${second.stderr()}`).toBeDefined()
      expect(found?.value).toBe(VALUE)
      // the acknowledged record was sequence 0; the republisher signed the next one
      expect(found!.sequence >= 1n).toBe(true)
      // and the restarted daemon resolves it for a kubo client
      let resolved = ''
      for await (const p of create({ url: `${second.url}/api/v0` }).name.resolve(name, { nocache: true })) resolved = p
      expect(resolved).toBe(VALUE)

      second.child.kill('SIGTERM')
      expect(await second.exited).toEqual({ code: 0, signal: null })
      expect(existsSync(join(repo, 'repo.lock'))).toBe(false)
    } finally {
      await net.stop()
    }
  }, 60_000)
})

/**
 * The built `swarmbus` CLI run as a child process, for the CLI's tests: with
 * exactly the env given plus PATH and the network guard's libp2p gater
 * (SWARMBUS_NETWORK_GUARD=1; a child gets no vitest setup), killed with
 * SIGKILL after its time, and kept in the caller's set of children so its
 * afterEach can kill whatever is left.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

export const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export interface CliRun { code: number | null, signal: NodeJS.Signals | null, stdout: string, bytes: Buffer, stderr: string }

/** Runs the CLI to its end (stdout also kept as bytes; `input`, when given, is written to its stdin); SIGKILL after timeoutMs. */
export function runCli (children: Set<ChildProcess>, args: string[], timeoutMs: number, env: Record<string, string> = {}, input?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', SWARMBUS_NETWORK_GUARD: '1', ...env }
    })
    children.add(child)
    const out: Buffer[] = []
    let stderr = ''
    child.stdout?.on('data', (b: Buffer) => { out.push(b) })
    child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    if (input !== undefined) child.stdin?.end(input)
    const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
    child.on('error', err => { clearTimeout(timer); children.delete(child); reject(err) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      const bytes = Buffer.concat(out)
      resolve({ code, signal, stdout: bytes.toString('utf8'), bytes, stderr })
    })
  })
}

/** The first JSON line of `swarmbus testnet ARGS --json` (its `ready` event), the process running on. */
export async function startTestnetProcess (children: Set<ChildProcess>, args: string[]): Promise<{ child: ChildProcess, ready: { event: string, nodes: Array<{ peerId: string, multiaddrs: string[] }>, bootstrap: string[] } }> {
  const child = spawn(process.execPath, [MAIN, 'testnet', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', SWARMBUS_NETWORK_GUARD: '1' } })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the testnet was not ready within 40 s: ${stderr}`)) }, 40_000)
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s
      const nl = stdout.indexOf('\n')
      if (nl >= 0) { clearTimeout(timer); resolve(stdout.slice(0, nl)) }
    })
    child.on('close', code => { clearTimeout(timer); children.delete(child); reject(new Error(`the testnet exited (${String(code)}) before it was ready: ${stderr}`)) })
  })
  const ready = JSON.parse(line) as { event: string, nodes: Array<{ peerId: string, multiaddrs: string[] }>, bootstrap: string[] }
  if (ready.event !== 'ready') throw new Error(`the testnet said ${line}`)
  return { child, ready }
}

/** SIGTERM, and SIGKILL 10 s later if it has not closed. */
export async function stopProcess (child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const closed = new Promise<void>(resolve => { child.on('close', () => { resolve() }) })
  child.kill('SIGTERM')
  const kill = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
  await closed
  clearTimeout(kill)
}

export interface DaemonProcess {
  child: ChildProcess
  /** its API multiaddr, as printed */
  api: string
  url: string
  peerId: string
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Starts `swarmbus daemon --repo repo` (JSON logs, guarded); resolves once it printed "Daemon is ready". */
export async function startDaemonProcess (children: Set<ChildProcess>, repo: string): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [MAIN, 'daemon', '--repo', repo, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', SWARMBUS_NETWORK_GUARD: '1' } })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    child.on('close', (code, signal) => { children.delete(child); resolve({ code, signal }) })
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the daemon was not ready within 20 s: ${stderr}`)) }, 20_000)
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s
      if (stdout.includes('Daemon is ready\n')) { clearTimeout(timer); resolve() }
    })
    void exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`the daemon exited (${String(code)}) before it was ready: ${stderr}`)) })
  })
  const api = /RPC API server listening on (\S+)/.exec(stdout)?.[1] ?? ''
  const port = /\/tcp\/(\d+)$/.exec(api)?.[1] ?? ''
  const peerId = /peer identity: (\S+)/.exec(stdout)?.[1] ?? ''
  return { child, api, url: `http://127.0.0.1:${port}`, peerId, stdout: () => stdout, stderr: () => stderr, exited }
}

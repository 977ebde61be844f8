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

export interface CliRun { code: number | null, stdout: string, stderr: string }

export function runCli (children: Set<ChildProcess>, args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', SWARMBUS_NETWORK_GUARD: '1', ...env } })
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
    child.on('error', err => { clearTimeout(timer); children.delete(child); reject(err) })
    child.on('close', code => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, stdout, stderr })
    })
  })
}

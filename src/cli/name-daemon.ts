/**
 * `swarmbus name publish|resolve` on a repo a live daemon holds: the command
 * goes to the daemon's kubo RPC (daemon-client.ts) and prints what it
 * answers, instead of opening the repo (the daemon has it locked).
 */
import { fmtMs, round } from './format.js'
import { daemonCall } from './daemon-client.js'
import { failed, jsonLine } from './key-repo.js'
import { durationFlag } from './record-duration.js'
import type { Parsed } from './args.js'
import type { LiveDaemon } from '../daemon/api-file.js'

/** the daemon running on the repo, if one is (see daemon-client.ts) */
export async function runningDaemon (repo: string): Promise<LiveDaemon | undefined> {
  const { findDaemon } = await import('../daemon/api-file.js')
  return await findDaemon(repo)
}

function daemonNotice (command: string, daemon: LiveDaemon, values: Record<string, unknown>): void {
  const ignored = ['bootstrap', 'dns', 'router'].filter(f => Array.isArray(values[f]) && (values[f] as unknown[]).length > 0)
  if (ignored.length > 0) process.stderr.write(`${command}: using the daemon at ${daemon.url} (pid ${daemon.pid}), which has its own network: ${ignored.map(f => `--${f}`).join(', ')} ignored\n`)
}

export async function publishThroughDaemon (command: string, daemon: LiveDaemon, values: Record<string, unknown>, value: string, o: { key: string | undefined, lifetimeMs: number | undefined, ttlMs: number | undefined }): Promise<number> {
  const json = values.json === true
  const timeoutMs = durationFlag(command, values as Parsed['values'], 'timeout', 1, 600_000) ?? 60_000
  daemonNotice(command, daemon, values)
  try {
    const t = performance.now()
    const reply = await daemonCall(daemon, 'name/publish', [value], {
      key: o.key,
      lifetime: o.lifetimeMs === undefined ? undefined : `${o.lifetimeMs}ms`,
      ttl: o.ttlMs === undefined ? undefined : `${o.ttlMs}ms`
    }, timeoutMs)
    const ms = performance.now() - t
    if (json) process.stdout.write(jsonLine({ name: reply.Name, value: reply.Value, key: o.key ?? 'self', daemon: daemon.url, ms: round(ms) }))
    else process.stdout.write(`published /ipns/${String(reply.Name)} → ${String(reply.Value)}\n  through the daemon at ${daemon.url} (pid ${daemon.pid}); ${fmtMs(ms)} ms\n`)
    return 0
  } catch (err) {
    return failed(command, err, json, false)
  }
}

export async function resolveThroughDaemon (command: string, daemon: LiveDaemon, values: Record<string, unknown>, name: string, o: { nocache: boolean, offline: boolean, quorum: number | undefined }): Promise<number> {
  const json = values.json === true
  const timeoutMs = durationFlag(command, values as Parsed['values'], 'timeout', 1, 600_000) ?? 60_000
  daemonNotice(command, daemon, values)
  try {
    const t = performance.now()
    const reply = await daemonCall(daemon, 'name/resolve', [name], { nocache: o.nocache ? true : undefined, offline: o.offline ? true : undefined, 'dht-record-count': o.quorum }, timeoutMs)
    const ms = performance.now() - t
    if (json) process.stdout.write(jsonLine({ name, value: reply.Path, daemon: daemon.url, ms: round(ms) }))
    else process.stdout.write(`${String(reply.Path)}\n`)
    if (values.verbose === true) process.stderr.write(`${command}: ${name} → ${String(reply.Path)} through the daemon at ${daemon.url} (pid ${daemon.pid}); ${fmtMs(ms)} ms\n`)
    return 0
  } catch (err) {
    return failed(command, err, json, false)
  }
}

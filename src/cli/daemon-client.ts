/**
 * The running daemon, for CLI commands on its repo: when DIR/api points at a
 * live `swarmbus daemon` (findDaemon), `name publish` and `name resolve` go
 * to it over its kubo RPC (`POST /api/v0/…`), as kubo's CLI does, instead of
 * opening the repo themselves (which the daemon holds). Without a live
 * daemon they run in-process as before.
 *
 * Errors come back in kubo's body (`{ Message, Code, Type: 'error' }`) and
 * are reported with the daemon's message.
 */
import { FailedError, TimeoutError } from '../messages/errors.js'
import type { LiveDaemon } from '../daemon/api-file.js'

/** the reply of one kubo RPC call that answers one JSON document */
export async function daemonCall (daemon: LiveDaemon, command: string, args: string[], options: Record<string, string | number | boolean | undefined>, timeoutMs: number): Promise<Record<string, unknown>> {
  const url = new URL(`/api/v0/${command}`, daemon.url)
  for (const a of args) url.searchParams.append('arg', a)
  for (const [k, v] of Object.entries(options)) if (v !== undefined) url.searchParams.set(k, String(v))
  // the daemon's own deadline (kubo's `timeout`), and ours a little after it
  url.searchParams.set('timeout', `${timeoutMs}ms`)
  let response: Response
  try {
    response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(timeoutMs + 5_000) })
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new TimeoutError(`the daemon at ${daemon.url} (pid ${daemon.pid}) gave no answer to ${command} within ${timeoutMs + 5_000} ms`, { cause: err })
    throw new FailedError(`cannot reach the daemon at ${daemon.url} (pid ${daemon.pid}): ${(err as Error).message}`, { cause: err })
  }
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text.trim().split('\n').at(-1) ?? '')
  } catch {
    // not JSON: an answer from something that is not our daemon's RPC; its text is the message
    body = undefined
  }
  const message = (body as { Message?: unknown } | undefined)?.Message
  if (response.status !== 200 || (body as { Type?: unknown } | undefined)?.Type === 'error') {
    throw new FailedError(`the daemon (pid ${daemon.pid}) answered ${command} with ${response.status}: ${typeof message === 'string' ? message : text.slice(0, 300)}`)
  }
  if (typeof body !== 'object' || body === null) throw new FailedError(`the daemon (pid ${daemon.pid}) answered ${command} with no JSON: ${text.slice(0, 300)}`)
  return body as Record<string, unknown>
}

/**
 * `swarmbus dht …` on a repo a live daemon holds: the command goes to the
 * daemon's kubo RPC (routing/get|put|findprovs|findpeer|provide, dht/query;
 * src/http/kubo-rpc/routing.ts), whose answers are kubo's query events, one
 * JSON object per line, read here bounded. The daemon has its own network,
 * so the network flags are ignored (said on stderr).
 */
import { FailedError, NotFoundError, TimeoutError } from '../messages/errors.js'
import type { LiveDaemon } from '../daemon/api-file.js'

/** kubo's query event types (routing.ts) */
export const FINAL_PEER = 2
export const QUERY_ERROR = 3
export const PROVIDER = 4
export const VALUE = 5

/** the most bytes of one answer read (a findprovs of 256 peers with many addresses is far below) */
const MAX_BODY_BYTES = 8 * 1024 * 1024

export interface QueryEvent {
  ID: string
  Type: number
  Responses: Array<{ ID: string, Addrs: string[] }> | null
  Extra: string
}

const IGNORED = ['bootstrap', 'router', 'dns', 'network', 'router-timeout', 'settle', 'loopback']

/** the note that the daemon's network is used, if a network flag was given */
export function daemonNotice (command: string, daemon: LiveDaemon, values: Record<string, unknown>): void {
  const given = IGNORED.filter(f => values[f] !== undefined && !(Array.isArray(values[f]) && (values[f] as unknown[]).length === 0))
  if (given.length > 0) process.stderr.write(`${command}: using the daemon at ${daemon.url} (pid ${daemon.pid}), which has its own network: ${given.map(f => `--${f}`).join(', ')} ignored\n`)
}

async function readBounded (response: Response): Promise<string> {
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel()
      throw new FailedError(`the daemon's answer is larger than ${MAX_BODY_BYTES} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * One kubo RPC call that answers query events; a QueryError event (Type 3)
 * or an error body fails with the daemon's message.
 */
export async function daemonEvents (daemon: LiveDaemon, command: string, args: string[], options: Record<string, string | number | undefined>, timeoutMs: number, value?: Uint8Array): Promise<QueryEvent[]> {
  const url = new URL(`/api/v0/${command}`, daemon.url)
  for (const a of args) url.searchParams.append('arg', a)
  for (const [k, v] of Object.entries(options)) if (v !== undefined) url.searchParams.set(k, String(v))
  url.searchParams.set('timeout', `${timeoutMs}ms`)
  let body: FormData | undefined
  if (value !== undefined) {
    body = new FormData()
    body.append('file', new Blob([value], { type: 'application/octet-stream' }), 'value')
  }
  let response: Response
  try {
    response = await fetch(url, { method: 'POST', ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(timeoutMs + 5_000) })
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new TimeoutError(`the daemon at ${daemon.url} (pid ${daemon.pid}) gave no answer to ${command} within ${timeoutMs + 5_000} ms`, { cause: err })
    throw new FailedError(`cannot reach the daemon at ${daemon.url} (pid ${daemon.pid}): ${(err as Error).message}`, { cause: err })
  }
  const text = await readBounded(response)
  const lines = text.split('\n').filter(l => l.trim() !== '')
  const parsed: unknown[] = []
  for (const line of lines) {
    try {
      parsed.push(JSON.parse(line))
    } catch (err) {
      throw new FailedError(`the daemon (pid ${daemon.pid}) answered ${command} with something that is not JSON: ${line.slice(0, 300)}`, { cause: err })
    }
  }
  const error = parsed.find(p => (p as { Type?: unknown }).Type === 'error') as { Message?: unknown } | undefined
  if (response.status !== 200 || error !== undefined) {
    const message = error?.Message ?? (parsed[0] as { Message?: unknown } | undefined)?.Message
    const text = typeof message === 'string' ? message : lines.join(' ').slice(0, 300)
    const notFound = /not found|no providers|routing: not found/i.test(text)
    if (notFound) throw new NotFoundError(`the daemon (pid ${daemon.pid}): ${text}`)
    throw new FailedError(`the daemon (pid ${daemon.pid}) answered ${command} with ${response.status}: ${text}`)
  }
  const events = parsed as QueryEvent[]
  const failedEvent = events.find(e => e.Type === QUERY_ERROR)
  if (failedEvent !== undefined && !events.some(e => e.Type === VALUE || e.Type === PROVIDER || e.Type === FINAL_PEER)) {
    if (/not found/i.test(failedEvent.Extra)) throw new NotFoundError(`the daemon (pid ${daemon.pid}): ${failedEvent.Extra}`)
    throw new FailedError(`the daemon (pid ${daemon.pid}) answered ${command}: ${failedEvent.Extra}`)
  }
  return events
}

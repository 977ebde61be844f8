/**
 * Replies: one JSON document, or NDJSON as go-ipfs-cmds streams it
 * (`X-Chunked-Output: 1`, one object per line, `Trailer: X-Stream-Error`).
 *
 * A stream waits for its first item before it commits to 200: a command
 * that fails at once gets kubo's error body and status. A failure after
 * that goes into the `X-Stream-Error` trailer and, because kubo-rpc-client
 * never reads trailers, into one last line (the command's error event).
 *
 * Backpressure: lines come from an async generator wrapped in a Readable
 * that fastify pipes into the socket; the generator is pulled (and so the
 * bus stream read) only while the socket takes data, so a slow client holds
 * at most the Readable's 16 lines and the socket's buffer. A bus stream
 * left unread that long fails with its own OverloadedError (the bus bounds
 * it); a client that goes away ends the generator, which cancels the query.
 */
import { Readable } from 'node:stream'
import { errorBody, toKuboError } from './errors.js'
import type { KuboRpcError } from './errors.js'
import type { FastifyReply } from 'fastify'

export const EXPOSED_HEADERS = 'X-Stream-Output, X-Chunked-Output, X-Content-Length'

export type Prefix = (message: string, kind: string) => string

export interface StreamOutcome {
  stream: AsyncIterable<unknown>
  /** the line a failure after the start becomes (default kubo's error body) */
  errorEvent?: (err: KuboRpcError) => unknown
  prefix?: Prefix
}
export interface JsonOutcome { json: unknown }
export type Outcome = StreamOutcome | JsonOutcome

const line = (value: unknown): string => `${JSON.stringify(value)}\n`

/**
 * A stream (`failure` given) is chunked and declares and sends the
 * X-Stream-Error trailer, as go-ipfs-cmds does (empty, or the error that
 * ended the stream) — except to an HTTP/1.0 client, which knows no
 * trailers. A single reply cannot fail after it started, so its trailer
 * would always be empty: it goes out whole with a Content-Length, in one
 * write, and declares none (go-ipfs-cmds declares and sends an empty one;
 * node refuses a Trailer header without chunks, and fastify's trailers end
 * the response a tick after its body: a second write on every reply).
 */
function common (reply: FastifyReply, failure?: () => string): FastifyReply {
  if (failure !== undefined && reply.request.raw.httpVersion !== '1.0') reply.trailer('X-Stream-Error', (_reply, _payload, done) => { done(null, failure()) })
  return reply.header('Access-Control-Expose-Headers', EXPOSED_HEADERS).header('Content-Type', 'application/json; charset=utf-8')
}

/** kubo's error body; `status` overrides the one its code implies (fastify's 413, 415, …) */
export async function sendError (reply: FastifyReply, err: unknown, prefix?: Prefix, status?: number): Promise<FastifyReply> {
  const k = toKuboError(err, prefix)
  return await common(reply).code(status ?? k.status).send(line(errorBody(k)))
}

export async function sendJson (reply: FastifyReply, value: unknown): Promise<FastifyReply> {
  return await common(reply).code(200).send(line(value))
}

export async function sendStream (reply: FastifyReply, outcome: StreamOutcome): Promise<FastifyReply> {
  const it = outcome.stream[Symbol.asyncIterator]()
  let first: IteratorResult<unknown>
  try {
    first = await it.next()
  } catch (err) {
    return await sendError(reply, err, outcome.prefix)
  }
  let failure = ''
  const errorEvent = outcome.errorEvent ?? errorBody
  async function * lines (): AsyncGenerator<string> {
    let done = first.done === true
    try {
      if (!done) yield line(first.value)
      while (!done) {
        const next = await it.next()
        done = next.done === true
        if (!done) yield line(next.value)
      }
    } catch (err) {
      done = true
      const k = toKuboError(err, outcome.prefix)
      failure = k.message
      yield line(errorEvent(k))
    } finally {
      // the client left (or the generator was closed early): cancel the bus stream
      if (!done) await it.return?.()
    }
  }
  return await common(reply, () => failure).code(200).header('X-Chunked-Output', '1').send(Readable.from(lines(), { objectMode: false, highWaterMark: 16 * 1_024 }))
}

export async function sendOutcome (reply: FastifyReply, outcome: Outcome): Promise<FastifyReply> {
  return 'stream' in outcome ? await sendStream(reply, outcome) : await sendJson(reply, outcome.json)
}

/**
 * Writing Routing V1 answers: the status a bus failure becomes, boxo's cache
 * headers, and peer records as one JSON document (capped) or as NDJSON
 * (one line per record, written as it arrives, pulled only as fast as the
 * client reads, capped too).
 */
import { Readable } from 'node:stream'
import { SwarmbusError } from '../../messages/errors.js'
import { applyFilters } from './filters.js'
import { BadRequest, MEDIA_JSON, MEDIA_NDJSON } from './parse.js'
import type { FastifyReply } from 'fastify'
import type { Filters } from './filters.js'
import type { PeerRecordJson } from './records.js'

/** 48 h: the Amino DHT's record window, boxo's stale-while-revalidate */
const MAX_TTL_S = 172_800
export const CACHE_RESULTS = `public, max-age=300, stale-while-revalidate=${MAX_TTL_S}, stale-if-error=${MAX_TTL_S}`
export const CACHE_NO_RESULTS = `public, max-age=15, stale-while-revalidate=${MAX_TTL_S}, stale-if-error=${MAX_TTL_S}`
/** error bodies are cut here, as boxo does */
const MAX_ERROR_CHARS = 1024

/** The kinds of failure that mean "nothing (more) to answer" for a lookup, not an error. */
export function endsLookup (err: unknown): boolean {
  return err instanceof SwarmbusError && (err.kind === 'not-found' || err.kind === 'timeout')
}

/** The HTTP status of a failed request. */
export function statusOf (err: unknown): number {
  if (err instanceof BadRequest) return err.status
  if (!(err instanceof SwarmbusError)) return 500
  switch (err.kind) {
    case 'invalid':
    case 'invalid-record': return 400
    case 'overloaded':
    case 'stopped': return 503
    case 'timeout': return 504
    default: return 500
  }
}

export function sendError (reply: FastifyReply, err: unknown): FastifyReply {
  const status = statusOf(err)
  const message = err instanceof Error ? err.message : String(err)
  const text = status >= 500 && !(err instanceof BadRequest) ? `delegate error: ${message}` : message
  if (status === 503) reply.header('Retry-After', '5')
  return reply.code(status).type('text/plain; charset=utf-8').send(text.slice(0, MAX_ERROR_CHARS))
}

export interface RecordsRequest {
  format: 'json' | 'ndjson'
  /** the JSON document's key: Providers or Peers */
  key: 'Providers' | 'Peers'
  filters: Filters
  /** most records written (after filtering) */
  limit: number
  /** the lookup, cancelled by the signal when the client leaves or the answer is complete */
  source: (signal: AbortSignal) => AsyncIterable<PeerRecordJson>
}

function setListHeaders (reply: FastifyReply, any: boolean): void {
  reply.header('Vary', 'Accept')
  reply.header('Cache-Control', any ? CACHE_RESULTS : CACHE_NO_RESULTS)
  reply.header('Last-Modified', new Date().toUTCString())
}

/**
 * Runs the lookup and answers with what passes the filters. A lookup that
 * ends with not-found or its deadline ends the list (IPIP-0513: 200 and what
 * was found); any other failure before the first record is an error status;
 * a failure after an NDJSON stream started ends the stream (its status is
 * sent already), and is logged.
 */
export async function sendRecords (reply: FastifyReply, req: RecordsRequest): Promise<FastifyReply> {
  const controller = new AbortController()
  reply.raw.once('close', () => { controller.abort() })
  const it = req.source(controller.signal)[Symbol.asyncIterator]()
  const next = async (): Promise<PeerRecordJson | undefined> => {
    for (;;) {
      let r: IteratorResult<PeerRecordJson>
      try {
        r = await it.next()
      } catch (err) {
        // the client left (our abort) or the lookup is over: the list ends
        if (endsLookup(err) || controller.signal.aborted) return undefined
        throw err
      }
      if (r.done === true) return undefined
      const kept = applyFilters(r.value, req.filters)
      if (kept !== undefined) return kept
    }
  }
  const close = async (): Promise<void> => {
    controller.abort()
    await it.return?.()
  }

  if (req.format === 'json') {
    const records: PeerRecordJson[] = []
    try {
      while (records.length < req.limit) {
        const r = await next()
        if (r === undefined) break
        records.push(r)
      }
    } catch (err) {
      return sendError(reply, err)
    } finally {
      await close()
    }
    setListHeaders(reply, records.length > 0)
    return reply.code(200).type(MEDIA_JSON).send(JSON.stringify({ [req.key]: records }))
  }

  let first: PeerRecordJson | undefined
  try {
    first = await next()
  } catch (err) {
    await close()
    return sendError(reply, err)
  }
  setListHeaders(reply, first !== undefined)
  if (first === undefined) {
    await close()
    return reply.code(200).type(MEDIA_NDJSON).send('')
  }
  const log = reply.log
  const limit = req.limit
  async function * lines (): AsyncGenerator<string> {
    let sent = 0
    try {
      for (let r: PeerRecordJson | undefined = first; r !== undefined && sent < limit; r = sent < limit ? await next() : undefined) {
        sent++
        yield `${JSON.stringify(r)}\n`
      }
    } catch (err) {
      // the status went out with the first line: the stream just ends here
      log.warn({ err }, 'routing v1 stream failed after it started')
    } finally {
      await close()
    }
  }
  // Readable.from pulls a line only when the socket has taken the ones before (backpressure)
  return reply.code(200).type(MEDIA_NDJSON).send(Readable.from(lines(), { highWaterMark: 4 }))
}

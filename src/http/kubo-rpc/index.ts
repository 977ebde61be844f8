/**
 * The kubo RPC face (`/api/v0/…`, the naming and routing subset) as a
 * fastify plugin the daemon mounts: kubo-rpc-client 7 works against it
 * unchanged. Each command is one or a few bus asks (name.ts, key.ts,
 * routing.ts, swarm.ts); this file is the transport: methods, the security
 * checks (security.ts), the request deadline, multipart files, replies
 * (stream.ts) and errors (errors.ts). See docs/http-api.md.
 */
import multipart from '@fastify/multipart'
import { ERR_CLIENT, ERR_NORMAL, KuboRpcError, clientError } from './errors.js'
import { Params } from './params.js'
import { authorized, compileAuthorizations, crossSiteRefusal, loopbackOrigins } from './security.js'
import { sendError, sendOutcome } from './stream.js'
import { nameCommands } from './name.js'
import { keyCommands } from './key.js'
import { routingCommands } from './routing.js'
import { swarmCommands, defaultVersion } from './swarm.js'
import type { Authorizations } from './security.js'
import { MAX_CALL_MS } from './call.js'
import type { Call, Commands, FaceSettings, VersionInfo } from './call.js'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { SwarmNode } from '../../node/create-node.js'

export type { Authorizations, Authorization } from './security.js'
export type { VersionInfo } from './call.js'

export interface KuboRpcOptions {
  /** kubo's API.Authorizations; none (the default) leaves the API open to whoever reaches it */
  authorizations?: Authorizations
  /** origins browsers may call from (`*` for any); default http(s)://127.0.0.1, [::1], localhost on the server's port */
  allowedOrigins?: string[]
  /** what `version` answers (default swarmbus's version, this Node and platform) */
  version?: Partial<VersionInfo>
  /** `id`'s AgentVersion (default `swarmbus/<version>`) */
  agentVersion?: string
  /** name/publish's record lifetime and TTL when a call gives none (default the bus's: 48 h and 5 min) */
  publish?: { lifetimeMs?: number, ttlMs?: number }
  /** the largest body accepted (default 80 KiB — a 64 KiB key or value and the framing — or the server's bodyLimit when lower) */
  bodyLimit?: number
}

export const API_PREFIX = '/api/v0/'
export const DEFAULT_BODY_LIMIT = 80 * 1_024
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const

export const COMMANDS: Commands = { ...nameCommands, ...keyCommands, ...routingCommands, ...swarmCommands }

async function readFile (request: FastifyRequest, what: string, maxBytes: number): Promise<Uint8Array> {
  if (!request.isMultipart()) throw clientError(`file argument '${what}' is required (multipart/form-data)`)
  let part
  try {
    part = await request.file({ limits: { fileSize: maxBytes, files: 1, fields: 8, parts: 8, fieldSize: 1_024, headerPairs: 32 } })
  } catch (err) {
    throw clientError(`could not read the multipart body: ${(err as Error).message}`)
  }
  if (part === undefined) throw clientError(`file argument '${what}' is required`)
  try {
    return new Uint8Array(await part.toBuffer())
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw clientError(`file argument '${what}' is larger than ${maxBytes} bytes`)
    throw clientError(`could not read file argument '${what}': ${(err as Error).message}`)
  }
}

export function kuboRpcFace (node: SwarmNode, options: KuboRpcOptions = {}): FastifyPluginAsync {
  const secrets = compileAuthorizations(options.authorizations)
  const allowedOrigins = options.allowedOrigins?.map(o => o.toLowerCase())
  const version = { ...defaultVersion(), ...options.version }
  const settings: FaceSettings = { version, agentVersion: options.agentVersion ?? `swarmbus/${version.Version}`, publish: { ...options.publish } }
  return async (app) => {
    // the server's own body limit, when it is lower, unless a limit was given
    const bodyLimit = options.bodyLimit ?? Math.min(DEFAULT_BODY_LIMIT, app.initialConfig.bodyLimit ?? DEFAULT_BODY_LIMIT)
    // only these parsers in this context: multipart for file arguments, and a bounded drain for any other body
    app.removeAllContentTypeParsers()
    await app.register(multipart, { limits: { fileSize: bodyLimit, files: 1, fields: 8, parts: 8 } })
    // kubo ignores the body of a command that takes no file: drain it (within bodyLimit)
    app.addContentTypeParser('*', { bodyLimit, parseAs: 'buffer' }, (_req, _body, done) => { done(null, undefined) })

    // fastify's own refusals (a body over the limit, a broken multipart) in kubo's error body
    app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
      if (status >= 500) request.log.error({ err }, 'kubo rpc: request failed')
      return await sendError(reply, new KuboRpcError(err.message, status < 500 ? ERR_CLIENT : ERR_NORMAL), undefined, status)
    })

    // the loopback origins of a port, made once (the check runs on every call)
    const loopback = new Map<number, string[]>()
    const loopbackOn = (port: number): string[] => {
      let list = loopback.get(port)
      if (list === undefined) {
        list = loopbackOrigins(port)
        if (loopback.size < 16) loopback.set(port, list) // a server listens on one port; bounded all the same
      }
      return list
    }
    // callback-style: no promise per call
    app.addHook('onRequest', (request, reply, done) => {
      // the decoded path the route matched (what dispatch uses), as kubo checks Go's decoded URL.Path
      const path = `${API_PREFIX}${(request.params as { '*'?: string })['*'] ?? ''}`
      const { origin, referer } = request.headers
      const userAgent = request.headers['user-agent']
      // no Origin, no Referer and not a browser's POST: nothing cross-site to check
      const refusal = origin === undefined && referer === undefined && (request.method !== 'POST' || userAgent === undefined || !userAgent.startsWith('Mozilla'))
        ? undefined
        : crossSiteRefusal({
          method: request.method,
          ...(origin !== undefined ? { origin } : {}),
          ...(referer !== undefined ? { referer } : {}),
          ...(userAgent !== undefined ? { userAgent } : {}),
          allowed: allowedOrigins ?? loopbackOn(request.socket.localPort ?? 0)
        })
      if (refusal !== undefined) {
        request.log.info({ path, refusal }, 'kubo rpc: cross-site request refused')
        reply.code(403).type('text/plain; charset=utf-8').send('403 - Forbidden\n')
        return
      }
      if (origin !== undefined) reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin')
      if (request.method !== 'OPTIONS' && !authorized(secrets, path, request.headers.authorization)) {
        reply.code(403).type('text/plain; charset=utf-8').send('403 - Forbidden\n')
        return
      }
      done()
    })

    const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const name = ((request.params as { '*'?: string })['*'] ?? '').replace(/\/+$/, '')
      const handler = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
      if (handler === undefined) return await reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n')
      if (request.method === 'OPTIONS') {
        const asked = request.headers['access-control-request-headers']
        if (asked !== undefined) reply.header('Access-Control-Allow-Headers', asked)
        return await reply.code(204).header('Allow', 'OPTIONS, POST').header('Access-Control-Allow-Methods', 'POST').send()
      }
      if (request.method !== 'POST') {
        return await reply.code(405).header('Allow', 'OPTIONS, POST').type('text/plain; charset=utf-8').send('405 - Method Not Allowed\n')
      }
      const started = Date.now()
      const aborter = new AbortController()
      // the client left before the answer was complete, or the handler timeout answered for this call: its asks stop
      let answered = false
      reply.raw.on('close', () => { if (!answered || !reply.raw.writableFinished) aborter.abort() })
      let params: Params
      let timeoutMs: number | undefined
      try {
        params = new Params(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '')
        timeoutMs = params.duration('timeout')
        if (timeoutMs !== undefined && timeoutMs <= 0) timeoutMs = undefined
      } catch (err) {
        return await sendError(reply, err)
      }
      const call: Call = {
        node,
        params,
        settings,
        ask: (limitMs) => {
          // one deadline for the whole call, from its start: the nearer of `timeout` and the command's own bound
          const bounds = [timeoutMs, limitMs].filter((ms): ms is number => ms !== undefined)
          if (bounds.length === 0) return { signal: aborter.signal }
          return { signal: aborter.signal, deadline: started + Math.min(Math.max(1, Math.min(...bounds)), MAX_CALL_MS) }
        },
        file: async (what, maxBytes) => await readFile(request, what, Math.min(maxBytes, bodyLimit))
      }
      try {
        const outcome = await handler(call)
        // from here a close means the client left mid-answer (the answer is not finished) or nothing
        answered = true
        return await sendOutcome(reply, outcome)
      } catch (err) {
        answered = true // the command is over: nothing of it left to abort
        if (!(err instanceof KuboRpcError)) request.log.debug({ err, command: name }, 'kubo rpc: command failed')
        return await sendError(reply, err)
      }
    }
    app.route({ method: [...METHODS], url: `${API_PREFIX}*`, bodyLimit, handler: handle })
  }
}

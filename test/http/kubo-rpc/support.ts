/**
 * A tiny fastify app with the kubo RPC face of one node on 127.0.0.1:0 (the
 * daemon's own server is not needed to test the face), and a raw POST for
 * what kubo-rpc-client does not expose (headers, status codes, name/inspect).
 */
import Fastify from 'fastify'
import { create } from 'kubo-rpc-client'
import { kuboRpcFace } from '../../../src/http/kubo-rpc/index.js'
import type { FastifyInstance } from 'fastify'
import type { KuboRPCClient } from 'kubo-rpc-client'
import type { KuboRpcOptions } from '../../../src/http/kubo-rpc/index.js'
import type { SwarmNode } from '../../../src/node/create-node.js'

export interface Face {
  app: FastifyInstance
  url: string
  port: number
  client: KuboRPCClient
  close: () => Promise<void>
}

export async function startFace (node: SwarmNode, options?: KuboRpcOptions, headers?: Record<string, string>, server: { bodyLimit?: number } = {}): Promise<Face> {
  const app = Fastify({ logger: false, ...server })
  await app.register(kuboRpcFace(node, options))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  const url = `http://127.0.0.1:${address.port}`
  const client = create({ url, ...(headers !== undefined ? { headers } : {}) })
  return { app, url, port: address.port, client, close: async () => { await app.close() } }
}

/** a raw call: path under /api/v0/, query parameters (repeatable), optional body and headers */
export async function post (face: Face, path: string, query: Array<[string, string]> = [], init: RequestInit = {}): Promise<Response> {
  const qs = new URLSearchParams(query).toString()
  return await fetch(`${face.url}/api/v0/${path}${qs === '' ? '' : `?${qs}`}`, { method: 'POST', ...init })
}

/** the error kubo-rpc-client throws, with the HTTP status it saw */
export async function failure (p: Promise<unknown>): Promise<Error & { response?: Response }> {
  try {
    await p
  } catch (err) {
    return err as Error & { response?: Response }
  }
  throw new Error('expected a failure')
}

export async function all<T> (it: AsyncIterable<T>, max = 1_000): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) {
    out.push(x)
    if (out.length >= max) break
  }
  return out
}

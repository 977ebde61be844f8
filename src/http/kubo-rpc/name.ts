/**
 * name/publish, name/resolve, name/inspect: ipns.publish, ipns.resolve and
 * (for inspect's `verify`) record.verify on the bus. Inspect reads the
 * record with the CLI's inspector (src/cli/record-inspect.ts, the record
 * layer's own checks) and lays it out as kubo does (name-inspect.ts).
 */
import { ERR_CLIENT, KuboRpcError, clientError } from './errors.js'
import { MAX_CALL_MS, ipnsBase } from './call.js'
import { inspectionReply } from './name-inspect.js'
import { MAX_RECORD_SIZE } from '../../records/codec.js'
import { parseName } from '../../records/name.js'
import { inspectRecord } from '../../cli/record-inspect.js'
import type { Commands } from './call.js'
import type { NameFormat } from '../../records/name.js'
import type { AskOptions } from '../../actors/runtime/actor.js'
import type { SwarmNode } from '../../node/create-node.js'

/** kubo's default `dht-timeout` for name/resolve */
export const RESOLVE_TIMEOUT_MS = 60_000
export const MAX_QUORUM = 64

function formatName (name: string, base: NameFormat): string {
  return base === 'base36' ? name : parseName(name).name.format(base)
}

/** kubo's --key is a key name or the key's id (a peer id or IPNS name in any form) */
async function keyName (node: SwarmNode, key: string, options: AskOptions): Promise<string> {
  let id: string
  try {
    id = parseName(key).name.format('base36')
  } catch {
    return key // not an id: a name
  }
  const { keys } = await node.ask({ type: 'key.list' }, options)
  return keys.find(k => k.name === key)?.name ?? keys.find(k => k.ipnsName === id)?.name ?? key
}

/** kubo normalises a bare CID argument to /ipfs/<cid> */
export function publishPath (arg: string): string {
  return arg.startsWith('/') ? arg : `/ipfs/${arg}`
}

export const nameCommands: Commands = {
  'name/publish': async ({ node, params, ask, settings }) => {
    const value = publishPath(params.arg('ipfs-path'))
    const key = params.string('key', 'k') ?? 'self'
    if (params.string('sequence') !== undefined) throw clientError('the sequence option is not supported: swarmbus signs one above the highest sequence it has seen')
    const base = ipnsBase(params)
    const lifetimeMs = params.duration('lifetime', 't') ?? settings.publish.lifetimeMs
    const ttlMs = params.duration('ttl') ?? settings.publish.ttlMs
    // kubo's allow-offline: a node that is offline (here: no connection) stores the record without broadcasting it
    const offline = params.bool('allow-offline', false) && (await node.ask({ type: 'swarm.status' }, ask())).connections === 0
    const reply = await node.ask({
      type: 'ipns.publish',
      value,
      key: await keyName(node, key, ask()),
      offline,
      ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {})
    }, ask())
    return { json: { Name: formatName(reply.name, base), Value: reply.value } }
  },

  'name/resolve': async ({ node, params, ask }) => {
    const name = params.arg('name', true) ?? node.peerId
    const recursive = params.bool('recursive', true, 'r')
    const nocache = params.bool('nocache', false, 'n')
    // kubo's global --offline: the cache and the repo only, no network request
    const offline = params.bool('offline', false)
    const stream = params.bool('stream', false, 's')
    const count = params.int('dht-record-count', 'dhtrc')
    if (count !== undefined && (count < 0 || count > MAX_QUORUM)) throw clientError(`dht-record-count must be from 0 to ${MAX_QUORUM}`)
    const dhtTimeout = params.duration('dht-timeout', 'dhtt')
    // dht-timeout 0 is no bound of its own: the 10-minute ceiling (or `timeout`)
    const options = ask(dhtTimeout === undefined ? RESOLVE_TIMEOUT_MS : dhtTimeout === 0 ? MAX_CALL_MS : dhtTimeout)
    const quorum = count !== undefined && count > 0 ? { quorum: count } : {}
    const cmd = { type: 'ipns.resolve' as const, name, recursive, nocache, ...quorum, ...(offline ? { offline } : {}) }
    // an offline resolve has one answer: streamed, it is the one line
    if (offline && stream) {
      const reply = await node.ask(cmd, options)
      return { stream: (async function * () { yield { Path: reply.value } })() }
    }
    if (!stream) return { json: { Path: (await node.ask(cmd, options)).value } }
    // kubo's --stream: a line per better answer as it is found (ipns.resolveStream); kubo-rpc-client users take the last
    const items = node.stream({ type: 'ipns.resolveStream', name, recursive, nocache, ...quorum }, options)
    return { stream: (async function * () { for await (const item of items) yield { Path: item.value } })() }
  },

  'name/inspect': async ({ node, params, ask, file }) => {
    const record = await file('record', MAX_RECORD_SIZE)
    const verify = params.string('verify')
    const inspection = inspectRecord(record, Date.now())
    if (inspection.fields.length === 0 && !inspection.ok) {
      throw new KuboRpcError(`not an IPNS record: ${inspection.problems.map(p => p.message).join('; ')}`, ERR_CLIENT)
    }
    let validation: { Valid: boolean, Reason: string, Name: string } | null = null
    if (verify !== undefined) {
      let name: string
      try {
        name = parseName(verify).name.format('base36')
      } catch (err) {
        throw clientError(`verify: not an IPNS name: ${(err as Error).message}`)
      }
      try {
        await node.ask({ type: 'record.verify', name, record }, ask())
        validation = { Valid: true, Reason: '', Name: name }
      } catch (err) {
        if ((err as { kind?: string }).kind !== 'invalid-record') throw err
        validation = { Valid: false, Reason: (err as Error).message, Name: name }
      }
    }
    return { json: inspectionReply(record, inspection, validation) }
  }
}

/**
 * What a command handler gets: the node, the call's parameters, the ask
 * options every bus command of the call carries (the request's deadline and
 * its abort signal), and the call's file argument, read within a bound.
 */
import { clientError } from './errors.js'
import type { Params } from './params.js'
import type { Outcome } from './stream.js'
import type { AskOptions } from '../../actors/runtime/actor.js'
import type { SwarmNode } from '../../node/create-node.js'
import type { NameFormat } from '../../records/name.js'

/** ceiling of a call's deadline (the bus clamps at 10 minutes too) */
export const MAX_CALL_MS = 10 * 60_000

export interface VersionInfo {
  Version: string
  Commit: string
  Repo: string
  System: string
  Golang: string
}

export interface FaceSettings {
  version: VersionInfo
  agentVersion: string
  /** name/publish's lifetime and ttl when the call names none (the daemon's Ipns.RecordLifetime / RecordTTL) */
  publish: { lifetimeMs?: number, ttlMs?: number }
}

export interface Call {
  node: SwarmNode
  params: Params
  settings: FaceSettings
  /**
   * the options of every ask the call makes: its abort signal (the client
   * left) and one deadline for the whole call, counted from its start — the
   * nearer of the `timeout` parameter and `limitMs` (the command's own bound,
   * e.g. name/resolve's dht-timeout), at most 10 minutes; with neither, the
   * node's default per ask
   */
  ask: (limitMs?: number) => AskOptions
  /** the call's file argument (the first multipart part), at most maxBytes; what = its name in errors */
  file: (what: string, maxBytes: number) => Promise<Uint8Array>
}

export type Handler = (call: Call) => Promise<Outcome>
export type Commands = Record<string, Handler>

const BASES: Record<string, NameFormat> = { base36: 'base36', b: 'base36', k: 'base36', base32: 'base32', base58btc: 'base58btc', z: 'base58btc' }

/** kubo's `ipns-base` option (base36 by default) */
export function ipnsBase (params: Params): NameFormat {
  const v = params.string('ipns-base')
  if (v === undefined) return 'base36'
  const base = BASES[v]
  if (base === undefined) throw clientError(`ipns-base must be base36, base32 or base58btc, not '${v}'`)
  return base
}

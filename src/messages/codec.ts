/**
 * The JSON codec of the protocol, used by traces and the HTTP API.
 * JSON has no bytes and no bigint, so they travel tagged:
 *   Uint8Array → { "$bytes": "<base64>" }      bigint → { "$bigint": "<decimal>" }
 *   Error → { "$error": { name, message, code?, cause? } } (a string `code`; the cause encoded the same way)
 * A Failure is plain data and needs no tag: its `cause` chain travels as it is.
 * `undefined` object fields are dropped (as JSON does); everything else is
 * plain JSON. decode(encode(x)) deep-equals x for every protocol value.
 */
import { fromString, toString } from 'uint8arrays'
import { MAX_CAUSE_DEPTH } from './failure.js'

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/** Turn a protocol value into plain JSON data. */
export function toJson (value: unknown, depth = 0): Json {
  if (depth > 64) throw new RangeError('value nests deeper than 64 levels')
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot encode the number ${value}`)
      return value
    case 'bigint':
      return { $bigint: value.toString() }
    case 'object': {
      if (value instanceof Uint8Array) return { $bytes: toString(value, 'base64pad') }
      if (Array.isArray(value)) return value.map(v => toJson(v, depth + 1))
      if (value instanceof Error) return errorToJson(value, depth)
      const out: Record<string, Json> = {}
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined && typeof v !== 'function') out[k] = toJson(v, depth + 1)
      }
      return out
    }
    default:
      throw new TypeError(`cannot encode a ${typeof value}`)
  }
}

/** Turn plain JSON data back into protocol values. */
export function fromJson (json: unknown, depth = 0): unknown {
  if (depth > 64) throw new RangeError('value nests deeper than 64 levels')
  if (json === null || typeof json !== 'object') return json
  if (Array.isArray(json)) return json.map(v => fromJson(v, depth + 1))
  const obj = json as Record<string, unknown>
  const keys = Object.keys(obj)
  if (keys.length === 1) {
    if (typeof obj.$bytes === 'string') return fromString(obj.$bytes, 'base64pad')
    if (typeof obj.$bigint === 'string') {
      if (!/^-?\d+$/.test(obj.$bigint)) throw new SyntaxError(`bad $bigint '${obj.$bigint.slice(0, 40)}'`)
      return BigInt(obj.$bigint)
    }
    if (typeof obj.$error === 'object' && obj.$error !== null) return errorFromJson(obj.$error as Record<string, unknown>, depth)
  }
  const out: Record<string, unknown> = {}
  for (const k of keys) out[k] = fromJson(obj[k], depth + 1)
  return out
}

/** an Error and its cause chain, MAX_CAUSE_DEPTH causes deep (a cycle ends there); a cause that is not an Error travels as its string form unless it is a primitive */
function errorToJson (err: Error, depth: number, level = 0): Json {
  const e: Record<string, Json> = { name: err.name, message: err.message }
  const code: unknown = (err as { code?: unknown }).code
  if (typeof code === 'string') e.code = code
  const cause: unknown = err.cause
  if (cause !== undefined && cause !== null && level < MAX_CAUSE_DEPTH) {
    if (cause instanceof Error) e.cause = errorToJson(cause, depth + 1, level + 1)
    else if (typeof cause === 'string' || typeof cause === 'boolean' || (typeof cause === 'number' && Number.isFinite(cause))) e.cause = cause
    else e.cause = String(cause)
  }
  return { $error: e }
}

function errorFromJson (e: Record<string, unknown>, depth: number): Error {
  const options = e.cause === undefined ? undefined : { cause: fromJson(e.cause, depth + 1) }
  const err = new Error(typeof e.message === 'string' ? e.message : '', options)
  err.name = typeof e.name === 'string' ? e.name : 'Error'
  if (typeof e.code === 'string') Object.assign(err, { code: e.code })
  return err
}

export function encode (value: unknown): string {
  return JSON.stringify(toJson(value))
}

export function decode (text: string): unknown {
  return fromJson(JSON.parse(text))
}

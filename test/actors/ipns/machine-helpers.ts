/**
 * Drives the IPNS machines directly, without an actor or a network: the
 * effects are provided (machine.provide) as recorders, events are sent by the
 * test, and every microstep's state is kept so a test can assert the exact
 * path through the lifecycle (eventless `always` transitions included).
 * XState reports no microstep for entering the initial state, so the list
 * starts with the machine's configured initial state.
 */
import { expect } from 'vitest'
import { assign, createActor } from 'xstate'
import { nameFromPublicKey } from '../../../src/records/name.js'
import { generateEd25519Signer } from '../../../src/records/ed25519.js'
import { resolveMachine } from '../../../src/actors/ipns/resolve-machine.js'
import { publishMachine } from '../../../src/actors/ipns/publish-machine.js'
import type { Actor } from 'xstate'
import type { HopResult, ResolveInput, ResolveMachine } from '../../../src/actors/ipns/resolve-machine.js'
import type { PublishInput, PublishMachine } from '../../../src/actors/ipns/publish-machine.js'
import type { VerifiedRecord } from '../../../src/messages/records.js'
import type { ResolveReply } from '../../../src/messages/ipns.js'

/** a fixed "now" (ms) for validity arithmetic */
export const T0 = Date.UTC(2030, 0, 1)
export const HOUR = 3_600_000

/** A real base36 IPNS name (Ed25519, identity multihash) from a small seed. */
export function testName (seed: number): string {
  const bytes = new Uint8Array(32)
  bytes[0] = seed & 0xff
  bytes[1] = (seed >> 8) & 0xff
  bytes[31] = 0x5a
  return nameFromPublicKey(generateEd25519Signer(bytes).publicKey).format('base36')
}

export function fields (value: string, sequence: bigint | number, o: { validityMs?: number, ttlMs?: number, v1?: boolean } = {}): VerifiedRecord {
  const validityMs = o.validityMs ?? T0 + 48 * HOUR
  return {
    value,
    sequence: BigInt(sequence),
    validity: new Date(validityMs).toISOString(),
    validityMs,
    validityType: 0,
    ttl: BigInt(o.ttlMs ?? 300_000) * 1_000_000n,
    keyType: 'Ed25519',
    hasPubKey: false,
    hasV1Signature: o.v1 ?? true
  }
}

/** Record bytes for a label (the machine only uses them as opaque keys). */
export function bytesOf (label: string): Uint8Array {
  return new TextEncoder().encode(`record:${label}`)
}

export function keyOf (label: string): string {
  return Buffer.from(bytesOf(label)).toString('base64')
}

export type Effect =
  | { effect: 'readRepo', name: string, hops: number }
  | { effect: 'startQuery', name: string, hops: number, offline: boolean }
  | { effect: 'stopQuery', name: string }
  | { effect: 'verify', name: string, key: string }
  | { effect: 'keep', hop: HopResult }
  | { effect: 'takeCached', name: string }

export interface ResolveDriver {
  actor: Actor<ResolveMachine>
  effects: Effect[]
  /** every state the machine was in, microstep by microstep (repeats collapsed) */
  states: string[]
  count: (effect: Effect['effect']) => number
  state: () => string
  value: (label: string, from: string) => void
  verified: (label: string, f: VerifiedRecord) => void
  rejected: (label: string, code?: string) => void
  end: (failure?: { kind: 'timeout' | 'aborted' | 'failed', message: string }) => void
  soft: () => void
  /** a record of the repo (with `repo: 'manual'`): stored at `receivedAt` */
  stored: (label: string, receivedAt?: number) => void
  /** the repo has answered (with `repo: 'manual'`), read at `wall` */
  repoEnd: (wall?: number) => void
}

export interface DriveOptions {
  /** 'empty' (default): every hop's repo read answers at once with nothing; 'manual': the test sends stored()/repoEnd() */
  repo?: 'empty' | 'manual'
}

const stateName = (value: unknown): string => typeof value === 'string' ? value : JSON.stringify(value)

export function driveResolve (input: Partial<ResolveInput> & { name: string }, cache: Map<string, HopResult> = new Map(), o: DriveOptions = {}): ResolveDriver {
  const effects: Effect[] = []
  // set once the actor exists; readRepo runs only after that
  const self: { actor?: Actor<ResolveMachine> } = {}
  const states: string[] = [String(resolveMachine.config.initial)]
  const machine = resolveMachine.provide({
    guards: {
      cached: ({ context }) => !context.nocache && !(context.live && context.hops === 0) && cache.has(context.name)
    },
    actions: {
      readRepo: ({ context }) => {
        effects.push({ effect: 'readRepo', name: context.name, hops: context.hops })
        // queued by the actor: processed once this step is over
        if (o.repo !== 'manual') self.actor?.send({ type: 'REPO_END', wall: T0 })
      },
      startQuery: ({ context }) => { effects.push({ effect: 'startQuery', name: context.name, hops: context.hops, offline: context.offline }) },
      stopQuery: ({ context }) => { effects.push({ effect: 'stopQuery', name: context.name }) },
      requestVerify: ({ context }, params) => { effects.push({ effect: 'verify', name: context.name, key: params.key }) },
      keep: ({ context }) => { if (context.hop !== undefined) effects.push({ effect: 'keep', hop: context.hop }) },
      takeCached: assign(({ context }) => {
        effects.push({ effect: 'takeCached', name: context.name })
        const hop = cache.get(context.name)
        return { hop: hop === undefined ? undefined : { ...hop, source: 'cache' as const, stale: [] } }
      })
    }
  })
  const actor = createActor(machine, {
    input: { id: 'q1', rest: '', quorum: 16, nocache: false, offline: false, recursive: true, ...input },
    inspect: ev => {
      if (ev.type !== '@xstate.microstep' && ev.type !== '@xstate.snapshot') return
      const s = stateName((ev.snapshot as unknown as { value: unknown }).value)
      if (states.at(-1) !== s) states.push(s)
    }
  })
  self.actor = actor
  actor.start()
  return {
    actor,
    effects,
    states,
    count: e => effects.filter(x => x.effect === e).length,
    state: () => stateName(actor.getSnapshot().value),
    value: (label, from) => { actor.send({ type: 'VALUE', key: keyOf(label), value: bytesOf(label), from }) },
    verified: (label, f) => { actor.send({ type: 'VERIFIED', key: keyOf(label), fields: f }) },
    rejected: (label, code = 'bad-signature') => { actor.send({ type: 'REJECTED', key: keyOf(label), code }) },
    end: failure => { actor.send(failure === undefined ? { type: 'QUERY_END' } : { type: 'QUERY_END', failure }) },
    soft: () => { actor.send({ type: 'SOFT_DEADLINE' }) },
    stored: (label, receivedAt = T0) => { actor.send({ type: 'STORED', key: keyOf(label), value: bytesOf(label), receivedAt }) },
    repoEnd: (wall = T0) => { actor.send({ type: 'REPO_END', wall }) }
  }
}

export type PublishEffect = 'loadKey' | 'loadSeen' | 'sign' | 'store' | 'put'

export interface PublishDriver {
  actor: Actor<PublishMachine>
  effects: PublishEffect[]
  states: string[]
  state: () => string
}

export function drivePublish (input: Partial<PublishInput> = {}): PublishDriver {
  const effects: PublishEffect[] = []
  const states: string[] = [String(publishMachine.config.initial)]
  const machine = publishMachine.provide({
    actions: {
      loadKey: () => { effects.push('loadKey') },
      loadSeen: () => { effects.push('loadSeen') },
      sign: () => { effects.push('sign') },
      store: () => { effects.push('store') },
      put: () => { effects.push('put') }
    }
  })
  const actor = createActor(machine, {
    input: { id: 'p1', key: 'self', value: '/ipfs/bafkqaaa', lifetimeMs: undefined, ttlMs: undefined, offline: false, ...input },
    inspect: ev => {
      if (ev.type !== '@xstate.microstep' && ev.type !== '@xstate.snapshot') return
      const s = stateName((ev.snapshot as unknown as { value: unknown }).value)
      if (states.at(-1) !== s) states.push(s)
    }
  })
  actor.start()
  return { actor, effects, states, state: () => stateName(actor.getSnapshot().value) }
}

/** the reply of a resolve machine that ended in `done` (fails the test otherwise) */
export function resultOf (d: ResolveDriver): ResolveReply {
  const snap = d.actor.getSnapshot()
  expect(snap.status).toBe('done')
  expect(snap.value).toBe('done')
  const r = snap.context.result
  if (r === undefined) throw new Error('no result')
  expect(snap.context.failure).toBeUndefined()
  return r
}

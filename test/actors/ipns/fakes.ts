/**
 * Small fake actors around the IPNS actor, on the simulated clock: a swarm
 * (dht.getValues streams scripted per name, dht.put), a verifier (verdicts
 * looked up by record bytes), a store (a Map), and keys (key.list,
 * record.create making opaque records the fake verifier knows). Every timer
 * goes through ctx.after; every command and cancel they see is logged.
 */
import { afterEach } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { failure } from '../../../src/messages/failure.js'
import { nameFromRoutingKey } from '../../../src/records/name.js'
import { ipnsActor } from '../../../src/actors/ipns/ipns-actor.js'
import { harness, RecordingTrace } from '../../helpers/sim.js'
import { fields, T0 } from './machine-helpers.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import type { ActorContext, ActorDefinition } from '../../../src/actors/runtime/actor.js'
import type { IpnsActorOptions } from '../../../src/actors/ipns/ipns-actor.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { Failure } from '../../../src/messages/failure.js'
import type { KeyInfo, KeyList } from '../../../src/messages/keys.js'
import type { CreatedRecordReply, RecordCreate, RecordVerify, VerifiedRecord } from '../../../src/messages/records.js'
import type { StoredRecord, StoreGet, StoreList, StorePut } from '../../../src/messages/store.js'
import type { DhtGetValues, DhtPut, DhtPutTo } from '../../../src/messages/swarm.js'
import type { SimHarness } from '../../helpers/sim.js'

export type FakeMode = 'prompt' | 'never' | 'slow'

export interface Answer {
  record: Uint8Array
  from: string
  /** ms after the query starts */
  atMs: number
}

export interface NameScript {
  answers: Answer[]
  /** when the query ends by itself (ms after start); 'hang' = only when cancelled */
  endMs: number | 'hang'
  /** end with this failure instead of normally */
  failure?: Failure
}

export interface World {
  mode: FakeMode
  /** 'slow' mode: every answer comes this late */
  lateMs: number
  network: Map<string, NameScript>
  /** base64 of record bytes → fields, or the failed rule's code */
  verdicts: Map<string, VerifiedRecord | string>
  store: Map<string, StoredRecord>
  keys: KeyInfo[]
  verifyDelayMs: number
  /** 'hang': verification never answers */
  verifyHang: boolean
  putPeers: number
  /** how long a dht.put takes (default 3 ms) */
  putDelayMs?: number
  putFailure: Failure | undefined
  storeFailure: Failure | undefined
  createFailure: Failure | undefined
  /** called by the fake verifier right after it answered (the reply is already in the asker's mailbox) */
  afterVerify: ((record: Uint8Array) => void) | undefined
  /** set by the fake swarm: send one more item on the open dht.getValues stream of a name, now */
  push: ((name: string, record: Uint8Array, from: string) => boolean) | undefined
  log: {
    getValues: Array<{ id: string, name: string, at: number }>
    cancels: Array<{ actor: string, id: string, type: string }>
    verifies: Array<{ id: string, name: string }>
    puts: Array<{ name: string, value: Uint8Array, peers?: string[] }>
    storeGets: Array<{ kind: string, name: string }>
    storePuts: StoredRecord[]
    creates: RecordCreate[]
    keyLists: number
  }
}

export function newWorld (mode: FakeMode = 'prompt', lateMs = 5_000): World {
  return {
    mode,
    lateMs,
    network: new Map(),
    verdicts: new Map(),
    store: new Map(),
    keys: [],
    verifyDelayMs: 1,
    verifyHang: false,
    putPeers: 5,
    putFailure: undefined,
    storeFailure: undefined,
    createFailure: undefined,
    afterVerify: undefined,
    push: undefined,
    log: { getValues: [], cancels: [], verifies: [], puts: [], storeGets: [], storePuts: [], creates: [], keyLists: 0 }
  }
}

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

/** Opaque record bytes the fake verifier answers for with these fields (or a rejection code). */
export function record (world: World, label: string, verdict: VerifiedRecord | string): Uint8Array {
  const bytes = new TextEncoder().encode(`fake-record:${label}`)
  world.verdicts.set(b64(bytes), verdict)
  return bytes
}

/** What the network answers for a name: each peer's record at a time, then the end. */
export function answer (world: World, name: string, answers: Array<[Uint8Array, string, number?]>, endMs: number | 'hang' = 'auto' as unknown as number): void {
  const list = answers.map(([rec, from, atMs], i) => ({ record: rec, from, atMs: atMs ?? i + 1 }))
  const last = list.reduce((m, a) => Math.max(m, a.atMs), 0)
  world.network.set(name, { answers: list, endMs: (endMs as unknown) === 'auto' ? last + 1 : endMs })
}

type Delay = (ms: number) => number | undefined

/** the delay an answer really takes in this mode (undefined: never) */
const delayIn = (world: World): Delay => ms => world.mode === 'never' ? undefined : world.mode === 'slow' ? world.lateMs : ms

type Timed = { type: 'fire', id: string, what: () => void }

function timers (ctx: ActorContext<Timed>, world: World): { at: (id: string, ms: number | undefined, what: () => void) => void, cancel: (id: string) => void } {
  const pending = new Map<string, Array<() => void>>()
  return {
    at: (id, ms, what) => {
      if (ms === undefined) return
      const cancel = ctx.after(ms, { type: 'fire', id, what })
      pending.set(id, [...(pending.get(id) ?? []), cancel])
    },
    cancel: id => {
      // 'slow' fakes answer late whatever happened (the late answer must become a dead letter)
      if (world.mode === 'slow') return
      for (const c of pending.get(id) ?? []) c()
      pending.delete(id)
    }
  }
}

// the fake messages carry closures: fine here, these fakes are never traced to a file or replayed

export function fakeSwarm (world: World): ActorDefinition<DhtGetValues | DhtPut | DhtPutTo, Timed> {
  const delay = delayIn(world)
  return defineActor<DhtGetValues | DhtPut | DhtPutTo, Timed>({
    name: 'swarm',
    commands: ['dht.put', 'dht.putTo'],
    streams: ['dht.getValues'],
    start: ctx => {
      const t = timers(ctx, world)
      const types = new Map<string, string>()
      const open = new Map<string, string>()
      world.push = (name, rec, from) => {
        const id = open.get(name)
        return id !== undefined && ctx.next(id, { value: rec, from })
      }
      return {
        receive: msg => {
          if (msg.kind === 'internal') {
            msg.msg.what()
            return
          }
          if (msg.kind === 'cancel') {
            world.log.cancels.push({ actor: 'swarm', id: msg.id, type: types.get(msg.id) ?? '?' })
            t.cancel(msg.id)
            return
          }
          const { id, command } = msg.env
          types.set(id, command.type)
          const key = typeof command.key === 'string' ? new TextEncoder().encode(command.key) : command.key
          const name = nameFromRoutingKey(key).format('base36')
          if (command.type === 'dht.put' || command.type === 'dht.putTo') {
            world.log.puts.push({ name, value: command.value, ...(command.type === 'dht.putTo' ? { peers: command.peers } : {}) })
            t.at(id, delay(world.putDelayMs ?? 3), () => {
              if (world.putFailure !== undefined) ctx.fail(id, world.putFailure)
              else ctx.reply(id, { peers: world.putPeers })
            })
            return
          }
          world.log.getValues.push({ id, name, at: ctx.clock.now() })
          open.set(name, id)
          const script = world.network.get(name) ?? { answers: [], endMs: 1 }
          for (const a of script.answers) {
            t.at(id, delay(a.atMs), () => { ctx.next(id, { value: a.record, from: a.from }) })
          }
          if (script.endMs !== 'hang') {
            t.at(id, delay(script.endMs), () => {
              if (script.failure !== undefined) ctx.fail(id, script.failure)
              else ctx.end(id)
            })
          }
        }
      }
    }
  })
}

export function fakeVerifier (world: World): ActorDefinition<RecordVerify, Timed> {
  const delay = delayIn(world)
  return defineActor<RecordVerify, Timed>({
    name: 'verifier',
    commands: ['record.verify'],
    start: ctx => {
      const t = timers(ctx, world)
      return {
        receive: msg => {
          if (msg.kind === 'internal') {
            msg.msg.what()
            return
          }
          if (msg.kind === 'cancel') {
            world.log.cancels.push({ actor: 'verifier', id: msg.id, type: 'record.verify' })
            t.cancel(msg.id)
            return
          }
          const { id, command } = msg.env
          world.log.verifies.push({ id, name: command.name })
          if (world.verifyHang) return
          t.at(id, delay(world.verifyDelayMs), () => {
            const v = world.verdicts.get(b64(command.record))
            if (v === undefined) ctx.fail(id, failure('invalid-record', 'unknown record', { code: 'bad-signature' }))
            else if (typeof v === 'string') ctx.fail(id, failure('invalid-record', `rejected: ${v}`, { code: v }))
            else ctx.reply(id, v)
            world.afterVerify?.(command.record)
          })
        }
      }
    }
  })
}

export function fakeStore (world: World): ActorDefinition<StorePut | StoreGet | StoreList, Timed> {
  const delay = delayIn(world)
  return defineActor<StorePut | StoreGet | StoreList, Timed>({
    name: 'store',
    commands: ['store.put', 'store.get', 'store.list'],
    start: ctx => {
      const t = timers(ctx, world)
      return {
        receive: msg => {
          if (msg.kind === 'internal') {
            msg.msg.what()
            return
          }
          if (msg.kind === 'cancel') {
            world.log.cancels.push({ actor: 'store', id: msg.id, type: 'store' })
            t.cancel(msg.id)
            return
          }
          const { id, command: c } = msg.env
          t.at(id, delay(1), () => {
            if (world.storeFailure !== undefined) {
              ctx.fail(id, world.storeFailure)
              return
            }
            if (c.type === 'store.put') {
              world.log.storePuts.push(c.entry)
              world.store.set(`${c.entry.kind}|${c.entry.name}`, c.entry)
              ctx.reply(id, { stored: true })
            } else if (c.type === 'store.get') {
              world.log.storeGets.push({ kind: c.kind, name: c.name })
              const e = world.store.get(`${c.kind}|${c.name}`)
              if (e === undefined) ctx.fail(id, failure('not-found', `no ${c.kind} record for ${c.name}`))
              else ctx.reply(id, e)
            } else {
              ctx.reply(id, { entries: [...world.store.values()].filter(e => e.kind === c.kind) })
            }
          })
        }
      }
    }
  })
}

export function fakeKeys (world: World): ActorDefinition<KeyList | RecordCreate, Timed> {
  const delay = delayIn(world)
  return defineActor<KeyList | RecordCreate, Timed>({
    name: 'keys',
    commands: ['key.list', 'record.create'],
    start: ctx => {
      const t = timers(ctx, world)
      return {
        receive: msg => {
          if (msg.kind === 'internal') {
            msg.msg.what()
            return
          }
          if (msg.kind === 'cancel') {
            world.log.cancels.push({ actor: 'keys', id: msg.id, type: 'keys' })
            t.cancel(msg.id)
            return
          }
          const { id, command: c } = msg.env
          t.at(id, delay(1), () => {
            if (c.type === 'key.list') {
              world.log.keyLists++
              ctx.reply(id, { keys: world.keys })
              return
            }
            world.log.creates.push(c)
            if (world.createFailure !== undefined) {
              ctx.fail(id, world.createFailure)
              return
            }
            const key = world.keys.find(k => k.name === (c.key ?? 'self'))
            if (key === undefined) {
              ctx.fail(id, failure('not-found', `no key named ${c.key ?? 'self'}`))
              return
            }
            const sequence = BigInt(c.sequence ?? 0)
            const f = fields(c.value, sequence, { validityMs: ctx.clock.wall() + (c.lifetimeMs ?? 48 * 3_600_000), ttlMs: c.ttlMs ?? 300_000 })
            const bytes = record(world, `${key.ipnsName}:${sequence}:${c.value}`, f)
            const reply: CreatedRecordReply = { name: key.ipnsName, record: bytes, value: c.value, sequence, validity: f.validity }
            ctx.reply(id, reply)
          })
        }
      }
    }
  })
}

export function keyInfo (name: string, ipnsName: string): KeyInfo {
  return { name, type: 'Ed25519', peerId: `12D3KooW${name}`, ipnsName }
}

export interface IpnsRig {
  world: World
  h: SimHarness
  clock: SimulatedClock
  trace: RecordingTrace
  system: ActorSystem
  /** the ipns actor's status detail */
  ipnsStatus: () => Record<string, unknown> & { rejected: Record<string, number>, inFlight: number, cached: number }
}

/** A system on the simulated clock with the IPNS actor and the four fakes. */
export function buildIpnsSystem (world: World, options: IpnsActorOptions, clock: SimulatedClock, trace: RecordingTrace, seed = 1): ActorSystem {
  const system = new ActorSystem({ clock, trace, seed })
  system.spawn(fakeSwarm(world) as unknown as ActorDefinition<BaseCommand, unknown>)
  system.spawn(fakeVerifier(world) as unknown as ActorDefinition<BaseCommand, unknown>)
  system.spawn(fakeStore(world) as unknown as ActorDefinition<BaseCommand, unknown>)
  system.spawn(fakeKeys(world) as unknown as ActorDefinition<BaseCommand, unknown>)
  system.spawn(ipnsActor(options) as unknown as ActorDefinition<BaseCommand, unknown>)
  return system
}

export function rig (options: IpnsActorOptions = {}, world: World = newWorld(), clock: SimulatedClock = new SimulatedClock(T0), trace: RecordingTrace = new RecordingTrace()): IpnsRig {
  const system = buildIpnsSystem(world, options, clock, trace)
  const h = harness(system, clock, trace)
  return {
    world,
    h,
    clock,
    trace,
    system,
    ipnsStatus: () => system.status().actors.find(a => a.name === 'ipns')?.detail as ReturnType<IpnsRig['ipnsStatus']>
  }
}

/** Deliver everything and move virtual time, but never past `ms` from now. */
export async function runFor (h: SimHarness, ms: number): Promise<void> {
  const end = h.clock.now() + ms
  for (let i = 0; i < 100_000; i++) {
    await h.flush()
    const next = h.clock.nextTimerAt()
    if (next === undefined || next > end) break
    h.clock.advanceTo(next)
  }
  h.clock.advanceTo(end)
  await h.flush()
}

/** A `rig` maker for a test file: each test's rig is stopped after it. */
export function rigPerTest (): (...args: Parameters<typeof rig>) => IpnsRig {
  let live: IpnsRig | undefined
  afterEach(async () => {
    await live?.system.stop()
    live = undefined
  })
  return (...args) => {
    live = rig(...args)
    return live
  }
}

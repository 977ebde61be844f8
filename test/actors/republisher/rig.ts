/**
 * A republisher on the simulated clock with the real store actor (memory
 * datastore) and scripted stand-ins for the keys and IPNS actors: the fake
 * ipns.publish does what the real one does to the store (next sequence,
 * record signed at the virtual time, stored before the put) and then answers
 * as the test says — peers, a failure, after a virtual delay — counting how
 * many publishes are in flight at once.
 */
import { MemoryDatastore } from 'datastore-core'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import { storeActor } from '../../../src/actors/store/store-actor.js'
import { datastoreRecordStore } from '../../../src/actors/store/record-store.js'
import { republisherActor } from '../../../src/actors/republisher/republisher-actor.js'
import { datastoreRepublishState } from '../../../src/actors/republisher/republish-state.js'
import { failure } from '../../../src/messages/failure.js'
import { createRecord } from '../../../src/records/create.js'
import { generateEd25519Signer } from '../../../src/records/ed25519.js'
import { nameFromPublicKey } from '../../../src/records/name.js'
import { NotFoundError } from '../../../src/messages/errors.js'
import { simSystem } from '../../helpers/sim.js'
import type { ActorDefinition } from '../../../src/actors/runtime/actor.js'
import type { RecordStoreOps } from '../../../src/actors/store/record-store.js'
import type { RepublisherOptions } from '../../../src/actors/republisher/republisher-actor.js'
import type { Failure } from '../../../src/messages/failure.js'
import type { QueryId } from '../../../src/messages/ids.js'
import type { IpnsPublish, PublishReply } from '../../../src/messages/ipns.js'
import type { KeyInfo } from '../../../src/messages/keys.js'
import type { RepublishStatus } from '../../../src/messages/republish.js'
import type { StoredRecord } from '../../../src/messages/store.js'
import type { RecordSigner } from '../../../src/records/signer.js'
import type { SimHarness } from '../../helpers/sim.js'
import type { Datastore } from 'interface-datastore'

export const HOUR = 3_600_000
/** 2026-01-01T00:00:00Z: records carry real-looking EOLs */
export const T0 = Date.UTC(2026, 0, 1)

export interface TestKey {
  keyName: string
  signer: RecordSigner
  /** the IPNS name, base36 */
  name: string
}

export function testKey (keyName: string, n: number): TestKey {
  const seed = new Uint8Array(32).fill(0)
  seed[0] = n + 1
  const signer = generateEd25519Signer(seed)
  return { keyName, signer, name: nameFromPublicKey(signer.publicKey).format('base36') }
}

/** What the fake ipns.publish answers once the record is stored. */
export type PutOutcome = { peers: number } | { fail: Failure }

export interface FakeIpns {
  calls: IpnsPublish[]
  inFlight: number
  maxInFlight: number
  /** per publish: how the put ends (default 3 peers) */
  outcome: (cmd: IpnsPublish, attempt: number) => PutOutcome
  /** virtual ms a put takes (default 0) */
  putDelayMs: number
}

type IpnsMsg = { type: 'signed', id: QueryId, result: { ok: true, value: PublishReply } | { ok: false, failure: Failure } } | { type: 'put', id: QueryId, reply: PublishReply }

async function publishToStore (ops: RecordStoreOps, k: TestKey, cmd: IpnsPublish, now: number): Promise<PublishReply> {
  let seen: bigint | undefined
  try {
    seen = (await ops.get('published', k.name)).sequence
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err
  }
  const sequence = seen === undefined ? 0n : seen + 1n
  const opts: Parameters<typeof createRecord>[2] = { now, sequence }
  if (cmd.lifetimeMs !== undefined) opts.lifetimeMs = cmd.lifetimeMs
  if (cmd.ttlMs !== undefined) opts.ttlNs = BigInt(cmd.ttlMs) * 1_000_000n
  const created = await createRecord(k.signer, cmd.value, opts)
  const entry: StoredRecord = { kind: 'published', name: k.name, record: created.bytes, receivedAt: now, sequence, key: k.keyName, value: cmd.value }
  if (cmd.lifetimeMs !== undefined) entry.lifetimeMs = cmd.lifetimeMs
  if (cmd.ttlMs !== undefined) entry.ttlMs = cmd.ttlMs
  await ops.put(entry)
  return { name: k.name, value: cmd.value, sequence, record: created.bytes, peers: 0 }
}

export function fakeIpnsActor (ops: RecordStoreOps, keys: () => TestKey[], fake: FakeIpns): ActorDefinition<IpnsPublish, IpnsMsg> {
  const attempts = new Map<string, number>()
  const commands = new Map<QueryId, IpnsPublish>()
  return defineActor<IpnsPublish, IpnsMsg>({
    name: 'ipns',
    commands: ['ipns.publish'],
    start: ctx => ({
      receive: msg => {
        if (msg.kind === 'cancel') return
        if (msg.kind === 'command') {
          const { id, command } = msg.env
          fake.calls.push(command)
          commands.set(id, command)
          const k = keys().find(x => x.keyName === (command.key ?? 'self'))
          if (k === undefined) {
            ctx.fail(id, failure('not-found', `no key named '${command.key ?? 'self'}'`))
            return
          }
          fake.inFlight++
          fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight)
          ctx.pipe(publishToStore(ops, k, command, ctx.clock.now()), result => ({ type: 'signed', id, result } as IpnsMsg))
          return
        }
        const m = msg.msg
        if (m.type === 'signed') {
          if (!m.result.ok) {
            fake.inFlight--
            ctx.fail(m.id, m.result.failure)
            return
          }
          if (fake.putDelayMs > 0) ctx.after(fake.putDelayMs, { type: 'put', id: m.id, reply: m.result.value })
          else ctx.self({ type: 'put', id: m.id, reply: m.result.value })
          return
        }
        fake.inFlight--
        const cmd = commands.get(m.id) as IpnsPublish
        const n = (attempts.get(m.reply.name) ?? 0) + 1
        attempts.set(m.reply.name, n)
        const out = fake.outcome(cmd, n)
        if ('fail' in out) ctx.fail(m.id, out.fail)
        else ctx.reply(m.id, { ...m.reply, peers: out.peers })
      }
    })
  })
}

export function fakeKeysActor (keys: () => TestKey[]): ActorDefinition<{ type: 'key.list' }, never> {
  return defineActor<{ type: 'key.list' }, never>({
    name: 'keys',
    commands: ['key.list'],
    start: ctx => ({
      receive: msg => {
        if (msg.kind !== 'command') return
        const list: KeyInfo[] = keys().map(k => ({ name: k.keyName, type: 'Ed25519', peerId: '', ipnsName: k.name }))
        ctx.reply(msg.env.id, { keys: list })
      }
    })
  })
}

export interface Rig {
  h: SimHarness
  ds: Datastore
  ops: RecordStoreOps
  fake: FakeIpns
  keys: TestKey[]
  /** move virtual time to `t`, delivering everything at each timer on the way */
  advanceTo: (t: number) => Promise<void>
  advance: (ms: number) => Promise<void>
  status: () => RepublishStatus
  stop: () => Promise<void>
}

export interface RigOptions {
  seed?: number
  start?: number
  /** share a datastore (a restart over the same repo) */
  ds?: Datastore
  keys?: TestKey[]
  /** runs before the actors start (seed the store) */
  before?: (ops: RecordStoreOps) => Promise<void>
  /** deliver the start-up messages before returning (default true) */
  settle?: boolean
  /** false: no republisher */
  republish?: RepublisherOptions | false
}

export async function rig (o: RigOptions = {}): Promise<Rig> {
  const clock = new SimulatedClock(o.start ?? T0)
  const h = simSystem({ clock, seed: o.seed ?? 1, defaultTimeoutMs: 30_000 })
  const ds = o.ds ?? new MemoryDatastore()
  const ops = datastoreRecordStore(ds)
  const keys = o.keys ?? []
  const fake: FakeIpns = { calls: [], inFlight: 0, maxInFlight: 0, outcome: () => ({ peers: 3 }), putDelayMs: 0 }
  await o.before?.(ops)
  h.system.spawn(storeActor({ ops }))
  h.system.spawn(fakeKeysActor(() => keys))
  h.system.spawn(fakeIpnsActor(ops, () => keys, fake))
  if (o.republish !== false) h.system.spawn(republisherActor({ startDelayMs: 60_000, ...o.republish, state: datastoreRepublishState(ds) }))
  const advanceTo = async (t: number): Promise<void> => {
    await h.flush()
    for (;;) {
      const next = clock.nextTimerAt()
      if (next === undefined || next > t) break
      clock.advanceTo(next)
      await h.flush()
    }
    clock.advanceTo(t)
    await h.flush()
  }
  const status = (): RepublishStatus => {
    const a = h.system.status().actors.find(x => x.name === 'republisher')
    return a?.detail as unknown as RepublishStatus
  }
  if (o.settle !== false) await h.flush()
  return {
    h, ds, ops, fake, keys, advanceTo, advance: async ms => { await advanceTo(clock.now() + ms) }, status, stop: async () => { await h.system.stop() }
  }
}

/** Store a published record as ipns.publish would have, signed at `at`. */
export async function seedPublished (ops: RecordStoreOps, k: TestKey, value: string, at: number, o: { lifetimeMs?: number, ttlMs?: number, sequence?: bigint } = {}): Promise<StoredRecord> {
  const sequence = o.sequence ?? 0n
  const opts: Parameters<typeof createRecord>[2] = { now: at, sequence }
  if (o.lifetimeMs !== undefined) opts.lifetimeMs = o.lifetimeMs
  if (o.ttlMs !== undefined) opts.ttlNs = BigInt(o.ttlMs) * 1_000_000n
  const created = await createRecord(k.signer, value, opts)
  const entry: StoredRecord = { kind: 'published', name: k.name, record: created.bytes, receivedAt: at, sequence, key: k.keyName, value }
  if (o.lifetimeMs !== undefined) entry.lifetimeMs = o.lifetimeMs
  if (o.ttlMs !== undefined) entry.ttlMs = o.ttlMs
  await ops.put(entry)
  return entry
}

export const CID_A = '/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
export const CID_B = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

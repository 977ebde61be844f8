/**
 * The lifecycle of one IPNS publish. The machine decides; the IPNS actor does
 * (machine.provide), and results come back as events.
 *
 *   preparing ──key + previous records──▶ signing ──▶ storing ──offline──▶ done
 *       │                                   │           │
 *       └──────────── failure ──────────────┴───────────┴──▶ putting ──▶ done
 *                                                                └─▶ failed
 *
 * The sequence is one above the highest this repo has seen for the name
 * (published or resolved), so a publish never goes backwards. The record is
 * durable in the repo before the DHT put starts, and the publish is
 * acknowledged only after both.
 */
import { assign, setup } from 'xstate'
import type { Failure } from '../../messages/failure.js'
import type { PublishReply } from '../../messages/ipns.js'
import type { CreatedRecordReply } from '../../messages/records.js'

export interface PublishInput {
  id: string
  key: string
  value: string
  lifetimeMs: number | undefined
  ttlMs: number | undefined
  offline: boolean
}

export interface PublishContext extends PublishInput {
  /** the key's IPNS name, once known */
  name: string | undefined
  /** replies still awaited while preparing */
  awaiting: number
  /** highest sequence seen for the name, if any */
  seen: bigint | undefined
  created: CreatedRecordReply | undefined
  peers: number
  result: PublishReply | undefined
  failure: Failure | undefined
}

export type PublishEvent =
  | { type: 'KEY', name: string }
  | { type: 'SEEN', sequence: bigint | undefined }
  | { type: 'SIGNED', created: CreatedRecordReply }
  | { type: 'STORED' }
  | { type: 'PUT', peers: number }
  | { type: 'FAILED', failure: Failure }

export interface PublishEffects {
  /** ask the keys actor for the key's name (answers KEY or FAILED) */
  loadKey: (ctx: PublishContext) => void
  /** look up the stored published and resolved records of the name (answers SEEN, twice) */
  loadSeen: (ctx: PublishContext) => void
  sign: (ctx: PublishContext) => void
  store: (ctx: PublishContext) => void
  put: (ctx: PublishContext) => void
}

export const publishMachine = setup({
  types: {
    context: {} as PublishContext,
    events: {} as PublishEvent,
    input: {} as PublishInput
  },
  actions: {
    loadKey: () => {},
    loadSeen: () => {},
    sign: () => {},
    store: () => {},
    put: () => {},
    setName: assign(({ event }) => event.type === 'KEY' ? { name: event.name } : {}),
    addSeen: assign(({ context, event }) => {
      if (event.type !== 'SEEN') return {}
      const seen = event.sequence === undefined ? context.seen : context.seen === undefined || event.sequence > context.seen ? event.sequence : context.seen
      return { seen, awaiting: context.awaiting - 1 }
    }),
    setCreated: assign(({ event }) => event.type === 'SIGNED' ? { created: event.created } : {}),
    setPeers: assign(({ event }) => event.type === 'PUT' ? { peers: event.peers } : {}),
    setFailure: assign(({ event }) => event.type === 'FAILED' ? { failure: event.failure } : {}),
    finish: assign(({ context }) => {
      const c = context.created
      if (c === undefined) return {}
      return { result: { name: c.name, value: c.value, sequence: c.sequence, record: c.record, peers: context.peers } }
    })
  },
  guards: {
    ready: ({ context }) => context.name !== undefined && context.awaiting === 0,
    offline: ({ context }) => context.offline
  }
}).createMachine({
  id: 'ipns-publish',
  context: ({ input }) => ({
    ...input,
    name: undefined,
    awaiting: 2,
    seen: undefined,
    created: undefined,
    peers: 0,
    result: undefined,
    failure: undefined
  }),
  initial: 'preparing',
  on: {
    FAILED: { target: '.failed', actions: 'setFailure' }
  },
  states: {
    preparing: {
      initial: 'key',
      states: {
        key: {
          entry: 'loadKey',
          on: { KEY: { target: 'seen', actions: 'setName' } }
        },
        seen: {
          entry: 'loadSeen',
          on: { SEEN: { actions: 'addSeen' } },
          always: { guard: 'ready', target: '#ipns-publish.signing' }
        }
      }
    },
    signing: {
      entry: 'sign',
      on: { SIGNED: { target: 'storing', actions: 'setCreated' } }
    },
    storing: {
      entry: 'store',
      on: {
        STORED: [
          { guard: 'offline', target: 'done' },
          { target: 'putting' }
        ]
      }
    },
    putting: {
      entry: 'put',
      on: { PUT: { target: 'done', actions: 'setPeers' } }
    },
    done: { type: 'final', entry: 'finish' },
    failed: { type: 'final' }
  }
})

export type PublishMachine = typeof publishMachine

/** The sequence a publish uses: one above the highest seen, or 0. */
export function nextSequence (seen: bigint | undefined): bigint {
  return seen === undefined ? 0n : seen + 1n
}

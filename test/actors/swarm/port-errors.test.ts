/**
 * The DhtPort's error union (port-errors.ts): every class becomes the Failure
 * kind dht-port.ts and docs/messages.md give it, by class and not by name;
 * toPortError classifies libp2p's errors once, keeping them as cause; and the
 * swarm actor hands each kind, with its cause, to the asker.
 */
import { describe, expect, it } from 'vitest'
import {
  abortError, DhtPortError, PortAbortError, PortFailedError, PortInvalidParametersError, PortInvalidRecordError,
  PortNotFoundError, PortNotStartedError, PortOverloadedError, PortTimeoutError, toPortError
} from '../../../src/actors/swarm/port-errors.js'
import { GateFullError } from '../../../src/actors/swarm/dht-client/kad-rpc.js'
import { swarmActor } from '../../../src/actors/swarm/swarm-actor.js'
import { errorToFailure, FailedError, InvalidRecordError } from '../../../src/messages/errors.js'
import { FakeDhtPort, PEER_A, PEER_D } from '../../helpers/fake-dht-port.js'
import { rejection, simSystem } from '../../helpers/sim.js'
import type { AnyDhtPortError, PortErrorReason } from '../../../src/actors/swarm/port-errors.js'
import type { FailureKind } from '../../../src/messages/failure.js'

const libp2p = (name: string, message: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(message), { name, ...extra })

/** the table of dht-port.ts: one member of each class, the reason and the Failure kind it must become */
const TABLE: Array<[AnyDhtPortError, PortErrorReason, FailureKind]> = [
  [new PortAbortError('aborted'), 'aborted', 'aborted'],
  [new PortTimeoutError('dial timed out'), 'timeout', 'timeout'],
  [new PortNotFoundError('peer x not found'), 'not-found', 'not-found'],
  [new PortNotStartedError(), 'not-started', 'failed'],
  [new PortInvalidParametersError('invalid CID'), 'invalid-parameters', 'failed'],
  [new PortInvalidRecordError('bad-signature', 'does not verify'), 'invalid-record', 'invalid-record'],
  [new PortOverloadedError('too many waiting'), 'overloaded', 'overloaded'],
  [new PortFailedError('stream reset', { name: 'StreamResetError' }), 'failed', 'failed']
]

describe('the DhtPort error union', () => {
  it.each(TABLE)('%s: reason %s, Failure kind %s', (err, reason, kind) => {
    expect(err).toBeInstanceOf(DhtPortError)
    expect(err.reason).toBe(reason)
    expect(errorToFailure(err).kind).toBe(kind)
  })

  it('the kind follows the class, not the name', () => {
    // a failed libp2p operation whose error is named like one of ours stays failed, and the reverse
    const named = new PortFailedError('peer store miss', { name: 'NotFoundError' })
    expect(errorToFailure(named).kind).toBe('failed')
    const notFound = new PortNotFoundError('gone')
    Object.defineProperty(notFound, 'name', { value: 'SomethingElse' })
    expect(errorToFailure(notFound).kind).toBe('not-found')
  })

  it('an invalid record keeps its rule as the Failure code', () => {
    expect(errorToFailure(new PortInvalidRecordError('too-large', 'big'))).toMatchObject({ kind: 'invalid-record', code: 'too-large' })
    expect(errorToFailure(new PortInvalidRecordError(undefined, 'other key')).code).toBeUndefined()
  })
})

describe('toPortError: libp2p errors classified once, kept as cause', () => {
  it.each([
    ['AbortError', PortAbortError], ['TimeoutError', PortTimeoutError], ['NotFoundError', PortNotFoundError],
    ['NotStartedError', PortNotStartedError], ['InvalidParametersError', PortInvalidParametersError],
    ['InvalidRecordError', PortInvalidRecordError], ['DialError', PortFailedError], ['Error', PortFailedError]
  ] as const)('%s → %s', (name, cls) => {
    const original = libp2p(name, `libp2p says ${name}`)
    const err = toPortError(original)
    expect(err).toBeInstanceOf(cls)
    expect(err.cause).toBe(original)
    expect(err.message).toBe(original.message)
  })

  it('a failed operation keeps libp2p\'s name and its whole chain', () => {
    const refused = libp2p('Error', 'connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' })
    const dial = new AggregateError([refused, libp2p('Error', 'no route')], 'all multiaddr dials failed')
    const err = toPortError(libp2p('DialError', 'dial failed', { cause: dial }))
    expect(err).toBeInstanceOf(PortFailedError)
    expect(err.name).toBe('DialError')
    expect(errorToFailure(err)).toEqual({
      kind: 'failed',
      message: 'dial failed',
      cause: {
        name: 'DialError',
        message: 'dial failed',
        cause: {
          name: 'AggregateError',
          message: 'all multiaddr dials failed',
          errors: [{ name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' }, { name: 'Error', message: 'no route' }]
        }
      }
    })
  })

  it('a fired signal wins over whatever libp2p said, and its reason is the cause', () => {
    const c = new AbortController()
    const reason = libp2p('TimeoutError', 'dht.get: deadline exceeded')
    c.abort(reason)
    const err = toPortError(libp2p('StreamResetError', 'reset'), c.signal)
    expect(err).toBeInstanceOf(PortAbortError)
    expect(err.message).toBe('dht.get: deadline exceeded')
    expect(err.cause).toBe(reason)
    expect(abortError(c.signal)).toBeInstanceOf(PortAbortError)
  })

  it('port errors pass through; the gate\'s OverloadedError, our InvalidRecordError (with code) and non-errors are classified by class', () => {
    const own = new PortNotFoundError('x')
    expect(toPortError(own)).toBe(own)
    expect(toPortError(new GateFullError('8192 waiting'))).toBeInstanceOf(PortOverloadedError)
    const invalid = toPortError(new InvalidRecordError('expired', 'the record has expired'))
    expect(invalid).toBeInstanceOf(PortInvalidRecordError)
    expect((invalid as PortInvalidRecordError).code).toBe('expired')
    expect(toPortError('a string')).toBeInstanceOf(PortFailedError)
  })
})

describe('the swarm actor turns each port error into its kind, cause included', () => {
  it.each(TABLE)('%s reaches the asker as the %s / %s failure', async (thrown, _reason, kind) => {
    const h = simSystem()
    h.system.spawn(swarmActor({ port: new FakeDhtPort(PEER_A, { findPeer: async () => { throw thrown } }) }))
    const err = await rejection(h.system.ask({ type: 'dht.findPeer', peerId: PEER_D }))
    expect((err as { kind?: unknown }).kind).toBe(kind)
    expect(err.message).toBe(thrown.message)
  })

  it('a libp2p failure under a port error reaches the host as FailedError.cause', async () => {
    const h = simSystem()
    const libp2pError = libp2p('DialError', 'all dials failed', { cause: libp2p('Error', 'connect ECONNREFUSED', { code: 'ECONNREFUSED' }) })
    h.system.spawn(swarmActor({ port: new FakeDhtPort(PEER_A, { findPeer: async () => { throw toPortError(libp2pError) } }) }))
    const err = await rejection(h.system.ask({ type: 'dht.findPeer', peerId: PEER_D }))
    expect(err).toBeInstanceOf(FailedError)
    const cause = err.cause as Error
    expect([cause.name, cause.message]).toEqual(['DialError', 'all dials failed'])
    const inner = cause.cause as Error & { code?: string }
    expect([inner.name, inner.message, inner.code]).toEqual(['Error', 'connect ECONNREFUSED', 'ECONNREFUSED'])
  })

  it('a port method that throws synchronously fails with FailedError, what it threw as the cause', async () => {
    const h = simSystem()
    const port = new FakeDhtPort(PEER_A)
    port.findPeer = () => { throw new PortNotStartedError() }
    h.system.spawn(swarmActor({ port }))
    const err = await rejection(h.system.ask({ type: 'dht.findPeer', peerId: PEER_D }))
    expect(err).toBeInstanceOf(FailedError)
    expect((err.cause as Error).name).toBe('NotStartedError')
  })
})

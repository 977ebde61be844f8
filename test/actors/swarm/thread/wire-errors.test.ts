import { MessageChannel } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { InvalidRecordError } from '../../../../src/messages/errors.js'
import {
  PortAbortError, PortFailedError, PortInvalidRecordError, PortNotFoundError, PortOverloadedError, PortTimeoutError
} from '../../../../src/actors/swarm/port-errors.js'
import {
  decodePortError, encodePortError, MAX_CAUSE_DEPTH, RemoteCauseError, type WirePortError
} from '../../../../src/actors/swarm/thread/wire-errors.js'

/** Sends the encoded error through a real MessagePort (structured clone) and rebuilds it. */
async function roundTrip (err: unknown, signal?: AbortSignal): Promise<Error> {
  const { port1, port2 } = new MessageChannel()
  try {
    const got = new Promise<WirePortError>((resolve) => { port2.once('message', resolve) })
    port1.postMessage(encodePortError(err, signal))
    return decodePortError(await got)
  } finally {
    port1.close()
    port2.close()
  }
}

function named (name: string, message: string, cause?: unknown): Error {
  const e = new Error(message, cause === undefined ? undefined : { cause })
  e.name = name
  return e
}

describe('port errors across the thread boundary', () => {
  it('rebuilds each class from what libp2p threw in the worker', async () => {
    expect(await roundTrip(named('AbortError', 'aborted'))).toBeInstanceOf(PortAbortError)
    expect(await roundTrip(named('TimeoutError', 'dial timeout'))).toBeInstanceOf(PortTimeoutError)
    expect(await roundTrip(named('NotFoundError', 'no peer'))).toBeInstanceOf(PortNotFoundError)
    expect(await roundTrip(new PortOverloadedError('gate full'))).toBeInstanceOf(PortOverloadedError)
  })

  it('keeps the record rule code and the failed error name', async () => {
    const rec = await roundTrip(new InvalidRecordError('ERR_SIGNATURE_VERIFICATION', 'bad sig'))
    expect(rec).toBeInstanceOf(PortInvalidRecordError)
    expect((rec as PortInvalidRecordError).code).toBe('ERR_SIGNATURE_VERIFICATION')
    expect((rec as PortInvalidRecordError).toFailure().code).toBe('ERR_SIGNATURE_VERIFICATION')
    const dial = await roundTrip(named('DialError', 'no route', named('ECONNREFUSED', 'refused')))
    expect(dial).toBeInstanceOf(PortFailedError)
    expect(dial.name).toBe('DialError')
    expect(dial.message).toBe('no route')
  })

  it('keeps the cause chain: the libp2p error and its own cause', async () => {
    const e = await roundTrip(named('DialError', 'no route', named('ECONNREFUSED', 'refused')))
    const c1 = e.cause as RemoteCauseError
    expect(c1).toBeInstanceOf(RemoteCauseError)
    expect(c1.name).toBe('DialError')
    const c2 = c1.cause as RemoteCauseError
    expect(c2.name).toBe('ECONNREFUSED')
    expect(c2.message).toBe('refused')
  })

  it('an aborted signal in the worker always becomes PortAbortError', async () => {
    const ac = new AbortController()
    ac.abort(new Error('caller gave up'))
    const e = await roundTrip(named('StreamResetError', 'reset'), ac.signal)
    expect(e).toBeInstanceOf(PortAbortError)
    expect(e.message).toBe('caller gave up')
  })

  it('bounds the cause chain', async () => {
    let err: Error = named('Leaf', 'leaf')
    for (let i = 0; i < MAX_CAUSE_DEPTH * 2; i++) err = named('Link', `link ${i}`, err)
    let c: unknown = (await roundTrip(err)).cause
    let depth = 0
    let last = ''
    while (c instanceof Error) { depth++; last = c.name; c = c.cause }
    expect(depth).toBe(MAX_CAUSE_DEPTH + 1)
    expect(last).toBe('TruncatedCause')
  })
})

/**
 * An in-memory RouterPort for tests on the simulated clock: answers from a
 * table at once ('answers'), or never (each request ends only when its
 * signal aborts it).
 */
import { RouterPortError } from '../../../src/actors/routers/router-port.js'
import type { RouterPort, RouterPortPeer } from '../../../src/actors/routers/router-port.js'

/** a signal's abort, as the rejection a port gives */
const untilAborted = async <T>(signal: AbortSignal): Promise<T> => await new Promise<T>((_resolve, reject) => {
  const fail = (): void => { reject(new RouterPortError('aborted', 'aborted')) }
  if (signal.aborted) fail()
  else signal.addEventListener('abort', fail, { once: true })
})

export function tablePort (endpoint: string, answers: boolean, records: Map<string, Uint8Array>, peers: RouterPortPeer[]): RouterPort {
  async function * stream (signal: AbortSignal): AsyncIterable<RouterPortPeer> {
    if (!answers) await untilAborted<never>(signal)
    yield * peers
  }
  return {
    endpoint,
    getIpns: async (name, { signal }) => {
      if (!answers) return await untilAborted(signal)
      const r = records.get(name)
      if (r === undefined) throw new RouterPortError('not-found', `${name}: no record`)
      return r
    },
    putIpns: async (name, record, { signal }) => {
      if (!answers) return await untilAborted(signal)
      records.set(name, record)
    },
    findProviders: (_cid, { signal }) => stream(signal),
    findPeers: (_peer, { signal }) => stream(signal),
    stop: async () => {}
  }
}


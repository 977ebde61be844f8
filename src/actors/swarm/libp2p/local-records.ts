/**
 * The node's own DHT records, as the port's value lookup reads them: the
 * local copy of a key (kad-dht's datastore layout), checked by the key
 * namespace's validator like any peer's answer. A local copy that cannot be
 * read or is invalid is not an error of the lookup (peers may still answer):
 * it is a `kad-dht:query:query-error` progress event from the node itself.
 */
import { Libp2pRecord } from '@libp2p/record'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { abortError, PortAbortError, PortInvalidParametersError, PortInvalidRecordError, PortNotFoundError, toPortError } from '../port-errors.js'
import { errorText, recordKey } from './port-helpers.js'
import type { DhtProgress } from '../dht-port.js'
import type { Validators } from '@libp2p/kad-dht'
import type { Datastore } from 'interface-datastore'

export class LocalRecords {
  constructor (private readonly datastore: Datastore, private readonly validators: Validators, private readonly peerId: string) {}

  async localValue (key: Uint8Array, signal: AbortSignal, onProgress: (event: DhtProgress) => void): Promise<Uint8Array | undefined> {
    let stored: Uint8Array
    try {
      stored = await this.datastore.get(recordKey(key), { signal })
    } catch (err) {
      const e = toPortError(err, signal)
      if (e instanceof PortAbortError) throw e
      if (!(e instanceof PortNotFoundError)) onProgress({ type: 'kad-dht:query:query-error', peer: this.peerId, detail: `local copy unreadable: ${errorText(err)}` })
      return undefined
    }
    try {
      return await this.validRecordValue(key, stored, signal)
    } catch (err) {
      if (signal.aborted) throw abortError(signal)
      onProgress({ type: 'kad-dht:query:query-error', peer: this.peerId, detail: `local copy invalid: ${errorText(err)}` })
      return undefined
    }
  }

  /** Deserializes a libp2p record for key and checks its value with the key namespace's validator. */
  async validRecordValue (key: Uint8Array, bytes: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    const record = Libp2pRecord.deserialize(bytes)
    if (!uint8ArrayEquals(record.key, key)) throw new PortInvalidRecordError(undefined, 'the record answers another key')
    await this.validatorFor(key)(key, record.value, { signal })
    return record.value
  }

  /** The validator of the key's namespace (`/<ns>/…`); PortInvalidParametersError when there is none. */
  validatorFor (key: Uint8Array): Validators[string] {
    const ns = new TextDecoder().decode(key).split('/')[1] ?? ''
    const validate = this.validators[ns]
    if (validate === undefined) throw new PortInvalidParametersError(`no validator for record namespace "${ns}"`)
    return validate
  }
}

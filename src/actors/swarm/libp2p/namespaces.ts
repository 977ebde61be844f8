/**
 * Record namespaces this node's DHT accepts. kad-dht stores and serves only
 * keys of the form `/<namespace>/…` whose namespace has a validator. Out of
 * the box a node accepts `/swarmbus/…`: opaque values up to MAX_VALUE_BYTES,
 * for applications' own data; the IPNS layer registers `ipns`. Hosts may add
 * their own through createNode({ validators, selectors }).
 */
import { InvalidRecordError } from '../../../messages/errors.js'
import { MAX_VALUE_BYTES } from '../validate.js'
import type { Selectors, Validators } from '@libp2p/kad-dht'

export const DATA_NAMESPACE = 'swarmbus'

export function defaultValidators (): Validators {
  return {
    [DATA_NAMESPACE]: (_key, value) => {
      if (value.byteLength > MAX_VALUE_BYTES) {
        throw new InvalidRecordError('too-large', `value is larger than ${MAX_VALUE_BYTES} bytes`)
      }
    }
  }
}

export function defaultSelectors (): Selectors {
  // opaque values carry no order: the first one found is as good as any
  return { [DATA_NAMESPACE]: () => 0 }
}

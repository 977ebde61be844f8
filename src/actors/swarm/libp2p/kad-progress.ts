/**
 * Reduces kad-dht query progress events (and any other libp2p progress
 * event) to the plain DhtProgress shape that crosses the DhtPort seam.
 */
import type { DhtProgress } from '../dht-port.js'
import type { DHTProgressEvents } from '@libp2p/kad-dht'

/** Any progress event libp2p hands to an onProgress callback. */
export interface AnyProgressEvent {
  type: string
  detail?: unknown
}

function isKadEvent (event: AnyProgressEvent): event is DHTProgressEvents {
  return event.type.startsWith('kad-dht:query:') && typeof event.detail === 'object' && event.detail !== null
}

export function toDhtProgress (event: AnyProgressEvent): DhtProgress {
  if (!isKadEvent(event)) {
    return { type: event.type }
  }
  switch (event.type) {
    case 'kad-dht:query:send-query':
      return { type: event.type, peer: event.detail.to.toString(), detail: event.detail.messageName }
    case 'kad-dht:query:peer-response':
      return {
        type: event.type,
        peer: event.detail.from.toString(),
        detail: `${event.detail.messageName} closer=${event.detail.closer.length} providers=${event.detail.providers.length}${event.detail.record != null ? ' record' : ''}`
      }
    case 'kad-dht:query:final-peer':
      return { type: event.type, peer: event.detail.peer.id.toString() }
    case 'kad-dht:query:query-error':
      return { type: event.type, peer: event.detail.from.toString(), detail: `${event.detail.error.name}: ${event.detail.error.message}` }
    case 'kad-dht:query:provider':
      return { type: event.type, peer: event.detail.from.toString(), detail: `providers=${event.detail.providers.length}` }
    case 'kad-dht:query:value':
      return { type: event.type, peer: event.detail.from.toString(), detail: `bytes=${event.detail.value.byteLength}` }
    case 'kad-dht:query:add-peer':
      return { type: event.type, peer: event.detail.peer.toString() }
    case 'kad-dht:query:dial-peer':
      return { type: event.type, peer: event.detail.peer.toString() }
    default:
      return { type: (event as AnyProgressEvent).type }
  }
}

/** The value and sender carried by a 'kad-dht:query:value' progress event (a local hit or a peer's validated record). */
export function valueFromProgress (event: AnyProgressEvent): { value: Uint8Array, from: string } | undefined {
  if (!isKadEvent(event) || event.type !== 'kad-dht:query:value') {
    return undefined
  }
  return { value: event.detail.value, from: event.detail.from.toString() }
}

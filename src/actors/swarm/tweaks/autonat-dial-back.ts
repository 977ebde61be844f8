/**
 * AutoNAT's dial-back on a fresh connection.
 *
 * Why: an AutoNAT v1 server (@libp2p/autonat 3.0) answers "dial me at this
 * address" by calling connectionManager.openConnection(address) and checking
 * that the connection it got has that remote address. The asking peer is
 * always connected already (it asked over a connection), and libp2p 3's
 * openConnection returns an existing connection to a peer unless told
 * `force: true` — so the check fails ("Unexpected remote address"), the
 * server then closes the connection the request came on, and no js-libp2p
 * node can ever confirm another's address. (go-libp2p servers dial back from
 * a separate host and are not affected.)
 *
 * What: AutoNAT is given its components with openConnection forcing a new
 * connection when it dials one address (its dial-back); its random walk,
 * which dials a list of a peer's addresses, is left as it is.
 */
import type { AutoNATComponents } from '@libp2p/autonat'

type ConnectionManager = AutoNATComponents['connectionManager']

export function withFreshDialBack<C extends { connectionManager: ConnectionManager }, S> (factory: (components: C) => S): (components: C) => S {
  return components => {
    const manager = components.connectionManager
    const dialBack = new Proxy(manager, {
      get: (target, prop, receiver) => {
        if (prop !== 'openConnection') return Reflect.get(target, prop, receiver)
        const open: ConnectionManager['openConnection'] = async (peer, options) =>
          await target.openConnection(peer, Array.isArray(peer) ? options : { ...options, force: true })
        return open
      }
    })
    return factory(new Proxy(components, {
      get: (target, prop, receiver) => prop === 'connectionManager' ? dialBack : Reflect.get(target, prop, receiver)
    }))
  }
}

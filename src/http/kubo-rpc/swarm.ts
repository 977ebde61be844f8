/**
 * id, swarm/peers, swarm/connect, version: swarm.status, dht.findPeer,
 * swarm.peers and swarm.dial on the bus. PublicKey is the base64 protobuf
 * public key, read from the peer id where it is inlined (Ed25519,
 * secp256k1); Protocols is empty (the bus does not report them).
 */
import { readFileSync } from 'node:fs'
import { arch, platform } from 'node:os'
import { clientError } from './errors.js'
import { peerIdText } from './routing.js'
import { parseName } from '../../records/name.js'
import type { Commands, VersionInfo } from './call.js'

export const MAX_ADDRS_PER_CALL = 64
/** libp2p's Direction, as kubo numbers it (network.Direction) */
export const DIRECTION = { inbound: 1, outbound: 2 } as const

export function defaultVersion (): VersionInfo {
  let version = 'unknown'
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    if (typeof pkg.version === 'string') version = pkg.version
  } catch (err) {
    // a bundled copy without its package.json: the version is unknown, said so
    version = `unknown (${(err as Error).message.slice(0, 60)})`
  }
  return { Version: version, Commit: '', Repo: '1', System: `${arch()}/${platform()}`, Golang: `node-${process.version}` }
}

function publicKeyOf (peerId: string): string | null {
  const name = parseName(peerId).name
  return name.inlinesKey ? Buffer.from(name.multihash.digest).toString('base64') : null
}

export const swarmCommands: Commands = {
  id: async ({ node, params, ask, settings }) => {
    const arg = params.arg('peerid', true)
    if (arg === undefined || peerIdText(arg) === node.peerId) {
      const s = await node.ask({ type: 'swarm.status' }, ask())
      return { json: { ID: s.peerId, PublicKey: publicKeyOf(s.peerId), Addresses: s.multiaddrs, AgentVersion: settings.agentVersion, Protocols: [] } }
    }
    const peerId = peerIdText(arg)
    const p = await node.ask({ type: 'dht.findPeer', peerId }, ask())
    return { json: { ID: p.peerId, PublicKey: publicKeyOf(p.peerId), Addresses: p.multiaddrs.map(a => `${a}/p2p/${p.peerId}`), AgentVersion: '', Protocols: [] } }
  },

  'swarm/peers': async ({ node, params, ask }) => {
    const verbose = params.bool('verbose', false, 'v')
    const latency = verbose || params.bool('latency', false)
    const direction = verbose || params.bool('direction', false)
    const { peers } = await node.ask({ type: 'swarm.peers' }, ask())
    const out = peers.map(c => ({
      Addr: c.remoteAddr,
      Peer: c.peerId,
      ...(latency ? { Latency: 'n/a' } : {}),
      ...(direction ? { Direction: DIRECTION[c.direction] } : {})
    }))
    return { json: { Peers: out.length === 0 ? null : out } }
  },

  'swarm/connect': async ({ node, params, ask }) => {
    const addrs = params.args()
    if (addrs.length === 0) throw clientError('argument "address" is required')
    if (addrs.length > MAX_ADDRS_PER_CALL) throw clientError(`at most ${MAX_ADDRS_PER_CALL} addresses per call`)
    const strings: string[] = []
    for (const multiaddr of addrs) {
      const { peerId } = await node.ask({ type: 'swarm.dial', multiaddr }, ask())
      strings.push(`connect ${peerId} success`)
    }
    return { json: { Strings: strings } }
  },

  version: async ({ settings }) => ({ json: settings.version })
}

// A swarmbus node in a child process, for tests that place nodes in network
// namespaces (`ip netns exec NS node test/helpers/netns-node.mjs '<json>'`):
// createNode (from dist/) with the JSON options given, then one JSON line on
// stdout per event — {"ready": {peerId, multiaddrs}}, {"mode": detail} for
// each swarm:mode progress event, {"status": swarm.status.network} after a
// "status" line on stdin — until "stop" on stdin (or stdin closes).
/* global process */
import { createInterface } from 'node:readline'
import { createNode } from '../../dist/index.js'

const options = JSON.parse(process.argv[2] ?? '{}')
const out = obj => { process.stdout.write(JSON.stringify(obj) + '\n') }

const node = await createNode({ verifier: 'inline', republish: false, ...options })
node.on('progress', e => { if (e.type === 'swarm:mode') out({ mode: e.detail }) })
out({ ready: { peerId: node.peerId, multiaddrs: node.multiaddrs } })

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await node.stop()
  process.exit(0)
}
const lines = createInterface({ input: process.stdin })
lines.on('line', line => {
  if (line === 'status') {
    node.ask({ type: 'swarm.status' }).then(s => { out({ status: s.network }) }, err => { out({ error: String(err) }) })
  } else if (line === 'stop') {
    void stop()
  }
})
lines.on('close', () => { void stop() })

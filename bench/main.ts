/**
 * `npm run bench`: prints one JSON object with the medians of this run.
 * Compare ratios measured in the same run; these machines are noisy.
 */
import { benchBus, benchTimeouts } from './bus.js'
import { benchDht } from './dht.js'
import { benchHttp } from './http.js'
import { benchIpns } from './ipns.js'
import { benchIpnsSlow } from './ipns-slow.js'
import { benchIpnsSpread } from './ipns-spread.js'
import { benchRouteAround } from './route-around.js'
import { benchRouters } from './routers.js'
import { benchVerify } from './verify.js'
import { benchScale } from './scale.js'

const only = new Set(process.argv.slice(2))
const want = (name: string): boolean => only.size === 0 || only.has(name)

const result: Record<string, unknown> = {
  node: process.version,
  cpus: (await import('node:os')).cpus().length,
  startedAt: new Date().toISOString()
}
if (want('bus')) result.bus = await benchBus()
if (want('timeouts')) result.timeouts = await benchTimeouts()
if (want('verify')) result.verify = await benchVerify()
if (want('dht')) result.dht = await benchDht()
if (want('ipns')) result.ipns = await benchIpns()
if (only.has('ipns-slow')) result.ipnsSlow = await benchIpnsSlow()
if (only.has('ipns-spread')) result.ipnsSpread = await benchIpnsSpread()
if (only.has('routers')) result.routers = await benchRouters()
if (only.has('route-around')) result.routeAround = await benchRouteAround()
if (only.has('http')) result.http = await benchHttp()
if (only.has('scale')) result.scale = await benchScale(process.argv.slice(2))
process.stdout.write(JSON.stringify(result, null, 2) + '\n')

/**
 * ipns.resolve of DNSLink domains, on real nodes with a real DNS server on
 * 127.0.0.1: a domain whose link is /ipfs/… answers from DNS; one whose link
 * is /ipns/<name> goes on to the DHT (a hop); paths join; failures are typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { startDnsServer } from '../../helpers/dns-server.js'
import type { TestDnsServer } from '../../helpers/dns-server.js'
import type { Testnet } from '../../../src/node/create-testnet.js'

let dns: TestDnsServer
let net: Testnet

beforeAll(async () => {
  dns = await startDnsServer()
  net = await createTestnet({ nodes: 4, seed: 5150, node: { dns: { servers: [dns.server] } } })
}, 60_000)

afterAll(async () => {
  await net?.stop()
  await dns?.close()
})

describe('ipns.resolve of a DNSLink domain', () => {
  it('answers a /ipfs/ link from DNS, joining the path', async () => {
    dns.setTxt('_dnslink.files.example', ['dnslink=/ipfs/bafkqaaa/site'])
    const [a] = net.nodes
    const r = await a!.ask({ type: 'ipns.resolve', name: '/ipns/files.example/index.html' })
    expect(r).toMatchObject({ value: '/ipfs/bafkqaaa/site/index.html', source: 'dns', hops: 1, sequence: 0n })
  })

  it('follows a /ipns/ link to the DHT as the next hop', async () => {
    const [a, b] = net.nodes
    const pub = await a!.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa/published' })
    dns.setTxt('_dnslink.name.example', [`dnslink=/ipns/${pub.name}/docs`])
    const r = await b!.ask({ type: 'ipns.resolve', name: 'name.example', nocache: true })
    expect(r).toMatchObject({ value: '/ipfs/bafkqaaa/published/docs', source: 'dht', hops: 2, sequence: pub.sequence })
    // not recursive: the link itself
    const once = await b!.ask({ type: 'ipns.resolve', name: 'name.example', recursive: false })
    expect(once.value).toBe(`/ipns/${pub.name}/docs`)
  })

  it('fails with NotFoundError for a domain without a DNSLink, and rejects a malformed name before it runs', async () => {
    const [, , c] = net.nodes
    await expect(c!.ask({ type: 'ipns.resolve', name: 'nothing-here.example' })).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(c!.ask({ type: 'ipns.resolve', name: 'not a domain' })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'name' })
  })
})

/**
 * What the contract tests share: the version check each one starts with, and
 * real libp2p nodes built from the port's own options (buildLibp2pOptions)
 * on the in-process memory transport, with the node object in hand so a
 * test can look at the very services the hooks reach into.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { expect } from 'vitest'
import { buildLibp2pOptions, ed25519KeyFromSeed } from '../../src/actors/swarm/libp2p/libp2p-options.js'
import { testSeed } from '../helpers/port-testnet.js'
import type { Libp2pDhtPortOptions, PortServices } from '../../src/actors/swarm/libp2p/libp2p-options.js'
import type { Libp2p } from 'libp2p'
import type { Libp2pOptions } from 'libp2p'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const versionIn = (path: string): string => (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version

/**
 * Fails loudly when the installed package, or the version package.json pins,
 * is not the one the contract test was written against: the hook must be
 * read again in the new version's source before the pin and this test move.
 */
export function writtenAgainst (pkg: string, version: string): void {
  const installed = versionIn(join(ROOT, 'node_modules', pkg, 'package.json'))
  const pinned = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies[pkg]
  const why = `${pkg}: this contract was written against ${version}; re-read the hook in the new version's source, then update the pin and this test`
  expect(pinned, `${why} (package.json pins ${pinned})`).toBe(version)
  expect(installed, `${why} (installed ${installed})`).toBe(version)
}

/** a record namespace whose every record is valid and the first of several is best */
export const NS = 'contract'
export const validators: NonNullable<Libp2pDhtPortOptions['validators']> = { [NS]: async () => {} }
export const selectors: NonNullable<Libp2pDhtPortOptions['selectors']> = { [NS]: () => 0 }

export type Node = Libp2p<PortServices>

const started: Node[] = []

/** a real libp2p node with the port's options (memory transport, loopback testnet settings) */
export async function startNode (label: string, index: number, extra: Partial<Libp2pDhtPortOptions> = {}, adjust?: (o: Libp2pOptions<PortServices>) => Libp2pOptions<PortServices>): Promise<Node> {
  const options = buildLibp2pOptions({
    datastore: new MemoryDatastore(),
    privateKey: await ed25519KeyFromSeed(testSeed(`contract-${label}`, index)),
    transport: 'memory',
    listen: [`/memory/swarmbus-contract-${label}-${index}`],
    loopback: true,
    validators,
    selectors,
    ...extra
  })
  const node = await createLibp2p(adjust !== undefined ? adjust(options) : options)
  started.push(node)
  return node
}

export async function stopNodes (): Promise<void> {
  await Promise.allSettled(started.splice(0).map(async n => { await n.stop() }))
}

/** poll a condition every 20 ms until it holds or `ms` pass */
export async function until (cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const end = performance.now() + ms
  while (performance.now() < end) {
    if (await cond()) return true
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return await cond()
}

export const key = (name: string): Uint8Array => new TextEncoder().encode(`/${NS}/${name}`)

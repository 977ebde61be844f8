/**
 * The "one owner" lint rule (eslint.config.js): libp2p packages are imported
 * only in src/actors/swarm/ and src/node/ (and bench, tests, scripts); the
 * rest of src/ and examples/ may use @libp2p/crypto and type imports of
 * @libp2p/interface. Linted with the repository's own config, through
 * ESLint's API, as files at the paths named (nothing is written).
 */
import { ESLint } from 'eslint'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const eslint = new ESLint({ cwd: ROOT })

const RULE = '@typescript-eslint/no-restricted-imports'

async function refused (path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${path}` })
  return (result?.messages ?? []).filter(m => m.ruleId === RULE).map(m => m.message)
}

const NODE_IMPORTS = [
  "import { createLibp2p } from 'libp2p'\nexport const a = createLibp2p\n",
  "import { kadDHT } from '@libp2p/kad-dht'\nexport const a = kadDHT\n",
  "import { noise } from '@chainsafe/libp2p-noise'\nexport const a = noise\n",
  "import { Libp2pRecord } from '@libp2p/record'\nexport const a = Libp2pRecord\n",
  "import { peerIdFromString } from '@libp2p/peer-id'\nexport const a = peerIdFromString\n",
  "import type { Libp2p } from 'libp2p'\nexport type A = Libp2p\n",
  "import { InvalidMessageError } from '@libp2p/interface'\nexport const a = InvalidMessageError\n"
]

const ALLOWED = [
  "import { publicKeyFromRaw } from '@libp2p/crypto/keys'\nexport const a = publicKeyFromRaw\n",
  "import { keys } from '@libp2p/crypto'\nexport const a = keys\n",
  "import type { PublicKey } from '@libp2p/interface'\nexport type A = PublicKey\n"
]

describe('libp2p imports stay with the swarm folder and the node wiring', () => {
  it('refuses libp2p, @libp2p/* and @chainsafe/libp2p-* in other actors, records, the CLI and examples', async () => {
    for (const path of ['src/actors/ipns/probe.ts', 'src/records/probe.ts', 'src/cli/probe.ts', 'src/index.ts', 'examples/probe.ts']) {
      for (const code of NODE_IMPORTS) expect(await refused(path, code), `${path}: ${code}`).toHaveLength(1)
    }
  }, 60_000)

  it('allows the utility allow-list there: @libp2p/crypto and type imports of @libp2p/interface', async () => {
    for (const code of ALLOWED) expect(await refused('src/actors/keys/probe.ts', code), code).toEqual([])
  }, 60_000)

  it('allows everything in src/actors/swarm/, src/node/, bench/ and tests', async () => {
    for (const path of ['src/actors/swarm/probe.ts', 'src/node/probe.ts', 'bench/probe.ts', 'test/probe.test.ts']) {
      for (const code of NODE_IMPORTS) expect(await refused(path, code), `${path}: ${code}`).toEqual([])
    }
  }, 60_000)
})

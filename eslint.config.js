// Lint rules that keep the actor runtime deterministic and the code honest.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Loud failures: a rejection handler with an empty body swallows the failure
// in silence. Handle it, count it, or say why it is right to ignore it in an
// eslint-disable comment with a reason. (An empty `catch {}` is refused by
// `no-empty` already; one with only a comment passes, the comment being the why.)
const swallowed = [
  { selector: "CallExpression[callee.property.name='catch'][arguments.0.body.type='BlockStatement'][arguments.0.body.body.length=0]", message: 'A swallowed rejection: handle, count or propagate it, or disable this rule at the site with the reason it is right to ignore.' },
  { selector: "CallExpression[callee.property.name='then'][arguments.1.body.type='BlockStatement'][arguments.1.body.body.length=0]", message: 'A swallowed rejection: handle, count or propagate it, or disable this rule at the site with the reason it is right to ignore.' }
]
const noDateNow = { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use ctx.clock.now() in actor code.' }

const nondeterminism = {
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'Use ctx.clock.now() (the injected clock) in actor code.' },
    { object: 'Math', property: 'random', message: 'Use ctx.rng (the seeded rng) in actor code.' },
    { object: 'AbortSignal', property: 'timeout', message: 'Use a clock-derived deadline; AbortSignal.timeout escapes the simulated clock.' },
    { object: 'crypto', property: 'randomUUID', message: 'Use the injected id source in actor code.' },
    { object: 'performance', property: 'now', message: 'Use ctx.clock.now() in actor code.' }
  ],
  'no-restricted-globals': ['error',
    { name: 'setTimeout', message: 'Use ctx.clock / the deadline sweeper in actor code.' },
    { name: 'setInterval', message: 'Use ctx.clock in actor code.' },
    { name: 'setImmediate', message: 'Use ctx.clock in actor code.' }
  ],
  'no-restricted-syntax': ['error', noDateNow]
}

// One owner: only src/actors/swarm/ builds, holds and calls the libp2p node
// (src/node/ wires it; docs/architecture.md, "One owner"). Everywhere else in
// src/ and examples/, libp2p packages are refused, except this allow-list:
// - @libp2p/crypto (and its subpaths): key generation, key codecs, signature
//   checks — pure functions on bytes, used by the keystore, the record code
//   and the CLI; no node, no network;
// - @libp2p/interface as `import type` only: the key and key-type types those
//   functions take and return (a value import would be code from the node's
//   world; none is needed).
// Tests, benchmarks (bench/, outside src/: it builds a Helia stack to compare
// against) and scripts are exempt: the rule covers src/ and examples/ only.
const libp2pOwner = {
  '@typescript-eslint/no-restricted-imports': ['error', {
    patterns: [
      {
        regex: '^(libp2p|@chainsafe/libp2p-[^/]+|@libp2p/(?!crypto(/|$)|interface$)[^/]+)(/.*)?$',
        message: 'libp2p belongs to src/actors/swarm/ (and its wiring in src/node/): reach the network through the swarm actor, or see the allow-list in eslint.config.js.'
      },
      {
        regex: '^@libp2p/interface$',
        allowTypeImports: true,
        message: '@libp2p/interface outside src/actors/swarm/ and src/node/: type imports only.'
      }
    ]
  }]
}

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'dist-check/', 'node_modules/', 'coverage/', 'src/records/pb/*.ts', 'src/actors/swarm/dht-client/pb/*.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error'
    }
  },
  {
    // actor code, ours and the examples users copy
    files: ['src/actors/**/*.ts', 'examples/**/*.ts'],
    ignores: ['examples/**/*.test.ts'],
    rules: nondeterminism
  },
  {
    files: ['src/**/*.ts', 'examples/**/*.ts'],
    ignores: ['src/actors/swarm/**', 'src/node/**'],
    rules: libp2pOwner
  },
  // no swallowed rejections in src/ and examples/ (bench/ and tests are not covered)
  {
    files: ['src/actors/**/*.ts', 'examples/**/*.ts'],
    ignores: ['examples/**/*.test.ts'],
    rules: { 'no-restricted-syntax': ['error', noDateNow, ...swallowed] }
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/actors/**'],
    rules: { 'no-restricted-syntax': ['error', ...swallowed] }
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } }
  }
)

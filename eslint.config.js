// Lint rules that keep the actor runtime deterministic and the code honest.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

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
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use ctx.clock.now() in actor code.' }
  ]
}

export default tseslint.config(
  { ignores: ['dist/', 'dist-check/', 'node_modules/', 'coverage/', 'src/records/pb/*.ts', 'src/actors/swarm/pb/*.ts'] },
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
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } }
  }
)

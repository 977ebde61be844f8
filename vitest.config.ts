import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // rebuilds dist/ (the verify worker, the CLI) when src/ is newer than it
    globalSetup: ['test/setup/build-dist.ts'],
    // runs in every test worker before each file: no test reaches past 127.0.0.0/8 and ::1
    setupFiles: ['test/setup/network-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2
  }
})

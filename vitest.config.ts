import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const source = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url))

export default defineConfig({
  resolve: {
    // the package's own entries resolve to its sources, as tsconfig's `paths`
    // do for tsc and tsx: tests and examples run without a build
    alias: [
      { find: /^effect-taskgraph$/, replacement: source("index.ts") },
      { find: /^effect-taskgraph\/node$/, replacement: source("node.ts") },
      { find: /^effect-taskgraph\/workers$/, replacement: source("workers.ts") },
      { find: /^effect-taskgraph\/qemu$/, replacement: source("qemu/index.ts") },
      { find: /^effect-taskgraph\/cli$/, replacement: source("cli/index.ts") },
      { find: /^effect-taskgraph\/durable$/, replacement: source("durable/index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // qemu and process tests use real processes; keep files in separate forks
    pool: "forks"
  }
})

import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // qemu and process tests use real processes; keep files in separate forks
    pool: "forks"
  }
})

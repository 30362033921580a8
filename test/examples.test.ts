/**
 * Every example is type-checked (tsconfig includes examples/) and smoke-run
 * here as a real process, as a user would run it: `npx tsx examples/NAME.ts`.
 * (examples/qemu-test.ts, the flagship, is run by test/qemu/pipeline.test.ts, Ctrl+C included.)
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { describe, expect, it } from "vitest"

const run = (file: string) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = execFile(process.execPath, ["--import", "tsx", file], {
      timeout: 120_000,
      env: { ...process.env, CI: "true" }
    })
    let out = ""
    child.stdout?.on("data", (chunk) => (out += String(chunk)))
    child.stderr?.on("data", (chunk) => (out += String(chunk)))
    child.on("close", (code) => resolve({ code, out }))
  })

const examples: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["examples/sleeps.ts", ["slept 300ms", "sleeps: succeeded", "t1 -.-> t0", "precedence: succeeded", "started in this order: first link of the long chain, "]],
  ["examples/diamond.ts", ["critical path: checkout -> compile -> package", "build: succeeded", "gantt", "removing the checkout"]],
  ["examples/processes.ts", ["[test archives]", "build archives: succeeded"]],
  ["examples/images.ts", ["digest images: succeeded", "stopped and cleaned up"]],
  ["examples/requests.ts", ["fetch items: succeeded"]],
  ["examples/notifier.ts", ["notify: succeeded"]],
  ["examples/qemu-two-vms.ts", ["VMs at once: 1 (pool vm: 1)", "two vms: succeeded"]],
  ["examples/layer.ts", ["users: 19 rows cached", "query cost: 8", "cache dropped", "database down"]],
  // a fresh run or, when .taskgraph/runs.db already has it, the stored report: both name the graph
  ["examples/durable.ts", ["durable build"]],
  ["examples/large-graph.ts", ["built 100000 tasks", "ran 100000 tasks", ": succeeded", "10000 finalizers ran"]]
]

describe("examples run", () => {
  for (const [file, expected] of examples) {
    it.runIf(existsSync(file))(file, async () => {
      const { code, out } = await run(file)
      expect(out, out).toBeTypeOf("string")
      expect(code, out).toBe(0)
      for (const text of expected) expect(out).toContain(text)
    }, 130_000)
  }
})

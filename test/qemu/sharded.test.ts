/**
 * examples/sharded-tests.ts for real, as a user runs it: the shards are the
 * test files of examples/qemu-project found at run time, each runs in its own
 * VM as a graph inside the "tests" task, and `--vms 1` bounds the VMs of all
 * shards through the run's one `vm` pool. The bound is checked from the
 * plain output as it streamed (a VM is up from its `qemu pid` line to its
 * `-- released` line), not only from what the example computes.
 *
 * Cost: three VM boots, one after the other.
 */
import * as cp from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { isGone } from "./helpers.js"

const repo = path.resolve(import.meta.dirname, "../..")
const testFiles = fs.readdirSync(path.join(repo, "examples/qemu-project/tests")).filter((f) => /^test_.*\.sh$/.test(f)).sort()

/** QEMU processes the example started (from its `qemu pid N` lines): all must be gone after it. */
let qemuPids: Array<number> = []
afterEach(() => {
  const alive = qemuPids.filter((pid) => !isGone(pid))
  for (const pid of alive) process.kill(pid, "SIGKILL")
  qemuPids = []
  expect(alive, "QEMU processes left running").toEqual([])
})

const runExample = (args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; out: string; lines: Array<string> }>((resolve) => {
    const child = cp.spawn(process.execPath, ["--import", "tsx", path.join(repo, "examples/sharded-tests.ts"), ...args], {
      cwd: repo,
      env: { ...process.env, EFFECT_TASKGRAPH_REPORTER: "plain" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.on("close", (code) => resolve({ code, out, lines: out.split("\n") }))
  })

/** The most VMs up at once, in the order the output lines came. */
const vmsUpAtOnce = (lines: ReadonlyArray<string>): number => {
  let up = 0
  let max = 0
  for (const line of lines) {
    const started = /^\[tests \/ (\S+) \/ start vm\] \S+: qemu pid (\d+) /.exec(line)
    if (started !== null) {
      qemuPids.push(Number(started[2]))
      max = Math.max(max, ++up)
    }
    if (/^\[tests \/ \S+ \/ start vm\] -- released/.test(line)) up--
  }
  return max
}

describe("examples/sharded-tests.ts (real QEMU)", () => {
  it("--vms 1: one group per test file, each shard's tests pass in its own VM, never two VMs at once", async () => {
    expect(testFiles.length).toBeGreaterThan(1)
    const { code, out, lines } = await runExample(["--vms", "1"])
    expect(code, out).toBe(0)

    // the discovered shards: one group each, and each ran only its own file
    expect(out).toContain(`[discover tests] ${testFiles.length} test files: ${testFiles.join(", ")}`)
    expect(out).toContain(`── groups (${testFiles.length}, one per shard)`)
    const groups = lines.filter((l) => /^ {2}tests \/ \S+: \d+ tasks, run tests /.test(l))
    expect(groups).toEqual(testFiles.map((f) => expect.stringMatching(new RegExp(`^  tests / ${f.replace(".", "\\.")}: 6 tasks, run tests released`))))
    for (const file of testFiles) {
      expect(out).toContain(`[tests / ${file} / run tests] # tests/${file}`)
      const others = testFiles.filter((f) => f !== file)
      for (const other of others) expect(out).not.toContain(`[tests / ${file} / run tests] # tests/${other}`)
      expect(out).toMatch(new RegExp(`\\[tests / ${file.replace(".", "\\.")} / run tests\\] # \\d+ passed, 0 failed`))
    }

    // one VM per shard, never more than the pool at once (from the stream and from the report)
    expect(vmsUpAtOnce(lines)).toBe(1)
    expect(new Set(qemuPids).size).toBe(testFiles.length)
    expect(out).toContain("── VMs at once: 1 (pool vm: 1)")
    expect(out).toContain("sharded tests: succeeded")
  }, 300_000)

  it("--vms 0 is bad input: exit 2 before anything starts", async () => {
    const { code, out } = await runExample(["--vms", "0"])
    expect(code, out).toBe(2)
    expect(out).toContain("--vms must be a positive integer, got 0")
    expect(out).not.toContain("start vm")
  }, 60_000)
})

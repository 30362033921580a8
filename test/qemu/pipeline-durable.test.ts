/**
 * The flagship, durably (stage B of issue 11): examples/qemu-test.ts with
 * --run-id, SIGKILLed while "run tests" runs, then the same command again.
 * The VM is a resource group (overlay, VM, port, SSH, rsync, tests): it runs
 * again from its start; the guest build (data, with a schema) is restored
 * from the store, not redone.
 */
import * as cp from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { isGone } from "./helpers.js"

const repo = path.resolve(import.meta.dirname, "../..")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-durable-qemu-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const spawnExample = (args: ReadonlyArray<string>) => {
  const child = cp.spawn(process.execPath, ["--import", "tsx", path.join(repo, "examples/qemu-test.ts"), ...args], {
    cwd: repo,
    env: { ...process.env, EFFECT_TASKGRAPH_REPORTER: "plain" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    out += chunk.toString()
    for (const l of listeners) l()
  }
  child.stdout.on("data", onData)
  child.stderr.on("data", onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal }))
  )
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(out)
        if (m) {
          listeners.delete(check)
          resolve(m)
        }
      }
      listeners.add(check)
      void exited.then(() => {
        if (listeners.delete(check)) reject(new Error(`exited before ${pattern}; output:\n${out}`))
      })
      check()
    })
  return { child, output: () => out, waitFor, exited }
}

describe("examples/qemu-test.ts --run-id (real QEMU, sqlite store)", () => {
  it("SIGKILL during the tests, then the same command: the guest is restored, the VM group runs again, exit 0", async () => {
    const args = ["--run-id", "flagship-1", "--store", path.join(tmp, "runs.db")]
    const first = spawnExample(args)
    const [, pid] = await first.waitFor(/\[start vm\] vm: qemu pid (\d+)/)
    await first.waitFor(/\[run tests\] -- started/)
    first.child.kill("SIGKILL")
    expect((await first.exited).signal).toBe("SIGKILL")
    expect(first.output()).not.toMatch(/\[run tests\] -- (done|ready)/)
    // the VM dies with its runner (PDEATHSIG); no need to wait for it here

    const second = spawnExample(args)
    const { code } = await second.exited
    const out = second.output()
    expect(code, out).toBe(0)
    expect(out).toMatch(/\[build test guest\] restored from .* not run again/)
    // the resource group ran again from its start: a new overlay, a new VM, the tests
    expect(out).toMatch(/\[create overlay\] overlay \S+ on /)
    expect(out).toMatch(/\[start vm\] vm: qemu pid (\d+)/)
    expect(out).toMatch(/\[run tests\] -- (done|ready)/)
    expect(out).not.toMatch(/\[(create overlay|start vm|run tests)\] restored/)
    expect(isGone(Number(pid))).toBe(true)

    const third = spawnExample(args)
    expect((await third.exited).code).toBe(0)
    expect(third.output()).toContain(`run "flagship-1" of "run tests once" already succeeded`)
    expect(third.output()).not.toMatch(/\[start vm\]/)
  }, 600_000)
})

/**
 * Children must not outlive the runner, even when the runner is SIGKILLed
 * and no finalizer can run. A real runner (test/fixtures/process/runner.ts)
 * starts `sh` (which starts a background `sleep`) through `Process.start`,
 * prints the pids, and is SIGKILLed; then /proc must show them gone.
 *
 * - With everything on: setpriv's parent-death signal kills the child, the
 *   watchdog kills the rest of its process group (the grandchild).
 * - With the watchdog killed first: the parent-death signal alone must still
 *   kill the direct child (this is what proves that pdeathsig works when
 *   Node forks from its main thread).
 */
import { spawn, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { isGone, eventually } from "./helpers/pids.js"

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/process/runner.ts")



/** Starts the runner and resolves with the pids it prints. */
const startRunner = (mode: Array<string>) =>
  new Promise<{ runner: ChildProcess; child: number; grandchild: number; watchdog: number | undefined }>(
    (resolve, reject) => {
      const runner = spawn(process.execPath, ["--import", "tsx", fixture, ...mode], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let out = ""
      let err = ""
      runner.stderr.on("data", (data: Buffer) => (err += data.toString()))
      runner.stdout.on("data", (data: Buffer) => {
        out += data.toString()
        const match = /^pids (\d+) (\d+) (\d+|none)$/m.exec(out)
        if (match !== null) {
          resolve({
            runner,
            child: Number(match[1]),
            grandchild: Number(match[2]),
            watchdog: match[3] === "none" ? undefined : Number(match[3])
          })
        }
      })
      runner.on("exit", (code, signal) => reject(new Error(`runner exited early (${code ?? signal}): ${out}${err}`)))
    }
  )

const killRunner = async (runner: ChildProcess) => {
  const exited = new Promise((resolve) => runner.once("exit", resolve))
  runner.kill("SIGKILL")
  await exited
}

describe("children do not outlive a SIGKILLed runner", () => {
  it("kills the child and its whole process group (grandchild included)", async () => {
    const { runner, child, grandchild, watchdog } = await startRunner([])
    try {
      expect(isGone(child)).toBe(false)
      expect(isGone(grandchild)).toBe(false)
      expect(watchdog).toBeDefined()
      await killRunner(runner)
      expect(await eventually(() => isGone(child) && isGone(grandchild), 5000)).toBe(true)
      // the watchdog exits once its work is done
      expect(await eventually(() => isGone(watchdog!), 5000)).toBe(true)
    } finally {
      for (const pid of [child, grandchild]) if (!isGone(pid)) process.kill(pid, "SIGKILL")
    }
  }, 30_000)

  it("setpriv --pdeathsig alone kills the direct child", async (context) => {
    // Decided independently of the library's own probe, so that a broken probe fails here.
    const supported = spawnSync("setpriv", ["--pdeathsig", "KILL", "--", "true"]).status === 0
    if (!supported) context.skip()
    const { runner, child, grandchild } = await startRunner(["no-watchdog"])
    try {
      expect(isGone(child)).toBe(false)
      await killRunner(runner)
      expect(await eventually(() => isGone(child), 5000)).toBe(true)
    } finally {
      // Without the watchdog the grandchild survives (pdeathsig reaches only the
      // direct child): that is the watchdog's job, tested above.
      for (const pid of [child, grandchild]) if (!isGone(pid)) process.kill(pid, "SIGKILL")
    }
  }, 30_000)
})

/**
 * `Main.runMain` and signals, for real: a runner (test/fixtures/main/graph.ts)
 * runs real programs through `Process`; the test waits for a line on its
 * stdout, sends signals, and checks the exit code, what was printed, and
 * that no program it started survives.
 *
 * - SIGINT / SIGTERM / SIGHUP once: every finalizer runs, the summary is
 *   printed, exit code 130 / 143 / 129.
 * - SIGINT during a cleanup that would take a minute (a program that ignores
 *   SIGTERM, with a 60 s grace): a second SIGINT kills every owned process
 *   group and exits 130 at once.
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { isGone, eventually } from "./helpers/pids.js"

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/main/graph.ts")



interface Runner {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** resolves with the first match of `pattern` in stdout */
  readonly waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
}

const start = (scenario: string, env: Record<string, string> = {}): Runner => {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, scenario], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "true", ...env }
  })
  let out = ""
  let err = ""
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = []
  child.stdout!.on("data", (data: Buffer) => {
    out += data.toString()
    for (const w of [...waiters]) {
      const match = out.match(w.pattern)
      if (match !== null) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(match)
      }
    }
  })
  child.stderr!.on("data", (data: Buffer) => (err += data.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() }))
  )
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const match = out.match(pattern)
      if (match !== null) return resolve(match)
      waiters.push({ pattern, resolve })
      exited.then(({ code, signal }) => reject(new Error(`runner exited (${code ?? signal}) before ${pattern}:\n${out}\n${err}`)))
    })
  return { child, stdout: () => out, stderr: () => err, waitFor, exited }
}

describe("runMain and signals", () => {
  const once: ReadonlyArray<readonly [NodeJS.Signals, number]> = [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]]
  for (const [signal, code] of once) {
    it(`${signal} once: the run stops, every finalizer runs, the summary is printed, exit ${code}`, async () => {
      const runner = start("sleep")
      const [, pid] = await runner.waitFor(/^\[sleeper\] sleeping (\d+)$/m)
      const sleeping = Number(pid)
      expect(isGone(sleeping)).toBe(false)
      runner.child.kill(signal)
      const { code: exitCode, signal: killedBy } = await runner.exited
      const out = runner.stdout()
      expect({ exitCode, killedBy }, out + runner.stderr()).toEqual({ exitCode: code, killedBy: null })
      expect(out).toMatch(new RegExp(`^== ${signal}: stopping 1 task: sleeper \\(interrupting\\); 1 process: sh -c echo "sleeping \\$\\$"; exec sleep 300 \\(pid ${sleeping}\\)\\. (Press Ctrl\\+C|Send ${signal}) again`, "m"))
      expect(out).toContain("[sleeper] -- interrupted")
      expect(out).toMatch(new RegExp(`^== sleepy: interrupted \\(${signal}\\) in \\d+`, "m"))
      expect(out).toMatch(/^ {2}prepare +released +\d+ms$/m)
      expect(out).toMatch(/^ {2}sleeper +interrupted +[\d.]+m?s$/m)
      // `sleep` was stopped by the release, before the exit (not by the watchdog afterwards)
      expect(isGone(sleeping)).toBe(true)
      expect(runner.stderr()).toBe("")
    })
  }

  it("a second SIGINT during a long cleanup kills every process group and exits 130 at once", async () => {
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "main-signals-"))
    const runner = start("stubborn", { LOG_DIR: logDir })
    const [, server, serverChild] = await runner.waitFor(/^\[server\] server (\d+) (\d+)$/m)
    await runner.waitFor(/^\[client\] client waiting$/m)
    runner.child.kill("SIGINT")
    await runner.waitFor(/^== SIGINT: stopping .*Press Ctrl\+C again to force/m)
    const notice = runner.stdout().split("\n").find((l) => l.startsWith("== SIGINT: stopping"))!
    expect(notice).toContain("server (releasing)")
    // the release of "server" really is stuck: its program ignores SIGTERM and has a 60 s grace
    await runner.waitFor(/^\[client\] -- interrupted$/m)
    expect(isGone(Number(server))).toBe(false)
    expect(isGone(Number(serverChild))).toBe(false)

    const sentAt = Date.now()
    runner.child.kill("SIGINT")
    const { code, signal, at } = await runner.exited
    expect({ code, signal }).toEqual({ code: 130, signal: null })
    expect(at - sentAt).toBeLessThan(2000)
    expect(runner.stdout()).toMatch(/^== forced exit \(second SIGINT\): killed 1 process group without waiting$/m)
    // the whole process group is gone: the program and the child it started
    expect(await eventually(() => isGone(Number(server)) && isGone(Number(serverChild)), 3000)).toBe(true)
    // the logs were written as it went, and say how it ended
    expect(fs.readFileSync(path.join(logDir, "run.log"), "utf8")).toMatch(/\[stubborn\] === forced exit \(second SIGINT\)/)
    expect(fs.readFileSync(path.join(logDir, "tasks/client.log"), "utf8")).toBe("client waiting\n")
    fs.rmSync(logDir, { recursive: true })
  })
})

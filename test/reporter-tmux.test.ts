/**
 * The pretty reporter checked as a person would: the runner
 * (test/fixtures/main/graph.ts) runs in a real terminal, a tmux pane of
 * 80×24, and the test reads the screen with `capture-pane` while tasks run,
 * fail, and are interrupted with Ctrl+C typed into the terminal.
 *
 * Each test uses its own tmux server (`-L`), so nothing touches the user's
 * sessions. Skipped, with a message, when tmux is not installed.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { isGone } from "./helpers/pids.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const fixture = path.join(root, "test/fixtures/main/graph.ts")
const hasTmux = spawnSync("tmux", ["-V"]).status === 0
if (!hasTmux) console.warn("reporter-tmux.test.ts: tmux is not installed: the live-terminal checks of the pretty reporter are skipped")


const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** A tmux pane running the fixture; `screen()` is what a person sees (plus what scrolled away). */
const terminal = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const socket = `effect-taskgraph-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const tmux = (...rest: Array<string>) =>
    spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...rest], { encoding: "utf8", env: { ...process.env, LANG: "C.UTF-8" } })
  const statusFile = path.join(os.tmpdir(), `${socket}.status`)
  // a clean environment for the program: not CI, UTF-8, the colour choice of the test
  const vars = Object.entries({ LANG: "C.UTF-8", STATUS_FILE: statusFile, ...env }).map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ")
  const command = `env -u CI -u EFFECT_TASKGRAPH_REPORTER -u NO_COLOR ${vars} ${shellQuote(process.execPath)} --import tsx ${[fixture, ...args].map(shellQuote).join(" ")}`
  const started = tmux("new-session", "-d", "-s", "run", "-x", "80", "-y", "24", "-c", root, command, ";", "set-option", "-t", "run", "remain-on-exit", "on")
  if (started.status !== 0) throw new Error(`tmux new-session failed: ${started.stderr}`)
  const screen = (escapes = false) =>
    tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-S", "-100", "-t", "run").stdout
      .split("\n").filter((l) => !l.startsWith("Pane is dead")).join("\n").replace(/\n+$/, "")
  // the exit code, as the program recorded it when exiting (tmux 3.3 does not always fill pane_dead_status)
  const dead = (): number | undefined => {
    const [isDead, status] = tmux("display-message", "-p", "-t", "run", "#{pane_dead}:#{pane_dead_status}").stdout.trim().split(":")
    if (isDead !== "1" || !fs.existsSync(statusFile)) return undefined
    const code = Number(fs.readFileSync(statusFile, "utf8"))
    if (status !== undefined && status !== "" && Number(status) !== code) throw new Error(`exit status ${status}, but the program said ${code}`)
    return code
  }
  /** Polls the screen (a real condition, bounded) until `check` holds; returns that screen. */
  const waitFor = async (check: (screen: string) => boolean, what: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const s = screen()
      if (check(s)) return s
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${s}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const waitForExit = async () => {
    await waitFor(() => dead() !== undefined, "the program to exit")
    return dead()!
  }
  return {
    screen,
    waitFor,
    waitForExit,
    keys: (key: string) => tmux("send-keys", "-t", "run", key),
    kill: () => {
      tmux("kill-server")
      fs.rmSync(statusFile, { force: true })
    }
  }
}

const lines = (screen: string) => screen.split("\n")
const count = (screen: string, re: RegExp) => lines(screen).filter((l) => re.test(l)).length
const SPINNER = "[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]"
const SGR = /\x1b\[[\d;]*m/

describe.skipIf(!hasTmux)("pretty reporter in a real terminal (tmux, 80×24)", () => {
  let cleanup: Array<() => void> = []
  afterEach(() => {
    for (const f of cleanup) f()
    cleanup = []
  })

  it("shows running tasks live, in place, then the failure with its output, the final states and the summary", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tmux-test-"))
    const fifo = path.join(dir, "trigger")
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0)
    const term = terminal(["fail", fifo], {})
    cleanup.push(() => term.kill(), () => fs.rmSync(dir, { recursive: true, force: true }))

    // while "lint" and "unit tests" run
    const running = await term.waitFor(
      (s) => s.includes("waiting for trigger") && s.includes("linting src/main.c"),
      "both running tasks to show their last line"
    )
    expect(running).toMatch(/^ ci {2}1\/4 done · 2 running {2}\d[\d.]*m?s$/m)
    expect(running).toMatch(/^ ✓ compile +\d+ms {2}done$/m)
    expect(running).toMatch(new RegExp(`^ ${SPINNER} lint +[\\d.]+m?s {2}linting src/main\\.c$`, "m"))
    expect(running).toMatch(new RegExp(`^ ${SPINNER} unit tests +[\\d.]+m?s {2}waiting for trigger$`, "m"))
    expect(running).toMatch(/^ · package +waiting for unit tests$/m)
    // redrawn in place: one frame on the screen, never a second copy scrolled below the first
    expect(count(running, /^ ci {2}/)).toBe(1)
    expect(count(running, / lint +/)).toBe(1)
    for (const line of lines(running)) expect(line.length).toBeLessThanOrEqual(80)
    // in colour (NO_COLOR is not set)
    expect(term.screen(true)).toMatch(SGR)
    // and live: the elapsed time of "lint" moves
    const lintLine = (s: string) => lines(s).find((l) => l.includes(" lint "))
    await term.waitFor((s) => lintLine(s) !== lintLine(running), "the elapsed time of lint to change")

    // make "unit tests" fail
    fs.writeFileSync(fifo, "go\n")
    expect(await term.waitForExit()).toBe(1)
    const end = term.screen()
    // the failure, printed once above the view, with the error and the task's last lines
    expect(count(end, /^✗ unit tests failed after [\d.]+m?s$/)).toBe(1)
    expect(end).toMatch(/^ {2}│ test_mul FAILED$/m)
    expect(end).toContain("assertion failed: expected 6, got 7")
    // the final frame, once, without spinners
    expect(count(end, /^ ci {2}4\/4 done · 1 failed {2}/)).toBe(1)
    expect(end).toMatch(/^ ■ lint +[\d.]+m?s {2}interrupted$/m)
    expect(end).toMatch(/^ ✗ unit tests +[\d.]+m?s {2}failed: `sh -c .*…$/m)
    expect(end).toMatch(/^ - package +skipped: blocked by unit tests$/m)
    expect(end).not.toMatch(new RegExp(SPINNER))
    // the summary
    expect(end).toMatch(/^ci: failed in [\d.]+m?s$/m)
    expect(end).toMatch(/^ {2}✗ unit tests +failed +[\d.]+m?s$/m)
    for (const line of lines(end)) expect(line.length).toBeLessThanOrEqual(80)
  })

  it("Ctrl+C: shows what is still stopping and how to force; a second Ctrl+C exits 130 at once (NO_COLOR)", async () => {
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "tmux-test-"))
    const term = terminal(["stubborn"], { NO_COLOR: "1", LOG_DIR: logDir })
    cleanup.push(() => term.kill(), () => fs.rmSync(logDir, { recursive: true, force: true }))

    const running = await term.waitFor((s) => s.includes("client waiting"), "the client to run")
    expect(running).toMatch(/^ ● server +\d+ms {2}ready, in use$/m)
    expect(running).toMatch(new RegExp(`^ ${SPINNER} client +[\\d.]+m?s {2}client waiting$`, "m"))
    // NO_COLOR: not a single colour escape on the screen
    expect(term.screen(true)).not.toMatch(SGR)
    const [server, child] = fs.readFileSync(path.join(logDir, "tasks/server.log"), "utf8")
      .match(/^server (\d+) (\d+)$/m)!.slice(1).map(Number) as [number, number]

    term.keys("C-c")
    // the client stops at once; the server's program does not
    const stopping = await term.waitFor(
      (s) => s.includes("Press Ctrl+C again to force") && /^ ■ SIGINT: stopping 1 task and 1 process… [\d.]+m?s$/m.test(s),
      "the stopping view to show only the server left"
    )
    expect(stopping).toMatch(/^ ■ client +[\d.]+m?s {2}interrupted$/m)
    expect(stopping).toMatch(new RegExp(`^ ${SPINNER} server +\\d+ms {2}releasing$`, "m"))
    expect(stopping).toMatch(/^ {3}Press Ctrl\+C again to force \(kills every child process at once\)\.$/m)
    expect(stopping).toMatch(/^ {3}stopping sh -c trap '' TERM; sleep 300 & echo "child \$!"; wait; wait \(pid \d+…?$/m)
    // the release really is stuck (SIGTERM ignored, 60 s grace)
    expect(isGone(server)).toBe(false)

    const sentAt = Date.now()
    term.keys("C-c")
    expect(await term.waitForExit()).toBe(130)
    expect(Date.now() - sentAt).toBeLessThan(3000)
    const end = term.screen()
    expect(end).toMatch(/^ ✗ forced exit \(second SIGINT\): killed 1 process group without waiting$/m)
    expect(isGone(server) && isGone(child)).toBe(true)
  })
})

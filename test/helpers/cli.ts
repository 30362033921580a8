/**
 * The command line as the tests run it: the repository's sources through tsx
 * (`node --import tsx src/bin.ts …`; the compiled `dist/bin.js` is checked from
 * an installed tarball in test/package.test.ts), as a real child process with
 * its exit code or signal and both streams. Also what the durable fixtures
 * leave on disk: each task appends a line to `ran.log` when it really runs.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const bin = ["--import", "tsx", path.join(root, "src/bin.ts")]

export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Started {
  readonly child: ChildProcess
  readonly done: Promise<Result>
  /** what it printed so far */
  readonly stdout: () => string
}

/** Starts `effect-taskgraph ARGS…` in the repository (CI=true), killed with SIGKILL after `timeoutMs`. */
export const start = (args: ReadonlyArray<string>, env: Record<string, string> = {}, timeoutMs = 120_000): Started => {
  const child = spawn(process.execPath, [...bin, ...args], { cwd: root, env: { ...process.env, CI: "true", ...env } })
  let stdout = "", stderr = ""
  child.stdout.on("data", (c) => (stdout += String(c)))
  child.stderr.on("data", (c) => (stderr += String(c)))
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
  const done = new Promise<Result>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  )
  return { child, done, stdout: () => stdout }
}

/** Resolves once the process has printed `needle` (either stream); rejects if it ends first. */
export const printed = (started: Started, needle: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let seen = ""
    const look = (chunk: unknown) => {
      seen += String(chunk)
      if (seen.includes(needle)) resolve()
    }
    look(started.stdout())
    started.child.stdout?.on("data", look)
    started.child.stderr?.on("data", look)
    void started.done.then((r) => reject(new Error(`ended (${r.code ?? r.signal}) before printing ${needle}:\n${r.stdout}${r.stderr}`)))
  })

/** Runs `effect-taskgraph ARGS…` to its end. */
export const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Result> =>
  start(args, env, timeoutMs).done

/** The lines of `dir/ran.log`: one per task that really ran. */
export const ranLines = (dir: string): Array<string> => {
  const file = path.join(dir, "ran.log")
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "") : []
}

/** How many times each task ran (a line is `NAME` or `NAME PID`). */
export const ranCounts = (dir: string): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const line of ranLines(dir)) {
    const name = line.replace(/ \d+$/, "")
    counts[name] = (counts[name] ?? 0) + 1
  }
  return counts
}

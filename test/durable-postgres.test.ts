/**
 * Durable runs on a real PostgreSQL server (a private one, started here as
 * `nobody` on 127.0.0.1 and always stopped and removed): the CLI with
 * `--store postgres://…`, SIGKILLed mid-run, then the same command again.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Postgres, startPostgres } from "./helpers/postgres.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bin = ["--import", "tsx", path.join(root, "src/bin.ts")]
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-durable-pg-"))

let pg: Postgres | undefined
beforeAll(async () => {
  pg = await startPostgres()
}, 120_000)
afterAll(async () => {
  await pg?.stop()
  fs.rmSync(tmp, { recursive: true, force: true })
}, 60_000)

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [...bin, ...args], { cwd: root, env: { ...process.env, CI: "true", ...env }, timeout: 120_000 })
    let stdout = "", stderr = ""
    child.stdout?.on("data", (c) => (stdout += String(c)))
    child.stderr?.on("data", (c) => (stderr += String(c)))
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })

const ranCounts = (dir: string): Record<string, number> => {
  const file = path.join(dir, "ran.log")
  const counts: Record<string, number> = {}
  if (!fs.existsSync(file)) return counts
  for (const line of fs.readFileSync(file, "utf8").split("\n")) if (line !== "") counts[line] = (counts[line] ?? 0) + 1
  return counts
}

describe("durable runs on PostgreSQL (CLI)", () => {
  it("resumes after a SIGKILL: what had succeeded is not run again", async () => {
    const dir = path.join(tmp, "sigkill")
    fs.mkdirSync(dir)
    const args = ["run", "test/fixtures/durable/build.ts", "--run-id", "pg-1", "--store", pg!.url]
    const killed = await cli(args, { OUT: dir, CRASH_AT: "c" })
    expect(killed.signal, killed.stdout + killed.stderr).toBe("SIGKILL")
    expect(ranCounts(dir)).toEqual({ a: 1, b: 1, c: 1 })
    const resumed = await cli(args, { OUT: dir })
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain("[a] restored from postgres://postgres@127.0.0.1")
    expect(ranCounts(dir)).toEqual({ a: 1, b: 1, c: 2, d: 1 })
    const again = await cli(args, { OUT: dir })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`run "pg-1" of "durable fixture" already succeeded`)
    expect(ranCounts(dir)).toEqual({ a: 1, b: 1, c: 2, d: 1 })
  }, 300_000)

  it("a server that is down: one line naming the store, exit 1, nothing ran", async () => {
    const dir = path.join(tmp, "down")
    fs.mkdirSync(dir)
    // a port nothing listens on: the private server's, plus one
    const url = `postgres://postgres:secret@127.0.0.1:${pg!.port + 1}/postgres`
    const r = await cli(["run", "test/fixtures/durable/build.ts", "--run-id", "pg-2", "--store", url], { OUT: dir })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain(`error: the durable store postgres://postgres:***@127.0.0.1:${pg!.port + 1}/postgres cannot be opened`)
    expect(r.stderr).not.toContain("secret")
    expect(ranCounts(dir)).toEqual({})
  }, 120_000)
})

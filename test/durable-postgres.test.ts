/**
 * Durable runs on a real PostgreSQL server (a private one, started here as
 * `nobody` on 127.0.0.1 and always stopped and removed): the CLI with
 * `--store postgres://…`, SIGKILLed mid-run, then the same command again.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest"
import { schemaLock } from "../src/internal/durableStore.js"
import { cli, ranCounts } from "./helpers/cli.js"
import { type Postgres, startPostgres } from "./helpers/postgres.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-durable-pg-"))

let pg: Postgres | undefined
beforeAll(async () => {
  pg = await startPostgres()
}, 120_000)
afterAll(async () => {
  await pg?.stop()
  fs.rmSync(tmp, { recursive: true, force: true })
}, 60_000)

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

  it("processes opening a fresh database at once create its tables one at a time (an advisory lock), and all succeed", async () => {
    // PostgreSQL's CREATE TABLE IF NOT EXISTS fails in one of two sessions running it at once
    // ("duplicate key value violates unique constraint pg_type_typname_nsp_index"): seen with
    // three runners starting together. Here the test holds the lock first, so the four runs
    // below are all waiting for it at the same moment; then it lets go.
    pg!.query("CREATE DATABASE fresh")
    const url = pg!.url.replace(/\/postgres$/, "/fresh")
    const holder = spawn(pg!.psql, [url, "-At"], { stdio: ["pipe", "pipe", "inherit"] })
    onTestFinished(() => void holder.kill("SIGKILL"))
    const said = (text: string) =>
      new Promise<void>((resolve) => {
        let out = ""
        const onData = (chunk: Buffer) => {
          out += String(chunk)
          if (out.includes(text)) {
            holder.stdout.off("data", onData)
            resolve()
          }
        }
        holder.stdout.on("data", onData)
      })
    holder.stdin.write(`SELECT pg_advisory_lock(${schemaLock}), 'locked';\n`)
    await said("locked")
    const dirs = [1, 2, 3, 4].map((k) => {
      const dir = path.join(tmp, `fresh-${k}`)
      fs.mkdirSync(dir)
      return dir
    })
    const runs = dirs.map((dir, k) =>
      cli(["run", "test/fixtures/durable/build.ts", "--run-id", `fresh-${k}`, "--store", url], { OUT: dir })
    )
    const waiting = () =>
      Number(pg!.query(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = ${schemaLock} AND NOT granted`).trim())
    let settled = 0
    for (const run of runs) void run.then(() => settled++)
    // every run is waiting for the lock, and none has created a table yet (a run that ends
    // first did not wait for it)
    while (waiting() < 4 && settled === 0) await new Promise((resolve) => setImmediate(resolve))
    expect(settled, "a run ended before all four were waiting for the schema lock").toBe(0)
    const tables = () => pg!.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", url).trim()
    expect(tables()).toBe("0")
    holder.stdin.end(`SELECT pg_advisory_unlock(${schemaLock});\n`)
    const results = await Promise.all(runs)
    for (const r of results) expect(r.code, r.stdout + r.stderr).toBe(0)
    for (const dir of dirs) expect(ranCounts(dir)).toEqual({ a: 1, b: 1, c: 1, d: 1 })
    expect(Number(tables())).toBeGreaterThan(0)
  }, 300_000)
})

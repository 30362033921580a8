/**
 * Durable runs on a real PostgreSQL server (a private one, started here as
 * `nobody` on 127.0.0.1 and always stopped and removed): the CLI with
 * `--store postgres://…`, SIGKILLed mid-run, then the same command again.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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
})

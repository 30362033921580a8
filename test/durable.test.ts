/**
 * Durable runs as a user has them: the CLI (`src/bin.ts run
 * FILE --run-id ID --store FILE`) as real processes on a real sqlite file,
 * SIGKILLed mid-run or failing, then run again with the same id. What ran is
 * counted by side effects on disk (each task appends its name to ran.log
 * when it really runs).
 */
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Cause, Context, Effect, Exit, Layer, Option, Schema } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { cli, printed, ranCounts, ranLines, root, start } from "./helpers/cli.js"
import { Durable } from "../src/durable/index.js"
import { DurableStore, openRun } from "../src/internal/durableStore.js"
import * as Task from "../src/Task.js"
import * as TaskGraph from "../src/TaskGraph.js"

const fixture = (name: string) => path.join("test/fixtures/durable", name)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-durable-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** A fresh directory for one test: its store and its ran.log. */
const workspace = (name: string) => {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir, { recursive: true })
  return { dir, store: path.join(dir, "runs.db"), env: { OUT: dir } }
}
describe("durable runs (CLI, sqlite)", () => {
  it("resumes after a SIGKILL: what had succeeded is not run again; a finished run only prints its report", async () => {
    const w = workspace("sigkill")
    const args = ["run", fixture("build.ts"), "--run-id", "r1", "--store", w.store]
    const killed = await cli(args, { ...w.env, CRASH_AT: "c" })
    expect(killed.signal, killed.stdout + killed.stderr).toBe("SIGKILL")
    expect(ranCounts(w.dir)).toEqual({ a: 1, b: 1, c: 1 })

    const resumed = await cli(args, w.env)
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain("[a] restored from")
    expect(resumed.stdout).toContain("[b] restored from")
    expect(resumed.stdout).toContain("sum is 3")
    // c was running when the process died: at least once, so it ran again; a and b did not
    expect(ranCounts(w.dir)).toEqual({ a: 1, b: 1, c: 2, d: 1 })

    const again = await cli(args, w.env)
    expect(again.code, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toContain(`run "r1" of "durable fixture" already succeeded`)
    expect(again.stdout).toMatch(/ {2}c +ran \(attempt 1\)/)
    expect(ranCounts(w.dir)).toEqual({ a: 1, b: 1, c: 2, d: 1 })
  }, 300_000)

  it("resumes after a failure once its cause is fixed: only the failed task and what follows run", async () => {
    const w = workspace("failure")
    const args = ["run", fixture("build.ts"), "--run-id", "r2", "--store", w.store]
    const failed = await cli(args, { ...w.env, FAIL_AT: "c" })
    expect(failed.code, failed.stdout + failed.stderr).toBe(1)
    expect(failed.stdout).toContain("c broke")
    expect(ranCounts(w.dir)).toEqual({ a: 1, b: 1, c: 1 })

    const fixed = await cli(args, w.env)
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0)
    expect(ranCounts(w.dir)).toEqual({ a: 1, b: 1, c: 2, d: 1 })
    // the kept outcome of c is its second attempt
    const again = await cli(args, w.env)
    expect(again.stdout).toMatch(/ {2}c +ran \(attempt 2\)/)
  }, 300_000)

  it("refuses a data edge without a schema before anything runs, naming the task and the tag", async () => {
    const w = workspace("no-schema")
    const r = await cli(["run", fixture("no-schema.ts"), "--run-id", "r3", "--store", w.store], w.env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`task "read config" provides "Config" to "use config" but has no schema`)
    expect(ranCounts(w.dir)).toEqual({})
  }, 120_000)

  it("refuses a graph of another shape under the same run id, before anything runs", async () => {
    const w = workspace("changed")
    const args = ["run", fixture("build.ts"), "--run-id", "r4", "--store", w.store]
    const first = await cli(args, { ...w.env, FAIL_AT: "d" })
    expect(first.code).toBe(1)
    const before = ranCounts(w.dir)
    const changed = await cli(args, { ...w.env, EXTRA: "1" })
    expect(changed.code).toBe(1)
    expect(changed.stderr).toContain(`run "r4" in ${w.store} was started with a graph of another shape`)
    expect(ranCounts(w.dir)).toEqual(before)
  }, 300_000)

  it("a store that cannot be opened: one line naming it, exit 1, nothing ran", async () => {
    const w = workspace("bad-store")
    fs.writeFileSync(path.join(w.dir, "a-file"), "")
    const store = path.join(w.dir, "a-file", "runs.db")
    const r = await cli(["run", fixture("build.ts"), "--run-id", "r5", "--store", store], w.env)
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain(`error: the durable store ${store} cannot be opened`)
    expect(ranCounts(w.dir)).toEqual({})
  }, 120_000)

  it("two runs of other ids on one store at once: the second waits for the first, saying so; both finish", async () => {
    const w = workspace("two-at-once")
    const first = path.join(w.dir, "first"), second = path.join(w.dir, "second"), gate = path.join(w.dir, "gate")
    fs.mkdirSync(first)
    fs.mkdirSync(second)
    const a = start(["run", fixture("build.ts"), "--run-id", "first", "--store", w.store], { OUT: first, GATE_AT: "c", GATE: gate })
    await printed(a, "waiting at the gate") // the first run holds the store, in the middle of its run
    const b = start(["run", fixture("build.ts"), "--run-id", "second", "--store", w.store], { OUT: second })
    await printed(b, `the durable store ${w.store} is open in process ${a.child.pid}; waiting for it to close`)
    expect(ranLines(second)).toEqual([])
    fs.writeFileSync(gate, "")
    const [ra, rb] = await Promise.all([a.done, b.done])
    expect([ra.code, rb.code], ra.stderr + rb.stderr).toEqual([0, 0])
    expect(ranCounts(first)).toEqual({ a: 1, b: 1, c: 1, d: 1 })
    expect(ranCounts(second)).toEqual({ a: 1, b: 1, c: 1, d: 1 })
    // the lock goes with the process that held it
    expect(fs.existsSync(`${w.store}.lock`)).toBe(false)
  }, 300_000)

  it("a store another program holds write-locked (an open transaction): one line saying so, exit 1, nothing ran", async () => {
    const w = workspace("locked")
    // another program: a sqlite connection in its own process, in an exclusive transaction until killed
    const holder = spawn(process.execPath, [
      "-e",
      `const db = new (require("better-sqlite3"))(${JSON.stringify(w.store)}); db.exec("BEGIN EXCLUSIVE; CREATE TABLE held (x)"); console.log("locked"); setInterval(() => {}, 1000)`
    ], { cwd: root, stdio: ["ignore", "pipe", "inherit"] })
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on("data", (d: Buffer) => d.toString().includes("locked") && resolve())
        holder.on("exit", (code) => reject(new Error(`the lock holder exited with ${code}`)))
      })
      const r = await cli(["run", fixture("build.ts"), "--run-id", "l1", "--store", w.store], w.env)
      expect(r.code).toBe(1)
      expect(r.stderr.trim().split("\n")).toHaveLength(1)
      expect(r.stderr).toContain(`error: the durable store ${w.store} cannot be opened: database is locked`)
      expect(r.stderr).toContain("another program holds a write lock on it")
      expect(ranCounts(w.dir)).toEqual({})
    } finally {
      holder.kill("SIGKILL")
    }
  }, 300_000)

  it("a damaged store file (its pages overwritten): one line naming it, exit 1, nothing ran", async () => {
    const w = workspace("damaged")
    const made = await cli(["run", fixture("build.ts"), "--run-id", "d1", "--store", w.store], { ...w.env, CRASH_AT: "c" })
    expect(made.signal).toBe("SIGKILL")
    // opened and closed once more, so that sqlite moves its write-ahead log into the file
    await Effect.runPromise(Effect.scoped(Layer.build(Durable.layerSqlite(w.store))))
    const fd = fs.openSync(w.store, "r+")
    for (let page = 1; page < fs.statSync(w.store).size / 4096; page++) fs.writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, page * 4096)
    fs.closeSync(fd)
    fs.rmSync(path.join(w.dir, "ran.log"))
    const r = await cli(["run", fixture("build.ts"), "--run-id", "d1", "--store", w.store], w.env)
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toMatch(new RegExp(`^error: the durable store ${w.store} cannot be opened: .*(damaged|malformed)`))
    expect(ranCounts(w.dir)).toEqual({})
  }, 300_000)

  it("without --run-id it runs as before: nothing restored", async () => {
    const w = workspace("plain")
    const r = await cli(["run", fixture("build.ts")], w.env)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(fs.existsSync(path.join(root, "test/fixtures/durable/.taskgraph"))).toBe(false)
    expect(r.stdout).not.toContain("restored")
  }, 120_000)
})

class Broken extends Schema.TaggedError<Broken>()("Broken", { part: Schema.String, code: Schema.Number }) {}
class Out extends Context.Tag("Out")<Out, number>() {}

describe("durable runs (library)", () => {
  it("typed errors survive the round trip through the store; other errors come back as defects with their message", async () => {
    const store = path.join(tmp, "typed.db")
    const typed = Task.make("typed", {
      provides: Out,
      schema: Schema.Number,
      errorSchema: Broken,
      run: Effect.fail(new Broken({ part: "disk", code: 28 }))
    })
    const untyped = Task.make("untyped", { run: Effect.fail({ reason: "plain object" }) })
    const graph = TaskGraph.make("errors", [typed, untyped])
    const exit = await Effect.runPromiseExit(
      Durable.run(graph, { runId: "e1", mode: "continue" }).pipe(Effect.provide(Durable.layerSqlite(store)))
    )
    expect(Exit.isFailure(exit)).toBe(true)

    // a new store instance reads back what the first one wrote
    const read = Effect.gen(function*() {
      const run = yield* openRun(yield* DurableStore, "e1")
      const t = yield* run.lookup("task/typed", Schema.Number, Broken)
      const u = yield* run.lookup("task/untyped", Schema.Undefined, Schema.Never)
      return { t, u }
    }).pipe(Effect.provide(Durable.layerSqlite(store)))
    const { t, u } = await Effect.runPromise(read)
    expect(t._tag).toBe("Open")
    expect(t.attempt).toBe(2)
    const previous = t._tag === "Open" ? t.previous : undefined
    expect(previous !== undefined && Exit.isFailure(previous)).toBe(true)
    const error = previous !== undefined && Exit.isFailure(previous) ? Cause.failureOption(previous.cause) : undefined
    expect(error?._tag).toBe("Some")
    const value = error?._tag === "Some" ? error.value : undefined
    expect(value).toBeInstanceOf(Broken)
    expect(value).toMatchObject({ _tag: "Broken", part: "disk", code: 28 })

    const previousU = u._tag === "Open" ? u.previous : undefined
    expect(previousU !== undefined && Exit.isFailure(previousU) && Cause.isDie(previousU.cause)).toBe(true)
    const defect = previousU !== undefined && Exit.isFailure(previousU) ? Cause.squash(previousU.cause) : undefined
    expect(String((defect as Error).message)).toContain("plain object")
  }, 120_000)

  it("Task.sync and Task.promise tasks are stored and restored like any other: run again, their functions are not called", async () => {
    const store = path.join(tmp, "sync.db")
    const calls: Array<string> = []
    const sum = Task.sync("sum", {
      provides: Out,
      schema: Schema.Number,
      run: () => {
        calls.push("sum")
        return 6
      }
    })
    const show = Task.make("show", { requires: [Out], run: Effect.map(Out, (n) => `sum ${n}`) })
    const line = Task.sync("line", {
      requires: [Out],
      run: (services) => {
        calls.push("line")
        return `line ${Context.get(services, Out)}`
      }
    })
    const fetched = Task.promise("fetched", {
      requires: [Out],
      run: (services) => {
        calls.push("fetched")
        return Promise.resolve(Context.get(services, Out) + 1)
      }
    })
    const graph = TaskGraph.make("sync", [sum, show, line, fetched])
    const runOnce = Durable.run(graph, { runId: "s1" }).pipe(Effect.provide(Durable.layerSqlite(store)))
    const first = await Effect.runPromise(runOnce)
    expect(calls.sort()).toEqual(["fetched", "line", "sum"])
    expect(first.tasks.find((t) => t.name === "show")?.value).toEqual(Option.some("sum 6"))
    expect(first.tasks.find((t) => t.name === "line")?.value).toEqual(Option.some("line 6"))
    expect(first.tasks.find((t) => t.name === "fetched")?.value).toEqual(Option.some(7))
    await Effect.runPromise(runOnce)
    expect(calls).toEqual(["fetched", "line", "sum"])
  }, 120_000)
})

class Image extends Context.Tag("Image")<Image, { readonly path: string }>() {}
class Machine extends Context.Tag("Machine")<Machine, { readonly id: number }>() {}

describe("SQL drivers (library)", () => {
  // which modules a fresh process loads, through the recorder of test/package.test.ts
  const loads = (code: string) => {
    const record = path.join(workspace("loads").dir, `loads-${Math.random().toString(36).slice(2)}.txt`)
    execFileSync(process.execPath, ["--import", "tsx", "--import", "./test/fixtures/package/app/record-loads.mjs", "--input-type=module", "-e", code], {
      cwd: root,
      env: { ...process.env, RECORD_LOADS: record }
    })
    return fs.readFileSync(record, "utf8").trim().split("\n")
  }
  const drivers = (urls: ReadonlyArray<string>) =>
    ["@effect/sql-pg", "@effect/sql-sqlite-node"].filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`)))

  it("each store loads only its own driver: none at import, sqlite's for a sqlite store", () => {
    expect(drivers(loads(`await import("./src/durable/index.ts")`))).toEqual([])
    const store = path.join(workspace("drivers").dir, "runs.db")
    const opened = loads(
      `const { Effect, Layer } = await import("effect"); const { Durable } = await import("./src/durable/index.ts");` +
        `await Effect.runPromise(Effect.scoped(Layer.build(Durable.layerSqlite(${JSON.stringify(store)}))))`
    )
    expect(drivers(opened)).toEqual(["@effect/sql-sqlite-node"])
  }, 120_000)
})

describe("a changed schema (library)", () => {
  it("is a graph of another shape: the run id is refused with GraphChangedError, not left failing to decode", async () => {
    const store = path.join(workspace("schema-change").dir, "runs.db")
    class Sources extends Context.Tag("Sources")<Sources, { readonly files: ReadonlyArray<string> }>() {}
    const graphWith = <I>(schema: Schema.Schema<{ readonly files: ReadonlyArray<string> }, I>) =>
      TaskGraph.make("schemas", [
        Task.make("fetch", { provides: Sources, schema, run: Effect.succeed({ files: ["a.ts"] }) }),
        Task.make("build", { requires: [Sources], run: Effect.fail("build broke") })
      ])
    const before = Schema.Struct({ files: Schema.Array(Schema.String) })
    // the same type, stored another way (the list as a JSON string)
    const after = Schema.Struct({ files: Schema.parseJson(Schema.Array(Schema.String)) })
    expect(Durable.fingerprint(graphWith(before))).not.toBe(Durable.fingerprint(graphWith(after)))
    const run = (graph: TaskGraph.TaskGraph<unknown, never, unknown>) =>
      Effect.runPromiseExit(Durable.run(graph, { runId: "s1" }).pipe(Effect.provide(Durable.layerSqlite(store))))
    expect(Exit.isFailure(await run(graphWith(before)))).toBe(true) // unfinished: build failed
    const exit = await run(graphWith(after))
    const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
    expect(failure?._tag === "Some" ? failure.value._tag : failure).toBe("GraphChangedError")
  }, 120_000)
})

describe("resource groups (library)", () => {
  it("a failure inside a group: the group runs again from its start (acquired again, released in order); data outside is restored", async () => {
    const store = path.join(tmp, "groups.db")
    const log: Array<string> = []
    let failTests = true
    let machines = 0
    const image = Task.make("build image", {
      provides: Image,
      schema: Schema.Struct({ path: Schema.String }),
      run: Effect.sync(() => {
        log.push("build image")
        return { path: "img.qcow2" }
      })
    })
    const machine = Task.make("boot", {
      requires: [Image],
      provides: Machine,
      resource: true,
      run: Effect.acquireRelease(
        Effect.sync(() => {
          log.push("boot")
          return { id: ++machines }
        }),
        () => Effect.sync(() => log.push("power off"))
      )
    })
    const tests = Task.make("tests", {
      requires: [Machine],
      run: Effect.flatMap(Machine, (m) =>
        Effect.suspend(() => {
          log.push(`tests on ${m.id}`)
          return failTests ? Effect.fail("flaky") : Effect.succeed(m.id)
        }))
    })
    const graph = TaskGraph.make("group", [image, machine, tests])
    const run = graph.pipe(Durable.run({ runId: "g1" }), Effect.provide(Durable.layerSqlite(store)))

    expect(Exit.isFailure(await Effect.runPromiseExit(run))).toBe(true)
    expect(log).toEqual(["build image", "boot", "tests on 1", "power off"])
    failTests = false
    log.length = 0
    const report = await Effect.runPromise(run)
    expect(report.status).toBe("succeeded")
    // the image is restored; the group (boot + tests) runs again, released in order
    expect(log).toEqual(["boot", "tests on 2", "power off"])
    log.length = 0
    await Effect.runPromise(run)
    expect(log).toEqual([])
  }, 120_000)

  it("a schema-less data edge between plain tasks is refused with NotDurableError (library)", async () => {
    const store = path.join(tmp, "refused.db")
    const plain = Task.make("plain image", { provides: Image, run: Effect.succeed({ path: "x" }) })
    const user = Task.make("use image", { requires: [Image], run: Effect.void })
    const exit = await Effect.runPromiseExit(
      Durable.run(TaskGraph.make("refused", [plain, user]), { runId: "x" }).pipe(Effect.provide(Durable.layerSqlite(store)))
    )
    expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
      _tag: "Some",
      value: { _tag: "NotDurableError", task: "plain image", tag: "Image", usedBy: ["use image"] }
    })
  }, 120_000)
})

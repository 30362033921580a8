import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Layer, Option, Ref, Schedule, Scope, TestClock } from "effect"
import { RunReport, Task, TaskGraph } from "../../src/index.js"

class Db extends Context.Tag("Db")<Db, { readonly url: string }>() {}
class Cache extends Context.Tag("Cache")<Cache, { readonly size: number }>() {}
class Config extends Context.Tag("Config")<Config, { readonly dsn: string }>() {}
class Other extends Context.Tag("Other")<Other, string>() {}

const journalOf = Effect.map(Ref.make<Array<string>>([]), (journal) => ({
  journal,
  note: (s: string) => Ref.update(journal, (j) => [...j, s])
}))

describe("Task.fromLayer", () => {
  it.effect("two tags from one layer, each required by a different task; released after both", () =>
    Effect.gen(function*() {
      const { journal, note } = yield* journalOf
      const DbLive = Layer.scoped(Db, Effect.acquireRelease(Effect.as(note("db up"), { url: "pg://x" }), () => note("db down")))
      const CacheLive = Layer.scoped(Cache, Effect.acquireRelease(Effect.as(note("cache up"), { size: 64 }), () => note("cache down")))
      const env = Task.fromLayer("start env", Layer.merge(DbLive, CacheLive), { provides: [Db, Cache] })
      const query = Task.make("query", {
        requires: [Db],
        run: Effect.gen(function*() {
          const db = yield* Db
          yield* Effect.sleep("1 second")
          yield* note("query done")
          return db.url
        })
      })
      const warm = Task.make("warm", {
        requires: [Cache],
        run: Effect.gen(function*() {
          const cache = yield* Cache
          yield* Effect.sleep("3 seconds")
          yield* note("warm done")
          return cache.size
        })
      })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("layers", [env, query, warm])))
      yield* TestClock.adjust("1 second")
      // query is done but warm still uses the layer: nothing released
      expect(yield* Ref.get(journal)).toEqual(["db up", "cache up", "query done"])
      yield* TestClock.adjust("2 seconds")
      const report = yield* Effect.flatMap(Effect.fromFiber(fiber), Effect.succeed)
      // released once, after both, in the layer's own order (reverse of acquisition)
      expect(yield* Ref.get(journal)).toEqual(["db up", "cache up", "query done", "warm done", "cache down", "db down"])
      expect(RunReport.value(report, "query")).toEqual(Option.some("pg://x"))
      expect(RunReport.value(report, "warm")).toEqual(Option.some(64))
      const envReport = Option.getOrThrow(RunReport.task(report, "start env"))
      expect(envReport.provides).toEqual(["Db", "Cache"])
      expect(envReport.status).toBe("released")
      expect(report.dependencies).toEqual([
        { from: "start env", to: "query", tag: "Db" },
        { from: "start env", to: "warm", tag: "Cache" }
      ])
    }))

  it.effect("one task may require two tags of the same layer", () =>
    Effect.gen(function*() {
      const env = Task.fromLayer("env", Layer.merge(Layer.succeed(Db, { url: "pg://y" }), Layer.succeed(Cache, { size: 2 })), {
        provides: [Db, Cache]
      })
      const both = Task.make("both", {
        requires: [Db, Cache],
        run: Effect.gen(function*() {
          return `${(yield* Db).url}:${(yield* Cache).size}`
        })
      })
      const report = yield* TaskGraph.run(TaskGraph.make("g", [env, both]))
      expect(RunReport.value(report, "both")).toEqual(Option.some("pg://y:2"))
      expect(Option.getOrThrow(RunReport.task(report, "both")).waitedFor).toEqual(["env"])
    }))

  it.effect("a layer whose input comes from another task is built after it", () =>
    Effect.gen(function*() {
      const { journal, note } = yield* journalOf
      const config = Task.make("read config", {
        provides: Config,
        run: Effect.as(Effect.zipRight(Effect.sleep("2 seconds"), note("config read")), { dsn: "pg://from-config" })
      })
      const DbLive = Layer.effect(Db, Effect.map(Config, (c) => ({ url: c.dsn })))
      const db = Task.fromLayer("start db", Layer.tap(DbLive, () => note("db built")), { provides: [Db], requires: [Config] })
      const use = Task.make("use db", { requires: [Db], run: Effect.map(Db, (d) => d.url) })
      const graph = TaskGraph.make("g", [use, db, config])
      const plan = yield* TaskGraph.validate(graph)
      expect(plan.layers).toEqual([["read config"], ["start db"], ["use db"]])
      const fiber = yield* Effect.fork(TaskGraph.run(graph))
      yield* TestClock.adjust("2 seconds")
      const report = yield* Effect.fromFiber(fiber)
      expect(yield* Ref.get(journal)).toEqual(["config read", "db built"])
      expect(RunReport.value(report, "use db")).toEqual(Option.some("pg://from-config"))
    }))

  it.effect("a layer input no task provides must come from the context, else validation names it", () =>
    Effect.gen(function*() {
      const db = Task.fromLayer("start db", Layer.effect(Db, Effect.map(Config, (c) => ({ url: c.dsn }))), {
        provides: [Db],
        requires: [Config]
      })
      const graph = TaskGraph.make("g", [db])
      // the compiler already insists on Config (it is in R); erase R to see the runtime check
      const error = yield* Effect.flip(TaskGraph.run(graph) as Effect.Effect<unknown, TaskGraph.TaskGraphError>)
      expect(error._tag).toBe("MissingProviderError")
      expect(error.message).toContain(`no provider for "Config", required by "start db"`)
      const report = yield* TaskGraph.run(graph).pipe(Effect.provideService(Config, { dsn: "pg://ctx" }))
      expect(RunReport.value(report, "start db").pipe(Option.map((c) => Context.get(c as Context.Context<Db>, Db).url)))
        .toEqual(Option.some("pg://ctx"))
    }))

  it.effect("a layer that fails to build fails the task with the layer's cause; what it built is released", () =>
    Effect.gen(function*() {
      const { journal, note } = yield* journalOf
      const DbLive = Layer.scoped(Db, Effect.acquireRelease(Effect.as(note("db up"), { url: "pg://x" }), () => note("db down")))
      const CacheLive = Layer.fail("cache refused")
      const env = Task.fromLayer("start env", Layer.merge(DbLive, Layer.provide(Layer.effect(Cache, Effect.never), CacheLive)), {
        provides: [Db, Cache]
      })
      const query = Task.make("query", { requires: [Db], run: Effect.void })
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("g", [env, query])))
      expect(error._tag).toBe("RunFailedError")
      if (error._tag !== "RunFailedError") return
      expect(error.failures.map((f) => f.task)).toEqual(["start env"])
      expect(Cause.failureOption(error.failures[0]!.cause)).toEqual(Option.some("cache refused"))
      expect(Option.getOrThrow(RunReport.task(error.report, "query")).status).toBe("skipped")
      expect(yield* Ref.get(journal)).toEqual(["db up", "db down"])
    }))

  it.effect("retry builds the layer afresh each attempt; timeout bounds the build", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const Flaky = Layer.effect(
        Db,
        Effect.flatMap(Ref.updateAndGet(attempts, (n) => n + 1), (n) => n < 3 ? Effect.fail(`attempt ${n}`) : Effect.succeed({ url: `pg://${n}` }))
      )
      const db = Task.fromLayer("flaky db", Flaky, { provides: [Db], retry: Schedule.recurs(3) })
      const use = Task.make("use", { requires: [Db], run: Effect.map(Db, (d) => d.url) })
      const report = yield* TaskGraph.run(TaskGraph.make("g", [db, use]))
      expect(RunReport.value(report, "use")).toEqual(Option.some("pg://3"))
      expect(Option.getOrThrow(RunReport.task(report, "flaky db")).attempts).toBe(3)

      const slow = Task.fromLayer("slow db", Layer.effect(Db, Effect.never), { provides: [Db], timeout: "5 seconds" })
      const fiber = yield* Effect.fork(Effect.flip(TaskGraph.run(TaskGraph.make("g", [slow]))))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Effect.fromFiber(fiber)
      expect(error._tag === "RunFailedError" && Option.getOrThrow(RunReport.task(error.report, "slow db")).status).toBe("timed out")
    }))

  it.effect("pools work as for any task", () =>
    Effect.gen(function*() {
      const db = Task.fromLayer("db", Layer.succeed(Db, { url: "u" }), { provides: [Db], pools: { vm: 2 } })
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("g", [db]), { pools: { vm: 1 } }))
      expect(error.message).toContain(`task "db" needs 2 of it but its size is 1`)
    }))

  it.effect("toLayer of a graph containing layer tasks provides every tag; released when the layer is", () =>
    Effect.gen(function*() {
      const { journal, note } = yield* journalOf
      const DbLive = Layer.scoped(Db, Effect.acquireRelease(Effect.as(note("db up"), { url: "pg://x" }), () => note("db down")))
      const env = Task.fromLayer("env", Layer.merge(DbLive, Layer.succeed(Cache, { size: 8 })), { provides: [Db, Cache] })
      const other = Task.make("other", {
        requires: [Cache],
        provides: Other,
        run: Effect.map(Cache, (c) => `size ${c.size}`)
      })
      const layer = TaskGraph.toLayer(TaskGraph.make("env", [env, other]))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(layer, scope)
      expect(Context.get(context, Db).url).toBe("pg://x")
      expect(Context.get(context, Cache).size).toBe(8)
      expect(Context.get(context, Other)).toBe("size 8")
      expect(yield* Ref.get(journal)).toEqual(["db up"])
      yield* Scope.close(scope, Exit.void)
      expect(yield* Ref.get(journal)).toEqual(["db up", "db down"])
    }))

  it("toMermaid shows every tag a layer task provides", () => {
    const env = Task.fromLayer("env", Layer.merge(Layer.succeed(Db, { url: "u" }), Layer.succeed(Cache, { size: 1 })), {
      provides: [Db, Cache]
    })
    const query = Task.make("query", { requires: [Db], run: Effect.void })
    const mermaid = TaskGraph.toMermaid(TaskGraph.make("g", [env, query]))
    expect(mermaid).toContain(`t0["env<br/>provides Db, Cache"]`)
    expect(mermaid).toContain(`t0 -- "Db" --> t1`)
  })

  it.effect("two providers of one tag, a layer among them, is a validation error naming both", () =>
    Effect.gen(function*() {
      const env = Task.fromLayer("env", Layer.succeed(Db, { url: "u" }), { provides: [Db] })
      const db = Task.make("db", { provides: Db, run: Effect.succeed({ url: "v" }) })
      const error = yield* Effect.flip(TaskGraph.validate(TaskGraph.make("g", [env, db])))
      expect(error._tag).toBe("DuplicateProviderError")
      expect(error.message).toContain(`"Db" is provided by "env" and "db"`)
    }))
})

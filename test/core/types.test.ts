/**
 * Type-level rules, checked by `tsc --noEmit` (part of `npm test`): every
 * `@ts-expect-error` line must really be an error, or type-checking fails.
 */
import { describe, expectTypeOf, it } from "@effect/vitest"
import { FileSystem } from "@effect/platform"
import { Context, Effect, Layer } from "effect"
import type { RunReport } from "../../src/index.js"
import { Task, TaskGraph } from "../../src/index.js"
import * as Main from "../../src/Main.js"

class Overlay extends Context.Tag("Overlay")<Overlay, { readonly path: string }>() {}
class Vm extends Context.Tag("Vm")<Vm, { readonly sshPort: number }>() {}
class Secret extends Context.Tag("Secret")<Secret, string>() {}

const overlay = Task.make("create overlay image", { provides: Overlay, run: Effect.succeed({ path: "o.qcow2" }) })
const vm = Task.make("start vm", {
  requires: [Overlay],
  provides: Vm,
  run: Effect.map(Overlay, () => ({ sshPort: 2222 }))
})
const tests = Task.make("run tests", {
  requires: [Vm],
  run: Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem // ambient: from outside the graph
    yield* Effect.orDie(fs.exists("/tmp"))
    return (yield* Vm).sshPort
  })
})

describe("types", () => {
  it("a task's type carries its value, error, context, provided and required tags", () => {
    expectTypeOf(vm).toEqualTypeOf<Task.Task<{ readonly sshPort: number }, never, Overlay, Vm, Overlay>>()
    expectTypeOf(tests).toEqualTypeOf<Task.Task<number, never, FileSystem.FileSystem | Vm, never, Vm>>()
  })

  it("R of run/start/toLayer is every ambient service plus every required tag no task provides", () => {
    const graph = TaskGraph.make("run tests once", [overlay, vm, tests])
    expectTypeOf(TaskGraph.run(graph)).toEqualTypeOf<
      Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<never>, FileSystem.FileSystem>
    >()
    // without the overlay task, Overlay must come from outside
    const partial = TaskGraph.make("partial", [vm, tests])
    expectTypeOf(TaskGraph.run(partial)).toEqualTypeOf<
      Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<never>, FileSystem.FileSystem | Overlay>
    >()
    expectTypeOf(TaskGraph.toLayer(graph)).toEqualTypeOf<
      Layer.Layer<Overlay | Vm, TaskGraph.TaskGraphError<never>, FileSystem.FileSystem>
    >()
    // a required but unused tag still counts
    const needsSecret = Task.make("needs secret", { requires: [Secret], run: Effect.void })
    expectTypeOf(TaskGraph.run(TaskGraph.make("g", [needsSecret]))).toEqualTypeOf<
      Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<never>, Secret>
    >()
  })

  it("a graph with an unprovided dependency cannot be run without providing it", () => {
    const partial = TaskGraph.make("partial", [vm])
    const runnable: Effect.Effect<unknown, unknown, never> = TaskGraph.run(partial).pipe(
      Effect.provideService(Overlay, { path: "x" })
    )
    // @ts-expect-error Overlay is missing
    const notRunnable: Effect.Effect<unknown, unknown, never> = TaskGraph.run(partial)
    void runnable
    void notRunnable
  })

  it("using a tag another task provides without listing it in requires is a compile-time error", () => {
    const sneaky = Task.make("sneaky", { run: Effect.map(Vm, (v) => v.sshPort) })
    // @ts-expect-error sneaky uses Vm, which "start vm" provides, but does not require it
    TaskGraph.make("g", [overlay, vm, sneaky])
    // declaring it fixes it
    const honest = Task.make("honest", { requires: [Vm], run: Effect.map(Vm, (v) => v.sshPort) })
    TaskGraph.make("g", [overlay, vm, honest])
    // and when no task provides Vm, it is simply an ambient requirement
    expectTypeOf(TaskGraph.run(TaskGraph.make("g", [sneaky]))).toEqualTypeOf<
      Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<never>, Vm>
    >()
  })

  it("errors of tasks flow into the run's error", () => {
    const failing = Task.make("failing", { run: Effect.fail("boom" as const) })
    expectTypeOf(TaskGraph.run(TaskGraph.make("g", [failing]))).toEqualTypeOf<
      Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<"boom">, never>
    >()
  })

  it("tasks written inline in the graph infer as precisely as named ones", () => {
    const graph = TaskGraph.make("g", [Task.make("x", { run: Effect.fail("bad" as const) })])
    expectTypeOf(TaskGraph.run(graph)).toEqualTypeOf<
      Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<"bad">, never>
    >()
  })

  it("a provider's run must produce its tag's service", () => {
    // @ts-expect-error the Vm service is { sshPort: number }
    Task.make("bad vm", { provides: Vm, run: Effect.succeed({ port: 1 }) })
  })

  it("Task.sync: a plain function's result is the task's value; with provides it must be the service", () => {
    const sum = Task.sync("sum", { provides: Secret, run: () => "s3cret" })
    expectTypeOf(sum).toEqualTypeOf<Task.Task<string, never, never, Secret, never>>()
    const count = Task.sync("count", { after: [sum], run: () => 3 })
    expectTypeOf(count).toEqualTypeOf<Task.Task<number, never, never, never, never>>()
    // @ts-expect-error Secret's service is a string
    Task.sync("wrong", { provides: Secret, run: () => 42 })
    // @ts-expect-error run is a function, not an Effect (that is Task.make)
    Task.sync("effect", { run: Effect.succeed(1) })
    // @ts-expect-error no timeout: a synchronous call cannot be interrupted
    Task.sync("timed", { run: () => 1, timeout: "1 second" })
    const shown = Task.sync("shown", { requires: [Secret], run: (services) => Context.get(services, Secret).length })
    expectTypeOf(shown).toEqualTypeOf<Task.Task<number, never, never, never, Secret>>()
    // @ts-expect-error Vm is not in requires, so the function's services do not have it
    Task.sync("unlisted", { requires: [Secret], run: (services) => Context.get(services, Vm) })
    const fetched = Task.promise("fetched", { provides: Secret, run: (_, signal) => Promise.resolve(signal.aborted ? "" : "s3cret") })
    expectTypeOf(fetched).toEqualTypeOf<Task.Task<string, never, never, Secret, never>>()
    const port = Task.promise("port", { requires: [Vm], run: (services) => Promise.resolve(Context.get(services, Vm).sshPort) })
    expectTypeOf(port).toEqualTypeOf<Task.Task<number, never, never, never, Vm>>()
    // @ts-expect-error run returns a Promise of the service: a string, not a number
    Task.promise("wrong", { provides: Secret, run: () => Promise.resolve(42) })
    // @ts-expect-error run returns a Promise, not a plain value (that is Task.sync)
    Task.promise("plain", { run: () => 1 })
  })

  it("Scope is given to every task and is not a requirement of the graph", () => {
    const scoped = Task.make("scoped", {
      run: Effect.acquireRelease(Effect.succeed(1), () => Effect.void)
    })
    expectTypeOf(TaskGraph.run(TaskGraph.make("g", [scoped]))).toEqualTypeOf<
      Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<never>, never>
    >()
  })
  describe("Task.fromLayer", () => {
    class Db extends Context.Tag("Db")<Db, { readonly url: string }>() {}
    class Cache extends Context.Tag("Cache")<Cache, { readonly size: number }>() {}
    class Config extends Context.Tag("Config")<Config, { readonly dsn: string }>() {}
    const Live = Layer.merge(Layer.succeed(Db, { url: "u" }), Layer.succeed(Cache, { size: 1 }))

    it("provides every tag of the layer's output; its input is the task's context", () => {
      const env = Task.fromLayer("env", Live, { provides: [Db, Cache] })
      expectTypeOf(env).toEqualTypeOf<Task.Task<Context.Context<Db | Cache>, never, never, Db | Cache, never>>()
      const fromConfig = Task.fromLayer("db", Layer.effect(Db, Effect.map(Config, (c) => ({ url: c.dsn }))), {
        provides: [Db],
        requires: [Config]
      })
      expectTypeOf(fromConfig).toEqualTypeOf<Task.Task<Context.Context<Db>, never, Config, Db, Config>>()
      const query = Task.make("query", { requires: [Db], run: Effect.map(Db, (d) => d.url) })
      // Config comes from outside unless a task provides it
      expectTypeOf(TaskGraph.run(TaskGraph.make("g", [fromConfig, query]))).toEqualTypeOf<
        Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<never>, Config>
      >()
      expectTypeOf(TaskGraph.toLayer(TaskGraph.make("g", [env, query]))).toEqualTypeOf<
        Layer.Layer<Db | Cache, TaskGraph.TaskGraphError<never>, never>
      >()
    })

    it("using a layer-provided tag without requiring it is a compile-time error", () => {
      const env = Task.fromLayer("env", Live, { provides: [Db, Cache] })
      const sneaky = Task.make("sneaky", { requires: [Db], run: Effect.map(Cache, (c) => c.size) })
      // @ts-expect-error sneaky uses Cache, which the layer task "env" provides, but requires only Db
      TaskGraph.make("g", [env, sneaky])
      const honest = Task.make("honest", { requires: [Db, Cache], run: Effect.map(Cache, (c) => c.size) })
      TaskGraph.make("g", [env, honest])
    })

    it("a layer whose input another task provides must list it in requires", () => {
      const config = Task.make("config", { provides: Config, run: Effect.succeed({ dsn: "d" }) })
      const db = Task.fromLayer("db", Layer.effect(Db, Effect.map(Config, (c) => ({ url: c.dsn }))), { provides: [Db] })
      // @ts-expect-error the layer needs Config, which "config" provides, but the task does not require it
      TaskGraph.make("g", [config, db])
    })

    it("provides must list exactly the layer's output", () => {
      const partial = Task.fromLayer("env", Live, { provides: [Db] })
      // @ts-expect-error the layer also builds Cache
      TaskGraph.make("g", [partial])
      const extra = Task.fromLayer("env", Layer.succeed(Db, { url: "u" }), { provides: [Db, Cache] })
      // @ts-expect-error Cache is listed but the layer does not build it
      TaskGraph.make("g", [extra])
    })
  })

  describe("Task.forEach", () => {
    class Files extends Context.Tag("Files")<Files, ReadonlyArray<string>>() {}
    it("an item has the type of what the items are: from a list, an Effect, or a required tag", () => {
      Task.forEach("list", ["a", "b"], (file) => {
        expectTypeOf(file).toEqualTypeOf<string>()
        return [Task.make("run", { run: Effect.log(file.toUpperCase()) })]
      })
      Task.forEach("effect", Effect.succeed([1, 2]), (n) => {
        expectTypeOf(n).toEqualTypeOf<number>()
        return [Task.make("run", { run: Effect.succeed(n + 1) })]
      })
      // a tag is an Effect and also an Iterable (for yield*): the items are its service's
      const fromTag = Task.forEach("tag", Files, (file) => {
        expectTypeOf(file).toEqualTypeOf<string>()
        return [Task.make("run", { run: Effect.log(file.toUpperCase()) })]
      }, { requires: [Files] })
      expectTypeOf<Task.Task.Requires<typeof fromTag>>().toEqualTypeOf<Files>()
    })
  })

  describe("Main.runMain", () => {
    class Database extends Context.Tag("Database")<Database, { readonly url: string }>() {}
    const usesFs = TaskGraph.make("fs", [
      Task.make("read", { run: Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists("/")) })
    ])
    const usesDb = TaskGraph.make("db", [Task.make("query", { run: Effect.map(Database, (db) => db.url) })])
    const dbLayer = Layer.succeed(Database, { url: "postgres://localhost" })

    it("provides the Node platform services; anything else must come from options.layer", () => {
      expectTypeOf<Main.CheckProvided<FileSystem.FileSystem, never>>().toEqualTypeOf<unknown>()
      expectTypeOf<Main.CheckProvided<Database, Database>>().toEqualTypeOf<unknown>()
      expectTypeOf<Main.CheckProvided<Database, never>>().not.toEqualTypeOf<unknown>()
      // the calls themselves, checked by tsc and never made (runMain would exit the process)
      const calls = () => {
        Main.runMain(usesFs)
        Main.runMain(usesDb, { layer: dbLayer, concurrency: 2 })
        // @ts-expect-error Database is provided by nobody
        Main.runMain(usesDb)
        // @ts-expect-error the layer provides something else
        Main.runMain(usesDb, { layer: Layer.succeed(Context.GenericTag<"Other", number>("Other"), 1) })
      }
      expectTypeOf(calls).returns.toEqualTypeOf<void>()
    })
  })
})

/**
 * `Task.sync`: a task whose work is one synchronous call, made by the scheduler
 * itself without a fiber. What it promises: the same value, events, report,
 * failure handling and spans as the same function under `Task.make` with
 * `Effect.sync`; no fiber started for it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Layer, Option, Stream } from "effect"
import { GraphError, RunReport, Task, TaskGraph } from "../../src/index.js"
import { recordingTracer, StartCounter } from "../helpers/observe.js"

class Sum extends Context.Tag("Sum")<Sum, number>() {}
class Sizes extends Context.Tag("Sizes")<Sizes, ReadonlyArray<number>>() {}
class Unit extends Context.Tag("Unit")<Unit, string>() {}
class Scale extends Context.Tag("Scale")<Scale, number>() {}


describe("Task.sync", () => {
  it.effect("calls the function once, without a fiber; its value reaches the tasks that require its tag", () =>
    Effect.gen(function*() {
      const calls: Array<string> = []
      const sum = Task.sync("sum", {
        provides: Sum,
        run: () => {
          calls.push("sum")
          return 1 + 2 + 3
        }
      })
      const after = Task.sync("after sum", { after: [sum], run: () => calls.push("after sum") })
      const show = Task.make("show", { requires: [Sum], run: Effect.map(Sum, (n) => `sum ${n}`) })
      const counter = new StartCounter()
      const report = yield* TaskGraph.run(TaskGraph.make("sync", [sum, after, show])).pipe(Effect.supervised(counter))
      expect(calls).toEqual(["sum", "after sum"])
      expect(RunReport.value(report, "sum")).toEqual(Option.some(6))
      expect(RunReport.value(report, "show")).toEqual(Option.some("sum 6"))
      expect(report.tasks.map((t) => [t.name, t.status, t.attempts])).toEqual([
        ["sum", "released", 1],
        ["after sum", "released", 1],
        ["show", "released", 1]
      ])
      // only "show" ran in a fiber
      expect(counter.started).toBe(1)
    }))

  it.effect("with requires, the function reads its dependencies' services, from any kind of task", () =>
    Effect.gen(function*() {
      const sizes = Task.make("sizes", { provides: Sizes, run: Effect.succeed([3, 5, 8]) })
      const unit = Task.fromLayer("unit", Layer.merge(Layer.succeed(Unit, "KB"), Layer.succeed(Scale, 2)), {
        provides: [Unit, Scale]
      })
      const sum = Task.sync("sum", {
        provides: Sum,
        requires: [Sizes, Scale],
        run: (services) => Context.get(services, Sizes).reduce((a, b) => a + b, 0) * Context.get(services, Scale)
      })
      const line = Task.sync("line", { requires: [Sum, Unit], run: (services) => `${Context.get(services, Sum)} ${Context.get(services, Unit)}` })
      const counter = new StartCounter()
      const report = yield* TaskGraph.run(TaskGraph.make("requires", [sizes, unit, sum, line])).pipe(Effect.supervised(counter))
      expect(RunReport.value(report, "sum")).toEqual(Option.some(32))
      expect(RunReport.value(report, "line")).toEqual(Option.some("32 KB"))
      // the same two steps as Task.make + Effect.sync: same values, a fiber each more
      const sumInFiber = Task.make("sum", {
        provides: Sum,
        requires: [Sizes, Scale],
        run: Effect.map(Effect.all([Sizes, Scale]), ([sizes, scale]) => sizes.reduce((a, b) => a + b, 0) * scale)
      })
      const lineInFiber = Task.make("line", { requires: [Sum, Unit], run: Effect.map(Effect.all([Sum, Unit]), ([n, u]) => `${n} ${u}`) })
      const inFibers = new StartCounter()
      const same = yield* TaskGraph.run(TaskGraph.make("requires", [sizes, unit, sumInFiber, lineInFiber])).pipe(Effect.supervised(inFibers))
      expect(RunReport.value(same, "line")).toEqual(Option.some("32 KB"))
      expect(inFibers.started - counter.started).toBe(2)
      // a tag no task provides comes from the run's context, as for any task; else validation names it
      const outer = TaskGraph.make("outer", [Task.sync("from context", { requires: [Unit], run: (services) => Context.get(services, Unit) })])
      const fromContext = yield* TaskGraph.run(outer).pipe(Effect.provideService(Unit, "MB"))
      expect(RunReport.value(fromContext, "from context")).toEqual(Option.some("MB"))
      // the compiler already insists on Unit (it is in R); erase R to see the runtime check
      const error = yield* Effect.flip(TaskGraph.run(outer) as Effect.Effect<unknown, TaskGraph.TaskGraphError>)
      expect(error._tag).toBe("MissingProviderError")
    }))

  it.effect("its events come in the same order as for the same call in Effect.sync", () =>
    Effect.gen(function*() {
      const eventsOf = (make: (name: string, after: ReadonlyArray<Task.Task.Any>) => Task.Task.Any) =>
        Effect.gen(function*() {
          const a = make("a", [])
          const b = make("b", [a])
          const handle = yield* TaskGraph.start(TaskGraph.make("events", [a, b]))
          yield* handle.await
          return Chunk.toArray(yield* Stream.runCollect(handle.events)).map((e) => `${e._tag} ${e.task}`)
        }).pipe(Effect.scoped)
      const plain = yield* eventsOf((name, after) => Task.sync(name, { after, run: () => name }))
      const fiber = yield* eventsOf((name, after) => Task.make(name, { after, run: Effect.sync(() => name) }))
      expect(plain).toEqual(fiber)
      expect(plain).toEqual([
        "TaskStarted a",
        "TaskReady a",
        "TaskReleased a",
        "TaskStarted b",
        "TaskReady b",
        "TaskReleased b",
        "RunFinished events"
      ])
    }))

  it.effect("a function that throws fails its task with that defect, and stops what needs it", () =>
    Effect.gen(function*() {
      const boom = new Error("checksum mismatch")
      const bad = Task.sync("bad", {
        provides: Sum,
        run: (): number => {
          throw boom
        }
      })
      const needs = Task.make("needs", { requires: [Sum], run: Effect.map(Sum, (n) => n) })
      const other = Task.sync("other", { run: () => "fine" })
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("throws", [bad, needs, other]), { mode: "continue" }))
      if (error._tag !== "RunFailedError") return expect.fail(`expected a RunFailedError, got ${error._tag}`)
      expect(error.failures.map((f) => [f.task, Cause.dieOption(f.cause)])).toEqual([["bad", Option.some(boom)]])
      expect(Object.fromEntries(error.report.tasks.map((t) => [t.name, t.status]))).toEqual({
        bad: "failed",
        needs: "skipped",
        other: "released"
      })
    }))

  it.effect("a long chain runs on a flat stack", () =>
    Effect.gen(function*() {
      const tasks: Array<Task.Task<number>> = []
      for (let i = 0; i < 50_000; i++) {
        tasks.push(Task.sync(`t${i}`, { after: i === 0 ? [] : [tasks[i - 1]!], run: () => i }))
      }
      const report = yield* TaskGraph.run(TaskGraph.make("chain", tasks))
      expect(RunReport.value(report, "t49999")).toEqual(Option.some(49_999))
    }))

  it.effect("with a tracer, each call has its span, ended with the task's status", () =>
    Effect.gen(function*() {
      const { made, tracer: recording } = yield* recordingTracer
      const ok = Task.sync("ok", { run: () => 1 })
      const bad = Task.sync("bad", {
        run: () => {
          throw new Error("no")
        }
      })
      yield* Effect.flip(
        TaskGraph.run(TaskGraph.make("g", [ok, bad]), { mode: "continue" }).pipe(
          Effect.withSpan("outer"),
          Effect.withTracer(recording)
        )
      )
      const byName = Object.fromEntries(made.map((s) => [s.name, s]))
      expect(Object.keys(byName).sort()).toEqual(["bad", "ok", "outer"])
      for (const [name, status] of [["ok", "ready"], ["bad", "failed"]] as const) {
        const span = byName[name]!
        expect(span.status._tag).toBe("Ended")
        expect(span.parent.pipe(Option.map((p) => p.spanId))).toEqual(Option.some(byName["outer"]!.spanId))
        expect(span.attributes.get("taskgraph.status")).toBe(status)
        expect(span.attributes.get("taskgraph.attempts")).toBe(1)
      }
    }))

  it("a run that is not a function (an Effect, nothing) is the graph's error, saying what to pass", () => {
    const given: ReadonlyArray<[unknown, string]> = [[Effect.succeed(1), "an Effect"], [undefined, "undefined"]]
    for (const [run, described] of given) {
      const task = Task.sync("not a function", { run: run as () => number })
      const error = Effect.runSync(Effect.flip(TaskGraph.run(TaskGraph.make("bad", [task]))))
      expect(error).toBeInstanceOf(GraphError.InvalidOptionError)
      expect(error.message).toContain(`run of task "not a function"`)
      expect(error.message).toContain(`must be a function (Task.sync calls it), got ${described}`)
      expect(error.message).toContain("for an Effect use Task.make")
    }
  })
})

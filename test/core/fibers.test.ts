/**
 * Task fibers are forked by the scheduler's fast path (src/internal/taskFiber.ts)
 * rather than `Runtime.runFork`: these tests pin down that they still behave
 * as Effect fibers forked from the caller do.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, FiberRef, Option, Ref, Stream, Supervisor } from "effect"
import { RunReport, Task, TaskGraph } from "../../src/index.js"
import * as TaskFiber from "../../src/internal/taskFiber.js"
import { StartCounter } from "../helpers/observe.js"

class Depth extends Context.Tag("Depth")<Depth, number>() {}

const Counter = FiberRef.unsafeMake(0)


describe("task fibers", () => {
  it("use the fast path on the pinned effect version", () => {
    expect(TaskFiber.isDirect).toBe(true)
  })

  it.effect("see the caller's fiber refs, and a change inside one task stays in that task", () =>
    Effect.gen(function*() {
      const bump = Task.make("bump", {
        provides: Depth,
        run: Effect.gen(function*() {
          yield* FiberRef.set(Counter, 100)
          return yield* FiberRef.get(Counter)
        })
      })
      const read = Task.make("read", { requires: [Depth], run: FiberRef.get(Counter) })
      const report = yield* TaskGraph.run(TaskGraph.make("refs", [bump, read])).pipe(Effect.locally(Counter, 7))
      expect(RunReport.value(report, "bump")).toEqual(Option.some(100))
      expect(RunReport.value(report, "read")).toEqual(Option.some(7))
      // nor does it leak back to the caller
      expect(yield* FiberRef.get(Counter)).toBe(0)
    }))

  it.effect("are seen by a Supervisor the caller installed", () =>
    Effect.gen(function*() {
      const supervisor = yield* Supervisor.track
      const started = yield* Ref.make(0)
      const tasks = Array.from({ length: 5 }, (_, i) =>
        Task.make(`t${i}`, { run: Effect.zipRight(Ref.update(started, (n) => n + 1), Effect.never) }))
      const seen = yield* Effect.gen(function*() {
        const handle = yield* TaskGraph.start(TaskGraph.make("supervised", tasks))
        // every task is running once all five have started
        yield* Effect.repeat(Ref.get(started), { until: (n) => n === 5 })
        const fibers = yield* supervisor.value
        yield* handle.interrupt
        return fibers.length
      }).pipe(Effect.scoped, Effect.supervised(supervisor))
      expect(seen).toBeGreaterThanOrEqual(5)
    }))

  it.effect("run a task's finalizers with the task's own services", () =>
    Effect.gen(function*() {
      const seenAtRelease = yield* Ref.make<Option.Option<number>>(Option.none())
      const depth = Task.make("depth", { provides: Depth, run: Effect.succeed(3) })
      const holder = Task.make("holder", {
        requires: [Depth],
        run: Effect.acquireRelease(Effect.void, () =>
          Effect.flatMap(Effect.serviceOption(Depth), (d) => Ref.set(seenAtRelease, d)))
      })
      yield* TaskGraph.run(TaskGraph.make("release context", [depth, holder]))
      expect(yield* Ref.get(seenAtRelease)).toEqual(Option.some(3))
    }))

  it.effect("a task whose effect is already an Exit needs no fiber, and behaves the same", () =>
    Effect.gen(function*() {
      const depth = Task.make("depth", { provides: Depth, run: Effect.succeed(3) })
      const double = Task.make("double", { requires: [Depth], run: Effect.map(Depth, (d) => d * 2) })
      const fails = Task.make("fails", { run: Effect.fail("broken" as const) })
      const graph = TaskGraph.make("instant", [depth, double, fails])
      const counter = new StartCounter()
      const error = yield* Effect.flip(TaskGraph.run(graph, { mode: "continue" }).pipe(Effect.supervised(counter)))
      if (error._tag !== "RunFailedError") return expect.fail(`expected a RunFailedError, got ${error._tag}`)
      expect(error.report.tasks.map((t) => [t.name, t.status])).toEqual([
        ["depth", "released"],
        ["double", "released"],
        ["fails", "failed"]
      ])
      expect(RunReport.value(error.report, "double")).toEqual(Option.some(6))
      expect(error.failures.map((f) => [f.task, Cause.failureOption(f.cause)])).toEqual([["fails", Option.some("broken")]])
      // only "double" had something to evaluate
      expect(counter.started).toBe(1)
    }))

  it.effect("an instant task's events come in the usual order", () =>
    Effect.gen(function*() {
      const a = Task.make("a", { provides: Depth, run: Effect.succeed(1) })
      const b = Task.make("b", { requires: [Depth], run: Effect.void })
      const handle = yield* TaskGraph.start(TaskGraph.make("events", [a, b]))
      yield* handle.await
      const events = yield* Stream.runCollect(handle.events)
      expect(Chunk.toArray(events).map((e) => `${e._tag} ${e.task}`)).toEqual([
        "TaskStarted a",
        "TaskReady a",
        "TaskStarted b",
        "TaskReady b",
        "TaskReleased b",
        "TaskReleased a",
        "RunFinished events"
      ])
    }).pipe(Effect.scoped))
})

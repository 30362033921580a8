/**
 * Task fibers are forked by the scheduler's fast path (src/internal/taskFiber.ts)
 * rather than `Runtime.runFork`: these tests pin down that they still behave
 * as Effect fibers forked from the caller do.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, FiberRef, Option, Ref, Supervisor } from "effect"
import { RunReport, Task, TaskGraph } from "../../src/index.js"
import * as TaskFiber from "../../src/internal/taskFiber.js"

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
})

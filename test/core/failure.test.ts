import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Fiber, Option, Ref, Schedule, TestClock } from "effect"
import { RunReport, Task, TaskError, TaskGraph } from "../../src/index.js"

class A extends Context.Tag("A")<A, number>() {}
class B extends Context.Tag("B")<B, number>() {}

const statuses = (report: RunReport.RunReport) =>
  Object.fromEntries(report.tasks.map((t) => [t.name, t.status]))
const blockers = (report: RunReport.RunReport) =>
  Object.fromEntries(report.tasks.flatMap((t) => Option.isSome(t.blockedBy) ? [[t.name, t.blockedBy.value]] : []))
const stoppers = (report: RunReport.RunReport) =>
  Object.fromEntries(report.tasks.flatMap((t) => Option.isSome(t.stoppedBy) ? [[t.name, t.stoppedBy.value]] : []))

const failedRun = <E>(effect: Effect.Effect<RunReport.RunReport, TaskGraph.TaskGraphError<E>>) =>
  Effect.flatMap(Effect.flip(effect), (error) =>
    error._tag === "RunFailedError" ? Effect.succeed(error) : Effect.die(`expected RunFailedError, got ${error._tag}`))

// two independent branches: a -> a2 (a fails after 1 s) and b -> b2 (b takes 3 s)
const branches = (journal: Ref.Ref<Array<string>>) => {
  const note = (s: string) => Ref.update(journal, (j) => [...j, s])
  const a = Task.make("a", { provides: A, run: Effect.zipRight(Effect.sleep("1 second"), Effect.fail("a broke")) })
  const a2 = Task.make("a2", { requires: [A], run: note("a2 ran") })
  const b = Task.make("b", {
    provides: B,
    run: Effect.as(Effect.sleep("3 seconds"), 2).pipe(Effect.onInterrupt(() => note("b interrupted")))
  })
  const b2 = Task.make("b2", { requires: [B], run: note("b2 ran") })
  return TaskGraph.make("branches", [a, a2, b, b2])
}

describe("failure modes", () => {
  it.effect("fail-fast: the first failure interrupts what runs, skips the rest (naming the failed task: blocked by it or stopped by it), and fails with the full report", () =>
    Effect.gen(function*() {
      const journal = yield* Ref.make<Array<string>>([])
      const fiber = yield* Effect.fork(failedRun(TaskGraph.run(branches(journal))))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      expect(statuses(error.report)).toEqual({ a: "failed", a2: "skipped", b: "interrupted", b2: "skipped" })
      // a2 needs a; b and b2 do not: the failure stopped them
      expect(blockers(error.report)).toEqual({ a2: "a" })
      expect(stoppers(error.report)).toEqual({ b: "a", b2: "a" })
      expect(yield* Ref.get(journal)).toEqual(["b interrupted"])
      expect(error.failures.map((f) => f.task)).toEqual(["a"])
      expect(Cause.failureOption(error.failures[0]!.cause)).toEqual(Option.some("a broke"))
      expect(error.report.status).toBe("failed")
      expect(error.message).toContain(`task "a" failed: a broke`)
      expect(error.message).toContain("2 tasks skipped")
    }))

  it.effect("continue: only the dependents of the failed task are skipped; independent branches finish; the run still fails", () =>
    Effect.gen(function*() {
      const journal = yield* Ref.make<Array<string>>([])
      const fiber = yield* Effect.fork(failedRun(TaskGraph.run(branches(journal), { mode: "continue" })))
      yield* TestClock.adjust("3 seconds")
      const error = yield* Fiber.join(fiber)
      expect(statuses(error.report)).toEqual({ a: "failed", a2: "skipped", b: "released", b2: "released" })
      expect(blockers(error.report)).toEqual({ a2: "a" })
      expect(stoppers(error.report)).toEqual({})
      expect(yield* Ref.get(journal)).toEqual(["b2 ran"])
    }))

  it.effect("continue: transitive dependents are skipped too, naming the root failure", () =>
    Effect.gen(function*() {
      class C extends Context.Tag("C")<C, number>() {}
      const a = Task.make("a", { provides: A, run: Effect.fail("nope") })
      const b = Task.make("b", { requires: [A], provides: B, run: Effect.succeed(1) })
      const c = Task.make("c", { requires: [B], provides: C, run: Effect.succeed(1) })
      const d = Task.make("d", { after: [c], run: Effect.void })
      const error = yield* failedRun(TaskGraph.run(TaskGraph.make("g", [a, b, c, d]), { mode: "continue" }))
      expect(blockers(error.report)).toEqual({ b: "a", c: "a", d: "a" })
    }))

  it.effect("a timeout fails the task with an error naming the task and the limit", () =>
    Effect.gen(function*() {
      const slow = Task.make("wait for ssh", { timeout: "30 seconds", run: Effect.never })
      const fiber = yield* Effect.fork(failedRun(TaskGraph.run(TaskGraph.make("g", [slow]))))
      yield* TestClock.adjust("30 seconds")
      const error = yield* Fiber.join(fiber)
      expect(error.report.tasks[0]!.status).toBe("timed out")
      const failure = Cause.failureOption(error.failures[0]!.cause)
      expect(Option.getOrThrow(failure)).toBeInstanceOf(TaskError.TaskTimeoutError)
      expect(error.message).toContain(`task "wait for ssh" did not become ready within 30s`)
    }))

  it.effect("a timeout bounds all retries together", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const flaky = Task.make("flaky", {
        timeout: "10 seconds",
        retry: Schedule.spaced("3 seconds"),
        run: Effect.zipRight(Ref.update(attempts, (n) => n + 1), Effect.fail("not yet"))
      })
      const fiber = yield* Effect.fork(failedRun(TaskGraph.run(TaskGraph.make("g", [flaky]))))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      expect(error.report.tasks[0]!.status).toBe("timed out")
      expect(yield* Ref.get(attempts)).toBe(4) // at 0, 3, 6, 9 s
    }))

  it.effect("retry gives up after the schedule and the task fails with the last error", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const flaky = Task.make("flaky", {
        retry: Schedule.recurs(2),
        run: Effect.flatMap(Ref.updateAndGet(attempts, (n) => n + 1), (n) => Effect.fail(`failure ${n}`))
      })
      const error = yield* failedRun(TaskGraph.run(TaskGraph.make("g", [flaky])))
      expect(Cause.failureOption(error.failures[0]!.cause)).toEqual(Option.some("failure 3"))
      expect(error.report.tasks[0]!.attempts).toBe(3)
    }))

  it.effect("a defect keeps its full Cause", () =>
    Effect.gen(function*() {
      const bug = Task.make("bug", { run: Effect.dieMessage("invariant broken") })
      const error = yield* failedRun(TaskGraph.run(TaskGraph.make("g", [bug])))
      expect(Cause.isDie(error.failures[0]!.cause)).toBe(true)
      expect(Cause.pretty(error.failures[0]!.cause)).toContain("invariant broken")
    }))

  it.effect("an outer interruption stops the run: running tasks are interrupted, pending ones skipped", () =>
    Effect.gen(function*() {
      const started = yield* Ref.make<Array<string>>([])
      const first = Task.make("first", { provides: A, run: Effect.as(Effect.sleep("1 hour"), 1) })
      const second = Task.make("second", { requires: [A], run: Ref.update(started, (s) => [...s, "second"]) })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [first, second])))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      expect(yield* Ref.get(started)).toEqual([])
    }))

  it.effect("using another task's service without declaring it is a clear runtime error too", () =>
    Effect.gen(function*() {
      const a = Task.make("start vm", { provides: A, run: Effect.succeed(1) })
      // the type error is the first line of defence (see types.test.ts); here we bypass it on purpose
      const sneaky = Task.make("run tests", { after: [a], run: Effect.map(A, (n) => n + 1) }) as Task.Task<number>
      const error = yield* failedRun(TaskGraph.run(TaskGraph.make("g", [a, sneaky])))
      const failure = Option.getOrThrow(Cause.failureOption(error.failures[0]!.cause))
      expect(failure).toBeInstanceOf(TaskError.UndeclaredDependencyError)
      expect(error.message).toContain(`task "run tests" uses "A" (provided by task "start vm") without declaring it`)
    }))
})

/**
 * What a task fiber runs (src/internal/taskRun.ts): retries in fresh scopes,
 * the successful attempt's scope kept, one timeout over all attempts, and
 * which state a run that did not succeed ends in.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, FiberId, Option, Ref, Schedule, Scope, TestClock } from "effect"
import { Task } from "../../../src/index.js"
import { TaskTimeoutError } from "../../../src/TaskError.js"
import * as TaskRun from "../../../src/internal/taskRun.js"
import type * as TaskScope from "../../../src/internal/taskScope.js"

const recorder = () => {
  const begun: Array<number> = []
  const kept: Array<TaskScope.TaskScope> = []
  const attempts: TaskRun.Attempts = {
    begin: (i) => void begun.push(i),
    keep: (i, scope) => {
      expect(i).toBe(7)
      kept.push(scope)
    }
  }
  return { begun, kept, attempts }
}

describe("TaskRun", () => {
  it("isExit tells an Exit from any other effect, by its class (the fast check is in use)", () => {
    expect(TaskRun.fastExitCheck).toBe(true)
    const exits = [Exit.succeed(1), Exit.void, Exit.fail("e"), Exit.die("d"), Exit.interrupt(FiberId.none), Effect.succeed(2), Effect.fail(3)]
    for (const exit of exits) expect(TaskRun.isExit(exit)).toBe(true)
    const effects = [Effect.sync(() => 1), Effect.never, Effect.map(Effect.void, () => 1), Option.some(1), Effect.promise(() => Promise.resolve(1))]
    for (const effect of effects) expect(TaskRun.isExit(effect)).toBe(false)
  })

  it.effect("a plain task runs its own effect as attempt 1", () =>
    Effect.gen(function*() {
      const task = Task.make("plain", { run: Effect.succeed(1) })
      expect(TaskRun.isPlain(task)).toBe(true)
      const { attempts, begun, kept } = recorder()
      const effect = TaskRun.effectOf(task, 7, attempts)
      expect(effect).toBe(task.run)
      expect(begun).toEqual([7])
      expect(yield* Effect.scoped(effect)).toBe(1)
      expect(kept).toEqual([])
    }))

  it.effect("with retry: each attempt in a fresh scope, closed when it fails; the successful one is kept open", () =>
    Effect.gen(function*() {
      const closed = yield* Ref.make<Array<number>>([])
      const count = yield* Ref.make(0)
      const task = Task.make("flaky", {
        retry: Schedule.recurs(3),
        run: Effect.gen(function*() {
          const k = yield* Ref.updateAndGet(count, (c) => c + 1)
          yield* Effect.addFinalizer(() => Ref.update(closed, (xs) => [...xs, k]))
          if (k < 3) return yield* Effect.fail("not yet")
          return k
        })
      })
      expect(TaskRun.isPlain(task)).toBe(false)
      const { attempts, begun, kept } = recorder()
      const value = yield* TaskRun.effectOf(task, 7, attempts)
      expect(value).toBe(3)
      expect(begun).toEqual([7, 7, 7])
      expect(yield* Ref.get(closed)).toEqual([1, 2])
      expect(kept).toHaveLength(1)
      yield* Scope.close(kept[0]!, Exit.void)
      expect(yield* Ref.get(closed)).toEqual([1, 2, 3])
    }))

  it.effect("a timeout bounds all attempts together and fails with this task's TaskTimeoutError", () =>
    Effect.gen(function*() {
      const task = Task.make("slow", { timeout: "5 seconds", retry: Schedule.spaced("2 seconds"), run: Effect.fail("no") })
      const { attempts, begun } = recorder()
      const fiber = yield* Effect.fork(TaskRun.effectOf(task, 7, attempts))
      yield* TestClock.adjust("5 seconds")
      const exit = yield* Fiber.await(fiber)
      const cause = TaskRun.causeOf(exit)
      expect(Cause.failureOption(cause)).toEqual(Option.some(new TaskTimeoutError({ task: "slow", timeout: "5s" })))
      expect(begun.length).toBe(3) // at 0, 2 and 4 seconds
      expect(TaskRun.ending(task, cause)).toBe("timed out")
    }))

  it("ending: another task's timeout is a failure, interruption only is interrupted", () => {
    const task = Task.make("outer", { run: Effect.void })
    expect(TaskRun.ending(task, Cause.fail(new TaskTimeoutError({ task: "inner", timeout: "1s" })))).toBe("failed")
    expect(TaskRun.ending(task, Cause.fail(new TaskTimeoutError({ task: "outer", timeout: "1s" })))).toBe("timed out")
    expect(TaskRun.ending(task, Cause.interrupt(FiberId.none))).toBe("interrupted")
    expect(TaskRun.ending(task, Cause.die("boom"))).toBe("failed")
    expect(TaskRun.causeOf(Exit.succeed(1))).toEqual(Cause.empty)
  })
})

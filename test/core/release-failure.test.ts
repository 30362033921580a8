/**
 * A finalizer that dies fails what owned the scope, as `Effect.scoped` does: a task whose resources
 * cannot be released (the VM would not power off, the overlay could not be deleted) fails the run,
 * names itself in the error, and every other finalizer still runs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Exit, Fiber, Layer, Option, Ref, Stream, TestClock } from "effect"
import { Task, TaskEvent, TaskGraph } from "../../src/index.js"

class Vm extends Context.Tag("Vm")<Vm, string>() {}

const graphOf = (journal: Ref.Ref<Array<string>>) => {
  const note = (s: string) => Ref.update(journal, (j) => [...j, s])
  const vm = Task.make("vm", {
    provides: Vm,
    run: Effect.acquireRelease(Effect.succeed("guest"), () => Effect.zipRight(note("power off"), Effect.dieMessage("power-off failed")))
  })
  const overlay = Task.make("overlay", { run: Effect.acquireRelease(Effect.void, () => note("overlay deleted")) })
  const tests = Task.make("tests", {
    requires: [Vm],
    after: [overlay],
    run: Effect.acquireRelease(Effect.sleep("1 second"), () => note("ssh closed"))
  })
  return TaskGraph.make("release", [vm, overlay, tests])
}

describe("a finalizer that dies", () => {
  it.effect("fails the run, says which task could not release, and the other finalizers still run", () =>
    Effect.gen(function*() {
      const journal = yield* Ref.make<Array<string>>([])
      const fiber = yield* Effect.fork(Effect.flip(TaskGraph.run(graphOf(journal))))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      if (error._tag !== "RunFailedError") return expect.unreachable(error._tag)
      expect(error.failures.map((f) => [f.task, f.during])).toEqual([["vm", "release"]])
      expect(Cause.squash(error.failures[0]!.cause)).toMatchObject({ message: "power-off failed" })
      expect(error.message).toBe(`graph "release" failed: task "vm" failed to release its resources: power-off failed`)
      const vm = error.report.tasks.find((t) => t.name === "vm")!
      expect(vm.status).toBe("failed")
      expect(Option.isSome(vm.readyAt)).toBe(true)
      expect(error.report.status).toBe("failed")
      expect((yield* Ref.get(journal)).sort()).toEqual(["overlay deleted", "power off", "ssh closed"])
    }))

  it.effect("a task's own failure comes first; the finalizer's defect follows it in the cause", () =>
    Effect.gen(function*() {
      const broken = Task.make("broken", {
        run: Effect.acquireRelease(Effect.void, () => Effect.dieMessage("cleanup failed")).pipe(Effect.zipRight(Effect.fail("tests failed")))
      })
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("g", [broken])))
      if (error._tag !== "RunFailedError") return expect.unreachable(error._tag)
      expect(error.failures.map((f) => [f.task, f.during])).toEqual([["broken", "run"]])
      expect(Cause.failures(error.failures[0]!.cause)).toEqual(Chunk.of("tests failed"))
      expect(Cause.defects(error.failures[0]!.cause).pipe(Chunk.map((d) => (d as Error).message))).toEqual(Chunk.of("cleanup failed"))
      expect(error.message).toBe(`graph "g" failed: task "broken" failed: tests failed`)
    }))

  it.scoped("the events say it: TaskFailed (releasing its resources failed) after the task was ready", () =>
    Effect.gen(function*() {
      const journal = yield* Ref.make<Array<string>>([])
      const handle = yield* TaskGraph.start(graphOf(journal))
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(handle.await)
      expect(error.report.status).toBe("failed")
      const events = Chunk.toReadonlyArray(yield* Stream.runCollect(handle.events))
      const vm = events.filter((e) => e.task === "vm").map((e) => e._tag)
      expect(vm).toEqual(["TaskStarted", "TaskReady", "TaskFailed", "TaskReleased"])
      const failed = events.find((e): e is TaskEvent.TaskFailed => e._tag === "TaskFailed")
      expect(failed?.error.split("\n")[0]).toBe("releasing its resources failed: RuntimeException: power-off failed")
    }))

  it.effect("of a graph used as a Layer: closing the layer's scope dies with the RunFailedError", () =>
    Effect.gen(function*() {
      const journal = yield* Ref.make<Array<string>>([])
      const vmOnly = TaskGraph.make("layer", [graphOf(journal).tasks[0]!])
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(TaskGraph.toLayer(vmOnly))))
      if (!Exit.isFailure(exit)) return expect.unreachable("the layer's release succeeded")
      const defect = Cause.squash(exit.cause)
      expect(defect).toMatchObject({ _tag: "RunFailedError" })
      expect((defect as Error).message).toBe(`graph "layer" failed: task "vm" failed to release its resources: power-off failed`)
      expect(yield* Ref.get(journal)).toEqual(["power off"])
    }))
})

import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Deferred, Effect, Exit, Fiber, Option, Ref, Schedule, TestClock } from "effect"
import { RunReport, Task, TaskGraph } from "../../src/index.js"

class Overlay extends Context.Tag("Overlay")<Overlay, string>() {}
class Vm extends Context.Tag("Vm")<Vm, string>() {}
class Ssh extends Context.Tag("Ssh")<Ssh, string>() {}

/** A journal of what happened, with virtual timestamps. */
const makeJournal = Effect.gen(function*() {
  const ref = yield* Ref.make<Array<string>>([])
  const write = (line: string) => Ref.update(ref, (lines) => [...lines, line])
  const resource = <A>(name: string, value: A) =>
    Effect.acquireRelease(Effect.as(write(`acquire ${name}`), value), () => write(`release ${name}`))
  return { ref, write, resource, lines: Ref.get(ref) }
})

describe("resources", () => {
  it.effect("a dependent is released before its dependency, and each exactly once", () =>
    Effect.gen(function*() {
      const j = yield* makeJournal
      const overlay = Task.make("overlay", { provides: Overlay, run: j.resource("overlay", "o.qcow2") })
      const vm = Task.make("vm", { requires: [Overlay], provides: Vm, run: j.resource("vm", "vm") })
      const ssh = Task.make("ssh", { requires: [Vm], provides: Ssh, run: j.resource("ssh", "ssh") })
      const tests = Task.make("tests", { requires: [Ssh], run: j.write("tests") })
      yield* TaskGraph.run(TaskGraph.make("g", [tests, ssh, vm, overlay]))
      expect(yield* j.lines).toEqual([
        "acquire overlay",
        "acquire vm",
        "acquire ssh",
        "tests",
        "release ssh",
        "release vm",
        "release overlay"
      ])
    }))

  it.effect("a resource lives until the last task that requires it has finished, not until the end of the run", () =>
    Effect.gen(function*() {
      const j = yield* makeJournal
      const server = Task.make("server", { provides: Vm, run: j.resource("server", "s") })
      const quick = Task.make("quick client", { requires: [Vm], run: Effect.sleep("1 second") })
      const slow = Task.make("slow client", { requires: [Vm], run: Effect.sleep("3 seconds") })
      const unrelated = Task.make("unrelated", { run: Effect.sleep("10 seconds") })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [server, quick, slow, unrelated])))
      yield* TestClock.adjust("2 seconds")
      expect(yield* j.lines).toEqual(["acquire server"])
      yield* TestClock.adjust("1 second")
      expect(yield* j.lines).toEqual(["acquire server", "release server"])
      yield* TestClock.adjust("7 seconds")
      const report = yield* Fiber.join(fiber)
      const t = Option.getOrThrow(RunReport.task(report, "server"))
      expect(Option.getOrThrow(t.releasedAt) - report.startedAt).toBe(3000)
      expect(t.status).toBe("released")
    }))

  it.effect("a task that nobody requires is released as soon as it is ready", () =>
    Effect.gen(function*() {
      const j = yield* makeJournal
      const lonely = Task.make("lonely", { run: j.resource("lonely", 1) })
      const other = Task.make("other", { run: Effect.sleep("5 seconds") })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [lonely, other])))
      yield* TestClock.adjust("1 second")
      expect(yield* j.lines).toEqual(["acquire lonely", "release lonely"])
      yield* TestClock.adjust("4 seconds")
      yield* Fiber.join(fiber)
    }))

  it.effect("on failure everything acquired is released exactly once, in dependency order", () =>
    Effect.gen(function*() {
      const j = yield* makeJournal
      const overlay = Task.make("overlay", { provides: Overlay, run: j.resource("overlay", "o") })
      const vm = Task.make("vm", { requires: [Overlay], provides: Vm, run: j.resource("vm", "v") })
      const ssh = Task.make("ssh", { requires: [Vm], provides: Ssh, run: j.resource("ssh", "s") })
      const tests = Task.make("tests", {
        requires: [Ssh],
        run: Effect.zipRight(j.resource("test tmp", 0), Effect.fail("3 tests failed"))
      })
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("g", [overlay, vm, ssh, tests])))
      expect(yield* j.lines).toEqual([
        "acquire overlay",
        "acquire vm",
        "acquire ssh",
        "acquire test tmp",
        "release test tmp",
        "release ssh",
        "release vm",
        "release overlay"
      ])
      expect(error._tag).toBe("RunFailedError")
    }))

  it.effect("on timeout and on outer interruption too", () =>
    Effect.gen(function*() {
      const j = yield* makeJournal
      const vm = Task.make("vm", { provides: Vm, run: j.resource("vm", "v") })
      const hang = Task.make("hang", {
        requires: [Vm],
        timeout: "5 seconds",
        run: Effect.zipRight(j.resource("hang tmp", 0), Effect.never)
      })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [vm, hang])))
      yield* TestClock.adjust("5 seconds")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
      expect(yield* j.lines).toEqual(["acquire vm", "acquire hang tmp", "release hang tmp", "release vm"])

      const k = yield* makeJournal
      const vm2 = Task.make("vm", { provides: Vm, run: k.resource("vm", "v") })
      const forever = Task.make("forever", { requires: [Vm], run: Effect.zipRight(k.resource("tmp", 0), Effect.never) })
      const other = Task.make("other", { run: Effect.zipRight(k.resource("other", 0), Effect.sleep("1 hour")) })
      const fiber2 = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [vm2, forever, other])))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber2)
      const lines = yield* k.lines
      expect(lines.filter((l) => l.startsWith("release")).sort()).toEqual(["release other", "release tmp", "release vm"])
      expect(lines.indexOf("release tmp")).toBeLessThan(lines.indexOf("release vm"))
      expect(lines.at(-1)).not.toBe("acquire tmp")
    }))

  it.effect("each retry attempt gets a fresh scope: a failed attempt's resources are released before the next", () =>
    Effect.gen(function*() {
      const j = yield* makeJournal
      const attempt = yield* Ref.make(0)
      const flaky = Task.make("flaky", {
        retry: Schedule.recurs(3),
        run: Effect.gen(function*() {
          const n = yield* Ref.updateAndGet(attempt, (k) => k + 1)
          yield* j.resource(`try ${n}`, n)
          if (n < 3) return yield* Effect.fail(`attempt ${n} failed`)
          return n
        })
      })
      const report = yield* TaskGraph.run(TaskGraph.make("g", [flaky]))
      expect(yield* j.lines).toEqual([
        "acquire try 1",
        "release try 1",
        "acquire try 2",
        "release try 2",
        "acquire try 3",
        "release try 3"
      ])
      const t = Option.getOrThrow(RunReport.task(report, "flaky"))
      expect(t.attempts).toBe(3)
      expect(t.value).toEqual(Option.some(3))
    }))

  it.effect("a watcher that fails after the task is ready fails the task: dependents are interrupted, the run fails with its cause", () =>
    Effect.gen(function*() {
      const j = yield* makeJournal
      const crash = yield* Deferred.make<void>()
      const vm = Task.make("vm", {
        provides: Vm,
        run: Effect.gen(function*() {
          const v = yield* j.resource("vm", "v")
          yield* Task.watch(Effect.zipRight(Deferred.await(crash), Effect.fail("qemu exited with status 1")))
          return v
        })
      })
      const tests = Task.make("tests", {
        requires: [Vm],
        run: Effect.zipRight(j.resource("tests tmp", 0), Effect.zipRight(Deferred.succeed(crash, undefined), Effect.never))
      })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [vm, tests])))
      const error = yield* Effect.flip(Fiber.join(fiber))
      if (error._tag !== "RunFailedError") throw new Error(`unexpected ${error._tag}`)
      expect(error.failures.map((f) => f.task)).toEqual(["vm"])
      expect(Cause.failureOption(error.failures[0]!.cause)).toEqual(Option.some("qemu exited with status 1"))
      expect(error.report.tasks.map((t) => [t.name, t.status])).toEqual([["vm", "failed"], ["tests", "interrupted"]])
      expect(yield* j.lines).toEqual(["acquire vm", "acquire tests tmp", "release tests tmp", "release vm"])
    }))

  it.effect("continue mode: a task queued behind the concurrency limit is skipped, never started, when its resource fails", () =>
    Effect.gen(function*() {
      const crash = yield* Deferred.make<void>()
      const started = yield* Ref.make<Array<string>>([])
      const vm = Task.make("vm", {
        provides: Vm,
        run: Effect.as(Task.watch(Effect.zipRight(Deferred.await(crash), Effect.fail("qemu died"))), "v")
      })
      const first = Task.make("first", {
        requires: [Vm],
        run: Effect.zipRight(
          Ref.update(started, (s) => [...s, "first"]),
          Effect.zipRight(Deferred.succeed(crash, undefined), Effect.never)
        )
      })
      const second = Task.make("second", { requires: [Vm], run: Ref.update(started, (s) => [...s, "second"]) })
      const error = yield* Effect.flip(
        TaskGraph.run(TaskGraph.make("g", [vm, first, second]), { mode: "continue", concurrency: 1 })
      )
      if (error._tag !== "RunFailedError") throw new Error(`unexpected ${error._tag}`)
      expect(yield* Ref.get(started)).toEqual(["first"])
      expect(error.report.tasks.map((t) => [t.name, t.status])).toEqual([
        ["vm", "failed"],
        ["first", "interrupted"],
        ["second", "skipped"]
      ])
    }))

  it.effect("a watcher that fails while the task is still running fails the task", () =>
    Effect.gen(function*() {
      const vm = Task.make("vm", {
        provides: Vm,
        run: Effect.zipRight(Task.watch(Effect.fail("died during boot")), Effect.never)
      })
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("g", [vm])))
      if (error._tag !== "RunFailedError") throw new Error(`unexpected ${error._tag}`)
      expect(error.report.tasks[0]!.status).toBe("failed")
      expect(Cause.failureOption(error.failures[0]!.cause)).toEqual(Option.some("died during boot"))
    }))

  it.effect("a watcher is interrupted, not failed, when its task is released", () =>
    Effect.gen(function*() {
      const j = yield* makeJournal
      const vm = Task.make("vm", {
        provides: Vm,
        run: Effect.zipRight(
          Task.watch(Effect.onInterrupt(Effect.never, () => j.write("watcher stopped"))),
          Effect.succeed("v")
        )
      })
      const user = Task.make("user", { requires: [Vm], run: Effect.sleep("1 second") })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [vm, user])))
      yield* TestClock.adjust("1 second")
      const report = yield* Fiber.join(fiber)
      expect(report.status).toBe("succeeded")
      expect(yield* j.lines).toEqual(["watcher stopped"])
    }))
})

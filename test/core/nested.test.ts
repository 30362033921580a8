import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, FastCheck, Fiber, Option, Ref, Schedule, Stream, TestClock, TestContext } from "effect"
import { RunReport, Task, TaskGraph } from "../../src/index.js"

const journalOf = Effect.map(Ref.make<Array<string>>([]), (journal) => ({
  journal,
  note: (s: string) => Ref.update(journal, (j) => [...j, s])
}))

/** The error a run failed with (the test fails if it succeeded). */
const failureOf = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)

class Files extends Context.Tag("Files")<Files, ReadonlyArray<string>>() {}

const sleeper = (name: string, seconds: number, pools?: Record<string, number>) =>
  Task.make(name, { run: Effect.as(Effect.sleep(`${seconds} seconds`), name), pools })

describe("graphs inside tasks", () => {
  it.scoped("the child's tasks are in the parent's events and report under hierarchical names", () =>
    Effect.gen(function*() {
      const child = TaskGraph.make("shard 3", [sleeper("run tests", 1)])
      const tests = Task.make("tests", { run: Effect.map(TaskGraph.run(child), (r) => r.status) })
      const handle = yield* TaskGraph.start(TaskGraph.make("ci", [tests]))
      const events = yield* Effect.fork(Stream.runCollect(handle.events))
      yield* TestClock.adjust("1 second")
      const report = yield* handle.await
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(events)).map((e) => `${e._tag} ${e.task}`)
      expect(seen).toEqual([
        "TaskStarted tests",
        "TaskStarted tests / shard 3 / run tests",
        "TaskReady tests / shard 3 / run tests",
        "TaskReleased tests / shard 3 / run tests",
        "TaskReady tests",
        "TaskReleased tests",
        "RunFinished ci"
      ])
      expect(report.tasks.map((t) => [t.name, t.status, Option.getOrUndefined(t.group)])).toEqual([
        ["tests", "released", undefined],
        ["tests / shard 3 / run tests", "released", "tests / shard 3"]
      ])
      expect(report.groups).toEqual([{ name: "tests / shard 3", graph: "shard 3", task: "tests", parent: Option.none() }])
      expect(RunReport.value(report, "tests")).toEqual(Option.some("succeeded"))
      const mermaid = RunReport.toMermaid(report)
      expect(mermaid).toContain(`subgraph g0["shard 3"]`)
      expect(mermaid).toContain(`t0 -. runs .-> g0`)
      expect(RunReport.toGantt(report)).toContain("section tests / shard 3")
    }))

  it.scoped("a nested task's logged line reaches the parent's events once, under its hierarchical name", () =>
    Effect.gen(function*() {
      const child = TaskGraph.make("shard 1", [Task.make("run tests", { run: Effect.log("3 passed") })])
      const tests = Task.make("tests", { run: Effect.asVoid(TaskGraph.run(child)) })
      const handle = yield* TaskGraph.start(TaskGraph.make("ci", [tests]))
      const events = yield* Effect.fork(Stream.runCollect(handle.events))
      yield* handle.await
      const lines = Chunk.toReadonlyArray(yield* Fiber.join(events)).flatMap((e) =>
        e._tag === "TaskOutput" ? [`${e.task}: ${e.line}`] : []
      )
      expect(lines.filter((l) => l.includes("3 passed"))).toHaveLength(1)
      expect(lines.find((l) => l.includes("3 passed"))).toMatch(/^tests \/ shard 1 \/ run tests: /)
    }))

  it.effect("a fan-out of 10 tasks of 10 s with concurrency 5 finishes in 20 s of virtual time", () =>
    Effect.gen(function*() {
      const fan = Task.make("fan out", {
        run: TaskGraph.run(TaskGraph.make("items", Array.from({ length: 10 }, (_, k) => sleeper(`item ${k}`, 10))))
      })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [fan]), { concurrency: 5 }))
      yield* TestClock.adjust("19 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const report = yield* Fiber.join(fiber)
      expect(Option.getOrThrow(report.durationMs)).toBe(20_000)
      expect(report.tasks).toHaveLength(11)
    }))

  it.effect("concurrency 1: the task waiting for its child lends its slot, so the child can run", () =>
    Effect.gen(function*() {
      const child = TaskGraph.make("child", [sleeper("a", 1), sleeper("b", 1)])
      const parent = Task.make("parent", { run: TaskGraph.run(child) })
      const other = sleeper("other", 1)
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [parent, other]), { concurrency: 1 }))
      yield* TestClock.adjust("3 seconds")
      const report = yield* Fiber.join(fiber)
      // one at a time: parent's children a, b (in its slot), and other
      expect(Option.getOrThrow(report.durationMs)).toBe(3000)
      expect(report.tasks.map((t) => t.status)).toEqual(["released", "released", "released", "released"])
    }))

  it("a shared pool is never exceeded, whatever the fan-out (property, TestClock)", async () => {
    const spec = FastCheck.record({
      size: FastCheck.integer({ min: 1, max: 3 }),
      concurrency: FastCheck.option(FastCheck.integer({ min: 1, max: 4 }), { nil: undefined }),
      parents: FastCheck.array(
        FastCheck.record({
          own: FastCheck.boolean(),
          children: FastCheck.array(
            FastCheck.record({ seconds: FastCheck.integer({ min: 0, max: 3 }), weight: FastCheck.integer({ min: 0, max: 1 }) }),
            { maxLength: 6 }
          )
        }),
        { minLength: 1, maxLength: 4 }
      )
    })
    const check = (s: typeof spec extends FastCheck.Arbitrary<infer T> ? T : never) =>
      Effect.gen(function*() {
        const inUse = yield* Ref.make(0)
        const peak = yield* Ref.make(0)
        const hold = (seconds: number) =>
          Effect.acquireRelease(
            Effect.flatMap(Ref.updateAndGet(inUse, (n) => n + 1), (n) => Ref.update(peak, (p) => Math.max(p, n))),
            () => Ref.update(inUse, (n) => n - 1)
          ).pipe(Effect.zipRight(Effect.sleep(`${seconds} seconds`)))
        // parents that hold a vm themselves too (a parent holding a vm while it waits for children that need
        // one can starve them when every vm is held so: a property of the user's graph, not tested here)
        const parents = s.parents.map((p, i) =>
          Task.make(`parent ${i}`, {
            run: Effect.gen(function*() {
              if (p.own) yield* Effect.sleep("1 second")
              const children = p.children.map((c, k) =>
                Task.make(`child ${k}`, {
                  pools: c.weight > 0 ? { vm: 1 } : undefined,
                  run: c.weight > 0 ? hold(c.seconds) : Effect.sleep(`${c.seconds} seconds`)
                })
              )
              yield* TaskGraph.run(TaskGraph.make(`fan ${i}`, children))
            })
          })
        )
        // and a top-level task using the pool beside them
        const sibling = Task.make("sibling", { pools: { vm: 1 }, run: hold(2) })
        const fiber = yield* Effect.fork(
          TaskGraph.run(TaskGraph.make("g", [...parents, sibling]), { pools: { vm: s.size }, concurrency: s.concurrency })
        )
        for (let k = 0; k < 200 && fiber.unsafePoll() === null; k++) yield* TestClock.adjust("1 second")
        expect(fiber.unsafePoll(), "the run ended").not.toBeNull()
        yield* Fiber.join(fiber)
        expect(yield* Ref.get(peak)).toBeLessThanOrEqual(s.size)
        expect(yield* Ref.get(inUse)).toBe(0)
      })
    await FastCheck.assert(
      FastCheck.asyncProperty(spec, (s) => Effect.runPromise(Effect.scoped(check(s)).pipe(Effect.provide(TestContext.TestContext)))),
      { numRuns: 25 }
    )
  })

  it.effect("interrupting the parent during the child run releases the child's resources before the parent's", () =>
    Effect.gen(function*() {
      const { journal, note } = yield* journalOf
      const vm = Task.make("vm", {
        run: Effect.acquireRelease(note("vm up"), () => note("vm down")).pipe(Effect.zipRight(Effect.never))
      })
      const parent = Task.make("parent", {
        run: Effect.gen(function*() {
          yield* Effect.acquireRelease(note("overlay up"), () => note("overlay down"))
          yield* TaskGraph.run(TaskGraph.make("child", [vm]))
        })
      })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [parent])))
      yield* TestClock.adjust("1 second")
      expect(yield* Ref.get(journal)).toEqual(["overlay up", "vm up"])
      yield* Fiber.interrupt(fiber)
      expect(yield* Ref.get(journal)).toEqual(["overlay up", "vm up", "vm down", "overlay down"])
    }))

  it.effect("fail-fast crosses the boundary: a child failure fails the parent task naming the child task, and stops the rest", () =>
    Effect.gen(function*() {
      const boom = Task.make("compile", { run: Effect.zipRight(Effect.sleep("1 second"), Effect.fail("syntax error")) })
      const parent = Task.make("build", { run: TaskGraph.run(TaskGraph.make("module a", [boom, sleeper("lint", 10)])) })
      const fiber = yield* Effect.fork(failureOf(TaskGraph.run(TaskGraph.make("ci", [parent, sleeper("docs", 10)]))))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      if (error._tag !== "RunFailedError") throw new Error(`expected a failed run, got ${error._tag}`)
      expect(error.failures.map((f) => f.task)).toEqual(["build"])
      expect(error.message).toContain(`task "build" failed: graph "module a" failed: task "compile" failed: syntax error`)
      const status = Object.fromEntries(error.report.tasks.map((t) => [t.name, t.status]))
      expect(status).toEqual({
        build: "failed",
        "build / module a / compile": "failed",
        "build / module a / lint": "interrupted",
        docs: "interrupted"
      })
    }))

  it.effect("continue crosses the boundary: independent branches on both sides finish; the run still fails", () =>
    Effect.gen(function*() {
      const boom = Task.make("compile", { run: Effect.zipRight(Effect.sleep("1 second"), Effect.fail("syntax error")) })
      const after = Task.make("package", { after: [boom], run: Effect.void })
      const parent = Task.make("build", { run: TaskGraph.run(TaskGraph.make("module a", [boom, after, sleeper("lint", 5)])) })
      const next = Task.make("deploy", { after: [parent], run: Effect.void })
      const fiber = yield* Effect.fork(failureOf(TaskGraph.run(TaskGraph.make("ci", [parent, next, sleeper("docs", 10)]), { mode: "continue" })))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      if (error._tag !== "RunFailedError") throw new Error(`expected a failed run, got ${error._tag}`)
      const status = Object.fromEntries(error.report.tasks.map((t) => [t.name, t.status]))
      expect(status).toEqual({
        build: "failed",
        "build / module a / compile": "failed",
        "build / module a / package": "skipped",
        "build / module a / lint": "released",
        deploy: "skipped",
        docs: "released"
      })
    }))

  it.effect("Task.forEach: items from a required tag, each item's tasks a group named after it, sharing the pool", () =>
    Effect.gen(function*() {
      const inUse = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const discover = Task.make("discover", { provides: Files, run: Effect.succeed(["a.test", "b.test", "c.test"]) })
      const shards = Task.forEach("tests", Files, (file) => [
        Task.make("run tests", {
          pools: { vm: 1 },
          run: Effect.acquireRelease(
            Effect.flatMap(Ref.updateAndGet(inUse, (n) => n + 1), (n) => Ref.update(peak, (p) => Math.max(p, n))),
            () => Ref.update(inUse, (n) => n - 1)
          ).pipe(Effect.zipRight(Effect.sleep("10 seconds")), Effect.as(`${file} ok`))
        })
      ], { requires: [Files] })
      const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("ci", [discover, shards]), { pools: { vm: 2 } }))
      yield* TestClock.adjust("20 seconds")
      const report = yield* Fiber.join(fiber)
      expect(yield* Ref.get(peak)).toBe(2)
      expect(Option.getOrThrow(report.durationMs)).toBe(20_000)
      expect(report.tasks.map((t) => t.name)).toEqual([
        "discover",
        "tests",
        "tests / a.test / run tests",
        "tests / b.test / run tests",
        "tests / c.test / run tests"
      ])
      expect(RunReport.value(report, "tests / b.test / run tests")).toEqual(Option.some("b.test ok"))
      expect(report.groups.map((g) => g.name)).toEqual(["tests / a.test", "tests / b.test", "tests / c.test"])
    }))

  describe("the same graph name run again in one task: `child`, `child #2`, …", () => {
    const inner = (seconds: number) => TaskGraph.make("child", [sleeper("inner", seconds)])
    const groupsOf = (report: RunReport.RunReport) => report.groups.map((g) => [g.name, g.graph, g.task])
    const namesOf = (report: RunReport.RunReport) => report.tasks.map((t) => [t.name, t.status, Option.getOrUndefined(t.group)])

    it.scoped("retry: attempt 1 runs the child graph then fails, attempt 2 runs it again and succeeds; both in the report", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const outer = Task.make("outer", {
          retry: Schedule.recurs(2),
          run: Effect.gen(function*() {
            const child = yield* TaskGraph.run(inner(1))
            const n = yield* Ref.updateAndGet(attempts, (k) => k + 1)
            if (n < 2) return yield* Effect.fail("flaky")
            return child.tasks.map((t) => t.name)
          })
        })
        const handle = yield* TaskGraph.start(TaskGraph.make("g", [outer]))
        const events = yield* Effect.fork(Stream.runCollect(handle.events))
        yield* TestClock.adjust("2 seconds")
        const report = yield* handle.await
        expect(yield* Ref.get(attempts)).toBe(2)
        expect(report.status).toBe("succeeded")
        expect(namesOf(report)).toEqual([
          ["outer", "released", undefined],
          ["outer / child / inner", "released", "outer / child"],
          ["outer / child #2 / inner", "released", "outer / child #2"]
        ])
        expect(groupsOf(report)).toEqual([["outer / child", "child", "outer"], ["outer / child #2", "child", "outer"]])
        expect(Option.getOrThrow(RunReport.task(report, "outer / child #2 / inner")).startedAt).toEqual(Option.some(1000))
        // what the second attempt's TaskGraph.run returned
        expect(RunReport.value(report, "outer")).toEqual(Option.some(["outer / child #2 / inner"]))
        const seen = Chunk.toReadonlyArray(yield* Fiber.join(events)).map((e) => `${e._tag} ${e.task}`)
        expect(seen).toEqual([
          "TaskStarted outer",
          "TaskStarted outer / child / inner",
          "TaskReady outer / child / inner",
          "TaskReleased outer / child / inner",
          "TaskStarted outer",
          "TaskStarted outer / child #2 / inner",
          "TaskReady outer / child #2 / inner",
          "TaskReleased outer / child #2 / inner",
          "TaskReady outer",
          "TaskReleased outer",
          "RunFinished g"
        ])
        const mermaid = RunReport.toMermaid(report)
        expect(mermaid).toContain(`subgraph g0["child"]`)
        expect(mermaid).toContain(`subgraph g1["child #2"]`)
      }))

    it.effect("the same child graph run twice in sequence in one body", () =>
      Effect.gen(function*() {
        const outer = Task.make("outer", {
          run: Effect.zipRight(TaskGraph.run(inner(1)), TaskGraph.run(inner(2)))
        })
        const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [outer])))
        yield* TestClock.adjust("3 seconds")
        const report = yield* Fiber.join(fiber)
        expect(Option.getOrThrow(report.durationMs)).toBe(3000)
        expect(namesOf(report)).toEqual([
          ["outer", "released", undefined],
          ["outer / child / inner", "released", "outer / child"],
          ["outer / child #2 / inner", "released", "outer / child #2"]
        ])
        expect(groupsOf(report)).toEqual([["outer / child", "child", "outer"], ["outer / child #2", "child", "outer"]])
      }))

    it.effect("two runs of it at once in one body get distinct numbers and run side by side", () =>
      Effect.gen(function*() {
        const outer = Task.make("outer", {
          run: Effect.all([TaskGraph.run(inner(1)), TaskGraph.run(inner(1)), TaskGraph.run(inner(1))], {
            concurrency: "unbounded"
          })
        })
        const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [outer])))
        yield* TestClock.adjust("1 second")
        const report = yield* Fiber.join(fiber)
        expect(Option.getOrThrow(report.durationMs)).toBe(1000)
        expect(report.groups.map((g) => g.name)).toEqual(["outer / child", "outer / child #2", "outer / child #3"])
        expect(report.tasks.map((t) => t.name)).toEqual([
          "outer",
          "outer / child / inner",
          "outer / child #2 / inner",
          "outer / child #3 / inner"
        ])
      }))

    it.effect("numbers are per task and per graph name: another task, another graph name keep the plain name", () =>
      Effect.gen(function*() {
        const other = TaskGraph.make("other", [sleeper("inner", 1)])
        const a = Task.make("a", { run: Effect.zipRight(TaskGraph.run(inner(1)), TaskGraph.run(other)) })
        const b = Task.make("b", { run: TaskGraph.run(inner(1)) })
        const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("g", [a, b])))
        yield* TestClock.adjust("2 seconds")
        const report = yield* Fiber.join(fiber)
        expect(report.groups.map((g) => g.name)).toEqual(["a / child", "a / other", "b / child"])
      }))

    it.effect("Task.forEach with two items of one label: `<item>` and `<item> #2`", () =>
      Effect.gen(function*() {
        const shards = Task.forEach("tests", ["a.test", "a.test", "b.test"], () => [Task.make("run tests", { run: Effect.void })])
        const report = yield* TaskGraph.run(TaskGraph.make("ci", [shards]))
        expect(report.groups.map((g) => g.name)).toEqual(["tests / a.test", "tests / a.test #2", "tests / b.test"])
      }))

    it.effect("Task.forEach retried: the second attempt's items are `<item> #2`", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const shards = Task.forEach("tests", ["a.test", "b.test"], (file) => [
          Task.make("run tests", {
            run: Effect.flatMap(Ref.updateAndGet(attempts, (k) => k + 1), (n) =>
              file === "a.test" && n === 1 ? Effect.fail("flaky") : Effect.void)
          })
        ], { retry: Schedule.recurs(1) })
        const report = yield* TaskGraph.run(TaskGraph.make("ci", [shards]))
        expect(report.status).toBe("succeeded")
        expect(report.groups.map((g) => g.name)).toEqual([
          "tests / a.test",
          "tests / b.test",
          "tests / a.test #2",
          "tests / b.test #2"
        ])
      }))
  })

  describe("bad input", () => {
    it.effect("a child graph that fails validation fails the parent task with that GraphError, naming the child graph", () =>
      Effect.gen(function*() {
        const a = Task.make("a", { run: Effect.void })
        const b = Task.make("b", { after: [a], run: Effect.void })
        ;(a as { after: ReadonlyArray<Task.Task.Any> }).after = [b]
        const parent = Task.make("parent", { run: TaskGraph.run(TaskGraph.make("cyclic child", [a, b])) })
        const error = yield* failureOf(TaskGraph.run(TaskGraph.make("g", [parent])))
        if (error._tag !== "RunFailedError") throw new Error(`expected a failed run, got ${error._tag}`)
        const cause = Cause.failureOption(error.failures[0]!.cause)
        expect(Option.map(cause, (e) => (e as { _tag: string })._tag)).toEqual(Option.some("CycleError"))
        expect(error.message).toContain(`task "parent" failed: in child graph "cyclic child": cycle in the task graph: `)
      }))

    it.effect("a pool the enclosing run does not define is a clear error, not an unbounded pool", () =>
      Effect.gen(function*() {
        const parent = Task.make("parent", {
          run: TaskGraph.run(TaskGraph.make("child", [Task.make("boot", { pools: { vm: 1 }, run: Effect.void })]))
        })
        const error = yield* failureOf(TaskGraph.run(TaskGraph.make("g", [parent])))
        expect(error.message).toContain(
          `in child graph "child": invalid pool "vm": task "boot" uses it, but the run "child" is inside task "parent", whose run defines no such pool`
        )
      }))

    it.effect("a child that needs more of a pool than its enclosing tasks leave could never start: an error", () =>
      Effect.gen(function*() {
        const parent = Task.make("parent", {
          pools: { vm: 1 },
          run: TaskGraph.run(TaskGraph.make("child", [Task.make("boot", { pools: { vm: 1 }, run: Effect.void })]))
        })
        const error = yield* failureOf(TaskGraph.run(TaskGraph.make("g", [parent]), { pools: { vm: 1 } }))
        expect(error.message).toContain(`task "boot" needs 1 of it, but the enclosing task(s) of "parent" hold 1 of its size 1`)
      }))

    it.effect("a child task whose full name is another task's by their own names is still a DuplicateTaskError", () =>
      Effect.gen(function*() {
        // the root graph's own task "parent / child / x" and task "x" of graph "child" run inside "parent"
        const parent = Task.make("parent", {
          run: TaskGraph.run(TaskGraph.make("child", [Task.make("x", { run: Effect.void })]))
        })
        const squatter = Task.make("parent / child / x", { run: Effect.void })
        const error = yield* failureOf(TaskGraph.run(TaskGraph.make("g", [parent, squatter])))
        if (error._tag !== "RunFailedError") throw new Error(`expected a failed run, got ${error._tag}`)
        const cause = Cause.failureOption(error.failures[0]!.cause)
        expect(Option.map(cause, (e) => (e as { _tag: string })._tag)).toEqual(Option.some("DuplicateTaskError"))
        expect(error.message).toContain(
          `two tasks of the run are named "parent / child / x": task "x" of graph "child" run inside "parent" and an earlier task of the run named "parent / child / x"`
        )
      }))

    it.effect("a numbered run whose names are taken says which run it was; the number is not used up", () =>
      Effect.gen(function*() {
        const child = TaskGraph.make("child", [Task.make("x", { run: Effect.void })])
        const parent = Task.make("parent", {
          run: Effect.gen(function*() {
            yield* TaskGraph.run(child)
            // "child #2" is taken by the root's own task: an error, every time it is tried
            const first = yield* Effect.flip(TaskGraph.run(child))
            const again = yield* Effect.flip(TaskGraph.run(child))
            return [first.message, again.message]
          })
        })
        const squatter = Task.make("parent / child #2 / x", { run: Effect.void })
        const report = yield* TaskGraph.run(TaskGraph.make("g", [parent, squatter]))
        const messages = Option.getOrThrow(RunReport.value(report, "parent")) as ReadonlyArray<string>
        const expected =
          `two tasks of the run are named "parent / child #2 / x": task "x" of graph "child" run inside "parent" as "child #2"`
        expect(messages[0]).toContain(expected)
        expect(messages[1]).toContain(expected)
      }))

    it.effect("{ isolated: true } keeps a child run apart: own pools, own report", () =>
      Effect.gen(function*() {
        const parent = Task.make("parent", {
          run: Effect.map(
            TaskGraph.run(TaskGraph.make("child", [Task.make("boot", { pools: { vm: 1 }, run: Effect.void })]), {
              isolated: true,
              pools: { vm: 1 }
            }),
            (r) => r.tasks.map((t) => t.name)
          )
        })
        const report = yield* TaskGraph.run(TaskGraph.make("g", [parent]))
        expect(report.tasks.map((t) => t.name)).toEqual(["parent"])
        expect(RunReport.value(report, "parent")).toEqual(Option.some(["boot"]))
      }))
  })
})

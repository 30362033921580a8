import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Ref, Stream, TestClock } from "effect"
import { RunReport, Task, TaskGraph } from "../../src/index.js"

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
})

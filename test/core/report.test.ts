import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Context, Effect, Fiber, Option, Schema, TestClock } from "effect"
import { RunReport, Task, TaskEvent, TaskGraph } from "../../src/index.js"

class Overlay extends Context.Tag("Overlay")<Overlay, string>() {}
class Vm extends Context.Tag("Vm")<Vm, string>() {}

const overlay = Task.make("create overlay image", { provides: Overlay, run: Effect.as(Effect.sleep("1 second"), "o") })
const vm = Task.make("start vm", { requires: [Overlay], provides: Vm, run: Effect.as(Effect.sleep("5 seconds"), "v") })
const lint = Task.make("lint \"src\"", { run: Effect.sleep("2 seconds") })
const tests = Task.make("run tests", { requires: [Vm], after: [lint], run: Effect.sleep("3 seconds") })
const graph = TaskGraph.make("run tests once", [overlay, vm, lint, tests])

describe("Mermaid, Gantt and the report", () => {
  it("TaskGraph.toMermaid draws the planned graph: data edges labelled with the tag key, precedence dashed", () => {
    expect(TaskGraph.toMermaid(graph)).toBe(
      [
        "flowchart TD",
        `  t0["create overlay image"]`,
        `  t1["start vm"]`,
        `  t2["lint #quot;src#quot;"]`,
        `  t3["run tests"]`,
        `  t0 -- "Overlay" --> t1`,
        `  t1 -- "Vm" --> t3`,
        `  t2 -.-> t3`
      ].join("\n")
    )
  })

  it("TaskGraph.toMermaid shows tags from outside the graph", () => {
    const partial = TaskGraph.make("partial", [vm])
    expect(TaskGraph.toMermaid(partial)).toContain(`x0(["Overlay (from context)"])\n  x0 -- "Overlay" --> t0`)
  })

  it("TaskGraph.toMermaid still draws a graph that has no plan (a cycle), from what its tasks declare", () => {
    const a = Task.make("a", { run: Effect.void })
    const b = Task.make("b", { after: [a], run: Effect.void })
    const cyclic = TaskGraph.make("cyclic", [a, b]).pipe(TaskGraph.precedence(b, a))
    const picture = TaskGraph.toMermaid(cyclic)
    expect(picture).toContain(`t0["a"]`)
    expect(picture).toContain(`t0 -.-> t1`)
    expect(picture).toContain(`t1 -.-> t0`)
  })

  it.effect("the critical path, RunReport.toMermaid coloured by status with durations, and RunReport.toGantt", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(TaskGraph.run(graph))
      yield* TestClock.adjust("9 seconds")
      const report = yield* Fiber.join(fiber)
      expect(report.criticalPath).toEqual(["create overlay image", "start vm", "run tests"])
      expect(report.durationMs).toEqual(Option.some(9000))
      const mermaid = RunReport.toMermaid(report)
      expect(mermaid).toContain(`t1["start vm<br/>released · 5.0s"]:::ok`)
      expect(mermaid).toContain(`t2 -.-> t3`)
      expect(mermaid).toContain(`linkStyle 0,1 stroke-width:3px`)
      const gantt = RunReport.toGantt(report)
      expect(gantt.split("\n")).toEqual([
        "gantt",
        "  title run tests once",
        "  dateFormat x",
        "  axisFormat %M:%S.%L",
        "  section run",
        "  create overlay image (released, 1.0s) :crit, t0, 0, 1000",
        "  start vm (released, 5.0s) :crit, t1, 1000, 6000",
        "  lint \"src\" (released, 2.0s) :done, t2, 0, 2000",
        "  run tests (released, 3.0s) :crit, t3, 6000, 9000",
        "  section resources",
        "  create overlay image held :active, t0h, 1000, 9000",
        "  start vm held :active, t1h, 6000, 9000"
      ])
      expect(RunReport.summary(report)).toContain("critical path: create overlay image -> start vm -> run tests")
    }))

  it.effect("a failed run's Mermaid marks failed and skipped tasks", () =>
    Effect.gen(function*() {
      const broken = Task.make("start vm", { requires: [Overlay], provides: Vm, run: Effect.fail("no kvm") })
      const fiber = yield* Effect.fork(Effect.flip(TaskGraph.run(TaskGraph.make("g", [overlay, broken, tests, lint]))))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      if (error._tag !== "RunFailedError") throw new Error(error._tag)
      const mermaid = RunReport.toMermaid(error.report)
      expect(mermaid).toContain(`t1["start vm<br/>failed · 0ms"]:::failed`)
      expect(mermaid).toContain(`t2["run tests<br/>skipped<br/>blocked by start vm"]:::skipped`)
      // lint does not need the VM: the failure stopped the run under it
      expect(mermaid).toContain(`t3["lint #quot;src#quot;<br/>interrupted · 1.0s<br/>stopped when start vm failed"]:::interrupted`)
    }))
})

describe("TaskEvent", () => {
  it("every event encodes to JSON and decodes back with the same Schema", () => {
    const events: Array<TaskEvent.TaskEvent> = [
      new TaskEvent.TaskStarted({ task: "a", timestamp: 1, attempt: 2 }),
      new TaskEvent.TaskReady({ task: "a", timestamp: 2, durationMs: 1 }),
      new TaskEvent.TaskOutput({ task: "a", timestamp: 3, stream: "stderr", line: "warning" }),
      new TaskEvent.TaskFailed({ task: "a", timestamp: 4, error: "Error: boom" }),
      new TaskEvent.TaskTimedOut({ task: "a", timestamp: 5, timeoutMs: 1000 }),
      new TaskEvent.TaskInterrupted({ task: "a", timestamp: 6 }),
      new TaskEvent.TaskOutput({ task: "a", timestamp: 3, stream: "log", line: "cache miss", level: "Warning" }),
      new TaskEvent.TaskSkipped({ task: "b", timestamp: 7, blockedBy: "a" }),
      new TaskEvent.TaskSkipped({ task: "c", timestamp: 7, stoppedBy: "a" }),
      new TaskEvent.TaskInterrupted({ task: "d", timestamp: 7, stoppedBy: "a" }),
      new TaskEvent.TaskReleased({ task: "a", timestamp: 8 }),
      new TaskEvent.RunFinished({ task: "g", timestamp: 9, status: "failed", durationMs: 9 })
    ]
    for (const event of events) {
      const line = TaskEvent.toJsonLine(event)
      expect(JSON.parse(line)._tag).toBe(event._tag)
      expect(TaskEvent.fromJsonLine(line)).toEqual(event)
    }
    expect(() => Schema.decodeUnknownSync(TaskEvent.TaskEvent)({ _tag: "TaskReady", task: "a" })).toThrow()
  })
})

describe("RunReport.value", () => {
  it.effect("given the task, the value typed as what the task produces; given a name, unknown", () =>
    Effect.gen(function*() {
      const answer = Task.make("answer", { run: Effect.succeed(42) })
      const failing = Task.make("failing", { run: Effect.fail("no") })
      const report = yield* TaskGraph.run(TaskGraph.make("values", [answer]))
      const typed = RunReport.value(report, answer)
      expectTypeOf(typed).toEqualTypeOf<Option.Option<number>>()
      expect(typed).toEqual(Option.some(42))
      expectTypeOf(RunReport.value(report, "answer")).toEqualTypeOf<Option.Option<unknown>>()
      expect(RunReport.value(report, "answer")).toEqual(Option.some(42))
      // a task that is not in the report, or did not succeed: None
      expect(RunReport.value(report, failing)).toEqual(Option.none())
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("fails", [failing])))
      if (error._tag !== "RunFailedError") return expect.unreachable(error._tag)
      expect(RunReport.value(error.report, failing)).toEqual(Option.none())
    }))
})

/**
 * `Task.promise`: a task whose work is one call returning a Promise, made by
 * the scheduler itself without a fiber. What it promises: the value, events,
 * report, failure handling and spans of the same call under `Task.make` with
 * `Effect.promise`; no fiber started for it; interrupting it aborts its
 * signal and ends it at once, as `Effect.promise` does.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Option, Stream } from "effect"
import { GraphError, RunReport, Task, TaskGraph } from "../../src/index.js"
import { recordingTracer, StartCounter } from "../helpers/observe.js"

class Page extends Context.Tag("Page")<Page, string>() {}
class Size extends Context.Tag("Size")<Size, number>() {}

/** A Promise settled later, from a timer: the call really is asynchronous. */
const later = <A>(value: A): Promise<A> => new Promise((resolve) => setTimeout(() => resolve(value), 1))

describe("Task.promise", () => {
  it.effect("waits for the Promise without a fiber; its value reaches the tasks that require its tag", () =>
    Effect.gen(function*() {
      const page = Task.promise("page", { provides: Page, run: () => later("<html>hello</html>") })
      const size = Task.promise("size", { provides: Size, requires: [Page], run: (services) => later(Context.get(services, Page).length) })
      const show = Task.make("show", { requires: [Size], run: Effect.map(Size, (n) => `${n} bytes`) })
      const counter = new StartCounter()
      const report = yield* TaskGraph.run(TaskGraph.make("promise", [page, size, show])).pipe(Effect.supervised(counter))
      expect(RunReport.value(report, "size")).toEqual(Option.some(18))
      expect(RunReport.value(report, "show")).toEqual(Option.some("18 bytes"))
      expect(report.tasks.map((t) => [t.name, t.status, t.attempts])).toEqual([
        ["page", "released", 1],
        ["size", "released", 1],
        ["show", "released", 1]
      ])
      // the same two calls in Effect.promise: same values, a fiber each more
      const pageInFiber = Task.make("page", { provides: Page, run: Effect.promise(() => later("<html>hello</html>")) })
      const sizeInFiber = Task.make("size", { provides: Size, requires: [Page], run: Effect.flatMap(Page, (p) => Effect.promise(() => later(p.length))) })
      const inFibers = new StartCounter()
      const same = yield* TaskGraph.run(TaskGraph.make("promise", [pageInFiber, sizeInFiber, show])).pipe(Effect.supervised(inFibers))
      expect(RunReport.value(same, "show")).toEqual(Option.some("18 bytes"))
      expect(inFibers.started - counter.started).toBe(2)
    }))

  it.effect("its events come in the same order as for the same call in Effect.promise", () =>
    Effect.gen(function*() {
      const eventsOf = (make: (name: string, after: ReadonlyArray<Task.Task.Any>) => Task.Task.Any) =>
        Effect.gen(function*() {
          const a = make("a", [])
          const b = make("b", [a])
          const handle = yield* TaskGraph.start(TaskGraph.make("events", [a, b]))
          yield* handle.await
          return Chunk.toArray(yield* Stream.runCollect(handle.events)).map((e) => `${e._tag} ${e.task}`)
        }).pipe(Effect.scoped)
      const plain = yield* eventsOf((name, after) => Task.promise(name, { after, run: () => later(name) }))
      const fiber = yield* eventsOf((name, after) => Task.make(name, { after, run: Effect.promise(() => later(name)) }))
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

  it.effect("a rejected Promise or a call that throws fails its task with that defect, and stops what needs it", () =>
    Effect.gen(function*() {
      const refused = new Error("connection refused")
      const broken = new Error("bad url")
      const rejects = Task.promise("rejects", { provides: Page, run: () => Promise.reject<string>(refused) })
      const throws = Task.promise("throws", {
        run: (): Promise<string> => {
          throw broken
        }
      })
      const needs = Task.make("needs", { requires: [Page], run: Effect.map(Page, (p) => p) })
      const other = Task.promise("other", { run: () => later("fine") })
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("fails", [rejects, throws, needs, other]), { mode: "continue" }))
      if (error._tag !== "RunFailedError") return expect.fail(`expected a RunFailedError, got ${error._tag}`)
      expect(error.failures.map((f) => [f.task, Cause.dieOption(f.cause)]).sort()).toEqual([
        ["rejects", Option.some(refused)],
        ["throws", Option.some(broken)]
      ])
      expect(Object.fromEntries(error.report.tasks.map((t) => [t.name, t.status]))).toEqual({
        rejects: "failed",
        throws: "failed",
        needs: "skipped",
        other: "released"
      })
    }))

  it.effect("fail-fast interrupts a call in flight: its signal is aborted, the task ends at once, a late result is ignored", () =>
    Effect.gen(function*() {
      const aborted: Array<string> = []
      let startedSlow!: () => void
      const slowStarted = new Promise<void>((resolve) => (startedSlow = resolve))
      let finishSlow!: (value: string) => void
      const slow = Task.promise("slow", {
        run: (_, signal) => {
          signal.addEventListener("abort", () => aborted.push("slow"))
          startedSlow()
          // settles only when the test says so, after the run has ended
          return new Promise<string>((resolve) => (finishSlow = resolve))
        }
      })
      const boom = new Error("boom")
      const bad = Task.promise("bad", { run: () => slowStarted.then(() => Promise.reject<string>(boom)) })
      const error = yield* Effect.flip(TaskGraph.run(TaskGraph.make("fail-fast", [slow, bad])))
      if (error._tag !== "RunFailedError") return expect.fail(`expected a RunFailedError, got ${error._tag}`)
      expect(aborted).toEqual(["slow"])
      const bySlow = error.report.tasks.find((t) => t.name === "slow")!
      expect(bySlow.status).toBe("interrupted")
      expect(bySlow.stoppedBy).toEqual(Option.some("bad"))
      expect(error.report.status).toBe("failed")
      // the Promise settling now changes nothing
      finishSlow("too late")
      yield* Effect.promise(() => later(undefined))
      expect(error.report.tasks.find((t) => t.name === "slow")!.status).toBe("interrupted")
    }))

  it.scoped("interrupting the run aborts every call in flight; a call without a signal is left to finish, its result ignored", () =>
    Effect.gen(function*() {
      const aborted: Array<string> = []
      const waits = Task.promise("waits", {
        run: (_, signal) =>
          new Promise<string>((resolve) => {
            signal.addEventListener("abort", () => {
              aborted.push("waits")
              resolve("aborted")
            })
          })
      })
      let finishDeaf!: (value: number) => void
      const deaf = Task.promise("deaf", { run: () => new Promise<number>((resolve) => (finishDeaf = resolve)) })
      const handle = yield* TaskGraph.start(TaskGraph.make("interrupted", [waits, deaf]))
      yield* Effect.promise(() => later(undefined))
      expect(yield* handle.status).toEqual({ waits: "running", deaf: "running" })
      const report = yield* handle.interrupt
      expect(aborted).toEqual(["waits"])
      expect(report.status).toBe("interrupted")
      expect(report.tasks.map((t) => [t.name, t.status])).toEqual([["waits", "interrupted"], ["deaf", "interrupted"]])
      finishDeaf(1)
      yield* Effect.promise(() => later(undefined))
    }))

  it.effect("with a tracer, each call has its span, ended with the task's status", () =>
    Effect.gen(function*() {
      const { made, tracer } = yield* recordingTracer
      const ok = Task.promise("ok", { run: () => later(1) })
      const bad = Task.promise("bad", { run: () => Promise.reject<number>(new Error("no")) })
      yield* Effect.flip(
        TaskGraph.run(TaskGraph.make("g", [ok, bad]), { mode: "continue" }).pipe(Effect.withSpan("outer"), Effect.withTracer(tracer))
      )
      const byName = Object.fromEntries(made.map((s) => [s.name, s]))
      expect(Object.keys(byName).sort()).toEqual(["bad", "ok", "outer"])
      for (const [name, status] of [["ok", "ready"], ["bad", "failed"]] as const) {
        const span = byName[name]!
        expect(span.status._tag).toBe("Ended")
        expect(span.parent.pipe(Option.map((p) => p.spanId))).toEqual(Option.some(byName["outer"]!.spanId))
        expect(span.attributes.get("taskgraph.status")).toBe(status)
      }
    }))

  it("a run that is not a function is the graph's error, saying what to pass", () => {
    const task = Task.promise("not a function", { run: Promise.resolve(1) as unknown as () => Promise<number> })
    const error = Effect.runSync(Effect.flip(TaskGraph.run(TaskGraph.make("bad", [task]))))
    expect(error).toBeInstanceOf(GraphError.InvalidOptionError)
    expect(error.message).toContain(`run of task "not a function"`)
    expect(error.message).toContain("must be a function (Task.promise calls it), got an object")
  })
})

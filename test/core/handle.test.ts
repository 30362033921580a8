import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, Exit, Fiber, HashMap, Logger, Option, Ref, Stream, TestClock } from "effect"
import { Task, TaskEvent, TaskGraph } from "../../src/index.js"
import { recordingTracer } from "../helpers/observe.js"

class A extends Context.Tag("A")<A, number>() {}

const pipeline = () => {
  const a = Task.make("a", {
    provides: A,
    run: Effect.acquireRelease(Effect.as(Effect.sleep("1 second"), 1), () => Effect.void)
  })
  const b = Task.make("b", {
    requires: [A],
    run: Effect.gen(function*() {
      yield* Effect.log("hello from b")
      yield* Task.output("compiled 3 files")
      yield* Task.output("warning: unused", "stderr")
      yield* Effect.sleep("1 second")
      return (yield* A) + 1
    })
  })
  return TaskGraph.make("pipeline", [a, b])
}

describe("TaskGraph.start", () => {
  it.scoped("await, poll and status follow the run", () =>
    Effect.gen(function*() {
      const handle = yield* TaskGraph.start(pipeline())
      expect(yield* handle.poll).toEqual(Option.none())
      expect(yield* handle.status).toEqual({ a: "running", b: "pending" })
      yield* TestClock.adjust("1 second")
      expect(yield* handle.status).toEqual({ a: "ready", b: "running" })
      yield* TestClock.adjust("1 second")
      const report = yield* handle.await
      expect(report.status).toBe("succeeded")
      expect(yield* handle.status).toEqual({ a: "released", b: "released" })
      const polled = yield* handle.poll
      expect(Option.isSome(polled) && Exit.isSuccess(polled.value)).toBe(true)
    }))

  it.scoped("events is a Stream that misses nothing from the start, even when subscribed late", () =>
    Effect.gen(function*() {
      const handle = yield* TaskGraph.start(pipeline())
      yield* TestClock.adjust("2 seconds")
      yield* handle.await
      const events = Chunk.toReadonlyArray(yield* Stream.runCollect(handle.events))
      expect(events.map((e) => `${e._tag} ${e.task}`)).toEqual([
        "TaskStarted a",
        "TaskReady a",
        "TaskStarted b",
        "TaskOutput b",
        "TaskOutput b",
        "TaskOutput b",
        "TaskReady b",
        "TaskReleased b",
        "TaskReleased a",
        "RunFinished pipeline"
      ])
      const outputs = events.filter((e): e is TaskEvent.TaskOutput => e._tag === "TaskOutput")
      expect(outputs.map((e) => [e.stream, e.line])).toEqual([
        ["log", "hello from b"],
        ["stdout", "compiled 3 files"],
        ["stderr", "warning: unused"]
      ])
      expect(events.every((e) => typeof e.timestamp === "number")).toBe(true)
    }))

  it.scoped("a line logged in a task keeps the level it was logged at; Task.output lines have none", () =>
    Effect.gen(function*() {
      const a = Task.make("a", {
        run: Effect.gen(function*() {
          yield* Effect.log("plain")
          yield* Effect.logWarning("cache miss")
          yield* Effect.logError("disk full")
          yield* Effect.logFatal("gone")
          yield* Effect.logDebug("not shown at the default minimum level")
          yield* Task.output("written", "log")
        })
      })
      const handle = yield* TaskGraph.start(TaskGraph.make("levels", [a]))
      yield* handle.await
      const events = Chunk.toReadonlyArray(yield* Stream.runCollect(handle.events))
      const outputs = events.filter((e): e is TaskEvent.TaskOutput => e._tag === "TaskOutput")
      expect(outputs.map((e) => [e.line, e.level])).toEqual([
        ["plain", "Info"],
        ["cache miss", "Warning"],
        ["disk full", "Error"],
        ["gone", "Fatal"],
        ["written", undefined]
      ])
      // and the level survives the JSON lines of `--output json` and events.jsonl
      expect(outputs.map((e) => (TaskEvent.fromJsonLine(TaskEvent.toJsonLine(e)) as TaskEvent.TaskOutput).level)).toEqual(["Info", "Warning", "Error", "Fatal", undefined])
      expect("level" in outputs[4]!).toBe(false)
    }))

  it.scoped("a subscriber running during the run sees the same events as a late one", () =>
    Effect.gen(function*() {
      const handle = yield* TaskGraph.start(pipeline())
      const live = yield* Effect.fork(Stream.runCollect(handle.events))
      yield* TestClock.adjust("2 seconds")
      yield* handle.await
      const early = Chunk.toReadonlyArray(yield* Fiber.join(live))
      const late = Chunk.toReadonlyArray(yield* Stream.runCollect(handle.events))
      expect(early).toEqual(late)
      expect(early.at(-1)?._tag).toBe("RunFinished")
    }))

  it.scoped("paused: true starts with nothing running, not even the tasks that could start at once, until resume", () =>
    Effect.gen(function*() {
      const ran = yield* Ref.make(0)
      const now = Task.make("now", { run: Ref.update(ran, (n) => n + 1) })
      const handle = yield* TaskGraph.start(TaskGraph.make("paused", [now]), { paused: true })
      yield* TestClock.adjust("5 seconds")
      expect(yield* handle.status).toEqual({ now: "pending" })
      expect(yield* Ref.get(ran)).toBe(0)
      expect(yield* handle.poll).toEqual(Option.none())
      yield* handle.resume
      expect((yield* handle.await).status).toBe("succeeded")
      expect(yield* Ref.get(ran)).toBe(1)
    }))

  it.scoped("a run started paused and interrupted: nothing ran, every task skipped", () =>
    Effect.gen(function*() {
      const handle = yield* TaskGraph.start(pipeline(), { paused: true })
      const report = yield* handle.interrupt
      expect(report.status).toBe("interrupted")
      expect(report.tasks.map((t) => [t.name, t.status, t.attempts])).toEqual([["a", "skipped", 0], ["b", "skipped", 0]])
    }))

  it.scoped("paused must be a boolean", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(TaskGraph.start(pipeline(), { paused: "yes" as unknown as boolean }))
      expect(error._tag).toBe("InvalidOptionError")
      expect(error.message).toBe(`invalid paused: must be true or false, got "yes"`)
    }))

  it.scoped("pause: no new task starts while paused; running ones go on", () =>
    Effect.gen(function*() {
      const handle = yield* TaskGraph.start(pipeline())
      yield* handle.pause
      yield* TestClock.adjust("5 seconds")
      expect(yield* handle.status).toEqual({ a: "ready", b: "pending" })
      yield* handle.resume
      expect(yield* handle.status).toEqual({ a: "ready", b: "running" })
      yield* TestClock.adjust("1 second")
      expect((yield* handle.await).status).toBe("succeeded")
    }))

  it.scoped("interrupt stops the run, releases everything and returns the report", () =>
    Effect.gen(function*() {
      const released = yield* Ref.make(false)
      const a = Task.make("a", {
        provides: A,
        run: Effect.acquireRelease(Effect.succeed(1), () => Ref.set(released, true))
      })
      const b = Task.make("b", { requires: [A], run: Effect.never })
      const c = Task.make("c", { requires: [A], after: [b], run: Effect.void })
      const handle = yield* TaskGraph.start(TaskGraph.make("g", [a, b, c]))
      const report = yield* handle.interrupt
      expect(report.status).toBe("interrupted")
      expect(report.tasks.map((t) => t.status)).toEqual(["released", "interrupted", "skipped"])
      expect(yield* Ref.get(released)).toBe(true)
      expect((yield* handle.await).status).toBe("interrupted")
    }))

  it.effect("closing the handle's scope interrupts the run and waits for its cleanup", () =>
    Effect.gen(function*() {
      const released = yield* Ref.make(false)
      const a = Task.make("a", {
        run: Effect.zipRight(Effect.addFinalizer(() => Ref.set(released, true)), Effect.never)
      })
      yield* Effect.scoped(TaskGraph.start(TaskGraph.make("g", [a])))
      expect(yield* Ref.get(released)).toBe(true)
    }))

  it.scoped("await fails with the RunFailedError when a task fails", () =>
    Effect.gen(function*() {
      const handle = yield* TaskGraph.start(TaskGraph.make("g", [Task.make("x", { run: Effect.fail("bad") })]))
      const error = yield* Effect.flip(handle.await)
      expect(error.failures.map((f) => f.task)).toEqual(["x"])
      const events = Chunk.toReadonlyArray(yield* Stream.runCollect(handle.events))
      expect(events.map((e) => e._tag)).toEqual(["TaskStarted", "TaskFailed", "RunFinished"])
    }))
})

describe("task context", () => {
  it.effect("Effect.log inside a task is annotated with the task's name", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ annotations, message }) => {
        lines.push(`${HashMap.get(annotations, "task").pipe(Option.getOrElse(() => "-"))}: ${String(message)}`)
      })
      const t = Task.make("annotated", {
        run: Effect.gen(function*() {
          yield* Effect.log("inside")
          yield* Effect.fork(Effect.log("in a child fiber")).pipe(Effect.flatMap(Fiber.join))
          return yield* Task.currentName
        })
      })
      const report = yield* TaskGraph.run(TaskGraph.make("g", [t])).pipe(
        Effect.zipLeft(Effect.log("outside")),
        Effect.provide(Logger.replace(Logger.defaultLogger, capture))
      )
      expect(lines).toEqual(["annotated: inside", "annotated: in a child fiber", "-: outside"])
      expect(report.tasks[0]!.value).toEqual(Option.some(Option.some("annotated")))
    }))

  it.effect("with a tracer installed, every task runs in a span named after it, child of the caller's span", () =>
    Effect.gen(function*() {
      const { made, tracer: recording } = yield* recordingTracer
      const seen = yield* Ref.make<Array<string>>([])
      const a = Task.make("a", { provides: A, run: Effect.succeed(1) })
      const b = Task.make("b", {
        requires: [A],
        run: Effect.currentSpan.pipe(
          Effect.map((span) => span.name),
          Effect.orElseSucceed(() => "no span"),
          Effect.flatMap((name) => Ref.update(seen, (s) => [...s, name]))
        )
      })
      yield* TaskGraph.run(TaskGraph.make("g", [a, b])).pipe(Effect.withSpan("outer"), Effect.withTracer(recording))
      expect(yield* Ref.get(seen)).toEqual(["b"])
      const byName = Object.fromEntries(made.map((s) => [s.name, s]))
      expect(Object.keys(byName).sort()).toEqual(["a", "b", "outer"])
      for (const name of ["a", "b"]) {
        const span = byName[name]!
        expect(span.status._tag).toBe("Ended")
        expect(span.parent.pipe(Option.map((p) => p.spanId))).toEqual(Option.some(byName["outer"]!.spanId))
        expect(span.attributes.get("taskgraph.graph")).toBe("g")
      }
      // spans: false turns them off even with a tracer
      made.length = 0
      yield* TaskGraph.run(TaskGraph.make("g", [a, b]), { spans: false }).pipe(Effect.withTracer(recording))
      expect(made).toEqual([])
      expect(yield* Ref.get(seen)).toEqual(["b", "no span"])
    }))
})

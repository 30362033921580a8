/**
 * What a failed run says about its error, for anything a task can fail with: the message names the
 * error (an Effect error with no message by its tag and fields), and no value — circular, holding a
 * bigint — can make describing a failure throw, in the error's message or in the events.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Data, Effect, Option, Schema, Stream } from "effect"
import { Task, TaskEvent, TaskGraph } from "../../src/index.js"

class Boom extends Data.TaggedError("Boom")<{ readonly reason: string }> {}
class Bare extends Data.TaggedError("Bare") {}
class SchemaBoom extends Schema.TaggedError<SchemaBoom>()("SchemaBoom", { reason: Schema.String }) {}
class WithMessage extends Data.TaggedError("WithMessage")<{ readonly message: string }> {}

const circular = (): unknown => {
  const error: { status: number; request?: unknown } = { status: 500 }
  error.request = { response: error }
  return error
}

const messageOf = (run: Effect.Effect<unknown, unknown>) =>
  Effect.map(Effect.flip(TaskGraph.run(TaskGraph.make("g", [Task.make("t", { run })]))), (error) => {
    // String(), Cause.pretty and .message must all work on it
    expect(String(error)).toContain(error.message)
    expect(Cause.pretty(Cause.fail(error))).toContain(error.message)
    return error.message
  })

describe("describing a task's failure", () => {
  const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>, string]> = [
    ["a Data.TaggedError with fields", Effect.fail(new Boom({ reason: "disk full" })), `Boom {"reason":"disk full"}`],
    ["a Data.TaggedError without fields", Effect.fail(new Bare()), "Bare"],
    ["a Schema.TaggedError", Effect.fail(new SchemaBoom({ reason: "r" })), `SchemaBoom { "reason": "r" }`],
    ["an error with its own message", Effect.fail(new WithMessage({ message: "no space left" })), "no space left"],
    ["Option.none() used as an effect", Option.none(), "NoSuchElementException"],
    ["a circular object", Effect.fail(circular()), `{"status":500,"request":{"response":"[Circular]"}}`],
    ["an object holding a bigint", Effect.fail({ bytes: 10n }), `{"bytes":"10n"}`],
    ["a string", Effect.fail("no disk"), "no disk"],
    ["a defect", Effect.die(new Error("kaput")), "kaput"]
  ]
  for (const [what, run, expected] of cases) {
    it.effect(`${what}: task "t" failed: ${expected}`, () =>
      Effect.map(messageOf(run), (message) => expect(message).toBe(`graph "g" failed: task "t" failed: ${expected}`)))
  }

  it.scoped("a bigint in an error that fails later, with events on, is a TaskFailed event (Cause.pretty would throw)", () =>
    Effect.gen(function*() {
      const later = Task.make("later", { run: Effect.zipRight(Effect.yieldNow(), Effect.fail({ bytes: 10n })) })
      const handle = yield* TaskGraph.start(TaskGraph.make("g", [later]))
      const error = yield* Effect.flip(handle.await)
      expect(error.message).toBe(`graph "g" failed: task "later" failed: {"bytes":"10n"}`)
      const failed = Chunk.toReadonlyArray(yield* Stream.runCollect(handle.events))
        .filter((e): e is TaskEvent.TaskFailed => e._tag === "TaskFailed")
      expect(failed.map((e) => [e.task, e.error])).toEqual([["later", `{"bytes":"10n"}`]])
    }))

  it.scoped("logging a value holding a bigint or a cycle does not fail the task; the line shows it", () =>
    Effect.gen(function*() {
      const logs = Task.make("logs", { run: Effect.zipRight(Effect.log("sizes", { bytes: 10n }), Effect.log(circular())) })
      const handle = yield* TaskGraph.start(TaskGraph.make("g", [logs]))
      const report = yield* handle.await
      expect(report.status).toBe("succeeded")
      const lines = Chunk.toReadonlyArray(yield* Stream.runCollect(handle.events))
        .filter((e): e is TaskEvent.TaskOutput => e._tag === "TaskOutput")
        .map((e) => e.line)
      expect(lines).toEqual([`sizes {"bytes":"10n"}`, `{"status":500,"request":{"response":"[Circular]"}}`])
    }))
})

/**
 * A run's hooks and loggers (src/internal/taskLogging.ts) and its event log
 * (src/internal/eventLog.ts), on their own: a line logged inside a task gets
 * `task=<name>` and, with events, becomes the task's `log` output.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Deferred, Effect, FiberId, HashMap, Logger, Option, Runtime } from "effect"
import * as TaskEvent from "../../../src/TaskEvent.js"
import * as EventLog from "../../../src/internal/eventLog.js"
import type { OutputStream } from "../../../src/internal/taskHooks.js"
import { TaskHooksKey } from "../../../src/internal/taskHooks.js"
import * as TaskLogging from "../../../src/internal/taskLogging.js"

const owner = FiberId.make(-1, 0) as FiberId.Runtime

/** Runs `Effect.log` as a task fiber of a run would: the run's refs, the task's hooks in its context. */
const logInTask = (toEvents: boolean, hooks: object | undefined) =>
  Effect.gen(function*() {
    const seen: Array<[Option.Option<unknown>, unknown]> = []
    const capture = Logger.make(({ annotations, message }) => void seen.push([HashMap.get(annotations, "task"), message]))
    const callerRefs = yield* Effect.getFiberRefs.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
    const runtime = Runtime.make({
      context: Context.unsafeMake(new Map(hooks === undefined ? [] : [[TaskHooksKey, hooks]])),
      fiberRefs: TaskLogging.fiberRefs(callerRefs, owner, toEvents),
      runtimeFlags: Runtime.defaultRuntime.runtimeFlags
    })
    Runtime.runSync(runtime)(Effect.log("hello", { n: 2 }))
    return seen
  })

describe("TaskLogging", () => {
  const setup = () => {
    const lines: Array<[string, OutputStream, string]> = []
    const failed: Array<[number, Cause.Cause<unknown>]> = []
    const makeHooks = TaskLogging.hooksMaker({
      output: (name, stream, line) => void lines.push([name, stream, line]),
      watcherFailed: (i, cause) => void failed.push([i, cause])
    })
    return { lines, failed, makeHooks }
  }

  it("hooks know their task and pass output and watcher failures on", () => {
    const { failed, makeHooks, lines } = setup()
    const hooks = makeHooks(4, "build")
    expect([hooks.index, hooks.name]).toEqual([4, "build"])
    hooks.output("stdout", "compiling")
    hooks.watcherFailed(Cause.die("crashed"))
    expect(lines).toEqual([["build", "stdout", "compiling"]])
    expect(failed).toEqual([[4, Cause.die("crashed")]])
  })

  it("without events, output costs nothing and goes nowhere", () => {
    const makeHooks = TaskLogging.hooksMaker({ output: undefined, watcherFailed: () => {} })
    expect(() => makeHooks(0, "quiet").output("stderr", "x")).not.toThrow()
  })

  it.effect("a line logged in a task is annotated with its name and, with events, becomes its log output", () =>
    Effect.gen(function*() {
      const { makeHooks, lines } = setup()
      const seen = yield* logInTask(true, makeHooks(1, "build"))
      expect(seen).toEqual([[Option.some("build"), ["hello", { n: 2 }]]])
      expect(lines).toEqual([["build", "log", 'hello {"n":2}']])
    }))

  it.effect("without events the line is only annotated; outside a task it is left alone", () =>
    Effect.gen(function*() {
      const { makeHooks, lines } = setup()
      expect(yield* logInTask(false, makeHooks(1, "build"))).toEqual([[Option.some("build"), ["hello", { n: 2 }]]])
      expect(lines).toEqual([])
      expect(yield* logInTask(true, undefined)).toEqual([[Option.none(), ["hello", { n: 2 }]]])
    }))
})

describe("EventLog", () => {
  it.effect("records events in order and completes the signal taken before each one", () =>
    Effect.gen(function*() {
      const log = EventLog.make(owner)
      const signal = log.next()
      expect(yield* Deferred.isDone(signal)).toBe(false)
      const started = new TaskEvent.TaskStarted({ task: "a", timestamp: 1, attempt: 1 })
      log.emit(started)
      expect(yield* Deferred.isDone(signal)).toBe(true)
      expect(log.next()).not.toBe(signal)
      expect(yield* Deferred.isDone(log.next())).toBe(false)
      log.emit(new TaskEvent.TaskReady({ task: "a", timestamp: 2, durationMs: 1 }))
      expect(log.events.map((e) => e._tag)).toEqual(["TaskStarted", "TaskReady"])
    }))
})

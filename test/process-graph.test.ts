/**
 * Process inside a real task graph: output lines become the task's
 * `TaskOutput` events with their stream names, a started program lives as
 * long as the tasks that use it, a non-zero exit fails the task with
 * `ProcessExitError`, and a watched program that dies fails the run.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Stream } from "effect"
import * as Process from "../src/Process.js"
import { isGone } from "./helpers/pids.js"
import { Task, TaskEvent, TaskGraph } from "../src/index.js"

class Server extends Context.Tag("Server")<Server, { readonly pid: number }>() {}


/** Runs the graph with `start` and returns every event and the outcome. */
const runWithEvents = <E, R, P>(graph: TaskGraph.TaskGraph<E, R, P>) =>
  Effect.scoped(Effect.gen(function*() {
    const handle = yield* TaskGraph.start(graph)
    const events = yield* Effect.fork(Stream.runCollect(handle.events))
    const exit = yield* Effect.exit(handle.await)
    const all = Array.from(yield* events.await.pipe(Effect.flatten))
    return { exit, events: all }
  }))

const outputOf = (events: ReadonlyArray<TaskEvent.TaskEvent>, task: string) =>
  events.flatMap((e) => e._tag === "TaskOutput" && e.task === task && e.stream !== "log" ? [[e.stream, e.line]] : [])

describe("Process in a task graph", () => {
  it.live("lines become the task's output events; a started program lives while its users run", () =>
    Effect.gen(function*() {
      const generate = Task.make("generate", {
        run: Process.run("sh", ["-c", "echo 'generating 3 files'; echo 'warning: slow disk' >&2; echo done"])
      })
      const server = Task.make("server", {
        provides: Server,
        run: Effect.gen(function*() {
          const proc = yield* Process.start("sh", ["-c", `echo "listening as $$"; exec sleep 1000`], { grace: "1 second" })
          yield* Process.waitForLine(proc, /^listening/)
          yield* Process.watch(proc)
          return { pid: proc.pid }
        })
      })
      const client = Task.make("client", {
        requires: [Server],
        after: [generate],
        run: Effect.flatMap(Server, ({ pid }) => Effect.succeed(isGone(pid) ? "server gone" : "server alive"))
      })
      const { events, exit } = yield* runWithEvents(TaskGraph.make("build", [generate, server, client]))
      expect(Exit.isSuccess(exit)).toBe(true)
      // per stream order is exact; across streams it depends on pipe timing
      expect(outputOf(events, "generate").filter(([s]) => s === "stdout")).toEqual([
        ["stdout", "generating 3 files"],
        ["stdout", "done"]
      ])
      expect(outputOf(events, "generate").filter(([s]) => s === "stderr")).toEqual([["stderr", "warning: slow disk"]])
      const listening = outputOf(events, "server")[0]
      expect(listening?.[1]).toMatch(/^listening as \d+$/)
      const pid = Number(listening![1]!.split(" ")[2])
      // released when its last user finished
      expect(isGone(pid)).toBe(true)
    }))

  it.live("a non-zero exit fails the task with ProcessExitError and its stderr tail", () =>
    Effect.gen(function*() {
      const compile = Task.make("compile", {
        run: Process.run("sh", ["-c", "echo 'main.c:3: error: expected ;' >&2; exit 1"])
      })
      const { exit } = yield* runWithEvents(TaskGraph.make("build", [compile]))
      expect(Exit.isFailure(exit)).toBe(true)
      const pretty = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(pretty).toContain("exited with code 1")
      expect(pretty).toContain("main.c:3: error: expected ;")
    }))

  it.live("a watched program that dies while it is needed fails the run instead of hanging", () =>
    Effect.gen(function*() {
      const server = Task.make("server", {
        provides: Server,
        run: Effect.gen(function*() {
          const proc = yield* Process.start("sh", ["-c", "echo up; read line; echo 'segfault' >&2; exit 139"])
          yield* Process.waitForLine(proc, "up")
          yield* Process.watch(proc)
          yield* proc.write("crash now\n")
          return { pid: proc.pid }
        })
      })
      const client = Task.make("client", { requires: [Server], run: Effect.never })
      const { exit } = yield* runWithEvents(TaskGraph.make("g", [server, client]))
      expect(Exit.isFailure(exit)).toBe(true)
      const pretty = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(pretty).toContain("exited with code 139 while it was still needed")
    }))
})

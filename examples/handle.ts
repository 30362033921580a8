/**
 * A run driven through its handle: started paused, its events followed by a
 * fiber of our own, resumed, paused again while "build" runs (so "test" does
 * not start when build is done: we look at the status first), then resumed
 * and awaited. Pausing holds back the tasks that start after it; a task that
 * already started runs on.
 * Run: npx tsx examples/handle.ts
 */
import { Deferred, Effect, Stream } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"

const checkout = Task.make("checkout", { run: Effect.sleep("50 millis") })
const build = Task.make("build", { after: [checkout], run: Effect.sleep("100 millis") })
const test = Task.make("test", { after: [build], run: Effect.sleep("100 millis") })
const graph = TaskGraph.make("handle demo", [checkout, build, test])

const program = Effect.scoped(Effect.gen(function*() {
  // nothing starts until resume: set up what follows the run first
  const handle = yield* TaskGraph.start(graph, { paused: true })
  console.log("started paused:", yield* handle.status)

  const buildDone = yield* Deferred.make<void>()
  yield* Effect.fork(Stream.runForEach(handle.events, (event) =>
    Effect.gen(function*() {
      console.log(`event: ${event._tag} ${event.task}`)
      // while build runs: hold back what would start after it
      if (event._tag === "TaskStarted" && event.task === "build") yield* handle.pause
      if (event._tag === "TaskReleased" && event.task === "build") yield* Deferred.succeed(buildDone, undefined)
    })))

  yield* handle.resume
  yield* Deferred.await(buildDone)
  console.log("paused after build:", yield* handle.status)
  yield* handle.resume
  const report = yield* handle.await
  console.log(`${report.graph}: ${report.status}`)
}))

Effect.runPromise(program)

/**
 * A graph of 100,000 tasks with typed data flow: each task provides its own
 * tag and needs up to three earlier ones. It is built, validated and run,
 * then a 10,000-task run is interrupted while every task holds a resource:
 * every finalizer runs before the interruption returns.
 *
 * Run: npx tsx examples/large-graph.ts [tasks]
 */
import { Context, Deferred, Effect, Fiber, Option, Ref } from "effect"
import { RunReport, Task, TaskGraph } from "effect-taskgraph"

const size = Number(process.argv[2] ?? 100_000)
if (!Number.isInteger(size) || size < 2) {
  console.error(`usage: npx tsx examples/large-graph.ts [tasks], tasks an integer >= 2, got ${process.argv[2]}`)
  process.exit(2)
}

/** A small seeded generator, so that every run builds the same graph. */
const random = (() => {
  let seed = 42
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
})()

const ms = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`

const program = Effect.gen(function*() {
  // 1. build: a tag per task, the task sums what its dependencies hand it
  let t0 = performance.now()
  const tags = Array.from({ length: size }, (_, i) => Context.GenericTag<"Node", number>(`node ${i}`))
  const tasks = tags.map((tag, i) => {
    const needs = i === 0 ? [] : Array.from(new Set(Array.from({ length: Math.floor(random() * 4) }, () => tags[Math.floor(random() * i)]!)))
    return Task.make(`task ${i}`, {
      provides: tag,
      requires: needs,
      run: needs.length === 0
        ? Effect.succeed(1)
        : Effect.map(Effect.all(needs), (values) => (values.reduce((a, b) => a + b, 0) % 1000) + 1)
    })
  })
  const graph = TaskGraph.make("large", tasks)
  console.log(`built ${size} tasks in ${ms(t0)}`)

  // 2. validate: cycles, providers, names — nothing runs yet
  t0 = performance.now()
  const plan = yield* TaskGraph.validate(graph)
  console.log(`validated in ${ms(t0)}: ${plan.layers.length} layers`)

  // 3. run
  t0 = performance.now()
  const report = yield* TaskGraph.run(graph)
  const elapsed = performance.now() - t0
  console.log(`ran ${size} tasks in ${elapsed.toFixed(0)} ms (${((elapsed * 1000) / size).toFixed(1)} µs a task): ${report.status}`)
  console.log(`last value: ${Option.getOrThrow(RunReport.value(report, `task ${size - 1}`))}, critical path: ${report.criticalPath.length} tasks`)

  // 4. interrupt a run whose tasks all hold a resource
  const inFlight = Math.min(size, 10_000)
  const started = yield* Ref.make(0)
  const allStarted = yield* Deferred.make<void>()
  const released = yield* Ref.make(0)
  const acquire = Ref.updateAndGet(started, (n) => n + 1).pipe(
    Effect.tap((n) => (n === inFlight ? Deferred.succeed(allStarted, undefined) : Effect.void))
  )
  const holders = Array.from({ length: inFlight }, (_, i) =>
    Task.make(`holder ${i}`, {
      run: Effect.acquireRelease(acquire, () => Ref.update(released, (n) => n + 1)).pipe(Effect.zipRight(Effect.never))
    }))
  const fiber = yield* Effect.fork(TaskGraph.run(TaskGraph.make("in flight", holders)))
  yield* Deferred.await(allStarted)
  t0 = performance.now()
  yield* Fiber.interrupt(fiber)
  console.log(`interrupted ${inFlight} running tasks in ${ms(t0)}: ${yield* Ref.get(released)} finalizers ran`)
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})

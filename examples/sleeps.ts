/**
 * The first sketches, step by step: one task; a group of tasks; dependencies;
 * precedence; a concurrency limit. Run: npx tsx examples/sleeps.ts
 */
import { Effect, Option } from "effect"
import { RunReport, Task, TaskGraph } from "effect-taskgraph"

const sleepFor = (ms: number) =>
  Task.make(`sleep for ${ms}ms`, {
    run: Effect.sleep(`${ms} millis`).pipe(Effect.zipRight(Effect.log(`slept ${ms}ms`)), Effect.as(ms))
  })

const program = Effect.gen(function*() {
  // 1. one task
  const one = sleepFor(100)
  yield* TaskGraph.run(TaskGraph.make("one task", [one]))

  // 2. a group of tasks: independent, so they run concurrently (~300 ms, not 600)
  const group = TaskGraph.make("sleeps", [sleepFor(100), sleepFor(200), sleepFor(300)])
  const groupReport = yield* TaskGraph.run(group)
  console.log(RunReport.summary(groupReport))

  // 3. dependencies: task2 depends on task1 (it runs after it)
  const task1 = sleepFor(150)
  const task2 = Task.make("sleep for 250ms after task1", { after: [task1], run: Effect.sleep("250 millis") })
  yield* TaskGraph.run(TaskGraph.make("dependencies", [task1, task2]))

  // 4. precedence added at the graph level: port before ssh, no data between them
  const port = Task.make("wait until port is ready", { run: Effect.sleep("50 millis") })
  const ssh = Task.make("wait until ssh is ready", { run: Effect.sleep("50 millis") })
  const graph = TaskGraph.make("precedence", [ssh, port]).pipe(TaskGraph.precedence(port, ssh))
  console.log(TaskGraph.toMermaid(graph))
  const report = yield* TaskGraph.run(graph)
  console.log(RunReport.summary(report))

  // 5. a concurrency limit: of the ready tasks, the one with the longest chain ahead starts first
  const side = sleepFor(100)
  const first = Task.make("first link of the long chain", { run: Effect.sleep("100 millis") })
  const second = Task.make("second link of the long chain", { after: [first], run: Effect.sleep("300 millis") })
  const limited = yield* TaskGraph.run(TaskGraph.make("one at a time", [side, first, second]), { concurrency: 1 })
  const order = [...limited.tasks].sort((a, b) => Option.getOrThrow(a.startedAt) - Option.getOrThrow(b.startedAt))
  console.log(`one at a time, started in this order: ${order.map((t) => t.name).join(", ")}`)
})

Effect.runPromise(program)

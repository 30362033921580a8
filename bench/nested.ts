/**
 * Graphs inside tasks (issue 12): what a child run costs. The same 1,000 noop
 * tasks run (a) in the parent graph and (b) as a child graph run inside one
 * task of the parent (events forwarded, slots and pools shared, the child's
 * tasks in the parent's report). Both with and without events (a handle /
 * reporter, or a bare `TaskGraph.run`). In-process, alternating, median of
 * the rounds, µs per task; JSON in bench/results/nested.json.
 *
 *   npx tsx bench/nested.ts            # 15 rounds
 *   npx tsx bench/nested.ts --quick    # 5 rounds
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { Effect } from "effect"
import { Task, TaskGraph } from "../src/index.js"

const quick = process.argv.includes("--quick")
const rounds = quick ? 5 : 15
const n = 1_000

const noops = () => Array.from({ length: n }, (_, i) => Task.make(`noop ${i}`, { run: Effect.sync(() => i) }))

const flat = () => TaskGraph.make("flat", noops())
const nested = () =>
  TaskGraph.make("nested", [Task.make("fan out", { run: TaskGraph.run(TaskGraph.make("child", noops())) })])
// the same child run, but a stranger to its parent (the cost of being inside a task at all)
const isolated = () =>
  TaskGraph.make("isolated", [
    Task.make("fan out", { run: TaskGraph.run(TaskGraph.make("child", noops()), { isolated: true }) })
  ])

const runOnce = (graph: TaskGraph.TaskGraph<unknown>, events: boolean) =>
  events
    ? Effect.scoped(Effect.flatMap(TaskGraph.start(graph), (handle) => handle.await))
    : TaskGraph.run(graph)

const time = (make: () => TaskGraph.TaskGraph<unknown>, events: boolean): number => {
  const graph = make() // built outside the measure: both sides build the same tasks
  const start = performance.now()
  Effect.runSync(runOnce(graph, events))
  return ((performance.now() - start) * 1000) / n
}

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

// warm up both paths (JIT)
for (let k = 0; k < 3; k++) {
  time(flat, false)
  time(nested, false)
}
const results: Record<string, { flat: number; nested: number; isolated: number }> = {}
for (const events of [false, true]) {
  const a: Array<number> = []
  const b: Array<number> = []
  const c: Array<number> = []
  for (let r = 0; r < rounds; r++) {
    a.push(time(flat, events))
    b.push(time(nested, events))
    c.push(time(isolated, events))
  }
  results[events ? "with events" : "without events"] = { flat: median(a), nested: median(b), isolated: median(c) }
}

console.log(`\n${n} noop tasks, median of ${rounds} rounds (µs per task; the machine is shared: compare columns, not runs)\n`)
console.log("| run | in the parent graph | as a child run in one task | isolated child run | overhead of nesting |")
console.log("|---|---:|---:|---:|---:|")
for (const [name, { flat, isolated, nested }] of Object.entries(results)) {
  console.log(
    `| ${name} | ${flat.toFixed(2)} | ${nested.toFixed(2)} | ${isolated.toFixed(2)} | ${(nested - flat).toFixed(2)} µs/task |`
  )
}
mkdirSync("bench/results", { recursive: true })
writeFileSync("bench/results/nested.json", JSON.stringify({ n, rounds, results }, null, 2) + "\n")

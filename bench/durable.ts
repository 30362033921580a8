/**
 * What durability costs (issue 11): a 1,000-task graph of no-op tasks (a
 * chain of 10 layers of 100, each task providing a number to the next
 * layer), run in memory (`TaskGraph.run`) and durably on a sqlite file
 * (`Durable.run`): the first run (every outcome stored) and a resumed run
 * (every value restored). Reported as ms per task over the in-memory run.
 * Opening the store (~1 s, dominated by loading the cluster libraries and
 * its migrations) is measured separately. The same on PostgreSQL, on a
 * private server started for the bench (test/helpers/postgres.ts), when
 * PostgreSQL is installed (scripts/ensure-postgres.sh).
 *
 *   npx tsx bench/durable.ts [N]
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Context, Effect, Layer, Schema } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"
import { Durable } from "effect-taskgraph/durable"
import { startPostgres } from "../test/helpers/postgres.js"

const n = Number(process.argv[2] ?? 1000)
const width = 100
const tags = Array.from({ length: n }, (_, i) => Context.GenericTag<`t${number}`, number>(`t${i}`))
const tasks = tags.map((tag, i) => {
  const layer = Math.floor(i / width)
  const requires = layer === 0 ? [] : [tags[(layer - 1) * width + (i % width)]!]
  return Task.make(`task ${i}`, {
    provides: tag,
    requires,
    schema: Schema.Number,
    run: requires.length === 0 ? Effect.succeed(i) : Effect.map(requires[0]!, (v) => v + 1)
  })
})
const graph = TaskGraph.make("durable bench", tasks as ReadonlyArray<Task.Task.Any>)

const time = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* effect
    return performance.now() - start
  })

const dir = fs.mkdtempSync(path.join(process.env.BENCH_TMP ?? os.tmpdir(), "taskgraph-bench-durable-"))
const row = (label: string, ms: number, memory: number) =>
  `| ${label.padEnd(44)} | ${ms.toFixed(0).padStart(8)} | ${(ms / n).toFixed(3).padStart(8)} | ${((ms - memory) / n).toFixed(3).padStart(9)} |`

const measureStore = (label: string, store: string, memory: number) =>
  Effect.scoped(Effect.gen(function*() {
    const open = performance.now()
    const context = yield* Layer.build(Durable.layer(store))
    const openMs = performance.now() - open
    const first = yield* time(Effect.provide(Durable.run(graph, { runId: "bench" }), context))
    const again = yield* time(Effect.provide(Durable.run(graph, { runId: "bench" }), context))
    console.log(row(`${label}, first run (stores all)`, first, memory))
    console.log(row(`${label}, same id again (finished)`, again, memory))
    return openMs
  }))

const program = Effect.gen(function*() {
  const memory = yield* time(TaskGraph.run(graph))
  console.log(`\n${n} tasks (no-op, 10 layers), one process; machine shared and loaded: numbers are noisy\n`)
  console.log(`| run                                          |    total | ms/task | +ms/task |`)
  console.log(`|----------------------------------------------|---------:|--------:|---------:|`)
  console.log(row("in memory (TaskGraph.run)", memory, memory))
  const opens: Array<string> = []
  opens.push(`sqlite ${(yield* measureStore("sqlite", path.join(dir, "runs.db"), memory)).toFixed(0)} ms`)
  const pg = yield* Effect.promise(() => startPostgres().catch(() => undefined))
  if (pg === undefined) console.log("| PostgreSQL: not installed (scripts/ensure-postgres.sh) | | | |")
  else {
    const openMs = yield* measureStore("PostgreSQL", pg.url, memory).pipe(Effect.ensuring(Effect.promise(() => pg.stop())))
    opens.push(`PostgreSQL ${openMs.toFixed(0)} ms`)
  }
  console.log(`\nopening the store: ${opens.join(", ")}`)
})
Effect.runPromise(program).finally(() => fs.rmSync(dir, { recursive: true, force: true }))

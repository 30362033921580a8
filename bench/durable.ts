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
 * Then across processes (issue 11, remote runs), each on a fresh private
 * PostgreSQL: the time from a runner's SIGKILL to its task running on
 * another runner (tasks write `running-NAME.PID` when they start), and a
 * graph of M independent tasks that sleep 20 ms, submitted from this
 * process (`Durable.runRemote`) to 1 runner and to 3 runner processes
 * (this file, started with `--runner HOST:PORT --store URL`).
 *
 *   npx tsx bench/durable.ts [N] [M]      # defaults: 1000 1000
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Context, Effect, Fiber, Layer, Schedule, Schema } from "effect"
import { Task, TaskGraph } from "effect-taskgraph"
import { Durable } from "effect-taskgraph/durable"
import { freePort, startPostgres } from "../test/helpers/postgres.js"

const runnerAt = process.argv.indexOf("--runner")
const positional = process.argv.slice(2, runnerAt === -1 ? undefined : runnerAt)
const n = Number(positional[0] ?? 1000)
const m = Number(positional[1] ?? 1000)
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

// ---- across processes -------------------------------------------------------------------

const markers = process.env.BENCH_MARKERS
/** The failover graph: 6 tasks of 3 s, each leaving `running-NAME.PID` when it starts. */
const failoverGraph = TaskGraph.make(
  "failover bench",
  [1, 2, 3, 4, 5, 6].map((i) =>
    Task.make(`slow ${i}`, {
      run: Effect.zipRight(
        Effect.sync(() => markers !== undefined && fs.writeFileSync(path.join(markers, `running-slow ${i}.${process.pid}`), "")),
        Effect.sleep("3 seconds")
      )
    })
  )
)
const sleepGraph = TaskGraph.make(
  "sleep bench",
  Array.from({ length: m }, (_, i) => Task.make(`sleep ${i}`, { run: Effect.sleep("20 millis") }))
)

if (runnerAt !== -1) {
  const store = process.argv[process.argv.indexOf("--store") + 1]!
  Durable.runnerMain([failoverGraph, sleepGraph], { store, listen: process.argv[runnerAt + 1]! })
}

const self = fileURLToPath(import.meta.url)
const startRunners = (count: number, store: string, env: Record<string, string> = {}) =>
  Promise.all(Array.from({ length: count }, async () => {
    const listen = `127.0.0.1:${await freePort()}`
    const child = spawn(process.execPath, ["--import", "tsx", self, String(n), String(m), "--runner", listen, "--store", store], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...env }
    })
    await new Promise<void>((resolve, reject) => {
      let out = ""
      child.stdout!.on("data", (c) => {
        out += String(c)
        if (out.includes(" ready on ")) resolve()
      })
      child.on("close", () => reject(new Error(`runner ${listen} exited: ${out}`)))
    })
    return child
  }))

/** A fresh server, runners on it, and `use` with a client; everything stopped afterwards. */
const withCluster = <A>(
  count: number,
  env: Record<string, string>,
  use: (runners: ReadonlyArray<ChildProcess>) => Effect.Effect<A, unknown, Durable.Client>
) =>
  Effect.acquireUseRelease(
    Effect.promise(() => startPostgres()),
    (pg) =>
      Effect.acquireUseRelease(
        Effect.promise(async () => {
          const runners = await startRunners(count, pg.url, env)
          // measured once the shards settled: every runner holds its share of the 300 shard locks
          const held = () =>
            pg.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted GROUP BY pid")
              .split("\n").filter((l) => l !== "").map(Number)
          while (!(held().length === count && held().reduce((a, b) => a + b, 0) === 300)) {
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
          return runners
        }),
        (runners) => Effect.provide(use(runners), Durable.layerClient(pg.url)),
        (runners) => Effect.sync(() => runners.forEach((r) => r.kill("SIGKILL")))
      ),
    (pg) => Effect.promise(() => pg.stop())
  )

/** Looks again every 10 ms until `find` finds something. */
const poll = <A>(find: () => A | undefined) =>
  Effect.suspend(() => {
    const found = find()
    return found === undefined ? Effect.fail("not yet") : Effect.succeed(found)
  }).pipe(Effect.retry(Schedule.spaced("10 millis")), Effect.orDie)

const failover = (dir: string) =>
  withCluster(2, { BENCH_MARKERS: dir }, (runners) =>
    Effect.gen(function*() {
      const pids = runners.map((r) => r.pid!)
      const started = () =>
        fs.readdirSync(dir).map((f) => /^running-(.+)\.(\d+)$/.exec(f)).filter((x) => x !== null).map((x) => ({ task: x[1]!, pid: Number(x[2]) }))
      const remote = yield* Durable.prepareRemote(failoverGraph, { runId: "failover" })
      const fiber = yield* Effect.fork(TaskGraph.run(remote))
      // the first runner seen starting a task is killed (with 6 tasks, one runner may get none of them)
      const onFirst = yield* poll(() => started().find((s) => pids.includes(s.pid)))
      // a start seen before the kill (shards still moving to a runner that joined late) does not count
      const before = new Set(started().map((s) => `${s.task}.${s.pid}`))
      const killedAt = performance.now()
      runners[pids.indexOf(onFirst.pid)]!.kill("SIGKILL")
      yield* poll(() => started().find((s) => s.task === onFirst.task && !before.has(`${s.task}.${s.pid}`)))
      const takeover = performance.now() - killedAt
      yield* Fiber.join(fiber)
      return takeover
    }))

const sleeps = (runners: number) =>
  withCluster(runners, {}, () =>
    Effect.gen(function*() {
      const remote = yield* Durable.prepareRemote(sleepGraph, { runId: `sleep-${runners}` })
      return yield* time(TaskGraph.run(remote))
    }))

const cluster = Effect.gen(function*() {
  const pg = yield* Effect.promise(() => startPostgres().then((p) => p.stop().then(() => true), () => false))
  if (!pg) return console.log("\nremote runs: PostgreSQL not installed (scripts/ensure-postgres.sh)")
  const markersDir = fs.mkdtempSync(path.join(dir, "markers-"))
  const takeover = yield* failover(markersDir)
  console.log(`\nremote runs, 2 runners: from a runner's SIGKILL to its task started on the other: ${(takeover / 1000).toFixed(1)} s`)
  const one = yield* sleeps(1)
  const three = yield* sleeps(3)
  console.log(`${m} independent tasks of 20 ms, submitted from this process:`)
  console.log(`| runners | total ms | ms/task |`)
  console.log(`|--------:|---------:|--------:|`)
  console.log(`| 1 | ${one.toFixed(0)} | ${(one / m).toFixed(2)} |`)
  console.log(`| 3 | ${three.toFixed(0)} | ${(three / m).toFixed(2)} |`)
  console.log(`speed-up with 3 runners: ${(one / three).toFixed(2)}x`)
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
  yield* cluster
})
if (runnerAt === -1) {
  Effect.runPromise(program).finally(() => fs.rmSync(dir, { recursive: true, force: true })).then(
    () => process.exit(0),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}

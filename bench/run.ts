/**
 * `npm run bench` runs the first-run benchmark (bench/run-firstrun.ts, issue 14) first, then this
 * steady-state one; `--steady-only` / `--first-run-only` run one of them.
 *
 * The steady-state scheduler benchmark (issue 3): every workload through effect-taskgraph,
 * p-graph, Python asyncio, a hand-written Promise runner and bare Effect fibers, each
 * measurement in a fresh process, median of 5 (min–max), as markdown tables
 * and JSON in bench/results/.
 *
 *   npm run bench                    # first run, then steady state (~35 min on 2 cores)
 *   npm run bench -- --quick         # 3 runs instead of 5
 *   npm run bench -- --steady-only   # only this steady-state part
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { bundle, fmt, hasAsyncio as hasPython, pick, ratio, type Sample, type Stats } from "./harness.js"
import { type Runner, runners } from "./runners.js"
import { shapes } from "./workloads.js"

const quick = process.argv.includes("--quick")
if (!process.argv.includes("--steady-only")) {
  execFileSync("node_modules/.bin/tsx", ["bench/run-firstrun.ts", ...(quick ? ["--quick"] : [])], { stdio: "inherit" })
  if (process.argv.includes("--first-run-only")) process.exit(0)
}
const reps = quick ? 3 : 5
const sizes = [1_000, 10_000, 100_000]

// Bundle once so that each fresh process starts in ~0.5 s instead of ~2.5 s through tsx.
bundle("bench/measure.ts", "bench/.build/measure.mjs")

const measure = (...args: Array<string | number>): Sample => {
  const out = execFileSync(process.execPath, ["--expose-gc", "bench/.build/measure.mjs", ...args.map(String)], {
    encoding: "utf8",
    maxBuffer: 1 << 24
  })
  return JSON.parse(out.trim().split("\n").at(-1)!) as Sample
}
const samples = (...args: Array<string | number>) => Array.from({ length: reps }, () => measure(...args))

const hasAsyncio = hasPython()

/** Python asyncio on the very same graph (bench/asyncio_runner.py), reps fresh processes. */
const asyncioSamples = (kind: "noop" | "sleep", shape: string, n: number): Array<Sample> => {
  if (!hasAsyncio) return [{ usPerTask: NaN, ratio: NaN }]
  const { path, criticalMs } = measure("workload", "taskgraph", shape, n) as unknown as { path: string; criticalMs: number }
  return Array.from({ length: reps }, () => {
    const out = execFileSync("python3", ["bench/asyncio_runner.py", kind, path], { encoding: "utf8" })
    const sample = JSON.parse(out.trim().split("\n").at(-1)!) as Sample
    return kind === "sleep" ? { ...sample, ratio: sample.makespanMs! / criticalMs } : sample
  })
}

const results: Record<string, unknown> = { date: new Date().toISOString(), reps, node: process.version }
const lines: Array<string> = []
const log = (line = "") => {
  lines.push(line)
  console.log(line)
}

// ---- noop: Effect.succeed bodies, every runner ------------------------------------------------
log(`## noop: scheduling overhead, µs per task — median of ${reps} processes (min–max); ratio = taskgraph / other`)
log()
log("Body `Effect.succeed(i)` (`Promise.resolve(i)` for the JS runners). Steady state: the mean of 10 runs")
log("(3 at 100k) after warm-up runs, each on a freshly built graph (validation included, building not).")
log("`1st run` is the first run in a fresh process (JIT cold); KB/task is the heap a graph, its run and")
log("its report hold per task after the run.")
log()
log("| workload | effect-taskgraph | p-graph | asyncio | Promise floor | Effect fibers | ÷ p-graph | ÷ asyncio | ÷ Promise | 1st run: taskgraph / p-graph | taskgraph KB/task |")
log("|---|---|---|---|---|---|---|---|---|---|---|")
const noop: Record<string, unknown> = {}
for (const n of sizes) {
  for (const shape of shapes) {
    const runs: Partial<Record<Runner, Array<Sample>>> = {}
    for (const runner of runners) runs[runner] = samples("noop", runner, shape, n)
    const us = (runner: Runner) => pick(runs[runner]!, "usPerTask")
    const row = {
      taskgraph: us("taskgraph"),
      pgraph: us("p-graph"),
      asyncio: pick(asyncioSamples("noop", shape, n), "usPerTask"),
      promise: us("promise"),
      effectFloor: us("effect-floor")
    }
    const kb = pick(runs.taskgraph!, "kbPerTask")
    const cold = { taskgraph: pick(runs.taskgraph!, "coldUsPerTask"), pgraph: pick(runs["p-graph"]!, "coldUsPerTask") }
    noop[`${shape}-${n}`] = { ...row, taskgraphKbPerTask: kb, firstRun: cold }
    log(`| ${shape}-${n} | ${fmt(row.taskgraph)} | ${fmt(row.pgraph)} | ${fmt(row.asyncio)} | ${fmt(row.promise)} | ${fmt(row.effectFloor)} | ${ratio(row.taskgraph, row.pgraph)} | ${ratio(row.taskgraph, row.asyncio)} | ${ratio(row.taskgraph, row.promise, 1)} | ${cold.taskgraph.median.toFixed(1)} / ${cold.pgraph.median.toFixed(1)} | ${kb.median.toFixed(2)} |`)
  }
}
results.noop = noop

// ---- sync: Effect.sync bodies: a fiber per task ---------------------------------------------------
log()
log(`## sync: the same with \`Effect.sync(() => i)\` bodies, which need a fiber each (µs per task)`)
log()
log("p-graph and the Promise floor run the same `Promise.resolve(i)` bodies as in the noop table.")
log()
log("| workload | effect-taskgraph | Effect fibers | ÷ Effect fibers | ÷ p-graph (noop) | ÷ asyncio (noop) | ÷ Promise (noop) |")
log("|---|---|---|---|---|---|---|")
const sync: Record<string, unknown> = {}
for (const n of sizes) {
  for (const shape of shapes) {
    const taskgraph = pick(samples("sync", "taskgraph", shape, n), "usPerTask")
    const effectFloor = pick(samples("sync", "effect-floor", shape, n), "usPerTask")
    const ref = noop[`${shape}-${n}`] as { pgraph: Stats; asyncio: Stats; promise: Stats }
    sync[`${shape}-${n}`] = { taskgraph, effectFloor }
    log(`| ${shape}-${n} | ${fmt(taskgraph)} | ${fmt(effectFloor)} | ${ratio(taskgraph, effectFloor)} | ${ratio(taskgraph, ref.pgraph)} | ${ratio(taskgraph, ref.asyncio)} | ${ratio(taskgraph, ref.promise, 1)} |`)
  }
}
results.sync = sync

// ---- sleep ---------------------------------------------------------------------------------------
log()
log("## sleep (0–5 ms per task, N = 1,000): makespan ÷ critical path (1.00 is perfect)")
log()
log("| workload | critical path ms | effect-taskgraph | p-graph | asyncio | Promise floor | Effect fibers |")
log("|---|---|---|---|---|---|---|")
const sleep: Record<string, unknown> = {}
for (const shape of shapes) {
  const row: Partial<Record<Runner, Stats>> = {}
  let critical = 0
  for (const runner of runners) {
    const runs = samples("sleep", runner, shape, 1000)
    critical = runs[0]!.criticalMs!
    row[runner] = pick(runs, "ratio")
  }
  const asyncio = pick(asyncioSamples("sleep", shape, 1000), "ratio")
  sleep[`${shape}-1000`] = { criticalMs: critical, ...row, asyncio }
  log(`| ${shape}-1000 | ${critical} | ${fmt(row.taskgraph!)} | ${fmt(row["p-graph"]!)} | ${fmt(asyncio)} | ${fmt(row.promise!)} | ${fmt(row["effect-floor"]!)} |`)
}
results.sleep = sleep

// ---- build + validate ----------------------------------------------------------------------------
log()
log("## graph construction + validation, 100,000 tasks (ms, first time in a fresh process)")
log()
log("`tags`: the 100k `Context.GenericTag`s the workload defines (Effect captures a stack trace per tag);")
log("`tasks + graph`: `Task.make` ×100k and `TaskGraph.make`; `validate`: `TaskGraph.validate`.")
log()
log("| workload | tags (Effect) | tasks + graph | validate | tasks + graph + validate |")
log("|---|---|---|---|---|")
const build: Record<string, unknown> = {}
for (const shape of shapes) {
  const runs = samples("build", "taskgraph", shape, 100_000)
  const row = { tags: pick(runs, "tagsMs"), build: pick(runs, "buildMs"), validate: pick(runs, "validateMs"), total: pick(runs, "totalMs") }
  build[shape] = row
  log(`| ${shape}-100000 | ${fmt(row.tags, 0)} | ${fmt(row.build, 0)} | ${fmt(row.validate, 0)} | ${fmt(row.total, 0)} |`)
}
results.build = build

// ---- interrupt -----------------------------------------------------------------------------------
log()
log("## interrupting 10,000 tasks in flight (each holding a scoped resource): interrupt → all finalizers done (ms)")
log()
const interruptRuns = samples("interrupt", "taskgraph", "chain", 10_000)
const floorRuns = samples("interrupt", "effect-floor", "chain", 10_000)
const interrupt = pick(interruptRuns, "interruptMs")
const floorInterrupt = pick(floorRuns, "interruptMs")
results.interrupt = { taskgraph: interrupt, effectFloor: floorInterrupt, released: interruptRuns[0]!.released }
log("| effect-taskgraph | Effect fibers (bare, same resource) | finalizers run |")
log("|---|---|---|")
log(`| ${fmt(interrupt, 0)} | ${fmt(floorInterrupt, 0)} | ${interruptRuns[0]!.released} of 10000 |`)

mkdirSync("bench/results", { recursive: true })
writeFileSync("bench/results/scheduler.json", JSON.stringify(results, null, 2) + "\n")
writeFileSync("bench/results/scheduler.md", lines.join("\n") + "\n")
console.log("\nwritten: bench/results/scheduler.json, bench/results/scheduler.md")

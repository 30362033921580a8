/**
 * The scheduler benchmark (issue 3): every workload through effect-taskgraph,
 * p-graph and a hand-written Promise runner, each measurement in a fresh
 * process, median of 5 (min–max), as a markdown table and JSON in bench/results/.
 *
 *   npm run bench              # everything (~5 min on 2 cores)
 *   npm run bench -- --quick   # 3 runs, no 100k p-graph lattice/random
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { runners } from "./runners.js"
import { shapes } from "./workloads.js"

const quick = process.argv.includes("--quick")
const reps = quick ? 3 : 5
const sizes = [1_000, 10_000, 100_000]

// Bundle once so that each fresh process starts in ~0.5 s instead of ~2.5 s through tsx.
mkdirSync("bench/.build", { recursive: true })
execFileSync("node_modules/.bin/esbuild", [
  "bench/measure.ts", "--bundle", "--platform=node", "--format=esm", "--external:effect", "--external:p-graph", "--external:@effect/*",
  "--outfile=bench/.build/measure.mjs", "--log-level=warning"
], { stdio: "inherit" })

type Sample = Record<string, number>
const measure = (...args: Array<string | number>): Sample => {
  const out = execFileSync(process.execPath, ["--expose-gc", "bench/.build/measure.mjs", ...args.map(String)], {
    encoding: "utf8",
    maxBuffer: 1 << 24
  })
  return JSON.parse(out.trim().split("\n").at(-1)!) as Sample
}
const stats = (values: Array<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! }
}
const repeat = (key: string, ...args: Array<string | number>) =>
  stats(Array.from({ length: reps }, () => measure(...args)[key]!))
const fmt = (s: { median: number; min: number; max: number }, digits = 2) =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`

const results: Record<string, unknown> = { date: new Date().toISOString(), reps, node: process.version }
const lines: Array<string> = []
const log = (line: string) => {
  lines.push(line)
  console.log(line)
}

log(`## noop: scheduling overhead, µs per task — median of ${reps} (min–max); ratio = taskgraph / other`)
log("")
log("Steady state (after warm-up runs of the same workload; the measured graph is fresh, so validation is")
log("included), the first run of a fresh process (JIT cold) for both JS runners, and the heap the graph,")
log("its run and its report hold per task.")
log("")
log("| workload | effect-taskgraph | p-graph | Promise floor | ÷ p-graph | ÷ floor | 1st run: taskgraph / p-graph | taskgraph KB/task |")
log("|---|---|---|---|---|---|---|---|")
const noop: Record<string, unknown> = {}
for (const n of sizes) {
  for (const shape of shapes) {
    const samples: Record<string, Array<Sample>> = {}
    for (const runner of runners) samples[runner] = Array.from({ length: reps }, () => measure("noop", runner, shape, n))
    const pick = (runner: string, key: string) => stats(samples[runner]!.map((sample) => sample[key]!))
    const row: Record<string, { median: number; min: number; max: number }> = {}
    for (const runner of runners) row[runner] = pick(runner, "usPerTask")
    const kb = pick("taskgraph", "kbPerTask")
    const cold = { taskgraph: pick("taskgraph", "coldUsPerTask"), pgraph: pick("p-graph", "coldUsPerTask") }
    noop[`${shape}-${n}`] = { ...row, taskgraphKbPerTask: kb, firstRun: cold }
    log(`| ${shape}-${n} | ${fmt(row.taskgraph!)} | ${fmt(row["p-graph"]!)} | ${fmt(row.promise!)} | ${(row.taskgraph!.median / row["p-graph"]!.median).toFixed(2)} | ${(row.taskgraph!.median / row.promise!.median).toFixed(1)} | ${cold.taskgraph.median.toFixed(1)} / ${cold.pgraph.median.toFixed(1)} | ${kb.median.toFixed(2)} |`)
  }
}
results.noop = noop

log("")
log("## sleep (0–5 ms per task, N = 1,000): makespan ÷ critical path (1.00 is perfect)")
log("")
log("| workload | effect-taskgraph | p-graph | Promise floor |")
log("|---|---|---|---|")
const sleep: Record<string, unknown> = {}
for (const shape of shapes) {
  const row: Record<string, { median: number; min: number; max: number }> = {}
  for (const runner of runners) row[runner] = repeat("ratio", "sleep", runner, shape, 1000)
  sleep[`${shape}-1000`] = row
  log(`| ${shape}-1000 | ${fmt(row.taskgraph!)} | ${fmt(row["p-graph"]!)} | ${fmt(row.promise!)} |`)
}
results.sleep = sleep

log("")
log("## graph construction + validation, 100,000 tasks (ms)")
log("")
log("| workload | build | validate | total |")
log("|---|---|---|---|")
const build: Record<string, unknown> = {}
for (const shape of shapes) {
  const row = {
    build: repeat("buildMs", "build", "taskgraph", shape, 100_000),
    validate: repeat("validateMs", "build", "taskgraph", shape, 100_000),
    total: repeat("totalMs", "build", "taskgraph", shape, 100_000)
  }
  build[shape] = row
  log(`| ${shape}-100000 | ${fmt(row.build, 0)} | ${fmt(row.validate, 0)} | ${fmt(row.total, 0)} |`)
}
results.build = build

log("")
log("## interrupting 10,000 tasks in flight (each holding a resource)")
log("")
const interrupt = repeat("interruptMs", "interrupt", "taskgraph", "chain", 10_000)
const released = measure("interrupt", "taskgraph", "chain", 10_000)
results.interrupt = { interruptMs: interrupt, released: released.released }
log(`interrupt → all finalizers done: ${fmt(interrupt, 1)} ms; finalizers run: ${released.released} of 10000`)

mkdirSync("bench/results", { recursive: true })
writeFileSync("bench/results/scheduler.json", JSON.stringify(results, null, 2) + "\n")
writeFileSync("bench/results/scheduler.md", lines.join("\n") + "\n")
console.log("\nwritten: bench/results/scheduler.json, bench/results/scheduler.md")

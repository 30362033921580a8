/**
 * The first-run benchmark (issue 14): what a user's run costs when it is the first and only one in
 * its process (a CLI, a CI job), with bodies that do work. Every measurement is a fresh process
 * (bench/firstrun.ts, bundled once with esbuild) timing its first run: building the graph, validating
 * and running it. effect-taskgraph (edges as `after`, and as a tag per task), bare Effect fibers,
 * p-graph, Python asyncio and a hand-written Promise runner side by side, the runners interleaved
 * within each repetition (the machine is shared: noise hits them alike). Median (min–max) of 5
 * processes, 3 with --quick; every figure also as a ratio to bare fibers and to p-graph.
 * Writes bench/results/firstrun.{md,json}.
 *
 *   npx tsx bench/run-firstrun.ts            # ~10 min on 2 cores
 *   npx tsx bench/run-firstrun.ts --quick    # 3 processes per figure instead of 5
 *   npm run bench                            # this, then the steady-state benchmark (bench/run.ts)
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { bundle, fmt, hasAsyncio as hasPython, pick, ratio, type Sample, stats, type Stats } from "./harness.js"
import { criticalPath, type Shape, shapes, sleeps, workload } from "./workloads.js"

const quick = process.argv.includes("--quick")
const reps = quick ? 3 : 5
const sizes = [1_000, 10_000, 100_000]

bundle("bench/firstrun.ts", "bench/.build/firstrun.mjs")

type Runner = "taskgraph-after" | "taskgraph-sync" | "taskgraph-sync-tags" | "taskgraph-promise" | "taskgraph-tags" | "effect-floor" | "p-graph" | "promise" | "asyncio"
const allJsRunners: ReadonlyArray<Runner> = ["taskgraph-after", "taskgraph-tags", "effect-floor", "p-graph", "promise"]
// `--without=promise,asyncio` leaves those out (bare fibers and p-graph are always measured: the ratios need them)
const without = (process.argv.find((arg) => arg.startsWith("--without="))?.slice("--without=".length) ?? "").split(",")
const jsRunners = allJsRunners.filter((r) => !without.includes(r))

const hasAsyncio = !without.includes("asyncio") && hasPython()

const workloadFile = (shape: Shape, n: number) => {
  const path = `bench/.build/firstrun-${shape}-${n}.json`
  writeFileSync(path, JSON.stringify({ deps: workload(shape, n), sleeps: sleeps(n) }))
  return path
}

const measureOne = (
  runner: Runner,
  body: string,
  shape: Shape | "one",
  n: number,
  mode = "time",
  nodeFlags: ReadonlyArray<string> = []
): Sample => {
  if (runner === "asyncio") {
    if (!hasAsyncio || shape === "one") return { usPerTask: NaN, ms: NaN, ratio: NaN }
    const out = execFileSync("python3", ["bench/asyncio_runner.py", body === "sleep" ? "first-sleep" : "first", workloadFile(shape, n)], {
      encoding: "utf8"
    })
    const sample = JSON.parse(out.trim().split("\n").at(-1)!) as Sample
    if (body === "sleep") {
      const critical = criticalPath(workload(shape, n), sleeps(n))
      return { ...sample, criticalMs: critical, ratio: sample.ms! / critical }
    }
    return sample
  }
  const out = execFileSync(process.execPath, ["--expose-gc", ...nodeFlags, "bench/.build/firstrun.mjs", mode, runner, body, shape, String(n)], {
    encoding: "utf8",
    maxBuffer: 1 << 24
  })
  return JSON.parse(out.trim().split("\n").at(-1)!) as Sample
}

/** reps fresh processes per runner, the runners interleaved within each repetition. */
const measureAll = (runners: ReadonlyArray<Runner>, body: string, shape: Shape | "one", n: number, times = reps) => {
  const out: Partial<Record<Runner, Array<Sample>>> = {}
  for (let r = 0; r < times; r++) {
    for (const runner of runners) (out[runner] ??= []).push(measureOne(runner, body, shape, n))
  }
  return out as Record<Runner, Array<Sample>>
}


const results: Record<string, unknown> = { date: new Date().toISOString(), reps, node: process.version }
/** Written after every section, so that an interrupted run still leaves what it measured. */
const save = () => {
  mkdirSync("bench/results", { recursive: true })
  writeFileSync("bench/results/firstrun.json", JSON.stringify(results, null, 2) + "\n")
  writeFileSync("bench/results/firstrun.md", lines.join("\n") + "\n")
}
const lines: Array<string> = []
const log = (line = "") => {
  lines.push(line)
  console.log(line)
}
const label: Record<Runner, string> = {
  "taskgraph-after": "taskgraph `after`",
  "taskgraph-sync": "taskgraph `Task.sync` (opt-in, no fiber)",
  "taskgraph-sync-tags": "taskgraph `Task.sync`, tag per task",
  "taskgraph-promise": "taskgraph `Task.promise` (opt-in, no fiber)",
  "taskgraph-tags": "taskgraph tag per task",
  "effect-floor": "bare Effect fibers",
  "p-graph": "p-graph",
  promise: "Promise runner",
  asyncio: "asyncio"
}

type Rows = Record<string, Record<string, Stats>>

/** Measures the workloads; returns wall and CPU figures (µs per task) per runner. */
const perTask = (body: "sync" | "promise", chosen: ReadonlyArray<Shape>, runners: ReadonlyArray<Runner>) => {
  const wall: Rows = {}
  const cpu: Rows = {}
  const all = [...runners, ...(hasAsyncio && runners.includes("p-graph") ? (["asyncio"] as const) : [])]
  for (const n of sizes) {
    for (const shape of chosen) {
      // 1k runs take ~15 ms, and about half of the processes have a ~4 ms V8 pause in them (see
      // bench/README.md): three times the processes there
      const runs = measureAll(all, body, shape, n, n <= 1_000 ? 3 * reps : reps)
      const w: Record<string, Stats> = {}
      const c: Record<string, Stats> = {}
      for (const r of all) {
        w[r] = pick(runs[r], "usPerTask")
        c[r] = stats(runs[r].map((sample) => (sample.cpuMs! * 1000) / n))
      }
      const tags = pick(runs["taskgraph-tags"], "tagsMs")
      w.tags = { median: (tags.median * 1000) / n, min: (tags.min * 1000) / n, max: (tags.max * 1000) / n }
      wall[`${shape}-${n}`] = w
      cpu[`${shape}-${n}`] = c
      console.error(`measured ${body} ${shape}-${n}`)
      results.partial = { body, wall, cpu }
      save()
    }
  }
  return { wall, cpu, all }
}

const valueTable = (rows: Rows, all: ReadonlyArray<Runner>, withTags: boolean) => {
  log(`| workload | ${all.map((r) => label[r]).join(" | ")}${withTags ? " | tags (Effect) |" : " |"}`)
  log(`|---|${all.map(() => "---|").join("")}${withTags ? "---|" : ""}`)
  for (const [key, row] of Object.entries(rows)) {
    log(`| ${key} | ${all.map((r) => fmt(row[r]!)).join(" | ")}${withTags ? ` | ${fmt(row.tags!)} |` : " |"}`)
  }
}

const ratioTable = (rows: Rows, all: ReadonlyArray<Runner>, pgraph: Rows) => {
  const others = all.filter((r) => r !== "effect-floor" && r !== "p-graph")
  log(`| workload | ${others.map((r) => `${label[r]} ÷ fibers | ÷ p-graph`).join(" | ")} | tags ÷ after | p-graph ÷ fibers |`)
  log(`|---|${others.map(() => "---|---|").join("")}---|---|`)
  for (const [key, row] of Object.entries(rows)) {
    const floor = row["effect-floor"]!
    const pg = pgraph[key]!["p-graph"]!
    log(`| ${key} | ${others.map((r) => `${ratio(row[r]!, floor)} | ${ratio(row[r]!, pg)}`).join(" | ")} | ${ratio(row["taskgraph-tags"]!, row["taskgraph-after"]!)} | ${ratio(pg, floor)} |`)
  }
}

log("## First run, fresh process, real bodies")
log()
log(`Median (min–max) of ${reps} fresh processes (${3 * reps} at 1,000 tasks), each timing its FIRST run (JIT cold): building the graph,`)
log("validating and running it, to the last task done (module loading not timed). Every task calls a")
log("function `work(i)`. `tags (Effect)`: the workload's own `Context.GenericTag` per task,")
log("made before the graph and timed apart (not in the taskgraph figures). A shared 2-core VM: look at the")
log("ranges, and compare runners within one run.")
save()
log()
log("### Fixed cost: a one-task graph, first run in a fresh process (ms)")
log()
const one = measureAll(jsRunners.filter((r) => r !== "taskgraph-tags"), "sync", "one", 1, 2 * reps + 1)
const oneRow: Record<string, Stats> = {}
const oneCpu: Record<string, Stats> = {}
for (const r of Object.keys(one) as Array<Runner>) {
  oneRow[r] = pick(one[r], "ms")
  oneCpu[r] = pick(one[r], "cpuMs")
}
results.oneTask = { wall: oneRow, cpu: oneCpu }
log("| | taskgraph | bare Effect fibers | p-graph | Promise runner | taskgraph ÷ fibers | taskgraph ÷ p-graph |")
log("|---|---|---|---|---|---|---|")
for (const [what, row] of [["wall", oneRow], ["CPU", oneCpu]] as const) {
  log(`| ${what} | ${fmt(row["taskgraph-after"]!, 3)} | ${fmt(row["effect-floor"]!, 3)} | ${fmt(row["p-graph"]!, 3)} | ${fmt(row.promise!, 3)} | ${ratio(row["taskgraph-after"]!, row["effect-floor"]!)} | ${ratio(row["taskgraph-after"]!, row["p-graph"]!)} |`)
}
// what of it is V8 compiling code on its first call: the same run with every function compiled when
// its module loads (`node --no-lazy`, which makes loading slower: a diagnostic, not a way to run)
const eager = pick(
  Array.from({ length: 2 * reps + 1 }, () => measureOne("taskgraph-after", "sync", "one", 1, "time", ["--no-lazy"])),
  "ms"
)
results.oneTask = { wall: oneRow, cpu: oneCpu, eagerWall: eager }
log()
log(`The same taskgraph run with its code compiled before it starts (\`node --no-lazy\`, a diagnostic): ${fmt(eager, 3)} ms.`)
log(`The rest, ${(oneRow["taskgraph-after"]!.median - eager.median).toFixed(2)} ms, is V8 compiling the validation, scheduler and report`)
log("functions on their first call. Bare fibers need nothing compiled here: Effect's fiber code already ran")
log("while the modules loaded.")

save()
log()
log("### `Effect.sync(() => work(i))` bodies (the JS runners: `Promise.resolve(work(i))`): wall time, µs per task")
log()
// `Task.sync` (opt-in: no fiber per task) beside the default, for these bodies only
const syncOnly = (["taskgraph-sync", "taskgraph-sync-tags"] as const).filter((r) => !without.includes(r))
const syncRunners: ReadonlyArray<Runner> = [jsRunners[0]!, ...syncOnly, ...jsRunners.slice(1)]
const sync = perTask("sync", shapes, syncRunners)
results.sync = { wall: sync.wall, cpu: sync.cpu }
valueTable(sync.wall, sync.all, true)
log()
log("Ratios of the wall times above (median ÷ median):")
log()
ratioTable(sync.wall, sync.all, sync.wall)
log()
log("The same runs, CPU time of the process (user + system, all its threads) in µs per task: less")
log("disturbed by the other processes on the machine than wall time.")
log()
valueTable(sync.cpu, sync.all, false)
log()
log("Ratios of the CPU times:")
log()
ratioTable(sync.cpu, sync.all, sync.cpu)

save()
log()
log("### Sleep bodies (0–5 ms, then `work(i)`), 1,000 tasks, first run: makespan ÷ critical path (1.00 is perfect)")
log()
// `Task.promise` (opt-in: no fiber per task) beside the default, for Promise and sleep bodies
const promiseOnly = (["taskgraph-promise"] as const).filter((r) => !without.includes(r))
const sleepRunners = [jsRunners[0]!, ...promiseOnly, ...jsRunners.slice(1), ...(hasAsyncio ? (["asyncio"] as const) : [])]
log(`| workload | critical path ms | ${sleepRunners.map((r) => label[r]).join(" | ")} | taskgraph \`after\` ÷ p-graph | tag per task ÷ p-graph | \`Task.promise\` ÷ p-graph |`)
log(`|---|---|${sleepRunners.map(() => "---|").join("")}---|---|---|`)
const sleepRows: Record<string, unknown> = {}
const sleepCpu: Record<string, Record<string, Stats>> = {}
for (const shape of ["lattice", "random"] as const) {
  const runs = measureAll(sleepRunners, "sleep", shape, 1000, 3 * reps)
  const row: Record<string, Stats> = {}
  const cpuRow: Record<string, Stats> = {}
  for (const r of sleepRunners) {
    row[r] = pick(runs[r], "ratio")
    cpuRow[r] = pick(runs[r], "cpuMs")
  }
  const critical = criticalPath(workload(shape, 1000), sleeps(1000))
  sleepRows[`${shape}-1000`] = { criticalMs: critical, ...row, cpuMs: cpuRow }
  sleepCpu[`${shape}-1000`] = cpuRow
  log(`| ${shape}-1000 | ${critical} | ${sleepRunners.map((r) => fmt(row[r]!)).join(" | ")} | ${ratio(row["taskgraph-after"]!, row["p-graph"]!)} | ${ratio(row["taskgraph-tags"]!, row["p-graph"]!)} | ${row["taskgraph-promise"] === undefined ? "–" : ratio(row["taskgraph-promise"], row["p-graph"]!)} |`)
}
results.sleep = sleepRows
log()
log("CPU time of the same processes over the run (ms; all threads). Where it approaches the critical path,")
log("the run is bound by CPU, not by the sleeps: an Effect fiber that sleeps costs tens of µs of CPU on a")
log("first run (interpreted code), a Promise about one.")
log()
log(`| workload | ${sleepRunners.map((r) => label[r]).join(" | ")} |`)
log(`|---|${sleepRunners.map(() => "---|").join("")}`)
for (const [key, row] of Object.entries(sleepCpu)) {
  log(`| ${key} | ${sleepRunners.map((r) => fmt(row[r]!, 1)).join(" | ")} |`)
}

save()
log()
log("### Memory held per task at 100,000 tasks after the first run (KB; graph, run and report, after GC)")
log()
log("| workload | taskgraph `after` | taskgraph tag per task | the tags themselves (Effect) |")
log("|---|---|---|---|")
const memory: Record<string, unknown> = {}
for (const shape of shapes) {
  const after = measureOne("taskgraph-after", "sync", shape, 100_000, "mem")
  const tags = measureOne("taskgraph-tags", "sync", shape, 100_000, "mem")
  memory[`${shape}-100000`] = { after: after.kbPerTask, tags: tags.kbPerTask, tagObjects: tags.tagsKbPerTask }
  log(`| ${shape}-100000 | ${after.kbPerTask!.toFixed(2)} | ${tags.kbPerTask!.toFixed(2)} | ${tags.tagsKbPerTask!.toFixed(2)} |`)
}
results.memory = memory

save()
log()
log("### `Effect.promise(() => Promise.resolve(work(i)))` bodies, random shape, µs per task (wall; CPU)")
log()
log("p-graph and the Promise runner run the same Promise bodies as above; the ratios use their figures from there.")
log()
const promise = perTask("promise", ["random"], ["taskgraph-after", "taskgraph-tags", ...promiseOnly, "effect-floor"])
results.promise = { wall: promise.wall, cpu: promise.cpu }
// `Task.promise` runs the Promise body itself, so beside the fibers it is compared with p-graph's and
// the Promise runner's own figures (the same body, measured in the sync section's processes)
const withPromise = promiseOnly.length > 0
log(`| workload | taskgraph \`after\` | tag per task | bare Effect fibers |${withPromise ? " `Task.promise` |" : ""} \`after\` ÷ fibers | ÷ p-graph | tag ÷ fibers | ÷ p-graph |${withPromise ? " `Task.promise` ÷ fibers | ÷ p-graph |" : ""} CPU: \`after\` ÷ fibers | tag ÷ fibers |`)
log(`|---|---|---|---|${withPromise ? "---|" : ""}---|---|---|---|${withPromise ? "---|---|" : ""}---|---|`)
for (const [key, row] of Object.entries(promise.wall)) {
  const pg = sync.wall[key]!["p-graph"]!
  const c = promise.cpu[key]!
  const p = row["taskgraph-promise"]
  log(`| ${key} | ${fmt(row["taskgraph-after"]!)} | ${fmt(row["taskgraph-tags"]!)} | ${fmt(row["effect-floor"]!)} |${p === undefined ? "" : ` ${fmt(p)} |`} ${ratio(row["taskgraph-after"]!, row["effect-floor"]!)} | ${ratio(row["taskgraph-after"]!, pg)} | ${ratio(row["taskgraph-tags"]!, row["effect-floor"]!)} | ${ratio(row["taskgraph-tags"]!, pg)} |${p === undefined ? "" : ` ${ratio(p, row["effect-floor"]!)} | ${ratio(p, pg)} |`} ${ratio(c["taskgraph-after"]!, c["effect-floor"]!)} | ${ratio(c["taskgraph-tags"]!, c["effect-floor"]!)} |`)
}


save()
console.log("\nwritten: bench/results/firstrun.json, bench/results/firstrun.md")

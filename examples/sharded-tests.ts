/**
 * Sharded tests, one VM per shard, the shards found at run time:
 *
 *   build test guest ─┐
 *                     ├─> tests ─┬─> tests / test_calc.sh:  create overlay ─> start vm ─> … ─> run tests
 *   discover tests ───┘          ├─> tests / test_guest.sh: create overlay ─> start vm ─> … ─> run tests
 *                                └─> …                      (one child graph per test file)
 *
 * "discover tests" reads the test files of examples/qemu-project when the run
 * starts; `Task.forEach` then runs each file's QEMU pipeline (overlay → vm →
 * port → ssh → rsync → `sh run-tests.sh tests/<file>`) as a graph inside the
 * "tests" task. Those child runs join the run: their tasks are in the live
 * view and the report as `tests / <file> / <task>`, and every `start vm`
 * takes one unit of the run's single `vm` pool, so `--vms N` bounds the VMs
 * of all shards together. At the end: the report's groups (one per shard),
 * and how many VMs were up at once (from the report's times), after the summary.
 *
 *   npx tsx examples/sharded-tests.ts            # at most 2 VMs at once
 *   npx tsx examples/sharded-tests.ts --vms 1    # one VM at a time
 *
 * Exit codes: 0 all shards passed, 1 a shard failed, 2 bad arguments, 130 Ctrl+C.
 */
import { FileSystem } from "@effect/platform"
import { Console, Context, Effect, Option } from "effect"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Reporter, RunReport, Task, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"
import { QemuTask } from "effect-taskgraph/qemu"

const here = NodePath.dirname(fileURLToPath(import.meta.url))
const project = NodePath.join(here, "qemu-project")

const vms = (() => {
  try {
    const { values } = parseArgs({ options: { vms: { type: "string", default: "2" } } })
    const n = Number(values.vms)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--vms must be a positive integer, got ${values.vms}`)
    return n
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\nusage: sharded-tests.ts [--vms N]`)
    return process.exit(Main.ExitCode.Usage)
  }
})()

/** The test files of the project, found when the run starts. */
class TestFiles extends Context.Tag("TestFiles")<TestFiles, ReadonlyArray<string>>() {}

const discover = Task.make("discover tests", {
  provides: TestFiles,
  run: Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const files = (yield* fs.readDirectory(NodePath.join(project, "tests")))
      .filter((file) => /^test_.*\.sh$/.test(file))
      .sort()
    yield* Task.output(`${files.length} test files: ${files.join(", ")}`, "log")
    return files
  })
})

const guest = QemuTask.testGuest("build test guest")
const machine = Effect.map(QemuTask.Guest, (g) => QemuTask.testGuestMachine(g))

/** One shard: the whole QEMU chain for one test file, in a VM of its own. */
const shard = (file: string) =>
  QemuTask.pipeline(`shard-${file.replace(/\.sh$/, "")}`, {
    requires: [QemuTask.Guest],
    machine,
    source: `${project}/`,
    command: `sh run-tests.sh tests/${file}`,
    prefix: ""
  }).tasks

// each item's graph is named after the file: its tasks are `tests / test_calc.sh / start vm`, …
const tests = Task.forEach("tests", TestFiles, shard, { requires: [TestFiles, QemuTask.Guest] })

const graph = TaskGraph.make("sharded tests", [guest, discover, tests])

/** The most VMs up at the same moment: each `start vm` holds the pool from its start to its release. */
const vmsAtOnce = (report: RunReport.RunReport): number => {
  const edges: Array<readonly [number, number]> = []
  for (const t of report.tasks) {
    if (!t.name.endsWith(" / start vm") || Option.isNone(t.startedAt)) continue
    edges.push([t.startedAt.value, +1], [Option.getOrElse(t.releasedAt, () => Number.POSITIVE_INFINITY), -1])
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]) // a release before a start at the same instant
  let now = 0
  let max = 0
  for (const [, d] of edges) max = Math.max(max, (now += d))
  return max
}

/** One line per group (shard): its test task's outcome and how long the shard took, boot included. */
const groupLine = (report: RunReport.RunReport, group: RunReport.GroupReport): string => {
  const own = report.tasks.filter((t) => Option.contains(t.group, group.name))
  const tests = own.find((t) => t.name.endsWith(" / run tests"))
  const starts = own.flatMap((t) => Option.toArray(t.startedAt))
  const ends = own.flatMap((t) => Option.toArray(t.endedAt))
  const took = starts.length === 0 || ends.length === 0 ? "" : ` in ${((Math.max(...ends) - Math.min(...starts)) / 1000).toFixed(1)}s`
  return `  ${group.name}: ${own.length} tasks, run tests ${tests?.status ?? "missing"}${took}`
}

const printReport = Reporter.make("shards", () =>
  Effect.succeed({
    onEnd: ({ report }) =>
      Console.log([
        "",
        `── groups (${report.groups.length}, one per shard)`,
        ...report.groups.map((g) => groupLine(report, g)),
        `── VMs at once: ${vmsAtOnce(report)} (pool vm: ${vms})`
      ].join("\n"))
  }))

Main.runMain(graph, { pools: { vm: vms }, reporter: [Reporter.auto(), printReport] })

/**
 * Two QEMU pipelines in one graph, sharing the test guest, limited by a
 * `vm` pool: each VM task takes one unit of the pool from its start until
 * it is released (powered down), so with `--vms 1` the second VM boots only
 * after the first one is gone, and with `--vms 2` both run at once.
 *
 *                     ┌─> vm1: create overlay ─> vm1: start vm ─> … ─> vm1: run tests
 *   build test guest ─┤
 *                     └─> vm2: create overlay ─> vm2: start vm ─> … ─> vm2: run tests
 *
 *   npx tsx examples/qemu-two-vms.ts            # pool vm: 1 (one VM at a time)
 *   npx tsx examples/qemu-two-vms.ts --vms 2    # both at once
 *
 * Each pipeline has its own tags (`vm1/Vm`, `vm2/Vm`, …: `QemuTask.tags`),
 * so the compiler keeps the two data flows apart. At the end: how many VMs
 * ran at once (from the report), the summary and the timeline.
 */
import { Console, Effect, Option } from "effect"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { Reporter, RunReport, TaskGraph } from "effect-taskgraph"
import { Main } from "effect-taskgraph/node"
import { QemuTask } from "effect-taskgraph/qemu"

const here = NodePath.dirname(fileURLToPath(import.meta.url))

const vms = (() => {
  try {
    const { values } = parseArgs({ options: { vms: { type: "string", default: "1" } } })
    const n = Number(values.vms)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--vms must be a positive integer, got ${values.vms}`)
    return n
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\nusage: qemu-two-vms.ts [--vms N]`)
    return process.exit(Main.ExitCode.Usage)
  }
})()

const guest = QemuTask.testGuest("build test guest")
const machine = Effect.map(QemuTask.Guest, (g) => QemuTask.testGuestMachine(g))
const project = `${NodePath.join(here, "qemu-project")}/`

const vm1 = QemuTask.pipeline("vm1", { requires: [QemuTask.Guest], machine, source: project, command: "sh run-tests.sh" })
const vm2 = QemuTask.pipeline("vm2", { requires: [QemuTask.Guest], machine, source: project, command: "sh run-tests.sh" })

const graph = TaskGraph.make("two vms", [guest, ...vm1.tasks, ...vm2.tasks])

/** The most VM tasks holding the pool at the same moment, from their start and release times. */
const maxAtOnce = (report: RunReport.RunReport, names: ReadonlyArray<string>): number => {
  const edges: Array<readonly [number, number]> = []
  for (const name of names) {
    const t = Option.getOrUndefined(RunReport.task(report, name))
    if (t === undefined || Option.isNone(t.startedAt)) continue
    edges.push([t.startedAt.value, +1], [Option.getOrElse(t.releasedAt, () => report.startedAt + 1e12), -1])
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]) // a release before a start at the same instant
  let now = 0
  let max = 0
  for (const [, d] of edges) max = Math.max(max, (now += d))
  return max
}

const printReport = Reporter.make("report", () =>
  Effect.succeed({
    onEnd: ({ report }) =>
      Console.log([
        "",
        `── VMs at once: ${maxAtOnce(report, [vm1.vm.name, vm2.vm.name])} (pool vm: ${vms})`,
        "",
        "── summary",
        RunReport.summary(report),
        "",
        "── timeline (Mermaid gantt)",
        RunReport.toGantt(report)
      ].join("\n"))
  }))

Main.runMain(graph, { pools: { vm: vms }, reporter: [Reporter.auto(), printReport] })

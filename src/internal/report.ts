/**
 * Building a `RunReport` from the scheduler's arrays, and the edge lines
 * shared by the planned and the executed Mermaid pictures.
 *
 * @internal
 */
import { Option } from "effect"
import { nodeId, label } from "./mermaid.js"
import { printsAsFields } from "./printing.js"
import type { DataEdge, PrecedenceEdge } from "./plan.js"
import { rowOf } from "./plan.js"
import type { Snapshot } from "./scheduler.js"
import type { GroupReport, RunReport, TaskReport } from "../RunReport.js"

const opt = (n: number | undefined): Option.Option<number> =>
  n === undefined || Number.isNaN(n) ? Option.none() : Option.some(n)

/** @internal */
export const fromSnapshot = (snap: Snapshot): RunReport => {
  const { plan } = snap
  // built on first access: a 100k-task run need not allocate a million report fields nobody reads
  let flat: Flat | undefined
  const flatten = () => flat ??= flattenRuns(snap)
  return printsAsFields<RunReport>({
    graph: plan.source.name,
    status: snap.outcome,
    startedAt: snap.startedAt,
    finishedAt: opt(snap.finishedAt),
    durationMs: snap.finishedAt === undefined ? Option.none() : Option.some(snap.finishedAt - snap.startedAt),
    get tasks() {
      return flatten().tasks
    },
    criticalPath: criticalPath(snap, finishOf(snap)),
    failed: snap.failures.map((i) => plan.names[i]!),
    get dependencies() {
      return snap.children.length === 0 ? plan.dataEdges : flatten().dependencies
    },
    get precedences() {
      return snap.children.length === 0 ? plan.precedenceEdges : flatten().precedences
    },
    get groups() {
      return snap.children.length === 0 ? [] : flatten().groups
    }
  })
}


const finishOf = (snap: Snapshot) => (i: number): number => {
  const ready = snap.readyTimes[i]!
  return Number.isNaN(ready) ? snap.endTimes[i]! : ready
}

interface Flat {
  readonly tasks: Array<TaskReport>
  readonly dependencies: Array<DataEdge>
  readonly precedences: Array<PrecedenceEdge>
  readonly groups: Array<GroupReport>
}

/**
 * The tasks of a run and, right after each task, the tasks of the runs
 * started inside it (graphs inside tasks), under their full names.
 */
const flattenRuns = (root: Snapshot): Flat => {
  const flat: Flat = { tasks: [], dependencies: [], precedences: [], groups: [] }
  const visit = (snap: Snapshot, group: Option.Option<string>) => {
    const { plan } = snap
    const names = snap.fullNames ?? plan.names
    const finish = finishOf(snap)
    const byTask = new Map<number, Array<(typeof snap.children)[number]["run"]>>()
    for (const { run, task } of snap.children) {
      const list = byTask.get(task)
      if (list === undefined) byTask.set(task, [run])
      else list.push(run)
    }
    for (let i = 0; i < plan.n; i++) {
      const started = snap.startTimes[i]!
      const end = finish(i)
      const blocked = snap.blockedBy[i]!
      const stopped = snap.stoppedBy === undefined ? -1 : snap.stoppedBy[i]!
      const cause = snap.causes[i]
      flat.tasks.push({
        name: names[i]!,
        status: snap.states[i]!,
        attempts: snap.attempts[i]!,
        startedAt: opt(started),
        readyAt: opt(snap.readyTimes[i]),
        releasedAt: opt(snap.releaseTimes[i]),
        endedAt: opt(snap.endTimes[i]),
        durationMs: Number.isNaN(started) || Number.isNaN(end) ? Option.none() : Option.some(end - started),
        value: Number.isNaN(snap.readyTimes[i]!) ? Option.none() : Option.some(snap.values[i]),
        cause: cause === undefined ? Option.none() : Option.some(cause),
        blockedBy: blocked < 0 ? Option.none() : Option.some(names[blocked]!),
        stoppedBy: stopped < 0 ? Option.none() : Option.some(names[stopped]!),
        waitedFor: rowOf(plan.waitsFor, i).map((j) => names[j]!),
        provides: plan.tasks[i]!.provides.map((tag) => tag.key),
        group
      })
      for (const run of byTask.get(i) ?? []) {
        flat.groups.push({ name: run.group, graph: run.graph, task: names[i]!, parent: group })
        visit(run.snapshot(), Option.some(run.group))
      }
    }
    const rename = snap.fullNames === undefined ? undefined : snap.fullNames
    for (const e of plan.dataEdges) {
      flat.dependencies.push(rename === undefined ? e : { from: prefixed(snap, e.from), to: prefixed(snap, e.to), tag: e.tag })
    }
    for (const e of plan.precedenceEdges) {
      flat.precedences.push(rename === undefined ? e : { before: prefixed(snap, e.before), after: prefixed(snap, e.after) })
    }
  }
  visit(root, Option.none())
  return flat
}

/**
 * A group's own name, its label: the child graph's name, or `<graph> #2`, …
 * for a later run of a graph of that name in the same task (`Nesting.name`).
 */
export const runName = (group: Pick<GroupReport, "name" | "task">): string => group.name.slice(group.task.length + 3)

/** The full name of a task of a nested run, from its name in the child graph. */
const prefixed = (snap: Snapshot, name: string): string => {
  const i = snap.plan.names.indexOf(name)
  return i < 0 || snap.fullNames === undefined ? name : snap.fullNames[i]!
}

/**
 * The last task to finish its run, then, walking back, the task it waited for
 * that finished last, and so on: the chain that set the run's length.
 */
const criticalPath = (snap: Snapshot, finish: (i: number) => number): Array<string> => {
  const { plan } = snap
  let last = -1
  for (let i = 0; i < plan.n; i++) {
    if (Number.isNaN(snap.startTimes[i]!)) continue
    if (last < 0 || finish(i) >= finish(last)) last = i
  }
  const path: Array<string> = []
  while (last >= 0) {
    path.push(plan.names[last]!)
    let prev = -1
    const { items, start } = plan.waitsFor
    for (let k = start[last]!, end = start[last + 1]!; k < end; k++) {
      const j = items[k]!
      if (Number.isNaN(snap.startTimes[j]!)) continue
      if (prev < 0 || finish(j) > finish(prev)) prev = j
    }
    last = prev
  }
  return path.reverse()
}

/** @internal */
export const edges = (
  dependencies: ReadonlyArray<DataEdge>,
  precedences: ReadonlyArray<PrecedenceEdge>,
  index: ReadonlyMap<string, number>,
  lines: Array<string>,
  /** consecutive critical-path pairs, as `from + "\u0000" + to` */
  critical?: ReadonlySet<string>
): void => {
  const thick: Array<number> = []
  let count = 0
  const onPath = (a: string, b: string) => critical !== undefined && critical.has(`${a}\u0000${b}`)
  for (const e of dependencies) {
    lines.push(`  ${nodeId(index.get(e.from)!)} -- "${label(e.tag)}" --> ${nodeId(index.get(e.to)!)}`)
    if (onPath(e.from, e.to)) thick.push(count)
    count++
  }
  for (const e of precedences) {
    lines.push(`  ${nodeId(index.get(e.before)!)} -.-> ${nodeId(index.get(e.after)!)}`)
    if (onPath(e.before, e.after)) thick.push(count)
    count++
  }
  if (thick.length > 0) lines.push(`  linkStyle ${thick.join(",")} stroke-width:3px`)
}


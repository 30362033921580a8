/**
 * The outcome of a run: each task's status, timings, value or error; the
 * critical path; and pictures of what happened (Mermaid flowchart and gantt).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RunReport, Task, TaskGraph } from "effect-taskgraph"
 *
 * const graph = TaskGraph.make("hello", [Task.make("say hi", { run: Effect.succeed("hi") })])
 * const program = Effect.gen(function* () {
 *   const report = yield* TaskGraph.run(graph)
 *   console.log(RunReport.toGantt(report))
 *   return RunReport.value(report, "say hi") // Option.some("hi")
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Cause } from "effect"
import { Option } from "effect"
import { ganttName, label, nodeId } from "./internal/mermaid.js"
import * as Text from "./internal/reporter/text.js"
import { edges, runName } from "./internal/report.js"
import type * as Task from "./Task.js"
import type { DataEdge, PrecedenceEdge } from "./TaskGraph.js"

export {
  /**
   * A data edge of the graph, as a report lists it (defined in `TaskGraph`).
   *
   * @example
   * ```ts
   * import type { RunReport } from "effect-taskgraph"
   *
   * declare const report: RunReport.RunReport
   * const providers = report.dependencies.map((edge: RunReport.DataEdge) => `${edge.from} -> ${edge.to} (${edge.tag})`)
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  type DataEdge,
  /**
   * A precedence edge of the graph, as a report lists it (defined in `TaskGraph`).
   *
   * @example
   * ```ts
   * import type { RunReport } from "effect-taskgraph"
   *
   * declare const report: RunReport.RunReport
   * const order = report.precedences.map((edge: RunReport.PrecedenceEdge) => `${edge.before} before ${edge.after}`)
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  type PrecedenceEdge
} from "./TaskGraph.js"

/**
 * The state of a task, as a report and `Handle.status` show it: "pending"
 * (waiting or queued), "running", "ready" (its value is available, its
 * resources held), "released", "failed", "timed out", "interrupted" or
 * "skipped" (something it waits for failed, or the run stopped).
 *
 * @example
 * ```ts
 * import type { RunReport } from "effect-taskgraph"
 *
 * const finished = (state: RunReport.TaskState) => state !== "pending" && state !== "running"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type TaskState =
  | "pending"
  | "running"
  | "ready"
  | "released"
  | "failed"
  | "timed out"
  | "interrupted"
  | "skipped"

/**
 * What happened to one task. Times are milliseconds since the epoch, read
 * from the run's `Clock`.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { RunReport } from "effect-taskgraph"
 *
 * declare const report: RunReport.RunReport
 * const build: Option.Option<RunReport.TaskReport> = RunReport.task(report, "build")
 * const attempts = Option.map(build, (t) => t.attempts)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskReport {
  readonly name: string
  readonly status: TaskState
  /** how many times its run was attempted (retries + 1); 0 if it never started */
  readonly attempts: number
  readonly startedAt: Option.Option<number>
  /** when its value was published */
  readonly readyAt: Option.Option<number>
  /** when its resources were released */
  readonly releasedAt: Option.Option<number>
  /** when it reached its final state */
  readonly endedAt: Option.Option<number>
  /** start to ready (or to failure) */
  readonly durationMs: Option.Option<number>
  /** the value its run produced (the service, for a provider) */
  readonly value: Option.Option<unknown>
  /** why it failed, timed out or was interrupted */
  readonly cause: Option.Option<Cause.Cause<unknown>>
  /** for a skipped or interrupted task: the failed task it needed (directly or through other tasks) */
  readonly blockedBy: Option.Option<string>
  /**
   * for a skipped or interrupted task that did not need it: the failed task whose failure stopped
   * the run (fail-fast, or a graph built as a Layer)
   */
  readonly stoppedBy: Option.Option<string>
  /** the tasks it waited for (data and precedence) */
  readonly waitedFor: ReadonlyArray<string>
  /** the keys of the tags it provides (several for a `Task.fromLayer` task) */
  readonly provides: ReadonlyArray<string>
  /** for a task of a graph run inside a task: the full name of its group (see `GroupReport`) */
  readonly group: Option.Option<string>
}

/**
 * A graph run inside a task of the run (graphs inside tasks): its tasks are
 * in the report under the group's name, e.g. `tests / shard 3 / run tests`
 * for task "run tests" of graph "shard 3" run inside task "tests".
 *
 * @example
 * ```ts
 * import { RunReport } from "effect-taskgraph"
 * declare const report: RunReport.RunReport
 * report.groups.map((g) => g.name) // ["tests / shard 3", …]
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface GroupReport {
  /**
   * `<enclosing task's full name> / <child graph's name>`; a later run of a
   * graph of that name in the same task (a retry, a second run in its body)
   * is `… / <child graph's name> #2`, `#3`, …
   */
  readonly name: string
  /** the child graph's name (without the ` #2`) */
  readonly graph: string
  /** the full name of the task it ran inside */
  readonly task: string
  /** the group of that task, if it is itself in a child run */
  readonly parent: Option.Option<string>
}

/**
 * The whole run.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RunReport, Task, TaskGraph } from "effect-taskgraph"
 *
 * const hello = Task.make("hello", { run: Effect.succeed("hi") })
 * const program = TaskGraph.run(TaskGraph.make("g", [hello])).pipe(
 *   Effect.map((report: RunReport.RunReport) => RunReport.summary(report))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunReport {
  readonly graph: string
  readonly status: "running" | "succeeded" | "failed" | "interrupted"
  readonly startedAt: number
  readonly finishedAt: Option.Option<number>
  readonly durationMs: Option.Option<number>
  /** in the order the graph lists them */
  readonly tasks: ReadonlyArray<TaskReport>
  /** the chain of tasks that decided the run's length, first to last */
  readonly criticalPath: ReadonlyArray<string>
  /** the names of the tasks whose failure made the run fail, in order */
  readonly failed: ReadonlyArray<string>
  readonly dependencies: ReadonlyArray<DataEdge>
  readonly precedences: ReadonlyArray<PrecedenceEdge>
  /** the graphs run inside its tasks, in the order they started (empty when there are none) */
  readonly groups: ReadonlyArray<GroupReport>
}

/**
 * The report of one task, by name.
 *
 * @example
 * ```ts
 * import { RunReport } from "effect-taskgraph"
 * declare const report: RunReport.RunReport
 * RunReport.task(report, "start vm") // Option<TaskReport>
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const task = (report: RunReport, name: string): Option.Option<TaskReport> =>
  Option.fromNullable(report.tasks.find((t) => t.name === name))

/**
 * The value a task produced: given the task itself, typed as what it
 * produces; given a name, `unknown`. `None` when the task did not succeed
 * (or is not in the report).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RunReport, Task } from "effect-taskgraph"
 * const answer = Task.make("answer", { run: Effect.succeed(42) })
 * declare const report: RunReport.RunReport
 * RunReport.value(report, answer) // Option<number>
 * RunReport.value(report, "answer") // Option<unknown>
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const value: {
  <A>(report: RunReport, task: Task.Task<A, unknown, unknown, unknown, unknown>): Option.Option<A>
  (report: RunReport, name: string): Option.Option<unknown>
} = (report: RunReport, of: string | Task.Task.Any): Option.Option<never> =>
  // the report keeps values untyped; a task's type says what it produced when it succeeded
  Option.flatMap(task(report, typeof of === "string" ? of : of.name), (t) => t.value as Option.Option<never>)

const classFor: Record<TaskState, string> = {
  pending: "pending",
  running: "running",
  ready: "ready",
  released: "ok",
  failed: "failed",
  "timed out": "failed",
  interrupted: "interrupted",
  skipped: "skipped"
}

/**
 * The executed graph as a Mermaid flowchart: each task coloured by its status
 * and labelled with its duration; data edges labelled with the tag key,
 * precedence edges dashed, the critical path in bold.
 *
 * @example
 * ```ts
 * import { RunReport } from "effect-taskgraph"
 * declare const report: RunReport.RunReport
 * console.log(RunReport.toMermaid(report))
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toMermaid = (report: RunReport): string => {
  const index = new Map(report.tasks.map((t, i) => [t.name, i]))
  // an edge is bold when its two ends follow each other on the critical path
  const critical = new Set(report.criticalPath.slice(1).map((name, k) => `${report.criticalPath[k]}\u0000${name}`))
  const lines = ["flowchart TD"]
  lines.push(
    "  classDef ok fill:#d4f7dc,stroke:#1a7f37,color:#0b3d1a",
    "  classDef ready fill:#dbeafe,stroke:#1d4ed8,color:#0b2559",
    "  classDef running fill:#fef9c3,stroke:#a16207,color:#422006",
    "  classDef failed fill:#fde2e1,stroke:#cf222e,color:#5c0b0b",
    "  classDef interrupted fill:#fde8d0,stroke:#bc4c00,color:#4a1d00",
    "  classDef skipped fill:#eeeeee,stroke:#8c959f,color:#57606a,stroke-dasharray: 4 3",
    "  classDef pending fill:#ffffff,stroke:#8c959f,color:#57606a"
  )
  const node = (t: TaskReport, i: number, indent: string) => {
    const detail = Option.match(t.durationMs, { onNone: () => t.status, onSome: (ms) => `${t.status} · ${Text.duration(ms)}` })
    const stop = Text.reportStopNote(t)
    const extra = stop === undefined ? "" : `<br/>${label(stop)}`
    const tags = t.provides.length > 1 ? `<br/>provides ${label(t.provides.join(", "))}` : ""
    // inside a group, a task is labelled with its own name (the group says where it is)
    const name = Option.match(t.group, { onNone: () => t.name, onSome: (g) => t.name.slice(g.length + 3) })
    lines.push(`${indent}${nodeId(i)}["${label(name)}${tags}<br/>${label(detail)}${extra}"]:::${classFor[t.status]}`)
  }
  // graphs run inside tasks: one subgraph per group, nested as the runs were
  const groupIds = new Map(report.groups.map((g, k) => [g.name, `g${k}`]))
  const members = new Map<string, Array<number>>()
  report.tasks.forEach((t, i) => {
    if (Option.isNone(t.group)) return node(t, i, "  ")
    const list = members.get(t.group.value)
    if (list === undefined) members.set(t.group.value, [i])
    else list.push(i)
  })
  const drawGroup = (g: GroupReport, indent: string) => {
    lines.push(`${indent}subgraph ${groupIds.get(g.name)}["${label(runName(g))}"]`)
    for (const i of members.get(g.name) ?? []) node(report.tasks[i]!, i, indent + "  ")
    for (const inner of report.groups) {
      if (Option.isSome(inner.parent) && inner.parent.value === g.name) drawGroup(inner, indent + "  ")
    }
    lines.push(`${indent}end`)
  }
  for (const g of report.groups) if (Option.isNone(g.parent)) drawGroup(g, "  ")
  edges(report.dependencies, report.precedences, index, lines, critical)
  // after the edges: `edges` numbers its own links for linkStyle
  for (const g of report.groups) {
    const task = index.get(g.task)
    if (task !== undefined) lines.push(`  ${nodeId(task)} -. runs .-> ${groupIds.get(g.name)}`)
  }
  return lines.join("\n")
}

/**
 * The timeline as a Mermaid gantt chart: one bar per task from start to ready
 * (critical path marked `crit`), and for tasks that held resources a second
 * bar from ready to release.
 *
 * @example
 * ```ts
 * import { RunReport } from "effect-taskgraph"
 * declare const report: RunReport.RunReport
 * console.log(RunReport.toGantt(report))
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toGantt = (report: RunReport): string => {
  const t0 = report.startedAt
  const critical = new Set(report.criticalPath)
  const lines = ["gantt", `  title ${ganttName(report.graph)}`, "  dateFormat x", "  axisFormat %M:%S.%L"]
  const held: Array<string> = []
  // one section for the run's own tasks, then one per graph run inside a task
  const sections = new Map<string, Array<string>>([["run", []]])
  for (const g of report.groups) sections.set(g.name, [])
  // only tasks whose value someone used held anything worth drawing
  const providers = new Set(report.dependencies.map((e) => e.from))
  report.tasks.forEach((t, i) => {
    if (Option.isNone(t.startedAt)) return
    const start = t.startedAt.value - t0
    const startedAt = t.startedAt.value
    const end = Option.getOrElse(Option.orElse(t.readyAt, () => t.endedAt), () => startedAt) - t0
    const tags = [
      t.status === "failed" || t.status === "timed out" ? "crit" : critical.has(t.name) ? "crit" : "done"
    ]
    const name = `${ganttName(t.name)} (${t.status}, ${Text.duration(end - start)})`
    const section = sections.get(Option.getOrElse(t.group, () => "run")) ?? sections.get("run")!
    section.push(`  ${name} :${tags.join(",")}, ${nodeId(i)}, ${start}, ${Math.max(end, start + 1)}`)
    if (
      providers.has(t.name) && Option.isSome(t.readyAt) && Option.isSome(t.releasedAt) &&
      t.releasedAt.value > t.readyAt.value
    ) {
      const from = t.readyAt.value - t0
      const to = t.releasedAt.value - t0
      held.push(`  ${ganttName(t.name)} held :active, ${nodeId(i)}h, ${from}, ${to}`)
    }
  })
  for (const [section, bars] of sections) {
    if (bars.length > 0 || section === "run") lines.push(`  section ${ganttName(section)}`, ...bars)
  }
  if (held.length > 0) lines.push("  section resources", ...held)
  return lines.join("\n")
}

/**
 * A short plain-text summary: one line per task with status and duration,
 * then the critical path and the total.
 *
 * @example
 * ```ts
 * import { RunReport } from "effect-taskgraph"
 * declare const report: RunReport.RunReport
 * console.log(RunReport.summary(report))
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const summary = (report: RunReport): string => {
  const width = Math.min(48, Math.max(4, ...report.tasks.map((t) => t.name.length)))
  const lines = report.tasks.map((t) => {
    const duration = Option.match(t.durationMs, { onNone: () => "", onSome: Text.duration })
    const stop = Text.reportStopNote(t)
    const blocked = stop === undefined ? "" : ` (${stop})`
    return `  ${t.name.padEnd(width)}  ${t.status.padEnd(11)} ${duration.padStart(10)}${blocked}`
  })
  const total = Option.match(report.durationMs, { onNone: () => "still running", onSome: Text.duration })
  lines.push(`critical path: ${report.criticalPath.join(" -> ") || "(none)"}`)
  lines.push(`${report.graph}: ${report.status} in ${total}`)
  return lines.join("\n")
}

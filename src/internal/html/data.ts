/**
 * The data model of the HTML report: everything the page shows, as plain
 * JSON, built from the plan, the events the report collected and (once the
 * run is over) the `RunReport`. The SVG renderer, the page template and the
 * client script all read this one shape.
 *
 * @internal
 */
import { Cause, Option } from "effect"
import type { RunReport, TaskState } from "../../RunReport.js"
import { runName } from "../report.js"
import * as Model from "../reporter/model.js"
import * as Text from "../reporter/text.js"
import type { Collector, Line } from "./lines.js"
import { linesOf } from "./lines.js"
import { errorText, prettyCause } from "../errorText.js"

/** A task's status on the page: a run's states, or `planned` for `TaskGraph.toHtml`. */
export type Status = TaskState | "planned"

/** @internal */
export interface TaskData {
  readonly name: string
  readonly status: Status
  readonly attempts: number
  /** milliseconds since the run started; null when it did not happen */
  readonly start: number | null
  readonly ready: number | null
  readonly end: number | null
  readonly release: number | null
  readonly duration: number | null
  /** the failed task it needed */
  readonly blockedBy: string | null
  /** the failed task whose failure stopped the run before this one (which did not need it) ran */
  readonly stoppedBy: string | null
  /** indices of the tasks it waited for */
  readonly waitsFor: ReadonlyArray<number>
  /** the error's message (first line), for failed and timed-out tasks */
  readonly error: string | null
  /** the pretty `Cause` */
  readonly cause: string | null
  /** kept output lines: [ms since the run started, stream (0 out, 1 err, 2 log), text] */
  readonly lines: ReadonlyArray<Line>
  /** lines left out between the first and the last ones kept */
  readonly omitted: number
  readonly layer: number
  readonly critical: boolean
  /** index of the graph run inside a task it belongs to (`PageData.groups`); null for the run's own tasks */
  readonly group: number | null
  /** the tags it requires from the caller's context (no task of the graph provides them) */
  readonly fromContext: ReadonlyArray<string>
}

/** A graph run inside a task (graphs inside tasks): drawn as a box around its tasks. @internal */
export interface GroupData {
  /** `<enclosing task's full name> / <child graph's name>` (`… #2`, … for a later run of that name in the task) */
  readonly name: string
  /** the box's label: the child graph's name, with its ` #2`, … */
  readonly graph: string
  /** index of the task it ran inside; null when that task is unknown */
  readonly task: number | null
  /** the group of that task, if it is itself in a child run */
  readonly parent: number | null
}

/** A tag required from the caller's context: drawn as an input node with an edge to each task needing it. @internal */
export interface ContextData {
  readonly tag: string
  readonly requiredBy: ReadonlyArray<number>
}

/** @internal */
export interface EdgeData {
  readonly from: number
  readonly to: number
  /** the tag of a data edge; null for a precedence */
  readonly tag: string | null
  readonly critical: boolean
}

/** @internal */
export interface PageData {
  readonly kind: "run" | "plan"
  readonly graph: string
  readonly outcome: "succeeded" | "failed" | "interrupted" | "running" | "planned"
  readonly exitCode: number | null
  readonly stoppedBy: string | null
  /** epoch ms */
  readonly startedAt: number | null
  readonly durationMs: number | null
  readonly tasks: ReadonlyArray<TaskData>
  readonly edges: ReadonlyArray<EdgeData>
  readonly criticalPath: ReadonlyArray<number>
  /** graphs run inside tasks, parents before their children */
  readonly groups: ReadonlyArray<GroupData>
  /** tags from the caller's context (the plan's `external`) */
  readonly context: ReadonlyArray<ContextData>
  readonly layers: number
  /** whether the graph is too large to draw task by task (the condensed view) */
  readonly condensed: boolean
  /** when the page was made (epoch ms) */
  readonly generatedAt: number
  /** how many first lines of each task are kept before the tail (where omitted lines go) */
  readonly headLines: number
}

/** The minimal plan the model needs (a `TaskGraph.Plan` fits). */
export interface PlanLike extends Model.PlanLike {
  readonly layers: ReadonlyArray<ReadonlyArray<string>>
  readonly dependencies: ReadonlyArray<{ readonly from: string; readonly to: string; readonly tag: string }>
  /** required tags no task provides (they come from the caller's context) */
  readonly external?: ReadonlyArray<{ readonly tag: string; readonly requiredBy: ReadonlyArray<string> }> | undefined
}

/** What a page's tasks are: their names, edges and groups (the plan's, or the report's with the runs inside tasks). */
interface Shape {
  readonly names: ReadonlyArray<string>
  readonly dependencies: ReadonlyArray<{ readonly from: string; readonly to: string; readonly tag: string }>
  readonly precedences: ReadonlyArray<{ readonly before: string; readonly after: string }>
  readonly groups: ReadonlyArray<{ readonly name: string; readonly graph: string; readonly task: string; readonly parent: string | undefined }>
  /** the group of each task of a run inside a task, by full name */
  readonly groupOf: ReadonlyMap<string, string>
}

/** Terminal escapes removed; other control characters shown as visible symbols; never markup. */
export const cleanLine = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  Text.stripAnsi(text).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) =>
    c === "\x7f" ? "\u2421" : String.fromCharCode(0x2400 + c.charCodeAt(0)))

const structure = (plan: PlanLike, shape: Shape, critical: ReadonlyArray<string>) => {
  const index = new Map(shape.names.map((t, i) => [t, i]))
  const groups: Array<GroupData> = []
  const groupIndex = new Map<string, number>()
  // parents before children (a group's parent is the group of the task it ran in); a report lists them so already
  const byName = new Map(shape.groups.map((g) => [g.name, g]))
  const visiting = new Set<string>()
  const visit = (g: Shape["groups"][number]): void => {
    if (groupIndex.has(g.name) || visiting.has(g.name)) return
    visiting.add(g.name)
    const parent = g.parent === undefined ? undefined : byName.get(g.parent)
    if (parent !== undefined) visit(parent)
    groupIndex.set(g.name, groups.length)
    groups.push({
      name: g.name,
      graph: g.graph,
      task: index.get(g.task) ?? null,
      parent: g.parent === undefined ? null : groupIndex.get(g.parent) ?? null
    })
  }
  for (const g of shape.groups) visit(g)
  const groupOfTask = shape.names.map((name) => {
    const g = shape.groupOf.get(name)
    return g === undefined ? null : groupIndex.get(g) ?? null
  })
  const layerOf = new Int32Array(shape.names.length)
  plan.layers.forEach((layer, k) => {
    for (const name of layer) {
      const i = index.get(name)
      if (i !== undefined) layerOf[i] = k
    }
  })
  const path = critical.map((name) => index.get(name)).filter((i): i is number => i !== undefined)
  const pairs = new Set<string>()
  for (let k = 1; k < path.length; k++) pairs.add(`${path[k - 1]} ${path[k]}`)
  const edges: Array<EdgeData> = []
  const waits: Array<Array<number>> = shape.names.map(() => [])
  const seen = new Set<string>()
  const push = (fromName: string, toName: string, tag: string | null) => {
    const from = index.get(fromName)
    const to = index.get(toName)
    if (from === undefined || to === undefined) return
    const key = `${from} ${to}`
    edges.push({ from, to, tag, critical: pairs.has(key) })
    if (!seen.has(key)) {
      seen.add(key)
      waits[to]!.push(from)
    }
  }
  for (const e of shape.dependencies) push(e.from, e.to, e.tag)
  for (const e of shape.precedences) push(e.before, e.after, null)
  // a task of a run inside a task: one layer after the tasks it waits for in its graph, or after the task it ran in
  // iteratively (a nested chain of 100,000 tasks must not overflow the stack): 0 unseen, 1 open, 2 done
  const state = new Uint8Array(shape.names.length)
  const inputs = (i: number): Array<number> => {
    const owner = groups[groupOfTask[i]!]!.task
    return owner === null ? waits[i]! : [owner, ...waits[i]!]
  }
  const layerAt = (start: number): number => {
    const stack = [start]
    while (stack.length > 0) {
      const i = stack[stack.length - 1]!
      if (groupOfTask[i] === null || state[i] === 2) {
        stack.pop()
      } else if (state[i] === 0) {
        state[i] = 1
        for (const j of inputs(i)) if (groupOfTask[j] !== null && state[j] === 0) stack.push(j)
      } else {
        const owner = groups[groupOfTask[i]!]!.task
        let d = owner === null ? 0 : layerOf[owner]! + 1
        for (const p of waits[i]!) d = Math.max(d, layerOf[p]! + 1)
        layerOf[i] = d
        state[i] = 2
        stack.pop()
      }
    }
    return layerOf[start]!
  }
  let layers = plan.layers.length
  groupOfTask.forEach((g, i) => {
    if (g === null) return
    layers = Math.max(layers, layerAt(i) + 1)
  })
  const context: Array<ContextData> = (plan.external ?? []).map(({ requiredBy, tag }) => ({
    tag,
    requiredBy: requiredBy.map((name) => index.get(name)).filter((i): i is number => i !== undefined)
  }))
  const fromContext: Array<Array<string>> = shape.names.map(() => [])
  for (const c of context) for (const i of c.requiredBy) fromContext[i]!.push(c.tag)
  return { index, layerOf, layers, path, edges, waits, onPath: new Set(path), groups, groupOfTask, context, fromContext }
}

/** The plan's own tasks and edges, no runs inside tasks. */
const planShape = (plan: PlanLike): Shape => ({
  names: plan.tasks,
  dependencies: plan.dependencies,
  precedences: plan.precedences,
  groups: [],
  groupOf: new Map()
})

/** The report's tasks, edges and groups: the plan's and those of every graph run inside a task. */
const reportShape = (plan: PlanLike, report: RunReport): Shape => {
  const names = report.tasks.map((t) => t.name)
  const listed = new Set(names)
  return {
    names: [...names, ...plan.tasks.filter((t) => !listed.has(t))],
    dependencies: report.dependencies,
    precedences: report.precedences,
    groups: report.groups.map((g) => ({ name: g.name, graph: runName(g), task: g.task, parent: Option.getOrUndefined(g.parent) })),
    groupOf: new Map(report.tasks.flatMap((t) => Option.isSome(t.group) ? [[t.name, t.group.value] as const] : []))
  }
}

/**
 * From the events alone (a forced exit: no report): the plan's tasks, then
 * every task heard of, its group read from its name (`<task> / <graph> /
 * <name>`, the longest known task name first) — best effort, as a name may
 * itself contain " / ".
 */
const eventShape = (plan: PlanLike, heard: ReadonlyArray<string>): Shape => {
  const names = [...plan.tasks]
  const known = new Set(names)
  for (const name of heard) {
    if (!known.has(name)) {
      known.add(name)
      names.push(name)
    }
  }
  const groups = new Map<string, { name: string; graph: string; task: string; parent: string | undefined }>()
  const groupOf = new Map<string, string>()
  const planned = new Set(plan.tasks)
  for (const name of names) {
    if (planned.has(name)) continue
    // the longest known task name that is a prefix of this one, followed by " / "
    let owner: string | undefined
    for (let at = name.lastIndexOf(" / "); at > 0 && owner === undefined; at = name.lastIndexOf(" / ", at - 1)) {
      const prefix = name.slice(0, at)
      if (known.has(prefix)) owner = prefix
    }
    if (owner === undefined) continue
    const graph = name.slice(owner.length + 3).split(" / ")[0]!
    const group = `${owner} / ${graph}`
    if (!groups.has(group)) groups.set(group, { name: group, graph, task: owner, parent: groupOf.get(owner) })
    groupOf.set(name, group)
  }
  return { names, dependencies: plan.dependencies, precedences: plan.precedences, groups: [...groups.values()], groupOf }
}

const messageOf = (cause: Cause.Cause<unknown>): string | null => {
  if (Cause.isInterruptedOnly(cause)) return null
  const error = Cause.squash(cause)
  return cleanLine(errorText(error).split("\n")[0] ?? "")
}

const exitCodeOf = (status: PageData["outcome"], stoppedBy: string | undefined, signals: Record<string, number>): number | null => {
  if (stoppedBy !== undefined && signals[stoppedBy] !== undefined) return 128 + signals[stoppedBy]!
  switch (status) {
    case "succeeded":
      return 0
    case "failed":
      return 1
    case "interrupted":
      return 130
    default:
      return null
  }
}

/** Options of `fromRun`. */
export interface RunMeta {
  readonly stoppedBy: string | undefined
  /** signal numbers by name, for the exit code (`os.constants.signals`) */
  readonly signals: Record<string, number>
  readonly maxDrawn: number
  readonly now: number
}

const rel = (t: number | undefined, t0: number): number | null => (t === undefined || Number.isNaN(t) ? null : t - t0)

/**
 * The page data of a run: from its report when the run is over, or (a
 * forced exit) from the events alone.
 */
export const fromRun = (plan: PlanLike, collected: Collector, report: RunReport | undefined, meta: RunMeta): PageData => {
  const t0 = report?.startedAt ?? collected.events[0]?.timestamp ?? meta.now
  const byEvents = Model.make(plan, 0)
  for (const e of collected.events) Model.apply(byEvents, e)
  const shape = report !== undefined ? reportShape(plan, report) : eventShape(plan, byEvents.tasks.map((t) => t.name))
  const s = structure(plan, shape, report?.criticalPath ?? [])
  const reports = new Map(report?.tasks.map((t) => [t.name, t]) ?? [])
  const tasks: Array<TaskData> = shape.names.map((name, i) => {
    const store = collected.lines[collected.index.get(name) ?? -1]
    const { lines, omitted } = store === undefined ? { lines: [], omitted: 0 } : linesOf(store)
    const kept = lines.map(([t, stream, text]): Line => [t - t0, stream, cleanLine(text)])
    const placed = {
      waitsFor: s.waits[i]!,
      lines: kept,
      omitted,
      layer: s.layerOf[i]!,
      group: s.groupOfTask[i]!,
      fromContext: s.fromContext[i]!
    }
    const r = reports.get(name)
    if (r !== undefined) {
      const cause = Option.getOrUndefined(r.cause)
      const failed = r.status === "failed" || r.status === "timed out"
      return {
        name,
        status: r.status,
        attempts: r.attempts,
        start: rel(Option.getOrUndefined(r.startedAt), t0),
        ready: rel(Option.getOrUndefined(r.readyAt), t0),
        end: rel(Option.getOrUndefined(r.endedAt), t0),
        release: rel(Option.getOrUndefined(r.releasedAt), t0),
        duration: Option.getOrNull(r.durationMs),
        blockedBy: Option.getOrNull(r.blockedBy),
        stoppedBy: Option.getOrNull(r.stoppedBy),
        error: failed && cause !== undefined ? messageOf(cause) : null,
        cause: cause === undefined || Cause.isInterruptedOnly(cause) ? null : cleanCause(prettyCause(cause)),
        critical: s.onPath.has(i),
        ...placed
      }
    }
    const view = byEvents.byName.get(name)
    const end = view?.endedAt
    return {
      name,
      status: view?.state ?? "pending",
      attempts: view?.attempt ?? 0,
      start: rel(view?.startedAt, t0),
      ready: view?.state === "ready" || view?.state === "released" ? rel(end, t0) : null,
      end: rel(end, t0),
      release: rel(view?.releasedAt, t0),
      duration: view?.startedAt !== undefined && end !== undefined ? end - view.startedAt : null,
      blockedBy: view?.blockedBy ?? null,
      stoppedBy: view?.stoppedBy ?? null,
      error: view?.error === undefined ? null : cleanLine(view.error.split("\n")[0] ?? ""),
      cause: view?.error === undefined ? null : cleanCause(view.error),
      critical: false,
      ...placed
    }
  })
  const finished = byEvents.finished
  const outcome: PageData["outcome"] = report !== undefined ? report.status : finished?.status ?? "interrupted"
  return {
    kind: "run",
    graph: plan.graph,
    outcome,
    exitCode: exitCodeOf(outcome, meta.stoppedBy, meta.signals),
    stoppedBy: meta.stoppedBy ?? null,
    startedAt: t0,
    durationMs: report !== undefined ? Option.getOrNull(report.durationMs) : finished?.durationMs ?? meta.now - t0,
    tasks,
    edges: s.edges,
    criticalPath: s.path,
    groups: s.groups,
    context: s.context,
    layers: s.layers,
    condensed: tasks.length > meta.maxDrawn,
    generatedAt: meta.now,
    headLines: collected.head
  }
}

const cleanCause = (text: string): string => text.split("\n").map(cleanLine).join("\n")

/** The page data of a planned graph (nothing ran). */
export const fromPlan = (plan: PlanLike, options: { readonly maxDrawn: number; readonly now: number }): PageData => {
  const s = structure(plan, planShape(plan), [])
  return {
    kind: "plan",
    graph: plan.graph,
    outcome: "planned",
    exitCode: null,
    stoppedBy: null,
    startedAt: null,
    durationMs: null,
    tasks: plan.tasks.map((name, i) => ({
      name,
      status: "planned",
      attempts: 0,
      start: null,
      ready: null,
      end: null,
      release: null,
      duration: null,
      blockedBy: null,
      stoppedBy: null,
      waitsFor: s.waits[i]!,
      error: null,
      cause: null,
      lines: [],
      omitted: 0,
      layer: s.layerOf[i]!,
      critical: false,
      group: null,
      fromContext: s.fromContext[i]!
    })),
    edges: s.edges,
    criticalPath: [],
    groups: [],
    context: s.context,
    layers: plan.layers.length,
    condensed: plan.tasks.length > options.maxDrawn,
    generatedAt: options.now,
    headLines: 0
  }
}

/**
 * The data as the text of a `<script type="application/json">`: `<`, `>`
 * and `&` escaped, so no output line can close the script or open a tag.
 */
export const toScriptJson = (data: unknown): string =>
  JSON.stringify(data)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029")

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
import * as Model from "../reporter/model.js"
import * as Text from "../reporter/text.js"
import type { Collector, Line } from "./lines.js"
import { linesOf } from "./lines.js"

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
  readonly blockedBy: string | null
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
}

/** Terminal escapes removed; other control characters shown as visible symbols; never markup. */
export const cleanLine = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  Text.stripAnsi(text).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) =>
    c === "\x7f" ? "\u2421" : String.fromCharCode(0x2400 + c.charCodeAt(0)))

const structure = (plan: PlanLike, critical: ReadonlyArray<string>) => {
  const index = new Map(plan.tasks.map((t, i) => [t, i]))
  const layerOf = new Int32Array(plan.tasks.length)
  plan.layers.forEach((layer, k) => {
    for (const name of layer) layerOf[index.get(name)!] = k
  })
  const path = critical.map((name) => index.get(name)!).filter((i) => i !== undefined)
  const pairs = new Set<string>()
  for (let k = 1; k < path.length; k++) pairs.add(`${path[k - 1]} ${path[k]}`)
  const edges: Array<EdgeData> = []
  const waits: Array<Array<number>> = plan.tasks.map(() => [])
  const seen = new Set<string>()
  const push = (from: number, to: number, tag: string | null) => {
    const key = `${from} ${to}`
    edges.push({ from, to, tag, critical: pairs.has(key) })
    if (!seen.has(key)) {
      seen.add(key)
      waits[to]!.push(from)
    }
  }
  for (const e of plan.dependencies) push(index.get(e.from)!, index.get(e.to)!, e.tag)
  for (const e of plan.precedences) push(index.get(e.before)!, index.get(e.after)!, null)
  return { index, layerOf, path, edges, waits, onPath: new Set(path) }
}

const messageOf = (cause: Cause.Cause<unknown>): string | null => {
  if (Cause.isInterruptedOnly(cause)) return null
  const error = Cause.squash(cause)
  const text = error instanceof Error ? error.message : typeof error === "string" ? error : safeJson(error)
  return cleanLine(text.split("\n")[0] ?? "")
}

const safeJson = (u: unknown): string => {
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
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
  const s = structure(plan, report?.criticalPath ?? [])
  const t0 = report?.startedAt ?? collected.events[0]?.timestamp ?? meta.now
  const byEvents = Model.make(plan, 0)
  for (const e of collected.events) Model.apply(byEvents, e)
  const tasks: Array<TaskData> = plan.tasks.map((name, i) => {
    const { lines, omitted } = linesOf(collected.lines[i]!)
    const kept = lines.map(([t, stream, text]): Line => [t - t0, stream, cleanLine(text)])
    const view = byEvents.tasks[i]!
    const r = report?.tasks[i]
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
        waitsFor: s.waits[i]!,
        error: failed && cause !== undefined ? messageOf(cause) : null,
        cause: cause === undefined || Cause.isInterruptedOnly(cause) ? null : cleanCause(Cause.pretty(cause)),
        lines: kept,
        omitted,
        layer: s.layerOf[i]!,
        critical: s.onPath.has(i)
      }
    }
    const end = view.endedAt
    return {
      name,
      status: view.state,
      attempts: view.attempt,
      start: rel(view.startedAt, t0),
      ready: view.state === "ready" || view.state === "released" ? rel(end, t0) : null,
      end: rel(end, t0),
      release: rel(view.releasedAt, t0),
      duration: view.startedAt !== undefined && end !== undefined ? end - view.startedAt : null,
      blockedBy: view.blockedBy ?? null,
      waitsFor: s.waits[i]!,
      error: view.error === undefined ? null : cleanLine(view.error.split("\n")[0] ?? ""),
      cause: view.error === undefined ? null : cleanCause(view.error),
      lines: kept,
      omitted,
      layer: s.layerOf[i]!,
      critical: false
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
    layers: plan.layers.length,
    condensed: plan.tasks.length > meta.maxDrawn,
    generatedAt: meta.now,
    headLines: collected.head
  }
}

const cleanCause = (text: string): string => text.split("\n").map(cleanLine).join("\n")

/** The page data of a planned graph (nothing ran). */
export const fromPlan = (plan: PlanLike, options: { readonly maxDrawn: number; readonly now: number }): PageData => {
  const s = structure(plan, [])
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
      waitsFor: s.waits[i]!,
      error: null,
      cause: null,
      lines: [],
      omitted: 0,
      layer: s.layerOf[i]!,
      critical: false
    })),
    edges: s.edges,
    criticalPath: [],
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

/**
 * Copies of a graph with some of each task's fields replaced: what a durable
 * run (its tasks restore and store their outcomes) and a remote run (their
 * bodies run on runner processes, a resource group as one sub-graph) give
 * the scheduler. Names, tags, retries and pools stay (a `Task.sync` task
 * given a new `run` becomes a task like any other, run in a fiber); `after` references
 * and precedences follow the copies (those naming a task left out are
 * dropped).
 *
 * @internal
 */
import type { Effect } from "effect"
import type * as Task from "../Task.js"
import * as TaskGraph from "../TaskGraph.js"
import * as InternalTask from "./task.js"

/** What a copy may change. */
export interface Changes {
  readonly run?: Effect.Effect<unknown, unknown, unknown>
  readonly requires?: ReadonlyArray<Task.AnyTag>
  readonly after?: ReadonlyArray<Task.Task.Any>
}

export const copyGraph = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  changes: (task: Task.Task.Any) => Changes,
  options: {
    readonly name?: string
    readonly only?: ReadonlySet<string>
    /** which of the graph's precedences (between kept tasks) the copy keeps; default all */
    readonly keepPrecedence?: (before: Task.Task.Any, after: Task.Task.Any) => boolean
  } = {}
): TaskGraph.TaskGraph<E, R, P> => {
  const copies = new Map<Task.Task.Any, Task.Task.Any>()
  for (const task of graph.tasks) {
    if (options.only !== undefined && !options.only.has(task.name)) continue
    copies.set(task, InternalTask.copy(task, changes(task)))
  }
  for (const copy of copies.values()) {
    const after = copy.after.filter((a) => options.only === undefined || copies.has(a))
    Object.assign(copy, { after: after.map((a) => copies.get(a) ?? a) })
  }
  let copied: TaskGraph.TaskGraph.Any = TaskGraph.make(options.name ?? graph.name, [...copies.values()])
  for (const [a, b] of graph.precedences) {
    const ca = copies.get(a), cb = copies.get(b)
    if (ca !== undefined && cb !== undefined && (options.keepPrecedence?.(a, b) ?? true)) copied = TaskGraph.precedence(copied, ca, cb)
  }
  // the same tasks with the same types, only some fields replaced: the compiler cannot see through the copy
  return copied as TaskGraph.TaskGraph<E, R, P>
}

/** The same graph with every task's `run` replaced. */
export const withRuns = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  runOf: (task: Task.Task.Any) => Effect.Effect<unknown, unknown, unknown>
): TaskGraph.TaskGraph<E, R, P> => copyGraph(graph, (task) => ({ run: runOf(task) }))

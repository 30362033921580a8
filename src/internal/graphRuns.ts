/**
 * The same graph with every task's `run` replaced: what a durable run (its
 * tasks restore and store their outcomes) and a remote run (their bodies run
 * on runner processes) give the scheduler. Names, tags, order, retries,
 * pools and precedences stay; only the runs change.
 *
 * @internal
 */
import type { Effect } from "effect"
import type * as Task from "../Task.js"
import * as TaskGraph from "../TaskGraph.js"

export const withRuns = <E, R, P>(
  graph: TaskGraph.TaskGraph<E, R, P>,
  runOf: (task: Task.Task.Any) => Effect.Effect<unknown, unknown, unknown>
): TaskGraph.TaskGraph<E, R, P> => {
  const copies = new Map<Task.Task.Any, Task.Task.Any>()
  for (const task of graph.tasks) {
    copies.set(task, Object.assign(Object.create(Object.getPrototypeOf(task)), task, { run: runOf(task) }))
  }
  for (const copy of copies.values()) {
    Object.assign(copy, { after: copy.after.map((a) => copies.get(a) ?? a) })
  }
  let copied: TaskGraph.TaskGraph.Any = TaskGraph.make(graph.name, [...copies.values()])
  for (const [a, b] of graph.precedences) copied = TaskGraph.precedence(copied, copies.get(a) ?? a, copies.get(b) ?? b)
  // the same tasks with the same types, only their runs replaced: the compiler cannot see through the copy
  return copied as TaskGraph.TaskGraph<E, R, P>
}

/**
 * Graphs inside tasks: what a run shares with the runs started inside its
 * tasks (`TaskGraph.run` called from a task's fiber).
 *
 * - `Capacity`: the run's concurrency and named pools, one object for the
 *   whole tree of runs. Every scheduler of the tree takes its slots and pool
 *   weights from it; when one gives something back, the others are woken
 *   (`wake`) so that a queued task of any of them can start.
 * - `NestPoint`: what a running task offers a child run started in its
 *   fiber (found through the task's hooks): its full name, the capacity, the
 *   mode, where the child's events go, and the slot the task lends while it
 *   waits for its child (the deadlock rule: a task that waits for its child
 *   run must not hold a slot its children need).
 *
 * Mutable on purpose: like the scheduler's arrays, private to the schedulers
 * of one run tree and changed only from their synchronous callbacks.
 *
 * @internal
 */
import type * as TaskEvent from "../TaskEvent.js"
import type { Snapshot } from "./scheduler.js"

/** The concurrency and pools of a tree of runs. @internal */
export interface Capacity {
  /** slots in use by the tasks of every run of the tree (a lent slot is counted once, by its lender) */
  used: number
  readonly limit: number
  /** pool sizes the root run was given */
  readonly poolSizes: Readonly<Record<string, number>>
  /** what is free of each pool, shared by every run of the tree */
  readonly poolFree: Map<string, number>
  /** the pump of every run of the tree that is still going (woken when something is given back) */
  readonly pumps: Set<() => void>
  /** every task name of the tree (full names), built when the first child run attaches */
  names: Set<string> | undefined
  /** per `<task full name> / <graph name>`: how many child runs of that name the task has started */
  runs: Map<string, number> | undefined
  /** the root run's task names (set by the root scheduler) */
  seed: () => ReadonlyArray<string>
}

/** @internal */
export const makeCapacity = (limit: number, poolSizes: Readonly<Record<string, number>>): Capacity => ({
  used: 0,
  limit,
  poolSizes,
  poolFree: new Map(Object.keys(poolSizes).map((pool) => [pool, poolSizes[pool]!])),
  pumps: new Set(),
  names: undefined,
  runs: undefined,
  seed: () => []
})

/** Something was given back: let the other runs of the tree start what now fits. @internal */
export const wake = (capacity: Capacity, self: () => void): void => {
  if (capacity.pumps.size < 2) return
  for (const pump of capacity.pumps) if (pump !== self) pump()
}

/**
 * Claims the full names of a child run's tasks in the tree; returns a name
 * already taken (the run must not start), else `undefined`. The tree's names
 * are gathered on the first claim: `seed` gives the root run's.
 */
const claim = (capacity: Capacity, names: ReadonlyArray<string>): string | undefined => {
  const taken = capacity.names ??= new Set(capacity.seed())
  for (const name of names) if (taken.has(name)) return name
  for (const name of names) taken.add(name)
  return undefined
}

/** A child run's names in the tree, or the full name already taken by another task. @internal */
export type Named =
  | { readonly _tag: "Named"; readonly group: string; readonly names: ReadonlyArray<string> }
  | { readonly _tag: "Taken"; readonly name: string; readonly local: string; readonly run: number }

/**
 * Names a child run of graph `graph` started in the task `path`, and claims
 * its tasks' full names. The task's first run of a graph of that name is the
 * group `<path> / <graph>`; its later ones (an earlier attempt's, an earlier
 * or concurrent run in the same body, finished or not) are `<graph> #2`,
 * `#3`, … in the order they are named, so every run's tasks keep their own
 * names. A number is used up only by a run whose names were claimed: a name
 * another task already has (the user's two tasks or graphs of the same full
 * name) is `Taken`, and the run must not start. Synchronous: nothing waits.
 *
 * @internal
 */
export const name = (
  capacity: Capacity,
  path: string,
  graph: string,
  local: ReadonlyArray<string>
): Named => {
  const base = `${path} / ${graph}`
  const runs = capacity.runs ??= new Map()
  const k = (runs.get(base) ?? 0) + 1
  const group = k === 1 ? base : `${base} #${k}`
  const names = local.map((task) => `${group} / ${task}`)
  const taken = claim(capacity, names)
  if (taken !== undefined) return { _tag: "Taken", name: taken, local: local[names.indexOf(taken)]!, run: k }
  runs.set(base, k)
  return { _tag: "Named", group, names }
}

/** A child run, as its parent sees it (for the parent's report). @internal */
export interface ChildRun {
  /** the child graph's name */
  readonly graph: string
  /** the full name of its group: `<task full name> / <child graph name>` (`… #2`, …: `name`) */
  readonly group: string
  readonly snapshot: () => Snapshot
}

/**
 * What a running task offers the runs started inside it.
 *
 * @internal
 */
export interface NestPoint {
  /** the task's full name (`tests / shard 3 / run tests` for a task of a child run) */
  readonly path: string
  readonly capacity: Capacity
  readonly mode: "fail-fast" | "continue"
  /** pools held by this task and every task enclosing it: a child needing more than the rest can never start */
  readonly held: Readonly<Record<string, number>>
  /** where the child's events go (already under full names); `undefined` when the run records none */
  readonly emit: ((event: TaskEvent.TaskEvent) => void) | undefined
  /** The task lends its slot to its first child run still going: 1, or 0 when already lent. */
  readonly lend: () => number
  readonly unlend: () => void
  /** A child run starts in this task: its tasks join the parent's report. */
  readonly attach: (child: ChildRun) => void
}

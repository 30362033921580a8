/**
 * Compiles a graph into index-based arrays and validates it. The scheduler
 * works on these arrays only (no Maps or task objects in its hot loop).
 *
 * @internal
 */
import { Either } from "effect"
import * as GraphError from "../GraphError.js"
import type { AnyTag, Task } from "../Task.js"
import { noPools } from "./taskHooks.js"

/** @internal */
export interface GraphSource {
  readonly name: string
  readonly tasks: ReadonlyArray<Task.Any>
  readonly precedences: ReadonlyArray<readonly [Task.Any, Task.Any]>
}

/** A data edge: `from` provides `tag`, `to` requires it. */
export interface DataEdge {
  readonly from: string
  readonly to: string
  readonly tag: string
}

/** A precedence edge: `before` must finish its run before `after` starts. */
export interface PrecedenceEdge {
  readonly before: string
  readonly after: string
}

/** A tag that no task of the graph provides: it must come from the context. */
export interface ExternalRequirement {
  readonly tag: string
  readonly requiredBy: ReadonlyArray<string>
}

/** @internal */
export interface CompiledPlan {
  readonly source: GraphSource
  readonly n: number
  readonly tasks: ReadonlyArray<Task.Any>
  readonly names: ReadonlyArray<string>
  /** per task: indices of the tasks providing its required tags (distinct) */
  readonly dataDeps: ReadonlyArray<ReadonlyArray<number>>
  /** per task: every task it waits for (data and precedence, distinct) */
  readonly waitsFor: ReadonlyArray<ReadonlyArray<number>>
  /** per task: every task that waits for it (data and precedence, distinct) */
  readonly dependents: ReadonlyArray<ReadonlyArray<number>>
  /** per task: how many tasks hold its resources (distinct data dependents) */
  readonly holders: ReadonlyArray<number>
  /** per task: tags it requires that no task provides (from the context) */
  readonly externalTags: ReadonlyArray<ReadonlyArray<AnyTag>>
  readonly external: ReadonlyArray<ExternalRequirement & { readonly tagObject: AnyTag }>
  /** tag key -> providing task index */
  readonly providerByKey: ReadonlyMap<string, number>
  readonly layers: ReadonlyArray<ReadonlyArray<number>>
  readonly dataEdges: ReadonlyArray<DataEdge>
  readonly precedenceEdges: ReadonlyArray<PrecedenceEdge>
  /** every pool any task uses, with the largest weight asked of it */
  readonly poolWeights: ReadonlyMap<string, { readonly max: number; readonly task: string }>
}

/** Shared by every task without edges; compared by identity and never mutated. */
const EMPTY: Array<never> = []

/** @internal */
export const compile = (source: GraphSource): Either.Either<CompiledPlan, GraphError.GraphError> => {
  const tasks = source.tasks
  const n = tasks.length
  const names = new Set<string>()
  let anyAfter = source.precedences.length > 0
  for (let i = 0; i < n; i++) {
    const task = tasks[i]!
    if (names.has(task.name)) return Either.left(new GraphError.DuplicateTaskError({ name: task.name }))
    names.add(task.name)
    if (task.after.length > 0) anyAfter = true
  }
  // task -> index, only needed (and only built) when some edge names a task object
  const indexOf = new Map<Task.Any, number>()
  if (anyAfter) for (let i = 0; i < n; i++) indexOf.set(tasks[i]!, i)

  // providers
  const providerByKey = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const tag = tasks[i]!.provides
    if (tag === undefined) continue
    const other = providerByKey.get(tag.key)
    if (other !== undefined) {
      return Either.left(
        new GraphError.DuplicateProviderError({ tag: tag.key, providers: [tasks[other]!.name, tasks[i]!.name] })
      )
    }
    providerByKey.set(tag.key, i)
  }

  const dataDeps: Array<Array<number>> = new Array(n)
  const waitsFor: Array<Array<number>> = new Array(n)
  const externalTags: Array<Array<AnyTag>> = new Array(n)
  const external = new Map<string, { tagObject: AnyTag; requiredBy: Array<string> }>()
  // precedence edges as index pairs; the named edge objects are built only when someone asks
  const precedencePairs: Array<number> = []
  const poolWeights = new Map<string, { max: number; task: string }>()

  // stamp[j] === i + 1 marks j as already counted for task i: no quadratic `includes` on wide fan-ins
  const stamp = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const task = tasks[i]!
    let deps: Array<number> | undefined
    let ext: Array<AnyTag> | undefined
    const requires = task.requires
    for (let r = 0; r < requires.length; r++) {
      const tag = requires[r]!
      const provider = providerByKey.get(tag.key)
      if (provider === i) return Either.left(new GraphError.SelfDependencyError({ task: task.name, via: tag.key }))
      if (provider === undefined) {
        ;(ext ??= []).push(tag)
        const entry = external.get(tag.key)
        if (entry === undefined) external.set(tag.key, { tagObject: tag, requiredBy: [task.name] })
        else entry.requiredBy.push(task.name)
        continue
      }
      if (stamp[provider] === i + 1) continue
      stamp[provider] = i + 1
      ;(deps ??= []).push(provider)
    }
    // waitsFor shares the dataDeps array until an `after` or a precedence adds to it (copy on write)
    let waits: Array<number> | undefined = deps
    const after = task.after
    for (let a = 0; a < after.length; a++) {
      const before = after[a]!
      const j = indexOf.get(before)
      if (j === undefined) {
        return Either.left(new GraphError.UnknownTaskError({ task: before.name, referencedBy: task.name, via: "after" }))
      }
      if (j === i) return Either.left(new GraphError.SelfDependencyError({ task: task.name, via: "after" }))
      precedencePairs.push(j, i)
      if (stamp[j] === i + 1) continue
      stamp[j] = i + 1
      if (waits === undefined) waits = [j]
      else if (waits === deps) waits = [...deps, j]
      else waits.push(j)
    }
    const pools = task.pools
    if (pools !== noPools) for (const pool in pools) {
      const weight = pools[pool]!
      if (!Number.isInteger(weight) || weight <= 0) {
        return Either.left(
          new GraphError.InvalidOptionError({
            option: `pool weight of "${pool}" in task "${task.name}"`,
            reason: `must be a positive integer, got ${weight}`
          })
        )
      }
      const seen = poolWeights.get(pool)
      if (seen === undefined || seen.max < weight) poolWeights.set(pool, { max: weight, task: task.name })
    }
    dataDeps[i] = deps ?? EMPTY
    waitsFor[i] = waits ?? EMPTY
    externalTags[i] = ext ?? EMPTY
  }

  for (const [a, b] of source.precedences) {
    const i = indexOf.get(a)
    const j = indexOf.get(b)
    const label = `${a.name} before ${b.name}`
    if (i === undefined) {
      return Either.left(new GraphError.UnknownTaskError({ task: a.name, referencedBy: label, via: "precedence" }))
    }
    if (j === undefined) {
      return Either.left(new GraphError.UnknownTaskError({ task: b.name, referencedBy: label, via: "precedence" }))
    }
    if (i === j) return Either.left(new GraphError.SelfDependencyError({ task: a.name, via: "after" }))
    precedencePairs.push(i, j)
    const waits = waitsFor[j]!
    if (waits === EMPTY) waitsFor[j] = [i]
    else if (!waits.includes(i)) waitsFor[j] = waits === dataDeps[j] ? [...waits, i] : (waits.push(i), waits)
  }

  // reverse edges
  const dependents: Array<Array<number>> = new Array(n)
  const holders: Array<number> = new Array(n).fill(0)
  for (let i = 0; i < n; i++) dependents[i] = EMPTY
  for (let j = 0; j < n; j++) {
    for (const i of waitsFor[j]!) {
      if (dependents[i] === EMPTY) dependents[i] = [j]
      else dependents[i]!.push(j)
    }
    for (const i of dataDeps[j]!) holders[i]!++
  }

  // Kahn's algorithm, layer by layer
  const remaining = new Array<number>(n)
  let current: Array<number> = []
  for (let i = 0; i < n; i++) {
    remaining[i] = waitsFor[i]!.length
    if (remaining[i] === 0) current.push(i)
  }
  const layers: Array<Array<number>> = []
  let placed = 0
  while (current.length > 0) {
    layers.push(current)
    placed += current.length
    const next: Array<number> = []
    for (const i of current) {
      for (const j of dependents[i]!) {
        if (--remaining[j]! === 0) next.push(j)
      }
    }
    current = next
  }
  if (placed < n) return Either.left(new GraphError.CycleError({ path: findCycle(remaining, waitsFor, tasks) }))

  const taskNames = tasks.map((t) => t.name)
  let dataEdges: Array<DataEdge> | undefined
  let precedenceEdges: Array<PrecedenceEdge> | undefined
  return Either.right({
    source,
    n,
    tasks,
    names: taskNames,
    dataDeps,
    waitsFor,
    dependents,
    holders,
    externalTags,
    external: Array.from(external, ([tag, { requiredBy, tagObject }]) => ({ tag, requiredBy, tagObject })),
    providerByKey,
    layers,
    get dataEdges() {
      if (dataEdges === undefined) {
        dataEdges = []
        for (let i = 0; i < n; i++) {
          const deps = dataDeps[i]!
          for (let k = 0; k < deps.length; k++) {
            dataEdges.push({ from: taskNames[deps[k]!]!, to: taskNames[i]!, tag: tasks[deps[k]!]!.provides!.key })
          }
        }
      }
      return dataEdges
    },
    get precedenceEdges() {
      if (precedenceEdges === undefined) {
        precedenceEdges = []
        for (let k = 0; k < precedencePairs.length; k += 2) {
          precedenceEdges.push({ before: taskNames[precedencePairs[k]!]!, after: taskNames[precedencePairs[k + 1]!]! })
        }
      }
      return precedenceEdges
    },
    poolWeights
  })
}

/**
 * Among the tasks Kahn's algorithm could not place (remaining > 0), walk
 * "waits for" edges until a task repeats: that loop is a cycle. Reported in
 * execution order: `a -> b` means a must finish before b.
 */
const findCycle = (
  remaining: ReadonlyArray<number>,
  waitsFor: ReadonlyArray<ReadonlyArray<number>>,
  tasks: ReadonlyArray<Task.Any>
): Array<string> => {
  let start = remaining.findIndex((r) => r > 0)
  const seenAt = new Map<number, number>()
  const walk: Array<number> = []
  while (!seenAt.has(start)) {
    seenAt.set(start, walk.length)
    walk.push(start)
    // every unplaced task waits for at least one other unplaced task
    start = waitsFor[start]!.find((j) => remaining[j]! > 0)!
  }
  const loop = walk.slice(seenAt.get(start)!)
  loop.push(start)
  // walk followed "waits for" edges (b waits for a); reverse to read in execution order
  return loop.reverse().map((i) => tasks[i]!.name)
}

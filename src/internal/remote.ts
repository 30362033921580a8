/**
 * The submitter's side of a remote run: the same graph, each task's run
 * replaced by the execution of its task workflow on the runners (see
 * `cluster.ts`). The scheduler, reporters and exit codes are today's.
 *
 * @internal
 */
import type * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Context, Effect, Exit, Schema } from "effect"
import * as Task from "../Task.js"
import type * as TaskGraph from "../TaskGraph.js"
import { decodeJson, encodeJson, type Outcome, providers, TaskWorkflow, type TaskPayload } from "./cluster.js"
import { copyGraph } from "./graphRuns.js"
import { outputLine } from "./taskHooks.js"

export interface RemoteOptions {
  readonly runId: string
  readonly fingerprint: string
  /** the store, as messages name it */
  readonly location: string
  readonly engine: Context.Context<WorkflowEngine.WorkflowEngine>
  /** resource groups: each member to its group's members (the same array for every member) */
  readonly groups: ReadonlyMap<string, ReadonlyArray<string>>
}

const schemaOf = (task: Task.Task.Any): Schema.Schema<unknown, unknown> =>
  (task.schema ?? Schema.Undefined) as Schema.Schema<unknown, unknown>

/** What the report says about where a task ran. */
const whereLines = (outcome: Outcome): ReadonlyArray<string> => {
  const lines = [`ran on runner ${outcome.ranOn}`]
  if (outcome.died.length > 0) {
    lines.push(
      `ran again: runner ${outcome.died.join(", then ")} died while running it (delivery is at least once)`
    )
  }
  return lines
}

/**
 * The first attempt with no stored failure: a task that failed (or whose
 * runner refused it) in an earlier submit runs again under a new attempt.
 */
const openAttempt = (payload: (attempt: number) => TaskPayload) =>
  Effect.gen(function*() {
    for (let attempt = 1;; attempt++) {
      const id = yield* TaskWorkflow.executionId(payload(attempt))
      const polled = yield* TaskWorkflow.poll(id)
      if (polled === undefined || polled._tag === "Suspended") return { attempt, stored: undefined }
      if (Exit.isSuccess(polled.exit) && polled.exit.value.result._tag === "Success") {
        return { attempt, stored: polled.exit.value }
      }
    }
  })

/** What a task's run does with its outcome: the lines it shows, and (for a group) handing it to the members. */
interface Target {
  readonly task: Task.Task.Any
  /** the tags whose values go to the runner (a group: its inputs from outside the group) */
  readonly inputs: ReadonlyArray<Task.AnyTag>
  readonly group: ReadonlyArray<string> | undefined
  readonly onOutcome: (outcome: Outcome, restored: boolean) => void
}

const replay = (outcome: Outcome, task: string, restored: boolean, location: string, runId: string, attempt: number) =>
  Effect.gen(function*() {
    if (restored) {
      // with spans on, the task's span says its body did not run again (a no-op without a span)
      yield* Effect.annotateCurrentSpan({ "taskgraph.restored": true, "taskgraph.restored.attempt": attempt })
      return yield* Task.output(
        `restored from ${location} (run ${runId}, attempt ${attempt}, ran on runner ${outcome.ranOn}): not run again`,
        "log"
      )
    }
    // the runner's lines come back with the result: they are not live
    for (const { level, line, stream, task: from } of outcome.output) {
      if ((from ?? task) === task) yield* outputLine(stream, line, level)
    }
    for (const line of whereLines(outcome)) yield* Task.output(line, "log")
  })

const remoteRun = (graph: TaskGraph.TaskGraph.Any, options: RemoteOptions, target: Target) => {
  const byTag = providers(graph)
  const { task } = target
  const body = Effect.gen(function*() {
    const inputs = yield* Effect.forEach(target.inputs, (tag) =>
      Effect.gen(function*() {
        const provider = byTag.get(tag.key)!
        const json = yield* encodeJson(schemaOf(provider), yield* tag)
        return { tag: tag.key, json: json ?? "null" }
      }))
    const payload = (attempt: number): TaskPayload => ({
      graph: graph.name,
      runId: options.runId,
      task: task.name,
      attempt,
      fingerprint: options.fingerprint,
      inputs,
      group: target.group
    })
    const open = yield* openAttempt(payload)
    const outcome = open.stored ?? (yield* TaskWorkflow.execute(payload(open.attempt)))
    target.onOutcome(outcome, open.stored !== undefined)
    yield* replay(outcome, task.name, open.stored !== undefined, options.location, options.runId, open.attempt)
    if (open.stored === undefined && target.group !== undefined) {
      yield* Task.output(`ran its resource group (${target.group.join(", ")}) as one unit on runner ${outcome.ranOn}`, "log")
    }
    const result = outcome.result
    if (result._tag === "Success") return yield* decodeJson(schemaOf(task), result.json)
    if (result.error !== undefined && task.errorSchema !== undefined) {
      return yield* Effect.flatMap(decodeJson(task.errorSchema as Schema.Schema<unknown, unknown>, result.error), Effect.fail)
    }
    return yield* Effect.die(new Error(result.message))
  })
  return Effect.mapInputContext(body, (context: Context.Context<never>) => Context.merge(context, options.engine))
}

/**
 * The graph whose tasks run on the cluster's runners. A resource group runs
 * as one task workflow, started by its first member (which takes the
 * group's inputs from outside it); the other members follow it and show
 * their part of its outcome.
 */
export const remoteGraph = <E, R, P>(graph: TaskGraph.TaskGraph<E, R, P>, options: RemoteOptions) => {
  const byName = new Map(graph.tasks.map((t) => [t.name, t]))
  const byTag = providers(graph)
  const outcomes = new Map<string, { readonly outcome: Outcome; readonly restored: boolean }>()
  const sent = (tags: ReadonlyArray<Task.AnyTag>, inGroup?: ReadonlySet<string>) => {
    const seen = new Set<string>()
    return tags.filter((tag) => {
      const provider = byTag.get(tag.key)
      // a tag from outside the graph is the runner's business; one from inside the group stays there
      if (provider === undefined || inGroup?.has(provider.name) || seen.has(tag.key)) return false
      seen.add(tag.key)
      return true
    })
  }
  const sameGroup = (a: Task.Task.Any, b: Task.Task.Any) => {
    const g = options.groups.get(a.name)
    return g !== undefined && g === options.groups.get(b.name)
  }
  return copyGraph(graph, (task) => {
    const members = options.groups.get(task.name)
    if (members === undefined) {
      return { run: remoteRun(graph, options, { task, inputs: sent(task.requires), group: undefined, onOutcome: () => {} }) }
    }
    const inGroup = new Set(members)
    const root = byName.get(members[0]!)!
    if (task === root) {
      const inputs = sent(members.flatMap((m) => byName.get(m)!.requires), inGroup)
      return {
        requires: inputs,
        after: task.after.filter((a) => !inGroup.has(a.name)),
        run: remoteRun(graph, options, {
          task,
          inputs,
          group: members,
          onOutcome: (outcome, restored) => outcomes.set(root.name, { outcome, restored })
        })
      }
    }
    const run = Effect.suspend(() => {
      const found = outcomes.get(root.name)
      if (found === undefined) return Effect.dieMessage(`the resource group of "${root.name}" did not run`)
      return Effect.as(
        Effect.zipRight(
          replay(found.outcome, task.name, found.restored, options.location, options.runId, 1),
          Task.output(`ran in the resource group of "${root.name}"`, "log")
        ),
        undefined
      )
    })
    return { requires: [], after: [...task.after.filter((a) => !inGroup.has(a.name)), root], run }
  }, { keepPrecedence: (a, b) => !sameGroup(a, b) })
}

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
import { withRuns } from "./graphRuns.js"

export interface RemoteOptions {
  readonly runId: string
  readonly fingerprint: string
  /** the store, as messages name it */
  readonly location: string
  readonly engine: Context.Context<WorkflowEngine.WorkflowEngine>
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

const remoteRun = (graph: TaskGraph.TaskGraph.Any, options: RemoteOptions, task: Task.Task.Any) => {
  const byTag = providers(graph)
  const body = Effect.gen(function*() {
    const inputs = yield* Effect.forEach(task.requires, (tag) =>
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
      inputs
    })
    const open = yield* openAttempt(payload)
    let outcome: Outcome
    if (open.stored !== undefined) {
      outcome = open.stored
      yield* Task.output(
        `restored from ${options.location} (run ${options.runId}, attempt ${open.attempt}, ran on runner ${outcome.ranOn}): not run again`,
        "log"
      )
    } else {
      outcome = yield* TaskWorkflow.execute(payload(open.attempt))
      // the runner's lines come back with the result: they are not live
      for (const { line, stream } of outcome.output) yield* Task.output(line, stream)
      for (const line of whereLines(outcome)) yield* Task.output(line, "log")
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

/** The graph whose tasks run on the cluster's runners. */
export const remoteGraph = <E, R, P>(graph: TaskGraph.TaskGraph<E, R, P>, options: RemoteOptions) =>
  withRuns(graph, (task) => remoteRun(graph, options, task))

/**
 * Errors a task can fail with besides its own: a timeout, and the use of a
 * service another task provides without declaring it in `requires`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const slow = Task.make("slow", { timeout: "1 second", run: Effect.never })
 * TaskGraph.run(TaskGraph.make("g", [slow])).pipe(
 *   Effect.catchTag("RunFailedError", (e) => Effect.log(e.message)) // … did not become ready within 1s …
 * )
 * ```
 *
 * @since 0.1.0
 */
import { Cause, Data } from "effect"
import type * as RunReport from "./RunReport.js"
import * as Text from "./internal/reporter/text.js"
import { errorText } from "./internal/errorText.js"

/**
 * A task did not become ready within its `timeout` (retries included).
 *
 * @example
 * ```ts
 * import { TaskError } from "effect-taskgraph"
 * new TaskError.TaskTimeoutError({ task: "wait for ssh", timeout: "30s" }).message
 * ```
 * @since 0.1.0
 * @category errors
 */
export class TaskTimeoutError extends Data.TaggedError("TaskTimeoutError")<{
  readonly task: string
  /** the limit, formatted (e.g. "10m") */
  readonly timeout: string
}> {
  override get message() {
    return `task "${this.task}" did not become ready within ${this.timeout} (its timeout); ` +
      `raise "timeout" in Task.make if it is just slow, or look at its output for why it hangs.`
  }
}

/**
 * A task used a service that another task of the graph provides, without
 * listing its tag in `requires` (so it could not wait for it).
 *
 * @example
 * ```ts
 * import { TaskError } from "effect-taskgraph"
 * new TaskError.UndeclaredDependencyError({ task: "run tests", tag: "Vm", provider: "start vm" }).message
 * ```
 * @since 0.1.0
 * @category errors
 */
export class UndeclaredDependencyError extends Data.TaggedError("UndeclaredDependencyError")<{
  readonly task: string
  readonly tag: string
  readonly provider: string
}> {
  override get message() {
    return `task "${this.task}" uses "${this.tag}" (provided by task "${this.provider}") without declaring it: ` +
      `add it to the task's requires: [${this.tag}, …].`
  }
}

/**
 * A task that failed, and why.
 *
 * @example
 * ```ts
 * import { Cause, Effect } from "effect"
 * import { TaskGraph } from "effect-taskgraph"
 * import type { TaskError } from "effect-taskgraph"
 *
 * declare const graph: TaskGraph.TaskGraph<string>
 * const describe = (failure: TaskError.TaskFailure<string>) => `${failure.task} (${failure.during}): ${Cause.pretty(failure.cause)}`
 * const program = TaskGraph.run(graph).pipe(Effect.catchTag("RunFailedError", (e) => Effect.log(e.failures.map(describe))))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskFailure<E> {
  readonly task: string
  readonly cause: Cause.Cause<E | TaskTimeoutError | UndeclaredDependencyError>
  /**
   * `"release"` when the task succeeded and then a finalizer of its
   * resources died (`cause` is that defect); `"run"` when the task itself
   * failed (a finalizer that died after that is in `cause` too, after the
   * task's own failure).
   *
   * @since 0.1.0
   */
  readonly during: "run" | "release"
}

/**
 * A run in which at least one task failed. It carries the full report and
 * each failure's `Cause`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task, TaskGraph } from "effect-taskgraph"
 *
 * const boom = Task.make("boom", { run: Effect.fail("no disk space") })
 * TaskGraph.run(TaskGraph.make("g", [boom])).pipe(
 *   Effect.catchTag("RunFailedError", (e) => Effect.log(e.failures[0]!.task, e.report.status))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RunFailedError<E = unknown> extends Data.TaggedError("RunFailedError")<{
  readonly report: RunReport.RunReport
  readonly failures: ReadonlyArray<TaskFailure<E>>
}> {
  override get message() {
    const first = this.failures[0]
    const skipped = this.report.tasks.filter((t) => t.status === "skipped").length
    const head = first === undefined
      ? `graph "${this.report.graph}" failed`
      : `graph "${this.report.graph}" failed: task "${first.task}" ${describe(first)}`
    const more = this.failures.length > 1 ? `; ${Text.count(this.failures.length - 1, "more task")} failed` : ""
    return head + more + (skipped > 0 ? `; ${Text.count(skipped, "task")} skipped` : "")
  }
}

const describe = (failure: TaskFailure<unknown>): string => {
  const text = errorText(Cause.squash(failure.cause))
  return failure.during === "release" ? `failed to release its resources: ${text}` : `failed: ${text}`
}


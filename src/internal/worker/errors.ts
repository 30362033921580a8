/**
 * The errors of worker pools. Defined here (not in `WorkerPool.ts`) so the
 * internal thread code can raise them without an import cycle; `WorkerPool`
 * re-exports them.
 *
 * @internal
 */
import { Data } from "effect"

/**
 * A worker thread did not start: its entry is missing or threw while loading,
 * it never called `WorkerThread.serve`, its layer failed, or it was not ready
 * within `startTimeout`. The pool (or the request that needed a replacement
 * thread) fails with it instead of retrying forever.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { WorkerPool } from "effect-taskgraph/workers"
 *
 * const pool = WorkerPool.make({ entry: new URL("./missing.ts", import.meta.url) }).pipe(
 *   Effect.catchTag("WorkerStartError", (e) => Effect.logError(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 */
export class WorkerStartError extends Data.TaggedError("WorkerStartError")<{
  /** The worker's entry module (a file URL). */
  readonly entry: string
  /** What went wrong, in words. */
  readonly reason: string
  /** The error raised in the worker, if any (message and stack of the worker side). */
  readonly cause?: unknown
}> {
  override get message(): string {
    return `worker thread for ${this.entry} failed to start: ${this.reason}. ` +
      `Check that the file exists, loads without throwing, and calls ` +
      `WorkerThread.serve(...).pipe(WorkerThread.launch).`
  }
}

/**
 * A request failed inside the worker with a defect (a thrown exception or
 * `Effect.die`) rather than a failure declared in its schema. `stack` is the
 * stack of the worker side.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 *
 * // pool.execute(new Hash({ path })).pipe(
 * //   Effect.catchTag("WorkerTaskError", (e) => Effect.logError(e.stack))
 * // )
 * ```
 *
 * @since 0.1.0
 */
export class WorkerTaskError extends Data.TaggedError("WorkerTaskError")<{
  /** The `_tag` of the request that failed. */
  readonly request: string
  /** The `name` of the error raised in the worker. */
  readonly errorName: string
  /** The message of the error raised in the worker. */
  readonly errorMessage: string
  /** The stack of the error raised in the worker, if it had one. */
  readonly workerStack: string | undefined
  /** The worker thread's `threadId`. */
  readonly threadId: number
}> {
  constructor(args: {
    readonly request: string
    readonly errorName: string
    readonly errorMessage: string
    readonly workerStack: string | undefined
    readonly threadId: number
  }) {
    super(args)
    if (args.workerStack !== undefined) {
      // The worker's stack is the useful one: show it where people look.
      this.stack = `${this.name}: ${this.message}\n--- in worker thread ${args.threadId} ---\n${args.workerStack}`
    }
  }
  override get message(): string {
    return `request ${this.request} failed in worker thread ${this.threadId}: ${this.errorName}: ${this.errorMessage}`
  }
}

/**
 * A worker thread exited (crashed, `process.exit`, out of memory, or was
 * terminated from outside) while it ran a request. The thread is replaced.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 *
 * // retry once on a crashed thread, not on the request's own failures:
 * // pool.execute(req).pipe(Effect.retry({ times: 1, while: (e) => e._tag === "WorkerCrashError" }))
 * ```
 *
 * @since 0.1.0
 */
export class WorkerCrashError extends Data.TaggedError("WorkerCrashError")<{
  readonly request: string
  readonly threadId: number
  readonly exitCode: number
  /** The last uncaught error of the thread, if any. */
  readonly cause?: unknown
}> {
  override get message(): string {
    const detail = this.cause instanceof Error ? `: ${this.cause.message}` : ""
    return `worker thread ${this.threadId} exited with code ${this.exitCode} while running request ${this.request}${detail}`
  }
}

/**
 * A request or its result could not be encoded or decoded with its schema.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 *
 * // pool.execute(req).pipe(Effect.catchTag("WorkerProtocolError", (e) => Effect.die(e)))
 * ```
 *
 * @since 0.1.0
 */
export class WorkerProtocolError extends Data.TaggedError("WorkerProtocolError")<{
  readonly request: string
  /** Which step failed. */
  readonly step: "encode request" | "decode result" | "decode failure"
  readonly cause: unknown
}> {
  override get message(): string {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `could not ${this.step} of ${this.request}: ${detail}. ` +
      `The request class, its success and failure schemas must be the same in both threads.`
  }
}

/**
 * The pool's scope was closed before (or while) the request ran.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 *
 * // pool.execute(req).pipe(Effect.catchTag("WorkerPoolClosedError", () => Effect.succeed(undefined)))
 * ```
 *
 * @since 0.1.0
 */
export class WorkerPoolClosedError extends Data.TaggedError("WorkerPoolClosedError")<{
  readonly request: string
  readonly entry: string
}> {
  override get message(): string {
    return `request ${this.request} was not run: the worker pool for ${this.entry} is closed ` +
      `(keep the pool's scope open, e.g. require the task that provides it, until its users finish)`
  }
}

/**
 * A request went wrong between the pool and its thread while the pool was
 * open and the thread alive: a defect on the way there or back, e.g. the
 * encoded request could not be posted to the thread (a `DataCloneError`:
 * a function or symbol in a `Schema.Unknown` field). Not a closed pool,
 * not a crash: the thread keeps serving other requests.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 *
 * // pool.execute(req).pipe(Effect.catchTag("WorkerDefectError", (e) => Effect.logError(e.message)))
 * ```
 *
 * @since 0.1.0
 */
export class WorkerDefectError extends Data.TaggedError("WorkerDefectError")<{
  readonly request: string
  readonly threadId: number
  /** The defect (usually an `Error` thrown by `postMessage`). */
  readonly cause: unknown
}> {
  override get message(): string {
    const detail = this.cause instanceof Error ? `${this.cause.name}: ${this.cause.message}` : String(this.cause)
    return `request ${this.request} could not be exchanged with worker thread ${this.threadId}: ${detail}. ` +
      `The pool is open and the thread alive; the encoded request and its result must be structured-cloneable ` +
      `(no functions or symbols, e.g. in a Schema.Unknown field).`
  }
}

/**
 * Everything a pool's `execute` can fail with besides the request's own failure.
 *
 * @since 0.1.0
 */
export type WorkerPoolError =
  | WorkerStartError
  | WorkerTaskError
  | WorkerCrashError
  | WorkerProtocolError
  | WorkerDefectError
  | WorkerPoolClosedError

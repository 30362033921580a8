/**
 * A pool of worker threads for CPU-bound work, as a scoped resource, with
 * Schema-typed requests (`Schema.TaggedRequest`).
 *
 * - Sized to the machine's cores by default; every request runs on one idle
 *   thread; callers wait (fairly) for a free thread.
 * - Interrupting a caller whose request is busy in a thread stops the CPU
 *   work: the thread is asked to cancel, and if it has not answered within
 *   `interruptGrace` (10 ms) it is terminated and replaced. The interruption
 *   returns once the thread has exited.
 * - A thread that does not start fails the pool (or the request that waited
 *   for a replacement) with `WorkerStartError`; nothing retries forever.
 * - A computation's failure fails that call: the request's own typed failure
 *   (decoded with its schema, with the worker-side stack), or
 *   `WorkerTaskError` for a defect (message and worker stack).
 * - Closing the pool's scope stops every thread: idle threads close cleanly,
 *   busy ones are terminated, and the scope's release returns after all of
 *   them have exited.
 * - Entries may be TypeScript when running under `tsx`: the thread is booted
 *   through a small `.mjs` that registers tsx inside it (Node 20's loader
 *   hooks do not reach worker threads).
 *
 * In a graph, a task provides the pool: it is shared by the tasks that
 * require it and closed when they are done.
 *
 * @example
 * ```ts
 * import { Context, Effect, Schema } from "effect"
 * import { Task } from "effect-taskgraph"
 * import { WorkerPool } from "effect-taskgraph/workers"
 *
 * // the request type, shared with the worker entry hash.worker.ts (see WorkerThread.serve)
 * class Sha256 extends Schema.TaggedRequest<Sha256>()("Sha256", {
 *   failure: Schema.Never,
 *   success: Schema.String,
 *   payload: { text: Schema.String }
 * }) {}
 *
 * class Hashers extends Context.Tag("Hashers")<Hashers, WorkerPool.WorkerPool<Sha256>>() {}
 *
 * const pool = Task.make("worker pool", {
 *   provides: Hashers,
 *   run: WorkerPool.make<Sha256>({ entry: new URL("./hash.worker.ts", import.meta.url) })
 * })
 * const hash = Task.make("hash", {
 *   requires: [Hashers],
 *   run: Effect.flatMap(Hashers, (pool) => pool.execute(new Sha256({ text: "hello" })))
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Context, Scope } from "effect"
import { Cause, Duration, Effect, Exit, FiberSet, Layer, LogLevel, Option, type ParseResult, Queue, Runtime, Schema } from "effect"
import type { Schema as S } from "effect"
import * as os from "node:os"
import type * as WT from "node:worker_threads"
import {
  type WorkerPoolError,
  WorkerDefectError,
  WorkerPoolClosedError,
  WorkerProtocolError,
  WorkerStartError,
  WorkerTaskError
} from "./internal/worker/errors.js"
import type { LogLine, Reply } from "./internal/worker/protocol.js"
import * as Thread from "./internal/worker/thread.js"

export {
  /**
   * The worker thread running a request exited (crashed, or was terminated);
   * the pool replaces it.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { WorkerPool } from "effect-taskgraph/workers"
   *
   * declare const result: Effect.Effect<number, WorkerPool.WorkerPoolError>
   * result.pipe(Effect.catchTag("WorkerCrashError", (e) => Effect.logError(`thread ${e.threadId} exited with ${e.exitCode}`)))
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  WorkerCrashError
} from "./internal/worker/errors.js"
export type {
  /**
   * Every way running a request on the pool can fail, besides the request's own
   * failure.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { WorkerPool } from "effect-taskgraph/workers"
   *
   * const describe = (error: WorkerPool.WorkerPoolError): string => `${error._tag}: ${error.message}`
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  WorkerPoolError
} from "./internal/worker/errors.js"
export {
  /**
   * A request died inside the worker with a defect (a thrown exception or
   * `Effect.die`) rather than a failure its schema declares.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { WorkerPool } from "effect-taskgraph/workers"
   *
   * declare const result: Effect.Effect<number, WorkerPool.WorkerPoolError>
   * result.pipe(Effect.catchTag("WorkerDefectError", (e) => Effect.logError(`${e.request} died on thread ${e.threadId}`)))
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  WorkerDefectError
} from "./internal/worker/errors.js"
export {
  /**
   * A request was submitted to a pool whose scope has closed.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { WorkerPool } from "effect-taskgraph/workers"
   *
   * declare const result: Effect.Effect<number, WorkerPool.WorkerPoolError>
   * result.pipe(Effect.catchTag("WorkerPoolClosedError", (e) => Effect.logWarning(`${e.request}: the pool for ${e.entry} is closed`)))
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  WorkerPoolClosedError
} from "./internal/worker/errors.js"
export {
  /**
   * A request or its result could not be encoded or decoded with the request's schema.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { WorkerPool } from "effect-taskgraph/workers"
   *
   * declare const result: Effect.Effect<number, WorkerPool.WorkerPoolError>
   * result.pipe(Effect.catchTag("WorkerProtocolError", (e) => Effect.logError(`${e.request}: cannot ${e.step}`)))
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  WorkerProtocolError
} from "./internal/worker/errors.js"
export {
  /**
   * A worker thread of the pool did not start (its entry is missing, throws on
   * load, or never calls `serve`).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { WorkerPool } from "effect-taskgraph/workers"
   *
   * const pool = WorkerPool.make({ entry: new URL("./missing.worker.ts", import.meta.url) }).pipe(
   *   Effect.catchTag("WorkerStartError", (e) => Effect.logError(e.reason))
   * )
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  WorkerStartError
} from "./internal/worker/errors.js"
export {
  /**
   * A request failed inside the worker with an error its schema does not
   * describe; the worker side's name, message and stack are kept.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { WorkerPool } from "effect-taskgraph/workers"
   *
   * declare const result: Effect.Effect<number, WorkerPool.WorkerPoolError>
   * result.pipe(Effect.catchTag("WorkerTaskError", (e) => Effect.logError(e.errorName, e.errorMessage)))
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  WorkerTaskError
} from "./internal/worker/errors.js"

/**
 * A running pool of worker threads serving the requests `I` (a union of
 * `Schema.TaggedRequest` classes).
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { WorkerPool } from "effect-taskgraph/workers"
 *
 * class Fib extends Schema.TaggedRequest<Fib>()("Fib", { failure: Schema.Never, success: Schema.Number, payload: { n: Schema.Number } }) {}
 *
 * declare const pool: WorkerPool.WorkerPool<Fib>
 * const fib30 = pool.execute(new Fib({ n: 30 })) // Effect<number, WorkerPoolError>
 * const threads = pool.threadIds
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface WorkerPool<in I extends S.TaggedRequest.All> {
  /** The worker entry module (a file URL). */
  readonly entry: string
  /** How many threads the pool keeps. */
  readonly size: number
  /**
   * Runs one request on a free thread and decodes its result. Fails with the
   * request's own failure type, or a `WorkerPoolError`.
   */
  readonly execute: <Req extends I>(
    request: Req
  ) => Effect.Effect<
    S.WithResult.Success<Req>,
    S.WithResult.Failure<Req> | WorkerPoolError,
    S.SerializableWithResult.Context<Req>
  >
  /** The `threadId`s of the live threads (diagnostics). */
  readonly threadIds: Effect.Effect<ReadonlyArray<number>>
}

/**
 * How to build a pool.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "effect-taskgraph/workers"
 *
 * const options: WorkerPool.Options = { entry: new URL("./fib.worker.ts", import.meta.url), size: 4, startTimeout: "10 seconds" }
 * const pool = WorkerPool.make(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The worker's entry module: a `URL` (e.g. `new URL("./w.ts", import.meta.url)`),
   * a `file:` URL string or a path. `.ts` entries are booted through tsx.
   */
  readonly entry: URL | string
  /** Number of threads. Default: `os.availableParallelism()`. */
  readonly size?: number | undefined
  /** A thread that is not ready by then fails to start. Default: 30 seconds. */
  readonly startTimeout?: Duration.DurationInput | undefined
  /**
   * How long an interrupted request's thread may take to acknowledge the
   * cancellation before it is terminated and replaced. A thread whose event
   * loop is free (its handler awaits something) answers in about a
   * millisecond and is kept; a busy one cannot answer. Default: 10 millis;
   * `0` terminates at once.
   */
  readonly interruptGrace?: Duration.DurationInput | undefined
  /** How long an idle thread may take to close cleanly when the pool closes. Default: 2 seconds. */
  readonly closeTimeout?: Duration.DurationInput | undefined
  /** A name for the threads (shown in debuggers). Default: the entry's file name. */
  readonly name?: string | undefined
  /** V8 resource limits for each thread. */
  readonly resourceLimits?: WT.ResourceLimits | undefined
}

type Slot =
  | { readonly _tag: "Thread"; readonly thread: Thread.Thread }
  | { readonly _tag: "Broken"; readonly error: WorkerStartError }
  | { readonly _tag: "Closed" }

/**
 * Starts a pool of worker threads in the current scope. Fails with
 * `WorkerStartError` if any thread does not start; closing the scope stops
 * all threads (and fails requests still waiting with `WorkerPoolClosedError`).
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { WorkerPool } from "effect-taskgraph/workers"
 *
 * // the request type, shared with the worker entry fib.worker.ts (see WorkerThread.serve)
 * class Fib extends Schema.TaggedRequest<Fib>()("Fib", {
 *   failure: Schema.Never,
 *   success: Schema.Number,
 *   payload: { n: Schema.Number }
 * }) {}
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const pool = yield* WorkerPool.make<Fib>({ entry: new URL("./fib.worker.ts", import.meta.url), size: 2 })
 *     return yield* Effect.forEach([30, 31, 32, 33], (n) => pool.execute(new Fib({ n })), {
 *       concurrency: "unbounded"
 *     })
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <I extends S.TaggedRequest.All>(
  options: Options
): Effect.Effect<WorkerPool<I>, WorkerStartError, Scope.Scope> =>
  Effect.gen(function*() {
    const entryUrl = Thread.entryUrl(options.entry)
    const entry = entryUrl.href
    const size = Math.max(1, Math.floor(options.size ?? os.availableParallelism()))
    const grace = Duration.toMillis(Duration.decode(options.interruptGrace ?? "10 millis"))
    const closeTimeout = Duration.decode(options.closeTimeout ?? "2 seconds")
    const spawnOptions: Thread.SpawnOptions = {
      entry: entryUrl,
      name: options.name ?? (entryUrl.pathname.split("/").pop() ?? "worker"),
      startTimeout: Duration.decode(options.startTimeout ?? "30 seconds"),
      resourceLimits: options.resourceLimits
    }

    const threads = new Set<Thread.Thread>()
    const idle = yield* Queue.unbounded<Slot>()
    let closed = false
    let nextId = 0

    const startThread = Thread.spawn(spawnOptions).pipe(
      Effect.tap((thread) => Effect.sync(() => threads.add(thread)))
    )
    const stopThread = (thread: Thread.Thread, how: "close" | "terminate") =>
      (how === "close" ? Thread.close(thread, closeTimeout) : Thread.terminate(thread)).pipe(
        Effect.ensuring(Effect.sync(() => threads.delete(thread)))
      )

    // Replacement threads start in the background, in the pool's scope.
    const replacements = yield* FiberSet.make<void>()
    const replace = Effect.suspend(() =>
      closed ? Effect.void : FiberSet.run(
        replacements,
        Effect.interruptible(
          startThread.pipe(
            Effect.matchEffect({
              onFailure: (error) => idle.offer({ _tag: "Broken", error }),
              onSuccess: (thread) => closed ? stopThread(thread, "terminate") : idle.offer({ _tag: "Thread", thread })
            })
          )
        )
      )
    ).pipe(Effect.asVoid)

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        closed = true
        yield* idle.offer({ _tag: "Closed" })
        yield* FiberSet.clear(replacements)
        yield* Effect.forEach(
          [...threads],
          (thread) => stopThread(thread, thread.pending === undefined ? "close" : "terminate"),
          { concurrency: "unbounded", discard: true }
        )
      })
    )

    const initial = yield* Effect.forEach(Array.from({ length: size }), () => startThread, {
      concurrency: "unbounded"
    })
    yield* idle.offerAll(initial.map((thread) => ({ _tag: "Thread", thread }) as const))

    const closedError = (request: string) => new WorkerPoolClosedError({ request, entry })

    const take = (request: string): Effect.Effect<Thread.Thread, WorkerStartError | WorkerPoolClosedError> =>
      Effect.suspend(() => closed ? Effect.fail(closedError(request)) : Queue.take(idle)).pipe(
        Effect.flatMap((slot): Effect.Effect<Thread.Thread, WorkerStartError | WorkerPoolClosedError> => {
          switch (slot._tag) {
            case "Thread":
              // a thread that died while idle: replace it and wait for another
              return Thread.isExited(slot.thread)
                ? Effect.zipRight(
                  Effect.zipRight(Effect.sync(() => threads.delete(slot.thread)), replace),
                  take(request)
                )
                : Effect.succeed(slot.thread)
            case "Broken":
              return Effect.zipRight(idle.offer(slot), Effect.fail(slot.error))
            case "Closed":
              return Effect.zipRight(idle.offer(slot), Effect.fail(closedError(request)))
          }
        })
      )

    /** After an interrupted call: let the thread acknowledge, or terminate and replace it. */
    const abandon = (thread: Thread.Thread, pending: Thread.Pending): Effect.Effect<void> =>
      Effect.gen(function*() {
        Thread.cancel(thread, pending.id)
        const answered = grace > 0 ? yield* Thread.awaitReplyWithin(pending, grace) : Option.none()
        if (Option.isSome(answered) && Exit.isSuccess(answered.value) && !closed) {
          yield* idle.offer({ _tag: "Thread", thread })
          return
        }
        thread.pending = undefined
        yield* stopThread(thread, "terminate")
        yield* replace
      })

    const execute = <Req extends I>(request: Req) => {
      const tag = request._tag
      return Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const payload = yield* Schema.serialize(request).pipe(
            Effect.mapError((cause) => new WorkerProtocolError({ request: tag, step: "encode request", cause }))
          )
          // what the handler logs is logged here, by the caller, at its level: inside a task it is the
          // task's output (annotated task=…), as the task's own lines; synchronously, so in order
          const runLog = Runtime.runFork(yield* Effect.runtime<never>())
          const onLog = (log: LogLine) => {
            runLog(Effect.logWithLevel(LogLevel.fromLiteral(log.level ?? "Info"), log.line))
          }
          const thread = yield* restore(take(tag))
          const pending = Thread.send(thread, nextId++, tag, payload, onLog)
          const exit = yield* Effect.exit(restore(Thread.awaitReply(pending)))
          if (Exit.isSuccess(exit)) {
            yield* idle.offer({ _tag: "Thread", thread })
            return yield* decodeReply(request, thread.threadId, exit.value)
          }
          if (Cause.isInterrupted(exit.cause)) {
            yield* abandon(thread, pending)
            return yield* Effect.failCause(exit.cause)
          }
          // the thread exited while running the request (or the request could not be posted to it)
          if (Thread.isExited(thread)) {
            threads.delete(thread)
            yield* replace
          } else {
            yield* idle.offer({ _tag: "Thread", thread })
          }
          if (closed) return yield* Effect.fail(closedError(tag))
          const crash = Cause.failureOption(exit.cause)
          if (Option.isSome(crash)) return yield* Effect.fail(crash.value)
          // a defect while the pool is open (e.g. the request could not be posted): its own error
          return yield* Effect.fail(
            new WorkerDefectError({ request: tag, threadId: thread.threadId, cause: Cause.squash(exit.cause) })
          )
        })
      )
    }

    return {
      entry,
      size,
      execute,
      threadIds: Effect.sync(() => [...threads].filter((t) => !Thread.isExited(t)).map((t) => t.threadId))
    } as WorkerPool<I>
  })

/** A request seen only through its result schemas (what decoding needs). */
type ResultOf<Req> = S.WithResult<S.WithResult.Success<Req>, unknown, S.WithResult.Failure<Req>, unknown, never>

const decodeReply = <Req extends S.TaggedRequest.All>(
  request: Req,
  threadId: number,
  reply: Reply
): Effect.Effect<S.WithResult.Success<Req>, S.WithResult.Failure<Req> | WorkerPoolError> => {
  const tag = request._tag
  const withResult = request as unknown as ResultOf<Req>
  switch (reply._tag) {
    case "Success":
      return Schema.deserializeSuccess(withResult, reply.value).pipe(
        Effect.mapError((cause) => new WorkerProtocolError({ request: tag, step: "decode result", cause }))
      )
    case "Failure":
      return Schema.deserializeFailure(withResult, reply.error).pipe(
        Effect.mapError((cause: ParseResult.ParseError) =>
          new WorkerProtocolError({ request: tag, step: "decode failure", cause })
        ),
        Effect.flatMap((error) => {
          const value: unknown = error
          if (value instanceof Error && reply.stack !== undefined) {
            value.stack = `${reply.stack}\n--- in worker thread ${threadId} ---`
          }
          return Effect.fail(error)
        })
      )
    case "Defect":
      return Effect.fail(
        new WorkerTaskError({
          request: tag,
          errorName: reply.error.name,
          errorMessage: reply.error.message,
          workerStack: reply.error.stack,
          threadId
        })
      )
    case "Interrupted":
      return Effect.fail(
        new WorkerTaskError({
          request: tag,
          errorName: "Interrupted",
          errorMessage: "the request was interrupted inside the worker",
          workerStack: undefined,
          threadId
        })
      )
  }
}

/**
 * A layer that provides a pool under `tag` for the layer's lifetime.
 *
 * @example
 * ```ts
 * import { Context, Effect, Schema } from "effect"
 * import { WorkerPool } from "effect-taskgraph/workers"
 *
 * // the request type, shared with the worker entry fib.worker.ts (see WorkerThread.serve)
 * class Fib extends Schema.TaggedRequest<Fib>()("Fib", {
 *   failure: Schema.Never,
 *   success: Schema.Number,
 *   payload: { n: Schema.Number }
 * }) {}
 *
 * class Fibs extends Context.Tag("Fibs")<Fibs, WorkerPool.WorkerPool<Fib>>() {}
 *
 * const FibsLive = WorkerPool.layer(Fibs, { entry: new URL("./fib.worker.ts", import.meta.url) })
 * const program = Effect.flatMap(Fibs, (pool) => pool.execute(new Fib({ n: 30 }))).pipe(Effect.provide(FibsLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <Id, I extends S.TaggedRequest.All>(
  tag: Context.Tag<Id, WorkerPool<I>>,
  options: Options
): Layer.Layer<Id, WorkerStartError> => Layer.scoped(tag, make<I>(options))

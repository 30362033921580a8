/**
 * The inside of a worker thread: serve Schema-typed requests sent by a
 * `WorkerPool`. The worker's entry module calls `serve` with the union of
 * its request classes and one handler per request tag, then `launch`es it.
 *
 * Import this module (not the package's main entry) in worker files so a
 * thread loads only what it needs.
 *
 * @example
 * ```ts
 * // hash.worker.ts
 * import { Effect, Schema } from "effect"
 * import { WorkerThread } from "effect-taskgraph/workers"
 * import { createHash } from "node:crypto"
 *
 * export class Sha256 extends Schema.TaggedRequest<Sha256>()("Sha256", {
 *   failure: Schema.Never,
 *   success: Schema.String,
 *   payload: { text: Schema.String }
 * }) {}
 *
 * WorkerThread.serve(Sha256, {
 *   Sha256: ({ text }) => Effect.sync(() => createHash("sha256").update(text).digest("hex"))
 * }).pipe(WorkerThread.launch)
 * ```
 *
 * @since 0.1.0
 */
import type { Schema as S } from "effect"
import { Cause, Deferred, Effect, Exit, Fiber, FiberRef, HashSet, Logger, Option, type ParseResult, Runtime, Schema } from "effect"
import { parentPort, workerData } from "node:worker_threads"
import type { FromWorker, Reply, ToWorker } from "./internal/worker/protocol.js"
import { encodeError, isToWorker, poolThreadKey } from "./internal/worker/protocol.js"
import { prettyCause } from "./internal/errorText.js"
import { levelOf, lineOf } from "./internal/taskLogging.js"

/**
 * One handler per request tag. A handler gets the decoded request and returns
 * an Effect with the request's success and failure types; it may need
 * services (provide them around `serve`, e.g. with `Effect.provide(layer)`).
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { WorkerThread } from "effect-taskgraph/workers"
 *
 * class Fib extends Schema.TaggedRequest<Fib>()("Fib", { failure: Schema.String, success: Schema.Number, payload: { n: Schema.Number } }) {}
 *
 * const handlers: WorkerThread.Handlers<Fib> = {
 *   Fib: ({ n }) => (n < 0 ? Effect.fail("n must be >= 0") : Effect.succeed(n * 2))
 * }
 * const serving = WorkerThread.serve(Fib, handlers)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Handlers<A extends S.TaggedRequest.All> = {
  readonly [K in A["_tag"]]: (
    request: Extract<A, { readonly _tag: K }>
  ) => Effect.Effect<
    S.WithResult.Success<Extract<A, { readonly _tag: K }>>,
    S.WithResult.Failure<Extract<A, { readonly _tag: K }>>,
    // handlers may use any service: the union is inferred below
    unknown
  >
}

/**
 * What a set of handlers needs from its context.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import type { WorkerThread } from "effect-taskgraph/workers"
 *
 * class Cache extends Context.Tag("Cache")<Cache, { readonly get: (key: string) => number }>() {}
 *
 * const handlers = { Lookup: ({ key }: { readonly key: string }) => Effect.map(Cache, (cache) => cache.get(key)) }
 * type Needs = WorkerThread.HandlersContext<typeof handlers> // Cache
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type HandlersContext<H> = {
  readonly [K in keyof H]: H[K] extends (...args: ReadonlyArray<never>) => Effect.Effect<infer _A, infer _E, infer R> ? R
    : never
}[keyof H]

/**
 * `true` inside a thread started by a `WorkerPool`. Lets one module hold both
 * the request classes (imported by the main thread) and the serving code.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { WorkerThread } from "effect-taskgraph/workers"
 *
 * export class Double extends Schema.TaggedRequest<Double>()("Double", {
 *   failure: Schema.Never,
 *   success: Schema.Number,
 *   payload: { n: Schema.Number }
 * }) {}
 *
 * if (WorkerThread.isWorkerThread) {
 *   WorkerThread.serve(Double, { Double: ({ n }) => Effect.succeed(n * 2) }).pipe(WorkerThread.launch)
 * }
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const isWorkerThread: boolean = typeof workerData === "object" && workerData !== null &&
  (workerData as Record<string, unknown>)[poolThreadKey] === true

/**
 * `serve` was called outside a worker thread.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 *
 * // WorkerThread.serve(...).pipe(Effect.catchTag("NotInWorkerThreadError", Effect.logError))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class NotInWorkerThreadError extends Schema.TaggedError<NotInWorkerThreadError>()(
  "NotInWorkerThreadError",
  {}
) {
  override get message(): string {
    return "WorkerThread.serve must run inside a worker thread started by WorkerPool.make " +
      "(it was called on the main thread: import this module only from the worker's entry file)"
  }
}

/**
 * Serves requests from the pool until the pool closes this thread: decodes
 * each request with `schema`, runs its handler in its own fiber, and sends
 * back the encoded success, the encoded typed failure (with the worker-side
 * stack), or the defect (name, message, stack). A cancelled request's fiber
 * is interrupted, so its finalizers run inside the worker.
 *
 * The thread tells the pool it is ready only when `serve` starts, so services
 * provided around it (a layer) are built before the first request.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { WorkerThread } from "effect-taskgraph/workers"
 *
 * export class Fib extends Schema.TaggedRequest<Fib>()("Fib", {
 *   failure: Schema.String,
 *   success: Schema.Number,
 *   payload: { n: Schema.Number }
 * }) {}
 *
 * const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2))
 *
 * WorkerThread.serve(Fib, {
 *   Fib: ({ n }) => (n < 0 ? Effect.fail("n must be >= 0") : Effect.sync(() => fib(n)))
 * }).pipe(WorkerThread.launch)
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const serve = <A extends S.TaggedRequest.All, I, R, const H extends Handlers<A>>(
  schema: Schema.Schema<A, I, R>,
  handlers: H
): Effect.Effect<void, NotInWorkerThreadError, R | HandlersContext<H>> =>
  Effect.gen(function*() {
    const port = parentPort
    if (port === null) return yield* new NotInWorkerThreadError()
    const runtime = yield* Effect.runtime<R | HandlersContext<H>>()
    const runFork = Runtime.runFork(runtime)
    const decode = Schema.decodeUnknown(schema)
    const fibers = new Map<number, Fiber.RuntimeFiber<Reply>>()
    const closed = yield* Deferred.make<void>()
    const post = (message: FromWorker) => port.postMessage(message)

    const handle = (id: number, encoded: unknown): Effect.Effect<Reply, never, R | HandlersContext<H>> =>
      decode(encoded).pipe(
        Effect.matchEffect({
          onFailure: (error) =>
            Effect.succeed<Reply>({
              _tag: "Defect",
              id,
              error: encodeError(new Error(`could not decode the request: ${error.message}`))
            }),
          onSuccess: (request) => {
            const handler = handlers[request._tag as A["_tag"]] as unknown as (
              request: A
            ) => Effect.Effect<unknown, unknown, R | HandlersContext<H>>
            return Effect.exit(Effect.suspend(() => handler(request))).pipe(
              Effect.flatMap((exit) => encodeExit(id, request, exit))
            )
          }
        })
      )

    // the handler's log lines go to the caller, which logs them (inside a task: its output, with their
    // levels), instead of this thread's console; other loggers here (e.g. OpenTelemetry) keep them too
    const sendingLogs = <X, Y, Z>(id: number, effect: Effect.Effect<X, Y, Z>) => {
      const toCaller = Logger.make<unknown, void>(({ logLevel, message }) =>
        post({ _tag: "Log", id, level: levelOf(logLevel), line: lineOf(message) }))
      return Effect.locallyWith(effect, FiberRef.currentLoggers, (loggers) =>
        HashSet.add(HashSet.remove(HashSet.remove(loggers, Logger.defaultLogger), Logger.prettyLoggerDefault), toCaller))
    }

    const onMessage = (message: unknown) => {
      if (!isToWorker(message)) return
      const m: ToWorker = message
      switch (m._tag) {
        case "Run": {
          const fiber = runFork(sendingLogs(m.id, handle(m.id, m.request)))
          fibers.set(m.id, fiber)
          fiber.addObserver((exit) => {
            fibers.delete(m.id)
            post(Exit.isSuccess(exit) ? exit.value : { _tag: "Interrupted", id: m.id })
          })
          return
        }
        case "Cancel": {
          const fiber = fibers.get(m.id)
          if (fiber === undefined) post({ _tag: "Interrupted", id: m.id })
          else fiber.unsafeInterruptAsFork(fiber.id())
          return
        }
        case "Close": {
          Deferred.unsafeDone(closed, Exit.void)
          return
        }
      }
    }

    yield* Effect.acquireRelease(
      Effect.sync(() => port.on("message", onMessage)),
      () =>
        Effect.gen(function*() {
          port.off("message", onMessage)
          yield* Fiber.interruptAll(fibers.values())
          port.close()
        })
    )
    post({ _tag: "Ready" })
    yield* Deferred.await(closed)
  }).pipe(Effect.scoped)

/** A request seen only through its result schemas (what encoding needs). */
type ResultOf = S.WithResult<unknown, unknown, unknown, unknown, never>

const encodeExit = (id: number, request: S.TaggedRequest.All, exit: Exit.Exit<unknown, unknown>): Effect.Effect<Reply> => {
  const withResult = request as unknown as ResultOf
  if (Exit.isSuccess(exit)) {
    return Schema.serializeSuccess(withResult, exit.value).pipe(
      Effect.map((value): Reply => ({ _tag: "Success", id, value })),
      Effect.catchAll((error) => Effect.succeed(encodeFailureDefect(id, "result", error)))
    )
  }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    const stack = error instanceof Error ? error.stack : undefined
    return Schema.serializeFailure(withResult, error).pipe(
      Effect.map((encoded): Reply => ({ _tag: "Failure", id, error: encoded, stack })),
      Effect.catchAll((parseError) => Effect.succeed(encodeFailureDefect(id, "failure", parseError)))
    )
  }
  if (Cause.isInterruptedOnly(exit.cause)) return Effect.succeed<Reply>({ _tag: "Interrupted", id })
  return Effect.succeed<Reply>({ _tag: "Defect", id, error: encodeError(Cause.squash(exit.cause)) })
}

const encodeFailureDefect = (id: number, what: string, error: ParseResult.ParseError): Reply => ({
  _tag: "Defect",
  id,
  error: encodeError(new Error(`could not encode the ${what} with the request's schema: ${error.message}`))
})

/**
 * Runs a worker's `serve` effect as the thread's program. If it cannot start
 * (a layer provided around it fails, or it runs outside a worker thread),
 * the pool gets the error and fails with `WorkerStartError` instead of
 * waiting; the thread then exits.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { WorkerThread } from "effect-taskgraph/workers"
 *
 * class Ping extends Schema.TaggedRequest<Ping>()("Ping", {
 *   failure: Schema.Never,
 *   success: Schema.Literal("pong"),
 *   payload: {}
 * }) {}
 *
 * WorkerThread.serve(Ping, { Ping: () => Effect.succeed("pong" as const) }).pipe(WorkerThread.launch)
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const launch = <E>(self: Effect.Effect<void, E>): void => {
  Effect.runFork(
    self.pipe(
      Effect.catchAllCause((cause) =>
        Effect.sync(() => {
          if (Cause.isInterruptedOnly(cause)) return
          const error = encodeError(Cause.squash(cause))
          const pretty = prettyCause(cause)
          const message: FromWorker = {
            _tag: "StartFailed",
            error: { ...error, stack: error.stack ?? pretty }
          }
          if (parentPort !== null) parentPort.postMessage(message)
          else console.error(pretty)
          process.exitCode = 1
        })
      )
    )
  )
}

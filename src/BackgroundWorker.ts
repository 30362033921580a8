/**
 * A long-lived background worker fed by a bounded queue: callers
 * `submit(item)` and get that item's result back, even when items finish out
 * of order (with `concurrency > 1`, or when the work runs on worker threads).
 *
 * - Bounded: at most `capacity` items wait in the queue; `submit` suspends
 *   until there is room (backpressure).
 * - Scoped: the worker lives as long as its scope (in a graph: the task that
 *   provides it lives until the tasks that use it are done). On release it
 *   stops, either draining what was accepted (`onStop: "drain"`, the default)
 *   or cancelling it (`onStop: "cancel"`).
 * - Nothing is lost silently: an accepted item that is cancelled fails its
 *   caller with `BackgroundWorkerCancelledError`; an item offered once the
 *   worker is stopping fails with `BackgroundWorkerStoppedError`; a failure of
 *   the work fails only that item's caller, and the worker goes on.
 * - A caller that is interrupted withdraws its item (or interrupts its work
 *   if it already started).
 *
 * The work is any Effect: in-thread (`process: (item) => ...`), or on worker
 * threads (`process: (item) => pool.execute(new Job(item))`).
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 * import { BackgroundWorker } from "effect-taskgraph/workers"
 *
 * class Notifier extends Context.Tag("Notifier")<Notifier, BackgroundWorker.BackgroundWorker<string, void>>() {}
 *
 * const notifier = Task.make("notifier", {
 *   provides: Notifier,
 *   run: BackgroundWorker.make({ process: (text: string) => Effect.log(`notify: ${text}`), capacity: 8 })
 * })
 * const build = Task.make("build", {
 *   requires: [Notifier],
 *   run: Effect.flatMap(Notifier, (n) => n.submit("build started"))
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Scope } from "effect"
import { Cause, Data, Deferred, Duration, Effect, Exit, Fiber, Queue } from "effect"

/**
 * The item was offered while (or after) the worker stopped: it was not
 * accepted and did not run.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 *
 * // worker.submit(item).pipe(Effect.catchTag("BackgroundWorkerStoppedError", () => Effect.void))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class BackgroundWorkerStoppedError extends Data.TaggedError("BackgroundWorkerStoppedError")<{
  readonly worker: string
}> {
  override get message(): string {
    return `background worker "${this.worker}" is stopped: the item was not accepted and did not run ` +
      `(submit items while the scope that owns the worker is open, e.g. require the task that provides it)`
  }
}

/**
 * The item was accepted, but the worker stopped before it finished: it was
 * cancelled while still queued, or interrupted while running.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 *
 * // worker.submit(item).pipe(
 * //   Effect.catchTag("BackgroundWorkerCancelledError", (e) => Effect.logWarning(e.message))
 * // )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class BackgroundWorkerCancelledError extends Data.TaggedError("BackgroundWorkerCancelledError")<{
  readonly worker: string
  /** Where the item was when the worker stopped. */
  readonly state: "queued" | "running"
  /** Why the worker cancelled instead of finishing it. */
  readonly reason: "onStop: cancel" | "drain timeout" | "interrupted"
}> {
  override get message(): string {
    if (this.reason === "interrupted") {
      return `background worker "${this.worker}": the work for this item was interrupted while it was running`
    }
    const what = this.state === "queued"
      ? "stopped before this item started: it was cancelled"
      : "stopped while this item was running: its work was interrupted"
    const why = this.reason === "drain timeout"
      ? "(the drain timeout ran out)"
      : "(onStop: \"cancel\"; use \"drain\" to finish accepted items)"
    return `background worker "${this.worker}" ${what} ${why}`
  }
}

/**
 * A running background worker.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BackgroundWorker } from "effect-taskgraph/workers"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const uploader: BackgroundWorker.BackgroundWorker<string, number> = yield* BackgroundWorker.make({
 *     process: (file: string) => Effect.succeed(file.length)
 *   })
 *   return yield* uploader.submit("report.html")
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface BackgroundWorker<in I, out A, out E = never> {
  readonly name: string
  /**
   * Queues the item (waiting for room if the queue is full) and waits for its
   * result.
   */
  readonly submit: (
    item: I
  ) => Effect.Effect<A, E | BackgroundWorkerStoppedError | BackgroundWorkerCancelledError>
  /**
   * Queues the item (waiting for room if the queue is full) and returns at
   * once with an Effect that waits for its result. Interrupting that wait
   * withdraws the item.
   */
  readonly enqueue: (
    item: I
  ) => Effect.Effect<Effect.Effect<A, E | BackgroundWorkerCancelledError>, BackgroundWorkerStoppedError>
  /** Items accepted and not started yet. */
  readonly queued: Effect.Effect<number>
  /** Items running now. */
  readonly running: Effect.Effect<number>
}

/**
 * How to build a background worker.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BackgroundWorker } from "effect-taskgraph/workers"
 *
 * const options: BackgroundWorker.Options<string, void, never, never> = {
 *   process: (line) => Effect.log(line),
 *   capacity: 100,
 *   onStop: "drain",
 *   drainTimeout: "5 seconds"
 * }
 * const worker = BackgroundWorker.make(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<I, A, E, R> {
  /** The work done for each item. */
  readonly process: (item: I) => Effect.Effect<A, E, R>
  /** At most this many items wait in the queue. Default: 16. */
  readonly capacity?: number | undefined
  /** Items processed at once. Default: 1 (in submission order). */
  readonly concurrency?: number | undefined
  /** On release: finish accepted items ("drain", default) or cancel them ("cancel"). */
  readonly onStop?: "drain" | "cancel" | undefined
  /** With "drain": cancel what is left after this long. Default: no limit. */
  readonly drainTimeout?: Duration.DurationInput | undefined
  /** Used in error messages. Default: "background". */
  readonly name?: string | undefined
}

interface Job<I, A, E> {
  readonly item: I
  readonly result: Deferred.Deferred<A, E | BackgroundWorkerCancelledError>
  state: "queued" | "running"
  fiber: Fiber.RuntimeFiber<A, E> | undefined
  withdrawn: boolean
}

const Stop = { _tag: "Stop" } as const

/**
 * Starts a background worker in the current scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BackgroundWorker } from "effect-taskgraph/workers"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const worker = yield* BackgroundWorker.make({
 *       process: (n: number) => Effect.succeed(n * 2),
 *       capacity: 4,
 *       concurrency: 2
 *     })
 *     return yield* Effect.forEach([1, 2, 3], worker.submit, { concurrency: "unbounded" }) // [2, 4, 6]
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <I, A, E = never, R = never>(
  options: Options<I, A, E, R>
): Effect.Effect<BackgroundWorker<I, A, E>, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    const name = options.name ?? "background"
    const capacity = Math.max(1, Math.floor(options.capacity ?? 16))
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1))
    const onStop = options.onStop ?? "drain"
    const drainTimeout = options.drainTimeout === undefined
      ? undefined
      : Duration.toMillis(Duration.decode(options.drainTimeout))

    // The queue itself is unbounded; `room` bounds it (one permit per queued
    // item), so stop markers never block and waiting submitters can be
    // refused when the worker stops.
    const queue = yield* Queue.unbounded<Job<I, A, E> | typeof Stop>()
    const room = yield* Effect.makeSemaphore(capacity)
    const stopping = yield* Deferred.make<void>()
    const accepted = new Set<Job<I, A, E>>()
    const stoppedError = new BackgroundWorkerStoppedError({ worker: name })

    const runJob = (job: Job<I, A, E>) =>
      Effect.gen(function*() {
        if (job.withdrawn) return
        job.state = "running"
        const fiber = yield* Effect.fork(options.process(job.item))
        job.fiber = fiber
        const exit = yield* Fiber.await(fiber)
        job.fiber = undefined
        accepted.delete(job)
        // interrupted by itself or by a withdrawn caller: never hand a bare interruption to a caller
        yield* Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
          ? Deferred.fail(
            job.result,
            new BackgroundWorkerCancelledError({ worker: name, state: "running", reason: "interrupted" })
          )
          : Deferred.done(job.result, exit)
      })

    const loop = Effect.gen(function*() {
      while (true) {
        const next = yield* Queue.take(queue)
        if ("_tag" in next) return
        yield* room.release(1)
        yield* runJob(next)
      }
    })

    const loops = yield* Effect.forEach(Array.from({ length: concurrency }), () => Effect.forkScoped(loop))

    const cancelAll = (reason: "onStop: cancel" | "drain timeout") =>
      Effect.gen(function*() {
        yield* Queue.shutdown(queue)
        yield* Fiber.interruptAll(loops)
        for (const job of accepted) {
          yield* Deferred.fail(job.result, new BackgroundWorkerCancelledError({ worker: name, state: job.state, reason }))
        }
        accepted.clear()
      })

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Deferred.succeed(stopping, undefined)
        if (onStop === "cancel") return yield* cancelAll("onStop: cancel")
        yield* Queue.offerAll(queue, loops.map(() => Stop))
        const drained = yield* awaitAllWithin(loops, drainTimeout)
        if (!drained) yield* cancelAll("drain timeout")
      })
    )

    const withdraw = (job: Job<I, A, E>) =>
      Effect.suspend(() => {
        job.withdrawn = true
        accepted.delete(job)
        return job.fiber === undefined ? Effect.void : Fiber.interrupt(job.fiber)
      })

    const enqueue = (item: I) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          if (yield* Deferred.isDone(stopping)) return yield* Effect.fail(stoppedError)
          // wait for room, unless the worker stops meanwhile
          const gotRoom = yield* restore(
            Effect.raceFirst(
              Effect.as(room.take(1), true),
              Effect.as(Deferred.await(stopping), false)
            )
          )
          if (!gotRoom || (yield* Deferred.isDone(stopping))) {
            if (gotRoom) yield* room.release(1)
            return yield* Effect.fail(stoppedError)
          }
          const job: Job<I, A, E> = {
            item,
            result: yield* Deferred.make<A, E | BackgroundWorkerCancelledError>(),
            state: "queued",
            fiber: undefined,
            withdrawn: false
          }
          accepted.add(job)
          yield* Queue.offer(queue, job)
          return Deferred.await(job.result).pipe(Effect.onInterrupt(() => withdraw(job)))
        })
      )

    return {
      name,
      enqueue,
      submit: (item: I) => Effect.flatten(enqueue(item)),
      queued: Effect.sync(() => [...accepted].filter((job) => job.state === "queued").length),
      running: Effect.sync(() => [...accepted].filter((job) => job.state === "running").length)
    }
  })

/**
 * Waits until all fibers have ended, or `millis` passed (`false`). Uses
 * plain callbacks and a timer, so it works inside a finalizer of a fiber that
 * is being interrupted.
 */
const awaitAllWithin = (
  fibers: ReadonlyArray<Fiber.RuntimeFiber<unknown, unknown>>,
  millis: number | undefined
): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    let left = fibers.length
    let done = false
    const finish = (value: boolean) => {
      if (done) return
      done = true
      if (timer !== undefined) clearTimeout(timer)
      resume(Effect.succeed(value))
    }
    const timer = millis === undefined ? undefined : setTimeout(() => finish(false), millis)
    if (left === 0) return finish(true)
    for (const fiber of fibers) {
      fiber.addObserver(() => {
        left -= 1
        if (left === 0) finish(true)
      })
    }
  })

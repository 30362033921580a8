/**
 * Bridges between Effect and code that is not: Node event emitters, and
 * plain Promise code that needs to run effects in a running graph.
 *
 * Only the glue Effect lacks is here. Use Effect's own tools for the rest:
 *
 * | you have | use |
 * |---|---|
 * | a DOM-style `EventTarget` (`addEventListener`) | `Stream.fromEventListener` |
 * | any push source with a subscribe/unsubscribe | `Stream.asyncPush` |
 * | a one-shot callback | `Effect.async` (return the cleanup) |
 * | a Node-style `(err, value)` callback function | `Effectify.effectify` from `@effect/platform` |
 * | a Promise-returning function | `Effect.tryPromise((signal) => f(signal))` |
 * | no Effect running at all, and Promise code that must run effects | `ManagedRuntime.make(layer)` (`runPromise`, `dispose`) |
 * | a Node `EventEmitter` | `Bridge.fromEmitter`, `Bridge.once` |
 * | Promise code that must run effects inside a running graph/task | `Bridge.makePortal` |
 *
 * @since 0.1.0
 */
import type { Scope } from "effect"
import { Cause, Data, Effect, Exit, FiberId, FiberSet, Runtime, Stream } from "effect"

/**
 * What `fromEmitter` and `once` need from an emitter: Node's `EventEmitter`
 * (streams, sockets, child processes, `ssh2` clients…) has it.
 *
 * @example
 * ```ts
 * import { EventEmitter } from "node:events"
 * import { Bridge } from "effect-taskgraph/workers"
 *
 * const emitter: Bridge.EmitterLike = new EventEmitter()
 * const ticks = Bridge.fromEmitter<number>(emitter, "tick", { end: "done" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface EmitterLike {
  on(event: string | symbol, listener: (...args: Array<unknown>) => void): unknown
  off(event: string | symbol, listener: (...args: Array<unknown>) => void): unknown
}

/**
 * The emitter emitted its error event.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Bridge } from "effect-taskgraph/workers"
 * import { createReadStream } from "node:fs"
 *
 * const chunks = Bridge.fromEmitter<Buffer>(createReadStream("/no/such/file"), "data", { end: "end" }).pipe(
 *   Stream.runCollect,
 *   Effect.catchTag("EmitterError", (e) => Effect.logError(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class EmitterError extends Data.TaggedError("EmitterError")<{
  /** The event that carried the error (usually "error"). */
  readonly event: string
  /** What the emitter gave with it (usually an `Error`). */
  readonly cause: unknown
}> {
  override get message(): string {
    const detail = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `the emitter emitted "${this.event}": ${detail}`
  }
}

/**
 * Options of `fromEmitter`.
 *
 * @example
 * ```ts
 * import { Bridge } from "effect-taskgraph/workers"
 *
 * declare const socket: Bridge.EmitterLike
 * const options: Bridge.FromEmitterOptions<string> = { end: ["end", "close"], map: (chunk) => String(chunk), bufferSize: 64, strategy: "sliding" }
 * const lines = Bridge.fromEmitter(socket, "data", options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FromEmitterOptions<A> {
  /** Events that end the stream (e.g. "end", "close"). Default: none. */
  readonly end?: string | ReadonlyArray<string> | undefined
  /** The event that fails the stream with `EmitterError`; `false` for none. Default: "error". */
  readonly error?: string | false | undefined
  /** Turns an event's arguments into an element. Default: the first argument. */
  readonly map?: ((...args: ReadonlyArray<unknown>) => A) | undefined
  /**
   * Elements buffered while the consumer is slower than the emitter. Default
   * "unbounded"; with a number, `strategy` chooses what to drop when full.
   */
  readonly bufferSize?: number | "unbounded" | undefined
  readonly strategy?: "dropping" | "sliding" | undefined
}

const listen = (
  emitter: EmitterLike,
  handlers: ReadonlyArray<readonly [string, (...args: ReadonlyArray<unknown>) => void]>
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      for (const [event, handler] of handlers) emitter.on(event, handler)
    }),
    () =>
      Effect.sync(() => {
        for (const [event, handler] of handlers) emitter.off(event, handler)
      })
  )

const asList = (events: string | ReadonlyArray<string> | undefined): ReadonlyArray<string> =>
  events === undefined ? [] : typeof events === "string" ? [events] : events

/**
 * The events of a Node `EventEmitter` as a `Stream`. The listeners are added
 * when the stream starts and removed when it ends for any reason: the end
 * event, an error, the consumer taking enough, or interruption.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Bridge } from "effect-taskgraph/workers"
 * import { createInterface } from "node:readline"
 * import { createReadStream } from "node:fs"
 *
 * const lines = Bridge.fromEmitter<string>(createInterface({ input: createReadStream("build.log") }), "line", {
 *   end: "close"
 * })
 * const errors = lines.pipe(Stream.filter((l) => l.includes("ERROR")), Stream.runCollect)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEmitter = <A = unknown>(
  emitter: EmitterLike,
  event: string,
  options?: FromEmitterOptions<A>
): Stream.Stream<A, EmitterError> => {
  const map = options?.map ?? ((...args: ReadonlyArray<unknown>) => args[0] as A)
  const errorEvent = options?.error ?? "error"
  const bufferSize = options?.bufferSize ?? "unbounded"
  return Stream.asyncPush<A, EmitterError>(
    (emit) =>
      listen(emitter, [
        [event, (...args) => emit.single(map(...args))],
        ...asList(options?.end).map((end) => [end, () => emit.end()] as const),
        ...(errorEvent === false
          ? []
          : [[errorEvent, (cause: unknown) => emit.fail(new EmitterError({ event: errorEvent, cause }))] as const])
      ]),
    bufferSize === "unbounded"
      ? { bufferSize }
      : { bufferSize, ...(options?.strategy !== undefined ? { strategy: options.strategy } : {}) }
  )
}

/**
 * Waits for the next `event` of a Node `EventEmitter` and succeeds with its
 * first argument (or `map` of all of them). Fails with `EmitterError` on the
 * error event. The listeners are removed in every case, interruption
 * included.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bridge } from "effect-taskgraph/workers"
 * import * as net from "node:net"
 *
 * const listening = Effect.gen(function* () {
 *   const server = net.createServer()
 *   server.listen(0, "127.0.0.1")
 *   yield* Bridge.once(server, "listening").pipe(Effect.timeout("5 seconds"))
 *   return server
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const once = <A = unknown>(
  emitter: EmitterLike,
  event: string,
  options?: {
    readonly error?: string | false | undefined
    readonly map?: ((...args: ReadonlyArray<unknown>) => A) | undefined
  }
): Effect.Effect<A, EmitterError> =>
  Effect.async<A, EmitterError>((resume) => {
    const map = options?.map ?? ((...args: ReadonlyArray<unknown>) => args[0] as A)
    const errorEvent = options?.error ?? "error"
    const cleanup = () => {
      emitter.off(event, onEvent)
      if (errorEvent !== false) emitter.off(errorEvent, onError)
    }
    const onEvent = (...args: ReadonlyArray<unknown>) => {
      cleanup()
      resume(Effect.succeed(map(...args)))
    }
    const onError = (cause: unknown) => {
      cleanup()
      resume(Effect.fail(new EmitterError({ event: errorEvent === false ? "error" : errorEvent, cause })))
    }
    emitter.on(event, onEvent)
    if (errorEvent !== false) emitter.on(errorEvent, onError)
    return Effect.sync(cleanup)
  })

/**
 * The portal was stopped (by `stop()` or because the scope that owns it
 * closed) before or while the effect ran.
 *
 * @example
 * ```ts
 * import { Bridge } from "effect-taskgraph/workers"
 *
 * // portal.submit(effect).catch((e) => { if (e instanceof Bridge.PortalStoppedError) return; throw e })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class PortalStoppedError extends Data.TaggedError("PortalStoppedError")<{
  /** "refused": submitted after the stop; "interrupted": running when it stopped. */
  readonly when: "refused" | "interrupted"
}> {
  override get message(): string {
    return this.when === "refused"
      ? "the portal is stopped: the effect was not run (submit only while the task that owns the portal runs)"
      : "the portal stopped while the effect was running: it was interrupted and its finalizers ran"
  }
}

/**
 * A door for plain Promise code into a running Effect program: what an event
 * loop in a background thread is for in Python (`run_coroutine_threadsafe`,
 * `loop.stop()`, `thread.join()`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bridge } from "effect-taskgraph/workers"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const portal: Bridge.Portal<never> = yield* Bridge.makePortal()
 *   const answer = yield* Effect.promise(() => portal.submit(Effect.succeed(42)))
 *   yield* Effect.promise(() => portal.stop())
 *   return answer
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Portal<in R> {
  /**
   * Runs the effect in the portal's context (its services, its scope's
   * lifetime) and resolves with its value. Rejects with the error (a typed
   * failure as is, else the squashed cause), with `PortalStoppedError` if the
   * portal stops first, or with the signal's reason if `signal` aborts (which
   * interrupts the effect).
   */
  readonly submit: <A, E>(
    effect: Effect.Effect<A, E, R>,
    options?: { readonly signal?: AbortSignal | undefined }
  ) => Promise<A>
  /** How many submitted effects are running. */
  readonly running: () => number
  /** Resolves when no submitted effect is running. */
  readonly idle: () => Promise<void>
  /**
   * Refuses new effects, interrupts the running ones (their finalizers run)
   * and resolves once they have all ended. Idempotent.
   */
  readonly stop: () => Promise<void>
}

/**
 * Makes a portal bound to the current scope: effects submitted through it
 * run with the current context, and are interrupted when the scope closes
 * (e.g. when the task that made it is released).
 *
 * When no Effect program is running at all, use `ManagedRuntime` instead.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Task } from "effect-taskgraph"
 * import { Bridge } from "effect-taskgraph/workers"
 * import * as http from "node:http"
 *
 * class Db extends Context.Tag("Db")<Db, { readonly get: (id: string) => Effect.Effect<string> }>() {}
 *
 * const server = Task.make("http server", {
 *   requires: [Db],
 *   run: Effect.gen(function* () {
 *     const portal = yield* Bridge.makePortal<Db>()
 *     // a callback API: plain Promise code drives effects in the graph's context
 *     const srv = http.createServer((req, res) => {
 *       portal.submit(Effect.flatMap(Db, (db) => db.get(req.url ?? "/")))
 *         .then((body) => res.end(body), () => res.writeHead(500).end())
 *     })
 *     yield* Effect.acquireRelease(Effect.sync(() => srv.listen(0)), () => Effect.sync(() => srv.close()))
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePortal = <R = never>(): Effect.Effect<Portal<R>, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    const set = yield* FiberSet.make<unknown, unknown>()
    let stopped = false
    // runs before the FiberSet's own finalizer: running effects are rejected as "interrupted"
    yield* Effect.addFinalizer(() => Effect.sync(() => (stopped = true)))
    const runFork = yield* FiberSet.runtime(set)<R>()
    const runPromise = Runtime.runPromise(Runtime.defaultRuntime)

    const submit = <A, E>(
      effect: Effect.Effect<A, E, R>,
      options?: { readonly signal?: AbortSignal | undefined }
    ): Promise<A> => {
      if (stopped) return Promise.reject(new PortalStoppedError({ when: "refused" }))
      const signal = options?.signal
      if (signal?.aborted) return Promise.reject(signal.reason)
      return new Promise<A>((resolve, reject) => {
        const fiber = runFork(effect)
        const onAbort = () => fiber.unsafeInterruptAsFork(FiberId.none)
        signal?.addEventListener("abort", onAbort, { once: true })
        fiber.addObserver((exit: Exit.Exit<A, E>) => {
          signal?.removeEventListener("abort", onAbort)
          if (Exit.isSuccess(exit)) return resolve(exit.value)
          if (Cause.isInterruptedOnly(exit.cause)) {
            if (signal?.aborted) return reject(signal.reason)
            if (stopped) return reject(new PortalStoppedError({ when: "interrupted" }))
          }
          reject(Cause.squash(exit.cause))
        })
      })
    }

    return {
      submit,
      running: () => Effect.runSync(FiberSet.size(set)),
      idle: () => runPromise(FiberSet.awaitEmpty(set)),
      stop: () => {
        stopped = true
        return runPromise(FiberSet.clear(set))
      }
    }
  })

/**
 * One worker thread of a pool: spawning it (through `boot.mjs` for
 * TypeScript entries), waiting until it is ready, routing its replies, and
 * stopping it for sure.
 *
 * @internal
 */
import { Deferred, Duration, Effect, Exit, FiberId, Option } from "effect"
import * as NodePath from "node:path"
import { pathToFileURL } from "node:url"
import * as WT from "node:worker_threads"
import { WorkerCrashError, WorkerStartError } from "./errors.js"
import type { FromWorker, LogLine, Reply, ToWorker } from "./protocol.js"
import { entryKey, isFromWorker, poolThreadKey } from "./protocol.js"

/** The bootstrap that registers tsx inside the thread. */
const bootUrl = new URL("./boot.mjs", import.meta.url)

/** Entries that need the tsx bootstrap. */
const typescriptEntry = /\.(?:c|m)?tsx?$/

/** Normalises an entry given as a URL, a file URL string or a path. */
export const entryUrl = (entry: URL | string): URL =>
  entry instanceof URL
    ? entry
    : /^file:/.test(entry)
    ? new URL(entry)
    : pathToFileURL(NodePath.resolve(entry))

export interface SpawnOptions {
  readonly entry: URL
  readonly name: string
  readonly startTimeout: Duration.Duration
  readonly resourceLimits: WT.ResourceLimits | undefined
}

/**
 * The request in flight on a thread. Settled by the reply or by the thread's
 * exit. Waiting on it does not need interruptibility, so it also works in a
 * fiber that is already being interrupted (cleanup after a cancelled call).
 */
export interface Pending {
  readonly id: number
  readonly request: string
  /** where the handler's log lines go: logged by the caller, as if it had logged them */
  readonly onLog: (line: LogLine) => void
  result: Exit.Exit<Reply, WorkerCrashError> | undefined
  readonly waiters: Set<(exit: Exit.Exit<Reply, WorkerCrashError>) => void>
}

const settle = (pending: Pending, exit: Exit.Exit<Reply, WorkerCrashError>): void => {
  if (pending.result !== undefined) return
  pending.result = exit
  for (const waiter of pending.waiters) waiter(exit)
  pending.waiters.clear()
}

/** Waits for the reply (or the crash) of a request. Interruptible. */
export const awaitReply = (pending: Pending): Effect.Effect<Reply, WorkerCrashError> =>
  Effect.async<Reply, WorkerCrashError>((resume) => {
    if (pending.result !== undefined) return resume(pending.result)
    const waiter = (exit: Exit.Exit<Reply, WorkerCrashError>) => resume(exit)
    pending.waiters.add(waiter)
    return Effect.sync(() => pending.waiters.delete(waiter))
  })

/**
 * Waits at most `millis` for the request to settle, with a plain timer (no
 * interruption involved). `None` when the time ran out.
 */
export const awaitReplyWithin = (
  pending: Pending,
  millis: number
): Effect.Effect<Option.Option<Exit.Exit<Reply, WorkerCrashError>>> =>
  Effect.async((resume) => {
    if (pending.result !== undefined) return resume(Effect.succeed(Option.some(pending.result)))
    let done = false
    const waiter = (exit: Exit.Exit<Reply, WorkerCrashError>) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resume(Effect.succeed(Option.some(exit)))
    }
    const timer = setTimeout(() => {
      if (done) return
      done = true
      pending.waiters.delete(waiter)
      resume(Effect.succeed(Option.none()))
    }, millis)
    pending.waiters.add(waiter)
    return Effect.sync(() => {
      done = true
      clearTimeout(timer)
      pending.waiters.delete(waiter)
    })
  })

export interface Thread {
  readonly threadId: number
  readonly worker: WT.Worker
  /** Completed with the exit code once the thread has exited. */
  readonly exited: Deferred.Deferred<number>
  /** The request in flight, if any. */
  pending: Pending | undefined
  /** The last uncaught error the thread reported. */
  lastError: unknown
  /** Set when the thread has exited. */
  exitCode: number | undefined
}

const post = (worker: WT.Worker, message: ToWorker): void => worker.postMessage(message)

/**
 * Starts a thread and waits for its `Ready`. Fails with `WorkerStartError`
 * if it throws, exits, reports `StartFailed` or times out first; interrupting
 * the start terminates the thread.
 */
export const spawn = (options: SpawnOptions): Effect.Effect<Thread, WorkerStartError> =>
  Effect.async<Thread, WorkerStartError>((resume) => {
    const entry = options.entry.href
    const isTs = typescriptEntry.test(options.entry.pathname)
    let worker: WT.Worker
    try {
      worker = new WT.Worker(isTs ? bootUrl : options.entry, {
        name: options.name,
        workerData: isTs ? { [poolThreadKey]: true, [entryKey]: entry } : { [poolThreadKey]: true },
        ...(options.resourceLimits !== undefined ? { resourceLimits: options.resourceLimits } : {})
      })
    } catch (cause) {
      resume(Effect.fail(new WorkerStartError({ entry, reason: describe(cause), cause })))
      return
    }
    let settled = false
    let startError: unknown = undefined
    let timedOut = false
    const exited = Deferred.unsafeMake<number>(FiberId.none)
    const thread: Thread = { threadId: worker.threadId, worker, exited, pending: undefined, lastError: undefined, exitCode: undefined }
    const settleStart = (effect: Effect.Effect<Thread, WorkerStartError>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resume(effect)
    }
    const fail = (reason: string, cause?: unknown) =>
      settleStart(Effect.fail(new WorkerStartError({ entry, reason, ...(cause !== undefined ? { cause } : {}) })))

    worker.on("message", (message: unknown) => {
      if (!isFromWorker(message)) return
      if (!settled) {
        if (message._tag === "Ready") settleStart(Effect.succeed(thread))
        else if (message._tag === "StartFailed") {
          startError = revive(message.error)
          void worker.terminate()
        }
        return
      }
      onReply(thread, message)
    })
    worker.on("error", (error) => {
      if (!settled) startError = error
      thread.lastError = error
    })
    worker.on("exit", (code) => {
      thread.exitCode = code
      Deferred.unsafeDone(exited, Exit.succeed(code))
      if (!settled) {
        fail(
          timedOut
            ? `it was not ready after ${Duration.format(options.startTimeout)} (startTimeout)`
            : startError !== undefined
            ? describe(startError)
            : `the thread exited with code ${code} before it was ready`,
          startError
        )
        return
      }
      const pending = thread.pending
      if (pending !== undefined) {
        thread.pending = undefined
        settle(
          pending,
          Exit.fail(
            new WorkerCrashError({
              request: pending.request,
              threadId: thread.threadId,
              exitCode: code,
              ...(thread.lastError !== undefined ? { cause: thread.lastError } : {})
            })
          )
        )
      }
    })
    // On timeout, terminate first and fail once the thread has exited (in the exit handler).
    const timer = setTimeout(() => {
      timedOut = true
      void worker.terminate()
    }, Duration.toMillis(options.startTimeout))

    return Effect.promise(() => worker.terminate()).pipe(
      Effect.zipRight(Deferred.await(exited)),
      Effect.asVoid
    )
  })

const onReply = (thread: Thread, message: FromWorker): void => {
  if (message._tag === "Ready" || message._tag === "StartFailed") return
  const pending = thread.pending
  if (pending === undefined || pending.id !== message.id) return // a late reply to a cancelled request
  if (message._tag === "Log") return pending.onLog(message)
  thread.pending = undefined
  settle(pending, Exit.succeed(message))
}

/** Sends one request; its reply (or the thread's crash) settles the returned `Pending`. */
export const send = (
  thread: Thread,
  id: number,
  request: string,
  payload: unknown,
  onLog: (line: LogLine) => void
): Pending => {
  const pending: Pending = { id, request, onLog, result: undefined, waiters: new Set() }
  thread.pending = pending
  try {
    post(thread.worker, { _tag: "Run", id, request: payload })
  } catch (cause) {
    thread.pending = undefined
    settle(
      pending,
      thread.exitCode !== undefined
        ? Exit.fail(new WorkerCrashError({ request, threadId: thread.threadId, exitCode: thread.exitCode, cause }))
        // the thread is alive: the message itself could not be posted (e.g. not cloneable), a defect
        : Exit.die(cause)
    )
  }
  return pending
}

/** Asks the worker to interrupt a request; it answers `Interrupted` when done. */
export const cancel = (thread: Thread, id: number): void => {
  try {
    post(thread.worker, { _tag: "Cancel", id })
  } catch {
    // the thread is gone: nothing to cancel
  }
}

/** Has the thread exited? */
export const isExited = (thread: Thread): boolean => thread.exitCode !== undefined

/** Terminates the thread now and waits until it has exited. */
export const terminate = (thread: Thread): Effect.Effect<void> =>
  Effect.promise(() => thread.worker.terminate()).pipe(
    Effect.zipRight(Deferred.await(thread.exited)),
    Effect.asVoid
  )

/** Waits at most `millis` for the thread to exit, with a plain timer. */
const awaitExitWithin = (thread: Thread, millis: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    if (thread.exitCode !== undefined) return resume(Effect.succeed(true))
    const onExit = () => {
      clearTimeout(timer)
      resume(Effect.succeed(true))
    }
    const timer = setTimeout(() => {
      thread.worker.off("exit", onExit)
      resume(Effect.succeed(false))
    }, millis)
    thread.worker.once("exit", onExit)
    return Effect.sync(() => {
      clearTimeout(timer)
      thread.worker.off("exit", onExit)
    })
  })

/**
 * Asks an idle thread to close (its `WorkerThread.serve` returns and the
 * worker-side finalizers run); terminates it if it has not exited within
 * `timeout`. Safe to run in a finalizer of an interrupted fiber.
 */
export const close = (thread: Thread, timeout: Duration.Duration): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (thread.exitCode !== undefined) return Effect.void
    try {
      post(thread.worker, { _tag: "Close" })
    } catch {
      // already gone
    }
    return awaitExitWithin(thread, Duration.toMillis(timeout)).pipe(
      Effect.flatMap((exited) => (exited ? Effect.void : terminate(thread)))
    )
  })

/** Turns a worker-side error back into an `Error` with the worker's stack. */
export const revive = (error: { readonly name: string; readonly message: string; readonly stack: string | undefined }) => {
  const e = new Error(error.message)
  e.name = error.name
  e.stack = error.stack ?? `${error.name}: ${error.message}`
  return e
}

const describe = (u: unknown): string => u instanceof Error ? `${u.name}: ${u.message}` : String(u)

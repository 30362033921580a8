/**
 * What a task fiber runs, and what its end means: the task's `run` wrapped in
 * its retry and its timeout, and the classification of a failed run into the
 * state a user sees ("timed out", "interrupted" or "failed").
 *
 * @internal
 */
import type { Schedule } from "effect"
import { Cause, Duration, Effect, Exit, FiberId, Option, Scope } from "effect"
import type { Task } from "../Task.js"
import { TaskTimeoutError } from "../TaskError.js"
import * as TaskScope from "./taskScope.js"

/**
 * What the scheduler learns from the attempts of task i: one object per run,
 * shared by all its tasks (no allocation per task).
 *
 * @internal
 */
export interface Attempts {
  /** An attempt of task i begins (the first one included). */
  readonly begin: (i: number) => void
  /** The successful attempt's scope: it becomes task i's scope. */
  readonly keep: (i: number, scope: TaskScope.TaskScope) => void
}

/**
 * Can the task's `run` be run as it is, in the scope the scheduler provides
 * (no retry, no timeout)? Then it is the task's attempt 1.
 *
 * @internal
 */
export const isPlain = (task: Task.Any): boolean => task.retry === undefined && task.timeout === undefined

/**
 * Every `Exit` is an instance of one of two classes (success, failure): comparing an effect's
 * constructor with them is one load from its prototype, where `Exit.isExit` asks for a symbol and
 * for a `_tag` an effect that is not an Exit lacks, the prototype chain walked twice (~0.1 µs a task
 * on a 100k graph, profiled). Checked at load; `Exit.isExit` if Effect ever builds Exits otherwise.
 */
const exitClasses: ReadonlyArray<unknown> | undefined = (() => {
  const classes = [Exit.void.constructor, Exit.fail(0).constructor]
  const exits = [Exit.succeed(1), Exit.void, Exit.fail(0), Exit.die(0), Exit.interrupt(FiberId.none), Exit.failCause(Cause.empty)]
  const effects = [Effect.void.pipe(Effect.map(() => 1)), Effect.sync(() => 1), Effect.never, Effect.suspend(() => Effect.void)]
  const works = exits.every((exit) => classes.includes(exit.constructor)) &&
    effects.every((effect) => !Exit.isExit(effect) && !classes.includes(effect.constructor))
  return works ? classes : undefined
})()

/** The constructor check is in use (this Effect builds its Exits from the two classes). @internal */
export const fastExitCheck: boolean = exitClasses !== undefined

/** Is this task's effect already an `Exit` (`Effect.succeed`, `Effect.void`, `Effect.fail`)? */
export const isExit: (effect: Effect.Effect<unknown, unknown, unknown>) => effect is Exit.Exit<unknown, unknown> =
  exitClasses === undefined
    ? Exit.isExit
    : (effect): effect is Exit.Exit<unknown, unknown> => {
      const constructor = effect.constructor
      return constructor === exitClasses[0] || constructor === exitClasses[1]
    }

/**
 * The effect a task fiber runs.
 *
 * With `retry`, every attempt gets a fresh scope, closed when the attempt
 * fails; the successful attempt's scope becomes the task's (`attempts.keep`).
 * Without it the run is the task's effect itself, with the scope the scheduler
 * put in the fiber's context. A `timeout` bounds all attempts together and
 * fails with `TaskTimeoutError`.
 *
 * Its requirements are erased: the scheduler runs it with a context it built
 * for the task (the run's context, the dependencies' values, the scope), which
 * `TaskGraph` checked to cover what the task requires.
 *
 * @internal
 */
export const effectOf = (task: Task.Any, i: number, attempts: Attempts): Effect.Effect<unknown, unknown> => {
  let effect: Effect.Effect<unknown, unknown, unknown>
  if (task.retry !== undefined) {
    // `Task.make` checked that the schedule accepts the task's errors; it is stored with its input
    // erased (`never`, see `Task.retry`), which no error type is assignable to: widen it back.
    const schedule = task.retry as Schedule.Schedule<unknown, unknown, unknown>
    effect = Effect.retry(attemptOf(task, i, attempts), schedule)
  } else {
    attempts.begin(i)
    effect = task.run
  }
  if (task.timeout !== undefined) {
    const timeout = Duration.decode(task.timeout)
    effect = Effect.timeoutFail(effect, {
      duration: timeout,
      onTimeout: () => new TaskTimeoutError({ task: task.name, timeout: Duration.format(timeout) })
    })
  }
  return effect as Effect.Effect<unknown, unknown>
}

const attemptOf = (task: Task.Any, i: number, attempts: Attempts) =>
  Effect.suspend(() => {
    const scope = TaskScope.make()
    attempts.begin(i)
    return Effect.onExit(Effect.provideService(task.run, Scope.Scope, scope), (exit) => {
      if (exit._tag === "Success") {
        attempts.keep(i, scope)
        return Effect.void
      }
      return Scope.close(scope, exit)
    })
  })

/** How a task's run ended, when it did not succeed. @internal */
export type Ending = "timed out" | "interrupted" | "failed"

/**
 * The state a run that did not succeed ends in: "timed out" when it failed
 * with this task's own `TaskTimeoutError` (not one raised by some other
 * task's timeout inside it), "interrupted" when it was only interrupted,
 * "failed" otherwise.
 *
 * @internal
 */
export const ending = (task: Task.Any, cause: Cause.Cause<unknown>): Ending => {
  const isTimeout = Cause.failureOption(cause).pipe(
    Option.exists((e) => e instanceof TaskTimeoutError && e.task === task.name)
  )
  if (isTimeout) return "timed out"
  if (Cause.isInterruptedOnly(cause)) return "interrupted"
  return "failed"
}

/** The cause of a run's exit (an empty cause for a success). @internal */
export const causeOf = (exit: Exit.Exit<unknown, unknown>): Cause.Cause<unknown> =>
  exit._tag === "Failure" ? exit.cause : Cause.empty

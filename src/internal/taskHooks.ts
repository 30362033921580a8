/**
 * The link between a running task's fibers and the scheduler that runs it.
 *
 * The scheduler puts a task's hooks in the task's context (`TaskHooksKey`);
 * every fiber the task forks inherits it, so `Task.output` and `Task.watch`
 * reach the right task without the task declaring any service. The FiberRef
 * `currentTaskHooks` is a fallback for code that runs outside a graph (tests,
 * tools) and wants to capture output.
 *
 * @internal
 */
import type { Cause, Context } from "effect"
import { Effect, FiberRef, FiberRefs } from "effect"
import * as ContextMap from "./contextMap.js"
import type { NestPoint } from "./nesting.js"

import type { LogLevel, OutputStream } from "../TaskEvent.js"

export type { LogLevel, OutputStream } from "../TaskEvent.js"

/** @internal */
export interface TaskHooks {
  readonly name: string
  /** Records one line of output for this task (events, log files, reporters); `level` for an `Effect.log` line. */
  readonly output: (stream: OutputStream, line: string, level?: LogLevel) => void
  /** A watcher forked with `Task.watch` failed: the task fails with this cause. */
  readonly watcherFailed: (cause: Cause.Cause<unknown>) => void
  /** What a graph run started inside this task shares with the task's run (`nesting.ts`); absent outside a scheduler. */
  readonly nest?: (() => NestPoint) | undefined
}

/** @internal */
export const currentTaskHooks: FiberRef.FiberRef<TaskHooks | undefined> = FiberRef.unsafeMake<TaskHooks | undefined>(
  undefined
)

/**
 * Where the scheduler puts a task's hooks: in the task's context, which its
 * fiber gets for free when forked (a FiberRef would cost a second copy of the
 * fiber's refs per task, measured at ~2 µs).
 *
 * @internal
 */
export const TaskHooksKey = "effect-taskgraph/TaskHooks"

/** The hooks of the task a fiber belongs to: from its context, else the FiberRef (tests, tools). */
export const hooksFrom = (context: Context.Context<never>, fiberRefs: FiberRefs.FiberRefs): TaskHooks | undefined =>
  (ContextMap.get(context, TaskHooksKey) as TaskHooks | undefined) ?? FiberRefs.getOrDefault(fiberRefs, currentTaskHooks)

/** @internal */
export const currentHooks: Effect.Effect<TaskHooks | undefined> = Effect.withFiberRuntime((fiber) =>
  Effect.succeed(hooksFrom(fiber.currentContext, fiber.getFiberRefs()))
)

/**
 * One line of output of the current task (`Task.output`, and lines replayed from elsewhere with
 * their level); outside a task it is logged.
 *
 * @internal
 */
export const outputLine = (stream: OutputStream, line: string, level?: LogLevel): Effect.Effect<void> =>
  Effect.flatMap(currentHooks, (hooks) => {
    if (hooks === undefined) return Effect.log(line)
    hooks.output(stream, line, level)
    return Effect.void
  })

/** The pools of a task that uses none: shared, so the plan can skip them by identity. @internal */
export const noPools: Readonly<Record<string, number>> = Object.freeze({})

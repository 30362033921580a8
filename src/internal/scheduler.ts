/**
 * The scheduler: runs a compiled plan as fibers.
 *
 * Design (see bench/README.md for the measurements behind it):
 * - Per-task state lives in plain (typed) arrays indexed by task number and
 *   is mutated only by this module, from synchronous callbacks; the plan's
 *   edges are compressed rows (plan.ts). On a 100k-task graph this is the
 *   difference between microseconds and tens of microseconds a task.
 * - A task is forked only when everything it waits for is ready; nothing is
 *   pre-forked. Its fiber is made by `taskFiber.ts` (the fork patch of the
 *   fiber refs applied once per run, not per task) and its completion is
 *   observed with `addObserver`, which runs synchronously when the task
 *   finished synchronously.
 * - A task whose effect is already an `Exit` (`Effect.succeed`, `Effect.fail`)
 *   gets no fiber at all: its exit is known without evaluating anything.
 * - All follow-up work (starting tasks, releasing resources, finishing tasks)
 *   goes through queues drained by one loop (`pump`), so that a chain of
 *   100,000 tasks never recurses.
 * - Events, spans and per-task contexts are allocated only when something
 *   needs them (a listener, a tracer, a resource to release).
 *
 * @internal
 */
import type { Clock } from "effect"
import {
  Cause,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberId,
  FiberRef,
  FiberRefs,
  HashMap,
  HashSet,
  Logger,
  Option,
  Runtime,
  Scope,
  Tracer
} from "effect"
import * as TaskEvent from "../TaskEvent.js"
import type { CompiledPlan } from "./plan.js"
import { rowHas } from "./plan.js"
import type { OutputStream, TaskHooks } from "./taskHooks.js"
import { hooksFrom, TaskHooksKey } from "./taskHooks.js"
import { TaskTimeoutError, UndeclaredDependencyError } from "../TaskError.js"
import * as TaskFiber from "./taskFiber.js"
import * as ReadyQueue from "./readyQueue.js"
import * as TaskScope from "./taskScope.js"

/** Phases of a task's life in the scheduler (not the reported status). */
const WAITING = 0
const QUEUED = 1
const RUNNING = 2
const HOLDING = 3 // run succeeded, resources held
const CLOSING = 4 // scope closing
const DONE = 5 // nothing of it is left

/** The status a user sees. */
export type TaskState =
  | "pending"
  | "running"
  | "ready"
  | "released"
  | "failed"
  | "timed out"
  | "interrupted"
  | "skipped"

/** @internal */
export interface SchedulerOptions {
  readonly concurrency: number
  readonly mode: "fail-fast" | "continue"
  readonly pools: Readonly<Record<string, number>>
  /** keep every resource until `releaseAll` (toLayer) */
  readonly hold: boolean
  /** record events (a handle, a reporter) */
  readonly events: boolean
  /** give each task a span named after it */
  readonly spans: boolean
  readonly tracer: Tracer.Tracer
}

/** What the scheduler knows at the end (or at any moment). */
export interface Snapshot {
  readonly plan: CompiledPlan
  readonly startedAt: number
  readonly finishedAt: number | undefined
  readonly outcome: "running" | "succeeded" | "failed" | "interrupted"
  readonly states: ReadonlyArray<TaskState>
  readonly attempts: ArrayLike<number>
  readonly startTimes: ArrayLike<number>
  readonly readyTimes: ArrayLike<number>
  readonly endTimes: ArrayLike<number>
  readonly releaseTimes: ArrayLike<number>
  readonly values: ReadonlyArray<unknown>
  readonly causes: ReadonlyArray<Cause.Cause<unknown> | undefined>
  readonly blockedBy: ArrayLike<number>
  /** task indices whose failure made the run fail, in order */
  readonly failures: ReadonlyArray<number>
}

/** @internal */
export interface Scheduler {
  readonly start: () => void
  /** Stops everything (outer interruption); resolves `done` when all is released. */
  readonly interrupt: () => void
  readonly pause: () => void
  readonly resume: () => void
  /** toLayer: release everything held (after `allReady`). */
  readonly releaseAll: () => void
  /** Completes when the run has ended and every resource is released. */
  readonly done: Deferred.Deferred<Snapshot>
  /** Completes when every task is ready (hold mode), or fails with the snapshot when the run fails. */
  readonly allReady: Deferred.Deferred<Snapshot, Snapshot>
  readonly snapshot: () => Snapshot
  /** Events so far (when `events`), and a signal for the next one. */
  readonly events: ReadonlyArray<TaskEvent.TaskEvent>
  readonly nextEvent: () => Deferred.Deferred<void>
}

const NONE = -1

/** @internal */
export const make = (
  plan: CompiledPlan,
  runtime: Runtime.Runtime<never>,
  clock: Clock.Clock,
  options: SchedulerOptions
): Scheduler => {
  const n = plan.n
  const tasks = plan.tasks
  const schedulerId = FiberId.make(-1, 0) as FiberId.Runtime
  const now = () => clock.unsafeCurrentTimeMillis()

  // ---- per-task state: plain arrays, private to this closure -------------
  const phase = new Uint8Array(n)
  const states: Array<TaskState> = new Array(n).fill("pending")
  const waitCount = new Int32Array(n)
  const holders = plan.holders.slice()
  const attempts = new Int32Array(n)
  const startTimes = new Float64Array(n).fill(NaN)
  const readyTimes = new Float64Array(n).fill(NaN)
  const endTimes = new Float64Array(n).fill(NaN)
  const releaseTimes = new Float64Array(n).fill(NaN)
  const values: Array<unknown> = new Array(n)
  const causes: Array<Cause.Cause<unknown> | undefined> = new Array(n)
  const blockedBy = new Int32Array(n).fill(NONE)
  const fibers: Array<Fiber.RuntimeFiber<unknown, unknown> | undefined> = new Array(n)
  const scopes: Array<TaskScope.TaskScope | undefined> = new Array(n)
  /** a task's context, kept until its release: its finalizers run with it, as when acquired */
  const contexts: Array<Context.Context<never> | undefined> = new Array(n)
  const spans: Array<Tracer.Span | undefined> = options.spans ? new Array(n) : []
  const watcherCauses: Array<Cause.Cause<unknown> | undefined> = new Array(n)
  const stoppedByUs = new Uint8Array(n)
  const failures: Array<number> = []

  for (let i = 0; i < n; i++) waitCount[i] = plan.waitsFor.start[i + 1]! - plan.waitsFor.start[i]!
  // edges as flat arrays (compressed rows, see plan.ts): row i is items[start[i]] … items[start[i + 1] - 1]
  const depStart = plan.dataDeps.start
  const depItems = plan.dataDeps.items
  const depKeys = plan.dataKeys
  const dependentStart = plan.dependents.start
  const dependentItems = plan.dependents.items

  // ---- queues drained by `pump` -------------------------------------------
  // Ready tasks: a heap, those with the longest path ahead first (readyQueue.ts). The release and
  // done queues: plain arrays with a head index, the hot path of a 100k-task run.
  const startQueue = ReadyQueue.make(n, plan.height)
  const releaseQueue: Array<number> = []
  let releaseHead = 0
  const doneQueue: Array<number> = []
  let doneHead = 0
  let pumping = false

  let running = 0
  let finished = 0
  let readyCount = 0
  let paused = false
  let stopping = false
  let interrupted = false
  let hold = options.hold
  let startedAt = NaN
  let finishedAt: number | undefined = undefined
  let outcome: Snapshot["outcome"] = "running"

  const concurrency = options.concurrency
  const poolNames = Object.keys(options.pools)
  const usesPools = poolNames.length > 0
  const poolFree = new Map<string, number>(poolNames.map((p) => [p, options.pools[p]!]))

  const done = Deferred.unsafeMake<Snapshot>(schedulerId)
  const allReady = Deferred.unsafeMake<Snapshot, Snapshot>(schedulerId)

  // ---- events --------------------------------------------------------------
  const events: Array<TaskEvent.TaskEvent> = []
  let eventSignal = Deferred.unsafeMake<void>(schedulerId)
  const emit = options.events
    ? (event: TaskEvent.TaskEvent) => {
      events.push(event)
      const signal = eventSignal
      eventSignal = Deferred.unsafeMake<void>(schedulerId)
      Deferred.unsafeDone(signal, Exit.void)
    }
    : undefined

  // ---- the context every task fiber starts with ----------------------------
  const baseContext = runtime.context
  // spans are made directly with the tracer (Effect.withSpan costs ~14 µs a task)
  const tracer = options.spans ? options.tracer : undefined
  const parentSpan = Context.getOption(baseContext, Tracer.ParentSpan)
  const runtimeFlags = runtime.runtimeFlags
  // Loggers are adjusted once per run, not per task: they add the task's name
  // to the annotations of every line logged inside a task (found through the
  // hooks in the fiber's context), and send those lines to the events.
  const taskLoggers = HashSet.map(
    FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentLoggers),
    (logger) => Logger.mapInputOptions(logger, annotateWithTask)
  )
  const baseRefs = FiberRefs.updateAs(runtime.fiberRefs, {
    fiberId: schedulerId,
    fiberRef: FiberRef.currentLoggers,
    value: emit === undefined ? taskLoggers : HashSet.add(taskLoggers, eventLogger)
  })
  const forkTask = TaskFiber.make(baseRefs, runtimeFlags, schedulerId)

  // `declare`d fields: a field declaration would cost a defineProperty per task (measured in profiles)
  class Hooks implements TaskHooks {
    declare readonly index: number
    declare readonly name: string
    constructor(index: number, name: string) {
      this.index = index
      this.name = name
    }
    output(stream: OutputStream, line: string) {
      if (emit !== undefined) {
        emit(new TaskEvent.TaskOutput({ task: this.name, timestamp: now(), stream, line }, true))
      }
    }
    watcherFailed(cause: Cause.Cause<unknown>) {
      onWatcherFailed(this.index, cause)
    }
  }

  // ---- the effect a task fiber runs ----------------------------------------
  /**
   * With `retry`, every attempt gets a fresh scope, closed when the attempt
   * fails; the successful attempt's scope becomes the task's. Without it (the
   * fast path) the run is the task's effect itself, with the scope that
   * `startTask` put in its context.
   */
  const attemptOf = (i: number) => {
    const task = tasks[i]!
    return Effect.suspend(() => {
      const scope = TaskScope.make()
      attempts[i]++
      if (attempts[i] > 1 && emit !== undefined) {
        emit(new TaskEvent.TaskStarted({ task: task.name, timestamp: now(), attempt: attempts[i] }, true))
      }
      return Effect.onExit(Effect.provideService(task.run, Scope.Scope, scope), (exit) => {
        if (exit._tag === "Success") {
          scopes[i] = scope
          return Effect.void
        }
        return Scope.close(scope, exit)
      })
    })
  }

  const effectOf = (i: number): Effect.Effect<unknown, unknown> => {
    const task = tasks[i]!
    let effect: Effect.Effect<unknown, unknown, unknown>
    if (task.retry !== undefined) {
      effect = Effect.retry(attemptOf(i), task.retry as never)
    } else {
      attempts[i] = 1
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

  // ---- starting ------------------------------------------------------------
  const enqueue = (i: number) => {
    phase[i] = QUEUED
    startQueue.push(i)
  }

  const fitsPools = (i: number): boolean => {
    const want = tasks[i]!.pools
    for (const pool in want) if (poolFree.get(pool)! < want[pool]!) return false
    return true
  }
  const takePools = (i: number, sign: 1 | -1) => {
    const want = tasks[i]!.pools
    for (const pool in want) poolFree.set(pool, poolFree.get(pool)! - sign * want[pool]!)
  }

  const startTask = (i: number) => {
    const task = tasks[i]!
    phase[i] = RUNNING
    states[i] = "running"
    running++
    if (usesPools) takePools(i, 1)
    startTimes[i] = now()
    if (emit !== undefined) emit(new TaskEvent.TaskStarted({ task: task.name, timestamp: startTimes[i]!, attempt: 1 }, true))
    // A task whose effect is already an `Exit` (`Effect.succeed`, `Effect.void`, `Effect.fail`, …)
    // has nothing left to evaluate: a fiber would only hand back that same exit. Skip the fiber (and
    // its ~2 KB of allocations), as `Effect.runSync` does. With a span, a timeout or a retry the
    // task goes through a fiber as usual.
    if (tracer === undefined && task.retry === undefined && task.timeout === undefined && Exit.isExit(task.run)) {
      attempts[i] = 1
      return onRunExit(i, task.run)
    }
    const scope = TaskScope.make()
    scopes[i] = scope
    const context = new Map(baseContext.unsafeMap)
    // a dependency's value goes under the key of the tag it provides (the tag this task requires)
    for (let k = depStart[i]!, end = depStart[i + 1]!; k < end; k++) context.set(depKeys[k]!, values[depItems[k]!])
    context.set(Scope.Scope.key, scope)
    if (tracer !== undefined) {
      // the report's own start time: span and report agree exactly
      const span = tracer.span(task.name, parentSpan, Context.empty(), [], BigInt(Math.round(startTimes[i]! * 1e6)), "internal")
      span.attribute("taskgraph.graph", plan.source.name)
      spans[i] = span
      context.set(Tracer.ParentSpan.key, span)
    }
    context.set(TaskHooksKey, new Hooks(i, task.name))
    const taskContext = Context.unsafeMake<never>(context)
    contexts[i] = taskContext
    const fiber = forkTask(taskContext, effectOf(i))
    fibers[i] = fiber
    fiber.addObserver((exit) => onRunExit(i, exit))
  }

  // ---- run exits -----------------------------------------------------------
  const onRunExit = (i: number, exit: Exit.Exit<unknown, unknown>) => {
    fibers[i] = undefined
    running--
    const span = spans[i]
    if (span !== undefined) spans[i] = undefined
    const task = tasks[i]!
    if (exit._tag === "Success" && watcherCauses[i] === undefined) {
      values[i] = exit.value
      // an empty scope needs no context to close it: do not keep the task's services alive until then
      const scope = scopes[i]
      if (scope === undefined || TaskScope.isEmpty(scope)) contexts[i] = undefined
      readyTimes[i] = now()
      phase[i] = HOLDING
      states[i] = "ready"
      readyCount++
      if (emit !== undefined) {
        emit(new TaskEvent.TaskReady({ task: task.name, timestamp: readyTimes[i]!, durationMs: readyTimes[i]! - startTimes[i]! }, true))
      }
      if (!stopping) {
        for (let k = dependentStart[i]!, end = dependentStart[i + 1]!; k < end; k++) {
          const j = dependentItems[k]!
          if (--waitCount[j] === 0 && phase[j] === WAITING) enqueue(j)
        }
      }
      if (holders[i] === 0 && !hold) releaseQueue.push(i)
      if (hold && readyCount === n) Deferred.unsafeDone(allReady, Exit.succeed(snapshot()))
    } else {
      endTimes[i] = now()
      const cause = watcherCauses[i] ?? explain(i, exit._tag === "Failure" ? exit.cause : Cause.empty)
      causes[i] = cause
      const isTimeout = Cause.failureOption(cause).pipe(
        Option.exists((e) => e instanceof TaskTimeoutError && e.task === task.name)
      )
      const byUs = stoppedByUs[i] === 1 && watcherCauses[i] === undefined
      if (isTimeout) {
        states[i] = "timed out"
        if (emit !== undefined) {
          emit(new TaskEvent.TaskTimedOut({ task: task.name, timestamp: endTimes[i]!, timeoutMs: Duration.toMillis(Duration.decode(task.timeout!)) }, true))
        }
      } else if (Cause.isInterruptedOnly(cause)) {
        states[i] = "interrupted"
        if (emit !== undefined) emit(new TaskEvent.TaskInterrupted({ task: task.name, timestamp: endTimes[i]! }, true))
      } else {
        states[i] = "failed"
        if (emit !== undefined) emit(new TaskEvent.TaskFailed({ task: task.name, timestamp: endTimes[i]!, error: Cause.pretty(cause) }, true))
      }
      if (!byUs) onFailure(i)
      // what the failed run acquired is released before anything it depends on
      releaseQueue.push(i)
    }
    if (span !== undefined) endSpan(i, span, exit)
    pump()
  }

  /** Ends a task's span with its outcome: status and attempts as attributes, the explained cause on failure. */
  const endSpan = (i: number, span: Tracer.Span, exit: Exit.Exit<unknown, unknown>) => {
    span.attribute("taskgraph.status", states[i]!)
    span.attribute("taskgraph.attempts", attempts[i]!)
    const cause = causes[i]
    const end = states[i] === "ready" ? readyTimes[i]! : endTimes[i]!
    span.end(BigInt(Math.round(end * 1e6)), states[i] === "ready" || cause === undefined ? exit : Exit.failCause(cause))
  }

  /** Turns "Service not found: X" into a clear error when X is provided in the graph. */
  const explain = (i: number, cause: Cause.Cause<unknown>): Cause.Cause<unknown> => {
    const defect = Cause.dieOption(cause)
    if (Option.isNone(defect) || !(defect.value instanceof Error)) return cause
    // "Service not found: A (defined at …)"
    const match = /^Service not found: (.+?)(?: \(defined at .*\))?$/.exec(defect.value.message.split("\n")[0] ?? "")
    if (match === null) return cause
    const provider = plan.providerByKey.get(match[1]!)
    if (provider === undefined) return cause
    return Cause.fail(
      new UndeclaredDependencyError({ task: tasks[i]!.name, tag: match[1]!, provider: tasks[provider]!.name })
    )
  }

  const onWatcherFailed = (i: number, cause: Cause.Cause<unknown>) => {
    if (phase[i] === RUNNING) {
      if (watcherCauses[i] !== undefined) return
      watcherCauses[i] = cause
      fibers[i]?.unsafeInterruptAsFork(schedulerId)
      return
    }
    if (phase[i] !== HOLDING || states[i] === "failed") return
    states[i] = "failed"
    causes[i] = cause
    endTimes[i] = now()
    if (emit !== undefined) emit(new TaskEvent.TaskFailed({ task: tasks[i]!.name, timestamp: endTimes[i]!, error: Cause.pretty(cause) }, true))
    onFailure(i)
    pump()
  }

  // ---- failure policy --------------------------------------------------------
  const onFailure = (i: number) => {
    failures.push(i)
    // a layer (hold mode) can only be built whole: any failure stops it, whatever the mode
    if (options.mode === "fail-fast" || hold) stopAll(i)
    else stopDependents(i)
  }

  /** continue mode: skip what waits on i, interrupt what runs on its resources. */
  const stopDependents = (root: number) => {
    const stack = [root]
    const seen = new Uint8Array(n)
    seen[root] = 1
    while (stack.length > 0) {
      const i = stack.pop()!
      for (let k = dependentStart[i]!, end = dependentStart[i + 1]!; k < end; k++) {
        const j = dependentItems[k]!
        if (seen[j] === 1) continue
        seen[j] = 1
        if (phase[j] === WAITING || phase[j] === QUEUED) {
          skip(j, root)
          stack.push(j)
        } else if (phase[j] === RUNNING && rowHas(plan.dataDeps, j, i)) {
          stoppedByUs[j] = 1
          blockedBy[j] = root
          fibers[j]?.unsafeInterruptAsFork(schedulerId)
          stack.push(j)
        } else if (phase[j] === HOLDING) {
          stack.push(j)
        }
      }
    }
  }

  /** fail-fast and outer interruption: stop everything, release everything. */
  const stopAll = (root: number) => {
    if (stopping) return
    stopping = true
    hold = false
    for (let i = 0; i < n; i++) {
      switch (phase[i]) {
        case WAITING:
        case QUEUED:
          skip(i, root)
          break
        case RUNNING:
          if (fibers[i] === undefined) break // its run just ended (e.g. the root failure itself)
          stoppedByUs[i] = 1
          blockedBy[i] = root
          fibers[i]!.unsafeInterruptAsFork(schedulerId)
          break
        case HOLDING:
          if (holders[i] === 0) releaseQueue.push(i)
          break
      }
    }
  }

  const skip = (i: number, root: number) => {
    phase[i] = DONE // counted in `finish` through the done queue
    states[i] = "skipped"
    endTimes[i] = now()
    blockedBy[i] = root
    if (emit !== undefined) {
      emit(new TaskEvent.TaskSkipped({ task: tasks[i]!.name, timestamp: now(), blockedBy: root === NONE ? undefined : tasks[root]!.name }, true))
    }
    doneQueue.push(i)
  }

  // ---- releasing -----------------------------------------------------------
  const release = (i: number) => {
    const scope = scopes[i]
    const context = contexts[i] ?? baseContext
    phase[i] = CLOSING
    scopes[i] = undefined
    contexts[i] = undefined
    // nothing acquired: released on the spot, no fiber needed
    if (scope === undefined || TaskScope.isEmpty(scope)) return finishRelease(i)
    const exit = causes[i] === undefined ? Exit.void : Exit.failCause(causes[i]!)
    // closed on a fiber of its own (finalizers may take time, and others close meanwhile), with the
    // task's context: Effect restores the acquirer's refs around each finalizer, cheaply when they match
    const closing = forkTask(context, Scope.close(scope, exit))
    if (closing.unsafePoll() !== null) return finishRelease(i)
    closing.addObserver(() => {
      finishRelease(i)
      pump()
    })
  }

  const finishRelease = (i: number) => {
    releaseTimes[i] = now()
    if (states[i] === "ready") {
      states[i] = "released"
      endTimes[i] = releaseTimes[i]!
    }
    // only what became ready had resources others could see being released
    if (emit !== undefined && !Number.isNaN(readyTimes[i]!)) {
      emit(new TaskEvent.TaskReleased({ task: tasks[i]!.name, timestamp: releaseTimes[i]! }, true))
    }
    doneQueue.push(i)
  }

  /** i has nothing left: give back its pools, let go of what it held. */
  const finish = (i: number) => {
    phase[i] = DONE
    finished++
    if (usesPools && !Number.isNaN(startTimes[i]!)) takePools(i, -1)
    for (let k = depStart[i]!, end = depStart[i + 1]!; k < end; k++) {
      const d = depItems[k]!
      if (--holders[d] === 0 && phase[d] === HOLDING && !hold) releaseQueue.push(d)
    }
  }

  // ---- the loop ------------------------------------------------------------
  const pump = () => {
    if (pumping) return
    pumping = true
    for (;;) {
      if (doneHead < doneQueue.length) {
        finish(doneQueue[doneHead++]!)
        continue
      }
      if (releaseHead < releaseQueue.length) {
        const i = releaseQueue[releaseHead++]!
        if (phase[i] === HOLDING || phase[i] === RUNNING) release(i)
        continue
      }
      if (!paused && !stopping && startQueue.size() > 0 && running < concurrency) {
        if (!usesPools) {
          const i = startQueue.pop()
          // a queued task may have been skipped since (continue mode): drop it
          if (phase[i] === QUEUED) startTask(i)
          continue
        }
        // pools: start the highest queued task that fits (no head-of-line blocking)
        if (phase[startQueue.at(0)] !== QUEUED) {
          startQueue.pop() // skipped since; the ones further down are dropped when they come up
          continue
        }
        if (fitsPools(startQueue.at(0))) {
          startTask(startQueue.pop()) // the highest fits: no need to look further
          continue
        }
        let picked = -1
        for (let k = 1; k < startQueue.size(); k++) {
          const i = startQueue.at(k)
          if (phase[i] !== QUEUED || !fitsPools(i)) continue
          if (picked < 0 || ReadyQueue.before(plan.height, i, startQueue.at(picked))) picked = k
        }
        if (picked >= 0) {
          startTask(startQueue.removeAt(picked))
          continue
        }
      }
      break
    }
    if (doneHead === doneQueue.length) {
      doneQueue.length = 0
      doneHead = 0
    }
    if (releaseHead === releaseQueue.length) {
      releaseQueue.length = 0
      releaseHead = 0
    }
    pumping = false
    if (finished === n && outcome === "running") complete()
  }

  const complete = () => {
    finishedAt = now()
    outcome = failures.length > 0 ? "failed" : interrupted ? "interrupted" : "succeeded"
    if (emit !== undefined) {
      emit(new TaskEvent.RunFinished({ task: plan.source.name, timestamp: finishedAt, status: outcome, durationMs: finishedAt - startedAt }, true))
    }
    const snap = snapshot()
    if (outcome !== "succeeded") Deferred.unsafeDone(allReady, Exit.fail(snap))
    else Deferred.unsafeDone(allReady, Exit.succeed(snap))
    Deferred.unsafeDone(done, Exit.succeed(snap))
  }

  const snapshot = (): Snapshot => ({
    plan,
    startedAt,
    finishedAt,
    outcome,
    states: states.slice(),
    // typed-array copies: Array.from would box 4 numbers a task
    attempts: attempts.slice(),
    startTimes: startTimes.slice(),
    readyTimes: readyTimes.slice(),
    endTimes: endTimes.slice(),
    releaseTimes: releaseTimes.slice(),
    values,
    causes,
    blockedBy: blockedBy.slice(),
    failures: failures.slice()
  })

  return {
    start: () => {
      startedAt = now()
      for (let i = 0; i < n; i++) if (waitCount[i] === 0) enqueue(i)
      if (n === 0) {
        if (hold) Deferred.unsafeDone(allReady, Exit.succeed(snapshot()))
      }
      pump()
    },
    interrupt: () => {
      if (outcome !== "running") return
      interrupted = true
      stopAll(NONE)
      pump()
    },
    pause: () => {
      paused = true
    },
    resume: () => {
      paused = false
      pump()
    },
    releaseAll: () => {
      hold = false
      for (let i = 0; i < n; i++) if (phase[i] === HOLDING && holders[i] === 0) releaseQueue.push(i)
      pump()
    },
    done,
    allReady,
    snapshot,
    events,
    nextEvent: () => eventSignal
  }
}

const hooksOf = (fiberRefs: FiberRefs.FiberRefs) =>
  hooksFrom(FiberRefs.getOrDefault(fiberRefs, FiberRef.currentContext), fiberRefs)

/** Adds `task=<name>` to the annotations of a line logged inside a task. */
const annotateWithTask = <A>(options: Logger.Logger.Options<A>): Logger.Logger.Options<A> => {
  const hooks = hooksOf(options.context)
  if (hooks === undefined || HashMap.has(options.annotations, "task")) return options
  return { ...options, annotations: HashMap.set(options.annotations, "task", hooks.name) }
}

/** Sends `Effect.log` lines of a task to its output events. */
const eventLogger = Logger.make<unknown, void>(({ context, message }) => {
  const hooks = hooksOf(context)
  if (hooks === undefined) return
  const parts = Array.isArray(message) ? message : [message]
  hooks.output("log", parts.map((p) => (typeof p === "string" ? p : JSON.stringify(p))).join(" "))
})

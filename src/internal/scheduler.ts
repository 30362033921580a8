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
 * What lives elsewhere: pool accounting (`pools.ts`), the retry and timeout
 * around a task's run and what a failed run's cause means (`taskRun.ts`), the
 * hooks and loggers a task's fibers see (`taskLogging.ts`), the event log
 * (`eventLog.ts`), the ready heap (`readyQueue.ts`), the fibers
 * (`taskFiber.ts`) and scopes (`taskScope.ts`).
 *
 * A task's phase (this module) and the state a user sees (`TaskState`):
 *
 * ```text
 *   WAITING ──all it waits for is ready──▶ QUEUED ──started by pump──▶ RUNNING
 *   "pending"                              "pending"                   "running"
 *
 *   RUNNING ──run succeeded──▶ HOLDING "ready" ──no holder left──▶ CLOSING ──▶ DONE "released"
 *   RUNNING ──run failed─────▶ CLOSING ──▶ DONE   "failed" | "timed out" | "interrupted"
 *   HOLDING ──a watcher failed: "failed"; released like any other
 *   WAITING, QUEUED ──what it waits for failed, or the run stops──▶ DONE "skipped"
 * ```
 *
 * Failure handling: a run that did not succeed and a failed watcher both end
 * in `endTask`; `onFailure` applies the mode (`stopDependents` for
 * "continue", `stopAll` for "fail-fast", a layer, or an outer interruption).
 *
 * @internal
 */
import * as ServiceNotFound from "./serviceNotFound.js"
import type { Clock, Fiber, Runtime } from "effect"
import { Cause, Context, Deferred, Duration, Exit, FiberId, Option, Scope, Tracer } from "effect"
import type { TaskState } from "../RunReport.js"
import * as TaskEvent from "../TaskEvent.js"
import { UndeclaredDependencyError } from "../TaskError.js"
import * as ContextMap from "./contextMap.js"
import * as EventLog from "./eventLog.js"
import * as Nesting from "./nesting.js"
import type { CompiledPlan } from "./plan.js"
import { rowHas } from "./plan.js"
import * as Pools from "./pools.js"
import * as ReadyQueue from "./readyQueue.js"
import * as TaskFiber from "./taskFiber.js"
import { TaskHooksKey } from "./taskHooks.js"
import * as TaskLogging from "./taskLogging.js"
import * as TaskRun from "./taskRun.js"
import * as TaskScope from "./taskScope.js"

/** Phases of a task's life in the scheduler (not the reported status). */
const WAITING = 0
const QUEUED = 1
const RUNNING = 2
const HOLDING = 3 // run succeeded, resources held
const CLOSING = 4 // scope closing
const DONE = 5 // nothing of it is left

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
  /**
   * A run inside a task (`nesting.ts`): the enclosing task's offer. The run
   * then takes its slots and pools from the tree's capacity (`concurrency`
   * and `pools` bound it further and add local pools), its events go to the
   * enclosing run under `names`, and its tasks join the enclosing report.
   */
  readonly nest?: Nesting.NestPoint | undefined
  /** the full name of a nested run's group (`<task> / <graph>`, or `<task> / <graph> #2`, …: `Nesting.name`) */
  readonly group?: string | undefined
  /** the full names of the tasks of a nested run (`<group> / <name>`) */
  readonly names?: ReadonlyArray<string> | undefined
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
  /** the full names of the tasks (a nested run), else `undefined`: the plan's names */
  readonly fullNames: ReadonlyArray<string> | undefined
  /** child runs started inside tasks, in the order they started */
  readonly children: ReadonlyArray<{ readonly task: number; readonly run: Nesting.ChildRun }>
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
  /** The final snapshot once the run is over and everything released (`done`'s value), else undefined. */
  readonly finalSnapshot: () => Snapshot | undefined
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
  const depPicks = plan.dataPicks
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

  // ---- slots and pools: the tree's capacity (nesting.ts) ------------------
  const nest = options.nest
  const capacity = nest?.capacity ?? Nesting.makeCapacity(options.concurrency, options.pools)
  if (nest === undefined) capacity.seed = () => plan.names
  // a nested run's own bound (its `concurrency` option); a root run is bounded by the capacity alone
  const ownLimit = nest === undefined ? Number.POSITIVE_INFINITY : options.concurrency
  /** slots lent by the enclosing task while it waits for this run (taken at start) */
  let lentFree = 0
  let lent = 0
  const onLentSlot = nest === undefined ? undefined : new Uint8Array(n)
  /** something was given back during this pump: the other runs of the tree may start something */
  let gaveBack = false
  const pools = nest === undefined
    ? Pools.make({}, (i) => tasks[i]!.pools, capacity.poolFree)
    : Pools.make(options.pools, (i) => tasks[i]!.pools, capacity.poolFree)
  const fullNames = options.names
  const nameOf = (i: number): string => fullNames === undefined ? tasks[i]!.name : fullNames[i]!
  const children: Array<{ readonly task: number; readonly run: Nesting.ChildRun }> = []
  /** per task: its slot is lent to a child run (allocated on the first child run) */
  let lending: Uint8Array | undefined
  const isQueued = (i: number) => phase[i] === QUEUED

  // Both signals are made on first use: a Deferred costs tens of µs to make (measured), more than a
  // one-task run otherwise needs, and a run whose tasks all finish synchronously is over before anyone
  // waits on `done` (see `finalSnapshot`); `allReady` only matters to `toLayer`.
  let done: Deferred.Deferred<Snapshot> | undefined
  let doneExit: Exit.Exit<Snapshot> | undefined
  let allReady: Deferred.Deferred<Snapshot, Snapshot> | undefined
  let allReadyExit: Exit.Exit<Snapshot, Snapshot> | undefined
  const settleDone = (exit: Exit.Exit<Snapshot>) => {
    doneExit ??= exit
    if (done !== undefined) Deferred.unsafeDone(done, exit)
  }
  const settleAllReady = (exit: Exit.Exit<Snapshot, Snapshot>) => {
    allReadyExit ??= exit
    if (allReady !== undefined) Deferred.unsafeDone(allReady, exit)
  }

  // ---- events --------------------------------------------------------------
  const eventLog = EventLog.make(schedulerId)
  const up = nest?.emit
  // a nested run's events also go to the enclosing run (its RunFinished does not: the enclosing run goes on)
  const emit = up === undefined
    ? options.events ? eventLog.emit : undefined
    : options.events
    ? (event: TaskEvent.TaskEvent) => {
      eventLog.emit(event)
      up(event)
    }
    : up

  // ---- the context every task fiber starts with ----------------------------
  const baseContext = runtime.context
  // spans are made directly with the tracer (Effect.withSpan costs ~14 µs a task)
  const tracer = options.spans ? options.tracer : undefined
  const parentSpan = Context.getOption(baseContext, Tracer.ParentSpan)
  const forkTask = TaskFiber.make(
    TaskLogging.fiberRefs(runtime.fiberRefs, schedulerId, emit !== undefined),
    runtime.runtimeFlags,
    schedulerId
  )
  const makeHooks = TaskLogging.hooksMaker({
    output: emit === undefined ? undefined : (task, stream, line) =>
      emit(new TaskEvent.TaskOutput({ task, timestamp: now(), stream, line }, true)),
    watcherFailed: (i, cause) => onWatcherFailed(i, cause),
    nest: (i) => nestPoint(i)
  })

  /** What task i offers a graph run started in its fiber. */
  const nestPoint = (i: number): Nesting.NestPoint => {
    const want = tasks[i]!.pools
    const held: Record<string, number> = { ...nest?.held }
    for (const pool in want) held[pool] = (held[pool] ?? 0) + want[pool]!
    return {
      path: nameOf(i),
      capacity,
      mode: options.mode,
      held,
      emit,
      lend: () => {
        lending ??= new Uint8Array(n)
        // only a running task holds a slot (a watcher may start a run after its task is ready)
        if (phase[i] !== RUNNING || lending[i] === 1) return 0
        lending[i] = 1
        return 1
      },
      unlend: () => {
        if (lending !== undefined) lending[i] = 0
      },
      attach: (run) => {
        children.push({ task: i, run })
      }
    }
  }
  /** What the scheduler learns from a task's attempts (`taskRun.ts`); one object for the run. */
  const taskAttempts: TaskRun.Attempts = {
    begin: (i) => {
      attempts[i]++
      if (attempts[i] > 1 && emit !== undefined) {
        emit(new TaskEvent.TaskStarted({ task: nameOf(i), timestamp: now(), attempt: attempts[i] }, true))
      }
    },
    keep: (i, scope) => {
      scopes[i] = scope
    }
  }

  // ---- starting ------------------------------------------------------------
  const enqueue = (i: number) => {
    phase[i] = QUEUED
    startQueue.push(i)
  }

  const startTask = (i: number) => {
    const task = tasks[i]!
    phase[i] = RUNNING
    states[i] = "running"
    running++
    if (lentFree > 0) {
      lentFree--
      onLentSlot![i] = 1
    } else {
      capacity.used++
    }
    if (pools !== undefined) pools.take(i)
    startTimes[i] = now()
    if (emit !== undefined) emit(new TaskEvent.TaskStarted({ task: nameOf(i), timestamp: startTimes[i]!, attempt: 1 }, true))
    // A task whose effect is already an `Exit` (`Effect.succeed`, `Effect.void`, `Effect.fail`, …)
    // has nothing left to evaluate: a fiber would only hand back that same exit. Skip the fiber (and
    // its ~2 KB of allocations), as `Effect.runSync` does. With a span, a timeout or a retry the
    // task goes through a fiber as usual.
    if (tracer === undefined && TaskRun.isPlain(task) && TaskRun.isExit(task.run)) {
      attempts[i] = 1
      return onRunExit(i, task.run)
    }
    const scope = TaskScope.make()
    scopes[i] = scope
    const context = ContextMap.extend(baseContext)
    // a dependency's value goes under the key of the tag it provides (the tag this task requires);
    // from a provider that publishes a Context (Task.fromLayer), the service under that key
    if (depPicks === undefined) {
      for (let k = depStart[i]!, end = depStart[i + 1]!; k < end; k++) context.set(depKeys[k]!, values[depItems[k]!])
    } else {
      for (let k = depStart[i]!, end = depStart[i + 1]!; k < end; k++) {
        const value = values[depItems[k]!]
        context.set(depKeys[k]!, depPicks[k] === 1 ? ContextMap.get(value as Context.Context<never>, depKeys[k]!) : value)
      }
    }
    context.set(Scope.Scope.key, scope)
    if (tracer !== undefined) {
      // the report's own start time: span and report agree exactly
      const span = tracer.span(task.name, parentSpan, Context.empty(), [], BigInt(Math.round(startTimes[i]! * 1e6)), "internal")
      span.attribute("taskgraph.graph", plan.source.name)
      spans[i] = span
      context.set(Tracer.ParentSpan.key, span)
    }
    context.set(TaskHooksKey, makeHooks(i, nameOf(i)))
    const taskContext = ContextMap.build(baseContext, context)
    contexts[i] = taskContext
    const fiber = forkTask(taskContext, TaskRun.effectOf(task, i, taskAttempts))
    fibers[i] = fiber
    fiber.addObserver((exit) => onRunExit(i, exit))
  }

  // ---- run exits -----------------------------------------------------------
  const onRunExit = (i: number, exit: Exit.Exit<unknown, unknown>) => {
    fibers[i] = undefined
    running--
    if (onLentSlot !== undefined && onLentSlot[i] === 1) {
      onLentSlot[i] = 0
      lentFree++
    } else {
      capacity.used--
      gaveBack = true
    }
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
        emit(new TaskEvent.TaskReady({ task: nameOf(i), timestamp: readyTimes[i]!, durationMs: readyTimes[i]! - startTimes[i]! }, true))
      }
      if (!stopping) {
        for (let k = dependentStart[i]!, end = dependentStart[i + 1]!; k < end; k++) {
          const j = dependentItems[k]!
          if (--waitCount[j] === 0 && phase[j] === WAITING) enqueue(j)
        }
      }
      if (holders[i] === 0 && !hold) releaseQueue.push(i)
      if (hold && readyCount === n) settleAllReady(Exit.succeed(snapshot()))
    } else {
      const cause = watcherCauses[i] ?? explain(i, TaskRun.causeOf(exit))
      const byUs = stoppedByUs[i] === 1 && watcherCauses[i] === undefined
      endTask(i, TaskRun.ending(task, cause), cause)
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
    if (Option.isNone(defect)) return cause
    // "Service not found: A (defined at …)", its shape checked at load time
    const tag = ServiceNotFound.tagOf(defect.value)
    if (tag === undefined) return cause
    const provider = plan.providerByKey.get(tag)
    if (provider === undefined) return cause
    return Cause.fail(new UndeclaredDependencyError({ task: tasks[i]!.name, tag, provider: tasks[provider]!.name }))
  }

  const onWatcherFailed = (i: number, cause: Cause.Cause<unknown>) => {
    if (phase[i] === RUNNING) {
      if (watcherCauses[i] !== undefined) return
      watcherCauses[i] = cause
      fibers[i]?.unsafeInterruptAsFork(schedulerId)
      return
    }
    if (phase[i] !== HOLDING || states[i] === "failed") return
    endTask(i, "failed", cause)
    onFailure(i)
    pump()
  }

  /** Task i's run or its resources failed (or were interrupted): record it and tell the listeners. */
  const endTask = (i: number, state: TaskRun.Ending, cause: Cause.Cause<unknown>) => {
    const task = tasks[i]!
    const at = now()
    endTimes[i] = at
    causes[i] = cause
    states[i] = state
    if (emit === undefined) return
    switch (state) {
      case "timed out":
        return emit(new TaskEvent.TaskTimedOut({ task: nameOf(i), timestamp: at, timeoutMs: Duration.toMillis(Duration.decode(task.timeout!)) }, true))
      case "interrupted":
        return emit(new TaskEvent.TaskInterrupted({ task: nameOf(i), timestamp: at }, true))
      case "failed":
        return emit(new TaskEvent.TaskFailed({ task: nameOf(i), timestamp: at, error: Cause.pretty(cause) }, true))
    }
  }

  /** Interrupts running task i on behalf of `root` (its failure, or NONE: the run stops). */
  const stopRunning = (i: number, root: number) => {
    stoppedByUs[i] = 1
    blockedBy[i] = root
    fibers[i]?.unsafeInterruptAsFork(schedulerId)
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
          stopRunning(j, root)
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
          // no fiber: its run just ended (e.g. the root failure itself)
          if (fibers[i] !== undefined) stopRunning(i, root)
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
      emit(new TaskEvent.TaskSkipped({ task: nameOf(i), timestamp: now(), blockedBy: root === NONE ? undefined : nameOf(root) }, true))
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
      emit(new TaskEvent.TaskReleased({ task: nameOf(i), timestamp: releaseTimes[i]! }, true))
    }
    doneQueue.push(i)
  }

  /** i has nothing left: give back its pools, let go of what it held. */
  const finish = (i: number) => {
    phase[i] = DONE
    finished++
    if (pools !== undefined && !Number.isNaN(startTimes[i]!)) {
      pools.give(i)
      gaveBack = true
    }
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
      if (
        !paused && !stopping && startQueue.size() > 0 && running < ownLimit &&
        (lentFree > 0 || capacity.used < capacity.limit)
      ) {
        if (pools === undefined) {
          const i = startQueue.pop()
          // a queued task may have been skipped since (continue mode): drop it
          if (phase[i] === QUEUED) startTask(i)
          continue
        }
        // pools: start the highest queued task that fits (no head-of-line blocking)
        const k = Pools.pick(pools, startQueue, plan.height, isQueued)
        if (k === Pools.STALE_TOP) {
          startQueue.pop() // skipped since; the ones further down are dropped when they come up
          continue
        }
        if (k !== Pools.NOTHING) {
          startTask(k === 0 ? startQueue.pop() : startQueue.removeAt(k))
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
    if (gaveBack) {
      gaveBack = false
      Nesting.wake(capacity, pump)
    }
  }

  const complete = () => {
    finishedAt = now()
    outcome = failures.length > 0 ? "failed" : interrupted ? "interrupted" : "succeeded"
    capacity.pumps.delete(pump)
    if (lent > 0) nest!.unlend()
    if (options.events) {
      eventLog.emit(new TaskEvent.RunFinished({ task: plan.source.name, timestamp: finishedAt, status: outcome, durationMs: finishedAt - startedAt }, true))
    }
    const snap = snapshot()
    settleAllReady(outcome !== "succeeded" ? Exit.fail(snap) : Exit.succeed(snap))
    settleDone(Exit.succeed(snap))
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
    failures: failures.slice(),
    fullNames,
    children: children.slice()
  })

  return {
    start: () => {
      startedAt = now()
      capacity.pumps.add(pump)
      if (nest !== undefined) {
        lent = lentFree = nest.lend()
        nest.attach({ graph: plan.source.name, group: options.group ?? `${nest.path} / ${plan.source.name}`, snapshot })
      }
      for (let i = 0; i < n; i++) if (waitCount[i] === 0) enqueue(i)
      if (n === 0) {
        if (hold) settleAllReady(Exit.succeed(snapshot()))
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
    get done() {
      if (done === undefined) {
        done = Deferred.unsafeMake<Snapshot>(schedulerId)
        if (doneExit !== undefined) Deferred.unsafeDone(done, doneExit)
      }
      return done
    },
    get allReady() {
      if (allReady === undefined) {
        allReady = Deferred.unsafeMake<Snapshot, Snapshot>(schedulerId)
        if (allReadyExit !== undefined) Deferred.unsafeDone(allReady, allReadyExit)
      }
      return allReady
    },
    finalSnapshot: () => (doneExit !== undefined && Exit.isSuccess(doneExit) ? doneExit.value : undefined),
    snapshot,
    events: options.events ? eventLog.events : [],
    nextEvent: eventLog.next
  }
}


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
import type { Clock, Runtime } from "effect"
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
import * as InternalTask from "./task.js"
import * as ReadyQueue from "./readyQueue.js"
import * as TaskFiber from "./taskFiber.js"
import { TaskHooksKey } from "./taskHooks.js"
import * as TaskLogging from "./taskLogging.js"
import * as TaskRun from "./taskRun.js"
import * as TaskScope from "./taskScope.js"
import { prettyCause } from "./errorText.js"

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
  /** a skipped or interrupted task: the failed task it needed (directly or through others), else NONE */
  readonly blockedBy: ArrayLike<number>
  /** a skipped or interrupted task that did not need it: the failure that stopped the run; `undefined` when none did */
  readonly stoppedBy: ArrayLike<number> | undefined
  /** task indices whose failure made the run fail, in order */
  readonly failures: ReadonlyArray<number>
  /** tasks that succeeded and then failed to release (a finalizer died): 1, else 0; `undefined` when none did */
  readonly releaseFailed: Uint8Array | undefined
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

/** What runs a task and can be interrupted: its fiber, or a `Task.promise` call's stand-in. */
interface Interruptible {
  readonly unsafeInterruptAsFork: (fiberId: FiberId.FiberId) => void
}

/** The signal of a `Task.promise` call that does not take one: never aborted. */
const neverAborted: AbortSignal = new AbortController().signal

/** @internal */
export const make = (
  plan: CompiledPlan,
  runtime: Runtime.Runtime<never>,
  clock: Clock.Clock,
  options: SchedulerOptions
): Scheduler => new Run(plan, runtime, clock, options)

/**
 * One run of a plan. A class rather than a closure for the first run's sake: V8 compiles a closure's
 * whole body, inner functions included, the first time it is called (the 24 KB closure `make` was
 * up to ~0.65 ms of a one-task run, measured by compiling it ahead), while a method is compiled only
 * when called: a one-task run went from 4.06 to 3.70 ms (bench/README.md, "Fourth round"). The state
 * is mutated only by these methods.
 */
class Run implements Scheduler {
  private readonly n: number
  private readonly tasks: CompiledPlan["tasks"]
  private readonly schedulerId = FiberId.make(-1, 0) as FiberId.Runtime

  // ---- per-task state: plain arrays, private to this run --------------------
  private readonly phase: Uint8Array
  private readonly states: Array<TaskState>
  private readonly waitCount: Int32Array
  private readonly holders: Int32Array
  private readonly attempts: Int32Array
  private readonly startTimes: Float64Array
  private readonly readyTimes: Float64Array
  private readonly endTimes: Float64Array
  private readonly releaseTimes: Float64Array
  private readonly values: Array<unknown>
  private readonly causes: Array<Cause.Cause<unknown> | undefined>
  private readonly blockedBy: Int32Array
  /** made when a failure stops the whole run (fail-fast): for the tasks that did not need it */
  private stoppedBy: Int32Array | undefined
  /** what runs task i: its fiber, or the stand-in of a `Task.promise` call (`startPromise`) */
  private readonly fibers: Array<Interruptible | undefined>
  private readonly scopes: Array<TaskScope.TaskScope | undefined>
  /** a task's context, kept until its release: its finalizers run with it, as when acquired */
  private readonly contexts: Array<Context.Context<never> | undefined>
  private readonly spans: Array<Tracer.Span | undefined>
  private readonly watcherCauses: Array<Cause.Cause<unknown> | undefined>
  private readonly stoppedByUs: Uint8Array
  private readonly failures: Array<number> = []
  private releaseFailed: Uint8Array | undefined = undefined

  // edges as flat arrays (compressed rows, see plan.ts): row i is items[start[i]] … items[start[i + 1] - 1]
  private readonly depStart: Int32Array
  private readonly depItems: Int32Array
  private readonly depKeys: ReadonlyArray<string>
  private readonly depPicks: CompiledPlan["dataPicks"]
  private readonly dependentStart: Int32Array
  private readonly dependentItems: Int32Array

  // ---- queues drained by `pump` -------------------------------------------
  // Ready tasks: a heap, those with the longest path ahead first (readyQueue.ts). The release and
  // done queues: plain arrays with a head index, the hot path of a 100k-task run.
  private readonly startQueue: ReadyQueue.ReadyQueue
  private readonly releaseQueue: Array<number> = []
  private releaseHead = 0
  private readonly doneQueue: Array<number> = []
  private doneHead = 0
  private pumping = false

  private running = 0
  private finished = 0
  private readyCount = 0
  private paused = false
  private stopping = false
  private interrupted = false
  private hold: boolean
  private startedAt = NaN
  private finishedAt: number | undefined = undefined
  private outcome: Snapshot["outcome"] = "running"

  // ---- slots and pools: the tree's capacity (nesting.ts) ------------------
  private readonly nest: Nesting.NestPoint | undefined
  private readonly capacity: Nesting.Capacity
  /** a nested run's own bound (its `concurrency` option); a root run is bounded by the capacity alone */
  private readonly ownLimit: number
  /** slots lent by the enclosing task while it waits for this run (taken at start) */
  private lentFree = 0
  private lent = 0
  private readonly onLentSlot: Uint8Array | undefined
  /** something was given back during this pump: the other runs of the tree may start something */
  private gaveBack = false
  private readonly pools: Pools.Pools | undefined
  private readonly fullNames: ReadonlyArray<string> | undefined
  private readonly children: Array<{ readonly task: number; readonly run: Nesting.ChildRun }> = []
  /** per task: its slot is lent to a child run (allocated on the first child run) */
  private lending: Uint8Array | undefined = undefined
  private readonly isQueued = (i: number) => this.phase[i] === QUEUED

  // Both signals are made on first use: a Deferred costs tens of µs to make (measured), more than a
  // one-task run otherwise needs, and a run whose tasks all finish synchronously is over before anyone
  // waits on `done` (see `finalSnapshot`); `allReady` only matters to `toLayer`.
  private doneSignal: Deferred.Deferred<Snapshot> | undefined = undefined
  private doneExit: Exit.Exit<Snapshot> | undefined = undefined
  private allReadySignal: Deferred.Deferred<Snapshot, Snapshot> | undefined = undefined
  private allReadyExit: Exit.Exit<Snapshot, Snapshot> | undefined = undefined

  // ---- events --------------------------------------------------------------
  private readonly eventLog: EventLog.EventLog
  private readonly emit: ((event: TaskEvent.TaskEvent) => void) | undefined
  readonly events: ReadonlyArray<TaskEvent.TaskEvent>
  readonly nextEvent: () => Deferred.Deferred<void>

  // ---- the context every task fiber starts with ----------------------------
  private readonly baseContext: Context.Context<never>
  private readonly tracer: Tracer.Tracer | undefined
  private readonly parentSpan: Option.Option<Tracer.AnySpan>
  private readonly forkTask: TaskFiber.ForkTask
  private readonly makeHooks: ReturnType<typeof TaskLogging.hooksMaker>
  /** What the scheduler learns from a task's attempts (`taskRun.ts`); one object for the run. */
  private readonly taskAttempts: TaskRun.Attempts
  /** `pump` as a value: the tree's capacity wakes the runs that share it (nesting.ts) */
  private readonly pumpFn = () => this.pump()

  constructor(
    private readonly plan: CompiledPlan,
    runtime: Runtime.Runtime<never>,
    private readonly clock: Clock.Clock,
    private readonly options: SchedulerOptions
  ) {
    const n = plan.n
    this.n = n
    this.tasks = plan.tasks
    this.phase = new Uint8Array(n)
    this.states = new Array(n).fill("pending")
    this.waitCount = new Int32Array(n)
    this.holders = plan.holders.slice()
    this.attempts = new Int32Array(n)
    this.startTimes = new Float64Array(n).fill(NaN)
    this.readyTimes = new Float64Array(n).fill(NaN)
    this.endTimes = new Float64Array(n).fill(NaN)
    this.releaseTimes = new Float64Array(n).fill(NaN)
    this.values = new Array(n)
    this.causes = new Array(n)
    this.blockedBy = new Int32Array(n).fill(NONE)
    this.fibers = new Array(n)
    this.scopes = new Array(n)
    this.contexts = new Array(n)
    this.spans = options.spans ? new Array(n) : []
    this.watcherCauses = new Array(n)
    this.stoppedByUs = new Uint8Array(n)
    const waitStart = plan.waitsFor.start
    for (let i = 0; i < n; i++) this.waitCount[i] = waitStart[i + 1]! - waitStart[i]!
    this.depStart = plan.dataDeps.start
    this.depItems = plan.dataDeps.items
    this.depKeys = plan.dataKeys
    this.depPicks = plan.dataPicks
    this.dependentStart = plan.dependents.start
    this.dependentItems = plan.dependents.items
    this.startQueue = ReadyQueue.make(n, plan.height)
    this.hold = options.hold

    const nest = options.nest
    this.nest = nest
    const capacity = nest?.capacity ?? Nesting.makeCapacity(options.concurrency, options.pools)
    this.capacity = capacity
    if (nest === undefined) capacity.seed = () => plan.names
    this.ownLimit = nest === undefined ? Number.POSITIVE_INFINITY : options.concurrency
    this.onLentSlot = nest === undefined ? undefined : new Uint8Array(n)
    const tasks = plan.tasks
    // a root run's pools are the capacity's own; a nested run's `pools` option adds local ones
    this.pools = Pools.make(nest === undefined ? {} : options.pools, (i) => tasks[i]!.pools, capacity.poolFree)
    this.fullNames = options.names

    const eventLog = EventLog.make(this.schedulerId)
    this.eventLog = eventLog
    this.events = options.events ? eventLog.events : []
    this.nextEvent = eventLog.next
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
    this.emit = emit

    this.baseContext = runtime.context
    // spans are made directly with the tracer (Effect.withSpan costs ~14 µs a task)
    this.tracer = options.spans ? options.tracer : undefined
    this.parentSpan = Context.getOption(this.baseContext, Tracer.ParentSpan)
    this.forkTask = TaskFiber.make(
      TaskLogging.fiberRefs(runtime.fiberRefs, this.schedulerId, emit !== undefined),
      runtime.runtimeFlags,
      this.schedulerId
    )
    this.makeHooks = TaskLogging.hooksMaker({
      output: emit === undefined ? undefined : (task, stream, line, level) =>
        emit(
          new TaskEvent.TaskOutput(
            level === undefined ? { task, timestamp: this.now(), stream, line } : { task, timestamp: this.now(), stream, line, level },
            true
          )
        ),
      watcherFailed: (i, cause) => this.onWatcherFailed(i, cause),
      nest: (i) => this.nestPoint(i)
    })
    this.taskAttempts = {
      begin: (i) => {
        this.attempts[i]++
        if (this.attempts[i]! > 1 && this.emit !== undefined) {
          this.emit(new TaskEvent.TaskStarted({ task: this.nameOf(i), timestamp: this.now(), attempt: this.attempts[i]! }, true))
        }
      },
      keep: (i, scope) => {
        this.scopes[i] = scope
      }
    }
  }

  private now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  private nameOf(i: number): string {
    return this.fullNames === undefined ? this.tasks[i]!.name : this.fullNames[i]!
  }

  private settleDone(exit: Exit.Exit<Snapshot>): void {
    this.doneExit ??= exit
    if (this.doneSignal !== undefined) Deferred.unsafeDone(this.doneSignal, exit)
  }

  private settleAllReady(exit: Exit.Exit<Snapshot, Snapshot>): void {
    this.allReadyExit ??= exit
    if (this.allReadySignal !== undefined) Deferred.unsafeDone(this.allReadySignal, exit)
  }

  /** What task i offers a graph run started in its fiber. */
  private nestPoint(i: number): Nesting.NestPoint {
    const want = this.tasks[i]!.pools
    const held: Record<string, number> = { ...this.nest?.held }
    for (const pool in want) held[pool] = (held[pool] ?? 0) + want[pool]!
    return {
      path: this.nameOf(i),
      capacity: this.capacity,
      mode: this.options.mode,
      held,
      emit: this.emit,
      lend: () => {
        const lending = this.lending ??= new Uint8Array(this.n)
        // only a running task holds a slot (a watcher may start a run after its task is ready)
        if (this.phase[i] !== RUNNING || lending[i] === 1) return 0
        lending[i] = 1
        return 1
      },
      unlend: () => {
        if (this.lending !== undefined) this.lending[i] = 0
      },
      attach: (run) => {
        this.children.push({ task: i, run })
      }
    }
  }

  // ---- starting ------------------------------------------------------------
  private enqueue(i: number): void {
    this.phase[i] = QUEUED
    this.startQueue.push(i)
  }

  private startTask(i: number): void {
    const task = this.tasks[i]!
    this.phase[i] = RUNNING
    this.states[i] = "running"
    this.running++
    if (this.lentFree > 0) {
      this.lentFree--
      this.onLentSlot![i] = 1
    } else {
      this.capacity.used++
    }
    if (this.pools !== undefined) this.pools.take(i)
    const startTime = this.now()
    this.startTimes[i] = startTime
    const emit = this.emit
    if (emit !== undefined) emit(new TaskEvent.TaskStarted({ task: this.nameOf(i), timestamp: startTime, attempt: 1 }, true))
    // A task whose effect is already an `Exit` (`Effect.succeed`, `Effect.void`, `Effect.fail`, …)
    // has nothing left to evaluate: a fiber would only hand back that same exit. Skip the fiber (and
    // its ~2 KB of allocations), as `Effect.runSync` does. With a span, a timeout or a retry the
    // task goes through a fiber as usual.
    const tracer = this.tracer
    if (tracer === undefined && TaskRun.isPlain(task) && TaskRun.isExit(task.run)) {
      this.attempts[i] = 1
      return this.onRunExit(i, task.run)
    }
    // `Task.sync`: the user asked for a plain call without a fiber (see its docs for what that gives
    // up); the call happens here, as the fiber would have made it, and its outcome is the run's exit
    const call = InternalTask.callOf(task)
    if (call !== undefined) {
      this.attempts[i] = 1
      if (tracer !== undefined) this.spans[i] = this.startSpan(tracer, i, startTime)
      // the services its `run` would see, less what only a fiber has (scope, hooks, span); the plan
      // gave this context every service the task requires, which is all the call reads
      const services = (this.depStart[i] === this.depStart[i + 1]
        ? this.baseContext
        : ContextMap.build(this.baseContext, this.addDependencies(i, ContextMap.extend(this.baseContext)))) as Context.Context<unknown>
      if (call._tag === "Promise") return this.startPromise(i, call.f, services)
      let exit: Exit.Exit<unknown, unknown>
      try {
        exit = Exit.succeed(call.f(services))
      } catch (defect) {
        exit = Exit.die(defect)
      }
      return this.onRunExit(i, exit)
    }
    const scope = TaskScope.make()
    this.scopes[i] = scope
    const context = this.addDependencies(i, ContextMap.extend(this.baseContext))
    context.set(Scope.Scope.key, scope)
    if (tracer !== undefined) {
      const span = this.startSpan(tracer, i, startTime)
      this.spans[i] = span
      context.set(Tracer.ParentSpan.key, span)
    }
    context.set(TaskHooksKey, this.makeHooks(i, this.nameOf(i)))
    const taskContext = ContextMap.build(this.baseContext, context)
    this.contexts[i] = taskContext
    const fiber = this.forkTask(taskContext, TaskRun.effectOf(task, i, this.taskAttempts))
    this.fibers[i] = fiber
    fiber.addObserver((exit) => this.onRunExit(i, exit))
  }

  /**
   * `Task.promise`: makes the call and ends task i when its Promise settles. In flight, `fibers[i]` is
   * a stand-in whose interruption aborts the call's signal and ends the task as interrupted, without
   * waiting for the Promise (what `Effect.promise` does), in a later microtask as a fiber's would.
   */
  private startPromise(
    i: number,
    f: (services: Context.Context<unknown>, signal: AbortSignal) => PromiseLike<unknown>,
    services: Context.Context<unknown>
  ): void {
    // a call that does not take the signal gets one that is never aborted (no controller to make)
    const controller = f.length >= 2 ? new AbortController() : undefined
    let settled = false
    const settle = (exit: Exit.Exit<unknown, unknown>) => {
      if (settled) return
      settled = true
      this.onRunExit(i, exit)
    }
    let pending: PromiseLike<unknown>
    try {
      pending = f(services, controller === undefined ? neverAborted : controller.signal)
      pending.then((value) => settle(Exit.succeed(value)), (defect: unknown) => settle(Exit.die(defect)))
    } catch (defect) {
      return settle(Exit.die(defect))
    }
    if (settled) return
    this.fibers[i] = {
      unsafeInterruptAsFork: (by) => {
        if (settled) return
        settled = true
        controller?.abort()
        queueMicrotask(() => this.onRunExit(i, Exit.interrupt(by)))
      }
    }
  }

  /**
   * Task i's dependencies set on a task's context entries: a dependency's value goes under the key of
   * the tag it provides (the tag this task requires); from a provider that publishes a Context
   * (Task.fromLayer), the service under that key.
   */
  private addDependencies(i: number, context: Map<string, unknown>): Map<string, unknown> {
    const depStart = this.depStart
    const depItems = this.depItems
    const depKeys = this.depKeys
    const depPicks = this.depPicks
    const values = this.values
    if (depPicks === undefined) {
      for (let k = depStart[i]!, end = depStart[i + 1]!; k < end; k++) context.set(depKeys[k]!, values[depItems[k]!])
    } else {
      for (let k = depStart[i]!, end = depStart[i + 1]!; k < end; k++) {
        const value = values[depItems[k]!]
        context.set(depKeys[k]!, depPicks[k] === 1 ? ContextMap.get(value as Context.Context<never>, depKeys[k]!) : value)
      }
    }
    return context
  }

  /** Task i's span, begun at the report's own start time: span and report agree exactly. */
  private startSpan(tracer: Tracer.Tracer, i: number, startTime: number): Tracer.Span {
    const span = tracer.span(this.tasks[i]!.name, this.parentSpan, Context.empty(), [], BigInt(Math.round(startTime * 1e6)), "internal")
    span.attribute("taskgraph.graph", this.plan.source.name)
    return span
  }

  // ---- run exits -----------------------------------------------------------
  private onRunExit(i: number, exit: Exit.Exit<unknown, unknown>): void {
    this.fibers[i] = undefined
    this.running--
    const onLentSlot = this.onLentSlot
    if (onLentSlot !== undefined && onLentSlot[i] === 1) {
      onLentSlot[i] = 0
      this.lentFree++
    } else {
      this.capacity.used--
      this.gaveBack = true
    }
    const span = this.spans[i]
    if (span !== undefined) this.spans[i] = undefined
    const task = this.tasks[i]!
    if (exit._tag === "Success" && this.watcherCauses[i] === undefined) {
      this.values[i] = exit.value
      // an empty scope needs no context to close it: do not keep the task's services alive until then
      const scope = this.scopes[i]
      if (scope === undefined || TaskScope.isEmpty(scope)) this.contexts[i] = undefined
      const readyTime = this.now()
      this.readyTimes[i] = readyTime
      this.phase[i] = HOLDING
      this.states[i] = "ready"
      this.readyCount++
      const emit = this.emit
      if (emit !== undefined) {
        emit(new TaskEvent.TaskReady({ task: this.nameOf(i), timestamp: readyTime, durationMs: readyTime - this.startTimes[i]! }, true))
      }
      if (!this.stopping) {
        const dependentStart = this.dependentStart
        const dependentItems = this.dependentItems
        const waitCount = this.waitCount
        const phase = this.phase
        for (let k = dependentStart[i]!, end = dependentStart[i + 1]!; k < end; k++) {
          const j = dependentItems[k]!
          if (--waitCount[j] === 0 && phase[j] === WAITING) this.enqueue(j)
        }
      }
      if (this.holders[i] === 0 && !this.hold) this.releaseQueue.push(i)
      if (this.hold && this.readyCount === this.n) this.settleAllReady(Exit.succeed(this.snapshot()))
    } else {
      const cause = this.watcherCauses[i] ?? this.explain(i, TaskRun.causeOf(exit))
      const byUs = this.stoppedByUs[i] === 1 && this.watcherCauses[i] === undefined
      this.endTask(i, TaskRun.ending(task, cause), cause)
      if (!byUs) this.onFailure(i)
      // what the failed run acquired is released before anything it depends on
      this.releaseQueue.push(i)
    }
    if (span !== undefined) this.endSpan(i, span, exit)
    this.pump()
  }

  /** Ends a task's span with its outcome: status and attempts as attributes, the explained cause on failure. */
  private endSpan(i: number, span: Tracer.Span, exit: Exit.Exit<unknown, unknown>): void {
    const state = this.states[i]!
    span.attribute("taskgraph.status", state)
    span.attribute("taskgraph.attempts", this.attempts[i]!)
    const cause = this.causes[i]
    const end = state === "ready" ? this.readyTimes[i]! : this.endTimes[i]!
    span.end(BigInt(Math.round(end * 1e6)), state === "ready" || cause === undefined ? exit : Exit.failCause(cause))
  }

  /** Turns "Service not found: X" into a clear error when X is provided in the graph. */
  private explain(i: number, cause: Cause.Cause<unknown>): Cause.Cause<unknown> {
    const defect = Cause.dieOption(cause)
    if (Option.isNone(defect)) return cause
    // "Service not found: A (defined at …)", its shape checked at load time
    const tag = ServiceNotFound.tagOf(defect.value)
    if (tag === undefined) return cause
    const provider = this.plan.providerByKey.get(tag)
    if (provider === undefined) return cause
    return Cause.fail(new UndeclaredDependencyError({ task: this.tasks[i]!.name, tag, provider: this.tasks[provider]!.name }))
  }

  private onWatcherFailed(i: number, cause: Cause.Cause<unknown>): void {
    if (this.phase[i] === RUNNING) {
      if (this.watcherCauses[i] !== undefined) return
      this.watcherCauses[i] = cause
      this.fibers[i]?.unsafeInterruptAsFork(this.schedulerId)
      return
    }
    if (this.phase[i] !== HOLDING || this.states[i] === "failed") return
    this.endTask(i, "failed", cause)
    this.onFailure(i)
    this.pump()
  }

  /** Task i's run or its resources failed (or were interrupted): record it and tell the listeners. */
  private endTask(i: number, state: TaskRun.Ending, cause: Cause.Cause<unknown>): void {
    const task = this.tasks[i]!
    const at = this.now()
    this.endTimes[i] = at
    this.causes[i] = cause
    this.states[i] = state
    const emit = this.emit
    if (emit === undefined) return
    switch (state) {
      case "timed out":
        return emit(
          new TaskEvent.TaskTimedOut({ task: this.nameOf(i), timestamp: at, timeoutMs: Duration.toMillis(Duration.decode(task.timeout!)) }, true)
        )
      case "interrupted": {
        const blocked = this.blockedBy[i]!
        const stopped = this.stoppedBy === undefined ? NONE : this.stoppedBy[i]!
        const task = this.nameOf(i)
        return emit(
          new TaskEvent.TaskInterrupted(
            blocked !== NONE
              ? { task, timestamp: at, blockedBy: this.nameOf(blocked) }
              : stopped !== NONE
              ? { task, timestamp: at, stoppedBy: this.nameOf(stopped) }
              : { task, timestamp: at },
            true
          )
        )
      }
      case "failed":
        return emit(new TaskEvent.TaskFailed({ task: this.nameOf(i), timestamp: at, error: prettyCause(cause) }, true))
    }
  }

  /**
   * Interrupts running task i on behalf of `root`: a failure it needs (`needed`), a failure that
   * stops the whole run, or NONE (the run is interrupted).
   */
  private stopRunning(i: number, root: number, needed: boolean): void {
    this.stoppedByUs[i] = 1
    this.noteStop(i, root, needed)
    this.fibers[i]?.unsafeInterruptAsFork(this.schedulerId)
  }

  private noteStop(i: number, root: number, needed: boolean): void {
    if (root === NONE) return
    if (needed) this.blockedBy[i] = root
    else (this.stoppedBy ??= new Int32Array(this.n).fill(NONE))[i] = root
  }

  // ---- failure policy --------------------------------------------------------
  private onFailure(i: number): void {
    this.failures.push(i)
    // a layer (hold mode) can only be built whole: any failure stops it, whatever the mode
    if (this.options.mode === "fail-fast" || this.hold) this.stopAll(i)
    else this.stopDependents(i)
  }

  /** continue mode: skip what waits on i, interrupt what runs on its resources. */
  private stopDependents(root: number): void {
    const phase = this.phase
    const stack = [root]
    const seen = new Uint8Array(this.n)
    seen[root] = 1
    while (stack.length > 0) {
      const i = stack.pop()!
      for (let k = this.dependentStart[i]!, end = this.dependentStart[i + 1]!; k < end; k++) {
        const j = this.dependentItems[k]!
        if (seen[j] === 1) continue
        seen[j] = 1
        if (phase[j] === WAITING || phase[j] === QUEUED) {
          this.skip(j, root, true)
          stack.push(j)
        } else if (phase[j] === RUNNING && rowHas(this.plan.dataDeps, j, i)) {
          this.stopRunning(j, root, true)
          stack.push(j)
        } else if (phase[j] === HOLDING) {
          stack.push(j)
        }
      }
    }
  }

  /** fail-fast and outer interruption: stop everything, release everything. */
  private stopAll(root: number): void {
    if (this.stopping) return
    this.stopping = true
    this.hold = false
    // what needs the failed task is blocked by it; the rest is stopped because the run stops
    const needs = root === NONE ? undefined : this.dependentsOf(root)
    for (let i = 0; i < this.n; i++) {
      switch (this.phase[i]) {
        case WAITING:
        case QUEUED:
          this.skip(i, root, needs !== undefined && needs[i] === 1)
          break
        case RUNNING:
          // no fiber: its run just ended (e.g. the root failure itself)
          if (this.fibers[i] !== undefined) this.stopRunning(i, root, needs !== undefined && needs[i] === 1)
          break
        case HOLDING:
          if (this.holders[i] === 0) this.releaseQueue.push(i)
          break
      }
    }
  }

  /** The tasks that need `root`, directly or through others (1 in the returned array). */
  private dependentsOf(root: number): Uint8Array {
    const needs = new Uint8Array(this.n)
    const stack = [root]
    while (stack.length > 0) {
      const i = stack.pop()!
      for (let k = this.dependentStart[i]!, end = this.dependentStart[i + 1]!; k < end; k++) {
        const j = this.dependentItems[k]!
        if (needs[j] === 1) continue
        needs[j] = 1
        stack.push(j)
      }
    }
    return needs
  }

  /** Task i will not run: `root` failed (and i needs it, or the failure stops the run), or NONE. */
  private skip(i: number, root: number, needed: boolean): void {
    this.phase[i] = DONE // counted in `finish` through the done queue
    this.states[i] = "skipped"
    this.endTimes[i] = this.now()
    this.noteStop(i, root, needed)
    const emit = this.emit
    if (emit !== undefined) {
      const name = root === NONE ? undefined : this.nameOf(root)
      const task = this.nameOf(i)
      const timestamp = this.now()
      emit(
        new TaskEvent.TaskSkipped(
          name === undefined ? { task, timestamp } : needed ? { task, timestamp, blockedBy: name } : { task, timestamp, stoppedBy: name },
          true
        )
      )
    }
    this.doneQueue.push(i)
  }

  // ---- releasing -----------------------------------------------------------
  private release(i: number): void {
    const scope = this.scopes[i]
    const context = this.contexts[i] ?? this.baseContext
    this.phase[i] = CLOSING
    this.scopes[i] = undefined
    this.contexts[i] = undefined
    // nothing acquired: released on the spot, no fiber needed
    if (scope === undefined || TaskScope.isEmpty(scope)) return this.finishRelease(i)
    const cause = this.causes[i]
    const exit = cause === undefined ? Exit.void : Exit.failCause(cause)
    // closed on a fiber of its own (finalizers may take time, and others close meanwhile), with the
    // task's context: Effect restores the acquirer's refs around each finalizer, cheaply when they match
    const closing = this.forkTask(context, Scope.close(scope, exit))
    const closed = closing.unsafePoll()
    if (closed !== null) return this.finishRelease(i, closed)
    closing.addObserver((closedExit) => {
      this.finishRelease(i, closedExit)
      this.pump()
    })
  }

  private finishRelease(i: number, closed?: Exit.Exit<unknown, unknown>): void {
    const releaseTime = this.now()
    this.releaseTimes[i] = releaseTime
    if (closed !== undefined && closed._tag === "Failure" && !Cause.isInterruptedOnly(closed.cause)) {
      this.onReleaseFailed(i, closed.cause)
    } else if (this.states[i] === "ready") {
      this.states[i] = "released"
      this.endTimes[i] = releaseTime
    }
    // only what became ready had resources others could see being released
    const emit = this.emit
    if (emit !== undefined && !Number.isNaN(this.readyTimes[i]!)) {
      emit(new TaskEvent.TaskReleased({ task: this.nameOf(i), timestamp: releaseTime }, true))
    }
    this.doneQueue.push(i)
  }

  /**
   * A finalizer of task i died. As with `Effect.scoped`, that fails what owned the scope: the task
   * is failed (its own failure first, when it had one) and the run fails with it (fail-fast stops
   * the rest); its other finalizers and everyone else's still run.
   */
  private onReleaseFailed(i: number, cause: Cause.Cause<unknown>): void {
    const at = this.now()
    const own = this.causes[i]
    if (own === undefined) {
      // the task itself succeeded: it failed in its release alone (what the report says)
      const failed = this.releaseFailed ??= new Uint8Array(this.n)
      failed[i] = 1
      this.endTimes[i] = at
      this.causes[i] = cause
    } else {
      this.causes[i] = Cause.sequential(own, cause)
    }
    if (this.states[i] !== "timed out") this.states[i] = "failed"
    const emit = this.emit
    if (emit !== undefined) {
      const error = "releasing its resources failed: " + prettyCause(cause)
      emit(new TaskEvent.TaskFailed({ task: this.nameOf(i), timestamp: at, error }, true))
    }
    if (!this.failures.includes(i)) this.onFailure(i)
  }

  /** i has nothing left: give back its pools, let go of what it held. */
  private finish(i: number): void {
    this.phase[i] = DONE
    this.finished++
    if (this.pools !== undefined && !Number.isNaN(this.startTimes[i]!)) {
      this.pools.give(i)
      this.gaveBack = true
    }
    const depItems = this.depItems
    const holders = this.holders
    for (let k = this.depStart[i]!, end = this.depStart[i + 1]!; k < end; k++) {
      const d = depItems[k]!
      if (--holders[d] === 0 && this.phase[d] === HOLDING && !this.hold) this.releaseQueue.push(d)
    }
  }

  // ---- the loop ------------------------------------------------------------
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    const doneQueue = this.doneQueue
    const releaseQueue = this.releaseQueue
    const startQueue = this.startQueue
    const capacity = this.capacity
    const phase = this.phase
    for (;;) {
      if (this.doneHead < doneQueue.length) {
        this.finish(doneQueue[this.doneHead++]!)
        continue
      }
      if (this.releaseHead < releaseQueue.length) {
        const i = releaseQueue[this.releaseHead++]!
        if (phase[i] === HOLDING || phase[i] === RUNNING) this.release(i)
        continue
      }
      if (
        !this.paused && !this.stopping && startQueue.size() > 0 && this.running < this.ownLimit &&
        (this.lentFree > 0 || capacity.used < capacity.limit)
      ) {
        const pools = this.pools
        if (pools === undefined) {
          const i = startQueue.pop()
          // a queued task may have been skipped since (continue mode): drop it
          if (phase[i] === QUEUED) this.startTask(i)
          continue
        }
        // pools: start the highest queued task that fits (no head-of-line blocking)
        const k = Pools.pick(pools, startQueue, this.plan.height, this.isQueued)
        if (k === Pools.STALE_TOP) {
          startQueue.pop() // skipped since; the ones further down are dropped when they come up
          continue
        }
        if (k !== Pools.NOTHING) {
          this.startTask(k === 0 ? startQueue.pop() : startQueue.removeAt(k))
          continue
        }
      }
      break
    }
    if (this.doneHead === doneQueue.length) {
      doneQueue.length = 0
      this.doneHead = 0
    }
    if (this.releaseHead === releaseQueue.length) {
      releaseQueue.length = 0
      this.releaseHead = 0
    }
    this.pumping = false
    if (this.finished === this.n && this.outcome === "running") this.complete()
    if (this.gaveBack) {
      this.gaveBack = false
      Nesting.wake(capacity, this.pumpFn)
    }
  }

  private complete(): void {
    const finishedAt = this.now()
    this.finishedAt = finishedAt
    const outcome = this.failures.length > 0 ? "failed" : this.interrupted ? "interrupted" : "succeeded"
    this.outcome = outcome
    this.capacity.pumps.delete(this.pumpFn)
    if (this.lent > 0) this.nest!.unlend()
    if (this.options.events) {
      this.eventLog.emit(
        new TaskEvent.RunFinished({ task: this.plan.source.name, timestamp: finishedAt, status: outcome, durationMs: finishedAt - this.startedAt }, true)
      )
    }
    const snap = this.snapshot()
    this.settleAllReady(outcome !== "succeeded" ? Exit.fail(snap) : Exit.succeed(snap))
    this.settleDone(Exit.succeed(snap))
  }

  snapshot(): Snapshot {
    return {
      plan: this.plan,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      outcome: this.outcome,
      states: this.states.slice(),
      // typed-array copies: Array.from would box 4 numbers a task
      attempts: this.attempts.slice(),
      startTimes: this.startTimes.slice(),
      readyTimes: this.readyTimes.slice(),
      endTimes: this.endTimes.slice(),
      releaseTimes: this.releaseTimes.slice(),
      values: this.values,
      causes: this.causes,
      blockedBy: this.blockedBy.slice(),
      stoppedBy: this.stoppedBy?.slice(),
      failures: this.failures.slice(),
      releaseFailed: this.releaseFailed?.slice(),
      fullNames: this.fullNames,
      children: this.children.slice()
    }
  }

  start(): void {
    this.startedAt = this.now()
    this.capacity.pumps.add(this.pumpFn)
    const nest = this.nest
    if (nest !== undefined) {
      this.lent = this.lentFree = nest.lend()
      nest.attach({
        graph: this.plan.source.name,
        group: this.options.group ?? `${nest.path} / ${this.plan.source.name}`,
        snapshot: () => this.snapshot()
      })
    }
    for (let i = 0; i < this.n; i++) if (this.waitCount[i] === 0) this.enqueue(i)
    if (this.n === 0) {
      if (this.hold) this.settleAllReady(Exit.succeed(this.snapshot()))
    }
    this.pump()
  }

  interrupt(): void {
    if (this.outcome !== "running") return
    this.interrupted = true
    this.stopAll(NONE)
    this.pump()
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    this.pump()
  }

  releaseAll(): void {
    this.hold = false
    for (let i = 0; i < this.n; i++) if (this.phase[i] === HOLDING && this.holders[i] === 0) this.releaseQueue.push(i)
    this.pump()
  }

  get done(): Deferred.Deferred<Snapshot> {
    if (this.doneSignal === undefined) {
      this.doneSignal = Deferred.unsafeMake<Snapshot>(this.schedulerId)
      if (this.doneExit !== undefined) Deferred.unsafeDone(this.doneSignal, this.doneExit)
    }
    return this.doneSignal
  }

  get allReady(): Deferred.Deferred<Snapshot, Snapshot> {
    if (this.allReadySignal === undefined) {
      this.allReadySignal = Deferred.unsafeMake<Snapshot, Snapshot>(this.schedulerId)
      if (this.allReadyExit !== undefined) Deferred.unsafeDone(this.allReadySignal, this.allReadyExit)
    }
    return this.allReadySignal
  }

  finalSnapshot(): Snapshot | undefined {
    return this.doneExit !== undefined && Exit.isSuccess(this.doneExit) ? this.doneExit.value : undefined
  }
}

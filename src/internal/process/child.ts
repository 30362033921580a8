/**
 * The machinery behind `Process.start` / `Process.run`: spawn, drain, stop.
 *
 * Why `node:child_process` and not `@effect/platform`'s `Command`: the
 * platform's scope finalizer sends SIGTERM and then waits for the exit with
 * no limit, so a child that ignores SIGTERM blocks the whole run's cleanup
 * for ever, and a finalizer of ours registered to run first can bound the
 * wait only as long as our SIGKILL works (a child stuck in uninterruptible
 * sleep would still hang the platform's). We also need what it does not
 * give: the pgid at spawn time for a synchronous registry (second Ctrl+C),
 * code *and* signal of the exit as plain data, both pipes drained by one
 * consumer in arrival order, and the parent-death wrapper. Spawning directly
 * keeps every wait bounded and removes the `CommandExecutor` requirement.
 *
 * @internal
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { Clock, Deferred, Duration, Effect, Option, PubSub, Queue, Stream } from "effect"
import type { Scope } from "effect"
import type { ExitStatus, OutputLine, OutputStream } from "../../Process.js"
import * as Task from "../../Task.js"
import { ProcessExitError, ProcessNotFoundError, ProcessSpawnError, ProcessStdinError } from "./errors.js"
import { groupAlive, signalGroup } from "./group.js"
import { makeLineSplitter, makeTail } from "./lines.js"
import * as Pdeathsig from "./pdeathsig.js"
import * as Registry from "./registry.js"
import { checkCwd, resolveCommand } from "./resolve.js"

/** How long to wait for the exit after SIGKILL before giving up on it. */
const killWait = Duration.seconds(2)
/** Once the group is gone, how long the pipes may stay silent before we stop reading them. */
const outputIdle = Duration.seconds(1)
/** And the most we wait for them in total (a daemon that escaped the group may hold them). */
const outputCap = Duration.seconds(10)
/** Lines that `lines` replays to a subscriber that comes late. */
export const replayLines = 1000
/** Queue backlog (chunks) at which the pipes are paused until the consumer catches up. */
const highWater = 64
const lowWater = 16

/** Live clock for the kill escalation: it is about real processes, even under a TestClock. */
const liveClock = Clock.make()

/** @internal */
export interface Spec {
  /** The program as the user gave it (the shell for `shell: true`). */
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string | undefined
  readonly env: Readonly<Record<string, string | undefined>> | undefined
  readonly extendEnv: boolean
  readonly stdin: "inherit" | "ignore" | "pipe"
  readonly input: string | Uint8Array | undefined
  readonly grace: Duration.Duration
  readonly output: "task" | "none"
  readonly collect: boolean
  readonly tailLines: number
  readonly acceptExitCodes: ReadonlyArray<number>
}

/** @internal */
export interface Child {
  readonly pid: number
  readonly spec: Spec
  readonly exited: Deferred.Deferred<ExitStatus>
  /** Waits until the output is closed (bounded) and every line was delivered. */
  readonly outputDone: Effect.Effect<void>
  readonly lines: Stream.Stream<OutputLine>
  readonly stdoutTail: () => ReadonlyArray<string>
  readonly stderrTail: () => ReadonlyArray<string>
  readonly collected: { readonly stdout: Array<string>; readonly stderr: Array<string> }
  readonly kill: (signal: NodeJS.Signals) => void
  /** SIGTERM to the group, grace, SIGKILL; bounded. */
  readonly stop: (grace: Duration.Duration) => Effect.Effect<ExitStatus | undefined>
  readonly write: (data: string | Uint8Array) => Effect.Effect<void, ProcessStdinError>
  readonly endStdin: Effect.Effect<void>
  readonly exitError: (status: ExitStatus, context?: string) => ProcessExitError
}

type Item =
  | { readonly _tag: "Data"; readonly stream: OutputStream; readonly data: Uint8Array }
  | { readonly _tag: "End"; readonly stream: OutputStream }

const statusOf = (code: number | null, signal: NodeJS.Signals | null): ExitStatus =>
  code !== null ? { _tag: "Exited", code } : { _tag: "Signaled", signal: signal ?? "SIGKILL" }

const buildEnv = (spec: Spec): Record<string, string> => {
  const env: Record<string, string> = {}
  if (spec.extendEnv) {
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  }
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

/** Polls until no live process is left in the group (there is no event for that). */
const waitGroupEmpty = (pgid: number): Effect.Effect<void> => {
  const loop = (delay: number): Effect.Effect<void> =>
    groupAlive(pgid)
      ? Effect.flatMap(Effect.sleep(Duration.millis(delay)), () => loop(Math.min(delay * 2, 100)))
      : Effect.void
  return Effect.suspend(() => loop(5))
}

/**
 * Starts the program. The child lives until the scope closes, then it is
 * stopped (SIGTERM, grace, SIGKILL, all bounded) and its output drained.
 *
 * @internal
 */
export const start = (
  spec: Spec
): Effect.Effect<Child, ProcessNotFoundError | ProcessSpawnError, Scope.Scope> =>
  Effect.gen(function*() {
    const cwd = spec.cwd ?? process.cwd()
    const env = buildEnv(spec)
    const cwdProblem = yield* Effect.promise(() => checkCwd(cwd))
    if (cwdProblem !== undefined) {
      return yield* new ProcessSpawnError({
        command: spec.command,
        args: spec.args,
        reason: `the working directory ${cwd} ${cwdProblem}`
      })
    }
    const resolved = yield* Effect.promise(() => resolveCommand(spec.command, cwd, env["PATH"]))
    if (resolved._tag === "NotFound") {
      return yield* new ProcessNotFoundError({ command: spec.command, searched: resolved.searched })
    }
    if (resolved._tag === "NotExecutable") {
      return yield* new ProcessSpawnError({
        command: spec.command,
        args: spec.args,
        reason: `${resolved.path} is not an executable file (check its permissions: chmod +x)`
      })
    }
    const setpriv = yield* Effect.promise(Pdeathsig.setprivPath)
    const target = Pdeathsig.wrap(setpriv, resolved.path, spec.args)

    const queue = yield* Queue.unbounded<Item>()
    const pubsub = yield* PubSub.unbounded<Option.Option<OutputLine>>({ replay: replayLines })
    const exited = yield* Deferred.make<ExitStatus>()
    const closed = yield* Deferred.make<void>()
    const drained = yield* Deferred.make<void>()
    const stdoutTail = makeTail(spec.tailLines)
    const stderrTail = makeTail(spec.tailLines)
    const collected = { stdout: [] as Array<string>, stderr: [] as Array<string> }
    const flow = { pending: 0, bytes: 0, paused: false, resume: () => {} }

    // The consumer of both pipes: one fiber, so lines keep the order in which
    // their chunks arrived. It is forked into the scope *before* the child is
    // acquired, so the scope interrupts it only *after* the child's release:
    // what the program prints while it shuts down still reaches the task.
    const drain = Effect.gen(function*() {
      const splitters = { stdout: makeLineSplitter(), stderr: makeLineSplitter() }
      let open = 2
      while (open > 0) {
        const items = yield* Queue.takeBetween(queue, 1, Number.MAX_SAFE_INTEGER)
        const batch: Array<Option.Option<OutputLine>> = []
        for (const item of items) {
          let lines: Array<string>
          if (item._tag === "Data") {
            flow.pending--
            lines = splitters[item.stream].push(item.data)
          } else {
            open--
            lines = splitters[item.stream].end()
          }
          const tail = item.stream === "stdout" ? stdoutTail : stderrTail
          for (const line of lines) {
            tail.add(line)
            if (spec.collect) collected[item.stream].push(line)
            if (spec.output === "task") yield* Task.output(line, item.stream)
            batch.push(Option.some({ stream: item.stream, line }))
          }
        }
        if (batch.length > 0) yield* PubSub.publishAll(pubsub, batch)
        if (flow.paused && flow.pending <= lowWater) flow.resume()
      }
      yield* PubSub.publish(pubsub, Option.none())
    }).pipe(Effect.ensuring(Deferred.succeed(drained, undefined)))
    yield* Effect.forkScoped(drain)

    const spawnChild = Effect.async<ChildProcess, ProcessSpawnError>((resume) => {
      let child: ChildProcess
      try {
        child = spawn(target.file, target.args, {
          cwd,
          env,
          // A process group of its own (pgid == pid): signals reach the
          // program's own children too, and a terminal's Ctrl+C does not: the
          // runner decides when the program stops.
          detached: process.platform !== "win32",
          stdio: [spec.input !== undefined ? "pipe" : spec.stdin, "pipe", "pipe"],
          windowsHide: true
        })
      } catch (cause) {
        resume(
          Effect.fail(new ProcessSpawnError({ command: spec.command, args: spec.args, reason: String(cause), cause }))
        )
        return
      }
      if (child.pid !== undefined) {
        Registry.register({
          pid: child.pid,
          command: spec.command,
          args: spec.args,
          startedAt: Date.now(),
          state: "running"
        })
      }
      let open = 2
      const pipe = (stream: OutputStream) => {
        const readable = child[stream]
        if (readable === null) {
          open--
          Queue.unsafeOffer(queue, { _tag: "End", stream })
          return
        }
        readable.on("data", (data: Uint8Array) => {
          flow.pending++
          flow.bytes += data.length
          Queue.unsafeOffer(queue, { _tag: "Data", stream, data })
          if (flow.pending >= highWater && !flow.paused) {
            flow.paused = true
            child.stdout?.pause()
            child.stderr?.pause()
          }
        })
        readable.on("error", () => {})
        readable.once("close", () => {
          Queue.unsafeOffer(queue, { _tag: "End", stream })
          if (--open === 0) Deferred.unsafeDone(closed, Effect.void)
        })
      }
      flow.resume = () => {
        flow.paused = false
        child.stdout?.resume()
        child.stderr?.resume()
      }
      pipe("stdout")
      pipe("stderr")
      child.stdin?.on("error", () => {}) // EPIPE when the program does not read: not fatal
      child.on("exit", (code, signal) => Deferred.unsafeDone(exited, Effect.succeed(statusOf(code, signal))))
      let started = false
      child.once("spawn", () => {
        started = true
        if (spec.input !== undefined) child.stdin?.end(spec.input)
        resume(Effect.succeed(child))
      })
      child.on("error", (cause) => {
        if (started) return // e.g. a failed kill(): nothing to report
        if (child.pid !== undefined) Registry.unregister(child.pid)
        const code = (cause as NodeJS.ErrnoException).code
        resume(Effect.fail(
          new ProcessSpawnError({
            command: spec.command,
            args: spec.args,
            reason: code === "ENOENT"
              ? `${resolved.path} vanished before it could be started`
              : code === "EACCES"
              ? `permission denied executing ${resolved.path}`
              : cause.message,
            cause
          })
        ))
      })
    })

    // Every bounded wait below is `wait.pipe(Effect.interruptible, Effect.timeout(d))`:
    // `timeout` runs `wait` in a fiber of its own, which must be interruptible
    // for the timeout to win inside a finalizer (finalizers are uninterruptible).
    // `Effect.interruptible` must never wrap these waits on the finalizer's own
    // fiber: when the release runs *because* that fiber was interrupted, an
    // interruptible region there aborts at once and the rest of the release
    // (SIGKILL, unregistering) would be skipped.
    const outputDone = (child: ChildProcess): Effect.Effect<void> =>
      Effect.gen(function*() {
        // Wait for both pipes to close while output keeps coming; give up after
        // a silence (someone outside the group holds the pipe) or the cap.
        const deadline = Date.now() + Duration.toMillis(outputCap)
        while (true) {
          const bytes = flow.bytes
          const done = yield* Deferred.await(closed).pipe(Effect.interruptible, Effect.timeout(outputIdle), Effect.option)
          if (Option.isSome(done)) break
          if ((flow.bytes === bytes && !flow.paused) || Date.now() > deadline) {
            child.stdout?.destroy()
            child.stderr?.destroy()
            break
          }
        }
        yield* Deferred.await(drained).pipe(Effect.interruptible, Effect.timeout(outputCap), Effect.ignore)
      }).pipe(Effect.withClock(liveClock))

    const stopChild = (pid: number) => (grace: Duration.Duration): Effect.Effect<ExitStatus | undefined> =>
      Effect.gen(function*() {
        const entry = Registry.get(pid)
        if (entry !== undefined) entry.state = "stopping"
        const gone = Effect.zipRight(Deferred.await(exited), waitGroupEmpty(pid))
        // Once the program has exited, what is left of its group gets SIGTERM
        // again: a process born after the first SIGTERM (a background job the
        // program was starting when the signal came) never saw it.
        const terminated = Effect.gen(function*() {
          yield* Deferred.await(exited)
          if (groupAlive(pid)) signalGroup(pid, "SIGTERM")
          yield* waitGroupEmpty(pid)
        })
        const alreadyExited = yield* Deferred.isDone(exited)
        if (!alreadyExited || groupAlive(pid)) {
          signalGroup(pid, "SIGTERM")
          const stopped = yield* terminated.pipe(Effect.interruptible, Effect.timeout(grace), Effect.option)
          if (Option.isNone(stopped)) {
            yield* Effect.logWarning(
              `${spec.command} (pid ${pid}) was still running ${Duration.format(grace)} after SIGTERM: sending SIGKILL`
            )
            signalGroup(pid, "SIGKILL")
            yield* gone.pipe(Effect.interruptible, Effect.timeout(killWait), Effect.ignore)
          }
        }
        const done = yield* Deferred.isDone(exited)
        return done ? yield* Deferred.await(exited) : undefined
      }).pipe(Effect.withClock(liveClock))

    const child = yield* Effect.acquireRelease(spawnChild, (child) =>
      Effect.gen(function*() {
        const pid = child.pid
        if (pid === undefined) return
        yield* stopChild(pid)(spec.grace)
        yield* outputDone(child)
        child.stdin?.destroy()
        child.stdout?.destroy()
        child.stderr?.destroy()
        Registry.unregister(pid)
      }))
    const pid = child.pid as number

    const exitError = (status: ExitStatus, context?: string) =>
      new ProcessExitError({
        command: spec.command,
        args: spec.args,
        pid,
        status,
        exitCode: status._tag === "Exited" ? status.code : undefined,
        signal: status._tag === "Signaled" ? status.signal : undefined,
        stderrTail: stderrTail.lines(),
        stdoutTail: stdoutTail.lines(),
        context
      })

    const stdinError = (reason: string, cause?: unknown) =>
      new ProcessStdinError({ command: spec.command, reason, cause })

    return {
      pid,
      spec,
      exited,
      outputDone: outputDone(child),
      lines: Stream.fromPubSub(pubsub).pipe(
        Stream.takeWhile(Option.isSome),
        Stream.map((line) => (line as Option.Some<OutputLine>).value)
      ),
      stdoutTail: stdoutTail.lines,
      stderrTail: stderrTail.lines,
      collected,
      kill: (signal) => {
        signalGroup(pid, signal)
      },
      stop: stopChild(pid),
      write: (data) =>
        Effect.async<void, ProcessStdinError>((resume) => {
          const stdin = child.stdin
          if (stdin === null) {
            return resume(Effect.fail(stdinError(`stdin is not a pipe (start it with stdin: "pipe")`)))
          }
          if (stdin.destroyed || stdin.writableEnded) return resume(Effect.fail(stdinError("stdin is closed")))
          stdin.write(data, (error) =>
            resume(error ? Effect.fail(stdinError(`the program is not reading it (${error.message})`, error)) : Effect.void))
        }),
      endStdin: Effect.sync(() => {
        child.stdin?.end()
      }),
      exitError
    } satisfies Child
  })

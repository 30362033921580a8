/**
 * Programs inside tasks: run one to completion, or start one as a scoped
 * resource. Every line it prints goes, in order and with its stream name, to
 * the current task's output (`Task.output`); a non-zero exit is a typed
 * failure that ends with the program's last lines of stderr; releasing a
 * started program sends SIGTERM to its process group, waits a grace period,
 * then SIGKILLs the group, never waiting without a bound; and no child
 * outlives the runner, even when the runner is killed with SIGKILL.
 *
 * Programs are given as an argv array. A shell is only used with
 * `shell: true`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Process, Task } from "effect-taskgraph"
 *
 * const compile = Task.make("compile", {
 *   run: Process.run("cc", ["-O2", "-c", "main.c", "-o", "main.o"])
 * })
 *
 * const server = Task.make("server", {
 *   run: Effect.gen(function* () {
 *     const proc = yield* Process.start("python3", ["-m", "http.server", "8000"])
 *     yield* Process.waitForLine(proc, /Serving HTTP/)
 *     return proc.pid
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Scope } from "effect"
import { Deferred, Duration, Effect, Option, Stream } from "effect"
import { dual } from "effect/Function"
import type { Pipeable } from "effect/Pipeable"
import { pipeArguments } from "effect/Pipeable"
import * as Child from "./internal/process/child.js"
import { ProcessExitError, ProcessNotFoundError, ProcessSpawnError, ProcessStdinError } from "./internal/process/errors.js"
import * as Registry from "./internal/process/registry.js"
import * as Task from "./Task.js"
import type * as TaskEvent from "./TaskEvent.js"

export {
  /**
   * A program exited with a code that is not accepted (or was killed by a
   * signal); the message ends with the last lines of its output.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Process } from "effect-taskgraph"
   *
   * const tests = Process.run("npm", ["test"]).pipe(
   *   Effect.catchTag("ProcessExitError", (e: Process.ProcessExitError) => Effect.logError(e.message))
   * )
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  ProcessExitError
}
export {
  /**
   * The program is not on the `PATH` (the error lists the directories searched).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Process } from "effect-taskgraph"
   *
   * const version = Process.run("qemu-img", ["--version"]).pipe(
   *   Effect.catchTag("ProcessNotFoundError", (e: Process.ProcessNotFoundError) => Effect.logError(`${e.command} is not installed`))
   * )
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  ProcessNotFoundError
}
export {
  /**
   * The program could not be started (e.g. a missing working directory, or a
   * file that is not executable).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { Process } from "effect-taskgraph"
   *
   * const build = Process.run("make", [], { cwd: "no/such/dir" }).pipe(
   *   Effect.catchTag("ProcessSpawnError", (e: Process.ProcessSpawnError) => Effect.logError(e.reason))
   * )
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  ProcessSpawnError
}
export {
  /**
   * Writing to a program's stdin failed (e.g. it exited before reading it).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import type { Process } from "effect-taskgraph"
   *
   * const explain = (e: Process.ProcessStdinError) => Effect.logWarning(`${e.command}: stdin: ${e.reason}`)
   * ```
   *
   * @since 0.1.0
   * @category errors
   */
  ProcessStdinError
}

/**
 * Every way `run` can fail.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const version = Process.run("git", ["--version"], { collect: true }).pipe(
 *   Effect.catchAll((error: Process.ProcessError) => Effect.succeed(error._tag))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type ProcessError = ProcessNotFoundError | ProcessSpawnError | ProcessExitError

/**
 * The stream a line of a program's output came from: a task's output streams
 * (`TaskEvent.OutputStream`) but `log`.
 *
 * @example
 * ```ts
 * import type { Process } from "effect-taskgraph"
 *
 * const stream: Process.OutputStream = "stderr"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type OutputStream = Exclude<TaskEvent.OutputStream, "log">

/**
 * One line of a program's output, without its newline (nor a trailing `\r`).
 * A last line without newline is kept.
 *
 * @example
 * ```ts
 * import { Process } from "effect-taskgraph"
 *
 * declare const handle: Process.Handle
 * const errors = Process.waitForLine(handle, (line: Process.OutputLine) => line.stream === "stderr")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface OutputLine {
  readonly stream: OutputStream
  readonly line: string
}

/**
 * How a program ended: it exited with a code, or a signal killed it.
 *
 * @example
 * ```ts
 * import type { Process } from "effect-taskgraph"
 *
 * const describe = (status: Process.ExitStatus): string =>
 *   status._tag === "Exited" ? `exit code ${status.code}` : `killed by ${status.signal}`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ExitStatus =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Signaled"; readonly signal: NodeJS.Signals }

/**
 * Options shared by `run` and `start`.
 *
 * @example
 * ```ts
 * import type { Process } from "effect-taskgraph"
 *
 * const options: Process.CommonOptions = { cwd: "/tmp", env: { CI: "1" }, grace: "2 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CommonOptions {
  /** Working directory (default: the runner's). A missing directory is a `ProcessSpawnError`. */
  readonly cwd?: string | undefined
  /** Environment variables; `undefined` removes a variable. Merged into the runner's unless `extendEnv: false`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** `false`: the child gets only `env` (then PATH, if absent, is `/usr/local/bin:/usr/bin:/bin`). Default `true`. */
  readonly extendEnv?: boolean | undefined
  /**
   * Run `command` as a shell script: `/bin/sh -c command sh ...args` (the
   * args become `$1`, `$2`…, never part of the script). A string picks the
   * shell. Off by default: prefer argv arrays.
   */
  readonly shell?: boolean | string | undefined
  /** Bytes or text written to stdin, which is then closed. */
  readonly input?: string | Uint8Array | undefined
  /** On release: time between SIGTERM and SIGKILL of the process group. Default 5 seconds. */
  readonly grace?: Duration.DurationInput | undefined
  /** Where output lines go: `"task"` (default) → `Task.output(line, stream)`; `"none"` → nowhere. */
  readonly output?: "task" | "none" | undefined
  /** How many last lines of each stream a `ProcessExitError` keeps. Default 20. */
  readonly tailLines?: number | undefined
  /** Exit codes that count as success. Default `[0]`. */
  readonly acceptExitCodes?: ReadonlyArray<number> | undefined
}

/**
 * Options of `Process.run`.
 *
 * @example
 * ```ts
 * import { Process } from "effect-taskgraph"
 *
 * const options: Process.RunOptions = { cwd: "/tmp", collect: true }
 * const listing = Process.run("ls", ["-l"], options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions extends CommonOptions {
  /** stdin, unless `input` is given: `"ignore"` (default, reads see end-of-file) or `"inherit"`. */
  readonly stdin?: "inherit" | "ignore" | undefined
  /** Also collect the lines into the result's `stdout` / `stderr`. Default `false`. */
  readonly collect?: boolean | undefined
}

/**
 * Options of `Process.start`.
 *
 * @example
 * ```ts
 * import { Process } from "effect-taskgraph"
 *
 * const options: Process.StartOptions = { cwd: "/srv", stdin: "ignore" }
 * const server = Process.start("python3", ["-m", "http.server", "8000"], options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface StartOptions extends CommonOptions {
  /** stdin, unless `input` is given: `"pipe"` (default, see `Handle.write`), `"ignore"` or `"inherit"`. */
  readonly stdin?: "inherit" | "ignore" | "pipe" | undefined
}

/**
 * What a program run to completion produced.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const head = Process.run("git", ["rev-parse", "HEAD"], { collect: true }).pipe(
 *   Effect.map((result: Process.Result) => result.stdout.trim())
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Result {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly pid: number
  /** An accepted exit code (0 unless `acceptExitCodes` says otherwise). */
  readonly exitCode: number
  /** The stdout lines joined with `\n`, with `collect: true`; otherwise `""`. */
  readonly stdout: string
  /** The stderr lines joined with `\n`, with `collect: true`; otherwise `""`. */
  readonly stderr: string
}

/**
 * A started program. It lives as long as the scope it was started in.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const handle: Process.Handle = yield* Process.start("sleep", ["60"])
 *   yield* handle.kill("SIGINT")
 *   return yield* handle.await
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle extends Pipeable {
  readonly pid: number
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Waits for the exit, whatever it is. */
  readonly await: Effect.Effect<ExitStatus>
  /**
   * Waits for the exit and the end of its output; fails with
   * `ProcessExitError` unless the code is accepted (`acceptExitCodes`).
   */
  readonly exitCode: Effect.Effect<number, ProcessExitError>
  readonly isRunning: Effect.Effect<boolean>
  /** Sends a signal to the program's process group (default SIGTERM); does not wait. */
  readonly kill: (signal?: NodeJS.Signals) => Effect.Effect<void>
  /**
   * Stops it now as the release would: SIGTERM to the group, the grace
   * period, SIGKILL. Returns the exit (undefined only if even SIGKILL did not
   * end it within 2 seconds).
   */
  readonly stop: Effect.Effect<ExitStatus | undefined>
  /**
   * Its output lines from now on, preceded by up to the last 1000 lines
   * already printed; ends when the program's output ends. The lines still
   * go to the task's output as well.
   */
  readonly lines: Stream.Stream<OutputLine>
  /** Writes to stdin (needs `stdin: "pipe"`, the default of `start`). */
  readonly write: (data: string | Uint8Array) => Effect.Effect<void, ProcessStdinError>
  /** Closes stdin: the program reads end-of-file. */
  readonly endStdin: Effect.Effect<void>
}

/**
 * A program the runner owns right now (see `running`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const pids = Effect.map(Process.running, (infos: ReadonlyArray<Process.RunningInfo>) => infos.map((i) => i.pid))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningInfo {
  readonly pid: number
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly startedAt: Date
  /** `"stopping"` once its release (or `stop`) began. */
  readonly state: "running" | "stopping"
}

const toSpec = (
  command: string,
  args: ReadonlyArray<string>,
  options: CommonOptions & {
    readonly stdin?: "inherit" | "ignore" | "pipe" | undefined
    readonly collect?: boolean | undefined
  },
  defaultStdin: "ignore" | "pipe"
): Child.Spec => {
  const shell = options.shell === true ? "/bin/sh" : options.shell === false ? undefined : options.shell
  return {
    command: shell ?? command,
    args: shell === undefined ? args : ["-c", command, "sh", ...args],
    cwd: options.cwd,
    env: options.env,
    extendEnv: options.extendEnv ?? true,
    stdin: options.stdin ?? defaultStdin,
    input: options.input,
    grace: Duration.decode(options.grace ?? Duration.seconds(5)),
    output: options.output ?? "task",
    collect: options.collect ?? false,
    tailLines: options.tailLines ?? 20,
    acceptExitCodes: options.acceptExitCodes ?? [0]
  }
}

const accepted = (spec: Child.Spec, status: ExitStatus): status is { readonly _tag: "Exited"; readonly code: number } =>
  status._tag === "Exited" && spec.acceptExitCodes.includes(status.code)

/** The machinery behind each handle, for `waitForLine` and `watch`. */
const children = new WeakMap<Handle, Child.Child>()

const toHandle = (child: Child.Child): Handle => {
  const handle: Handle = {
    pid: child.pid,
    command: child.spec.command,
    args: child.spec.args,
    await: Deferred.await(child.exited),
    exitCode: Effect.gen(function*() {
      const status = yield* Deferred.await(child.exited)
      yield* child.outputDone
      if (accepted(child.spec, status)) return status.code
      return yield* child.exitError(status)
    }),
    isRunning: Effect.map(Deferred.isDone(child.exited), (done) => !done),
    kill: (signal = "SIGTERM") => Effect.sync(() => child.kill(signal)),
    stop: child.stop(child.spec.grace),
    lines: child.lines,
    write: child.write,
    endStdin: child.endStdin,
    pipe() {
      // eslint-disable-next-line prefer-rest-params
      return pipeArguments(this, arguments)
    }
  }
  children.set(handle, child)
  return handle
}

/** Fails with the program's exit (after its output is drained, so the tails are complete). */
const failWithExit = (self: Handle, context: string): Effect.Effect<never, ProcessExitError> =>
  Effect.flatMap(self.await, (status) => {
    const child = children.get(self)
    if (child === undefined) {
      return Effect.fail(
        new ProcessExitError({
          command: self.command,
          args: self.args,
          pid: self.pid,
          status,
          exitCode: status._tag === "Exited" ? status.code : undefined,
          signal: status._tag === "Signaled" ? status.signal : undefined,
          stderrTail: [],
          stdoutTail: [],
          context
        })
      )
    }
    return Effect.zipRight(child.outputDone, Effect.fail(child.exitError(status, context)))
  })

/**
 * Runs a program to completion. Its output lines go to the current task
 * (`Task.output`, stream names kept), stdout and stderr drained together, so
 * no output size can dead-lock it. It fails with `ProcessExitError` on a
 * non-accepted exit code or a signal, `ProcessNotFoundError` when the binary
 * is not installed, `ProcessSpawnError` when it cannot be started (e.g. bad
 * `cwd`). Interrupting it stops the program (SIGTERM to its process group,
 * grace period, SIGKILL); background processes it left behind are stopped
 * the same way once it has exited.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const head = Process.run("git", ["rev-parse", "HEAD"], { collect: true, output: "none" }).pipe(
 *   Effect.map((result) => result.stdout)
 * )
 * const grep = Process.run("grep", ["-q", "TODO", "src/main.ts"], { acceptExitCodes: [0, 1] }).pipe(
 *   Effect.map((result) => result.exitCode === 0)
 * )
 * const script = Process.run(`ls "$1" | wc -l`, ["/tmp"], { shell: true })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  command: string,
  args: ReadonlyArray<string> = [],
  options: RunOptions = {}
): Effect.Effect<Result, ProcessError> => {
  const spec = toSpec(command, args, options, "ignore")
  return Effect.gen(function*() {
    // The scope closes right after the exit: leftovers of the program are
    // stopped and the rest of its output is drained before we look at it.
    const [child, status] = yield* Effect.scoped(
      Effect.flatMap(
        Child.start(spec),
        (child) => Effect.map(Deferred.await(child.exited), (status) => [child, status] as const)
      )
    )
    if (!accepted(spec, status)) return yield* child.exitError(status)
    return {
      command: spec.command,
      args: spec.args,
      pid: child.pid,
      exitCode: status.code,
      stdout: child.collected.stdout.join("\n"),
      stderr: child.collected.stderr.join("\n")
    }
  })
}

/**
 * Starts a program as a resource of the current scope (in a task: the
 * task's resources). When the scope closes it is stopped: SIGTERM to its
 * process group, the grace period (`grace`, default 5 s), then SIGKILL to
 * the group; every wait is bounded. Its output lines go to the current task
 * while it runs, and are also available as `handle.lines`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const proc = yield* Process.start("node", ["server.js"], { env: { PORT: "8080" }, grace: "2 seconds" })
 *   yield* Process.waitForLine(proc, "listening on 8080")
 *   // … use the server; it is stopped when the scope closes
 * }))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const start = (
  command: string,
  args: ReadonlyArray<string> = [],
  options: StartOptions = {}
): Effect.Effect<Handle, ProcessNotFoundError | ProcessSpawnError, Scope.Scope> =>
  Effect.map(Child.start(toSpec(command, args, options, "pipe")), toHandle)

/**
 * Waits until the program prints a line that contains `match` (a string), matches it
 * (a RegExp), or satisfies it (a predicate), on stdout or stderr; returns
 * that line. Lines printed before the call are seen too (up to the last 1000).
 * Fails with `ProcessExitError` if the output ends first. Combine with
 * `Effect.timeout` for a deadline.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const db = yield* Process.start("postgres", ["-D", "data"])
 *   yield* db.pipe(Process.waitForLine(/ready to accept connections/), Effect.timeout("30 seconds"))
 * }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const waitForLine: {
  (match: string | RegExp | ((line: OutputLine) => boolean)): (self: Handle) => Effect.Effect<OutputLine, ProcessExitError>
  (self: Handle, match: string | RegExp | ((line: OutputLine) => boolean)): Effect.Effect<OutputLine, ProcessExitError>
} = dual(2, (self: Handle, match: string | RegExp | ((line: OutputLine) => boolean)) => {
  const test = typeof match === "string"
    ? (line: OutputLine) => line.line.includes(match)
    : match instanceof RegExp
    ? (line: OutputLine) => match.test(line.line)
    : match
  const what = typeof match === "string" ? JSON.stringify(match) : match instanceof RegExp ? String(match) : "the predicate"
  return Effect.flatMap(
    self.lines.pipe(Stream.filter(test), Stream.runHead),
    Option.match({
      onSome: Effect.succeed,
      onNone: () => failWithExit(self, `before printing a line matching ${what}`)
    })
  )
})

/**
 * Makes the program's exit a failure of the current task while the task's
 * resources are alive (through `Task.watch`): if a server or a VM dies while
 * other tasks use it, they are interrupted and the run fails with a
 * `ProcessExitError`, instead of hanging until some timeout. Its own release
 * does not count: the watcher is stopped before the program.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Process, Task } from "effect-taskgraph"
 *
 * class Server extends Context.Tag("Server")<Server, { readonly port: number }>() {}
 *
 * const server = Task.make("server", {
 *   provides: Server,
 *   run: Effect.gen(function* () {
 *     const proc = yield* Process.start("node", ["server.js"])
 *     yield* Process.waitForLine(proc, "listening")
 *     yield* Process.watch(proc)
 *     return { port: 8080 }
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const watch = (self: Handle): Effect.Effect<void, never, Scope.Scope> =>
  Effect.asVoid(Task.watch(failWithExit(self, "while it was still needed")))

/**
 * The programs this runner owns right now, started by `run` or `start` and
 * not yet released; `state` is `"stopping"` while their release runs (what
 * a Ctrl+C view shows as "still stopping").
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const report = Effect.map(Process.running, (list) =>
 *   list.map((p) => `${p.state} ${p.command} (pid ${p.pid})`).join("\n"))
 * ```
 *
 * @since 0.1.0
 * @category getters
 */
export const running: Effect.Effect<ReadonlyArray<RunningInfo>> = Effect.sync(() =>
  Registry.all().map((entry) => ({
    pid: entry.pid,
    command: entry.command,
    args: entry.args,
    startedAt: new Date(entry.startedAt),
    state: entry.state
  }))
)

/**
 * Signals the process group of every program this runner owns, at once and
 * synchronously (default SIGKILL); returns how many groups were signalled.
 * Meant for the second Ctrl+C, right before `process.exit`: nothing waits.
 *
 * @example
 * ```ts
 * import { Process } from "effect-taskgraph"
 *
 * let interrupts = 0
 * process.on("SIGINT", () => {
 *   if (++interrupts >= 2) {
 *     Process.killAllSync()
 *     process.exit(130)
 *   }
 * })
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const killAllSync = (signal: NodeJS.Signals = "SIGKILL"): number => Registry.killAll(signal)

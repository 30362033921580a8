/**
 * The errors of the `Process` module (re-exported there). Their messages are
 * written for the person reading a failed run: which program, what happened,
 * what to do.
 *
 * @internal
 */
import { Data } from "effect"
import type { ExitStatus } from "../../Process.js"
import { quote } from "../shell.js"
import * as Text from "../reporter/text.js"

/** `command arg1 'arg two'` for a message: a script by its first line, cut to a readable length. @internal */
export const displayCommand = (command: string, args: ReadonlyArray<string>, max = 200): string => {
  // A multi-line argument (a shell script) is shown by its first line.
  const short = (arg: string) => {
    if (!arg.includes("\n")) return quote(arg)
    const first = arg.split("\n").map((line) => line.trim()).find((line) => line !== "") ?? ""
    return `${quote(first)}…`
  }
  const text = [command, ...args].map(short).join(" ")
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

const indent = (lines: ReadonlyArray<string>): string => lines.map((line) => `  ${line}`).join("\n")

/**
 * The program exited with a code that was not accepted, was killed by a
 * signal, or exited while it was still needed. The message names the program
 * and the exit code or signal, and ends with the last lines of stderr (or of
 * stdout when stderr was empty).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const program = Process.run("make", ["test"]).pipe(
 *   Effect.catchTag("ProcessExitError", (error) =>
 *     Effect.logError(`make failed (${error.exitCode ?? error.signal})\n${error.stderrTail.join("\n")}`))
 * )
 * ```
 *
 * @since 0.1.0
 */
export class ProcessExitError extends Data.TaggedError("ProcessExitError")<{
  /** The program as given (for `shell: true`, the shell). */
  readonly command: string
  /** Its arguments. */
  readonly args: ReadonlyArray<string>
  readonly pid: number
  /** How it ended. */
  readonly status: ExitStatus
  /** The exit code, when it exited by itself. */
  readonly exitCode: number | undefined
  /** The signal that killed it, if any. */
  readonly signal: NodeJS.Signals | undefined
  /** The last lines it printed on stderr (20 by default, see `tailLines`). */
  readonly stderrTail: ReadonlyArray<string>
  /** The last lines it printed on stdout. */
  readonly stdoutTail: ReadonlyArray<string>
  /** What it was expected to do instead of exiting, e.g. `before printing a line matching /ready/`. */
  readonly context?: string | undefined
}> {
  override get message(): string {
    const how = this.status._tag === "Exited"
      ? `exited with code ${this.status.code}`
      : `was killed by signal ${this.status.signal}`
    const hint = this.status._tag === "Exited" && this.status.code === 127
      ? " (127 usually means that a shell could not find a command)"
      : this.status._tag === "Exited" && this.status.code === 126
      ? " (126 usually means that a program could not be executed: permissions or format)"
      : this.status._tag === "Signaled" && this.status.signal === "SIGKILL"
      ? " (the system may have run out of memory, or something killed it)"
      : ""
    const head = `\`${displayCommand(this.command, this.args)}\` ${how}${hint}${
      this.context === undefined ? "" : ` ${this.context}`
    }.`
    if (this.stderrTail.length > 0) {
      return `${head}\nLast ${Text.count(this.stderrTail.length, "line")} of stderr:\n${indent(this.stderrTail)}`
    }
    if (this.stdoutTail.length > 0) {
      return `${head} It printed nothing on stderr.\nLast ${Text.count(this.stdoutTail.length, "line")} of stdout:\n${
        indent(this.stdoutTail)
      }`
    }
    return `${head} It printed nothing.`
  }
}

/**
 * The program is not installed, or not on the PATH the child would use.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const ok = Process.run("qemu-img", ["--version"]).pipe(
 *   Effect.as(true),
 *   Effect.catchTag("ProcessNotFoundError", () => Effect.succeed(false))
 * )
 * ```
 *
 * @since 0.1.0
 */
export class ProcessNotFoundError extends Data.TaggedError("ProcessNotFoundError")<{
  /** The program as given. */
  readonly command: string
  /** The directories searched (empty when `command` was a path). */
  readonly searched: ReadonlyArray<string>
}> {
  override get message(): string {
    if (this.command.includes("/")) {
      return `\`${this.command}\` does not exist. Check the path, or install the program that should be there.`
    }
    const dirs = Array.from(new Set(this.searched))
    const where = dirs.length > 0 ? ` (searched PATH: ${dirs.join(":")})` : ""
    return `\`${this.command}\` is not installed or not on PATH${where}. Install it, or pass its full path.`
  }
}

/**
 * The program could not be started: the working directory is missing, the
 * file is not executable, or the system refused to create the process.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const program = Process.run("ls", [], { cwd: "/no/such/dir" }).pipe(
 *   Effect.catchTag("ProcessSpawnError", (error) => Effect.logError(error.message))
 * )
 * ```
 *
 * @since 0.1.0
 */
export class ProcessSpawnError extends Data.TaggedError("ProcessSpawnError")<{
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** What went wrong, as a sentence fragment: `working directory /x does not exist`. */
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `Could not start \`${displayCommand(this.command, this.args)}\`: ${this.reason}.`
  }
}

/**
 * Writing to the program's stdin failed: it was not started with
 * `stdin: "pipe"`, stdin was already closed, or the program has exited.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Process } from "effect-taskgraph"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const cat = yield* Process.start("cat", [])
 *   yield* cat.write("hello\n").pipe(Effect.catchTag("ProcessStdinError", Effect.logWarning))
 * }))
 * ```
 *
 * @since 0.1.0
 */
export class ProcessStdinError extends Data.TaggedError("ProcessStdinError")<{
  readonly command: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `Could not write to the stdin of \`${this.command}\`: ${this.reason}.`
  }
}

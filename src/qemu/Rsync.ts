/**
 * rsync over SSH with the same identity and pinned host key as `Ssh`: a
 * known_hosts file holding only the pinned key is generated for the run and
 * `ssh` is told `StrictHostKeyChecking=yes`, so a wrong host key fails the
 * transfer instead of being accepted. Itemized changes (and progress, if
 * asked) go into the current task's output; a failure names what rsync's
 * exit code means.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Rsync, Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const upload = Rsync.push(target, { source: "./project/", destination: "/tmp/project/", delete: true })
 * // Effect<RsyncResult, RsyncError, FileSystem>
 * ```
 *
 * @since 0.1.0
 */
import { FileSystem } from "@effect/platform"
import { Data, Effect } from "effect"
import * as NodePath from "node:path"
import * as Process from "../Process.js"
import type * as Ssh from "./Ssh.js"

/**
 * What rsync's exit codes mean (from its manual; 255 is ssh's own failure).
 *
 * @example
 * ```ts
 * import { Rsync } from "effect-taskgraph/qemu"
 *
 * Rsync.exitCodeMeanings[23] // "partial transfer due to error"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const exitCodeMeanings: Readonly<Record<number, string>> = {
  0: "success",
  1: "syntax or usage error",
  2: "protocol incompatibility",
  3: "errors selecting input/output files or directories",
  4: "requested action not supported",
  5: "error starting the client-server protocol",
  6: "daemon unable to append to its log file",
  10: "error in socket I/O",
  11: "error in file I/O",
  12: "error in the rsync protocol data stream (often: the remote side has no rsync, or the connection broke)",
  13: "errors with program diagnostics",
  14: "error in IPC code",
  20: "received SIGUSR1 or SIGINT",
  21: "some error returned by waitpid()",
  22: "error allocating core memory buffers",
  23: "partial transfer due to error",
  24: "partial transfer due to vanished source files",
  25: "the --max-delete limit stopped deletions",
  30: "timeout in data send/receive",
  35: "timeout waiting for daemon connection",
  127: "rsync (or ssh) not found",
  255: "ssh failed (connection refused, host key mismatch, or authentication failure)"
}

/**
 * rsync failed: `exitCode` with its meaning and the last stderr lines.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Rsync } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Rsync.RsyncError>
 * program.pipe(Effect.catchTag("RsyncError", (e) => Effect.logError(e.message)))
 * ```
 */
export class RsyncError extends Data.TaggedError("RsyncError")<{
  readonly exitCode: number | null
  readonly signal: string | null
  readonly meaning: string
  readonly stderr: ReadonlyArray<string>
  readonly cause?: unknown
}> {
  override get message(): string {
    const how = this.signal !== null ? `was killed by ${this.signal}` : `exited with code ${this.exitCode}`
    const err = this.stderr.length === 0 ? "" : `\n${this.stderr.slice(-10).join("\n")}`
    return `rsync ${how}: ${this.meaning}${err}`
  }
}

/**
 * A finished transfer: the itemized changes (`>f+++++++++ src/a.ts`, …).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Rsync, type Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const copied = Rsync.push(target, { source: "project/", destination: "/root/project" }).pipe(
 *   Effect.map((result: Rsync.RsyncResult) => result.itemized.length)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RsyncResult {
  readonly itemized: ReadonlyArray<string>
}

/**
 * Options of a transfer.
 *
 * @example
 * ```ts
 * import { Rsync, type Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const options: Rsync.Options = { source: "project/", destination: "/root/project", delete: true, exclude: ["node_modules"] }
 * const push = Rsync.push(target, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Local path for `push`, remote path for `pull` (trailing `/` means "the contents of"). */
  readonly source: string
  /** Remote path for `push`, local path for `pull`. */
  readonly destination: string
  /** Delete extraneous files on the receiving side (`--delete`). */
  readonly delete?: boolean | undefined
  /** `--exclude` patterns. */
  readonly exclude?: ReadonlyArray<string> | undefined
  /** Show overall progress lines (`--info=progress2`). */
  readonly progress?: boolean | undefined
  /** More rsync arguments, inserted before the paths. */
  readonly args?: ReadonlyArray<string> | undefined
  /** Send output lines to the current task's output (default true). */
  readonly output?: boolean | undefined
}

// rsync may exit 12 ("protocol data stream") when its ssh dies before rsync reaps it with 255:
// ssh's own last words on stderr then say what really happened.
const sshFailure = /host key verification failed|remote host identification has changed|permission denied \(|connection refused|could not resolve hostname|connection timed out|no route to host/i

const meaningOf = (exitCode: number | undefined, stderr: ReadonlyArray<string>): string => {
  if (exitCode === undefined) return "interrupted"
  if (exitCode !== 255 && stderr.some((line) => sshFailure.test(line))) return exitCodeMeanings[255]!
  return exitCodeMeanings[exitCode] ?? "unknown exit code"
}

const rsyncQuote = (s: string): string => {
  // rsync splits the -e command on spaces and honours single and double quotes (not backslashes).
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s
  if (!s.includes("'")) return `'${s}'`
  if (!s.includes('"')) return `"${s}"`
  throw new Error(`cannot pass ${s} to rsync -e: it contains both kinds of quotes`)
}

/** The `-e` command: ssh with our identity and only the pinned host key. Throws if a path cannot be quoted. */
const sshCommand = (target: Ssh.Target, knownHosts: string): string =>
  [
    "ssh",
    "-i",
    rsyncQuote(NodePath.resolve(target.privateKeyPath)),
    "-p",
    String(target.port),
    "-l",
    rsyncQuote(target.user),
    "-o",
    `UserKnownHostsFile=${rsyncQuote(knownHosts)}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=15"
  ].join(" ")

const transfer = (target: Ssh.Target, options: Options, direction: "push" | "pull") =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const host = target.host ?? "127.0.0.1"
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "rsync-" }).pipe(
      Effect.mapError((e) =>
        new RsyncError({ exitCode: null, signal: null, meaning: `cannot create a temporary directory: ${e.message}`, stderr: [], cause: e })
      )
    )
    const knownHosts = NodePath.join(dir, "known_hosts")
    const hostPattern = target.port === 22 ? host : `[${host}]:${target.port}`
    const [keyType, keyBlob] = target.hostKey.trim().split(/\s+/)
    yield* fs.writeFileString(knownHosts, `${hostPattern} ${keyType} ${keyBlob}\n`).pipe(
      Effect.mapError((e) =>
        new RsyncError({ exitCode: null, signal: null, meaning: `cannot write ${knownHosts}: ${e.message}`, stderr: [], cause: e })
      )
    )
    const ssh = yield* Effect.try({
      try: () => sshCommand(target, knownHosts),
      catch: (e) => new RsyncError({ exitCode: null, signal: null, meaning: String(e), stderr: [] })
    })
    const remote = (path: string) => `${host}:${path}`
    const argv = [
      "rsync",
      "-a",
      "--itemize-changes",
      "-e",
      ssh,
      ...(options.delete === true ? ["--delete"] : []),
      ...(options.exclude ?? []).map((p) => `--exclude=${p}`),
      ...(options.progress === true ? ["--info=progress2", "--no-inc-recursive"] : []),
      ...(options.args ?? []),
      "--",
      direction === "push" ? options.source : remote(options.source),
      direction === "push" ? remote(options.destination) : options.destination
    ]
    const result = yield* Process.run(argv[0]!, argv.slice(1), {
      output: options.output === false ? "none" : "task",
      collect: true,
      tailLines: 20
    }).pipe(
      Effect.catchTags({
        ProcessExitError: (e) =>
          new RsyncError({
            exitCode: e.exitCode ?? null,
            signal: e.signal ?? null,
            meaning: meaningOf(e.exitCode, e.stderrTail),
            stderr: e.stderrTail,
            cause: e
          }),
        ProcessNotFoundError: (e) =>
          new RsyncError({
            exitCode: null,
            signal: null,
            meaning: `${e.message} (Debian: apt-get install rsync openssh-client)`,
            stderr: [],
            cause: e
          }),
        ProcessSpawnError: (e) =>
          new RsyncError({ exitCode: null, signal: null, meaning: e.message, stderr: [], cause: e })
      })
    )
    return { itemized: result.stdout.split("\n").filter((l) => /^[<>ch.*][fdLDS*]/.test(l)) } satisfies RsyncResult
  }))

/**
 * Copies local `source` to `destination` on the target (`rsync -a`).
 *
 * @example
 * ```ts
 * import { Rsync, Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const upload = Rsync.push(target, { source: "src/", destination: "/tmp/src/", exclude: ["node_modules"] })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const push = (
  target: Ssh.Target,
  options: Options
): Effect.Effect<RsyncResult, RsyncError, FileSystem.FileSystem> =>
  transfer(target, options, "push")

/**
 * Copies remote `source` on the target to local `destination` (`rsync -a`).
 *
 * @example
 * ```ts
 * import { Rsync, Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const download = Rsync.pull(target, { source: "/tmp/results/", destination: "./results/" })
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const pull = (
  target: Ssh.Target,
  options: Options
): Effect.Effect<RsyncResult, RsyncError, FileSystem.FileSystem> =>
  transfer(target, options, "pull")

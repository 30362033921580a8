/**
 * SSH sessions with `ssh2`: a scoped connection whose host key is verified
 * against a pinned key (no blind acceptance), `exec` with output streamed
 * line by line into the current task's output and the exit code returned,
 * safe argument quoting, and remote commands that really stop when the
 * Effect running them is interrupted.
 *
 * Stopping a remote command: SSH servers (OpenSSH, dropbear) ignore the
 * protocol's "signal" request and closing a channel does not stop a command
 * that is not writing. So `exec` runs the command in a new session (`setsid`)
 * whose id it learns first; on interruption it sends SIGTERM to that process
 * group over a second channel, waits up to `killGrace`, then SIGKILL.
 * stdout and stderr stay separate (a pty would merge them).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * const target: Ssh.Target = {
 *   port: 2222,
 *   user: "root",
 *   privateKeyPath: ".cache/guest/id_ed25519",
 *   hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI…"
 * }
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const ssh = yield* Ssh.waitReady(target, { timeout: "60 seconds" })
 *   const code = yield* Ssh.exec(ssh, ["sh", "-c", "echo hi; exit 3"]) // lines go to the task's output
 *   // code === 3
 * }))
 * ```
 *
 * @since 0.1.0
 */
import { FileSystem } from "@effect/platform"
import type { Scope } from "effect"
import { Data, Deferred, Duration, Effect, Function, Queue } from "effect"
import * as NodeOs from "node:os"
import ssh2 from "ssh2"
import * as Task from "../Task.js"
import * as shell from "../internal/shell.js"
import * as Net from "./Net.js"

const { Client } = ssh2
type Client = InstanceType<typeof Client>
type ClientChannel = Parameters<Parameters<Client["exec"]>[1]>[1]

/**
 * Where and as whom to connect.
 *
 * @example
 * ```ts
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * const target: Ssh.Target = { port: 2222, user: "root", privateKeyPath: "keys/id_ed25519", hostKey: "ssh-ed25519 AAAAC3Nza..." }
 * const session = Ssh.connect(target)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Target {
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  readonly port: number
  readonly user: string
  /** Private key file (OpenSSH format, unencrypted). */
  readonly privateKeyPath: string
  /**
   * The server's public host key in OpenSSH format (`"ssh-ed25519 AAAA…"`,
   * a comment may follow). The connection fails unless the server presents
   * exactly this key.
   */
  readonly hostKey: string
}

/**
 * An SSH failure. `reason`: `Key` (the private key or pinned host key cannot
 * be read), `Connect` (TCP/handshake), `HostKey` (the server's key is not the
 * pinned one), `Auth` (the key was refused), `Exec` (a channel could not be
 * opened), `Closed` (the connection dropped).
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Ssh } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Ssh.SshError>
 * program.pipe(Effect.catchTag("SshError", (e) => Effect.logError(e.message)))
 * ```
 */
export class SshError extends Data.TaggedError("SshError")<{
  readonly reason: "Key" | "Connect" | "HostKey" | "Auth" | "Exec" | "Closed"
  readonly target: string
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    switch (this.reason) {
      case "Key":
        return `SSH ${this.target}: ${this.detail}`
      case "Connect":
        return `SSH connection to ${this.target} failed: ${this.detail}`
      case "HostKey":
        return `SSH ${this.target} presented a host key that is not the pinned one (${this.detail}). ` +
          `Refusing to connect: rebuild the guest's known host key or check you reach the right machine.`
      case "Auth":
        return `SSH ${this.target} refused the key: ${this.detail}. Is the public key in the user's authorized_keys?`
      case "Exec":
        return `SSH ${this.target}: cannot run the command: ${this.detail}`
      case "Closed":
        return `SSH connection to ${this.target} closed: ${this.detail}`
    }
  }
}

/**
 * A connected, authenticated SSH session.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const session: Ssh.Session = yield* Ssh.connect(target)
 *   return yield* Ssh.exec(session, ["uname", "-a"])
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Session {
  readonly target: Target
  /** `user@host:port`, for messages. */
  readonly label: string
  /** The underlying ssh2 client, for what this module does not cover (sftp, forwarding…). */
  readonly client: Client
  /** Completes when the connection has closed. */
  readonly closed: Effect.Effect<void>
}

const labelOf = (t: Target) => `${t.user}@${t.host ?? "127.0.0.1"}:${t.port}`

/**
 * Parses an OpenSSH public key line into its type and key blob.
 *
 * @example
 * ```ts
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * const key = Ssh.parsePublicKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF6Ppk… comment")
 * // key?.type === "ssh-ed25519"; undefined for a line that is not a public key
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const parsePublicKey = (line: string): { readonly type: string; readonly blob: Buffer } | undefined => {
  const [type, b64] = line.trim().split(/\s+/)
  if (type === undefined || b64 === undefined || !/^[A-Za-z0-9+/]+=*$/.test(b64)) return undefined
  const blob = Buffer.from(b64, "base64")
  // The blob starts with the key type as an SSH string: check it matches.
  if (blob.length < 4) return undefined
  const n = blob.readUInt32BE(0)
  if (blob.subarray(4, 4 + n).toString("latin1") !== type) return undefined
  return { type, blob }
}

/**
 * Quotes one argument for a POSIX shell: safe words stay as they are,
 * everything else is single-quoted (`'` becomes `'\''`).
 *
 * @example
 * ```ts
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * Ssh.quote("it's") // "'it'\\''s'"
 * Ssh.quote("/tmp/a.txt") // "/tmp/a.txt"
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const quote: (arg: string) => string = shell.quote

/**
 * Turns an argv into one shell command line, each argument quoted.
 *
 * @example
 * ```ts
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * Ssh.commandLine(["printf", "%s\\n", "a b", "$HOME"]) // "printf '%s\\n' 'a b' '$HOME'"
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const commandLine: (argv: ReadonlyArray<string>) => string = shell.commandLine

/**
 * Opens an SSH connection (handshake, pinned host key check, public-key
 * authentication). The connection is closed when the scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const session = Ssh.connect(target, { readyTimeout: "10 seconds" })
 * // Effect<Session, SshError, Scope | FileSystem>
 * ```
 *
 * @since 0.1.0
 * @category resources
 */
export const connect = (
  target: Target,
  options?: { readonly readyTimeout?: Duration.DurationInput | undefined }
): Effect.Effect<Session, SshError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const label = labelOf(target)
    const fs = yield* FileSystem.FileSystem
    const privateKey = yield* fs.readFileString(target.privateKeyPath).pipe(
      Effect.mapError((e) =>
        new SshError({ reason: "Key", target: label, detail: `cannot read the private key: ${e.message}`, cause: e })
      )
    )
    const pinned = parsePublicKey(target.hostKey)
    if (pinned === undefined) {
      return yield* new SshError({
        reason: "Key",
        target: label,
        detail: `the pinned host key is not an OpenSSH public key line: ${JSON.stringify(target.hostKey.slice(0, 60))}`
      })
    }
    const closed = yield* Deferred.make<void>()
    const readyTimeout = Duration.toMillis(Duration.decode(options?.readyTimeout ?? "20 seconds"))

    const client = yield* Effect.acquireRelease(
      Effect.async<Client, SshError>((resume) => {
        const client = new Client()
        let settled = false
        let presented: string | undefined
        const settle = (effect: Effect.Effect<Client, SshError>) => {
          if (settled) return
          settled = true
          resume(effect)
        }
        client.on("ready", () => settle(Effect.succeed(client)))
        client.on("error", (err: Error & { level?: string }) => {
          const reason = presented !== undefined
            ? "HostKey"
            : err.level === "client-authentication"
            ? "Auth"
            : "Connect"
          const detail = presented !== undefined ? `got ${presented}, pinned ${pinned.type}` : err.message
          settle(Effect.fail(new SshError({ reason, target: label, detail, cause: err })))
        })
        client.on("close", () => {
          Deferred.unsafeDone(closed, Effect.void)
          settle(Effect.fail(new SshError({ reason: "Connect", target: label, detail: "connection closed" })))
        })
        client.connect({
          host: target.host ?? "127.0.0.1",
          port: target.port,
          username: target.user,
          privateKey,
          readyTimeout,
          algorithms: { serverHostKey: [pinned.type as "ssh-ed25519"] },
          hostVerifier: (key: Buffer) => {
            if (key.equals(pinned.blob)) return true
            const type = key.length >= 4 ? key.subarray(4, 4 + key.readUInt32BE(0)).toString("latin1") : "?"
            presented = `${type} ${key.toString("base64").slice(0, 32)}…`
            return false
          }
        })
        return Effect.sync(() => client.end())
      }),
      (client) =>
        Effect.async<void>((resume) => {
          // end() sends a disconnect; destroy if the server does not close in time.
          const timer = setTimeout(() => {
            client.destroy()
            resume(Effect.void)
          }, 2000)
          client.once("close", () => {
            clearTimeout(timer)
            resume(Effect.void)
          })
          client.end()
          return Effect.sync(() => clearTimeout(timer))
        }).pipe(Effect.zipRight(Deferred.succeed(closed, undefined)), Effect.asVoid)
    )
    return { target, label, client, closed: Deferred.await(closed) } satisfies Session
  })

/**
 * Waits until SSH on `target` is really ready, and returns the connected
 * session: first banner probes (short, so an early connection that the VM's
 * port forwarder holds without data is dropped and retried), then the SSH
 * handshake, retried until it succeeds or `timeout` passes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * declare const target: Ssh.Target
 * const session = Ssh.waitReady(target, { timeout: "90 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category readiness
 */
export const waitReady = (
  target: Target,
  options?: {
    /** The whole wait (default 60 s). */
    readonly timeout?: Duration.DurationInput | undefined
    /** One banner probe (default 1.5 s). */
    readonly probeTimeout?: Duration.DurationInput | undefined
    /** Between probes and handshake attempts (default 100 ms). */
    readonly interval?: Duration.DurationInput | undefined
    /** Called with the server's banner line when it arrives, before the handshake. */
    readonly onBanner?: ((banner: string) => Effect.Effect<void>) | undefined
  }
): Effect.Effect<Session, SshError | Net.ProbeTimeoutError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const timeout = Duration.decode(options?.timeout ?? "60 seconds")
    const interval = options?.interval ?? "100 millis"
    const start = Date.now()
    const remaining = () => Duration.millis(Math.max(0, Duration.toMillis(timeout) - (Date.now() - start)))
    const attempt: Effect.Effect<Session, SshError | Net.ProbeTimeoutError, Scope.Scope | FileSystem.FileSystem> =
      Effect.gen(function*() {
        const banner = yield* Net.waitForBanner({
          host: target.host,
          port: target.port,
          prefix: "SSH-",
          timeout: remaining(),
          interval,
          probeTimeout: options?.probeTimeout
        })
        if (options?.onBanner !== undefined) yield* options.onBanner(banner)
        return yield* connect(target, { readyTimeout: Duration.min(remaining(), Duration.seconds(20)) })
      })
    const loop: Effect.Effect<Session, SshError | Net.ProbeTimeoutError, Scope.Scope | FileSystem.FileSystem> =
      attempt.pipe(
        Effect.catchIf(
          // A refused key or a wrong host key will not get better: fail at once.
          (e) => e._tag === "SshError" && e.reason === "Connect" && Duration.toMillis(remaining()) > 0,
          () => Effect.zipRight(Effect.sleep(interval), Effect.suspend(() => loop))
        )
      )
    return yield* loop
  })

/**
 * Options of {@link exec}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * declare const session: Ssh.Session
 * const options: Ssh.ExecOptions = { output: false, onStdout: (line) => Effect.log(line), killGrace: "5 seconds" }
 * const exitCode = Ssh.exec(session, "make test", options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecOptions {
  /** Send output lines to the current task's output (default true). */
  readonly output?: boolean | undefined
  /** Called with every stdout line (after it went to the task's output). */
  readonly onStdout?: ((line: string) => Effect.Effect<void>) | undefined
  /** Called with every stderr line. */
  readonly onStderr?: ((line: string) => Effect.Effect<void>) | undefined
  /** Text written to the command's stdin; stdin is then closed (it is closed at once by default). */
  readonly stdin?: string | undefined
  /** On interruption: time between SIGTERM and SIGKILL of the remote process group (default 2 s). */
  readonly killGrace?: Duration.DurationInput | undefined
}

const pgidMarker = "__effect_taskgraph_pgid__="
const exitMarker = "__effect_taskgraph_exit__="

// Runs the command as the leader of a new session (so its whole process group can be killed),
// printing the group id on stderr first, and its exit code last: dropbear under load sometimes
// closes a channel without sending the exit status, and the trailer still tells it. The subshell
// makes setsid(2) succeed without forking even when the login shell is itself a process-group
// leader (OpenSSH).
const wrap = (command: string): string => {
  const inner = `echo "${pgidMarker}$$" >&2; sh -c "$1"; s=$?; echo "${exitMarker}$s" >&2; exit $s`
  const run = `sh -c ${quote(inner)} effect-taskgraph ${quote(command)}`
  return `if command -v setsid >/dev/null 2>&1; then (exec setsid ${run}); else (exec ${run}); fi`
}

const signalExitCode = (signal: string): number => {
  const n = (NodeOs.constants.signals as Record<string, number | undefined>)[`SIG${signal.replace(/^SIG/, "")}`]
  return 128 + (n ?? 0)
}

const openExec = (session: Session, command: string): Effect.Effect<ClientChannel, SshError> =>
  Effect.async<ClientChannel, SshError>((resume) => {
    try {
      session.client.exec(command, (err, channel) => {
        if (err) resume(Effect.fail(new SshError({ reason: "Exec", target: session.label, detail: err.message, cause: err })))
        else resume(Effect.succeed(channel))
      })
    } catch (err) {
      resume(Effect.fail(new SshError({ reason: "Closed", target: session.label, detail: String(err), cause: err })))
    }
  })

/** Runs a short helper command (for kill) and waits for it, bounded. */
const runQuiet = (session: Session, command: string, timeout: Duration.DurationInput): Effect.Effect<void> =>
  openExec(session, command).pipe(
    Effect.flatMap((channel) =>
      Effect.async<void>((resume) => {
        channel.on("data", () => {})
        channel.stderr.on("data", () => {})
        channel.once("close", () => resume(Effect.void))
        channel.end()
      })
    ),
    Effect.timeout(timeout),
    Effect.ignore
  )

/**
 * Runs a command (a shell command line, or an argv that is quoted for you)
 * and returns its exit code (128 + n when killed by signal n). stdout and
 * stderr lines go to the current task's output with their stream names. If
 * the Effect is interrupted, the remote process group is terminated
 * (SIGTERM, then SIGKILL after `killGrace`) before the interruption completes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * declare const ssh: Ssh.Session
 * const code = Ssh.exec(ssh, ["make", "-C", "/tmp/src", "test"])    // Effect<number, SshError>
 * const same = Ssh.exec("make -C /tmp/src test", { killGrace: "5 seconds" })(ssh) // data-last
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const exec: {
  (
    command: string | ReadonlyArray<string>,
    options?: ExecOptions
  ): (session: Session) => Effect.Effect<number, SshError>
  (session: Session, command: string | ReadonlyArray<string>, options?: ExecOptions): Effect.Effect<number, SshError>
} = Function.dual(
  (args) => typeof args[0] === "object" && args[0] !== null && "client" in args[0],
  (session: Session, command: string | ReadonlyArray<string>, options: ExecOptions = {}) =>
    Effect.scoped(Effect.gen(function*() {
      const line = typeof command === "string" ? command : commandLine(command)
      const channel = yield* openExec(session, wrap(line))
      type Item = { readonly stream: "stdout" | "stderr"; readonly line: string } | null
      const lines = yield* Queue.unbounded<Item>()
      const pgid = yield* Deferred.make<number>()
      const done = yield* Deferred.make<number, SshError>()
      const show = options.output !== false

      let exitCode: number | undefined
      let trailerCode: number | undefined
      const recent: Array<string> = []
      const splitter = (stream: "stdout" | "stderr") => {
        const decoder = new TextDecoder()
        let buffer = ""
        // The wrapper's markers on stderr: its first line (a login shell may print before it) and its last.
        let watching = stream === "stderr"
        const emit = (text: string) => {
          if (watching && text.startsWith(pgidMarker)) {
            watching = false
            Deferred.unsafeDone(pgid, Effect.succeed(Number(text.slice(pgidMarker.length))))
            return
          }
          if (stream === "stderr" && text.startsWith(exitMarker)) {
            trailerCode = Number(text.slice(exitMarker.length))
            return
          }
          recent.push(`${stream}: ${text}`)
          if (recent.length > 10) recent.shift()
          Queue.unsafeOffer(lines, { stream, line: text })
        }
        return {
          data: (chunk: Buffer) => {
            buffer += decoder.decode(chunk, { stream: true })
            let i: number
            while ((i = buffer.indexOf("\n")) >= 0) {
              emit(buffer.slice(0, i).replace(/\r$/, ""))
              buffer = buffer.slice(i + 1)
            }
          },
          end: () => {
            buffer += decoder.decode()
            if (buffer.length > 0) emit(buffer.replace(/\r$/, ""))
            buffer = ""
          }
        }
      }
      const out = splitter("stdout")
      const err = splitter("stderr")
      channel.on("data", out.data)
      channel.stderr.on("data", err.data)
      channel.on("exit", (code: number | null, signal?: string) => {
        exitCode = code ?? signalExitCode(signal ?? "KILL")
      })
      channel.once("close", () => {
        out.end()
        err.end()
        Queue.unsafeOffer(lines, null)
        exitCode ??= trailerCode
        if (exitCode === undefined) {
          Deferred.unsafeDone(
            done,
            Effect.fail(
              new SshError({
                reason: "Closed",
                target: session.label,
                detail: `the channel of \`${line.slice(0, 120)}\` closed without an exit status` +
                  (recent.length === 0 ? " and without output" : `; its last output:\n${recent.join("\n")}`)
              })
            )
          )
        } else {
          Deferred.unsafeDone(done, Effect.succeed(exitCode))
        }
      })
      if (options.stdin !== undefined) channel.write(options.stdin)
      channel.end()

      // Output lines, in order, in this fiber's task.
      const pump = Effect.gen(function*() {
        while (true) {
          const item = yield* Queue.take(lines)
          if (item === null) return
          if (show) yield* Task.output(item.line, item.stream)
          const tap = item.stream === "stdout" ? options.onStdout : options.onStderr
          if (tap !== undefined) yield* tap(item.line)
        }
      })
      const pumpFiber = yield* Effect.fork(pump)

      const killGrace = options.killGrace ?? "2 seconds"
      const stopRemote = Effect.gen(function*() {
        if (yield* Deferred.isDone(done)) return
        const group = yield* Deferred.await(pgid).pipe(Effect.timeout("1 second"), Effect.option)
        if (group._tag === "Some") {
          const g = group.value
          yield* runQuiet(session, `kill -TERM -${g} 2>/dev/null || kill -TERM ${g} 2>/dev/null; true`, "5 seconds")
          const ended = yield* Deferred.await(done).pipe(Effect.timeout(killGrace), Effect.option)
          if (ended._tag === "None") {
            yield* runQuiet(session, `kill -KILL -${g} 2>/dev/null || kill -KILL ${g} 2>/dev/null; true`, "5 seconds")
          }
        }
        yield* Effect.sync(() => channel.close())
        yield* Deferred.await(done).pipe(Effect.timeout("2 seconds"), Effect.ignore)
      })

      const code = yield* Deferred.await(done).pipe(
        Effect.raceFirst(
          session.closed.pipe(
            Effect.zipRight(
              Effect.fail(new SshError({ reason: "Closed", target: session.label, detail: "while a command was running" }))
            )
          )
        ),
        Effect.onInterrupt(() => stopRemote)
      )
      yield* pumpFiber.await
      return code
    }))
)

/**
 * Like {@link exec}, and also returns the output (stdout and stderr lines).
 * Output goes to the task's output only with `output: true`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Ssh } from "effect-taskgraph/qemu"
 *
 * declare const ssh: Ssh.Session
 * const kernel = Effect.map(Ssh.capture(ssh, "uname -r"), (r) => r.stdout.join("\n"))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const capture = (
  session: Session,
  command: string | ReadonlyArray<string>,
  options: ExecOptions = {}
): Effect.Effect<
  { readonly exitCode: number; readonly stdout: ReadonlyArray<string>; readonly stderr: ReadonlyArray<string> },
  SshError
> =>
  Effect.suspend(() => {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    return exec(session, command, {
      ...options,
      output: options.output ?? false,
      onStdout: (l) => Effect.zipRight(Effect.sync(() => stdout.push(l)), options.onStdout?.(l) ?? Effect.void),
      onStderr: (l) => Effect.zipRight(Effect.sync(() => stderr.push(l)), options.onStderr?.(l) ?? Effect.void)
    }).pipe(Effect.map((exitCode) => ({ exitCode, stdout, stderr })))
  })

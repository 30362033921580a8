/**
 * A VM's serial console over a unix-socket chardev: lines as a `Stream`, a
 * bounded history (for "the last lines before it died" in errors),
 * `waitForLine(regex, timeout)`, and a queue of lines to type into the guest.
 *
 * Why a socket and not `-serial file:`: a socket is two-way (a file cannot
 * take input), lines arrive as they are written without polling a file, and
 * with `server=on,wait=on` QEMU does not start the guest until the console is
 * connected, so not a byte is lost. QEMU's own `logfile=` option on the same
 * chardev still keeps a complete log on disk (see `Qemu`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Serial } from "effect-taskgraph/qemu"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const serial = yield* Serial.connect("/tmp/qemu-x/serial.sock")
 *   yield* Serial.waitForLine(serial, /GUEST-READY/, "60 seconds")
 *   yield* Serial.write(serial, "echo hello-$((6*7))")
 *   yield* Serial.waitForLine(serial, /^hello-42$/, { timeout: "5 seconds", since: "now" })
 * }))
 * ```
 *
 * @since 0.1.0
 */
import type { Socket } from "@effect/platform"
import type { Scope } from "effect"
import { Data, Deferred, Duration, Effect, Function, PubSub, Queue, Stream } from "effect"
import * as Task from "../Task.js"
import * as LineSocket from "./internal/lineSocket.js"

/**
 * The console could not be opened, closed while waiting, or a line did not
 * show up in time (the error then carries the console's last lines).
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Serial } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Serial.SerialError>
 * program.pipe(Effect.catchTag("SerialError", (e) => Effect.logError(e.message)))
 * ```
 */
export class SerialError extends Data.TaggedError("SerialError")<{
  readonly reason: "Connect" | "Closed" | "Timeout"
  readonly path: string
  readonly detail: string
  readonly tail: ReadonlyArray<string>
  readonly cause?: unknown
}> {
  override get message(): string {
    const tail = this.tail.length === 0 ? "" : `\n--- last serial lines ---\n${this.tail.join("\n")}`
    switch (this.reason) {
      case "Connect":
        return `cannot connect to the serial console ${this.path}: ${this.detail}${tail}`
      case "Closed":
        return `the serial console ${this.path} closed ${this.detail}${tail}`
      case "Timeout":
        return `${this.detail} on the serial console ${this.path}${tail}`
    }
  }
}

/**
 * A connected serial console.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Serial } from "effect-taskgraph/qemu"
 *
 * declare const serial: Serial.SerialConsole
 * const booted = Serial.waitForLine(serial, /login:/, "2 minutes").pipe(
 *   Effect.zipRight(Serial.tail(serial, 5))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SerialConsole {
  /** The socket path. */
  readonly path: string
  /** Lines from the moment the stream is run until the console closes. */
  readonly lines: Stream.Stream<string>
  /** Subscribes now (nothing received after this returns is missed); ends when the console closes. */
  readonly subscribe: Effect.Effect<Stream.Stream<string>, never, Scope.Scope>
  /** The last lines received (at most `historySize`), oldest first. */
  readonly history: Effect.Effect<ReadonlyArray<string>>
  /** Lines offered here are typed into the guest, each followed by a newline. */
  readonly input: Queue.Enqueue<string>
  /** Completes when the console's connection has ended (QEMU exited). */
  readonly closed: Effect.Effect<void>
  /** See {@link waitForLine}. */
  readonly waitForLine: (pattern: RegExp, options: WaitOptions) => Effect.Effect<string, SerialError>
}

const controlChars = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g

/**
 * Connects to a serial console exposed as a unix socket
 * (`-chardev socket,id=s0,path=…,server=on -serial chardev:s0`). Lines are
 * cleaned of terminal escape sequences. With `output`, every line also goes
 * to the current task's output, prefixed (`"vm| GUEST-READY"`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Serial } from "effect-taskgraph/qemu"
 *
 * const serial = Serial.connect("/tmp/qemu-x/serial.sock", { output: "vm" })
 * // Effect<SerialConsole, SerialError, Scope>
 * ```
 *
 * @since 0.1.0
 * @category resources
 */
export const connect = (
  path: string,
  options?: {
    /** How many lines to keep for {@link tail} and `waitForLine(…, { since: "start" })` (default 2000). */
    readonly historySize?: number | undefined
    /** Also write each line to the current task's output with this prefix. */
    readonly output?: string | undefined
    readonly openTimeout?: Duration.DurationInput | undefined
  }
): Effect.Effect<SerialConsole, SerialError, Scope.Scope> =>
  Effect.gen(function*() {
    const historySize = options?.historySize ?? 2000
    const raw = yield* Queue.unbounded<string | null>()
    const hub = yield* PubSub.unbounded<string | null>()
    const history: Array<string> = []
    let ended = false
    const socket = yield* LineSocket.connect(path, {
      onLine: (line) => Queue.unsafeOffer(raw, line),
      openTimeout: options?.openTimeout
    }).pipe(
      Effect.mapError((cause: Socket.SocketError) =>
        new SerialError({ reason: "Connect", path, detail: cause.message, tail: [], cause })
      )
    )
    yield* Deferred.await(socket.closed).pipe(Effect.exit, Effect.zipRight(Queue.offer(raw, null)), Effect.forkScoped)

    const prefix = options?.output
    yield* Effect.gen(function*() {
      while (true) {
        const line = yield* Queue.take(raw)
        if (line === null) break
        const clean = line.replace(controlChars, "")
        history.push(clean)
        if (history.length > historySize) history.splice(0, history.length - historySize)
        yield* PubSub.publish(hub, clean)
        if (prefix !== undefined) yield* Task.output(`${prefix}| ${clean}`, "stdout")
      }
      ended = true
      yield* PubSub.publish(hub, null)
    }).pipe(Effect.forkScoped)

    const input = yield* Queue.unbounded<string>()
    yield* Effect.gen(function*() {
      while (true) {
        const line = yield* Queue.take(input)
        const sent = yield* Effect.either(socket.write(line + "\n"))
        if (sent._tag === "Left") break
      }
    }).pipe(Effect.forkScoped)

    return {
      path,
      lines: Stream.suspend(() =>
        ended ? Stream.empty : Stream.fromPubSub(hub).pipe(Stream.takeWhile((l): l is string => l !== null))
      ) as Stream.Stream<string>,
      subscribe: Effect.suspend(() =>
        ended
          ? Effect.succeed(Stream.empty)
          : Effect.map(
            Stream.fromPubSub(hub, { scoped: true }),
            (stream) => Stream.takeWhile(stream, (l): l is string => l !== null) as Stream.Stream<string>
          )
      ),
      history: Effect.sync(() => history.slice()),
      input,
      closed: Deferred.await(socket.closed).pipe(Effect.ignore),
      waitForLine: makeWait(path, hub, history, () => ended)
    } satisfies SerialConsole
  })

/**
 * Types a line into the guest (a newline is added).
 *
 * @example
 * ```ts
 * import { Serial } from "effect-taskgraph/qemu"
 *
 * declare const serial: Serial.SerialConsole
 * const send = Serial.write(serial, "uname -a")
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const write: {
  (line: string): (self: SerialConsole) => Effect.Effect<void>
  (self: SerialConsole, line: string): Effect.Effect<void>
} = Function.dual(2, (self: SerialConsole, line: string) => Effect.asVoid(Queue.offer(self.input, line)))

/**
 * The last `n` lines of the console (default 20).
 *
 * @example
 * ```ts
 * import { Serial } from "effect-taskgraph/qemu"
 *
 * declare const serial: Serial.SerialConsole
 * const last = Serial.tail(serial, 10) // Effect<ReadonlyArray<string>>
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const tail = (self: SerialConsole, n: number = 20): Effect.Effect<ReadonlyArray<string>> =>
  Effect.map(self.history, (lines) => lastLines(lines, n))

/**
 * How {@link waitForLine} waits: a timeout, and whether lines already
 * received count (`since: "start"`, the default: "has the guest printed
 * GUEST-READY yet?") or only lines from now on (`since: "now"`, for the
 * answer to something you just wrote).
 *
 * @example
 * ```ts
 * import { Serial } from "effect-taskgraph/qemu"
 *
 * declare const serial: Serial.SerialConsole
 * const options: Serial.WaitOptions = { timeout: "30 seconds", since: "start" }
 * const ready = Serial.waitForLine(serial, /READY/, options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type WaitOptions = Duration.DurationInput | {
  readonly timeout: Duration.DurationInput
  readonly since?: "start" | "now" | undefined
}

/**
 * Waits for a line matching `pattern` and returns it. Fails with a
 * `SerialError` holding the last console lines when the timeout passes or the
 * console closes first.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Serial } from "effect-taskgraph/qemu"
 *
 * declare const serial: Serial.SerialConsole
 * const ready = Serial.waitForLine(serial, /GUEST-READY/, "60 seconds")
 * const same = Serial.waitForLine(/GUEST-READY/, { timeout: "60 seconds", since: "start" })(serial) // data-last
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const waitForLine: {
  (pattern: RegExp, options: WaitOptions): (self: SerialConsole) => Effect.Effect<string, SerialError>
  (self: SerialConsole, pattern: RegExp, options: WaitOptions): Effect.Effect<string, SerialError>
} = Function.dual(
  3,
  (self: SerialConsole, pattern: RegExp, options: WaitOptions) => self.waitForLine(pattern, options)
)
const lastLines = (history: ReadonlyArray<string>, n: number = 20): ReadonlyArray<string> =>
  history.slice(Math.max(0, history.length - n))

const makeWait = (
  path: string,
  hub: PubSub.PubSub<string | null>,
  history: ReadonlyArray<string>,
  ended: () => boolean
) =>
(pattern: RegExp, options: WaitOptions): Effect.Effect<string, SerialError> => {
  const { since, timeout } = typeof options === "object" && options !== null && "timeout" in options
    ? { since: options.since ?? "start", timeout: options.timeout }
    : { since: "start" as const, timeout: options as Duration.DurationInput }
  const test = (line: string) => {
    pattern.lastIndex = 0
    return pattern.test(line)
  }
  const search = Effect.gen(function*() {
    const subscription = yield* PubSub.subscribe(hub)
    // `ended` is set before the end marker is published: either we see it here, or the marker arrives.
    const endedBefore = ended()
    if (since === "start") {
      const found = history.find(test)
      if (found !== undefined) return found
    }
    while (true) {
      const line = endedBefore ? null : yield* subscription.take
      if (line === null) {
        return yield* Effect.fail(
          new SerialError({
            reason: "Closed",
            path,
            detail: `before a line matched ${pattern}`,
            tail: lastLines(history)
          })
        )
      }
      if (test(line)) return line
    }
  })
  return Effect.scoped(search).pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new SerialError({
          reason: "Timeout",
          path,
          detail: `no line matched ${pattern} within ${Duration.format(Duration.decode(timeout))}`,
          tail: []
        })
    }),
    Effect.catchIf(
      (e) => e.reason === "Timeout" && e.tail.length === 0,
      (e) => Effect.fail(new SerialError({ ...e, tail: lastLines(history) }))
    )
  )
}

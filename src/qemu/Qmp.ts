/**
 * A client for QEMU's machine protocol (QMP): JSON lines over the VM's unix
 * socket, with the capabilities handshake, typed commands, Schema-decoded
 * replies, and asynchronous events as a `Stream`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const qmp = yield* Qmp.connect("/tmp/qemu-x/qmp.sock")
 *   const status = yield* Qmp.queryStatus(qmp)          // { running: true, status: "running" }
 *   const events = yield* qmp.subscribe                  // subscribed from now on
 *   yield* Qmp.systemPowerdown(qmp)                      // the guest shuts down
 *   yield* Stream.runForEach(events, (e) => Effect.log(e.event)) // POWERDOWN, SHUTDOWN…
 * }))
 * ```
 *
 * @since 0.1.0
 */
import type { Socket } from "@effect/platform"
import type { Duration } from "effect"
import { Data, Deferred, Effect, Either, ParseResult, PubSub, Queue, Schema, Scope, Stream } from "effect"
import * as LineSocket from "./internal/lineSocket.js"

// ---------------------------------------------------------------------------------------------
// Messages

/**
 * The greeting QEMU sends first on a QMP connection.
 *
 * @example
 * ```ts
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const greeting: Qmp.Greeting = qmp.greeting
 * const { major, minor } = greeting.QMP.version.qemu
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class Greeting extends Schema.Class<Greeting>("Qmp/Greeting")({
  QMP: Schema.Struct({
    version: Schema.Struct({
      qemu: Schema.Struct({ major: Schema.Number, minor: Schema.Number, micro: Schema.Number }),
      package: Schema.String
    }),
    capabilities: Schema.Array(Schema.String)
  })
}) {}

/**
 * An asynchronous QMP event (`POWERDOWN`, `SHUTDOWN`, `STOP`, `RESUME`, …).
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const shutdown = qmp.events.pipe(Stream.filter((e: Qmp.QmpEvent) => e.event === "SHUTDOWN"), Stream.runHead)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class QmpEvent extends Schema.Class<QmpEvent>("Qmp/Event")({
  event: Schema.String,
  data: Schema.optional(Schema.Unknown),
  timestamp: Schema.Struct({ seconds: Schema.Number, microseconds: Schema.Number })
}) {}

const ReturnMessage = Schema.Struct({ return: Schema.Unknown, id: Schema.optional(Schema.Unknown) })
const ErrorMessage = Schema.Struct({
  error: Schema.Struct({ class: Schema.String, desc: Schema.String }),
  id: Schema.optional(Schema.Unknown)
})
// Order matters: a Struct with an `unknown` field accepts objects without that key, so the
// return message (whose only required field is `return: unknown`) must be tried last.
const Message = Schema.Union(Greeting, QmpEvent, ErrorMessage, ReturnMessage)
const decodeMessage = Schema.decodeUnknownEither(Schema.parseJson(Message))

/**
 * The reply of `query-status`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const running = Effect.map(Qmp.queryStatus(qmp), (status: Qmp.StatusInfo) => status.running)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class StatusInfo extends Schema.Class<StatusInfo>("Qmp/StatusInfo")({
  running: Schema.Boolean,
  status: Schema.String,
  singlestep: Schema.optional(Schema.Boolean)
}) {}

/**
 * The reply of `query-version`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const version = Effect.map(Qmp.execute(qmp, "query-version"), (v: Qmp.VersionInfo) => `${v.qemu.major}.${v.qemu.minor}`)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class VersionInfo extends Schema.Class<VersionInfo>("Qmp/VersionInfo")({
  qemu: Schema.Struct({ major: Schema.Number, minor: Schema.Number, micro: Schema.Number }),
  package: Schema.String
}) {}

const Empty = Schema.Struct({})

/**
 * The commands this module knows the types of: their arguments and the
 * Schema of their reply. Anything else goes through {@link executeRaw}.
 *
 * @example
 * ```ts
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * const known = Object.keys(Qmp.Commands) // ["query-status", "query-version", …]
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const Commands = {
  "query-status": { result: StatusInfo },
  "query-version": { result: VersionInfo },
  "system_powerdown": { result: Empty },
  "system_reset": { result: Empty },
  "stop": { result: Empty },
  "cont": { result: Empty },
  "quit": { result: Empty }
} as const

/**
 * The name of a command with a known reply type.
 *
 * @example
 * ```ts
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const command: Qmp.Command = "system_reset"
 * const reset = Qmp.execute(qmp, command)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Command = keyof typeof Commands

/**
 * The decoded reply of a known command.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const status: Effect.Effect<Qmp.Result<"query-status">, Qmp.QmpError> = Qmp.execute(qmp, "query-status")
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Result<C extends Command> = Schema.Schema.Type<(typeof Commands)[C]["result"]>

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * A QMP failure. `reason` says which step: connecting to the socket, the
 * handshake, a command QEMU refused (`errorClass` and the description QEMU
 * gave), a reply that did not decode, a connection that closed, or a command
 * that got no reply in time.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Qmp.QmpError>
 * program.pipe(Effect.catchTag("QmpError", (e) => Effect.logError(e.message)))
 * ```
 */
export class QmpError extends Data.TaggedError("QmpError")<{
  readonly reason: "Connect" | "Handshake" | "CommandFailed" | "Decode" | "Closed" | "Timeout"
  readonly path: string
  readonly command?: string | undefined
  readonly errorClass?: string | undefined
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    const what = this.command === undefined ? "" : ` (${this.command})`
    switch (this.reason) {
      case "Connect":
        return `cannot connect to the QMP socket ${this.path}: ${this.detail}. Is QEMU running with -qmp unix:${this.path},server=on?`
      case "Handshake":
        return `QMP handshake on ${this.path} failed: ${this.detail}`
      case "CommandFailed":
        return `QEMU refused the QMP command${what}: ${this.errorClass ?? "Error"}: ${this.detail}`
      case "Decode":
        return `unexpected QMP reply${what} on ${this.path}: ${this.detail}`
      case "Closed":
        return `the QMP connection ${this.path} closed${what}: ${this.detail}`
      case "Timeout":
        return `QEMU did not answer the QMP command${what} on ${this.path} within ${this.detail}`
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Client

/**
 * A connected QMP client (after the capabilities handshake).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const qmp: Qmp.QmpClient = yield* Qmp.connect("/tmp/qemu-x/qmp.sock")
 *   yield* Qmp.systemPowerdown(qmp)
 *   yield* qmp.closed
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface QmpClient {
  /** The socket path. */
  readonly path: string
  /** QEMU's greeting: version and capabilities. */
  readonly greeting: Greeting
  /** Runs a command; the reply's `return` value, undecoded. */
  readonly executeRaw: (command: string, args?: Record<string, unknown>) => Effect.Effect<unknown, QmpError>
  /**
   * Events from the moment the stream is run, until the connection closes.
   * To be sure to see an event caused by a command, use `subscribe`.
   */
  readonly events: Stream.Stream<QmpEvent>
  /**
   * Subscribes now (so nothing sent after this returns is missed); the
   * stream ends when the connection closes or the scope does.
   */
  readonly subscribe: Effect.Effect<Stream.Stream<QmpEvent>, never, Scope.Scope>
  /** Completes when QEMU closes the connection (e.g. after `quit` or when it exits). */
  readonly closed: Effect.Effect<void>
}

/**
 * Connects to QEMU's QMP unix socket and performs the capabilities
 * handshake. The connection closes with the scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * const version = Effect.scoped(
 *   Effect.flatMap(Qmp.connect("/tmp/qemu-x/qmp.sock"), (qmp) => Effect.succeed(qmp.greeting.QMP.version.qemu))
 * )
 * ```
 *
 * @since 0.1.0
 * @category resources
 */
export const connect = (
  path: string,
  options?: {
    /** Time to open the socket (default 5 s). */
    readonly openTimeout?: Duration.DurationInput | undefined
    /** Time for QEMU to answer one command (default 30 s). */
    readonly commandTimeout?: Duration.DurationInput | undefined
  }
): Effect.Effect<QmpClient, QmpError, Scope.Scope> =>
  Effect.gen(function*() {
    const commandTimeout = options?.commandTimeout ?? "30 seconds"
    const lines = yield* Queue.unbounded<string | null>()
    const events = yield* PubSub.unbounded<QmpEvent>()
    const greeting = yield* Deferred.make<Greeting, QmpError>()
    const pending = new Map<number, Deferred.Deferred<unknown, QmpError>>()
    let closedWith: QmpError | undefined
    let nextId = 1

    const socket = yield* LineSocket.connect(path, {
      onLine: (line) => {
        if (line.trim().length > 0) Queue.unsafeOffer(lines, line)
      },
      openTimeout: options?.openTimeout
    }).pipe(
      Effect.mapError((cause: Socket.SocketError) =>
        new QmpError({ reason: "Connect", path, detail: socketDetail(cause), cause })
      )
    )

    const failPending = (error: QmpError) =>
      Effect.forEach(pending.values(), (d) => Deferred.fail(d, error), { discard: true }).pipe(
        Effect.zipRight(Effect.sync(() => pending.clear()))
      )

    // Ends the line stream when the connection ends, after the lines read before.
    yield* Deferred.await(socket.closed).pipe(
      Effect.exit,
      Effect.zipRight(Queue.offer(lines, null)),
      Effect.forkScoped
    )

    const handle = (line: string): Effect.Effect<void> => {
      const decoded = decodeMessage(line)
      if (Either.isLeft(decoded)) {
        return Effect.logWarning(`QMP: ignoring a line that is no QMP message: ${line.slice(0, 200)}`)
      }
      const msg = decoded.right
      if (msg instanceof Greeting) return Deferred.succeed(greeting, msg)
      if (msg instanceof QmpEvent) return PubSub.publish(events, msg)
      if (!("error" in msg) && !line.includes('"return"')) {
        return Effect.logWarning(`QMP: ignoring an unknown message: ${line.slice(0, 200)}`)
      }
      const id = typeof msg.id === "number" ? msg.id : undefined
      const waiter = id === undefined ? undefined : pending.get(id)
      if (waiter === undefined || id === undefined) return Effect.void
      pending.delete(id)
      if ("error" in msg) {
        return Deferred.fail(
          waiter,
          new QmpError({ reason: "CommandFailed", path, errorClass: msg.error.class, detail: msg.error.desc })
        )
      }
      return Deferred.succeed(waiter, msg.return)
    }

    yield* Effect.gen(function*() {
      while (true) {
        const line = yield* Queue.take(lines)
        if (line === null) break
        yield* handle(line)
      }
      closedWith = new QmpError({ reason: "Closed", path, detail: "QEMU closed the connection" })
      yield* Deferred.fail(greeting, closedWith)
      yield* failPending(closedWith)
      yield* PubSub.shutdown(events)
    }).pipe(Effect.forkScoped)

    const executeRaw = (command: string, args?: Record<string, unknown>): Effect.Effect<unknown, QmpError> =>
      Effect.gen(function*() {
        if (closedWith !== undefined) return yield* Effect.fail(closedWith)
        const id = nextId++
        const reply = yield* Deferred.make<unknown, QmpError>()
        pending.set(id, reply)
        const message = JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id })
        yield* socket.write(message + "\n").pipe(
          Effect.mapError((cause) =>
            new QmpError({
              reason: "Closed",
              path,
              command,
              detail: cause._tag === "ConnectionClosed" ? "QEMU closed the connection" : socketDetail(cause),
              cause
            })
          )
        )
        return yield* Deferred.await(reply).pipe(
          Effect.timeoutFail({
            duration: commandTimeout,
            onTimeout: () => new QmpError({ reason: "Timeout", path, command, detail: String(commandTimeout) })
          }),
          Effect.ensuring(Effect.sync(() => pending.delete(id))),
          Effect.mapError((e) => (e.command === undefined ? new QmpError({ ...e, command }) : e))
        )
      })

    const hello = yield* Deferred.await(greeting).pipe(
      Effect.timeoutFail({
        duration: options?.openTimeout ?? "5 seconds",
        onTimeout: () => new QmpError({ reason: "Handshake", path, detail: "no greeting from QEMU" })
      })
    )
    yield* executeRaw("qmp_capabilities").pipe(
      Effect.mapError((e) => new QmpError({ reason: "Handshake", path, detail: e.message, cause: e }))
    )

    return {
      path,
      greeting: hello,
      executeRaw,
      events: Stream.fromPubSub(events),
      subscribe: Stream.fromPubSub(events, { scoped: true }),
      closed: Deferred.await(socket.closed).pipe(Effect.ignore)
    } satisfies QmpClient
  })

const socketDetail = (cause: Socket.SocketError): string => {
  const inner = "cause" in cause ? cause.cause : undefined
  return inner instanceof Error ? inner.message : cause.message
}

/**
 * Runs a command whose reply type is known and decodes the reply with its Schema.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const version = Qmp.execute(qmp, "query-version") // Effect<VersionInfo, QmpError>
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const execute = <C extends Command>(
  client: QmpClient,
  command: C,
  args?: Record<string, unknown>
): Effect.Effect<Result<C>, QmpError> =>
  client.executeRaw(command, args).pipe(
    Effect.flatMap((raw) =>
      Schema.decodeUnknown(Commands[command].result as unknown as Schema.Schema<Result<C>, unknown>)(raw).pipe(
        Effect.mapError((e) =>
          new QmpError({
            reason: "Decode",
            path: client.path,
            command,
            detail: ParseResult.TreeFormatter.formatErrorSync(e),
            cause: e
          })
        )
      )
    )
  )

/**
 * `query-status`: is the VM running, and in which state (`running`, `paused`, `shutdown`, …)?
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const running = Effect.map(Qmp.queryStatus(qmp), (s) => s.running)
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const queryStatus = (client: QmpClient): Effect.Effect<StatusInfo, QmpError> => execute(client, "query-status")

/**
 * `system_powerdown`: presses the ACPI power button. The guest decides what
 * to do; a guest whose ACPI handler is not running yet ignores it.
 *
 * @example
 * ```ts
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const press = Qmp.systemPowerdown(qmp)
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const systemPowerdown = (client: QmpClient): Effect.Effect<void, QmpError> =>
  Effect.asVoid(execute(client, "system_powerdown"))

/**
 * `quit`: QEMU exits at once (like pulling the plug). A connection that
 * closes before the reply arrives counts as success.
 *
 * @example
 * ```ts
 * import { Qmp } from "effect-taskgraph/qemu"
 *
 * declare const qmp: Qmp.QmpClient
 * const stop = Qmp.quit(qmp)
 * ```
 *
 * @since 0.1.0
 * @category commands
 */
export const quit = (client: QmpClient): Effect.Effect<void, QmpError> =>
  Effect.asVoid(execute(client, "quit")).pipe(
    Effect.catchIf((e) => e.reason === "Closed", () => Effect.void)
  )

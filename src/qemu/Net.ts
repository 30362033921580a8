/**
 * TCP probes for a VM's forwarded ports.
 *
 * QEMU's user-mode network (slirp) listens on a forwarded host port a few
 * milliseconds after launch, long before the guest listens: a connection is
 * accepted at once and then held without data (slirp retries the guest SYN
 * with back-off), so an early SSH client can hang for seconds past readiness.
 * The reliable signal is data: short probes (about 1.5 s each, 100 ms apart)
 * until the server's first bytes arrive, e.g. `SSH-2.0-…`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Net } from "effect-taskgraph/qemu"
 *
 * const program = Effect.gen(function* () {
 *   const port = yield* Net.freePort()
 *   // … start something that listens on 127.0.0.1:port …
 *   const banner = yield* Net.waitForBanner({ port, prefix: "SSH-", timeout: "60 seconds" })
 *   yield* Effect.log(banner) // "SSH-2.0-dropbear_2022.83"
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Data, Deferred, Duration, Effect, Option } from "effect"
import * as NodeNet from "node:net"

/**
 * A probe gave up: the port did not accept a connection, or never sent the
 * expected data, within the total time allowed.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Net } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Net.ProbeTimeoutError>
 * program.pipe(Effect.catchTag("ProbeTimeoutError", (e) => Effect.logError(e.message)))
 * ```
 */
export class ProbeTimeoutError extends Data.TaggedError("ProbeTimeoutError")<{
  readonly host: string
  readonly port: number
  readonly waitedFor: string
  readonly timeout: Duration.Duration
  readonly attempts: number
  readonly lastOutcome: string
}> {
  override get message(): string {
    return `${this.host}:${this.port} did not ${this.waitedFor} within ${Duration.format(this.timeout)} ` +
      `(${this.attempts} probes; last: ${this.lastOutcome}). Is the service in the guest running, and is the port forwarded?`
  }
}

/**
 * No free port could be found (binding 127.0.0.1:0 failed).
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Net } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Net.FreePortError>
 * program.pipe(Effect.catchTag("FreePortError", (e) => Effect.logError(e.message)))
 * ```
 */
export class FreePortError extends Data.TaggedError("FreePortError")<{
  readonly host: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `cannot find a free TCP port on ${this.host}: ${String(this.cause)}`
  }
}

/**
 * What one probe saw.
 *
 * - `Data`: the server sent bytes (its banner) first.
 * - `Silent`: connected, but nothing arrived before the probe timeout (slirp holding the connection).
 * - `Closed`: connected, then closed or reset without data (the guest is up, nothing listens yet).
 * - `Refused`: the connection itself failed.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Net } from "effect-taskgraph/qemu"
 *
 * const banner = Net.probe({ port: 2222, timeout: "1 second" }).pipe(
 *   Effect.map((outcome: Net.ProbeOutcome) => outcome._tag === "Data" ? outcome.data : undefined)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ProbeOutcome =
  | { readonly _tag: "Data"; readonly data: string }
  | { readonly _tag: "Silent" }
  | { readonly _tag: "Closed" }
  | { readonly _tag: "Refused"; readonly code: string }

const describe = (o: ProbeOutcome): string => {
  switch (o._tag) {
    case "Data":
      return `data ${JSON.stringify(o.data.slice(0, 40))}`
    case "Silent":
      return "connected, no data (the forwarder accepted but the guest did not answer)"
    case "Closed":
      return "connected, then closed without data (nothing listening in the guest yet)"
    case "Refused":
      return `connection failed (${o.code})`
  }
}

/**
 * Connects once to `host:port` and waits at most `timeout` for the first
 * bytes. Never fails: the outcome says what happened.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Net } from "effect-taskgraph/qemu"
 *
 * const outcome = Net.probe({ port: 2222, timeout: "1500 millis" })
 * // Effect<ProbeOutcome>: { _tag: "Data", data: "SSH-2.0-…\r\n" } once sshd answers
 * ```
 *
 * @since 0.1.0
 * @category probes
 */
export const probe = (options: {
  readonly port: number
  readonly host?: string | undefined
  readonly timeout?: Duration.DurationInput | undefined
}): Effect.Effect<ProbeOutcome> =>
  Effect.async<ProbeOutcome>((resume) => {
    const host = options.host ?? "127.0.0.1"
    const ms = Duration.toMillis(Duration.decode(options.timeout ?? "1500 millis"))
    let done = false
    const socket = NodeNet.createConnection({ host, port: options.port })
    const finish = (outcome: ProbeOutcome) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resume(Effect.succeed(outcome))
    }
    const timer = setTimeout(() => finish({ _tag: "Silent" }), ms)
    let connected = false
    socket.once("connect", () => {
      connected = true
    })
    socket.once("data", (chunk: Buffer) => finish({ _tag: "Data", data: chunk.toString("latin1") }))
    socket.once("end", () => finish({ _tag: "Closed" }))
    socket.once("close", () => finish(connected ? { _tag: "Closed" } : { _tag: "Refused", code: "closed" }))
    socket.once("error", (err: NodeJS.ErrnoException) =>
      finish(connected ? { _tag: "Closed" } : { _tag: "Refused", code: err.code ?? err.message })
    )
    return Effect.sync(() => {
      done = true
      clearTimeout(timer)
      socket.destroy()
    })
  })

/**
 * Does anything accept TCP connections on `host:port` right now?
 *
 * @example
 * ```ts
 * import { Net } from "effect-taskgraph/qemu"
 *
 * const open = Net.isPortOpen({ port: 2222 }) // Effect<boolean>
 * ```
 *
 * @since 0.1.0
 * @category probes
 */
export const isPortOpen = (options: {
  readonly port: number
  readonly host?: string | undefined
  readonly timeout?: Duration.DurationInput | undefined
}): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    const socket = NodeNet.createConnection({ host: options.host ?? "127.0.0.1", port: options.port })
    const ms = Duration.toMillis(Duration.decode(options.timeout ?? "1 second"))
    const timer = setTimeout(() => {
      socket.destroy()
      resume(Effect.succeed(false))
    }, ms)
    socket.once("connect", () => {
      clearTimeout(timer)
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => {
      clearTimeout(timer)
      socket.destroy()
      resume(Effect.succeed(false))
    })
    return Effect.sync(() => {
      clearTimeout(timer)
      socket.destroy()
    })
  })

/** @internal */
const waitUntil = <A>(
  options: {
    readonly port: number
    readonly host?: string | undefined
    readonly timeout?: Duration.DurationInput | undefined
    readonly interval?: Duration.DurationInput | undefined
  },
  waitedFor: string,
  attempt: Effect.Effect<Option.Option<A>, never>,
  lastOutcome: () => string
): Effect.Effect<A, ProbeTimeoutError> => {
  const host = options.host ?? "127.0.0.1"
  const timeout = Duration.decode(options.timeout ?? "60 seconds")
  const interval = options.interval ?? "100 millis"
  let attempts = 0
  const loop: Effect.Effect<A> = Effect.suspend(() => {
    attempts++
    return Effect.flatMap(
      attempt,
      Option.match({ onNone: () => Effect.zipRight(Effect.sleep(interval), loop), onSome: Effect.succeed })
    )
  })
  return loop.pipe(
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new ProbeTimeoutError({ host, port: options.port, waitedFor, timeout, attempts, lastOutcome: lastOutcome() })
    })
  )
}

/**
 * Waits until `host:port` accepts a TCP connection (probes `interval` apart,
 * bounded by `timeout`). Note: for a QEMU forwarded port this only means QEMU
 * is listening, not that the guest is; use {@link waitForBanner} for that.
 *
 * @example
 * ```ts
 * import { Net } from "effect-taskgraph/qemu"
 *
 * const ready = Net.waitForPort({ port: 2222, timeout: "10 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category readiness
 */
export const waitForPort = (options: {
  readonly port: number
  readonly host?: string | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly interval?: Duration.DurationInput | undefined
}): Effect.Effect<void, ProbeTimeoutError> => {
  let last = "no probe yet"
  return waitUntil(
    options,
    "accept a TCP connection",
    isPortOpen({ port: options.port, host: options.host, timeout: "1 second" }).pipe(
      Effect.map((open) => {
        last = open ? "open" : "refused"
        return open ? Option.some(undefined) : Option.none()
      })
    ),
    () => last
  )
}

/**
 * Waits until a connection to `host:port` receives data starting with
 * `prefix` (default `"SSH-"`), and returns that first line.
 *
 * Probes overlap: a new one starts every `interval` (default 100 ms), each
 * lives at most `probeTimeout` (default 1.5 s), and at most
 * `probeTimeout / interval` are in flight. A fresh connection makes QEMU's
 * forwarder send a fresh SYN to the guest, while a held one is only retried
 * with back-off, so the banner is seen within about one `interval` of the
 * server starting to listen. The whole wait is bounded by `timeout`
 * (default 60 s).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Net } from "effect-taskgraph/qemu"
 *
 * const banner = Net.waitForBanner({ port: 2222, timeout: "30 seconds" })
 * // Effect<string, ProbeTimeoutError>: "SSH-2.0-dropbear_2022.83"
 * ```
 *
 * @since 0.1.0
 * @category readiness
 */
export const waitForBanner = (options: {
  readonly port: number
  readonly host?: string | undefined
  readonly prefix?: string | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly interval?: Duration.DurationInput | undefined
  readonly probeTimeout?: Duration.DurationInput | undefined
}): Effect.Effect<string, ProbeTimeoutError> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    const prefix = options.prefix ?? "SSH-"
    const timeout = Duration.decode(options.timeout ?? "60 seconds")
    const interval = Duration.decode(options.interval ?? "100 millis")
    const probeTimeout = Duration.decode(options.probeTimeout ?? "1500 millis")
    const maxInFlight = Math.max(1, Math.ceil(Duration.toMillis(probeTimeout) / Math.max(1, Duration.toMillis(interval))))
    const slots = yield* Effect.makeSemaphore(maxInFlight)
    const found = yield* Deferred.make<string>()
    let attempts = 0
    let last = "no probe yet"
    const one = probe({ port: options.port, host, timeout: probeTimeout }).pipe(
      Effect.flatMap((outcome) => {
        last = describe(outcome)
        return outcome._tag === "Data" && outcome.data.startsWith(prefix)
          ? Deferred.succeed(found, outcome.data.split(/\r?\n/)[0]!)
          : Effect.void
      })
    )
    const launcher = Effect.gen(function*() {
      while (true) {
        yield* slots.take(1)
        attempts++
        yield* Effect.forkScoped(Effect.ensuring(one, slots.release(1)))
        yield* Effect.sleep(interval)
      }
    })
    return yield* Deferred.await(found).pipe(
      Effect.raceFirst(launcher),
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new ProbeTimeoutError({
            host,
            port: options.port,
            waitedFor: `send a banner starting with ${JSON.stringify(prefix)}`,
            timeout,
            attempts,
            lastOutcome: last
          })
      })
    )
  }).pipe(Effect.scoped)

/**
 * Picks a TCP port that is free right now on `host` (default `127.0.0.1`) by
 * binding port 0 and closing it. Another process may take it before you do:
 * callers that bind later must retry on "address in use" (the VM does).
 *
 * @example
 * ```ts
 * import { Net } from "effect-taskgraph/qemu"
 *
 * const port = Net.freePort() // Effect<number, FreePortError>
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const freePort = (host: string = "127.0.0.1"): Effect.Effect<number, FreePortError> =>
  Effect.async<number, FreePortError>((resume) => {
    const server = NodeNet.createServer()
    server.unref()
    server.once("error", (cause) => resume(Effect.fail(new FreePortError({ host, cause }))))
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() =>
        resume(port > 0 ? Effect.succeed(port) : Effect.fail(new FreePortError({ host, cause: "no port assigned" })))
      )
    })
  })

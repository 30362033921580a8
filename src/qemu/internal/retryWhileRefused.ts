/**
 * Connecting to a unix socket QEMU has bound but not yet listens on.
 *
 * QEMU creates a `server=on` socket's file with `bind()` and starts listening
 * with `listen()` just after. A connect that lands between the two is refused
 * (`ECONNREFUSED`) although the file exists: seen once in a CI run, right after
 * the serial console connected and QEMU went on to open its QMP socket. While
 * QEMU still runs, a refused connect is that window, so it is tried again; once
 * QEMU has exited, the refusal is the answer.
 *
 * @internal
 */
import type { Duration } from "effect"
import { Effect, Schedule } from "effect"

/** @internal */
export interface ConnectFailure {
  readonly reason: string
  readonly cause?: unknown
}

/**
 * True when a `Connect` failure's socket error was caused by `ECONNREFUSED`
 * (`QmpError` / `SerialError` → `SocketError` → Node's system error).
 *
 * @internal
 */
export const isRefused = (error: ConnectFailure): boolean => {
  if (error.reason !== "Connect") return false
  const socketError = error.cause
  const systemError = typeof socketError === "object" && socketError !== null && "cause" in socketError
    ? socketError.cause
    : undefined
  return systemError instanceof Error && "code" in systemError && systemError.code === "ECONNREFUSED"
}

/**
 * Runs `connect`; when it is refused and `stillListening` says the server's
 * process still runs, waits `interval` and tries again. Any other failure, or a
 * refusal once the process is gone, fails as it came. Callers bound the whole
 * with their own start-up timeout.
 *
 * @internal
 */
export const retryWhileRefused = <A, E extends ConnectFailure, R>(
  connect: Effect.Effect<A, E, R>,
  stillListening: Effect.Effect<boolean, never, R>,
  interval: Duration.DurationInput = "20 millis"
): Effect.Effect<A, E, R> =>
  Effect.retry(connect, {
    schedule: Schedule.spaced(interval),
    while: (error) => isRefused(error) ? stillListening : false
  })

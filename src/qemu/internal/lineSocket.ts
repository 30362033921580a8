/**
 * A unix-socket connection read as lines, over `@effect/platform` `Socket`
 * (`NodeSocket.makeNet`). Shared by the QMP client and the serial console.
 *
 * @internal
 */
import { Socket } from "@effect/platform"
import { NodeSocket } from "@effect/platform-node"
import type { Duration, Scope } from "effect"
import { Cause, Deferred, Effect, Exit, Option } from "effect"

/** @internal */
export interface LineSocket {
  /** Writes raw text; fails with the close reason once the connection has ended. */
  readonly write: (text: string) => Effect.Effect<void, Socket.SocketError | ConnectionClosed>
  /** Completes when the peer closed the connection (success) or it broke (failure). */
  readonly closed: Deferred.Deferred<void, Socket.SocketError>
  readonly isClosed: Effect.Effect<boolean>
}

/** @internal */
export class ConnectionClosed {
  readonly _tag = "ConnectionClosed"
}

/**
 * Connects to the unix socket at `path`; every complete line (without its
 * `\n` / `\r\n`) goes to `onLine`, synchronously and in order. The connection
 * is closed when the scope closes.
 *
 * @internal
 */
export const connect = (
  path: string,
  options: {
    readonly onLine: (line: string) => void
    readonly openTimeout?: Duration.DurationInput | undefined
  }
): Effect.Effect<LineSocket, Socket.SocketError, Scope.Scope> =>
  Effect.gen(function*() {
    const socket = yield* NodeSocket.makeNet({ path, openTimeout: options.openTimeout ?? "5 seconds" })
    const opened = yield* Deferred.make<void, Socket.SocketError>()
    const closed = yield* Deferred.make<void, Socket.SocketError>()
    const decoder = new TextDecoder()
    let buffer = ""
    const flush = (final: boolean) => {
      let i: number
      while ((i = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, i).replace(/\r$/, "")
        buffer = buffer.slice(i + 1)
        options.onLine(line)
      }
      if (final && buffer.length > 0) {
        const line = buffer.replace(/\r$/, "")
        buffer = ""
        options.onLine(line)
      }
    }
    yield* socket.run((chunk) => {
      buffer += decoder.decode(chunk, { stream: true })
      flush(false)
    }, { onOpen: Deferred.succeed(opened, undefined).pipe(Effect.asVoid) }).pipe(
      Effect.exit,
      Effect.flatMap((exit) =>
        Effect.gen(function*() {
          buffer += decoder.decode()
          flush(true)
          // A peer closing (EOF, close code 1000) or our own interruption is a normal end.
          const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
          const normal = error === undefined || (error.reason === "Close" && error.code === 1000)
          if (normal) yield* Deferred.succeed(closed, undefined)
          else yield* Deferred.fail(closed, error)
          // If it ended before opening, the opener learns why.
          yield* Deferred.fail(opened, error ?? new Socket.SocketGenericError({ reason: "Open", cause: "closed" }))
        })
      ),
      Effect.forkScoped
    )
    yield* Deferred.await(opened)
    const write = yield* socket.writer
    const isClosed = Deferred.isDone(closed)
    return {
      closed,
      isClosed,
      write: (text: string) =>
        Effect.flatMap(isClosed, (done) =>
          done
            ? Effect.fail(new ConnectionClosed())
            : Effect.raceFirst(
              write(text),
              Deferred.await(closed).pipe(Effect.zipRight(Effect.fail(new ConnectionClosed())))
            ))
    } satisfies LineSocket
  })


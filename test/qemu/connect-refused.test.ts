/**
 * A unix socket whose file exists but where nobody listens (QEMU between its
 * bind() and listen(), or a stale file): the connect is refused, and
 * `Qemu.start` tries again while QEMU runs. Real sockets: the stale file comes
 * from a process killed while listening, and the listener that "starts" later
 * is a real server renamed onto that path (rename keeps the socket's inode, so
 * connecting by the new name reaches it).
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Ref } from "effect"
import * as childProcess from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Qmp from "../../src/qemu/Qmp.js"
import { isRefused, retryWhileRefused } from "../../src/qemu/internal/retryWhileRefused.js"

const greeting = JSON.stringify({
  QMP: { version: { qemu: { major: 8, minor: 2, micro: 0 }, package: "" }, capabilities: [] }
})

/** A directory with a socket file at `stale.sock` that nobody listens on. */
const staleSocket = Effect.acquireRelease(
  Effect.async<{ dir: string; sock: string }, Error>((resume) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "refused-"))
    const sock = path.join(dir, "stale.sock")
    const child = childProcess.spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(sock)}, () => process.stdout.write("up"))`
    ], { stdio: ["ignore", "pipe", "inherit"] })
    child.stdout.once("data", () => child.kill("SIGKILL"))
    child.once("exit", () => {
      if (fs.existsSync(sock)) resume(Effect.succeed({ dir, sock }))
      else resume(Effect.fail(new Error("the killed listener left no socket file")))
    })
  }),
  ({ dir }) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** A QMP-speaking server listening on `at`: greets, answers every command with `{}`. */
const qmpServer = (at: string) =>
  Effect.acquireRelease(
    Effect.async<net.Server>((resume) => {
      const server = net.createServer((socket) => {
        socket.on("error", () => {})
        socket.write(greeting + "\n")
        let buffer = ""
        socket.on("data", (chunk) => {
          buffer += chunk.toString()
          let i: number
          while ((i = buffer.indexOf("\n")) >= 0) {
            const { id } = JSON.parse(buffer.slice(0, i)) as { id: number }
            buffer = buffer.slice(i + 1)
            socket.write(JSON.stringify({ return: {}, id }) + "\n")
          }
        })
      })
      server.listen(at, () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

describe("connecting to a socket that is not listening yet", () => {
  it.scopedLive("a refused QMP connect is tried again while the server's process runs, and then connects", () =>
    Effect.gen(function*() {
      const { dir, sock } = yield* staleSocket
      // The premise: a plain connect to that file is refused.
      const plain = yield* Effect.exit(Effect.scoped(Qmp.connect(sock, { openTimeout: "2 seconds" })))
      expect(Exit.isFailure(plain)).toBe(true)
      if (Exit.isFailure(plain)) {
        const error = plain.cause._tag === "Fail" ? plain.cause.error : undefined
        expect(error !== undefined && isRefused(error)).toBe(true)
      }

      // The first time the retry asks whether the server still runs, the server starts
      // listening: a real listener renamed onto the refused path.
      const asked = yield* Ref.make(0)
      const stillListening = Effect.gen(function*() {
        const n = yield* Ref.updateAndGet(asked, (k) => k + 1)
        if (n === 1) {
          const fresh = path.join(dir, "fresh.sock")
          yield* qmpServer(fresh)
          fs.renameSync(fresh, sock)
        }
        return true
      }).pipe(Effect.orDie)
      const client = yield* retryWhileRefused(Qmp.connect(sock, { openTimeout: "2 seconds" }), stillListening, "1 millis")
      expect(client.greeting.QMP.version.qemu.major).toBe(8)
      expect(yield* client.executeRaw("query-status")).toEqual({})
      expect(yield* Ref.get(asked)).toBe(1)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("once the server's process has gone, the refusal is the answer", () =>
    Effect.gen(function*() {
      const { sock } = yield* staleSocket
      const asked = yield* Ref.make(0)
      const exit = yield* Effect.exit(
        retryWhileRefused(Qmp.connect(sock, { openTimeout: "2 seconds" }), Ref.updateAndGet(asked, (k) => k + 1).pipe(Effect.as(false)))
      )
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        expect(exit.cause._tag === "Fail" && exit.cause.error.reason === "Connect").toBe(true)
      }
      expect(yield* Ref.get(asked)).toBe(1)
    }))
})

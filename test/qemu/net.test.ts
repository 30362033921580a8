/**
 * Net: real TCP servers on 127.0.0.1 that behave like QEMU's forwarded port
 * at each stage of a boot (refusing, accepting and holding silent, accepting
 * and closing, answering with a banner later).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import * as Net from "../../src/qemu/Net.js"

type Behaviour = (socket: net.Socket) => void

const serve = (behaviour: Behaviour) =>
  Effect.acquireRelease(
    Effect.async<{ server: net.Server; port: number; sockets: Set<net.Socket> }>((resume) => {
      const sockets = new Set<net.Socket>()
      const server = net.createServer((socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
        socket.on("error", () => {})
        behaviour(socket)
      })
      server.listen({ host: "127.0.0.1", port: 0 }, () => {
        const address = server.address() as net.AddressInfo
        resume(Effect.succeed({ server, port: address.port, sockets }))
      })
    }),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        for (const s of sockets) s.destroy()
        server.close(() => resume(Effect.void))
      })
  )

describe("Net", () => {
  it.live("freePort returns a port that can be bound on 127.0.0.1", () =>
    Effect.gen(function*() {
      const port = yield* Net.freePort()
      expect(port).toBeGreaterThan(0)
      const bound = yield* Effect.async<boolean>((resume) => {
        const s = net.createServer().listen({ host: "127.0.0.1", port }, () => s.close(() => resume(Effect.succeed(true))))
        s.on("error", () => resume(Effect.succeed(false)))
      })
      expect(bound).toBe(true)
    }))

  it.scopedLive("probe tells refused, silent, closed and data apart", () =>
    Effect.gen(function*() {
      const freePort = yield* Net.freePort()
      expect((yield* Net.probe({ port: freePort, timeout: "500 millis" }))._tag).toBe("Refused")

      const silent = yield* serve(() => {})
      expect(yield* Net.probe({ port: silent.port, timeout: "300 millis" })).toEqual({ _tag: "Silent" })

      const closing = yield* serve((s) => s.end())
      expect(yield* Net.probe({ port: closing.port, timeout: "2 seconds" })).toEqual({ _tag: "Closed" })

      const ssh = yield* serve((s) => s.write("SSH-2.0-test_1.0\r\n"))
      expect(yield* Net.probe({ port: ssh.port, timeout: "2 seconds" })).toEqual({
        _tag: "Data",
        data: "SSH-2.0-test_1.0\r\n"
      })
    }))

  it.scopedLive("waitForBanner sees a server that starts answering while earlier probes are held", () =>
    Effect.gen(function*() {
      // Like QEMU's forwarder before the guest's sshd: connections are accepted
      // and held without data. From `opensAt` on, new connections get the
      // banner; the held ones never do. Overlapping probes see it within about
      // one interval; probing one at a time would wait for a held probe's
      // whole timeout (3 s) first.
      let opensAt = Number.POSITIVE_INFINITY
      let connections = 0
      const server = yield* serve((s) => {
        connections++
        if (Date.now() >= opensAt) s.write("SSH-2.0-late_1.0\r\n")
      })
      const started = Date.now()
      opensAt = started + 300
      const banner = yield* Net.waitForBanner({
        port: server.port,
        probeTimeout: "3 seconds",
        interval: "100 millis",
        timeout: "10 seconds"
      })
      const elapsed = Date.now() - started
      expect(banner).toBe("SSH-2.0-late_1.0")
      expect(connections).toBeGreaterThanOrEqual(3)
      expect(elapsed).toBeGreaterThanOrEqual(300)
      expect(elapsed).toBeLessThan(2000)
    }))

  it.scopedLive("waitForBanner fails with a bounded timeout that says what the port did", () =>
    Effect.gen(function*() {
      const silent = yield* serve(() => {})
      const started = Date.now()
      const error = yield* Effect.flip(
        Net.waitForBanner({ port: silent.port, probeTimeout: "200 millis", interval: "50 millis", timeout: "1 second" })
      )
      const elapsed = Date.now() - started
      expect(error._tag).toBe("ProbeTimeoutError")
      expect(error.attempts).toBeGreaterThanOrEqual(2)
      expect(error.message).toContain(`127.0.0.1:${silent.port} did not send a banner starting with "SSH-"`)
      expect(error.message).toContain("connected, no data")
      expect(elapsed).toBeGreaterThanOrEqual(1000)
      expect(elapsed).toBeLessThan(2500)
    }))

  it.scopedLive("waitForPort waits for a listener", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => {})
      yield* Net.waitForPort({ port: server.port, timeout: "2 seconds" })
      const port = yield* Net.freePort()
      const error = yield* Effect.flip(Net.waitForPort({ port, timeout: "300 millis" }))
      expect(error.lastOutcome).toBe("refused")
    }))
})

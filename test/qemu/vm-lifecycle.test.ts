/**
 * The VM's life cycle with real QEMU: option validation, missing files,
 * host-port conflicts (retried, or a clear error for a fixed port), QEMU
 * killed from outside (the watcher fails the task with the exit status and
 * the serial tail), release escalation when QMP does not answer, and QEMU
 * dying with a SIGKILLed runner. Most VMs here are released right after
 * start-up (no full boot), so they cost little CPU.
 */
import { NodeContext } from "@effect/platform-node"
import { beforeAll, describe, expect, it } from "@effect/vitest"
import type { Cause } from "effect"
import { Deferred, Effect, Exit, Fiber, Scope } from "effect"
import * as cp from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as Net from "../../src/qemu/Net.js"
import * as Qemu from "../../src/qemu/Qemu.js"
import * as Serial from "../../src/qemu/Serial.js"
import * as TestGuest from "../../src/qemu/TestGuest.js"
import { capture, isGone, qemuPidsWith } from "./helpers.js"

let guest: TestGuest.Guest & { readonly hostKeyLine: string }

beforeAll(async () => {
  guest = await Effect.runPromise(TestGuest.build().pipe(Effect.provide(NodeContext.layer)))
}, 180_000)

/** A listener holding a port on 127.0.0.1, closed with the scope. */
const holdPort = Effect.acquireRelease(
  Effect.async<{ server: net.Server; port: number }>((resume) => {
    const server = net.createServer()
    server.listen({ host: "127.0.0.1", port: 0 }, () =>
      resume(Effect.succeed({ server, port: (server.address() as net.AddressInfo).port })))
  }),
  ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)

const fast = { powerdownTimeout: "1 second", quitTimeout: "2 seconds", killGrace: "1 second" } as const

describe("Qemu.start: before anything runs", () => {
  it.live("bad options are one readable error listing every problem", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Qemu.start({
          memory: -5,
          cpus: 0,
          accel: "turbo" as "tcg",
          forwards: [{ name: "has space", guest: 70000 }],
          powerdownTimeout: "soon" as "1 second",
          colour: "red"
        } as Qemu.StartOptions).pipe(Effect.scoped, Effect.provide(NodeContext.layer))
      )
      expect(error._tag).toBe("QemuOptionsError")
      for (const field of ["memory", "cpus", "accel", "name", "guest", "powerdownTimeout", "colour"]) {
        expect(error.message).toContain(field)
      }
    }))

  it.live("a missing kernel is named, and no QEMU is started", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Qemu.start({ kernel: "/nonexistent/vmlinuz" }).pipe(Effect.scoped, Effect.provide(NodeContext.layer))
      )
      expect(error._tag).toBe("QemuStartError")
      expect(error.message).toContain("kernel /nonexistent/vmlinuz does not exist")
    }))

  it("the command line: TCG with -cpu max, forwards on 127.0.0.1, sockets in the run dir", () => {
    const options = Effect.runSync(Qemu.decodeOptions({
      name: "cl",
      kernel: "k",
      drives: [{ file: "/x/a,b.qcow2" }],
      forwards: [{ name: "ssh", guest: 22 }, { name: "web", guest: 80 }]
    }))
    const argv = Qemu.argv(options, { runDir: "/tmp/qemu-abc", accel: "tcg", ports: { ssh: 40022, web: 40080 } })
    expect(argv.slice(0, 3)).toEqual(["qemu-system-x86_64", "-name", "cl"])
    expect(argv.join(" ")).toContain("-accel tcg -cpu max -m 256 -smp 1")
    expect(argv).toContain("user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:40022-:22,hostfwd=tcp:127.0.0.1:40080-:80")
    expect(argv).toContain("file=/x/a,,b.qcow2,if=virtio,format=qcow2")
    expect(argv).toContain("unix:/tmp/qemu-abc/qmp.sock,server=on,wait=off")
    expect(argv).toContain("-no-reboot")
    expect(argv).toContain("none")
  })
})

describe("Qemu.start: host ports", () => {
  it.live("an automatically chosen port found taken is retried with another one", () =>
    Effect.gen(function*() {
      const held = yield* holdPort
      const out = capture()
      let picks = 0
      const pickPort = Effect.suspend(() => (picks++ === 0 ? Effect.succeed(held.port) : Net.freePort()))
      const scope = yield* Scope.make()
      const vm = yield* Qemu.start(TestGuest.vmOptions(guest, { name: "retry", ...fast }), { pickPort }).pipe(
        out.within,
        Scope.extend(scope),
        Effect.provide(NodeContext.layer)
      )
      expect(picks).toBe(2)
      expect(vm.ports.ssh).not.toBe(held.port)
      expect(out.of("log").some((l) => l.includes(`a host port was taken (${held.port})`))).toBe(true)
      expect(out.of("stderr").some((l) => l.includes("Could not set up host forwarding rule"))).toBe(true)
      // the failed attempt left nothing running
      expect(qemuPidsWith(`127.0.0.1:${held.port}-:22`)).toEqual([])
      // released before the guest's ACPI daemon runs: power-down is ignored, quit ends it
      yield* Scope.close(scope, Exit.void).pipe(out.within)
      expect(isGone(vm.pid)).toBe(true)
      expect(fs.existsSync(vm.runDir)).toBe(false)
    }).pipe(Effect.scoped))

  it.live("a fixed host port that is taken is a clear error, not retried", () =>
    Effect.gen(function*() {
      const held = yield* holdPort
      const error = yield* Effect.flip(
        Qemu.start(TestGuest.vmOptions(guest, { name: "fixed", forwards: [{ name: "ssh", guest: 22, host: held.port }] })).pipe(
          Effect.scoped,
          Effect.provide(NodeContext.layer)
        )
      )
      expect(error._tag).toBe("QemuStartError")
      if (error._tag !== "QemuStartError") return
      expect(error.reason).toBe("PortInUse")
      expect(error.message).toContain(`Could not set up host forwarding rule 'tcp:127.0.0.1:${held.port}-:22'`)
      expect(qemuPidsWith(`127.0.0.1:${held.port}-:22`)).toEqual([])
    }).pipe(Effect.scoped))
})

describe("Qemu: while in use and on release", () => {
  it.live("SSH never ready is a bounded error with the serial tail; QEMU killed from outside fails waiters and the task at once", () =>
    Effect.gen(function*() {
      const failed = yield* Deferred.make<Cause.Cause<unknown>>()
      const out = capture((cause) => Deferred.unsafeDone(failed, Exit.succeed(cause)))
      const scope = yield* Scope.make()
      const vm = yield* Qemu.start(TestGuest.vmOptions(guest, {
        name: "victim",
        forwards: [{ name: "ssh", guest: 22 }, { name: "nossh", guest: 2222 }],
        ...fast
      })).pipe(out.within, Scope.extend(scope), Effect.provide(NodeContext.layer))
      yield* Serial.waitForLine(vm.serial, /GUEST-READY/, "120 seconds")
      const identity = { user: guest.user, privateKeyPath: guest.privateKey, hostKey: guest.hostKeyLine }

      // nothing listens on the guest's port 2222: bounded, and the error shows the console
      const started = Date.now()
      const notReady = yield* Effect.flip(
        Qemu.waitForSsh(vm, { ...identity, forward: "nossh", timeout: "1500 millis" }).pipe(
          Effect.scoped,
          Effect.provide(NodeContext.layer)
        )
      )
      expect(Date.now() - started).toBeLessThan(4000)
      expect(notReady._tag).toBe("SshNotReadyError")
      expect(notReady.message).toContain("did not send a banner")
      expect(notReady.message).toContain("GUEST-READY")

      // QEMU dies while someone waits for SSH: the waiter fails at once, not at its timeout
      const waiter = yield* Effect.fork(
        Qemu.waitForSsh(vm, { ...identity, forward: "nossh", timeout: "60 seconds" }).pipe(
          Effect.scoped,
          Effect.provide(NodeContext.layer)
        )
      )
      process.kill(vm.pid, "SIGKILL")
      const killedAt = Date.now()
      const waitError = yield* Effect.flip(Fiber.join(waiter))
      expect(Date.now() - killedAt).toBeLessThan(3000)
      expect(waitError.message).toContain("was killed by SIGKILL before SSH was ready")

      // and the VM's watcher fails the task with the status and the serial tail
      const cause = yield* Deferred.await(failed).pipe(Effect.timeout("10 seconds"))
      const error = cause._tag === "Fail" ? cause.error : undefined
      expect(error).toBeInstanceOf(Qemu.QemuExitedError)
      const exited = error as Qemu.QemuExitedError
      expect(exited.status).toEqual({ _tag: "Signaled", signal: "SIGKILL" })
      expect(exited.message).toContain("QEMU of VM victim was killed by SIGKILL while the VM was in use")
      expect(exited.serial.some((l) => l.startsWith("GUEST-READY"))).toBe(true)
      const closing = Date.now()
      yield* Scope.close(scope, Exit.void)
      expect(Date.now() - closing).toBeLessThan(3000)
      expect(fs.existsSync(vm.runDir)).toBe(false)
    }))

  it.live("powerdown \"after-ssh\": released before SSH was ready, the VM gets QMP quit at once, no ACPI button", () =>
    Effect.gen(function*() {
      const out = capture()
      const scope = yield* Scope.make()
      const vm = yield* Qemu.start(TestGuest.vmOptions(guest, { name: "booting", powerdown: "after-ssh", ...fast })).pipe(
        out.within,
        Scope.extend(scope),
        Effect.provide(NodeContext.layer)
      )
      expect(isGone(vm.pid)).toBe(false)
      yield* Scope.close(scope, Exit.void).pipe(out.within)
      expect(isGone(vm.pid)).toBe(true)
      const log = out.of("log")
      expect(log).toContain("booting: the guest is not SSH-ready, quitting at once (QMP quit)")
      expect(log.some((l) => l.includes("powering down (ACPI)") || l.includes("sending SIGTERM"))).toBe(false)
      expect(fs.existsSync(vm.runDir)).toBe(false)
    }))

  it.live("release escalates to SIGKILL when QEMU does not answer QMP (SIGSTOPped)", () =>
    Effect.gen(function*() {
      const out = capture()
      const scope = yield* Scope.make()
      const vm = yield* Qemu.start(TestGuest.vmOptions(guest, {
        name: "frozen",
        powerdownTimeout: "500 millis",
        quitTimeout: "500 millis",
        killGrace: "500 millis"
      })).pipe(out.within, Scope.extend(scope), Effect.provide(NodeContext.layer))
      process.kill(vm.pid, "SIGSTOP")
      const started = Date.now()
      yield* Scope.close(scope, Exit.void).pipe(out.within)
      const elapsed = Date.now() - started
      expect(isGone(vm.pid)).toBe(true)
      expect(elapsed).toBeLessThan(5000)
      const log = out.of("log")
      expect(log).toContain("frozen: powering down (ACPI)")
      expect(log.some((l) => l.includes("sending QMP quit"))).toBe(true)
      expect(log.some((l) => l.includes("sending SIGTERM"))).toBe(true)
      expect(fs.existsSync(vm.runDir)).toBe(false)
    }))

  it.live("QEMU dies with its runner even when the runner is SIGKILLed", () =>
    Effect.gen(function*() {
      const runner = cp.spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "fixtures", "vm-runner.ts"), guest.dir], {
        stdio: ["ignore", "pipe", "inherit"]
      })
      const line = yield* Effect.async<string>((resume) => {
        let buffer = ""
        runner.stdout!.on("data", (chunk: Buffer) => {
          buffer += chunk.toString()
          const match = /QEMU-PID .*\n/.exec(buffer)
          if (match) resume(Effect.succeed(match[0]))
        })
        runner.on("exit", () => resume(Effect.succeed(buffer)))
      }).pipe(Effect.timeout("60 seconds"))
      const [, pid, runDir] = line.trim().split(" ")
      const qemuPid = Number(pid)
      expect(qemuPid).toBeGreaterThan(0)
      expect(isGone(qemuPid)).toBe(false)
      runner.kill("SIGKILL")
      const killedAt = Date.now()
      while (!isGone(qemuPid) && Date.now() - killedAt < 5000) yield* Effect.sleep("20 millis")
      expect(isGone(qemuPid)).toBe(true)
      expect(Date.now() - killedAt).toBeLessThan(1000)
      // its run dir is swept by the next start (owner dead); here we check the marker and sweep by hand
      expect(fs.readFileSync(path.join(runDir!, "owner.pid"), "utf8")).toBe(String(runner.pid))
      fs.rmSync(runDir!, { recursive: true, force: true })
    }))
})

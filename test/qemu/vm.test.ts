/**
 * The QEMU toolkit against one real VM of the test guest (TCG): overlay →
 * VM → serial → QMP → banner → SSH → rsync, then release. One boot is shared
 * by the tests of the "running VM" block (each boot costs ~5-10 s of the two
 * shared cores); the block after it checks what the release left behind.
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Fiber, Layer, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Task from "../../src/Task.js"
import * as TaskGraph from "../../src/TaskGraph.js"
import * as Net from "../../src/qemu/Net.js"
import * as Qemu from "../../src/qemu/Qemu.js"
import * as QemuImg from "../../src/qemu/QemuImg.js"
import * as QemuTask from "../../src/qemu/QemuTask.js"
import * as Qmp from "../../src/qemu/Qmp.js"
import * as Rsync from "../../src/qemu/Rsync.js"
import * as Serial from "../../src/qemu/Serial.js"
import * as Ssh from "../../src/qemu/Ssh.js"
import * as TestGuest from "../../src/qemu/TestGuest.js"
import { capture, isGone, qemuPidsWith } from "./helpers.js"

interface Env {
  readonly guest: TestGuest.Guest & { readonly hostKeyLine: string }
  readonly overlay: QemuImg.Overlay
  readonly vm: Qemu.Vm
  readonly target: Ssh.Target
  readonly ssh: Ssh.Session
  readonly vmOutput: ReturnType<typeof capture>
  readonly watcherFailures: Array<Cause.Cause<unknown>>
  readonly readyAfterMs: number
}
class Shared extends Context.Tag("test/SharedVm")<Shared, Env>() {}

/** What the release must have removed, recorded while the VM was up. */
const leftovers = { pid: 0, runDir: "", overlay: "", overlayDir: "", tag: "" }

const watcherFailures: Array<Cause.Cause<unknown>> = []
const vmOutput = capture((cause) => watcherFailures.push(cause))

const SharedLive = Layer.scoped(
  Shared,
  Effect.gen(function*() {
    const guest = yield* TestGuest.build()
    const overlay = yield* QemuImg.overlay({ base: guest.baseImage })
    const started = Date.now()
    // "after-ssh": the power-down is used once SSH was ready (checked after the release below)
    const vm = yield* Qemu.start(TestGuest.vmOptions(guest, { name: "shared", disk: overlay.path, powerdown: "after-ssh" }))
    const target = TestGuest.sshTarget(guest, vm.ports.ssh!)
    const ssh = yield* Qemu.waitForSsh(vm, {
      user: guest.user,
      privateKeyPath: guest.privateKey,
      hostKey: guest.hostKeyLine,
      timeout: "120 seconds"
    })
    const readyAfterMs = Date.now() - started
    leftovers.pid = vm.pid
    leftovers.runDir = vm.runDir
    leftovers.overlay = overlay.path
    leftovers.overlayDir = path.dirname(overlay.path)
    leftovers.tag = vm.runDir
    return { guest, overlay, vm, target, ssh, vmOutput, watcherFailures, readyAfterMs }
  }).pipe(vmOutput.within)
).pipe(Layer.provideMerge(NodeContext.layer))

layer(SharedLive, { excludeTestServices: true, timeout: "180 seconds" })("a running test VM", (it) => {
  it.effect("boots under TCG with the ssh port forwarded on 127.0.0.1 and a short run dir", () =>
    Effect.gen(function*() {
      const { readyAfterMs, vm } = yield* Shared
      // KVM only where it works (vmx/svm and a read-write /dev/kvm); on this kind of machine
      // /dev/kvm exists but the CPU has neither flag, and a KVM guest would hang for ever
      const flags = /^flags\s*:(.*)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? ""
      let kvmDevice = true
      try {
        fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK)
      } catch {
        kvmDevice = false
      }
      const kvm = /\b(vmx|svm)\b/.test(flags) && kvmDevice
      expect(vm.accel).toBe(kvm ? "kvm" : "tcg")
      expect(vm.argv).toContain(kvm ? "host" : "max")
      expect(vm.argv.join(" ")).toMatch(/hostfwd=tcp:127\.0\.0\.1:\d+-:22/)
      expect(vm.argv).toContain("-no-reboot")
      expect(path.join(vm.runDir, "serial.sock").length).toBeLessThan(108)
      expect(fs.existsSync(path.join(vm.runDir, "qmp.sock"))).toBe(true)
      expect(readyAfterMs).toBeLessThan(120_000)
      expect(yield* vm.isRunning).toBe(true)
    }))

  it.effect("QMP: handshake done, greeting decoded, query-status says running", () =>
    Effect.gen(function*() {
      const { vm } = yield* Shared
      expect(vm.qmp.greeting.QMP.version.qemu.major).toBeGreaterThanOrEqual(7)
      const status = yield* Qmp.queryStatus(vm.qmp)
      expect(status).toMatchObject({ running: true, status: "running" })
      const version = yield* Qmp.execute(vm.qmp, "query-version")
      expect(version.qemu.major).toBe(vm.qmp.greeting.QMP.version.qemu.major)
      const refused = yield* Effect.flip(vm.qmp.executeRaw("no-such-command"))
      expect(refused.reason).toBe("CommandFailed")
      expect(refused.errorClass).toBe("CommandNotFound")
    }))

  it.scoped("QMP: events are a stream (stop/cont give STOP and RESUME)", () =>
    Effect.gen(function*() {
      const { vm } = yield* Shared
      const events = yield* vm.qmp.subscribe
      const collected = yield* Effect.fork(Stream.runCollect(Stream.take(events, 2)))
      yield* Qmp.execute(vm.qmp, "stop")
      expect((yield* Qmp.queryStatus(vm.qmp)).status).toBe("paused")
      yield* Qmp.execute(vm.qmp, "cont")
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(collected).pipe(Effect.timeout("10 seconds")))
      expect(seen.map((e) => e.event)).toEqual(["STOP", "RESUME"])
      expect(seen[0]!.timestamp.seconds).toBeGreaterThan(0)
      expect((yield* Qmp.queryStatus(vm.qmp)).running).toBe(true)
    }))

  it.effect("serial: the boot's lines are a stream (and in the task output), and lines can be typed in", () =>
    Effect.gen(function*() {
      const { vm, vmOutput } = yield* Shared
      const ready = yield* Serial.waitForLine(vm.serial, /^GUEST-READY/, "5 seconds")
      expect(ready).toMatch(/^GUEST-READY uptime=\d+/)
      expect(vmOutput.of("stdout").some((l) => /^shared\| GUEST-READY/.test(l))).toBe(true)
      // the guest computes the answer, so the echo of what we typed cannot match
      const answer = Serial.waitForLine(vm.serial, /^SERIAL-42$/, { timeout: "20 seconds", since: "now" })
      const fiber = yield* Effect.fork(answer)
      yield* Effect.yieldNow()
      yield* Serial.write(vm.serial, "echo SERIAL-$((6*7))")
      expect(yield* Fiber.join(fiber)).toBe("SERIAL-42")
      // subscribe: every line after it, in order, as a stream
      const collected = yield* Effect.scoped(Effect.gen(function*() {
        const stream = yield* vm.serial.subscribe
        const fiber = yield* Effect.fork(Stream.runCollect(stream.pipe(Stream.filter((l) => /^L[12]-ok$/.test(l)), Stream.take(2))))
        yield* Serial.write(vm.serial, "echo L1-$(echo ok); echo L2-$(echo ok)")
        return yield* Fiber.join(fiber).pipe(Effect.timeout("20 seconds"))
      }))
      expect(Chunk.toReadonlyArray(collected)).toEqual(["L1-ok", "L2-ok"])
      // the on-disk log QEMU writes has the same lines
      expect(fs.readFileSync(vm.serialLog, "utf8")).toContain("GUEST-READY")
    }))

  it.effect("serial: a line that never comes is a bounded timeout with the console's tail", () =>
    Effect.gen(function*() {
      const { vm } = yield* Shared
      const error = yield* Effect.flip(Serial.waitForLine(vm.serial, /NEVER-PRINTED/, "300 millis"))
      expect(error.reason).toBe("Timeout")
      expect(error.message).toContain("no line matched /NEVER-PRINTED/ within 300ms")
      expect(error.tail.length).toBeGreaterThan(0)
    }))

  it.effect("banner probe sees the guest's dropbear", () =>
    Effect.gen(function*() {
      const { vm } = yield* Shared
      const banner = yield* Net.waitForBanner({ port: vm.ports.ssh!, timeout: "10 seconds" })
      expect(banner).toMatch(/^SSH-2\.0-dropbear/)
    }))

  it.effect("ssh exec streams stdout/stderr lines with their stream names and returns the exit code", () =>
    Effect.gen(function*() {
      const { ssh } = yield* Shared
      const out = capture()
      const code = yield* Ssh.exec(
        ssh,
        "echo one; echo two >&2; cat /mnt/base.txt; printf 'no newline'; exit 7"
      ).pipe(out.within)
      expect(code).toBe(7)
      expect(out.of("stdout")).toEqual(["one", "base image of the effect-taskgraph test guest", "no newline"])
      expect(out.of("stderr")).toEqual(["two"])
      expect(yield* Ssh.exec(ssh, "true", { output: false })).toBe(0)
    }))

  it.effect("ssh exec quotes argv safely", () =>
    Effect.gen(function*() {
      const { ssh } = yield* Shared
      const args = ["it's", "a b", "$HOME", "`id`", "*", "; rm -rf /", "\"q\"", "tab\there", ""]
      const result = yield* Ssh.capture(ssh, ["printf", "[%s]\\n", ...args])
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toEqual(args.map((a) => `[${a}]`))
    }))

  it.effect("ssh exec interrupted: the remote command (and its children) really stop", () =>
    Effect.gen(function*() {
      const { ssh } = yield* Shared
      const out = capture()
      const fiber = yield* Effect.fork(
        Ssh.exec(ssh, "echo started; sleep 317 & sleep 318; echo never").pipe(out.within)
      )
      // wait until the command runs (a real condition: its first line)
      while (!out.of("stdout").includes("started")) yield* Effect.sleep("20 millis")
      // processes whose whole command line is "sleep 317" or "sleep 318"
      const count = "for p in /proc/[0-9]*; do tr '\\0' ' ' <$p/cmdline 2>/dev/null; echo; done | grep -cx 'sleep 31[78] '"
      const alive = yield* Ssh.capture(ssh, count)
      expect(alive.stdout).toEqual(["2"])
      const started = Date.now()
      yield* Fiber.interrupt(fiber)
      expect(Date.now() - started).toBeLessThan(5000)
      const after = yield* Ssh.capture(ssh, count)
      expect(after.stdout).toEqual(["0"])
      expect(out.of("stdout")).not.toContain("never")
    }))

  it.effect("ssh refuses a host key that is not the pinned one", () =>
    Effect.gen(function*() {
      const { target } = yield* Shared
      const otherKey = fs.readFileSync(target.privateKeyPath.replace(/id_ed25519$/, "id_ed25519.pub"), "utf8")
      const error = yield* Effect.flip(Effect.scoped(Ssh.connect({ ...target, hostKey: otherKey })))
      expect(error.reason).toBe("HostKey")
      expect(error.message).toContain("not the pinned one")
    }))

  it.effect("ssh: a key the guest does not know is refused (Auth)", () =>
    Effect.gen(function*() {
      const { target } = yield* Shared
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "key-"))
      const key = path.join(dir, "id")
      yield* Effect.promise(() =>
        import("node:child_process").then((cp) =>
          cp.execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key])
        )
      )
      const error = yield* Effect.flip(Effect.scoped(Ssh.connect({ ...target, privateKeyPath: key })))
      fs.rmSync(dir, { recursive: true })
      expect(error.reason).toBe("Auth")
    }))

  it.effect("rsync pushes a tree (itemized lines in the output) and pulls it back", () =>
    Effect.gen(function*() {
      const { ssh, target } = yield* Shared
      const src = fs.mkdtempSync(path.join(os.tmpdir(), "rsync-src-"))
      fs.mkdirSync(path.join(src, "sub dir"))
      fs.writeFileSync(path.join(src, "a.txt"), "alpha\n")
      fs.writeFileSync(path.join(src, "sub dir", "b.txt"), "beta\n")
      const out = capture()
      const pushed = yield* Rsync.push(target, { source: `${src}/`, destination: "/tmp/rsync-dest/" }).pipe(out.within)
      expect(pushed.itemized.some((l) => l.endsWith("a.txt"))).toBe(true)
      expect(pushed.itemized.some((l) => l.endsWith("sub dir/b.txt"))).toBe(true)
      expect(out.of("stdout").some((l) => l.endsWith("a.txt"))).toBe(true)
      const remote = yield* Ssh.capture(ssh, "cat /tmp/rsync-dest/a.txt '/tmp/rsync-dest/sub dir/b.txt'")
      expect(remote.stdout).toEqual(["alpha", "beta"])
      // nothing changed: nothing itemized
      const again = yield* Rsync.push(target, { source: `${src}/`, destination: "/tmp/rsync-dest/", output: false })
      expect(again.itemized.filter((l) => l.startsWith(">f"))).toEqual([])
      const back = fs.mkdtempSync(path.join(os.tmpdir(), "rsync-back-"))
      yield* Rsync.pull(target, { source: "/tmp/rsync-dest/", destination: `${back}/`, output: false })
      expect(fs.readFileSync(path.join(back, "sub dir", "b.txt"), "utf8")).toBe("beta\n")
      fs.rmSync(src, { recursive: true })
      fs.rmSync(back, { recursive: true })
    }))

  it.effect("rsync with a wrong pinned host key fails with ssh's exit code explained", () =>
    Effect.gen(function*() {
      const { target } = yield* Shared
      const src = fs.mkdtempSync(path.join(os.tmpdir(), "rsync-bad-"))
      fs.writeFileSync(path.join(src, "x"), "x")
      const otherKey = fs.readFileSync(target.privateKeyPath.replace(/id_ed25519$/, "id_ed25519.pub"), "utf8")
      const error = yield* Effect.flip(
        Rsync.push({ ...target, hostKey: otherKey }, { source: `${src}/`, destination: "/tmp/never/", output: false })
      )
      fs.rmSync(src, { recursive: true })
      // 255 is ssh's code; rsync reports 12 when it sees the stream break before it reaps ssh
      expect([255, 12]).toContain(error.exitCode)
      expect(error.message).toContain("ssh failed")
      expect(error.message).toMatch(/host key/i)
    }))

  it.effect("the guest writes to the overlay, never to the base image", () =>
    Effect.gen(function*() {
      const { guest, ssh } = yield* Shared
      const before = fs.statSync(guest.baseImage).mtimeMs
      expect(yield* Ssh.exec(ssh, "echo written > /mnt/written.txt && sync", { output: false })).toBe(0)
      expect((yield* Ssh.capture(ssh, "cat /mnt/written.txt")).stdout).toEqual(["written"])
      expect(fs.statSync(guest.baseImage).mtimeMs).toBe(before)
    }))

  it.effect("no watcher failure while the VM is in use", () =>
    Effect.gen(function*() {
      const { watcherFailures } = yield* Shared
      expect(watcherFailures).toEqual([])
    }))

  it.effect("portReady with a forward the VM lacks fails with PortForwardMissingError saying what to add", () =>
    Effect.gen(function*() {
      const { vm } = yield* Shared
      const { Port, Vm } = QemuTask.tags("missing-forward")
      const graph = TaskGraph.make("missing forward", [
        Task.make("vm", { provides: Vm, run: Effect.succeed(vm) }),
        QemuTask.portReady("wait for port", { vm: Vm, provides: Port, forward: "web" })
      ])
      const failed = yield* Effect.flip(TaskGraph.run(graph))
      expect(failed._tag).toBe("RunFailedError")
      const error = failed._tag === "RunFailedError" ? Cause.failureOption(failed.failures[0]!.cause) : undefined
      expect(error?._tag === "Some" ? error.value : undefined).toBeInstanceOf(Qemu.PortForwardMissingError)
      const message = error?._tag === "Some" ? error.value.message : ""
      expect(message).toContain(`VM shared has no port forward named "web" (it has: ssh)`)
      expect(message).toContain(`ports: { "web": GUEST_PORT }`)
    }))
})

describe("after the shared VM's release", () => {
  it("no qemu process, no run dir, no overlay is left, and the power-down was clean", () => {
    expect(leftovers.pid).toBeGreaterThan(0)
    expect(isGone(leftovers.pid)).toBe(true)
    expect(qemuPidsWith(leftovers.tag)).toEqual([])
    expect(fs.existsSync(leftovers.runDir)).toBe(false)
    expect(fs.existsSync(leftovers.overlay)).toBe(false)
    expect(fs.existsSync(leftovers.overlayDir)).toBe(false)
    // SSH was ready (powerdown "after-ssh"): the ACPI power-down, which was enough (no quit, no signals)
    const log = vmOutput.of("log")
    expect(log).toContain("shared: powering down (ACPI)")
    expect(log.some((l) => l.includes("sending QMP quit"))).toBe(false)
    expect(vmOutput.of("stdout").some((l) => l.includes("GUEST-POWEROFF"))).toBe(true)
    expect(watcherFailures).toEqual([])
  })
})

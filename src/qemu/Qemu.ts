/**
 * A QEMU virtual machine as a scoped resource.
 *
 * `Qemu.start` launches `qemu-system-x86_64` with typed options (validated
 * with Schema), a QMP socket, a serial console (a unix socket that QEMU
 * waits for, plus a complete log file), `-display none -no-reboot`, and port
 * forwards bound to 127.0.0.1 on automatically chosen host ports (retried
 * with other ports if QEMU finds one taken). The accelerator `auto` uses KVM
 * only when the CPU has vmx/svm and `/dev/kvm` is read-write; otherwise TCG
 * with `-cpu max` (RDRAND, so guests do not stall on entropy).
 *
 * Lifetime: QEMU runs under `setpriv --pdeathsig KILL` (it dies with the
 * runner even on SIGKILL). Closing the scope powers the VM down: QMP
 * `system_powerdown`, a bounded wait, QMP `quit`, a bounded wait, then
 * SIGTERM and SIGKILL of its process group (`powerdown: "never"`, or
 * `"after-ssh"` on a guest not SSH-ready yet, skips the power-down: QMP
 * `quit` at once); the run directory (sockets, serial log) is removed.
 * While the scope is open, a watcher (`Task.watch`) fails the task if QEMU
 * exits on its own, with its exit status and the last serial lines, so
 * dependents stop at once instead of waiting for a timeout.
 *
 * @example
 * ```ts
 * import { NodeContext } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { Qemu, Serial } from "effect-taskgraph/qemu"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const vm = yield* Qemu.start({
 *     name: "guest",
 *     memory: 256,
 *     kernel: ".cache/guest/vmlinuz",
 *     initrd: ".cache/guest/initramfs.cpio.gz",
 *     append: "console=ttyS0 quiet",
 *     drives: [{ file: "/tmp/overlay.qcow2" }],
 *     forwards: [{ name: "ssh", guest: 22 }]
 *   })
 *   yield* Serial.waitForLine(vm.serial, /GUEST-READY/, "60 seconds")
 *   yield* Effect.log(`ssh is on 127.0.0.1:${vm.ports.ssh}`)
 * })).pipe(Effect.provide(NodeContext.layer))
 * ```
 *
 * @since 0.1.0
 */
import { FileSystem } from "@effect/platform"
import type { Scope } from "effect"
import { Cause, Data, Duration, Effect, ExecutionStrategy, Exit, Option, ParseResult, Ref, Schema, Scope as ScopeNs, Stream } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as OwnedPaths from "../internal/ownedPaths.js"
import * as Process from "../Process.js"
import * as Task from "../Task.js"
import * as Net from "./Net.js"
import * as Qmp from "./Qmp.js"
import * as Serial from "./Serial.js"
import * as Ssh from "./Ssh.js"
import * as OwnedDirs from "./internal/ownedDirs.js"
import { retryWhileRefused } from "./internal/retryWhileRefused.js"

// ---------------------------------------------------------------------------------------------
// Options

const DurationInput = Schema.declare(
  (u: unknown): u is Duration.DurationInput => Option.isSome(Duration.decodeUnknown(u)),
  { identifier: "DurationInput", description: "a duration such as \"5 seconds\" or a number of milliseconds" }
)
const DurationFromInput = Schema.transform(DurationInput, Schema.DurationFromSelf, {
  strict: true,
  decode: (input) => Duration.decode(input),
  encode: (duration) => duration
})
const Port = Schema.Int.pipe(Schema.between(1, 65535), Schema.annotations({ identifier: "Port" }))

/**
 * A port forward: TCP `127.0.0.1:<host>` on the host to `<guest>` in the
 * guest. Without `host`, a free port is chosen (see `Vm.ports[name]`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const forward = Schema.decodeUnknownSync(Qemu.Forward)({ name: "ssh", guest: 22 })
 * const options: Qemu.StartOptions = { forwards: [{ name: "http", guest: 80, host: 8080 }] }
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Forward = Schema.Struct({
  name: Schema.String.pipe(Schema.pattern(/^[A-Za-z][A-Za-z0-9_-]*$/)),
  guest: Port,
  host: Schema.optional(Port)
})

/**
 * A disk: `-drive file=…,if=…,format=…`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const drive = Schema.decodeUnknownSync(Qemu.Drive)({ file: "overlay.qcow2" }) // format "qcow2", interface "virtio"
 * const options: Qemu.StartOptions = { drives: [{ file: "seed.img", format: "raw", readOnly: true }] }
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Drive = Schema.Struct({
  file: Schema.NonEmptyString,
  format: Schema.optionalWith(Schema.Literal("qcow2", "raw"), { default: () => "qcow2" as const }),
  interface: Schema.optionalWith(Schema.Literal("virtio", "ide", "scsi", "none"), { default: () => "virtio" as const }),
  readOnly: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * Everything `Qemu.start` accepts. Durations are `Duration` inputs
 * (`"5 seconds"`, milliseconds…); memory is in MiB.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const resolved = Schema.decodeUnknownSync(Qemu.Options)({ name: "vm1", memory: 512 })
 * resolved.cpus // 1, the default
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Options = Schema.Struct({
  /** Used in `-name`, messages and as the prefix of serial lines in the task output. */
  name: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)), {
    default: () => "vm"
  }),
  binary: Schema.optionalWith(Schema.NonEmptyString, { default: () => "qemu-system-x86_64" }),
  /** Guest RAM in MiB. */
  memory: Schema.optionalWith(Schema.Int.pipe(Schema.between(16, 1024 * 1024)), { default: () => 256 }),
  cpus: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 256)), { default: () => 1 }),
  /** `auto`: KVM when usable (vmx/svm in /proc/cpuinfo and /dev/kvm read-write), else TCG. */
  accel: Schema.optionalWith(Schema.Literal("auto", "kvm", "tcg"), { default: () => "auto" as const }),
  /** `-cpu` (default: `host` with KVM, `max` with TCG). */
  cpu: Schema.optional(Schema.NonEmptyString),
  kernel: Schema.optional(Schema.NonEmptyString),
  initrd: Schema.optional(Schema.NonEmptyString),
  append: Schema.optional(Schema.String),
  drives: Schema.optionalWith(Schema.Array(Drive), { default: () => [] }),
  forwards: Schema.optionalWith(Schema.Array(Forward), { default: () => [] }),
  /** NIC model of the user-mode network (only when there are forwards or `network: true`). */
  nicModel: Schema.optionalWith(Schema.NonEmptyString, { default: () => "virtio-net-pci" }),
  /** Give the guest a user-mode NIC even without forwards. */
  network: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** More arguments, appended as they are. */
  extraArgs: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** From launch to a working QMP connection. */
  startTimeout: Schema.optionalWith(DurationFromInput, { default: () => Duration.seconds(30) }),
  /**
   * Release: when to press the ACPI power button first. `"always"` (default);
   * `"after-ssh"`: only once `waitForSsh` succeeded on this VM (a guest
   * still booting cannot answer the button: the wait would be
   * `powerdownTimeout` for nothing), else QMP `quit` at once; `"never"`: QMP
   * `quit` at once (the disks are thrown away, nothing to save). `QemuTask.vm`
   * uses `"never"` on a temporary overlay, else `"after-ssh"`.
   */
  powerdown: Schema.optionalWith(Schema.Literal("always", "after-ssh", "never"), { default: () => "always" as const }),
  /** Release: how long the guest may take to power off after the ACPI button. */
  powerdownTimeout: Schema.optionalWith(DurationFromInput, { default: () => Duration.seconds(5) }),
  /** Release: how long QEMU may take to exit after QMP `quit`. */
  quitTimeout: Schema.optionalWith(DurationFromInput, { default: () => Duration.seconds(2) }),
  /** Release: time between SIGTERM and SIGKILL. */
  killGrace: Schema.optionalWith(DurationFromInput, { default: () => Duration.seconds(2) }),
  /** How many launches to try when an automatically chosen host port turns out to be taken. */
  portAttempts: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 50)), { default: () => 5 }),
  /** Lines of serial output kept for `Serial.tail` and error messages. */
  serialHistory: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 2000 })
})

/**
 * The options as written by a user (defaults not yet applied).
 *
 * @example
 * ```ts
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const options: Qemu.StartOptions = { name: "vm1", memory: 512, kernel: "bzImage", forwards: [{ name: "ssh", guest: 22 }] }
 * const vm = Qemu.start(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type StartOptions = Schema.Schema.Encoded<typeof Options>

/**
 * The options after validation, defaults applied.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const memory = Qemu.decodeOptions({ memory: 512 }).pipe(
 *   Effect.map((resolved: Qemu.ResolvedOptions) => `${resolved.memory} MiB, ${resolved.accel}`)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type ResolvedOptions = Schema.Schema.Type<typeof Options>

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * The options do not validate; the message lists every problem.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Qemu.QemuOptionsError>
 * program.pipe(Effect.catchTag("QemuOptionsError", (e) => Effect.logError(e.message)))
 * ```
 */
export class QemuOptionsError extends Data.TaggedError("QemuOptionsError")<{
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `invalid QEMU options:\n${this.detail}`
  }
}

/**
 * The VM did not start: a file is missing, the binary is not installed,
 * QEMU exited during start-up (its stderr is in the message), a fixed host
 * port is taken, or start-up took longer than `startTimeout`.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Qemu.QemuStartError>
 * program.pipe(Effect.catchTag("QemuStartError", (e) => Effect.logError(e.message)))
 * ```
 */
export class QemuStartError extends Data.TaggedError("QemuStartError")<{
  /** the VM's name */
  readonly vm: string
  readonly reason: "MissingFile" | "NotInstalled" | "Exited" | "PortInUse" | "Timeout" | "Io"
  readonly detail: string
  readonly stderr: ReadonlyArray<string>
  readonly serial: ReadonlyArray<string>
  readonly cause?: unknown
}> {
  override get message(): string {
    const parts = [`VM ${this.vm} did not start: ${this.detail}`]
    if (this.stderr.length > 0) parts.push(`--- QEMU stderr ---\n${this.stderr.join("\n")}`)
    if (this.serial.length > 0) parts.push(`--- last serial lines ---\n${this.serial.join("\n")}`)
    return parts.join("\n")
  }
}

/**
 * QEMU exited while the VM was in use (not by its own release): the guest
 * powered off or crashed, or something killed QEMU.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Qemu.QemuExitedError>
 * program.pipe(Effect.catchTag("QemuExitedError", (e) => Effect.logError(e.message)))
 * ```
 */
export class QemuExitedError extends Data.TaggedError("QemuExitedError")<{
  /** the VM's name */
  readonly vm: string
  readonly status: Process.ExitStatus
  readonly stderr: ReadonlyArray<string>
  readonly serial: ReadonlyArray<string>
}> {
  override get message(): string {
    const how = this.status._tag === "Exited"
      ? `exited with code ${this.status.code}`
      : `was killed by ${this.status.signal}`
    const parts = [`QEMU of VM ${this.vm} ${how} while the VM was in use`]
    if (this.stderr.length > 0) parts.push(`--- QEMU stderr ---\n${this.stderr.join("\n")}`)
    if (this.serial.length > 0) parts.push(`--- last serial lines ---\n${this.serial.join("\n")}`)
    return parts.join("\n")
  }
}

// ---------------------------------------------------------------------------------------------
// The VM

/**
 * A running VM.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const sshPort = Effect.scoped(Effect.gen(function*() {
 *   const vm: Qemu.Vm = yield* Qemu.start({ kernel: "bzImage", forwards: [{ name: "ssh", guest: 22 }] })
 *   return vm.ports.ssh
 * }))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Vm {
  readonly name: string
  readonly pid: number
  /** `"kvm"` or `"tcg"`, as resolved from `accel`. */
  readonly accel: "kvm" | "tcg"
  /** The host port of each forward, by name: `vm.ports.ssh`. */
  readonly ports: Readonly<Record<string, number>>
  /** The run directory (short, under /tmp): QMP and serial sockets, serial log. Removed on release. */
  readonly runDir: string
  /** The complete serial log (QEMU writes it), inside `runDir`. */
  readonly serialLog: string
  /** The full command line QEMU was started with. */
  readonly argv: ReadonlyArray<string>
  readonly qmp: Qmp.QmpClient
  readonly serial: Serial.SerialConsole
  /** Waits for QEMU to exit. */
  readonly await: Effect.Effect<Process.ExitStatus>
  readonly isRunning: Effect.Effect<boolean>
}

let kvmCache: boolean | undefined
/**
 * Can KVM be used here? Only when `/proc/cpuinfo` shows `vmx` or `svm` and
 * `/dev/kvm` is readable and writable. (A `/dev/kvm` without hardware
 * virtualisation exists on some hosts, and a guest started with it hangs
 * for ever without an error.)
 *
 * @example
 * ```ts
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const kvm = Qemu.kvmUsable // Effect<boolean>
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const kvmUsable: Effect.Effect<boolean> = Effect.sync(() => {
  if (kvmCache !== undefined) return kvmCache
  try {
    const cpuinfo = NodeFs.readFileSync("/proc/cpuinfo", "utf8")
    const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? ""
    NodeFs.accessSync("/dev/kvm", NodeFs.constants.R_OK | NodeFs.constants.W_OK)
    kvmCache = /\b(vmx|svm)\b/.test(flags)
  } catch {
    kvmCache = false
  }
  return kvmCache
})

const escapeOpt = (value: string): string => value.replace(/,/g, ",,")

/**
 * The QEMU command line for resolved options, a run directory and chosen
 * host ports (exposed for inspection and tests).
 *
 * @example
 * ```ts
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * declare const options: Qemu.ResolvedOptions
 * const argv = Qemu.argv(options, { runDir: "/tmp/qemu-x", accel: "tcg", ports: { ssh: 40022 } })
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const argv = (
  options: ResolvedOptions,
  at: { readonly runDir: string; readonly accel: "kvm" | "tcg"; readonly ports: Readonly<Record<string, number>> }
): ReadonlyArray<string> => {
  const dir = at.runDir
  const argv: Array<string> = [
    options.binary,
    "-name",
    options.name,
    "-nodefaults",
    "-display",
    "none",
    "-no-reboot",
    "-accel",
    at.accel,
    "-cpu",
    options.cpu ?? (at.accel === "kvm" ? "host" : "max"),
    "-m",
    String(options.memory),
    "-smp",
    String(options.cpus),
    // The serial chardev first: QEMU waits for our connection (wait=on) before going on.
    "-chardev",
    `socket,id=serial0,path=${escapeOpt(NodePath.join(dir, "serial.sock"))},server=on,wait=on,logfile=${
      escapeOpt(NodePath.join(dir, "serial.log"))
    }`,
    "-serial",
    "chardev:serial0",
    "-qmp",
    `unix:${escapeOpt(NodePath.join(dir, "qmp.sock"))},server=on,wait=off`
  ]
  if (options.kernel !== undefined) argv.push("-kernel", options.kernel)
  if (options.initrd !== undefined) argv.push("-initrd", options.initrd)
  if (options.append !== undefined) argv.push("-append", options.append)
  for (const d of options.drives) {
    argv.push(
      "-drive",
      `file=${escapeOpt(d.file)},if=${d.interface},format=${d.format}${d.readOnly ? ",readonly=on" : ""}`
    )
  }
  if (options.forwards.length > 0 || options.network) {
    const fwds = options.forwards.map((f) => `,hostfwd=tcp:127.0.0.1:${at.ports[f.name]}-:${f.guest}`).join("")
    argv.push("-nic", `user,model=${options.nicModel}${fwds}`)
  }
  argv.push(...options.extraArgs)
  return argv
}

const lastLines = (lines: ReadonlyArray<string>, n = 20) => lines.slice(Math.max(0, lines.length - n))

/** QEMU's message when a host forward cannot bind. */
const portInUse = (stderr: ReadonlyArray<string>) =>
  stderr.some((l) => /Could not set up host forwarding rule|Address already in use/i.test(l))

/**
 * One launch attempt in its own scope: resolves with the VM, or fails (and
 * the caller closes the scope, which stops whatever had started).
 */
const launch = (
  options: ResolvedOptions,
  accel: "kvm" | "tcg",
  ports: Readonly<Record<string, number>>
): Effect.Effect<Vm, QemuStartError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const name = options.name
    const startError = (
      reason: QemuStartError["reason"],
      detail: string,
      extra: { stderr?: ReadonlyArray<string>; serial?: ReadonlyArray<string>; cause?: unknown } = {}
    ) => new QemuStartError({ vm: name, reason, detail, stderr: extra.stderr ?? [], serial: extra.serial ?? [], cause: extra.cause })

    // A short run directory: unix socket paths must stay under 108 bytes. It records its owner,
    // so a later start can remove it if this runner is SIGKILLed before its release.
    OwnedDirs.sweepStale("/tmp", "qemu-")
    // Owned until its release: a forced exit (second Ctrl+C) removes it instead (internal/ownedPaths.ts).
    const runDir = yield* OwnedPaths.acquireRelease(
      Effect.try({
        try: () => {
          const dir = NodeFs.mkdtempSync(runDirPrefix)
          OwnedDirs.markOwned(dir)
          return dir
        },
        catch: (cause) => startError("Io", `cannot create a run directory under /tmp: ${String(cause)}`, { cause })
      }),
      (dir) => fs.remove(dir, { recursive: true, force: true }).pipe(Effect.ignore)
    )
    const serialSock = NodePath.join(runDir, "serial.sock")
    const qmpSock = NodePath.join(runDir, "qmp.sock")
    const serialLog = NodePath.join(runDir, "serial.log")
    const args = argv(options, { runDir, accel, ports })

    const handle = yield* Process.start(args[0]!, args.slice(1), {
      stdin: "ignore",
      grace: options.killGrace,
      acceptExitCodes: [],
      tailLines: 30,
      output: "none"
    }).pipe(
      Effect.mapError((e) =>
        e._tag === "ProcessNotFoundError"
          ? startError(
            "NotInstalled",
            `${e.message} (Debian: apt-get install qemu-system-x86, or run scripts/ensure-qemu-deps.sh)`,
            { cause: e }
          )
          : startError("Io", e.message, { cause: e })
      )
    )
    // QEMU's own output into the task, without its notice that it waits for our serial connection.
    yield* handle.lines.pipe(
      Stream.filter((l) => !/info: QEMU waiting for connection on/.test(l.line)),
      Stream.runForEach((l) => Task.output(l.line, l.stream)),
      Effect.forkScoped
    )
    // With no accepted exit code, every exit is a ProcessExitError (status and output tails).
    const exitInfo = Effect.flip(handle.exitCode).pipe(
      Effect.catchAll((code) => Effect.dieMessage(`unexpected accepted exit code ${code}`))
    )
    const exitedError = (context: string) =>
      Effect.flatMap(exitInfo, (e) =>
        Effect.fail(
          startError(
            portInUse(e.stderrTail) ? "PortInUse" : "Exited",
            `QEMU ${e.status._tag === "Exited" ? `exited with code ${e.status.code}` : `was killed by ${e.status.signal}`} ${context}`,
            { stderr: e.stderrTail }
          )
        ))

    // Wait for a socket file to appear, or for QEMU to exit first.
    const socketReady = (path: string) =>
      Effect.gen(function*() {
        while (!NodeFs.existsSync(path)) {
          if (!(yield* handle.isRunning)) return yield* exitedError(`before creating ${NodePath.basename(path)}`)
          yield* Effect.sleep("20 millis")
        }
      })

    const started = Effect.gen(function*() {
      yield* socketReady(serialSock)
      // The file exists from QEMU's bind(); a connect before its listen() is refused: try again.
      const serial = yield* retryWhileRefused(
        Serial.connect(serialSock, {
          output: name,
          historySize: options.serialHistory,
          openTimeout: "5 seconds"
        }),
        handle.isRunning
      ).pipe(Effect.mapError((e) => startError("Io", e.message, { cause: e })))
      yield* socketReady(qmpSock)
      const qmp = yield* retryWhileRefused(
        Qmp.connect(qmpSock, { openTimeout: options.startTimeout }),
        handle.isRunning
      ).pipe(
        // QEMU closing the QMP connection usually means it is exiting (e.g. a host port is
        // taken): give its exit a moment to be seen, then report that instead.
        Effect.catchAll((e) =>
          handle.await.pipe(
            Effect.timeout("3 seconds"),
            Effect.option,
            Effect.flatMap(Option.match({
              onNone: () => Effect.fail(startError("Io", e.message, { cause: e })),
              onSome: () => exitedError("during start-up")
            }))
          )
        )
      )
      return { serial, qmp }
    })

    const { qmp, serial } = yield* started.pipe(
      Effect.raceFirst(Effect.zipRight(handle.await, exitedError("during start-up"))),
      Effect.timeoutFail({
        duration: options.startTimeout,
        onTimeout: () => startError("Timeout", `no QMP connection within ${Duration.format(options.startTimeout)}`)
      }),
      Effect.catchTag("QemuStartError", (e) =>
        e.reason === "Timeout" || e.reason === "Exited"
          ? Effect.flatMap(readTail(serialLog), (lines) => Effect.fail(new QemuStartError({ ...e, serial: lines })))
          : Effect.fail(e))
    )

    const stopping = yield* Ref.make(false)
    const vm: Vm = {
      name,
      pid: handle.pid,
      accel,
      ports,
      runDir,
      serialLog,
      argv: args,
      qmp,
      serial,
      await: handle.await,
      isRunning: handle.isRunning
    }

    // Graceful release (runs before the serial/QMP connections close and before the process'
    // own SIGTERM → SIGKILL release, as it is registered after them).
    yield* Effect.addFinalizer(() => shutdown(vm, options, stopping))

    // A watcher: QEMU exiting while the VM is in use fails the task.
    yield* Task.watch(
      Effect.gen(function*() {
        const e = yield* exitInfo
        if (yield* Ref.get(stopping)) return
        return yield* new QemuExitedError({
          vm: name,
          status: e.status,
          stderr: e.stderrTail,
          serial: yield* Serial.tail(serial, 20)
        })
      })
    )
    return vm
  })

const runDirPrefix = "/tmp/qemu-"
const readTail = (path: string): Effect.Effect<ReadonlyArray<string>> =>
  Effect.sync(() => {
    try {
      return lastLines(NodeFs.readFileSync(path, "utf8").split(/\r?\n/).filter((l) => l.length > 0))
    } catch {
      return []
    }
  })

/** The VMs on which `waitForSsh` succeeded: their guest can answer the ACPI power button. */
const sshReadyVms = new WeakSet<Vm>()

const shutdown = (vm: Vm, options: ResolvedOptions, stopping: Ref.Ref<boolean>): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* Ref.set(stopping, true)
    if (!(yield* vm.isRunning)) return
    // Send a command and wait for QEMU's exit, both within `limit` (a hung QMP cannot block us).
    const phase = (command: Effect.Effect<void, Qmp.QmpError>, limit: Duration.Duration) =>
      Effect.ignore(command).pipe(
        Effect.zipRight(vm.await),
        Effect.interruptible,
        Effect.timeout(limit),
        Effect.option,
        Effect.map(Option.isSome)
      )
    if (options.powerdown === "never") {
      yield* Task.output(`${vm.name}: its disks are thrown away, quitting at once (QMP quit)`, "log")
    } else if (options.powerdown === "after-ssh" && !sshReadyVms.has(vm)) {
      yield* Task.output(`${vm.name}: the guest is not SSH-ready, quitting at once (QMP quit)`, "log")
    } else {
      yield* Task.output(`${vm.name}: powering down (ACPI)`, "log")
      if (yield* phase(Qmp.systemPowerdown(vm.qmp), options.powerdownTimeout)) return
      yield* Task.output(
        `${vm.name}: no power-off within ${Duration.format(options.powerdownTimeout)}, sending QMP quit`,
        "log"
      )
    }
    if (yield* phase(Qmp.quit(vm.qmp), options.quitTimeout)) return
    yield* Task.output(`${vm.name}: QEMU did not quit within ${Duration.format(options.quitTimeout)}, sending SIGTERM`, "log")
    // The process' own release (registered earlier, so it runs next) sends SIGTERM to the
    // process group, waits `killGrace`, then SIGKILLs it.
  })

/**
 * Validates options (Schema), applying defaults.
 *
 * @example
 * ```ts
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const resolved = Qemu.decodeOptions({ memory: 512, forwards: [{ name: "ssh", guest: 22 }] })
 * // Effect<ResolvedOptions, QemuOptionsError>
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const decodeOptions = (options: StartOptions): Effect.Effect<ResolvedOptions, QemuOptionsError> =>
  Schema.decodeUnknown(Options, { errors: "all", onExcessProperty: "error" })(options).pipe(
    Effect.mapError((e) => new QemuOptionsError({ detail: ParseResult.TreeFormatter.formatErrorSync(e), cause: e }))
  )

/**
 * Starts a VM in the current scope; see the module documentation for what
 * it does on start and on release.
 *
 * `pickPort` chooses automatic host ports (default: a free port on
 * 127.0.0.1); when QEMU reports a chosen port taken, the launch is retried
 * with new ports, up to `portAttempts` times. Fixed `host` ports are never
 * changed: a taken one fails with reason `PortInUse`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * const vm = Qemu.start({ kernel: "vmlinuz", initrd: "initrd.gz", forwards: [{ name: "ssh", guest: 22 }] })
 * // Effect<Vm, QemuOptionsError | QemuStartError, Scope | FileSystem>
 * ```
 *
 * @since 0.1.0
 * @category resources
 */
export const start = (
  options: StartOptions,
  config?: { readonly pickPort?: Effect.Effect<number, Net.FreePortError> | undefined }
): Effect.Effect<Vm, QemuOptionsError | QemuStartError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const resolved = yield* decodeOptions(options)
    const fs = yield* FileSystem.FileSystem
    const name = resolved.name
    const startError = (reason: QemuStartError["reason"], detail: string, cause?: unknown) =>
      new QemuStartError({ vm: name, reason, detail, stderr: [], serial: [], cause })

    // Files first: a missing kernel or disk is a clear error, not a QEMU exit.
    const files = [
      ...(resolved.kernel === undefined ? [] : [["kernel", resolved.kernel] as const]),
      ...(resolved.initrd === undefined ? [] : [["initrd", resolved.initrd] as const]),
      ...resolved.drives.map((d) => ["drive", d.file] as const)
    ]
    for (const [what, file] of files) {
      const ok = yield* fs.access(file, { readable: true }).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
      if (!ok) return yield* startError("MissingFile", `${what} ${NodePath.resolve(file)} does not exist or is not readable`)
    }
    const names = resolved.forwards.map((f) => f.name)
    const dup = names.find((n, i) => names.indexOf(n) !== i)
    if (dup !== undefined) return yield* new QemuOptionsError({ detail: `two forwards are named ${JSON.stringify(dup)}` })

    const accel = resolved.accel === "auto" ? ((yield* kvmUsable) ? "kvm" : "tcg") : resolved.accel
    const pickPort = config?.pickPort ?? Net.freePort()
    const outer = yield* Effect.scope

    let attempt = 0
    while (true) {
      attempt++
      const ports: Record<string, number> = {}
      for (const f of resolved.forwards) {
        ports[f.name] = f.host ?? (yield* pickPort.pipe(Effect.mapError((e) => startError("Io", e.message, e))))
      }
      const scope = yield* ScopeNs.fork(outer, ExecutionStrategy.sequential)
      const exit = yield* launch(resolved, accel, ports).pipe(ScopeNs.extend(scope), Effect.exit)
      if (Exit.isSuccess(exit)) return exit.value
      yield* ScopeNs.close(scope, exit)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      const auto = resolved.forwards.some((f) => f.host === undefined)
      if (error?.reason === "PortInUse" && auto && attempt < resolved.portAttempts) {
        yield* Task.output(`${name}: a host port was taken (${Object.values(ports).join(", ")}), retrying with others`, "log")
        continue
      }
      return yield* exit
    }
  })

/**
 * SSH to the VM never became ready in time: the message has the last probe's
 * outcome and the last serial lines (what the guest was doing).
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Qemu.SshNotReadyError>
 * program.pipe(Effect.catchTag("SshNotReadyError", (e) => Effect.logError(e.message)))
 * ```
 */
export class SshNotReadyError extends Data.TaggedError("SshNotReadyError")<{
  /** the VM's name */
  readonly vm: string
  readonly detail: string
  readonly serial: ReadonlyArray<string>
  readonly cause?: unknown
}> {
  override get message(): string {
    const tail = this.serial.length === 0 ? " (the serial console printed nothing)" : `\n--- last serial lines ---\n${this.serial.join("\n")}`
    return `SSH to VM ${this.vm} is not ready: ${this.detail}${tail}`
  }
}

/**
 * A task asked for a port forward the VM does not have (`QemuTask.portReady`
 * with a `forward` name that is not among the VM's `ports`). Add the forward
 * to the VM's options (`ports: { NAME: GUEST_PORT }`) or fix the name.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, Qemu.PortForwardMissingError>
 * program.pipe(Effect.catchTag("PortForwardMissingError", (e) => Effect.logError(e.message)))
 * ```
 */
export class PortForwardMissingError extends Data.TaggedError("PortForwardMissingError")<{
  /** the VM's name */
  readonly vm: string
  /** the forward asked for */
  readonly forward: string
  /** the forwards the VM has */
  readonly forwards: ReadonlyArray<string>
}> {
  override get message(): string {
    const has = this.forwards.length === 0 ? "none" : this.forwards.join(", ")
    return `VM ${this.vm} has no port forward named ${JSON.stringify(this.forward)} (it has: ${has}): ` +
      `add it to the VM's ports (ports: { ${JSON.stringify(this.forward)}: GUEST_PORT }) or use one of its names`
  }
}

/**
 * Waits until SSH in the VM is ready (banner probes on the forwarded port,
 * then a handshake with the pinned host key) and returns the session. Fails
 * at once if QEMU exits meanwhile, and with the serial tail on timeout.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Qemu } from "effect-taskgraph/qemu"
 *
 * declare const vm: Qemu.Vm
 * const ssh = Qemu.waitForSsh(vm, {
 *   user: "root",
 *   privateKeyPath: ".cache/guest/id_ed25519",
 *   hostKey: "ssh-ed25519 AAAA…",
 *   timeout: "90 seconds"
 * })
 * ```
 *
 * @since 0.1.0
 * @category readiness
 */
export const waitForSsh = (
  vm: Vm,
  options: Omit<Ssh.Target, "port" | "host"> & {
    /** The forward to use (default `"ssh"`). */
    readonly forward?: string | undefined
    readonly timeout?: Duration.DurationInput | undefined
    /** Between banner probes (default 100 ms). */
    readonly interval?: Duration.DurationInput | undefined
    /** Called with the SSH banner when it arrives, before the handshake. */
    readonly onBanner?: ((banner: string) => Effect.Effect<void>) | undefined
  }
): Effect.Effect<Ssh.Session, SshNotReadyError | Ssh.SshError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const forward = options.forward ?? "ssh"
    const port = vm.ports[forward]
    if (port === undefined) {
      return yield* new SshNotReadyError({
        vm: vm.name,
        detail: `the VM has no port forward named ${JSON.stringify(forward)} (it has: ${Object.keys(vm.ports).join(", ") || "none"})`,
        serial: []
      })
    }
    const target: Ssh.Target = {
      host: "127.0.0.1",
      port,
      user: options.user,
      privateKeyPath: options.privateKeyPath,
      hostKey: options.hostKey
    }
    const exited = vm.await.pipe(
      Effect.flatMap((status) =>
        Effect.flatMap(Serial.tail(vm.serial, 20), (serial) =>
          Effect.fail(
            new SshNotReadyError({
              vm: vm.name,
              detail: `QEMU ${status._tag === "Exited" ? `exited with code ${status.code}` : `was killed by ${status.signal}`} before SSH was ready`,
              serial
            })
          ))
      )
    )
    return yield* Ssh.waitReady(target, {
      timeout: options.timeout,
      interval: options.interval,
      onBanner: options.onBanner
    }).pipe(
      Effect.catchTag("ProbeTimeoutError", (e) =>
        Effect.flatMap(Serial.tail(vm.serial, 20), (serial) =>
          Effect.fail(new SshNotReadyError({ vm: vm.name, detail: e.message, serial, cause: e })))),
      Effect.raceFirst(exited),
      Effect.tap(() => Effect.sync(() => sshReadyVms.add(vm)))
    )
  })

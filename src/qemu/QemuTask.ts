/**
 * Ready-made graph tasks for QEMU pipelines: an overlay image, a VM (using
 * a `vm` pool), port and SSH readiness, rsync, and running tests over SSH.
 * Each task hands its result to later tasks through a typed tag, so the
 * compiler checks the data flow; `tags(name)` makes a fresh set of tags per
 * VM, and `pipeline(name, …)` wires the whole "run tests once" chain, so
 * several pipelines can share one graph.
 *
 * @example
 * ```ts
 * import { NodeContext } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { TaskGraph } from "effect-taskgraph"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const guest = QemuTask.testGuest("build test guest")
 * const vm = QemuTask.pipeline("vm", {
 *   requires: [QemuTask.Guest],
 *   machine: Effect.map(QemuTask.Guest, (g) => QemuTask.testGuestMachine(g)),
 *   source: "examples/qemu-project/",
 *   command: "sh run-tests.sh"
 * })
 * const graph = TaskGraph.make("run tests once", [guest, ...vm.tasks])
 * const program = TaskGraph.run(graph, { pools: { vm: 1 } }).pipe(Effect.provide(NodeContext.layer))
 * ```
 *
 * @since 0.1.0
 */
import type { FileSystem } from "@effect/platform"
import type { Duration, Scope } from "effect"
import { Clock, Context, Data, Effect, Schema } from "effect"
import * as InternalTask from "../internal/task.js"
import * as Task from "../Task.js"
import * as Net from "./Net.js"
import * as Qemu from "./Qemu.js"
import * as QemuImg from "./QemuImg.js"
import * as Rsync from "./Rsync.js"
import * as Ssh from "./Ssh.js"
import * as TestGuest from "./TestGuest.js"
import * as Text from "../internal/reporter/text.js"

// ---------------------------------------------------------------------------------------------
// Services handed from task to task

/**
 * A forwarded host port that accepts TCP connections (QEMU's forwarder, not
 * yet necessarily the guest's server: see `sshReady`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const { Port } = QemuTask.tags("vm1")
 * const address = Effect.map(Port, (ready: QemuTask.ReadyPort) => `${ready.host}:${ready.port}`)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ReadyPort {
  readonly forward: string
  readonly host: string
  readonly port: number
}

/**
 * Sources copied into the guest.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const { Synced } = QemuTask.tags("vm1")
 * const changed = Effect.map(Synced, (synced: QemuTask.Synced) => synced.itemized.length)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Synced {
  /** The local source (as given to rsync). */
  readonly source: string
  /** Where they are in the guest. */
  readonly destination: string
  /** rsync's itemized changes (`>f+++++++++ run-tests.sh`, …). */
  readonly itemized: ReadonlyArray<string>
}

/**
 * What a successful `runTests` task produces (its value in the run report).
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { RunReport } from "effect-taskgraph"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * declare const machine: QemuTask.Machine
 * declare const report: RunReport.RunReport
 * const vm1 = QemuTask.pipeline("vm1", { machine, source: "project/", command: "sh run-tests.sh" })
 * const passed: Option.Option<QemuTask.TestsPassed> = RunReport.value(report, vm1.tests)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TestsPassed {
  readonly command: string
  readonly target: string
  readonly exitCode: 0
  /** Lines the command printed (stdout and stderr). */
  readonly outputLines: number
  readonly durationMs: number
}

/**
 * The remote tests ran and exited with a non-zero code. `exitCode` is the
 * command's (128 + n when killed by signal n); `output` holds its last lines.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * declare const failed: QemuTask.TestsFailedError
 * failed.exitCode // e.g. 1
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class TestsFailedError extends Data.TaggedError("TestsFailedError")<{
  readonly command: string
  readonly target: string
  readonly exitCode: number
  readonly output: ReadonlyArray<string>
}> {
  override get message(): string {
    const tail = this.output.length === 0 ? "" : `; its last output:\n${this.output.join("\n")}`
    return `the tests failed: \`${this.command}\` exited with code ${this.exitCode} on ${this.target}${tail}`
  }
}

/**
 * The test guest as built by `TestGuest.build` (its manifest plus the pinned
 * host key line).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const user = Effect.map(QemuTask.Guest, (guest: QemuTask.BuiltGuest) => `${guest.user} (${guest.kernelVersion})`)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type BuiltGuest = TestGuest.Guest & { readonly hostKeyLine: string }

/**
 * How a durable run stores the built guest (its manifest and host key line),
 * so that a resumed run does not build or look it up again.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 * declare const guest: QemuTask.BuiltGuest
 * Schema.encodeSync(QemuTask.BuiltGuestSchema)(guest).kernel
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const BuiltGuestSchema = Schema.transform(
  Schema.Struct({ ...TestGuest.Guest.fields, hostKeyLine: Schema.String }),
  Schema.declare((u): u is BuiltGuest => u instanceof TestGuest.Guest && typeof (u as { hostKeyLine?: unknown }).hostKeyLine === "string"),
  {
    strict: true,
    decode: ({ hostKeyLine, ...fields }) => Object.assign(new TestGuest.Guest(fields), { hostKeyLine }),
    encode: (guest) => ({ ...guest })
  }
)

/**
 * The default tag of the test guest task (`testGuest`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const machine = Effect.map(QemuTask.Guest, (guest) => QemuTask.testGuestMachine(guest))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class Guest extends Context.Tag("qemu/Guest")<Guest, BuiltGuest>() {}

// ---------------------------------------------------------------------------------------------
// Tags per VM

/**
 * The identifiers of one VM's tags: string literal types, so the tags of
 * `tags("vm1")` and `tags("vm2")` are different types and the compiler
 * notices a task wired to the wrong VM.
 *
 * @example
 * ```ts
 * import type { QemuTask } from "effect-taskgraph/qemu"
 *
 * type Vm1 = QemuTask.Tags.Vm<"vm1"> // "vm1/Vm"
 * const key: Vm1 = "vm1/Vm"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export declare namespace Tags {
  /**
   * The identifier of a VM's `Overlay` tag: `"<name>/Overlay"`.
   *
   * @example
   * ```ts
   * import type { QemuTask } from "effect-taskgraph/qemu"
   *
   * const key: QemuTask.Tags.Overlay<"vm1"> = "vm1/Overlay"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Overlay<Name extends string> = `${Name}/Overlay`
  /**
   * The identifier of a VM's `Vm` tag: `"<name>/Vm"`.
   *
   * @example
   * ```ts
   * import type { QemuTask } from "effect-taskgraph/qemu"
   *
   * const key: QemuTask.Tags.Vm<"vm1"> = "vm1/Vm"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Vm<Name extends string> = `${Name}/Vm`
  /**
   * The identifier of a VM's `Port` tag: `"<name>/Port"`.
   *
   * @example
   * ```ts
   * import type { QemuTask } from "effect-taskgraph/qemu"
   *
   * const key: QemuTask.Tags.Port<"vm1"> = "vm1/Port"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Port<Name extends string> = `${Name}/Port`
  /**
   * The identifier of a VM's `SshSession` tag: `"<name>/SshSession"`.
   *
   * @example
   * ```ts
   * import type { QemuTask } from "effect-taskgraph/qemu"
   *
   * const key: QemuTask.Tags.SshSession<"vm1"> = "vm1/SshSession"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type SshSession<Name extends string> = `${Name}/SshSession`
  /**
   * The identifier of a VM's `Synced` tag: `"<name>/Synced"`.
   *
   * @example
   * ```ts
   * import type { QemuTask } from "effect-taskgraph/qemu"
   *
   * const key: QemuTask.Tags.Synced<"vm1"> = "vm1/Synced"
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export type Synced<Name extends string> = `${Name}/Synced`
}

/**
 * One VM's set of tags.
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const vm1: QemuTask.Tags<"vm1"> = QemuTask.tags("vm1")
 * const overlay = QemuTask.overlay("vm1: create overlay", { provides: vm1.Overlay, image: { base: "base.qcow2" } })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Tags<Name extends string> {
  readonly Overlay: Context.Tag<Tags.Overlay<Name>, QemuImg.Overlay>
  readonly Vm: Context.Tag<Tags.Vm<Name>, Qemu.Vm>
  readonly Port: Context.Tag<Tags.Port<Name>, ReadyPort>
  readonly SshSession: Context.Tag<Tags.SshSession<Name>, Ssh.Session>
  readonly Synced: Context.Tag<Tags.Synced<Name>, Synced>
}

/**
 * Fresh tags for one VM, keyed `<name>/Overlay`, `<name>/Vm`, `<name>/Port`,
 * `<name>/SshSession`, `<name>/Synced` (the keys label the edges of the
 * graph's Mermaid picture).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const vm1 = QemuTask.tags("vm1")
 * const usesIt = Effect.map(vm1.Vm, (vm) => vm.ports.ssh) // Effect<number | undefined, never, "vm1/Vm">
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const tags = <const Name extends string>(name: Name): Tags<Name> => ({
  Overlay: Context.GenericTag<Tags.Overlay<Name>, QemuImg.Overlay>(`${name}/Overlay`),
  Vm: Context.GenericTag<Tags.Vm<Name>, Qemu.Vm>(`${name}/Vm`),
  Port: Context.GenericTag<Tags.Port<Name>, ReadyPort>(`${name}/Port`),
  SshSession: Context.GenericTag<Tags.SshSession<Name>, Ssh.Session>(`${name}/SshSession`),
  Synced: Context.GenericTag<Tags.Synced<Name>, Synced>(`${name}/Synced`)
})

// ---------------------------------------------------------------------------------------------
// Parameters: a plain value, or an Effect (e.g. reading what another task provides)

/**
 * A task parameter: a value, or an Effect computing it when the task runs
 * (which may read tags other tasks provide: list them in `requires`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const fixed: QemuTask.Param<string> = "/root/project"
 * const computed: QemuTask.Param<string, never, QemuTask.Guest> = Effect.map(QemuTask.Guest, (g) => `/home/${g.user}`)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Param<A, E = never, R = never> = A | Effect.Effect<A, E, R>

/** A parameter as an Effect. */
const asEffect = <A, E, R>(param: Param<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.isEffect(param) ? (param as Effect.Effect<A, E, R>) : Effect.succeed(param as A)

/**
 * A parameter as an Effect in a task's run. Its requirements are written `Exclude<R, Scope> | Scope`: the same set
 * for every `R`, in the form the task types declare (a task provides its own scope), which TypeScript
 * cannot derive for a generic `R` by itself.
 */
const resolve = <A, E, R>(param: Param<A, E, R>): Effect.Effect<A, E, Exclude<R, Scope.Scope> | Scope.Scope> =>
  asEffect(param) as Effect.Effect<A, E, Exclude<R, Scope.Scope> | Scope.Scope>

/**
 * Options every ready-made task accepts (see `Task.make`).
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const options: QemuTask.TaskOptions = { timeout: "10 minutes" }
 * const guest = QemuTask.testGuest("build test guest", options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface TaskOptions {
  /** Tasks that must finish before this one starts (precedence without data). */
  readonly after?: ReadonlyArray<Task.Task.Any> | undefined
  /** The task fails with `TaskTimeoutError` if it is not ready in time. */
  readonly timeout?: Duration.DurationInput | undefined
}

type Ids<Requires extends ReadonlyArray<Task.AnyTag>> = Task.Identifiers<Requires>

const common = (options: TaskOptions) => ({
  ...(options.after === undefined ? {} : { after: options.after }),
  ...(options.timeout === undefined ? {} : { timeout: options.timeout })
})

/**
 * The one way the tasks of this module are made, so that a declared task type
 * cannot drift from its body: the task's types (`A`, `E`, `R`, `I`, `Q`) come
 * from the declared return type of the builder that calls it, and the compiler
 * checks against them that `run` produces `A`, fails with `E` only and needs
 * only `R`, the tags `Q` it lists in `requires` and a scope, and that every
 * required tag is one of `Q`. (A required tag's identifier is kept in `Q`, the
 * task's `Requires`, not in its context `R`: `TaskGraph` reads both.)
 */
const build = <A, E, R, I, Q>(
  name: string,
  options: {
    readonly after?: ReadonlyArray<Task.Task.Any> | undefined
    readonly timeout?: Duration.DurationInput | undefined
    readonly pools?: Readonly<Record<string, number>> | undefined
    readonly provides?: Context.Tag<I, A> | undefined
    readonly requires?: ReadonlyArray<Task.AnyTag & { readonly Identifier: NoInfer<Q> }> | undefined
    readonly run: Effect.Effect<A, E, NoInfer<R | Q> | Scope.Scope>
    /** durable runs: how the value is stored */
    readonly schema?: Schema.Schema.AnyNoContext | undefined
    /** durable runs: a live resource, re-run with the tasks that use it */
    readonly resource?: boolean | undefined
  }
): Task.Task<A, E, R, I, Q> => InternalTask.make(name, options)

// ---------------------------------------------------------------------------------------------
// The test guest

/**
 * A task that builds (or finds in its cache) the project's test guest and
 * provides it (by default under `QemuTask.Guest`).
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const guest = QemuTask.testGuest("build test guest", { dir: ".cache/guest" })
 * ```
 *
 * @since 0.1.0
 * @category tasks
 */
export function testGuest(name: string, options?: TaskOptions & {
  readonly dir?: string | undefined
}): Task.Task<BuiltGuest, TestGuest.TestGuestError, FileSystem.FileSystem, Guest>
export function testGuest<I>(name: string, options: TaskOptions & {
  readonly provides: Context.Tag<I, BuiltGuest>
  readonly dir?: string | undefined
}): Task.Task<BuiltGuest, TestGuest.TestGuestError, FileSystem.FileSystem, I>
export function testGuest<I>(name: string, options: TaskOptions & {
  readonly provides?: Context.Tag<I, BuiltGuest> | undefined
  readonly dir?: string | undefined
} = {}): Task.Task<BuiltGuest, TestGuest.TestGuestError, FileSystem.FileSystem, I | Guest> {
  const run = Effect.gen(function*() {
    const guest = yield* TestGuest.build({ dir: options.dir, output: true })
    yield* Task.output(`guest ${guest.dir} (kernel ${guest.kernelVersion})`, "log")
    return guest
  })
  return options.provides === undefined
    ? build(name, { ...common(options), provides: Guest, schema: BuiltGuestSchema, run })
    : build(name, { ...common(options), provides: options.provides, schema: BuiltGuestSchema, run })
}

/**
 * Everything a pipeline needs to know about the machine: the base image of
 * its disk, the VM's options (the overlay is added as the first drive) and
 * the SSH identity with the pinned host key.
 *
 * @example
 * ```ts
 * import type { QemuTask } from "effect-taskgraph/qemu"
 *
 * const machine: QemuTask.Machine = {
 *   base: "images/debian.qcow2",
 *   vm: { memory: 1024, forwards: [{ name: "ssh", guest: 22 }] },
 *   ssh: { user: "root", privateKeyPath: "keys/id_ed25519", hostKey: "ssh-ed25519 AAAAC3Nza..." }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Machine {
  readonly base: string
  /** detected with `qemu-img info` when absent */
  readonly baseFormat?: string | undefined
  readonly vm: Qemu.StartOptions
  readonly ssh: Identity
}

/**
 * Who to log in as, with which key, and the guest's host key (pinned).
 *
 * @example
 * ```ts
 * import type { QemuTask } from "effect-taskgraph/qemu"
 *
 * const identity: QemuTask.Identity = { user: "root", privateKeyPath: "keys/id_ed25519", hostKey: "ssh-ed25519 AAAAC3Nza..." }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Identity = Omit<Ssh.Target, "host" | "port">

/**
 * The `Machine` of the test guest (VM options from `TestGuest.vmOptions`,
 * with a power-down timeout of 3 s unless given).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const machine = Effect.map(QemuTask.Guest, (g) => QemuTask.testGuestMachine(g, { memory: 384 }))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const testGuestMachine = (
  guest: BuiltGuest,
  vm: Omit<Qemu.StartOptions, "kernel" | "initrd"> = {}
): Machine => ({
  base: guest.baseImage,
  baseFormat: guest.baseImageFormat,
  // this guest powers off ~0.2 s after the ACPI button once its acpid runs, and ignores the
  // button before (early in its boot): do not wait the default 5 s before QMP quit
  vm: TestGuest.vmOptions(guest, { powerdownTimeout: "3 seconds", ...vm }),
  ssh: { user: guest.user, privateKeyPath: guest.privateKey, hostKey: guest.hostKeyLine }
})

// ---------------------------------------------------------------------------------------------
// The tasks

/**
 * A task that creates a qcow2 overlay on a base image (checked first) and
 * deletes it when released.
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const { Overlay } = QemuTask.tags("vm")
 * const overlay = QemuTask.overlay("create overlay", { provides: Overlay, image: { base: ".cache/guest/base.qcow2" } })
 * ```
 *
 * @since 0.1.0
 * @category tasks
 */
export const overlay = <
  I,
  const Requires extends ReadonlyArray<Task.AnyTag> = readonly [],
  E = never,
  R = never
>(
  name: string,
  options: TaskOptions & {
    readonly provides: Context.Tag<I, QemuImg.Overlay>
    readonly requires?: Requires | undefined
    /** `QemuImg.overlay`'s options: `base`, `baseFormat`, `path`, `size`, `keep` */
    readonly image: Param<Parameters<typeof QemuImg.overlay>[0], E, R>
  }
): Task.Task<
  QemuImg.Overlay,
  NoInfer<E> | QemuImg.BaseImageError | QemuImg.QemuImgError,
  Exclude<NoInfer<R>, Scope.Scope> | FileSystem.FileSystem,
  I,
  Ids<NoInfer<Requires>>
> =>
  build(name, {
    ...common(options),
    provides: options.provides,
    requires: options.requires ?? [],
    // durable runs: a live file deleted on release, not data (re-created on resume)
    resource: true,
    run: Effect.gen(function*() {
      const image = yield* resolve(options.image)
      const created = yield* QemuImg.overlay(image)
      yield* Task.output(`overlay ${created.path} on ${created.base} (${created.baseFormat})`, "log")
      return created
    })
  })

/**
 * A task that starts a VM on the overlay another task provides (the overlay
 * becomes the first drive) and provides the running VM. It takes one unit of
 * the pool `pool` (default `"vm"`, so `TaskGraph.run(graph, { pools: { vm: 2 } })`
 * runs at most two VMs at once; `false`: no pool), held until the VM is
 * released. QEMU's watcher is the task's (`Task.watch`): if QEMU dies while the
 * VM is in use, the run fails at once with its exit status and serial tail.
 * Release stops the VM (see `Qemu.start`): on a temporary overlay (and no other
 * writable drive) with QMP `quit` at once (`powerdown: "never"`), as nothing on
 * its disks is kept; else with an ACPI power-down once the guest is SSH-ready,
 * QMP `quit` before (`powerdown: "after-ssh"`). `options.powerdown` overrides it.
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const { Overlay, Vm } = QemuTask.tags("vm")
 * const vm = QemuTask.vm("start vm", {
 *   overlay: Overlay,
 *   provides: Vm,
 *   options: { name: "vm", kernel: "vmlinuz", initrd: "initrd.gz", forwards: [{ name: "ssh", guest: 22 }] }
 * })
 * ```
 *
 * @since 0.1.0
 * @category tasks
 */
export const vm = <
  IO,
  IV,
  const Requires extends ReadonlyArray<Task.AnyTag> = readonly [],
  E = never,
  R = never
>(
  name: string,
  options: TaskOptions & {
    readonly overlay: Context.Tag<IO, QemuImg.Overlay>
    readonly provides: Context.Tag<IV, Qemu.Vm>
    readonly requires?: Requires | undefined
    readonly options: Param<Qemu.StartOptions, E, R>
    /** The pool it takes one unit of (default `"vm"`); `false` for none. */
    readonly pool?: string | false | undefined
  }
): Task.Task<
  Qemu.Vm,
  NoInfer<E> | Qemu.QemuOptionsError | Qemu.QemuStartError,
  Exclude<NoInfer<R>, Scope.Scope> | FileSystem.FileSystem,
  IV,
  IO | Ids<NoInfer<Requires>>
> =>
  build(name, {
    ...common(options),
    provides: options.provides,
    requires: [options.overlay, ...(options.requires ?? [])],
    pools: options.pool === false ? {} : { [options.pool ?? "vm"]: 1 },
    resource: true,
    run: Effect.gen(function*() {
      const disk = yield* options.overlay
      const start = yield* resolve(options.options)
      // Nothing to save on a temporary overlay (and no writable drive besides): QMP quit at once.
      // Else a power-down, but only for a guest that can answer it (SSH-ready): Ctrl+C during
      // boot quits at once either way.
      const disposable = disk.temporary && (start.drives ?? []).every((d) => d.readOnly === true)
      const vm = yield* Qemu.start({
        powerdown: disposable ? "never" : "after-ssh",
        ...start,
        drives: [{ file: disk.path, format: "qcow2" }, ...(start.drives ?? [])]
      })
      const ports = Object.entries(vm.ports).map(([forward, port]) => `${forward} on 127.0.0.1:${port}`)
      yield* Task.output(
        `${vm.name}: qemu pid ${vm.pid} (${vm.accel}), ${ports.join(", ") || "no forwards"}, run dir ${vm.runDir}`,
        "log"
      )
      return vm
    })
  })

/**
 * A task that waits until a forwarded port of the VM accepts TCP connections
 * and provides it. (QEMU's forwarder accepts long before the guest listens:
 * this says QEMU's network is up; `sshReady` says the guest's server is.)
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const { Vm, Port } = QemuTask.tags("vm")
 * const port = QemuTask.portReady("wait for port", { vm: Vm, provides: Port })
 * ```
 *
 * @since 0.1.0
 * @category tasks
 */
export const portReady = <IV, IP>(
  name: string,
  options: TaskOptions & {
    readonly vm: Context.Tag<IV, Qemu.Vm>
    readonly provides: Context.Tag<IP, ReadyPort>
    /** The forward (default `"ssh"`). */
    readonly forward?: string | undefined
    /** Default 30 s. */
    readonly waitTimeout?: Duration.DurationInput | undefined
  }
): Task.Task<ReadyPort, Net.ProbeTimeoutError | Qemu.PortForwardMissingError, never, IP, IV> =>
  build(name, {
    ...common(options),
    provides: options.provides,
    requires: [options.vm],
    run: Effect.gen(function*() {
      const vm = yield* options.vm
      const forward = options.forward ?? "ssh"
      const port = vm.ports[forward]
      if (port === undefined) {
        return yield* new Qemu.PortForwardMissingError({ vm: vm.name, forward, forwards: Object.keys(vm.ports) })
      }
      yield* Net.waitForPort({ port, timeout: options.waitTimeout ?? "30 seconds", interval: "20 millis" })
      yield* Task.output(`127.0.0.1:${port} (${forward}) accepts connections`, "log")
      return { forward, host: "127.0.0.1", port } satisfies ReadyPort
    })
  })

/**
 * A task that waits until SSH in the VM is really ready (the `SSH-` banner
 * arrived and a handshake with the key and the pinned host key succeeded) and
 * provides the session, closed when released (before the VM powers down).
 * Its output says when sshd first answered (`sshd answers: SSH-2.0-…`), then
 * when the session is ready. Fails at once if QEMU exits, and with the
 * serial tail on timeout.
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const { Vm, Port, SshSession } = QemuTask.tags("vm")
 * const ssh = QemuTask.sshReady("wait for ssh", {
 *   vm: Vm,
 *   requires: [Port],
 *   provides: SshSession,
 *   identity: { user: "root", privateKeyPath: ".cache/guest/id_ed25519", hostKey: "ssh-ed25519 AAAA…" }
 * })
 * ```
 *
 * @since 0.1.0
 * @category tasks
 */
export const sshReady = <
  IV,
  IS,
  const Requires extends ReadonlyArray<Task.AnyTag> = readonly [],
  E = never,
  R = never
>(
  name: string,
  options: TaskOptions & {
    readonly vm: Context.Tag<IV, Qemu.Vm>
    readonly provides: Context.Tag<IS, Ssh.Session>
    readonly requires?: Requires | undefined
    readonly identity: Param<Identity, E, R>
    /** The forward (default `"ssh"`). */
    readonly forward?: string | undefined
    /** The whole wait (default 120 s). */
    readonly waitTimeout?: Duration.DurationInput | undefined
    /** Between banner probes (default 100 ms). */
    readonly probeInterval?: Duration.DurationInput | undefined
  }
): Task.Task<
  Ssh.Session,
  NoInfer<E> | Qemu.SshNotReadyError | Ssh.SshError,
  Exclude<NoInfer<R>, Scope.Scope> | FileSystem.FileSystem,
  IS,
  IV | Ids<NoInfer<Requires>>
> =>
  build(name, {
    ...common(options),
    provides: options.provides,
    requires: [options.vm, ...(options.requires ?? [])],
    resource: true,
    run: Effect.gen(function*() {
      const vm = yield* options.vm
      const identity = yield* resolve(options.identity)
      const session = yield* Qemu.waitForSsh(vm, {
        ...identity,
        forward: options.forward,
        timeout: options.waitTimeout ?? "120 seconds",
        interval: options.probeInterval,
        onBanner: (banner) => Task.output(`sshd answers: ${banner}`, "log")
      })
      yield* Task.output(`ssh ${session.label} ready`, "log")
      return session
    })
  })

/**
 * A task that copies local sources into the guest with rsync (same identity
 * and pinned host key as the session) and provides what it copied.
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const { SshSession, Synced } = QemuTask.tags("vm")
 * const sync = QemuTask.rsync("rsync sources", {
 *   ssh: SshSession,
 *   provides: Synced,
 *   source: "examples/qemu-project/",
 *   destination: "/root/project/"
 * })
 * ```
 *
 * @since 0.1.0
 * @category tasks
 */
export const rsync = <IS, IY>(
  name: string,
  options: TaskOptions & {
    readonly ssh: Context.Tag<IS, Ssh.Session>
    readonly provides: Context.Tag<IY, Synced>
    /** Local path (a trailing `/` copies the directory's contents). */
    readonly source: string
    /** Path in the guest. */
    readonly destination: string
    /** Delete files in the guest that are gone locally (default true). */
    readonly delete?: boolean | undefined
    readonly exclude?: ReadonlyArray<string> | undefined
  }
): Task.Task<Synced, Rsync.RsyncError, FileSystem.FileSystem, IY, IS> =>
  build(name, {
    ...common(options),
    provides: options.provides,
    requires: [options.ssh],
    run: Effect.gen(function*() {
      const session = yield* options.ssh
      const result = yield* Rsync.push(session.target, {
        source: options.source,
        destination: options.destination,
        delete: options.delete ?? true,
        exclude: options.exclude
      })
      yield* Task.output(`${Text.count(result.itemized.length, "change")} copied to ${options.destination}`, "log")
      return { source: options.source, destination: options.destination, itemized: result.itemized } satisfies Synced
    })
  })

/**
 * A task that runs the tests over SSH: output lines stream into the task's
 * output, exit code 0 is success (its value: `TestsPassed`), any other exit
 * code fails the task with a typed `TestsFailedError`. If the run is
 * interrupted, the remote command's process group is killed.
 *
 * @example
 * ```ts
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const { SshSession, Synced } = QemuTask.tags("vm")
 * const tests = QemuTask.runTests("run tests", {
 *   ssh: SshSession,
 *   requires: [Synced],
 *   cwd: "/root/project",
 *   command: "sh run-tests.sh"
 * })
 * ```
 *
 * @since 0.1.0
 * @category tasks
 */
export const runTests = <IS, const Requires extends ReadonlyArray<Task.AnyTag> = readonly []>(
  name: string,
  options: TaskOptions & {
    readonly ssh: Context.Tag<IS, Ssh.Session>
    readonly requires?: Requires | undefined
    /** A shell command line, or an argv (quoted for you). */
    readonly command: string | ReadonlyArray<string>
    /** Run it in this directory of the guest. */
    readonly cwd?: string | undefined
    /** Lines of output kept for the error (default 20). */
    readonly tailLines?: number | undefined
  }
): Task.Task<TestsPassed, TestsFailedError | Ssh.SshError, never, never, IS | Ids<NoInfer<Requires>>> =>
  build(name, {
    ...common(options),
    requires: [options.ssh, ...(options.requires ?? [])],
    run: runCommand(options)
  })

const runCommand = <IS>(options: {
  readonly ssh: Context.Tag<IS, Ssh.Session>
  readonly command: string | ReadonlyArray<string>
  readonly cwd?: string | undefined
  readonly tailLines?: number | undefined
}): Effect.Effect<TestsPassed, TestsFailedError | Ssh.SshError, IS> =>
  Effect.gen(function*() {
    const session = yield* options.ssh
    const line = typeof options.command === "string" ? options.command : Ssh.commandLine(options.command)
    const full = options.cwd === undefined ? line : `cd ${Ssh.quote(options.cwd)} && ${line}`
    const keep = options.tailLines ?? 20
    const tail: Array<string> = []
    let count = 0
    const remember = (l: string) =>
      Effect.sync(() => {
        count++
        tail.push(l)
        if (tail.length > keep) tail.shift()
      })
    const started = yield* Clock.currentTimeMillis
    const exitCode = yield* Ssh.exec(session, full, { onStdout: remember, onStderr: remember })
    if (exitCode !== 0) {
      return yield* new TestsFailedError({ command: line, target: session.label, exitCode, output: [...tail] })
    }
    return {
      command: line,
      target: session.label,
      exitCode: 0,
      outputLines: count,
      durationMs: (yield* Clock.currentTimeMillis) - started
    } satisfies TestsPassed
  })

// ---------------------------------------------------------------------------------------------
// The whole chain

/**
 * Options of {@link pipeline}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const options: QemuTask.PipelineOptions<[typeof QemuTask.Guest], never, QemuTask.Guest> = {
 *   requires: [QemuTask.Guest],
 *   machine: Effect.map(QemuTask.Guest, (g) => QemuTask.testGuestMachine(g)),
 *   source: "project/",
 *   command: ["sh", "run-tests.sh"]
 * }
 * const chain = QemuTask.pipeline("vm1", options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface PipelineOptions<Requires extends ReadonlyArray<Task.AnyTag>, E, R> {
  /** The machine: a value, or an Effect reading tags listed in `requires` (e.g. `QemuTask.Guest`). */
  readonly machine: Param<Machine, E, R>
  /** Tags the machine Effect reads (given to the overlay, VM and SSH tasks). */
  readonly requires?: Requires | undefined
  /** Local sources to copy (a trailing `/` copies the directory's contents). */
  readonly source: string
  /** Where they go in the guest (default `/root/project`). */
  readonly destination?: string | undefined
  /** The test command, run in `destination`. */
  readonly command: string | ReadonlyArray<string>
  /** The pool the VM takes one unit of (default `"vm"`); `false` for none. */
  readonly pool?: string | false | undefined
  /** How long SSH may take to become ready (default 120 s). */
  readonly bootTimeout?: Duration.DurationInput | undefined
  /** Task timeout of the test run (default: none). */
  readonly testTimeout?: Duration.DurationInput | undefined
  /** Task names are `<prefix>create overlay` …; default `"<name>: "`. */
  readonly prefix?: string | undefined
  /** Extra rsync excludes. */
  readonly exclude?: ReadonlyArray<string> | undefined
}

/**
 * The "run tests once" chain for one VM: create overlay → start VM → wait
 * for port → wait for SSH → rsync sources → run tests, wired through fresh
 * tags (`tags(name)`). Put `tasks` in a graph (with other pipelines if you
 * like: each has its own tags) and give the run a `vm` pool.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TaskGraph } from "effect-taskgraph"
 * import { QemuTask } from "effect-taskgraph/qemu"
 *
 * const guest = QemuTask.testGuest("build test guest")
 * const machine = Effect.map(QemuTask.Guest, QemuTask.testGuestMachine)
 * const a = QemuTask.pipeline("vm1", { requires: [QemuTask.Guest], machine, source: "project/", command: "sh run-tests.sh" })
 * const b = QemuTask.pipeline("vm2", { requires: [QemuTask.Guest], machine, source: "project/", command: "sh run-tests.sh" })
 * const graph = TaskGraph.make("two vms", [guest, ...a.tasks, ...b.tasks])
 * const run = TaskGraph.run(graph, { pools: { vm: 1 } }) // one VM at a time
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const pipeline = <
  const Name extends string,
  const Requires extends ReadonlyArray<Task.AnyTag> = readonly [],
  E = never,
  R = never
>(name: Name, options: PipelineOptions<Requires, E, R>) => {
  const t = tags(name)
  const prefix = options.prefix ?? `${name}: `
  const destination = options.destination ?? "/root/project"
  const requires = (options.requires ?? []) as Requires
  const machine = asEffect(options.machine)
  const overlayTask = overlay(`${prefix}create overlay`, {
    provides: t.Overlay,
    requires,
    image: Effect.map(machine, (m) => ({ base: m.base, baseFormat: m.baseFormat }))
  })
  const vmTask = vm(`${prefix}start vm`, {
    overlay: t.Overlay,
    provides: t.Vm,
    requires,
    pool: options.pool,
    options: Effect.map(machine, (m) => ({ ...m.vm, name: m.vm.name ?? vmName(name) }))
  })
  const portTask = portReady(`${prefix}wait for port`, { vm: t.Vm, provides: t.Port })
  const sshTask = sshReady(`${prefix}wait for ssh`, {
    vm: t.Vm,
    provides: t.SshSession,
    requires: [t.Port, ...requires] as [typeof t.Port, ...Requires],
    identity: Effect.map(machine, (m) => m.ssh),
    waitTimeout: options.bootTimeout
  })
  const rsyncTask = rsync(`${prefix}rsync sources`, {
    ssh: t.SshSession,
    provides: t.Synced,
    source: options.source,
    destination,
    exclude: options.exclude
  })
  const testsTask = runTests(`${prefix}run tests`, {
    ssh: t.SshSession,
    requires: [t.Synced],
    cwd: destination,
    command: options.command,
    timeout: options.testTimeout
  })
  return {
    name,
    tags: t,
    overlay: overlayTask,
    vm: vmTask,
    port: portTask,
    ssh: sshTask,
    rsync: rsyncTask,
    tests: testsTask,
    /** All six, in order. */
    tasks: [overlayTask, vmTask, portTask, sshTask, rsyncTask, testsTask] as const
  }
}

/** A QEMU-friendly VM name from a pipeline name. */
const vmName = (name: string): string => {
  const clean = name.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "")
  return clean.length === 0 ? "vm" : clean
}

/**
 * The project's tiny test guest (built from Debian packages by
 * `scripts/guest.sh`): build it (idempotent, cached in `.cache/guest/`), read
 * its manifest, and turn it into VM options and an SSH target.
 *
 * @example
 * ```ts
 * import { NodeContext } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { Qemu, QemuImg, Ssh, TestGuest } from "effect-taskgraph/qemu"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const guest = yield* TestGuest.build()
 *   const overlay = yield* QemuImg.overlay({ base: guest.baseImage })
 *   const vm = yield* Qemu.start(TestGuest.vmOptions(guest, { disk: overlay.path }))
 *   const ssh = yield* Ssh.waitReady(TestGuest.sshTarget(guest, vm.ports.ssh!))
 *   yield* Ssh.exec(ssh, "cat /mnt/base.txt")
 * })).pipe(Effect.provide(NodeContext.layer))
 * ```
 *
 * @since 0.1.0
 */
import { FileSystem } from "@effect/platform"
import { Data, Effect, Schema } from "effect"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as Process from "../Process.js"
import type * as Qemu from "./Qemu.js"
import type * as Ssh from "./Ssh.js"

/**
 * The manifest written by `scripts/build-guest.sh` (`guest.json`), plus the
 * pinned host key read from its file.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TestGuest } from "effect-taskgraph/qemu"
 *
 * const kernel = Effect.map(TestGuest.load(".cache/guest"), (guest: TestGuest.Guest) => guest.kernel)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class Guest extends Schema.Class<Guest>("TestGuest/Guest")({
  dir: Schema.String,
  kernel: Schema.String,
  initrd: Schema.String,
  baseImage: Schema.String,
  baseImageFormat: Schema.String,
  privateKey: Schema.String,
  publicKey: Schema.String,
  hostKey: Schema.String,
  user: Schema.String,
  append: Schema.String,
  kernelVersion: Schema.String,
  readyLine: Schema.String
}) {}

/**
 * The guest could not be built or its manifest could not be read.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TestGuest } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, TestGuest.TestGuestError>
 * program.pipe(Effect.catchTag("TestGuestError", (e) => Effect.logError(e.message)))
 * ```
 */
export class TestGuestError extends Data.TaggedError("TestGuestError")<{
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `the QEMU test guest is not available: ${this.detail}`
  }
}

/**
 * The repository's `scripts/` directory (next to `src/`).
 *
 * @example
 * ```ts
 * import * as path from "node:path"
 * import { TestGuest } from "effect-taskgraph/qemu"
 *
 * const guestScript = path.join(TestGuest.scriptsDir, "guest.sh")
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const scriptsDir: string = NodePath.resolve(NodePath.dirname(fileURLToPath(import.meta.url)), "../../scripts")

/**
 * Builds the guest if needed (`scripts/guest.sh`: installs missing Debian
 * packages when root, otherwise says which; a cached build is a no-op) and
 * returns its manifest with the host key's content in `hostKeyLine`.
 *
 * @example
 * ```ts
 * import { TestGuest } from "effect-taskgraph/qemu"
 *
 * const guest = TestGuest.build({ dir: "/tmp/guest-cache" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (options?: {
  /** Cache directory (default `.cache/guest` in the repository). */
  readonly dir?: string | undefined
  /** Show the build's output in the task output (default: only on failure). */
  readonly output?: boolean | undefined
}): Effect.Effect<Guest & { readonly hostKeyLine: string }, TestGuestError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const env = options?.dir === undefined ? undefined : { GUEST_DIR: NodePath.resolve(options.dir) }
    yield* Process.run(NodePath.join(scriptsDir, "guest.sh"), [], {
      env,
      output: options?.output === true ? "task" : "none",
      tailLines: 30
    }).pipe(Effect.mapError((e) => new TestGuestError({ detail: e.message, cause: e })))
    const dir = options?.dir === undefined ? NodePath.resolve(scriptsDir, "../.cache/guest") : NodePath.resolve(options.dir)
    return yield* load(dir)
  })

/**
 * Reads an already built guest's manifest from its directory.
 *
 * @example
 * ```ts
 * import { TestGuest } from "effect-taskgraph/qemu"
 *
 * const guest = TestGuest.load(".cache/guest")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (
  dir: string
): Effect.Effect<Guest & { readonly hostKeyLine: string }, TestGuestError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const manifest = NodePath.join(dir, "guest.json")
    const text = yield* fs.readFileString(manifest).pipe(
      Effect.mapError((e) => new TestGuestError({ detail: `cannot read ${manifest} (build it with scripts/guest.sh): ${e.message}`, cause: e }))
    )
    const guest = yield* Schema.decodeUnknown(Schema.parseJson(Guest))(text).pipe(
      Effect.mapError((e) => new TestGuestError({ detail: `${manifest}: ${e.message}`, cause: e }))
    )
    const hostKeyLine = (yield* fs.readFileString(guest.hostKey).pipe(
      Effect.mapError((e) => new TestGuestError({ detail: `cannot read ${guest.hostKey}: ${e.message}`, cause: e }))
    )).trim()
    return Object.assign(guest, { hostKeyLine })
  })

/**
 * VM options for the guest: its kernel, initrd and command line, the given
 * disk (usually an overlay of `guest.baseImage`) and an `ssh` forward.
 *
 * @example
 * ```ts
 * import { TestGuest } from "effect-taskgraph/qemu"
 *
 * declare const guest: TestGuest.Guest
 * const options = TestGuest.vmOptions(guest, { disk: "/tmp/overlay.qcow2", name: "vm1", memory: 384 })
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const vmOptions = (
  guest: Guest,
  options: { readonly disk?: string | undefined } & Omit<Qemu.StartOptions, "kernel" | "initrd"> = {}
): Qemu.StartOptions => {
  const { disk, ...rest } = options
  return {
    memory: 256,
    append: guest.append,
    forwards: [{ name: "ssh", guest: 22 }],
    ...rest,
    kernel: guest.kernel,
    initrd: guest.initrd,
    drives: disk === undefined ? rest.drives ?? [] : [{ file: disk, format: "qcow2" }, ...(rest.drives ?? [])]
  }
}

/**
 * The SSH target of the guest on a forwarded host port, with the pinned host key.
 *
 * @example
 * ```ts
 * import { TestGuest } from "effect-taskgraph/qemu"
 *
 * declare const guest: TestGuest.Guest & { readonly hostKeyLine: string }
 * const target = TestGuest.sshTarget(guest, 40022)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const sshTarget = (guest: Guest & { readonly hostKeyLine: string }, port: number): Ssh.Target => ({
  host: "127.0.0.1",
  port,
  user: guest.user,
  privateKeyPath: guest.privateKey,
  hostKey: guest.hostKeyLine
})

/**
 * Disk images with `qemu-img`: a copy-on-write qcow2 overlay on a base image,
 * scoped (deleted when the scope closes unless kept), so a run never leaves
 * one behind and never writes to the base.
 *
 * @example
 * ```ts
 * import { NodeContext } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { QemuImg } from "effect-taskgraph/qemu"
 *
 * const program = Effect.scoped(Effect.gen(function* () {
 *   const overlay = yield* QemuImg.overlay({ base: ".cache/guest/base.qcow2" })
 *   yield* Effect.log(overlay.path) // /tmp/overlay-AbC123/overlay.qcow2, deleted at scope close
 * })).pipe(Effect.provide(NodeContext.layer))
 * ```
 *
 * @since 0.1.0
 */
import { FileSystem } from "@effect/platform"
import type { Scope } from "effect"
import { Data, Effect, Schema } from "effect"
import * as NodePath from "node:path"
import * as OwnedPaths from "../internal/ownedPaths.js"
import * as Process from "../Process.js"
import * as OwnedDirs from "./internal/ownedDirs.js"

/**
 * The base image cannot be used: it does not exist, is not a regular file,
 * or cannot be read.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuImg } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, QemuImg.BaseImageError>
 * program.pipe(Effect.catchTag("BaseImageError", (e) => Effect.logError(e.message)))
 * ```
 */
export class BaseImageError extends Data.TaggedError("BaseImageError")<{
  readonly path: string
  readonly problem: "missing" | "not a file" | "unreadable" | "unknown format"
  readonly detail?: string | undefined
}> {
  override get message(): string {
    const extra = this.detail === undefined ? "" : ` (${this.detail})`
    switch (this.problem) {
      case "missing":
        return `base image ${this.path} does not exist${extra}: build it (e.g. scripts/guest.sh) or fix the path`
      case "not a file":
        return `base image ${this.path} is not a regular file${extra}`
      case "unreadable":
        return `base image ${this.path} cannot be read${extra}: check its permissions`
      case "unknown format":
        return `qemu-img cannot read base image ${this.path}${extra}`
    }
  }
}

/**
 * `qemu-img` failed (or could not be started), or the overlay path is taken.
 *
 * @since 0.1.0
 * @category errors
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuImg } from "effect-taskgraph/qemu"
 * declare const program: Effect.Effect<void, QemuImg.QemuImgError>
 * program.pipe(Effect.catchTag("QemuImgError", (e) => Effect.logError(e.message)))
 * ```
 */
export class QemuImgError extends Data.TaggedError("QemuImgError")<{
  readonly operation: string
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `qemu-img ${this.operation} failed: ${this.detail}`
  }
}

/**
 * A created overlay image.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuImg } from "effect-taskgraph/qemu"
 *
 * const path = Effect.scoped(
 *   Effect.map(QemuImg.overlay({ base: ".cache/guest/base.qcow2" }), (overlay: QemuImg.Overlay) => overlay.path)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Overlay {
  /** Absolute path of the overlay (qcow2). */
  readonly path: string
  /** Absolute path of its backing (base) image. */
  readonly base: string
  /** Format of the base image (`qcow2`, `raw`, …). */
  readonly baseFormat: string
  /** Deleted when released (no `keep`): what the guest writes to it is thrown away. */
  readonly temporary: boolean
}

const ImageInfo = Schema.Struct({ format: Schema.String, "virtual-size": Schema.Number })

/**
 * What `qemu-img info` says about an image: its format and virtual size.
 *
 * @example
 * ```ts
 * import { QemuImg } from "effect-taskgraph/qemu"
 *
 * const info = QemuImg.info(".cache/guest/base.qcow2")
 * // Effect<{ format: "qcow2", "virtual-size": 67108864 }, BaseImageError | QemuImgError, FileSystem>
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const info = (
  path: string
): Effect.Effect<
  { readonly format: string; readonly "virtual-size": number },
  BaseImageError | QemuImgError,
  FileSystem.FileSystem
> =>
  Effect.gen(function*() {
    const abs = yield* checkReadable(path)
    const result = yield* Process.run("qemu-img", ["info", "--output=json", abs], { collect: true, output: "none" }).pipe(
      Effect.catchTags({
        ProcessExitError: (e) =>
          new BaseImageError({
            path: abs,
            problem: "unknown format",
            detail: e.stderrTail.join(" ").trim() || (e.exitCode !== undefined ? `exit code ${e.exitCode}` : String(e.signal))
          }),
        ProcessNotFoundError: (e) => notInstalled("info", e),
        ProcessSpawnError: (e) => new QemuImgError({ operation: "info", detail: e.message, cause: e })
      })
    )
    return yield* Schema.decodeUnknown(Schema.parseJson(ImageInfo))(result.stdout).pipe(
      Effect.mapError((cause) => new QemuImgError({ operation: "info", detail: cause.message, cause }))
    )
  })

const notInstalled = (operation: string, cause: Process.ProcessNotFoundError) =>
  new QemuImgError({
    operation,
    detail: `${cause.message} (Debian: apt-get install qemu-utils, or run scripts/ensure-qemu-deps.sh)`,
    cause
  })

/**
 * Checks that `path` is a readable regular file; returns its absolute path.
 *
 * @example
 * ```ts
 * import { QemuImg } from "effect-taskgraph/qemu"
 *
 * const abs = QemuImg.checkReadable("base.qcow2") // Effect<string, BaseImageError, FileSystem>
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const checkReadable = (path: string): Effect.Effect<string, BaseImageError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const abs = NodePath.resolve(path)
    const stat = yield* fs.stat(abs).pipe(
      Effect.mapError((e) =>
        new BaseImageError({
          path: abs,
          problem: e._tag === "SystemError" && e.reason === "NotFound" ? "missing" : "unreadable",
          detail: e.message
        })
      )
    )
    if (stat.type !== "File") return yield* new BaseImageError({ path: abs, problem: "not a file", detail: stat.type })
    yield* fs.access(abs, { readable: true }).pipe(
      Effect.mapError((e) => new BaseImageError({ path: abs, problem: "unreadable", detail: e.message }))
    )
    // access(2) says yes to root for any file; opening it is the real test.
    yield* Effect.scoped(fs.open(abs, { flag: "r" })).pipe(
      Effect.mapError((e) => new BaseImageError({ path: abs, problem: "unreadable", detail: e.message }))
    )
    return abs
  })

const overlayDirPrefix = "overlay-"
/**
 * Creates a qcow2 overlay backed by `base` (`qemu-img create -f qcow2 -F
 * <fmt> -b <base> <overlay>`). The base is checked first. Without `path`, the
 * overlay goes into a fresh temporary directory. The overlay (and that
 * directory) is deleted when the scope closes, unless `keep: true`. An
 * existing file at `path` is an error, never overwritten. A temporary
 * directory records its owner's pid: creating an overlay removes the
 * directories of owners that died without their release (SIGKILL).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QemuImg } from "effect-taskgraph/qemu"
 *
 * const overlay = QemuImg.overlay({ base: ".cache/guest/base.qcow2", size: "256M" })
 * // Effect<Overlay, BaseImageError | QemuImgError, Scope | FileSystem>
 * ```
 *
 * @since 0.1.0
 * @category resources
 */
export const overlay = (options: {
  /** The base (backing) image. */
  readonly base: string
  /** Its format; detected with `qemu-img info` when absent. */
  readonly baseFormat?: string | undefined
  /** Where to create the overlay; a temporary directory when absent. */
  readonly path?: string | undefined
  /** Virtual size of the overlay (e.g. `"1G"`); the base's size when absent. */
  readonly size?: string | undefined
  /** Keep the overlay file when the scope closes. */
  readonly keep?: boolean | undefined
}): Effect.Effect<
  Overlay,
  BaseImageError | QemuImgError,
  Scope.Scope | FileSystem.FileSystem
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const base = yield* checkReadable(options.base)
    const baseFormat = options.baseFormat ?? (yield* info(base)).format

    const fail = (detail: string, cause?: unknown) => new QemuImgError({ operation: "create", detail, cause })
    let path: string
    if (options.path === undefined) {
      const dir = yield* fs.makeTempDirectory({ prefix: overlayDirPrefix }).pipe(
        Effect.mapError((e) => fail(`cannot create a temporary directory: ${e.message}`, e))
      )
      // Record the owner, so that a later overlay removes this directory if this
      // runner is SIGKILLed before its release (see internal/ownedDirs.ts).
      if (options.keep !== true) {
        yield* Effect.sync(() => OwnedDirs.sweepStale(NodePath.dirname(dir), overlayDirPrefix, dir))
        yield* Effect.try(() => OwnedDirs.markOwned(dir)).pipe(Effect.ignore)
        // owned until its release: a forced exit (second Ctrl+C) removes it instead
        yield* OwnedPaths.own(dir, fs.remove(dir, { recursive: true }).pipe(Effect.ignore))
      }
      path = NodePath.join(dir, "overlay.qcow2")
    } else {
      path = NodePath.resolve(options.path)
      if (yield* fs.exists(path).pipe(Effect.orElseSucceed(() => false))) {
        return yield* fail(`${path} already exists; remove it or choose another overlay path`)
      }
    }

    const argv = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", baseFormat, "-b", base, path]
    if (options.size !== undefined) argv.push(options.size)
    yield* Process.run(argv[0]!, argv.slice(1), { output: "task" }).pipe(
      Effect.catchTags({
        ProcessExitError: (e) =>
          Effect.zipRight(
            fs.remove(path, { force: true }).pipe(Effect.ignore),
            Effect.fail(fail(`${e.stderrTail.join(" ").trim() || "no message"} (${e.exitCode ?? e.signal})`, e))
          ),
        ProcessNotFoundError: (e) => Effect.fail(notInstalled("create", e)),
        ProcessSpawnError: (e) => Effect.fail(fail(e.message, e))
      })
    )
    if (options.keep !== true) {
      yield* OwnedPaths.own(path, fs.remove(path, { force: true }).pipe(Effect.ignore))
    }
    return { path, base, baseFormat, temporary: options.keep !== true } satisfies Overlay
  })

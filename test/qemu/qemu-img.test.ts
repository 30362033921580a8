/**
 * QemuImg: real qemu-img on the test guest's base image.
 */
import { NodeContext } from "@effect/platform-node"
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as QemuImg from "../../src/qemu/QemuImg.js"
import * as TestGuest from "../../src/qemu/TestGuest.js"
import { capture } from "./helpers.js"

let base = ""

beforeAll(async () => {
  const guest = await Effect.runPromise(TestGuest.build().pipe(Effect.provide(NodeContext.layer)))
  base = guest.baseImage
})

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope | import("@effect/platform").FileSystem.FileSystem>) =>
  effect.pipe(Effect.scoped, Effect.provide(NodeContext.layer))

describe("QemuImg.overlay", () => {
  it.live("creates a qcow2 overlay backed by the base, and deletes it with the scope", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { within, of } = capture()
      const overlay = yield* QemuImg.overlay({ base }).pipe(within, Scope.extend(scope), Effect.provide(NodeContext.layer))
      expect(fs.existsSync(overlay.path)).toBe(true)
      expect(overlay.base).toBe(base)
      expect(overlay.baseFormat).toBe("qcow2")
      expect(path.dirname(overlay.path).startsWith(os.tmpdir())).toBe(true)
      // qemu-img itself says what the overlay is backed by
      const info = JSON.parse(
        (yield* Effect.promise(() =>
          import("node:child_process").then((cp) =>
            cp.execFileSync("qemu-img", ["info", "--output=json", overlay.path], { encoding: "utf8" })
          )
        ))
      )
      expect(info.format).toBe("qcow2")
      expect(info["backing-filename"]).toBe(base)
      expect(info["backing-filename-format"]).toBe("qcow2")
      expect(of("stderr")).toEqual([])

      yield* Scope.close(scope, Exit.void)
      expect(fs.existsSync(overlay.path)).toBe(false)
      expect(fs.existsSync(path.dirname(overlay.path))).toBe(false)
    }))

  it.live("keep: true leaves the overlay in place", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keep-"))
      const target = path.join(dir, "kept.qcow2")
      const overlay = yield* run(QemuImg.overlay({ base, path: target, keep: true }))
      expect(overlay.path).toBe(target)
      expect(fs.existsSync(target)).toBe(true)
      fs.rmSync(dir, { recursive: true })
    }))

  it.live("a missing base image is a clear error naming the path, and creates nothing", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nobase-"))
      const missing = path.join(dir, "no-such-base.qcow2")
      const target = path.join(dir, "overlay.qcow2")
      const error = yield* Effect.flip(run(QemuImg.overlay({ base: missing, path: target })))
      expect(error._tag).toBe("BaseImageError")
      expect(error.message).toContain(missing)
      expect(error.message).toContain("does not exist")
      expect(fs.readdirSync(dir)).toEqual([])
      fs.rmSync(dir, { recursive: true })
    }))

  it.live("a base that is not an image, or a directory, is refused before qemu-img create", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "badbase-"))
      const notAnImage = path.join(dir, "empty.qcow2")
      fs.writeFileSync(notAnImage, "")
      const asDir = yield* Effect.flip(run(QemuImg.overlay({ base: dir })))
      expect(asDir._tag).toBe("BaseImageError")
      expect(asDir.message).toContain("is not a regular file")
      const notImg = yield* Effect.flip(run(QemuImg.overlay({ base: notAnImage, baseFormat: "qcow2", path: path.join(dir, "o.qcow2") })))
      expect(notImg._tag).toBe("QemuImgError")
      expect(fs.existsSync(path.join(dir, "o.qcow2"))).toBe(false)
      fs.rmSync(dir, { recursive: true })
    }))

  it.live("an existing file at the overlay path is never overwritten", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "exists-"))
      const target = path.join(dir, "taken.qcow2")
      fs.writeFileSync(target, "precious")
      const error = yield* Effect.flip(run(QemuImg.overlay({ base, path: target })))
      expect(error.message).toContain("already exists")
      expect(fs.readFileSync(target, "utf8")).toBe("precious")
      fs.rmSync(dir, { recursive: true })
    }))
})

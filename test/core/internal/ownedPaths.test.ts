import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import * as OwnedPaths from "../../../src/internal/ownedPaths.js"

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "owned-paths-test-"))

describe("internal/ownedPaths", () => {
  it("a path is registered from its acquisition until its release has run, then no longer", () => {
    const scope = Effect.runSync(Scope.make())
    const released: Array<string> = []
    const dir = Effect.runSync(
      OwnedPaths.acquireRelease(Effect.sync(tempDir), (d) =>
        Effect.sync(() => {
          released.push(d)
          fs.rmSync(d, { recursive: true, force: true })
        })).pipe(Scope.extend(scope))
    )
    expect(OwnedPaths.all()).toContain(dir)
    Effect.runSync(Scope.close(scope, Exit.void))
    expect(released).toEqual([dir])
    expect(OwnedPaths.all()).not.toContain(dir)
  })

  it("removeAllSync (the forced exit) removes every registered path, with its contents, at once", () => {
    const scope = Effect.runSync(Scope.make())
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, "serial.log"), "GUEST-READY\n")
    const file = path.join(tempDir(), "overlay.qcow2")
    fs.writeFileSync(file, "")
    Effect.runSync(OwnedPaths.own(dir, Effect.void).pipe(Scope.extend(scope)))
    Effect.runSync(OwnedPaths.own(file, Effect.void).pipe(Scope.extend(scope)))
    expect(OwnedPaths.removeAllSync()).toBe(2)
    expect(fs.existsSync(dir)).toBe(false)
    expect(fs.existsSync(file)).toBe(false)
    expect(OwnedPaths.all()).toEqual([])
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
    // the releases may still run afterwards (they find nothing to do)
    Effect.runSync(Scope.close(scope, Exit.void))
  })
})

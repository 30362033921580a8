/**
 * `makeDirectorySync`: `mkdir -p` that returns or throws, also where Node's
 * recursive `mkdirSync` never returns (a path under /proc).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeDirectorySync } from "../../../src/internal/makeDirectory.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "taskgraph-mkdir-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe("makeDirectorySync", () => {
  it("creates every missing level, and is a no-op on an existing directory", () => {
    const dir = path.join(tmp, "a", "b", "c")
    makeDirectorySync(dir)
    expect(fs.statSync(dir).isDirectory()).toBe(true)
    makeDirectorySync(dir)
    makeDirectorySync(tmp)
    expect(fs.readdirSync(path.join(tmp, "a"))).toEqual(["b"])
  })

  it("a file in the way: ENOTDIR or EEXIST, thrown", () => {
    fs.writeFileSync(path.join(tmp, "file"), "")
    expect(() => makeDirectorySync(path.join(tmp, "file"))).toThrow(expect.objectContaining({ code: "EEXIST" }))
    expect(() => makeDirectorySync(path.join(tmp, "file", "x", "y"))).toThrow(expect.objectContaining({ code: "ENOTDIR" }))
  })

  it("under /proc, where mkdir answers ENOENT although /proc exists: throws ENOENT (Node's recursive mkdir never returns there)", () => {
    expect(fs.existsSync("/proc")).toBe(true)
    expect(() => makeDirectorySync("/proc/taskgraph-nope/reports")).toThrow(expect.objectContaining({ code: "ENOENT" }))
  })
})

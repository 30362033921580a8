/**
 * The API reference: every `@example` of every public module type-checks as
 * user code (NodeNext, strict, imports through the package's own entry
 * names), and `npm run docs` turns the JSDoc into one page per public module
 * with @effect/docgen — which also fails when an export lacks `@since`.
 */
import { execFile } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")

const run = (command: string, args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile(command, args, { cwd: root, timeout: 300_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, out: `${stdout}${stderr}` }))
  })

/** Public modules: every src/**.ts outside internal/ folders, but the CLI's bin. */
const publicModules = (dir: string): Array<string> =>
  readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "internal" ? [] : publicModules(relative)
    return entry.name.endsWith(".ts") && relative !== path.join("src", "bin.ts") ? [relative] : []
  })

describe("docs", () => {
  it("npm run docs type-checks every @example and writes an API page for every public module", async () => {
    const { code, out } = await run("npm", ["run", "docs"])
    expect(out).toMatch(/^\d+ @example blocks type-check$/m)
    // every public module has examples; a blunder in the extraction would find few
    expect(Number(/^(\d+) @example/m.exec(out)![1])).toBeGreaterThan(150)
    expect(out).toContain("Docs generation succeeded")
    expect(code).toBe(0)
    for (const source of publicModules("src")) {
      const page = path.join(root, "docs", "modules", `${path.relative("src", source)}.md`)
      expect(existsSync(page), page).toBe(true)
    }
    const taskGraph = readFileSync(path.join(root, "docs", "modules", "TaskGraph.ts.md"), "utf8")
    expect(taskGraph).toContain("## run")
    expect(taskGraph).toContain("Added in v0.1.0")
  }, 600_000)
})

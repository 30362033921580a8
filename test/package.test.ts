/**
 * The package as a user gets it: `npm pack` (which builds dist/), then a fresh
 * app under the OS temp dir — outside this repository, so nothing from its
 * node_modules can be found — installs the tarball and the peer dependencies
 * from the registry at the versions this repo pins, and:
 * (a) compiles with plain `tsc` (NodeNext, strict) and runs with plain `node`;
 *     a missing provider is a compile error;
 * (b) type-checks with `moduleResolution: "Bundler"`, bundles with esbuild,
 *     and the bundle runs;
 * (c) runs its own @effect/vitest test with TestClock;
 * (d) runs `npx effect-taskgraph run` on a .js graph (no TypeScript loader
 *     loaded) and a .ts graph; bad input is one line and exit 2; on Node 22
 *     (scripts/ensure-node22.sh) the CLI keeps a compile cache that its next
 *     run loads from;
 * and `import "effect-taskgraph"` loads no @effect/platform-node, ssh2,
 * @effect/cli or tsx. publint and arethetypeswrong check the tarball.
 *
 * The install goes through npm's cache (`--prefer-offline`): the first run
 * downloads, later ones are quick.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const repoPackage = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as {
  readonly devDependencies: Record<string, string>
  readonly peerDependencies: Record<string, string>
}

interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The environment of a user's shell: none of npm's, vitest's or Node's settings from this run. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NODE_OPTIONS$|NODE_PATH$|NODE_COMPILE_CACHE$|NODE_DISABLE_COMPILE_CACHE$|VITEST|TSX_|INIT_CWD$|TEST$|EFFECT_TASKGRAPH_)/i.test(key)) continue
    env[key] = value
  }
  env.CI = "true"
  return env
}

const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string> }
) =>
  new Promise<Result>((resolve) => {
    execFile(command, args, {
      cwd: options.cwd,
      env: { ...cleanEnv(), ...options.env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000
    }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
      resolve({ code, stdout, stderr })
    })
  })

/** Fails with the command's output when it did not exit 0. */
const ok = async (promise: Promise<Result>) => {
  const result = await promise
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  return result
}

let tmp = ""
let app = ""
let tarball = ""

const node = (args: ReadonlyArray<string>, env?: Record<string, string>) =>
  run(process.execPath, args, env === undefined ? { cwd: app } : { cwd: app, env })
const bin = (name: string) => path.join(app, "node_modules", ".bin", name)

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "effect-taskgraph-package-"))
  app = path.join(tmp, "app")
  // `prepack` builds dist/ first: the tarball always holds fresh output
  await ok(run("npm", ["pack", "--pack-destination", tmp, "--loglevel=error"], { cwd: repo }))
  const packed = fs.readdirSync(tmp).filter((f) => f.endsWith(".tgz"))
  expect(packed).toHaveLength(1)
  tarball = path.join(tmp, packed[0]!)

  fs.cpSync(path.join(repo, "test/fixtures/package/app"), app, { recursive: true })
  const pinned = (names: ReadonlyArray<string>) =>
    Object.fromEntries(names.map((name) => [name, repoPackage.devDependencies[name]!]))
  fs.writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify(
      {
        name: "an-effect-app",
        private: true,
        type: "module",
        dependencies: {
          "effect-taskgraph": `file:${tarball}`,
          ...pinned(["effect", "@effect/platform", "@effect/platform-node", "@effect/cli", "@effect/printer", "@effect/printer-ansi"])
        },
        devDependencies: pinned(["typescript", "@types/node", "esbuild", "vitest", "@effect/vitest", "tsx"])
      },
      null,
      2
    )
  )
  await ok(run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app }))
}, 1_200_000)

afterAll(() => {
  if (tmp !== "") fs.rmSync(tmp, { recursive: true, force: true })
})

describe("the packed package, installed in a fresh app", { timeout: 300_000 }, () => {
  it("ships dist, src, docs, README and LICENSE, no tests, bench or fixtures", async () => {
    const { stdout } = await ok(run("tar", ["-tzf", tarball], { cwd: tmp }))
    const files = stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""))
    expect(files).toEqual(expect.arrayContaining([
      "package.json",
      "README.md",
      "LICENSE",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/index.js.map",
      "dist/index.d.ts.map",
      "dist/bin.js",
      "dist/internal/worker/boot.mjs",
      "src/index.ts"
    ]))
    expect(files.filter((f) => /^(test|bench|examples|\.cache|node_modules)\//.test(f))).toEqual([])
  })

  it("declares Effect as a peer like an Effect library: required peers for the core, optional ones per entry", () => {
    const packed = JSON.parse(fs.readFileSync(path.join(app, "node_modules/effect-taskgraph/package.json"), "utf8")) as {
      readonly peerDependencies: Record<string, string>
      readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
      readonly dependencies?: Record<string, string>
    }
    const optional = (name: string) => packed.peerDependenciesMeta?.[name]?.optional === true
    // what every entry needs: required peers, paired with the Effect 3 line the repository pins
    for (const name of ["effect", "@effect/platform", "@effect/platform-node"]) {
      expect(packed.peerDependencies[name], name).toBe(`^${repoPackage.devDependencies[name]}`)
      expect(optional(name), name).toBe(false)
    }
    // what one entry needs (the CLI, the durable runs): optional peers, pinned in devDependencies
    for (const name of ["@effect/cli", "@effect/printer", "@effect/printer-ansi", "tsx", "@effect/cluster", "@effect/workflow", "@effect/sql-sqlite-node", "@effect/sql-pg"]) {
      expect(packed.peerDependencies[name], name).toBe(`^${repoPackage.devDependencies[name]}`)
      expect(optional(name), name).toBe(true)
    }
    // no copy of Effect comes with the package
    expect(Object.keys(packed.dependencies ?? {}).filter((name) => name === "effect" || name.startsWith("@effect/"))).toEqual([])
  })

  it("resolves everything inside the app: one copy of effect, nothing from the repository", async () => {
    const { stdout } = await ok(node([
      "--input-type=module",
      "-e",
      `for (const s of ["effect", "@effect/platform", "@effect/platform-node", "effect-taskgraph", "effect-taskgraph/node", "effect-taskgraph/workers", "effect-taskgraph/qemu", "effect-taskgraph/cli"]) console.log(import.meta.resolve(s))`
    ]))
    const urls = stdout.trim().split("\n")
    expect(urls).toHaveLength(8)
    for (const url of urls) expect(fileURLToPath(url).startsWith(path.join(app, "node_modules") + path.sep), url).toBe(true)
    expect(fs.existsSync(path.join(app, "node_modules/effect-taskgraph/node_modules/effect"))).toBe(false)
    // internals are not part of the API
    const internal = await node(["--input-type=module", "-e", `await import("effect-taskgraph/internal/scheduler.js")`])
    expect(internal.code).not.toBe(0)
    expect(internal.stderr).toContain("ERR_PACKAGE_PATH_NOT_EXPORTED")
  })

  it("(a) plain tsc (NodeNext, strict) compiles the app, plain node runs it: exit 0", async () => {
    await ok(node([bin("tsc"), "-p", "tsconfig.json"]))
    const { stdout } = await ok(node(["dist/main.js"]))
    expect(stdout).toContain("greeting: hello from the graph")
    expect(stdout).toMatch(/succeeded/)
  })

  it("(a) a service nobody provides is a compile error", async () => {
    const { code, stdout } = await node([bin("tsc"), "-p", "tsconfig.missing.json"])
    expect(code).not.toBe(0)
    expect(stdout).toContain("src/missing.ts")
    expect(stdout).toContain("Greeting")
  })

  it("(b) moduleResolution Bundler type-checks, esbuild bundles it, the bundle runs on its own", async () => {
    await ok(node([bin("tsc"), "-p", "tsconfig.bundler.json"]))
    const out = path.join(tmp, "bundled", "main.mjs")
    await ok(run(bin("esbuild"), [
      "src/main.ts",
      "--bundle",
      "--platform=node",
      "--format=esm",
      `--outfile=${out}`,
      // CommonJS dependencies bundled into ESM call require()
      "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      "--log-level=warning"
    ], { cwd: app }))
    // run outside the app: the bundle needs no node_modules
    const { stdout } = await ok(run(process.execPath, [out], { cwd: path.dirname(out) }))
    expect(stdout).toContain("greeting: hello from the graph")
  })

  it("(c) @effect/vitest with TestClock runs a graph under virtual time", async () => {
    const { stdout } = await ok(node([bin("vitest"), "run"]))
    expect(stdout).toMatch(/1 passed/)
  })

  it("(d) the installed CLI runs a .js graph with no TypeScript loader", async () => {
    const { stdout } = await ok(run("npx", ["--no", "effect-taskgraph", "run", "graphs/graph.js"], { cwd: app }))
    expect(stdout).toContain("answer 42, typescript loader: none")
  })

  it("(d) the installed CLI runs a .ts graph through tsx", async () => {
    const { stdout } = await ok(run("npx", ["--no", "effect-taskgraph", "run", "graphs/graph.ts"], { cwd: app }))
    expect(stdout).toContain("typed answer 42")
  })

  describe("(d) on Node 22, the CLI's compile cache", () => {
    // the machine runs Node 20, which has no compile cache; the official Node 22 build from npm does
    const node22 = () => run("bash", [path.join(repo, "scripts/ensure-node22.sh")], { cwd: repo }).then((r) => {
      expect(r.code, r.stderr).toBe(0)
      return r.stdout.trim()
    })
    const cli = () => path.join(app, "node_modules", "effect-taskgraph", "dist", "bin.js")
    // Node keeps the cache in $TMPDIR/node-compile-cache unless NODE_COMPILE_CACHE says elsewhere
    const freshTmpdir = () => fs.mkdtempSync(path.join(tmp, "tmpdir-"))

    it("is written by a run and read by the next: Effect and this package load from it", async () => {
      const node = await node22()
      const TMPDIR = freshTmpdir()
      const first = await ok(run(node, [cli(), "run", "graphs/graph.js"], { cwd: app, env: { TMPDIR } }))
      expect(first.stdout).toContain("answer 42")
      expect(fs.readdirSync(path.join(TMPDIR, "node-compile-cache")).length).toBeGreaterThan(0)
      const second = await ok(
        run(node, [cli(), "run", "graphs/graph.js"], { cwd: app, env: { TMPDIR, NODE_DEBUG_NATIVE: "COMPILE_CACHE" } })
      )
      expect(second.stdout).toContain("answer 42")
      const loadedFromCache = (file: string) => new RegExp(`cache for file://\\S*/node_modules/${file} was accepted`)
      expect(second.stderr).toMatch(loadedFromCache("effect/dist/esm/Effect\\.js"))
      expect(second.stderr).toMatch(loadedFromCache("effect-taskgraph/dist/TaskGraph\\.js"))
    })

    it("is not written with NODE_DISABLE_COMPILE_CACHE=1", async () => {
      const node = await node22()
      const TMPDIR = freshTmpdir()
      const { stdout } = await ok(
        run(node, [cli(), "run", "graphs/graph.js"], { cwd: app, env: { TMPDIR, NODE_DISABLE_COMPILE_CACHE: "1" } })
      )
      expect(stdout).toContain("answer 42")
      expect(fs.existsSync(path.join(TMPDIR, "node-compile-cache"))).toBe(false)
    })
  })

  const badInput: ReadonlyArray<readonly [string, string, string]> = [
    ["a missing file", "graphs/nope.js", "error: graphs/nope.js: no such file"],
    ["no default export", "graphs/no-default.js", "graphs/no-default.js does not export a graph"],
    ["a default export that is not a graph", "graphs/not-a-graph.js", "graphs/not-a-graph.js does not export a graph"]
  ]
  for (const [what, file, message] of badInput) {
    it(`(d) the installed CLI on ${what}: one line, exit 2`, async () => {
      const { code, stderr } = await run("npx", ["--no", "effect-taskgraph", "run", file], { cwd: app })
      expect(code).toBe(2)
      expect(stderr.trim().split("\n")).toHaveLength(1)
      expect(stderr).toContain(message)
    })
  }

  it(`import "effect-taskgraph" loads no @effect/platform-node, ssh2, @effect/cli or tsx`, async () => {
    const loads = (specifier: string) => {
      const record = path.join(tmp, `loads-${specifier.replace(/\W/g, "_")}.txt`)
      return ok(node(["--import", "./record-loads.mjs", "--input-type=module", "-e", `await import(${JSON.stringify(specifier)})`], {
        RECORD_LOADS: record
      })).then(() => fs.readFileSync(record, "utf8").trim().split("\n"))
    }
    const heavy = /\/node_modules\/(@effect\/platform-node|@effect\/platform-node-shared|@effect\/platform|ssh2|@effect\/cli|tsx|esbuild)\//
    const root = await loads("effect-taskgraph")
    expect(root).toContain(`${"file://"}${path.join(app, "node_modules/effect-taskgraph/dist/index.js")}`)
    expect(root.filter((url) => heavy.test(url))).toEqual([])
    // the recorder sees them where they are loaded
    const main = await loads("effect-taskgraph/node")
    expect(main.some((url) => url.includes("/node_modules/@effect/platform-node/"))).toBe(true)
  })
})

describe("a peer of the wrong major (Effect 4 under this Effect 3 library)", { timeout: 600_000 }, () => {
  const wrongPeers = ["effect@4.1.0", "@effect/platform@0.97.2", "@effect/platform-node@0.108.2", "@effect/cli@0.77.2", "@effect/printer@0.51.0", "@effect/printer-ansi@0.51.0"]
  const makeApp = (name: string) => {
    const dir = path.join(tmp, name)
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }))
    fs.copyFileSync(path.join(app, "graphs/graph.js"), path.join(dir, "graph.js"))
    return dir
  }

  it("npm refuses the install and names the range effect-taskgraph needs", async () => {
    const dir = makeApp("effect-4-app")
    const { code, stderr } = await run("npm", ["install", "--no-audit", "--no-fund", tarball, ...wrongPeers], { cwd: dir })
    expect(code).not.toBe(0)
    expect(stderr).toContain("ERESOLVE")
    expect(stderr).toMatch(/peer effect@"\^3\./)
  })

  it("forced anyway (--legacy-peer-deps), the CLI names the package, the version found and the range: exit 2", async () => {
    const dir = makeApp("effect-4-forced-app")
    await ok(run("npm", ["install", "--no-audit", "--no-fund", "--legacy-peer-deps", tarball, ...wrongPeers], { cwd: dir }))
    const { code, stderr } = await run("npx", ["--no", "effect-taskgraph", "run", "graph.js"], { cwd: dir })
    expect(stderr.trim()).toBe(
      `error: effect 4.1.0 is installed, but effect-taskgraph needs effect@"^${repoPackage.devDependencies.effect}": ` +
        `npm install effect@"^${repoPackage.devDependencies.effect}"`
    )
    expect(code).toBe(2)
  })
})

describe("package linters on the tarball", { timeout: 300_000 }, () => {
  it("publint: no errors", async () => {
    const { stdout } = await ok(run(process.execPath, [path.join(repo, "node_modules/publint/src/cli.js"), "run", tarball, "--level", "error"], { cwd: tmp }))
    expect(stdout).not.toMatch(/error/i)
  })

  it("arethetypeswrong (ESM-only profile): no problems for ESM and bundler resolution", async () => {
    const { stdout } = await ok(run(path.join(repo, "node_modules/.bin/attw"), [tarball, "--profile", "esm-only", "--format", "json"], { cwd: tmp }))
    const report = JSON.parse(stdout) as {
      readonly problems: Record<string, ReadonlyArray<{ readonly entrypoint: string; readonly resolutionKind?: string }>>
    }
    // the ESM-only profile ignores CommonJS `require` and node10, which an ESM-only package cannot serve
    const problems = Object.values(report.problems).flat().filter((p) => p.resolutionKind !== "node10" && p.resolutionKind !== "node16-cjs")
    expect(problems).toEqual([])
  })
})

#!/usr/bin/env node
/**
 * `npx effect-taskgraph run FILE …`, compiled to `dist/bin.js` and run by
 * plain `node`. No TypeScript loader is loaded here: `Cli.loadGraph`
 * registers tsx only when FILE is TypeScript. The command line needs the
 * optional peer dependency `@effect/cli`; when a peer is missing this says
 * which one and the range to install (exit 2) instead of a stack trace.
 *
 * Inside the repository, on the sources: `node --import tsx src/bin.ts run FILE`.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as module from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

// Node >= 22.1 keeps the bytecode of every module it compiles on disk (in NODE_COMPILE_CACHE, else
// the OS temp directory) and reuses it in the next process: Effect and this package load from it
// instead of being compiled again (bench/README.md, "Compile cache"). Before anything else is
// imported, so that it covers them; NODE_DISABLE_COMPILE_CACHE=1 turns it off; a no-op on Node 20.
if ("enableCompileCache" in module && typeof module.enableCompileCache === "function") module.enableCompileCache()

/** The peer dependencies the command line loads, with their ranges. */
const peers = (): Record<string, string> => {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      readonly peerDependencies?: Record<string, string>
    }
    return pkg.peerDependencies ?? {}
  } catch {
    return {}
  }
}

/** The package a failed import could not find, if that is what failed. */
const missingPackage = (error: unknown): string | undefined => {
  if (!(error instanceof Error) || !("code" in error) || error.code !== "ERR_MODULE_NOT_FOUND") return undefined
  return /Cannot find package '([^']+)'/.exec(error.message)?.[1]
}

/** The installed version of a package as this package sees it, if it is installed. */
const installedVersion = (name: string): string | undefined => {
  try {
    // walk up from the package's main file to its own package.json (its exports may hide it)
    let dir = path.dirname(fileURLToPath(import.meta.resolve(name)))
    while (dir !== path.dirname(dir)) {
      const file = path.join(dir, "package.json")
      if (fs.existsSync(file)) {
        const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { readonly name?: string; readonly version?: string }
        if (pkg.name === name) return pkg.version
      }
      dir = path.dirname(dir)
    }
  } catch {
    // not installed, or not resolvable from here
  }
  return undefined
}

/**
 * Peers installed at a version their `^x.y.z` range refuses (npm refuses that
 * install unless forced with --force or --legacy-peer-deps): e.g. Effect 4
 * under this Effect 3 library, which then fails to load with a message about
 * some file inside `effect`.
 */
const mismatchedPeers = (
  ranges: Record<string, string>
): Array<{ readonly name: string; readonly version: string; readonly range: string }> =>
  Object.entries(ranges).flatMap(([name, range]) => {
    const wanted = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)
    const version = installedVersion(name)
    const got = version === undefined ? null : /^(\d+)\.(\d+)\.(\d+)/.exec(version)
    if (wanted === null || got === null || version === undefined) return []
    const [, wMajor, wMinor, wPatch] = wanted.map(Number)
    const [, major, minor, patch] = got.map(Number)
    // caret ranges: the same major (or, for 0.x, the same minor), and not older
    const sameLine = wMajor === 0 ? major === 0 && minor === wMinor : major === wMajor
    const notOlder = major! > wMajor! || (major === wMajor && (minor! > wMinor! || (minor === wMinor && patch! >= wPatch!)))
    return sameLine && notOlder ? [] : [{ name, version, range }]
  })

try {
  const { main } = await import("./Cli.js")
  main(process.argv)
} catch (error) {
  const ranges = peers()
  const name = missingPackage(error)
  const range = name === undefined ? undefined : ranges[name]
  if (name !== undefined && range !== undefined) {
    process.stderr.write(
      `error: the effect-taskgraph command line needs the package "${name}" (${range}), which is not installed: ` +
        `npm install ${name}@"${range}"\n`
    )
    process.exit(2)
  }
  const wrong = mismatchedPeers(ranges)
  if (wrong.length === 0) throw error
  const found = wrong.map((p) => `${p.name} ${p.version} is installed, but effect-taskgraph needs ${p.name}@"${p.range}"`)
  process.stderr.write(`error: ${found.join("; ")}: npm install ${wrong.map((p) => `${p.name}@"${p.range}"`).join(" ")}\n`)
  process.exit(2)
}

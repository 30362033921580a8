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

try {
  const { main } = await import("./Cli.js")
  main(process.argv)
} catch (error) {
  const name = missingPackage(error)
  const range = name === undefined ? undefined : peers()[name]
  if (name === undefined || range === undefined) throw error
  process.stderr.write(
    `error: the effect-taskgraph command line needs the package "${name}" (${range}), which is not installed: ` +
      `npm install ${name}@"${range}"\n`
  )
  process.exit(2)
}

/**
 * Finds the program to run before spawning it, so that a missing binary is
 * reported as such (the program is started through setpriv, whose "failed to
 * execute" would otherwise look like an exit code 127 of some other program),
 * and a missing working directory is not mistaken for a missing binary (Node
 * reports both as `spawn X ENOENT`).
 *
 * @internal
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"

/** @internal */
export type Resolved =
  | { readonly _tag: "Found"; readonly path: string }
  | { readonly _tag: "NotFound"; readonly searched: ReadonlyArray<string> }
  | { readonly _tag: "NotExecutable"; readonly path: string }

/** The search path execvp uses when PATH is unset. */
export const defaultPath = "/usr/local/bin:/usr/bin:/bin"

const check = async (file: string): Promise<"ok" | "missing" | "not-executable"> => {
  try {
    const stat = await fs.stat(file)
    if (!stat.isFile()) return "not-executable"
  } catch {
    return "missing"
  }
  try {
    await fs.access(file, fs.constants.X_OK)
    return "ok"
  } catch {
    return "not-executable"
  }
}

/**
 * Resolves `command` like execvp: a name with a slash is a path (relative to
 * `cwd`), anything else is looked up in `pathEnv`.
 *
 * @internal
 */
export const resolveCommand = async (command: string, cwd: string, pathEnv: string | undefined): Promise<Resolved> => {
  if (command.includes("/")) {
    const file = path.resolve(cwd, command)
    const result = await check(file)
    return result === "ok"
      ? { _tag: "Found", path: file }
      : result === "missing"
      ? { _tag: "NotFound", searched: [] }
      : { _tag: "NotExecutable", path: file }
  }
  const dirs = (pathEnv ?? defaultPath).split(path.delimiter)
  let notExecutable: string | undefined
  for (const dir of dirs) {
    const file = path.resolve(cwd, dir === "" ? "." : dir, command)
    const result = await check(file)
    if (result === "ok") return { _tag: "Found", path: file }
    if (result === "not-executable" && notExecutable === undefined) notExecutable = file
  }
  return notExecutable !== undefined ? { _tag: "NotExecutable", path: notExecutable } : { _tag: "NotFound", searched: dirs }
}

/**
 * Why a working directory cannot be used, or undefined when it can.
 *
 * @internal
 */
export const checkCwd = async (cwd: string): Promise<string | undefined> => {
  try {
    const stat = await fs.stat(cwd)
    return stat.isDirectory() ? undefined : "is not a directory"
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === "ENOENT" ? "does not exist" : code === "EACCES" ? "is not accessible (permission denied)" : String(error)
  }
}

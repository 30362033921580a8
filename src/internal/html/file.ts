/**
 * Where the HTML report goes: checked (and its directory created) before a
 * run starts, written atomically (a temporary file, then a rename) at the
 * end, synchronously so that a forced exit can still write it.
 *
 * @internal
 */
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { makeDirectorySync } from "../makeDirectory.js"

/** Why a path cannot be written, in words. */
export const reason = (error: unknown): string => {
  const e = error as NodeJS.ErrnoException
  if (e?.code === "EACCES" || e?.code === "EPERM") return "permission denied"
  if (e?.code === "ENOTDIR" || e?.code === "EEXIST") return "a file is in the way of its directory"
  if (e?.code === "EISDIR") return "it is a directory; give the path of a file, e.g. report.html"
  if (e?.code === "EROFS") return "read-only file system"
  return e instanceof Error ? e.message : String(error)
}

/**
 * Creates the directory and proves the file can be written there (a probe
 * file is written and removed); throws what went wrong.
 */
export const prepare = (target: string): void => {
  makeDirectorySync(nodePath.dirname(target))
  if (fs.existsSync(target) && fs.statSync(target).isDirectory()) {
    throw Object.assign(new Error("is a directory"), { code: "EISDIR" })
  }
  const probe = `${target}.${process.pid}.probe`
  fs.writeFileSync(probe, "")
  fs.rmSync(probe, { force: true })
}

/** Writes the document atomically; throws what went wrong. */
export const write = (target: string, html: string): void => {
  const temp = `${target}.${process.pid}.tmp`
  try {
    fs.writeFileSync(temp, html)
    fs.renameSync(temp, target)
  } catch (error) {
    fs.rmSync(temp, { force: true })
    throw error
  }
}

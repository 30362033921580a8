/**
 * `mkdir -p`, synchronously, that always returns or throws.
 *
 * Node's own `fs.mkdirSync(dir, { recursive: true })` never returns for a
 * path under a directory where `mkdir` answers ENOENT although the parent
 * exists (e.g. `/proc/nope/report.html`: it retries the same parent forever;
 * reproduced on Node 20 with plain `node -e`). Here each level is created at
 * most once and the first real error is thrown.
 *
 * @internal
 */
import * as fs from "node:fs"
import * as nodePath from "node:path"

/** Creates `dir` and the directories above it that are missing; throws what went wrong. @internal */
export const makeDirectorySync = (dir: string): void => {
  try {
    fs.mkdirSync(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "EEXIST" && fs.statSync(dir).isDirectory()) return
    const parent = nodePath.dirname(dir)
    if (code !== "ENOENT" || parent === dir) throw error
    makeDirectorySync(parent)
    // the parent exists now: a second ENOENT (or anything else) is the answer
    try {
      fs.mkdirSync(dir)
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === "EEXIST" && fs.statSync(dir).isDirectory()) return
      throw again
    }
  }
}

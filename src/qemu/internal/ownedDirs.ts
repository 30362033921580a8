/**
 * Temporary directories that record their owner's pid, so that directories
 * left behind by a runner killed before its release (SIGKILL) can be swept by
 * the next run. Used for QEMU run directories and overlay directories.
 *
 * @internal
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { isAlive } from "../../internal/pids.js"

const ownerFile = "owner.pid"

/** Marks `dir` as owned by this process. */
export const markOwned = (dir: string): void => NodeFs.writeFileSync(NodePath.join(dir, ownerFile), String(process.pid))

/**
 * Removes the directories in `parent` whose name starts with `prefix` and
 * whose owner file names a dead process. Anything else — not ours, a live
 * owner, `except` — is left alone.
 */
export const sweepStale = (parent: string, prefix: string, except?: string): void => {
  let entries: Array<string>
  try {
    entries = NodeFs.readdirSync(parent).filter((e) => e.startsWith(prefix))
  } catch {
    return
  }
  for (const entry of entries) {
    const dir = NodePath.join(parent, entry)
    if (dir === except) continue
    try {
      const owner = Number(NodeFs.readFileSync(NodePath.join(dir, ownerFile), "utf8"))
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) NodeFs.rmSync(dir, { recursive: true, force: true })
    } catch {
      // not ours, or already gone
    }
  }
}

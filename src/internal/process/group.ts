/**
 * Process groups: signalling a whole group and telling whether any live
 * (non-zombie) process is still in it.
 *
 * Every child is started with `detached: true`, so it leads its own process
 * group (pgid == pid) and a signal to `-pid` reaches its descendants too.
 *
 * @internal
 */
import * as fs from "node:fs"

/**
 * Sends `signal` to the process group `pgid`, falling back to the process
 * itself. Never throws; returns whether a signal was delivered.
 *
 * @internal
 */
export const signalGroup = (pgid: number, signal: NodeJS.Signals | number): boolean => {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    try {
      process.kill(pgid, signal)
      return true
    } catch {
      return false
    }
  }
}

/**
 * Is any process of group `pgid` still alive?
 *
 * `kill(-pgid, 0)` alone is not enough: it also succeeds for zombies, and a
 * grandchild that was orphaned and died stays a zombie for ever under an
 * init that does not reap (common in containers, and on this CI machine).
 * On Linux the group's members are therefore looked up in /proc and zombies
 * are ignored. This scan only runs after `kill(-pgid, 0)` said "someone is
 * there", i.e. only when leftovers exist.
 *
 * @internal
 */
export const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0)
  } catch (error) {
    // EPERM: a member exists but belongs to someone else (setuid): alive.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
  if (process.platform !== "linux") return true
  let names: Array<string>
  try {
    names = fs.readdirSync("/proc")
  } catch {
    return true
  }
  for (const name of names) {
    const first = name.charCodeAt(0)
    if (first < 48 || first > 57) continue
    const stat = readStat(Number(name))
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X") return true
  }
  return false
}

/**
 * The state letter and process group of a pid from /proc/PID/stat, or
 * undefined when there is no such process (or no /proc).
 *
 * @internal
 */
export const readStat = (pid: number): { readonly state: string; readonly pgrp: number } | undefined => {
  let text: string
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  } catch {
    return undefined
  }
  // "pid (comm) S ppid pgrp ..." where comm may contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
  return { state: fields[0] ?? "", pgrp: Number(fields[2]) }
}

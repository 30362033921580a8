/**
 * A tiny `sh` process that outlives the runner by a moment and kills the
 * process groups the runner still owned when it died.
 *
 * `setpriv --pdeathsig KILL` only reaches the direct child: its own children
 * (a `sh -c` pipeline, a test runner's workers) are re-parented and would
 * survive a SIGKILLed runner. The watchdog closes that gap, and it is the
 * only protection where pdeathsig does not exist (macOS, no util-linux).
 *
 * Protocol: the runner writes "+PGID" when it starts a child and "-PGID" when
 * the group is gone. The runner holds the only write end of the watchdog's
 * stdin (Node creates pipes close-on-exec, so no other child inherits it);
 * when the runner dies for any reason, `read` sees end-of-file and the
 * watchdog SIGKILLs every group still listed, then exits.
 *
 * The watchdog runs in its own session (a terminal's Ctrl+C or a kill of the
 * runner's group does not reach it) and ignores INT/TERM/HUP. It is unref'd:
 * it never keeps the runner's event loop alive.
 *
 * @internal
 */
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as Predicate from "effect/Predicate"
import { globalValue } from "effect/GlobalValue"

const script = `
trap '' INT TERM HUP PIPE
live=" "
while IFS= read -r line; do
  case $line in
    +*) live="$live\${line#+} " ;;
    -*) pg=\${line#-}
        case $live in *" $pg "*) live="\${live%% $pg *} \${live#* $pg }" ;; esac ;;
  esac
done
for pg in $live; do kill -s KILL -- -$pg 2>/dev/null || kill -s KILL $pg 2>/dev/null; done
exit 0
`

interface State {
  child: ChildProcess | undefined
  failed: boolean
  readonly live: Set<number>
}

const state = globalValue(
  Symbol.for("effect-taskgraph/Process/watchdog"),
  (): State => ({ child: undefined, failed: false, live: new Set() })
)

const current = (): ChildProcess | undefined =>
  state.child !== undefined && state.child.exitCode === null && state.child.signalCode === null
    ? state.child
    : undefined

const ensure = (): ChildProcess | undefined => {
  const existing = current()
  if (existing !== undefined) return existing
  if (state.failed || process.platform === "win32") return undefined
  let child: ChildProcess
  try {
    child = spawn("/bin/sh", ["-c", script, "effect-taskgraph-watchdog"], {
      argv0: "effect-taskgraph-watchdog",
      detached: true,
      stdio: ["pipe", "ignore", "ignore"]
    })
  } catch {
    state.failed = true
    return undefined
  }
  child.on("error", () => {
    state.failed = true
    state.child = undefined
  })
  child.stdin?.on("error", () => {
    if (state.child === child) state.child = undefined
  })
  child.unref()
  // `unref` exists on the pipe's underlying socket (typed as a plain Writable); it keeps the loop free.
  const stdin: unknown = child.stdin
  if (Predicate.hasProperty(stdin, "unref") && typeof stdin.unref === "function") stdin.unref()
  state.child = child
  // A new watchdog (the previous one was killed) must learn every live group.
  for (const pgid of state.live) child.stdin?.write(`+${pgid}\n`)
  return child
}

/** @internal */
export const watch = (pgid: number): void => {
  const existing = current()
  state.live.add(pgid)
  // A watchdog started just now replays `state.live`, this group included.
  if (existing !== undefined) existing.stdin?.write(`+${pgid}\n`)
  else ensure()
}

/** @internal */
export const unwatch = (pgid: number): void => {
  if (!state.live.delete(pgid)) return
  current()?.stdin?.write(`-${pgid}\n`)
}

/**
 * The watchdog's pid, if one is running (tests use it).
 *
 * @internal
 */
export const pid = (): number | undefined => state.child?.pid

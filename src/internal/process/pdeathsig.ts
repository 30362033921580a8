/**
 * Parent-death signal: on Linux, children are started as
 * `setpriv --pdeathsig KILL -- PROGRAM ARGS…` (util-linux), so the kernel
 * SIGKILLs them the moment the runner dies, even by SIGKILL, when no
 * finalizer can run. setpriv sets the flag with prctl(PR_SET_PDEATHSIG) and
 * then execs the program in place: the pid, the process group and the
 * stdio are the program's own.
 *
 * The kernel sends the signal when the *thread* that forked the child exits,
 * not the process. Node spawns from the thread that calls
 * `child_process.spawn` (libuv forks synchronously in uv_spawn), which is the
 * main thread, or a worker thread inside a worker (then the children die with
 * that worker, which is also what one wants). test/process-pdeathsig.test.ts
 * checks this for real by SIGKILLing a runner.
 *
 * Whether setpriv exists and knows `--pdeathsig` (util-linux ≥ 2.33) is
 * probed once per process by running `setpriv --pdeathsig KILL -- true`;
 * where it is absent children are started directly and the watchdog
 * (./watchdog.ts) is the only protection.
 *
 * @internal
 */
import { execFile } from "node:child_process"
import { globalValue } from "effect/GlobalValue"

const probe = globalValue(
  Symbol.for("effect-taskgraph/Process/pdeathsig"),
  () => ({ promise: undefined as Promise<string | undefined> | undefined })
)

const candidates = ["/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv", "/sbin/setpriv"]

const tryOne = (path: string): Promise<boolean> =>
  new Promise((resolve) => {
    try {
      execFile(path, ["--pdeathsig", "KILL", "--", "true"], { timeout: 5_000 }, (error) => resolve(error === null))
    } catch {
      resolve(false)
    }
  })

const run = async (): Promise<string | undefined> => {
  if (process.platform !== "linux") return undefined
  for (const path of candidates) {
    if (await tryOne(path)) return path
  }
  return undefined
}

/**
 * The path of a setpriv that supports `--pdeathsig`, or undefined.
 *
 * @internal
 */
export const setprivPath = (): Promise<string | undefined> => (probe.promise ??= run())

/**
 * The argv to spawn `file args…` so that it dies with this thread.
 *
 * @internal
 */
export const wrap = (
  setpriv: string | undefined,
  file: string,
  args: ReadonlyArray<string>
): { readonly file: string; readonly args: ReadonlyArray<string> } =>
  setpriv === undefined ? { file, args } : { file: setpriv, args: ["--pdeathsig", "KILL", "--", file, ...args] }

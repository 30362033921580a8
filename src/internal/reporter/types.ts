/**
 * The shapes a reporter session receives besides events. Re-exported by
 * `Reporter`.
 *
 * @internal
 */
import type { RunReport } from "../../RunReport.js"

/** Where a reporter wrote something a person may want to open. */
export interface Artifact {
  /** e.g. "logs", "junit" */
  readonly label: string
  readonly path: string
}

/** A task still busy after a stop request. */
export interface StoppingTask {
  readonly name: string
  /** `interrupting`: its run is being interrupted; `releasing`: its resources are being released */
  readonly phase: "interrupting" | "releasing"
}

/** A program still owned by the runner after a stop request. */
export interface StoppingProcess {
  readonly pid: number
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly state: "running" | "stopping"
}

/**
 * The run was asked to stop (Ctrl+C, SIGTERM, an interruption) and is
 * cleaning up. Sent once when the request arrives, then again while
 * something is still stopping.
 */
export interface Stopping {
  readonly _tag: "Stopping"
  /** what asked: "SIGINT", "SIGTERM", "SIGHUP", or "interrupted" */
  readonly reason: string
  /** the first notice of this stop request */
  readonly first: boolean
  /** when the stop request arrived (the run's clock) */
  readonly since: number
  readonly now: number
  readonly tasks: ReadonlyArray<StoppingTask>
  readonly processes: ReadonlyArray<StoppingProcess>
  /** how to force, e.g. "press Ctrl+C again to force" */
  readonly hint: string | undefined
}

/** A log line that did not come from inside a task (e.g. a finalizer, the main program). */
export interface Log {
  readonly _tag: "Log"
  readonly level: string
  readonly message: string
  /** the `task` log annotation, if the fiber had one */
  readonly task: string | undefined
}

/** Something a reporter may show besides the events. */
export type Notice = Stopping | Log

/** The end of a run. */
export interface End {
  readonly report: RunReport
  /** every artifact of every reporter of the run, for the summary */
  readonly artifacts: ReadonlyArray<Artifact>
  /** what stopped the run early, if something did ("SIGINT"…) */
  readonly stoppedBy: string | undefined
}

/** A forced exit (second Ctrl+C): last words, written synchronously. */
export interface Forced {
  readonly reason: string
  /** how many process groups were killed */
  readonly killed: number
}

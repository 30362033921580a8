/**
 * The messages exchanged between a pool (main thread) and `WorkerThread.serve`
 * (inside a worker thread). Plain objects: they cross `postMessage` by
 * structured clone. Payloads are already Schema-encoded.
 *
 * @internal
 */

import type { LogLevel } from "../../TaskEvent.js"

/** Main → worker. */
export type ToWorker =
  | { readonly _tag: "Run"; readonly id: number; readonly request: unknown }
  | { readonly _tag: "Cancel"; readonly id: number }
  | { readonly _tag: "Close" }

/** An error as it crosses the thread boundary. */
export interface EncodedError {
  readonly name: string
  readonly message: string
  readonly stack: string | undefined
}

/** Worker → main: the reply to one `Run`. */
export type Reply =
  | { readonly _tag: "Success"; readonly id: number; readonly value: unknown }
  | { readonly _tag: "Failure"; readonly id: number; readonly error: unknown; readonly stack: string | undefined }
  | { readonly _tag: "Defect"; readonly id: number; readonly error: EncodedError }
  | { readonly _tag: "Interrupted"; readonly id: number }

/** Worker → main: a line the handler of request `id` logged; the caller logs it (in its task, if any). */
export interface LogLine {
  readonly _tag: "Log"
  readonly id: number
  readonly level: LogLevel | undefined
  readonly line: string
}

/** Worker → main. */
export type FromWorker =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "StartFailed"; readonly error: EncodedError }
  | LogLine
  | Reply

/** The key under which the entry is passed to `boot.mjs` in `workerData`. */
export const entryKey = "effect-taskgraph/worker-entry"

/** Set to `true` in the `workerData` of every thread a pool starts. */
export const poolThreadKey = "effect-taskgraph/pool-thread"

/** Encodes anything thrown or died with into something `postMessage` can carry. */
export const encodeError = (u: unknown): EncodedError => {
  if (u instanceof Error) {
    return { name: u.name, message: u.message, stack: u.stack }
  }
  if (typeof u === "object" && u !== null && "message" in u && typeof u.message === "string") {
    const name = "name" in u && typeof u.name === "string" ? u.name : "Error"
    const stack = "stack" in u && typeof u.stack === "string" ? u.stack : undefined
    return { name, message: u.message, stack }
  }
  let message: string
  try {
    message = typeof u === "string" ? u : JSON.stringify(u) ?? String(u)
  } catch {
    message = String(u)
  }
  return { name: "Error", message, stack: undefined }
}

/** Is this a message of our protocol? */
export const isFromWorker = (u: unknown): u is FromWorker =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string"

/** Is this a message of our protocol? */
export const isToWorker = (u: unknown): u is ToWorker =>
  typeof u === "object" && u !== null && "_tag" in u &&
  (u._tag === "Run" || u._tag === "Cancel" || u._tag === "Close")

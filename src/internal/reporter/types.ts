/**
 * The shapes a reporter session receives besides events: defined in the
 * public `Reporter` module, re-exported here for the reporter internals.
 *
 * @internal
 */
export type {
  Artifact,
  End,
  Forced,
  Log,
  Notice,
  Stopping,
  StoppingProcess,
  StoppingTask
} from "../../Reporter.js"

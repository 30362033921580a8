/**
 * A public error prints as its tag: `error.name`, `String(error)` and `Cause.pretty` start with
 * the class (`DuplicateTaskError: two tasks are named "build"…`), as Effect's own errors do. A
 * field called `name` would shadow Error's `name`, and every log line would begin with the task's
 * or the VM's name instead (`build: two tasks…`): these errors keep it in `task` or `vm`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause } from "effect"
import { GraphError } from "../src/index.js"
import { Qemu } from "../src/qemu/index.js"

const errors: ReadonlyArray<{ readonly _tag: string; readonly name: string; readonly message: string }> = [
  new GraphError.DuplicateTaskError({ task: "build" }),
  new GraphError.DuplicateTaskError({ task: "build", graph: "inner", tasks: ["task \"build\" of inner", "an earlier task"] }),
  new Qemu.QemuStartError({ vm: "guest", reason: "Timeout", detail: "no SSH banner in 60 s", stderr: [], serial: [] }),
  new Qemu.QemuExitedError({ vm: "guest", status: { _tag: "Exited", code: 1 }, stderr: ["oops"], serial: [] }),
  new Qemu.SshNotReadyError({ vm: "guest", detail: "timed out", serial: [] }),
  new Qemu.PortForwardMissingError({ vm: "guest", forward: "web", forwards: ["ssh"] })
]

describe("public errors print as their tag, with the task or VM in the message", () => {
  for (const error of errors) {
    it(`${error._tag}: ${error.message.split("\n")[0]}`, () => {
      expect(error.name).toBe(error._tag)
      expect(String(error).startsWith(`${error._tag}: `)).toBe(true)
      expect(Cause.pretty(Cause.fail(error)).startsWith(`${error._tag}: ${error.message.split("\n")[0]}`)).toBe(true)
      // the task or VM is still named, in the message
      expect(error.message).toMatch(/"build"|VM guest/)
    })
  }
})

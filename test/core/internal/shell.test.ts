import { describe, expect, it } from "vitest"
import { displayCommand } from "../../../src/internal/process/errors.js"
import * as shell from "../../../src/internal/shell.js"
import { Ssh } from "../../../src/qemu/index.js"

describe("shell quoting (one helper)", () => {
  it("leaves safe words, single-quotes the rest, quotes the empty string", () => {
    expect(shell.quote("/tmp/a.txt")).toBe("/tmp/a.txt")
    expect(shell.quote("a b")).toBe("'a b'")
    expect(shell.quote("it's")).toBe("'it'\\''s'")
    expect(shell.quote("")).toBe("''")
    expect(shell.commandLine(["printf", "%s\\n", "$HOME"])).toBe("printf '%s\\n' '$HOME'")
  })

  it("Ssh and process messages use it", () => {
    expect(Ssh.quote).toBe(shell.quote)
    expect(Ssh.commandLine).toBe(shell.commandLine)
    expect(displayCommand("sh", ["-c", "\n  echo hi\n  exit 1\n"])).toBe("sh -c 'echo hi'…")
    expect(displayCommand("x", ["a".repeat(300)]).length).toBe(200)
  })
})

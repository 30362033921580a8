/**
 * POSIX shell quoting, in one place: `Ssh.quote`/`Ssh.commandLine` (lines a
 * guest's shell runs) and the command shown in process error messages use it.
 *
 * @internal
 */

const safeArg = /^[A-Za-z0-9_@%+=:,./-]+$/

/** One argument for a POSIX shell: safe words as they are, else single-quoted (`'` becomes `'\''`). @internal */
export const quote = (arg: string): string => (safeArg.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)

/** An argv as one shell command line, each argument quoted. @internal */
export const commandLine = (argv: ReadonlyArray<string>): string => argv.map(quote).join(" ")

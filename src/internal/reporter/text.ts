/**
 * Text helpers shared by the reporters: terminal escapes, colours that
 * honour `NO_COLOR`, visible width (ANSI-free, wide characters count 2),
 * truncation, durations.
 *
 * @internal
 */
import { Option } from "effect"

/** Escape sequences matched by `stripAnsi`: CSI, OSC, and single-character escapes. */
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g

/** Effect's labels of the levels a line shows (`LogLevel.label`); an `Info` line shows none. */
const levelLabels: Readonly<Record<string, string>> = {
  Fatal: "FATAL",
  Error: "ERROR",
  Warning: "WARN",
  Debug: "DEBUG",
  Trace: "TRACE"
}

/**
 * The text a reporter shows of an output line: an `Effect.log` line at a level other than `Info`
 * has the level in front (`WARN disk almost full`), as Effect's own loggers print it.
 */
export const outputText = (output: { readonly line: string; readonly level?: string | undefined }): string => {
  const label = output.level === undefined ? undefined : levelLabels[output.level]
  return label === undefined ? output.line : output.line === "" ? label : `${label} ${output.line}`
}

/**
 * Why a failure kept a task from running (or interrupted it): `blocked by X` when it needed X,
 * `stopped when X failed` when X's failure stopped the whole run (fail-fast) and it did not need X.
 */
export const stopNote = (why: { readonly blockedBy?: string | undefined; readonly stoppedBy?: string | undefined }): string | undefined =>
  why.blockedBy !== undefined
    ? `blocked by ${why.blockedBy}`
    : why.stoppedBy !== undefined
    ? `stopped when ${why.stoppedBy} failed`
    : undefined

/** `stopNote` of a task's report. */
export const reportStopNote = (t: {
  readonly blockedBy: Option.Option<string>
  readonly stoppedBy: Option.Option<string>
}): string | undefined => stopNote({ blockedBy: Option.getOrUndefined(t.blockedBy), stoppedBy: Option.getOrUndefined(t.stoppedBy) })

/** Removes terminal escape sequences. */
export const stripAnsi = (text: string): string => text.replace(ANSI, "")

/**
 * What a terminal line shows of a program's line: escapes removed, the text
 * after the last carriage return (progress bars redraw with `\r`), tabs
 * expanded, other control characters dropped.
 */
export const displayLine = (line: string): string => {
  let text = stripAnsi(line).replace(/\r+$/, "")
  const cr = text.lastIndexOf("\r")
  if (cr >= 0) text = text.slice(cr + 1)
  // eslint-disable-next-line no-control-regex
  return text.replace(/\t/g, "  ").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "")
}

const isWide = (cp: number): boolean =>
  (cp >= 0x1100 && cp <= 0x115f) ||
  (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
  (cp >= 0xac00 && cp <= 0xd7a3) ||
  (cp >= 0xf900 && cp <= 0xfaff) ||
  (cp >= 0xfe30 && cp <= 0xfe4f) ||
  (cp >= 0xff00 && cp <= 0xff60) ||
  (cp >= 0xffe0 && cp <= 0xffe6) ||
  (cp >= 0x1f300 && cp <= 0x1f64f) ||
  (cp >= 0x1f900 && cp <= 0x1f9ff) ||
  (cp >= 0x20000 && cp <= 0x3fffd)

const isZeroWidth = (cp: number): boolean =>
  (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f) || cp === 0x200d

const charWidth = (cp: number): number => (isZeroWidth(cp) ? 0 : isWide(cp) ? 2 : 1)

/** Columns the text takes on a terminal (escapes take none). */
export const width = (text: string): number => {
  let w = 0
  for (const ch of stripAnsi(text)) w += charWidth(ch.codePointAt(0)!)
  return w
}

/**
 * Cuts plain text (no escapes) to at most `max` columns, ending with `…`
 * when something was cut.
 */
export const truncate = (text: string, max: number): string => {
  if (max <= 0) return ""
  if (width(text) <= max) return text
  let out = ""
  let w = 0
  for (const ch of text) {
    const cw = charWidth(ch.codePointAt(0)!)
    if (w + cw > max - 1) break
    out += ch
    w += cw
  }
  return out + "…"
}

/**
 * Splits plain text (no escapes) into pieces of at most `max` columns,
 * breaking after a space when one is near the end of a piece.
 */
export const wrap = (text: string, max: number): Array<string> => {
  if (max <= 0 || width(text) <= max) return [text]
  const pieces: Array<string> = []
  let current = ""
  let w = 0
  for (const ch of text) {
    const cw = charWidth(ch.codePointAt(0)!)
    if (w + cw > max) {
      const space = current.lastIndexOf(" ")
      if (space > max / 2) {
        pieces.push(current.slice(0, space + 1))
        current = current.slice(space + 1)
      } else {
        pieces.push(current)
        current = ""
      }
      w = width(current)
    }
    current += ch
    w += cw
  }
  if (current !== "") pieces.push(current)
  return pieces
}

/** Pads plain text with spaces to `columns` (cutting it first if longer). */
export const padEnd = (text: string, columns: number): string => {
  const cut = truncate(text, columns)
  return cut + " ".repeat(Math.max(0, columns - width(cut)))
}

/** Right-aligns plain text in `columns`. */
export const padStart = (text: string, columns: number): string =>
  " ".repeat(Math.max(0, columns - width(text))) + text

/** A count with its noun in the right number: `1 task`, `3 tasks`, `2 processes`. */
export const count = (n: number, singular: string, plural = `${singular}s`): string => `${n} ${n === 1 ? singular : plural}`

/**
 * A duration as people read it at a glance: `87ms`, `12.4s`, `1m05s`, `1h02m`.
 */
export const duration = (ms: number): string => {
  if (!Number.isFinite(ms) || ms < 0) return ""
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`
  const totalSeconds = Math.floor(ms / 1000)
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, "0")}s`
  }
  const minutes = Math.floor(totalSeconds / 60)
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`
}

/** Colours, or identity functions when colour is off. */
export interface Palette {
  readonly bold: (s: string) => string
  readonly dim: (s: string) => string
  readonly red: (s: string) => string
  readonly green: (s: string) => string
  readonly yellow: (s: string) => string
  readonly blue: (s: string) => string
  readonly cyan: (s: string) => string
}

const sgr = (open: number, close: number) => (s: string) => s === "" ? s : `\x1b[${open}m${s}\x1b[${close}m`
const id = (s: string) => s

/** A palette; with `enabled: false` every colour is the identity. */
export const palette = (enabled: boolean): Palette =>
  enabled
    ? {
      bold: sgr(1, 22),
      dim: sgr(2, 22),
      red: sgr(31, 39),
      green: sgr(32, 39),
      yellow: sgr(33, 39),
      blue: sgr(34, 39),
      cyan: sgr(36, 39)
    }
    : { bold: id, dim: id, red: id, green: id, yellow: id, blue: id, cyan: id }

/** `NO_COLOR` (any non-empty value) turns colour off, https://no-color.org. */
export const colorFromEnv = (env: NodeJS.ProcessEnv = process.env): boolean =>
  (env.NO_COLOR === undefined || env.NO_COLOR === "") && env.TERM !== "dumb"

/** Whether the terminal's locale can show Unicode symbols (braille spinner, ✓, ✗). */
export const unicodeFromEnv = (env: NodeJS.ProcessEnv = process.env): boolean => {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || ""
  if (/UTF-?8/i.test(locale)) return true
  // terminals that are known to be UTF-8 whatever the locale says
  return env.TERM_PROGRAM === "vscode" || env.WT_SESSION !== undefined || env.TERM === "xterm-kitty"
}

/**
 * The message of a rendered cause, for people: stack frames and the blank
 * lines around it removed, at most `max` lines.
 */
export const errorLines = (error: string, max = 12): Array<string> => {
  const lines = error.split("\n").map((l) => l.replace(/\s+$/, "")).filter((l) => !/^\s+at\s/.test(l) && !/^\s*\{$/.test(l))
  while (lines.length > 0 && lines[0] === "") lines.shift()
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop()
  if (lines.length <= max) return lines
  return [...lines.slice(0, max), `… (${count(lines.length - max, "more line")})`]
}

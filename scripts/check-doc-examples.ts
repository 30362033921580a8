/**
 * Type-checks every `@example` of the public modules against the sources, as
 * user code: each example becomes a module of its own in .cache/doc-examples/,
 * where `effect-taskgraph`, `effect-taskgraph/node`, … resolve to src/. Then
 * `tsc --noEmit` (strict) on all of them; errors point back to the source file.
 *
 *   npx tsx scripts/check-doc-examples.ts     (part of `npm run docs`)
 *
 * Why not only @effect/docgen (0.5.2, `npm run docs` runs it next): it
 * type-checks the examples (they pass) but then also runs all of them through
 * tsx, and its bin ignores `--no-run-examples`; ours are type-level sketches
 * (`declare const`, `Main.runMain` exits, VMs), so that run step fails. This
 * check is the part that matters, and it uses NodeNext resolution as users do.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const out = path.join(root, ".cache", "doc-examples")

const publicModules = (dir: string): Array<string> =>
  fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "internal" ? [] : publicModules(relative)
    return entry.name.endsWith(".ts") && relative !== path.join("src", "bin.ts") ? [relative] : []
  })

interface Example {
  readonly source: string
  readonly line: number
  readonly file: string
}

const examples: Array<Example> = []
for (const source of publicModules("src")) {
  const lines = fs.readFileSync(path.join(root, source), "utf8").split("\n")
  let inExample = false
  let start = 0
  let body: Array<string> = []
  lines.forEach((line, i) => {
    const text = line.replace(/^\s*\* ?/, "")
    if (!inExample && /^\s*\*\s*```ts\s*$/.test(line) && lines.slice(Math.max(0, i - 3), i).some((l) => l.includes("@example"))) {
      inExample = true
      start = i + 2
      body = []
    } else if (inExample && /^\s*\*\s*```\s*$/.test(line)) {
      inExample = false
      const file = `${source.replace(/[/\\.]/g, "-")}-${start}.ts`
      examples.push({ source, line: start, file })
      fs.mkdirSync(out, { recursive: true })
      fs.writeFileSync(path.join(out, file), `${body.join("\n")}\n\nexport {}\n`)
    } else if (inExample) {
      body.push(text)
    }
  })
}

fs.rmSync(path.join(out, "tsconfig.json"), { force: true })
const src = (file: string) => [path.relative(out, path.join(root, "src", file))]
fs.writeFileSync(
  path.join(out, "tsconfig.json"),
  JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2022"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        types: ["node"],
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: true,
        noEmit: true,
        paths: {
          "effect-taskgraph": src("index.ts"),
          "effect-taskgraph/node": src("node.ts"),
          "effect-taskgraph/workers": src("workers.ts"),
          "effect-taskgraph/qemu": src("qemu/index.ts"),
          "effect-taskgraph/cli": src("cli/index.ts"),
          "effect-taskgraph/durable": src("durable/index.ts")
        }
      },
      files: examples.map((e) => e.file)
    },
    null,
    2
  )
)
// the package.json next to them makes them ES modules (top-level await, import.meta)
fs.writeFileSync(path.join(out, "package.json"), `{ "type": "module", "private": true }\n`)

try {
  execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(out, "tsconfig.json")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"]
  })
  console.log(`${examples.length} @example blocks type-check`)
} catch (error) {
  const output = String((error as { readonly stdout?: unknown }).stdout ?? error)
  const byFile = new Map(examples.map((e) => [e.file, e]))
  // point each error at the example in its source module
  console.error(
    output.replace(/^(\S+?\.ts)\((\d+),(\d+)\)/gm, (whole, file: string, line: string) => {
      const example = byFile.get(path.basename(file))
      return example === undefined ? whole : `${example.source}:${example.line + Number(line) - 1} (${whole})`
    })
  )
  process.exitCode = 1
}

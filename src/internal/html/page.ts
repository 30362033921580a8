/**
 * The page template: one self-contained HTML document (CSS, SVG, data and
 * script inlined; no request of any kind when it opens).
 *
 * @internal
 */
import * as Text from "../reporter/text.js"
import { script } from "./client.js"
import type { PageData } from "./data.js"
import { toScriptJson } from "./data.js"
import { countStatuses, escapeXml as escape, statusClass, statuses } from "./svg.js"

const css = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--panel:#fff;--accent:#0969da;--bgpage:#f3f5f8;
--mono:ui-monospace,SFMono-Regular,"DejaVu Sans Mono",Menlo,Consolas,monospace;
--sans:system-ui,-apple-system,"Segoe UI","DejaVu Sans","Liberation Sans",Helvetica,Arial,sans-serif}
*{box-sizing:border-box}
html,body{margin:0;background:var(--bgpage);color:var(--fg);font:14px/1.45 var(--sans)}
.st-released{--c:#1a7f37;--bg:#dafbe1}.st-ready{--c:#0969da;--bg:#ddf4ff}.st-running{--c:#9a6700;--bg:#fff8c5}
.st-failed{--c:#cf222e;--bg:#ffebe9}.st-timed-out{--c:#cf222e;--bg:#ffebe9}.st-interrupted{--c:#bc4c00;--bg:#fff1e5}
.st-skipped{--c:#818b98;--bg:#f0f2f4}.st-pending{--c:#a0a8b2;--bg:#ffffff}.st-planned{--c:#6639ba;--bg:#f5f0ff}
.out-succeeded{--c:#1a7f37;--bg:#dafbe1}.out-failed{--c:#cf222e;--bg:#ffebe9}.out-interrupted{--c:#bc4c00;--bg:#fff1e5}
.out-running{--c:#9a6700;--bg:#fff8c5}.out-planned{--c:#6639ba;--bg:#f5f0ff}
header.top{background:#fff;border-bottom:1px solid var(--line);padding:18px 28px 14px}
.title{display:flex;align-items:center;gap:14px;flex-wrap:wrap}
.title h1{font-size:22px;margin:0;font-weight:650;letter-spacing:-.01em}
.kind{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.06em}
.outcome{display:inline-block;padding:3px 12px;border-radius:999px;font-weight:650;background:var(--bg);color:var(--c);border:1px solid var(--c)}
.stats{display:flex;gap:28px;margin-top:12px;flex-wrap:wrap}
.stat .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.stat .v{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums}
.chips{display:flex;gap:8px;flex-wrap:wrap;margin-top:12px}
.chip{display:inline-flex;align-items:center;gap:6px;padding:2px 10px;border-radius:999px;background:var(--bg);color:var(--c);font-size:13px;font-weight:600}
.chip .dot,.dot{width:9px;height:9px;border-radius:50%;background:var(--c);display:inline-block;flex:none}
.failures{margin-top:14px;border:1px solid #ffcecb;background:#fff5f5;border-radius:8px;padding:10px 14px}
.failures h2{margin:0 0 4px;font-size:14px;color:#cf222e}
.failures ul{margin:0;padding-left:18px}.failures li{margin:2px 0}
.failures a{color:#82071e;font-weight:600}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 460px;gap:20px;padding:20px 28px;align-items:start}
@media (max-width:1100px){.layout{grid-template-columns:1fr}}
section.card,aside.details{background:var(--panel);border:1px solid var(--line);border-radius:10px;box-shadow:0 1px 2px rgba(31,35,40,.04)}
section.card{margin-bottom:20px;overflow:hidden}
.card>h2{margin:0;padding:12px 16px;font-size:15px;border-bottom:1px solid var(--line);display:flex;gap:16px;align-items:center;flex-wrap:wrap}
.card>h2 .note{font-weight:400;color:var(--muted);font-size:13px}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-weight:400;font-size:12px;color:var(--muted);margin-left:auto}
.legend span{display:inline-flex;align-items:center;gap:5px}
.legend .ln-data{width:22px;border-top:2px solid #57606a}.legend .ln-prec{width:22px;border-top:2px dashed #8c959f}
.legend .ln-crit{width:22px;border-top:4px solid #6e40c9}
.scroll{overflow:auto;max-height:72vh;padding:12px;background:
linear-gradient(90deg,rgba(0,0,0,.025) 1px,transparent 1px) 0 0/24px 24px,linear-gradient(rgba(0,0,0,.025) 1px,transparent 1px) 0 0/24px 24px}
svg{display:block;font-family:var(--sans);margin:0 auto}
.fit svg{max-width:100%;height:auto}
button.zoom{margin-left:8px;font-size:12px;font-weight:500;border:1px solid var(--line);background:#fff;border-radius:6px;padding:2px 10px;color:var(--fg)}
svg.graph .edge{fill:none;stroke:#8c959f;stroke-width:1.6}
svg.graph .edge.data{stroke:#57606a}
svg.graph .edge.precedence{stroke-dasharray:6 4}
svg.graph .edge.crit{stroke:#6e40c9;stroke-width:3.5}
svg .arrowhead{fill:#57606a}svg .arrowhead.crit{fill:#6e40c9}
svg.graph .elabel rect{fill:#fff;stroke:#d1d9e0}
svg.graph .elabel text{font:11px var(--mono);fill:#424a53;text-anchor:middle}
svg.graph .gbox{fill:rgba(9,105,218,.035);stroke:#8fb8e8;stroke-width:1.3}
svg.graph .group .gbox{stroke-dasharray:none}svg.graph .group .glabel{font-size:13px;font-weight:650;fill:#0a3069}
svg.graph .group .gsub{font-size:11.5px;fill:#59636e;text-anchor:end}
svg.graph .group.has-failure .gbox{stroke:#cf222e;fill:rgba(207,34,46,.03)}svg.graph .group.has-failure .glabel{fill:#82071e}
svg.graph .edge.runs{stroke:#0969da;stroke-dasharray:2 4;stroke-width:2;stroke-linecap:round}
svg.graph .edge.ctx{stroke:#8250df;stroke-dasharray:6 4}
svg.graph .ctx .pill{fill:#fbefff;stroke:#8250df;stroke-width:1.4}
svg.graph .ctx .cname{font:12px var(--mono);font-weight:600;fill:#512a97;text-anchor:middle}
svg.graph .ctx .csub{font-size:10px;fill:#6e7781;text-anchor:middle}
svg.condensed .ctx-line{fill:#512a97}
.legend .ln-runs{width:22px;border-top:2px dotted #0969da}.legend .ln-ctx{width:22px;border-top:2px dashed #8250df}
.legend .sw-group{width:16px;height:11px;border:1.3px solid #8fb8e8;border-radius:3px;background:rgba(9,105,218,.05)}
svg.graph .node{cursor:pointer}
svg.graph .node .box{fill:var(--bg);stroke:var(--c);stroke-width:1.5}
svg.graph .node.st-skipped .box{stroke-dasharray:5 3}
svg.graph .node.crit .box{stroke:#6e40c9;stroke-width:3}
svg.graph .node .stripe{fill:var(--c)}
svg.graph .node .name{font-size:13px;font-weight:600;fill:#1f2328}
svg.graph .node .sub{font-size:11.5px;fill:#59636e}
svg.graph .node:hover .box,svg.graph .node:focus .box{filter:drop-shadow(0 2px 4px rgba(0,0,0,.18))}
svg.graph .node:focus{outline:none}
svg.graph .node.selected .box{stroke:#0969da;stroke-width:3.5}
svg .axis line{stroke:#eaeef2}svg .axis text{font-size:11px;fill:#59636e;text-anchor:middle}
svg.timeline .trow{cursor:pointer}
svg.timeline .hit{fill:transparent}svg.timeline .trow:hover .hit,svg.timeline .trow.selected .hit{fill:#f1f6ff}
svg.timeline .tlabel{font-size:12px;fill:#1f2328;text-anchor:end}svg.timeline .tlabel.nested{fill:#0a3069;font-size:11.5px}
svg.timeline .run{fill:var(--c)}svg.timeline .run.crit{stroke:#6e40c9;stroke-width:2}
svg.timeline .held{fill:var(--bg);stroke:var(--c);stroke-width:1;stroke-dasharray:3 2}
svg.timeline .conc{fill:#0969da;opacity:.75}
svg.condensed .seg{fill:var(--c)}svg.condensed .band-label,svg.condensed .band-count{font-size:12px;fill:#424a53}
svg.condensed .axis-title{font-size:13px;fill:#59636e}
.tl-legend .run-sw{width:18px;height:10px;background:#57606a;border-radius:2px}
.tl-legend .held-sw{width:18px;height:8px;border:1px dashed #57606a;background:#eaeef2;border-radius:2px}
.table-tools{padding:10px 16px;border-bottom:1px solid var(--line);display:flex;gap:10px;align-items:center}
input.search,input#task-filter{font:inherit;padding:5px 10px;border:1px solid var(--line);border-radius:6px;min-width:220px;background:#fff}input#task-filter{min-width:280px}
input:focus{outline:2px solid #0969da33;border-color:#0969da}
.table-wrap{max-height:520px;overflow:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 12px;border-bottom:1px solid #eef1f4;vertical-align:top}
tr.task-row td{height:33px;white-space:nowrap}.table-tools .count{color:var(--muted);font-size:12px}
th{position:sticky;top:0;background:var(--soft);font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;z-index:1}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap;color:#424a53}
td.name{font-weight:600}td.name .dot{margin-right:8px}
td.note{color:#59636e;max-width:380px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
tr.task-row{cursor:pointer}tr.task-row:hover{background:#f6f8fa}tr.task-row.selected{background:#ddf4ff}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;background:var(--bg);color:var(--c);border:1px solid var(--c);white-space:nowrap}
aside.details{position:sticky;top:16px;max-height:calc(100vh - 32px);overflow:auto;padding:16px}
aside.details .hint{color:var(--muted);margin:6px 0}
.d-head{display:flex;align-items:center;gap:10px}
.d-head h2{font-size:17px;margin:0;word-break:break-word;flex:1}
button{font:inherit;cursor:pointer}
button.close{border:0;background:transparent;font-size:22px;line-height:1;color:var(--muted);padding:0 4px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:14px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;font-variant-numeric:tabular-nums}
a.task-link{color:var(--accent);text-decoration:none}a.task-link:hover{text-decoration:underline}
.error{background:#ffebe9;border:1px solid #ffcecb;color:#82071e;border-radius:8px;padding:10px 12px;margin:10px 0;word-break:break-word}
details.cause{margin:10px 0}details.cause summary{cursor:pointer;color:var(--muted);font-weight:600}
pre{font:12px/1.5 var(--mono);background:#f6f8fa;border:1px solid var(--line);border-radius:8px;padding:10px;overflow:auto;max-height:280px;white-space:pre-wrap;word-break:break-word}
.out-bar{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin-top:8px}
.out-bar h3{margin:0;font-size:14px}.out-bar .count{color:var(--muted);font-size:12px}
.out-bar input.search{min-width:0;flex:1}
.lines{margin-top:8px;background:#0d1117;color:#e6edf3;border-radius:8px;padding:8px 0;max-height:56vh;overflow:auto;font:12px/1.55 var(--mono)}
.lines .hint{color:#9198a1;padding:0 12px}
.ln{display:grid;grid-template-columns:74px 48px 1fr;padding:0 12px;white-space:pre-wrap;word-break:break-word}
.ln:hover{background:#161b22}
.ln .t{color:#6e7681}.ln .s{color:#6e7681}.ln.s-err .txt{color:#ffa198}.ln.s-log .txt{color:#a5d6ff}.ln.s-warn .txt,.ln.s-warn .s{color:#e3b341}.ln.s-error .txt,.ln.s-error .s{color:#ff7b72;font-weight:600}.ln.s-debug .txt{color:#8b949e}
.ln mark{background:#bb8009;color:#fff;border-radius:2px}
.lines .omitted{color:#d29922;padding:4px 12px;font-style:italic}
button.more{display:block;margin:0 12px 6px;background:#21262d;color:#c9d1d9;border:1px solid #30363d;border-radius:6px;padding:3px 10px;font-size:12px}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
`

const header = (data: PageData): string => {
  const counts = countStatuses(data.tasks)
  const chips = statuses
    .filter((s) => (counts.get(s) ?? 0) > 0)
    .map((s) => `<span class="chip ${statusClass(s)}"><span class="dot"></span>${counts.get(s)} ${escape(s)}</span>`)
    .join("")
  const stats: Array<readonly [string, string]> = data.kind === "plan"
    ? [["tasks", String(data.tasks.length)], ["layers", String(data.layers)], ["edges", String(data.edges.length)]]
    : [
      ["total time", data.durationMs === null ? "—" : Text.duration(data.durationMs)],
      ["exit code", data.exitCode === null ? "—" : String(data.exitCode)],
      ["tasks", String(data.tasks.length)],
      ["critical path", data.criticalPath.length === 0 ? "—" : Text.count(data.criticalPath.length, "task")],
      ["started", `<span id="started-at">${data.startedAt === null ? "" : new Date(data.startedAt).toISOString()}</span>`]
    ]
  const failed = data.tasks.map((t, i) => ({ t, i })).filter(({ t }) => t.error !== null)
  const failures = failed.length === 0 ? "" : `<div class="failures"><h2>${Text.count(failed.length, "task")} failed</h2><ul>${
    failed.slice(0, 20).map(({ i, t }) =>
      `<li><a href="#task-${i}" data-i="${i}">${escape(t.name)}</a>: <span class="failure-message">${escape(t.error ?? "")}</span></li>`
    ).join("")
  }${failed.length > 20 ? `<li>… and ${failed.length - 20} more</li>` : ""}</ul></div>`
  const stopped = data.stoppedBy === null ? "" : ` <span class="kind">stopped by ${escape(data.stoppedBy)}</span>`
  return `<header class="top"><div class="title"><span class="kind">${data.kind === "plan" ? "planned graph" : "run"}</span>` +
    `<h1>${escape(data.graph)}</h1><span class="outcome out-${data.outcome}" id="outcome">${escape(data.outcome)}</span>${stopped}</div>` +
    `<div class="stats">${stats.map(([k, v]) => `<div class="stat"><div class="k">${k}</div><div class="v">${v}</div></div>`).join("")}</div>` +
    `<div class="chips">${chips}</div>${failures}</header>`
}

const graphLegend = (data: PageData): string => {
  if (data.condensed) {
    return `<span class="legend">${statuses.filter((s) => data.tasks.some((t) => t.status === s)).map((s) => `<span class="${statusClass(s)}"><span class="dot"></span>${s}</span>`).join("")}</span>`
  }
  return `<span class="legend"><span><span class="ln-data"></span>data (tag)</span><span><span class="ln-prec"></span>order only</span>` +
    (data.criticalPath.length > 0 ? `<span><span class="ln-crit"></span>critical path</span>` : "") +
    (data.groups.length > 0 ? `<span title="a graph run inside a task, joined to it by a dotted edge"><span class="sw-group"></span>graph in a task</span>` : "") +
    (data.context.length > 0 ? `<span title="a tag no task provides: the caller's context gives it"><span class="ln-ctx"></span>from context</span>` : "") + `</span>`
}

/** The whole document. */
export const page = (data: PageData, graphSvg: string, timelineSvg: string): string => {
  const title = `${data.graph} — ${data.kind === "plan" ? "planned graph" : data.outcome}`
  const graphNote = data.condensed
    ? `<span class="note">condensed: ${data.tasks.length} tasks are too many to draw one by one; every task is in the table</span>`
    : ""
  const timeline = timelineSvg === ""
    ? ""
    : `<section class="card" id="timeline"><h2>Timeline${
      data.condensed ? ` <span class="note">tasks running over time</span>` : ""
    }<span class="legend tl-legend"><span><span class="run-sw"></span>run</span><span><span class="held-sw"></span>resources held</span></span></h2><div class="scroll fit">${timelineSvg}</div></section>`
  const json = toScriptJson(data)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${escape(title)}</title><style>${css}</style></head>
<body class="kind-${data.kind}">
${header(data)}
<div class="layout"><main>
<section class="card" id="graph"><h2>Graph ${graphNote}${graphLegend(data)}<button class="zoom" type="button" id="zoom">actual size</button></h2><div class="scroll fit" id="graph-box">${graphSvg}</div></section>
${timeline}
<section class="card" id="tasks"><h2>Tasks</h2><div class="table-tools"><input id="task-filter" type="search" placeholder="filter tasks by name or status" aria-label="filter tasks"><span class="count" id="task-count"></span></div>
<div class="table-wrap" id="table-wrap"><table><thead><tr><th>task</th><th>status</th><th>attempts</th><th>started</th><th>duration</th><th>note</th></tr></thead><tbody id="task-rows"></tbody></table></div></section>
</main>
<aside class="details" id="details"><p class="hint">${data.kind === "plan" ? "Click a task in the graph or the table to see what it waits for." : "Click a task in the graph, the timeline or the table to see its output."}</p></aside></div>
<footer>effect-taskgraph · generated ${new Date(data.generatedAt).toISOString()}</footer>
<script type="application/json" id="taskgraph-data">${json}</script>
<script>${script}</script>
</body></html>
`
}

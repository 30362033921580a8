/**
 * The page's script, inlined in the report: it reads the data from the
 * `<script type="application/json" id="taskgraph-data">`, fills the task
 * table, and shows a task's details (times, error, `Cause`, output lines)
 * when its node, timeline row or table row is clicked. Every text from the
 * run goes into the page with `textContent`, never as markup.
 *
 * Kept as a string (the project's compiler settings have no DOM types);
 * durations are written by the same function as everywhere else
 * (`internal/reporter/text.ts`, inlined from its source);
 * the browser tests (test/html-browser.test.ts) run it for real.
 *
 * @internal
 */
import * as Text from "../reporter/text.js"

export const script = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("taskgraph-data").textContent);
  var tasks = data.tasks;
  var SHOWN = 200;
  var selected = -1;
  var showAll = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  var duration = ${Text.duration.toString()};
  function fmt(ms) { return ms === null || ms === undefined ? "" : duration(ms); }
  function at(ms) { return ms === null || ms === undefined ? "—" : "+" + fmt(ms); }
  function cls(status) { return "st-" + status.replace(/ /g, "-"); }
  function indexOf(name) {
    for (var i = 0; i < tasks.length; i++) if (tasks[i].name === name) return i;
    return -1;
  }

  // ---- the task table ------------------------------------------------------
  var tbody = document.getElementById("task-rows");
  var rows = [];
  var query = "";
  function matches(i) {
    var t = tasks[i];
    return !query || t.name.toLowerCase().indexOf(query) >= 0 || t.status.indexOf(query) >= 0;
  }
  function rowOf(i) {
    var t = tasks[i];
    var tr = el("tr", "task-row" + (i === selected ? " selected" : ""));
    tr.title = t.name;
    tr.setAttribute("data-i", String(i));
    var name = el("td", "name");
    name.appendChild(el("span", "dot " + cls(t.status)));
    name.appendChild(document.createTextNode(t.name));
    tr.appendChild(name);
    tr.appendChild(el("td", null)).appendChild(el("span", "badge " + cls(t.status), t.status));
    tr.appendChild(el("td", "num", t.attempts || ""));
    tr.appendChild(el("td", "num", t.start === null ? "" : at(t.start)));
    tr.appendChild(el("td", "num", fmt(t.duration)));
    var note = t.error || (t.blockedBy ? "blocked by " + t.blockedBy : t.stoppedBy ? "stopped when " + t.stoppedBy + " failed" : "");
    tr.appendChild(el("td", "note", note));
    return tr;
  }
  // Up to VIRTUAL tasks every row is in the page. Above, only the rows in view (and a margin)
  // are, between two spacer rows: a 5,000-task page is usable at once instead of after building
  // and laying out 30,000 table cells (measured: seconds).
  var VIRTUAL = 400, ROW = 33;
  var wrap = document.getElementById("table-wrap");
  var view = [];
  var pending = false;
  function spacer(height) {
    var tr = el("tr", "spacer");
    var td = el("td", null);
    td.colSpan = 6;
    td.style.height = height + "px";
    td.style.padding = "0";
    td.style.border = "0";
    tr.appendChild(td);
    return tr;
  }
  function renderRows() {
    pending = false;
    var first = 0, last = view.length;
    if (tasks.length > VIRTUAL) {
      var top = wrap.scrollTop, height = wrap.clientHeight || 520;
      first = Math.max(0, Math.floor(top / ROW) - 20);
      last = Math.min(view.length, Math.ceil((top + height) / ROW) + 20);
    }
    var frag = document.createDocumentFragment();
    rows = [];
    if (first > 0) frag.appendChild(spacer(first * ROW));
    for (var k = first; k < last; k++) {
      var tr = rowOf(view[k]);
      rows.push(tr);
      frag.appendChild(tr);
    }
    if (last < view.length) frag.appendChild(spacer((view.length - last) * ROW));
    tbody.textContent = "";
    tbody.appendChild(frag);
  }
  function refilter() {
    view = [];
    for (var i = 0; i < tasks.length; i++) if (matches(i)) view.push(i);
    var count = document.getElementById("task-count");
    if (count) count.textContent = view.length === tasks.length ? tasks.length + " tasks" : view.length + " of " + tasks.length + " tasks";
    renderRows();
  }
  if (wrap && tasks.length > VIRTUAL) wrap.addEventListener("scroll", function () {
    if (!pending) { pending = true; requestAnimationFrame(renderRows); }
  });
  function fillTable() { refilter(); }
  var filter = document.getElementById("task-filter");
  if (filter) filter.addEventListener("input", function () {
    query = filter.value.toLowerCase();
    if (wrap) wrap.scrollTop = 0;
    refilter();
  });

  // ---- details -------------------------------------------------------------
  var panel = document.getElementById("details");
  function field(dl, label, value) {
    if (value === null || value === undefined || value === "") return;
    dl.appendChild(el("dt", null, label));
    var dd = el("dd", null);
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    dl.appendChild(dd);
  }
  function link(name) {
    var i = indexOf(name);
    var a = el("a", "task-link", name);
    a.href = "#task-" + i;
    a.addEventListener("click", function (ev) { ev.preventDefault(); select(i, true); });
    return a;
  }
  function links(list) {
    var span = el("span", null);
    list.forEach(function (j, k) {
      if (k > 0) span.appendChild(document.createTextNode(", "));
      span.appendChild(link(tasks[j].name));
    });
    return span;
  }
  var streamNames = ["out", "err", "log", "warn", "error", "debug"];
  function streamName(s) { return streamNames[s] || "log"; }
  function marked(text, q) {
    var span = el("span", "txt");
    if (!q) { span.textContent = text; return span; }
    var lower = text.toLowerCase(), from = 0, k;
    while ((k = lower.indexOf(q, from)) >= 0) {
      span.appendChild(document.createTextNode(text.slice(from, k)));
      span.appendChild(el("mark", null, text.slice(k, k + q.length)));
      from = k + q.length;
    }
    span.appendChild(document.createTextNode(text.slice(from)));
    return span;
  }
  function renderLines(box, t, q, counter) {
    box.textContent = "";
    var lines = t.lines;
    var matching = [];
    for (var k = 0; k < lines.length; k++) {
      if (!q || lines[k][2].toLowerCase().indexOf(q) >= 0) matching.push(k);
    }
    var from = (!q && !showAll && matching.length > SHOWN) ? matching.length - SHOWN : 0;
    if (from > 0) {
      var more = el("button", "more", "show all " + lines.length + " lines (" + from + " earlier lines hidden)");
      more.type = "button";
      more.addEventListener("click", function () { showAll = true; renderLines(box, t, q, counter); });
      box.appendChild(more);
    }
    var frag = document.createDocumentFragment();
    for (var m = from; m < matching.length; m++) {
      var line = lines[matching[m]];
      if (t.omitted > 0 && matching[m] === t.headCount) {
        frag.appendChild(el("div", "omitted", "… " + t.omitted + " lines not kept in this report …"));
      }
      var row = el("div", "ln s-" + streamName(line[1]));
      row.appendChild(el("span", "t", at(line[0])));
      row.appendChild(el("span", "s", streamName(line[1])));
      row.appendChild(marked(line[2], q));
      frag.appendChild(row);
    }
    box.appendChild(frag);
    counter.textContent = q
      ? matching.length + " of " + lines.length + " lines match"
      : lines.length + " line" + (lines.length === 1 ? "" : "s") + (t.omitted > 0 ? " kept (" + t.omitted + " more not kept)" : "");
  }
  function showDetails(i) {
    var t = tasks[i];
    panel.textContent = "";
    panel.classList.add("open");
    var head = el("div", "d-head");
    head.appendChild(el("h2", "d-name", t.name));
    head.appendChild(el("span", "badge " + cls(t.status), t.status));
    var close = el("button", "close", "×");
    close.type = "button";
    close.title = "close";
    close.addEventListener("click", function () { select(-1, false); });
    head.appendChild(close);
    panel.appendChild(head);
    var dl = el("dl", "facts");
    if (data.kind === "run") {
      field(dl, "attempts", t.attempts);
      field(dl, "started", at(t.start));
      field(dl, t.status === "ready" || t.status === "released" ? "ready" : "ended", at(t.ready !== null ? t.ready : t.end));
      field(dl, "released", t.release !== null ? at(t.release) : null);
      field(dl, "duration", fmt(t.duration));
      if (t.ready !== null && t.release !== null && t.release > t.ready) field(dl, "resources held", fmt(t.release - t.ready));
    }
    if (t.blockedBy) field(dl, "blocked by", link(t.blockedBy));
    if (t.stoppedBy) field(dl, "stopped by", link(t.stoppedBy));
    if (t.waitsFor.length > 0) field(dl, "waits for", links(t.waitsFor));
    var users = [];
    for (var j = 0; j < tasks.length; j++) if (tasks[j].waitsFor.indexOf(i) >= 0) users.push(j);
    if (users.length > 0) field(dl, "needed by", links(users));
    if (t.fromContext.length > 0) field(dl, "from context", t.fromContext.join(", "));
    if (t.group !== null) {
      var g = data.groups[t.group];
      var inside = el("span", null, "graph " + g.graph + (g.task !== null ? ", run inside " : ""));
      if (g.task !== null) inside.appendChild(link(tasks[g.task].name));
      field(dl, "in", inside);
    }
    var ran = [];
    for (var q = 0; q < data.groups.length; q++) if (data.groups[q].task === i) ran.push(data.groups[q].graph);
    if (ran.length > 0) field(dl, "ran graphs", ran.join(", "));
    if (t.critical) field(dl, "critical path", "yes");
    panel.appendChild(dl);
    if (t.status === "skipped" && !t.blockedBy) {
      panel.appendChild(el("p", "hint", t.stoppedBy
        ? "skipped: it did not need " + t.stoppedBy + ", but that task's failure stopped the run (fail-fast) before it could start"
        : "skipped: the run stopped before it could start"));
    }
    if (t.error) {
      var err = el("div", "error");
      err.appendChild(el("strong", null, t.status === "timed out" ? "timed out: " : "error: "));
      err.appendChild(el("span", "error-message", t.error));
      panel.appendChild(err);
    }
    if (t.cause) {
      var det = el("details", "cause");
      det.open = t.status === "failed" || t.status === "timed out";
      det.appendChild(el("summary", null, "Cause"));
      det.appendChild(el("pre", null, t.cause));
      panel.appendChild(det);
    }
    if (data.kind === "run") {
      var out = el("div", "output");
      var bar = el("div", "out-bar");
      bar.appendChild(el("h3", null, "Output"));
      var search = el("input", "search");
      search.type = "search";
      search.placeholder = "search the output";
      search.setAttribute("aria-label", "search the output");
      bar.appendChild(search);
      var counter = el("span", "count");
      bar.appendChild(counter);
      out.appendChild(bar);
      var box = el("div", "lines");
      box.id = "lines";
      out.appendChild(box);
      panel.appendChild(out);
      if (t.lines.length === 0) box.appendChild(el("p", "hint", "no output"));
      else {
        renderLines(box, t, "", counter);
        search.addEventListener("input", function () { renderLines(box, t, search.value.toLowerCase(), counter); });
        box.scrollTop = box.scrollHeight;
      }
    }
  }
  function setHash(hash) {
    try { history.replaceState(null, "", location.pathname + location.search + hash); } catch (e) { /* some file:// origins refuse it */ }
  }
  function select(i, scroll) {
    var old = document.querySelectorAll(".selected");
    for (var k = 0; k < old.length; k++) old[k].classList.remove("selected");
    selected = i;
    showAll = false;
    if (i < 0) {
      panel.classList.remove("open");
      panel.textContent = "";
      panel.appendChild(el("p", "hint", data.kind === "plan"
        ? "Click a task in the graph or the table to see what it waits for."
        : "Click a task in the graph, the timeline or the table to see its output."));
      setHash("");
      return;
    }
    var marks = document.querySelectorAll('[data-i="' + i + '"]');
    for (var m = 0; m < marks.length; m++) marks[m].classList.add("selected");
    showDetails(i);
    setHash("#task-" + i);
    if (scroll && panel.scrollIntoView && window.innerWidth < 1100) panel.scrollIntoView({ block: "start" });
  }
  document.addEventListener("click", function (ev) {
    var target = ev.target;
    while (target && target !== document && !(target.getAttribute && target.getAttribute("data-i") !== null)) target = target.parentNode;
    if (!target || target === document) return;
    select(Number(target.getAttribute("data-i")), true);
  });
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if ((ev.key === "Enter" || ev.key === " ") && t && t.getAttribute && t.getAttribute("data-i") !== null) {
      ev.preventDefault();
      select(Number(t.getAttribute("data-i")), true);
    } else if (ev.key === "Escape") select(-1, false);
  });

  var zoom = document.getElementById("zoom"), box = document.getElementById("graph-box");
  if (zoom && box) zoom.addEventListener("click", function () {
    var fit = box.classList.toggle("fit");
    zoom.textContent = fit ? "actual size" : "fit to width";
  });

  // ---- start -----------------------------------------------------------------
  for (var h = 0; h < tasks.length; h++) tasks[h].headCount = Math.min(tasks[h].lines.length, data.headLines || 0);
  fillTable();
  var started = document.getElementById("started-at");
  if (started && data.startedAt) started.textContent = new Date(data.startedAt).toLocaleString();
  var fromHash = /^#task-(\d+)$/.exec(location.hash);
  if (fromHash && tasks[Number(fromHash[1])]) select(Number(fromHash[1]), false);
  else {
    var first = -1;
    for (var f = 0; f < tasks.length && first < 0; f++) if (tasks[f].status === "failed" || tasks[f].status === "timed out") first = f;
    select(first, false);
  }
  document.documentElement.setAttribute("data-ready", "true");
})();
`

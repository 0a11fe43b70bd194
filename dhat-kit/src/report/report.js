// dhat-kit's HTML report: renders the data in <script id="data"> (no network, no dependency).
"use strict";
(function () {
  const errors = [];
  function recordError(msg) {
    errors.push(String(msg));
    const el = document.getElementById("errors");
    if (el) {
      el.hidden = false;
      el.textContent = errors.join("\n");
    }
  }
  window.addEventListener("error", (e) => recordError(e.message));

  const D = JSON.parse(document.getElementById("data").textContent);
  const S = D.summary;
  const $ = (id) => document.getElementById(id);
  if (D.rounded) $("rounded").hidden = false;
  // A peak profile's regions (its program points) hold no live bytes: the page says why.
  if (D.peak) $("peak-note").hidden = false;

  // Text as HTML. The characters that reorder text (bidirectional embeddings, overrides and
  // isolates) are shown as escapes: a name holding one would otherwise read reversed. So are
  // control characters, line and paragraph separators and U+FFFE/U+FFFF, as every table of the
  // command writes them (`\n`, `\t`, `\u{1b}`): a name reads as `top` shows it, and no
  // character of it vanishes or turns into a space.
  const SHOWN = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
      .replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]/g,
        (c) => SHOWN[c] || "\\u{" + c.charCodeAt(0).toString(16) + "}");
  }
  // A name in a table cell: at most a few lines (report.css clamps it), the whole name in its
  // title (a tooltip; a row's call stack shows it whole too).
  function name(text, cls) {
    return "<span class=\"name" + (cls ? " " + cls : "") + "\" title=\"" + esc(text) + "\">" + esc(text) + "</span>";
  }
  function thousands(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  // Two names in the command's order, by code point (Rust's order of strings): JavaScript's `<`
  // compares UTF-16 units, which puts a character past U+FFFF (a surrogate pair) before one from
  // U+E000 to U+FFFF. At the first unit that differs, the surrogates move above that range.
  function byCodePoint(a, b) {
    if (a === b) return 0;
    const n = Math.min(a.length, b.length);
    const unit = (c) => (c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c);
    for (let i = 0; i < n; i++) {
      const x = a.charCodeAt(i), y = b.charCodeAt(i);
      if (x !== y) return unit(x) - unit(y);
    }
    return a.length - b.length;
  }
  // `x` with `d` decimals, as the command prints it: a value exactly halfway rounds to the even
  // digit, as Rust's formatting does (`toFixed` rounds it away from zero: 1.25 read 1.3, not
  // 1.2). A tie is told from the exact decimal expansion of the double, which `toFixed` gives.
  function fixed(x, d) {
    const rounded = x.toFixed(d);
    const exact = Math.abs(x).toFixed(Math.min(100, d + 70));
    const point = exact.indexOf(".");
    if (point < 0 || !/^50*$/.test(exact.slice(point + 1 + d))) return rounded;
    const down = exact.slice(0, d === 0 ? point : point + 1 + d);
    if (Number(down[down.length - 1]) % 2 !== 0) return rounded;
    return (x < 0 && /[1-9]/.test(down) ? "-" : "") + down;
  }
  // Binary units, as the command prints them: 999 B, 1,000 B, 1.2 KiB, 3.4 MiB.
  function human(n) {
    if (n < 1024) return thousands(n) + " B";
    const units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let v = n / 1024, u = 0;
    while (v >= 1023.95 && u + 1 < units.length) { v /= 1024; u++; }
    return fixed(v, 1) + " " + units[u];
  }
  // A figure in its unit: bytes in binary units, units and counts with separators.
  function show(n, blocks) {
    if (blocks) return thousands(n);
    return D.bytes ? human(n) : thousands(n) + " " + ofCount(n, S.unit);
  }
  // A figure's name in the profile's units: "total bytes" of an ad-hoc profile is "total units",
  // "total-blocks" "total-events".
  function inUnits(name) {
    return name.replace(/bytes$/, S.unit).replace(/blocks$/, S.blocks_unit);
  }
  function pct(part, whole) {
    return whole === 0 ? "0.0%" : fixed(part * 100 / whole, 1) + "%";
  }

  // ---- summary ----
  // The name of n things whose plural is `plural`: the singular for one (DHAT's unit names).
  function ofCount(n, plural) {
    const singular = { bytes: "byte", blocks: "block", units: "unit", events: "event" }[plural];
    return n === 1 && singular ? singular : plural;
  }
  function pair(b, k) {
    let t = thousands(b) + " " + ofCount(b, S.unit) + " in " + thousands(k) + " " + ofCount(k, S.blocks_unit);
    if (D.bytes) t += " (" + human(b) + ")";
    return t;
  }
  function renderSummary() {
    $("name").textContent = D.name;
    const items = [
      ["mode", "Mode", S.mode + " (" + S.kind + ")"],
      ["command", "Command", S.command],
      ["pid", "PID", String(S.pid)],
      ["total", "Total", pair(S.total_bytes, S.total_blocks), S.total_bytes, S.total_blocks],
    ];
    if (S.peak_bytes !== null) items.push(["peak", "At t-gmax", pair(S.peak_bytes, S.peak_blocks), S.peak_bytes, S.peak_blocks]);
    if (S.end_bytes !== null) items.push(["end", "At t-end", pair(S.end_bytes, S.end_blocks), S.end_bytes, S.end_blocks]);
    if (S.read_bytes !== null) items.push(["reads", "Reads", thousands(S.read_bytes) + " bytes", S.read_bytes]);
    if (S.written_bytes !== null) items.push(["writes", "Writes", thousands(S.written_bytes) + " bytes", S.written_bytes]);
    const secs = S.run_time_seconds;
    items.push(["time", "Run time", secs === null ? thousands(S.t_end) + " " + S.time_unit :
      secs < 1 ? fixed(secs * 1000, 3) + " ms" : fixed(secs, 3) + " s"]);
    if (S.t_gmax !== null) items.push(["tgmax", "t-gmax", thousands(S.t_gmax) + " " + S.time_unit + " (" + pct(S.t_gmax, S.t_end) + " of the run)"]);
    items.push(["points", "Profile", thousands(S.program_points) + " program point" + (S.program_points === 1 ? "" : "s") + ", " + thousands(S.frames) + " frame" + (S.frames === 1 ? "" : "s")]);
    if (S.samples !== null && S.sample_interval_bytes !== null) items.push(["sampled", "Sampled",
      "totals exact; per-site figures estimated from " + thousands(S.samples) + " samples at mean interval " +
      human(S.sample_interval_bytes) + " (" + thousands(S.sample_interval_bytes) + " bytes): a site's relative error is about 1/√(its samples), and differs from run to run"]);
    $("summary").innerHTML = items.map(([id, label, text, v, k]) =>
      "<dt>" + esc(label) + "</dt><dd id=\"sum-" + id + "\"" +
      (v !== undefined ? " data-v=\"" + v + "\"" : "") +
      (k !== undefined ? " data-blocks=\"" + k + "\"" : "") + ">" + esc(text) + "</dd>").join("");
  }

  // ---- top table ----
  const STACK_HINT = "Click a row, or press Enter on it, to see its call stack.";
  const state = { group: "site", key: "total_bytes", dir: "desc", filter: "", selected: null };
  let visible = [];
  const WHAT = { site: "site", function: "function", file: "file", crate: "crate" };

  // A column header that sorts: a real button (keyboard: Tab, Enter or Space) in a <th> whose
  // aria-sort says how the table is sorted by it (`dir`: "desc", "asc", or null when it is not).
  function sortable(key, label, cls, dir) {
    const sort = dir === "desc" ? "descending" : dir === "asc" ? "ascending" : "";
    return "<th class=\"" + (cls || "") + (dir ? " sorted " + dir : "") + "\"" +
      (sort ? " aria-sort=\"" + sort + "\"" : "") + "><button type=\"button\" class=\"sort\" data-key=\"" + key + "\">" +
      esc(label) + "</button></th>";
  }
  // Re-renders with `draw` after a click on a header of `head`, keeping the keyboard's focus on
  // the header that was clicked (drawing replaces it).
  function onSort(head, sort, draw) {
    head.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-key]");
      if (!b) return;
      const focused = document.activeElement === b;
      sort(b.dataset.key);
      draw();
      const again = head.querySelector("button[data-key=\"" + b.dataset.key + "\"]");
      if (focused && again) again.focus();
    });
  }

  function renderHead() {
    const th = (key, label, cls) => sortable(key, label, cls, state.key === key ? state.dir : null);
    let h = "<tr><th class=\"rank\">#</th>" + th("label", WHAT[state.group], "label");
    for (const c of D.columns) {
      h += th(c.key, c.label);
      if (c.key === "total_bytes") h += th("share", "share");
    }
    h += th("points", "stacks") + "</tr>";
    $("top-head").innerHTML = h;
  }

  function value(row, key) {
    if (key === "share") return row.figures.total_bytes;
    if (key === "points") return row.points;
    return row.figures[key];
  }

  function sortRows(rows) {
    const key = state.key, sign = state.dir === "desc" ? -1 : 1;
    // Ties by label, ascending, as `dhat-kit top` breaks them.
    const byLabel = (a, b) => byCodePoint(a.label, b.label);
    if (key === "label") return rows.sort((a, b) => sign * byLabel(a, b));
    return rows.sort((a, b) => sign * (value(a, key) - value(b, key)) || byLabel(a, b));
  }

  function renderRows() {
    const table = D.groups[state.group];
    const f = state.filter.toLowerCase();
    let rows = table.rows.map((r, i) => Object.assign({ i }, r));
    if (f) rows = rows.filter((r) => r.label.toLowerCase().includes(f) || r.frame.toLowerCase().includes(f));
    visible = sortRows(rows);
    const out = [];
    visible.forEach((r, n) => {
      let tr = "<tr data-i=\"" + r.i + "\" data-label=\"" + esc(r.label) + "\" tabindex=\"0\"" + (state.selected === r.i ? " class=\"selected\" aria-current=\"true\"" : "") + ">";
      tr += "<td class=\"rank\">" + (n + 1) + "</td>";
      let label = name(r.label);
      if (state.group !== "site" && r.frame) label += name(r.frame, "sub");
      tr += "<td class=\"label\">" + label + "</td>";
      for (const c of D.columns) {
        const v = r.figures[c.key];
        tr += "<td data-key=\"" + c.key + "\" data-v=\"" + v + "\" title=\"" + thousands(v) + "\">" + esc(show(v, c.blocks)) + "</td>";
        if (c.key === "total_bytes") tr += "<td data-key=\"share\">" + pct(v, D.totals.total_bytes) + "</td>";
      }
      tr += "<td data-key=\"points\" data-v=\"" + r.points + "\">" + thousands(r.points) + "</td></tr>";
      out.push(tr);
    });
    $("rows").innerHTML = out.join("");
    $("count").textContent = thousands(visible.length) + " of " + thousands(table.rows.length) + " row" + (table.rows.length === 1 ? "" : "s") + " shown" + (f ? " (filtered)" : "");
    const capped = table.rows.length < table.groups;
    $("table-note").textContent = capped
      ? "This table holds the " + D.cap + " largest " + WHAT[state.group] + "s by each figure: " +
        thousands(table.rows.length) + " of " + thousands(table.groups) + " " + WHAT[state.group] + "s; the rest are left out of the page."
      : thousands(table.groups) + " " + WHAT[state.group] + (table.groups === 1 ? "" : "s") + ", all shown.";
  }

  function renderStack(i) {
    const r = D.groups[state.group].rows[i];
    const box = $("stack");
    if (!r) {
      box.innerHTML = "<p class=\"note\">" + STACK_HINT + "</p>";
      return;
    }
    let h = "<h3>" + esc(r.label) + "</h3>";
    h += "<p class=\"note\">" + esc(show(r.figures.total_bytes, false)) + " in " + thousands(r.figures.total_blocks) + " " + esc(ofCount(r.figures.total_blocks, S.blocks_unit)) +
      ", " + thousands(r.points) + " program point" + (r.points === 1 ? "" : "s") +
      ". The call stack of the largest, from its site outwards" +
      (r.cut ? " (its first " + thousands(r.stack.length) + " frames; `dhat-kit top --stack N` prints more)" : "") + ":</p>";
    h += "<ol id=\"stack-frames\">" + r.stack.map((f) => "<li>" + esc(D.frames[f]) + "</li>").join("") + "</ol>";
    box.innerHTML = h;
  }

  function render() {
    renderHead();
    renderRows();
    renderStack(state.selected);
  }

  onSort($("top-head"), (key) => {
    if (state.key === key) state.dir = state.dir === "desc" ? "asc" : "desc";
    else { state.key = key; state.dir = key === "label" ? "asc" : "desc"; }
  }, render);
  $("filter").addEventListener("input", (e) => { state.filter = e.target.value; renderRows(); });
  // Only the groupings the profile takes (a peak profile's regions have no file or crate).
  for (const o of Array.from($("group").options)) if (!(o.value in D.groups)) o.remove();
  $("group").addEventListener("change", (e) => { state.group = e.target.value; state.selected = null; render(); renderDiffSites(); });
  function open(tr) {
    state.selected = Number(tr.dataset.i);
    for (const x of $("rows").querySelectorAll("tr.selected")) {
      x.classList.remove("selected");
      x.removeAttribute("aria-current");
    }
    tr.classList.add("selected");
    tr.setAttribute("aria-current", "true");
    renderStack(state.selected);
  }
  $("rows").addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-i]");
    if (tr) open(tr);
  });
  // The keyboard: Enter or Space opens the focused row's call stack; the arrows move between rows.
  $("rows").addEventListener("keydown", (e) => {
    const tr = e.target.closest("tr[data-i]");
    if (!tr || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "Enter" || e.key === " ") open(tr);
    else if (e.key === "ArrowDown" && tr.nextElementSibling) tr.nextElementSibling.focus();
    else if (e.key === "ArrowUp" && tr.previousElementSibling) tr.previousElementSibling.focus();
    else return;
    e.preventDefault();
  });

  // ---- diff ----
  function signed(d, blocks) {
    const sign = d < 0 ? "-" : "+";
    return sign + show(Math.abs(d), blocks);
  }
  // A figure's cell: the figure exact in its title (a tooltip), as in the top table.
  function exact(v, text) {
    return "<td data-v=\"" + v + "\" title=\"" + thousands(v) + "\">" + esc(text) + "</td>";
  }
  // A change's cell: exact in its title, with the figures before and after.
  function exactDelta(before, after, delta, text, c, key, more) {
    return "<td" + (key ? " data-key=\"" + key + "\"" : "") + " data-v=\"" + delta + "\" class=\"" + c + "\" title=\"" +
      (delta < 0 ? "-" : "+") + thousands(Math.abs(delta)) + " (" + thousands(before) + " \u2192 " + thousands(after) + ")\">" +
      esc(text) + (more || "") + "</td>";
  }
  function change(p) {
    return p === null ? "new" : (p >= 0 ? "+" : "") + fixed(p, 1) + "%";
  }
  function cls(d) {
    return d > 0 ? "up" : d < 0 ? "down" : "";
  }
  function renderDiff() {
    const d = D.diff;
    if (!d) return;
    $("diff-section").hidden = false;
    $("diff-before").textContent = d.before;
    let h = "<tr><th class=\"label\">total</th><th>before</th><th>after</th><th>delta</th><th>change</th></tr>";
    for (const t of d.totals) {
      const blocks = t.name.endsWith("blocks");
      h += "<tr data-name=\"" + esc(t.name) + "\" class=\"" + cls(t.delta) + "\"><td class=\"label\">" + esc(inUnits(t.name)) + "</td>" +
        exact(t.before, show(t.before, blocks)) + exact(t.after, show(t.after, blocks)) +
        exactDelta(t.before, t.after, t.delta, signed(t.delta, blocks), cls(t.delta)) +
        "<td class=\"" + cls(t.delta) + "\">" + change(t.percent) + "</td></tr>";
    }
    $("diff-totals").innerHTML = h;
    renderDiffSites();
  }

  // The changed rows, under the page's grouping, sorted by any figure's change: first by its size
  // (`dhat-kit diff --by FIGURE`'s order), then growth first, then shrinkage first. Ranked by a
  // figure, the rows are that figure's diff (those whose figure changed); by label, every row.
  const dstate = { key: "total_bytes", order: "size" };
  const ORDER = { size: "", desc: ", growth first", asc: ", shrinkage first" };
  const ARIA = { size: "other", desc: "descending", asc: "ascending" };
  function percent(before, after) {
    if (before === 0) return after === 0 ? 0 : null;
    return (after - before) * 100 / before;
  }
  function renderDiffSites() {
    const d = D.diff;
    if (!d) return;
    const table = d.groups[state.group];
    const col = {};
    for (const c of D.columns) col[c.key] = c;
    const k = Math.max(0, d.keys.indexOf(dstate.key));
    const key = d.keys[k], blocks = col[key].blocks;
    const byLabel = dstate.key === "label";
    const rows = table.rows.filter((r) => byLabel || r.ranked[k])
      .map((r) => ({ label: r.label, f: r.figures, delta: r.figures.map(([b, a]) => a - b) }));
    const labels = (x, y) => byCodePoint(x.label, y.label);
    if (byLabel) rows.sort((x, y) => (dstate.order === "desc" ? -1 : 1) * labels(x, y));
    else if (dstate.order === "size") rows.sort((x, y) => Math.abs(y.delta[k]) - Math.abs(x.delta[k]) || labels(x, y));
    else rows.sort((x, y) => (dstate.order === "desc" ? -1 : 1) * (x.delta[k] - y.delta[k]) || labels(x, y));
    const plural = WHAT[state.group] + "s";
    $("diff-what").textContent = plural[0].toUpperCase() + plural.slice(1);
    $("diff-by").textContent = inUnits(key.replace("_", "-"));
    $("diff-order").textContent = dstate.key === "label" ? "" : ORDER[dstate.order];
    const sortedAs = (x) => (dstate.key === x ? dstate.order : null);
    let h = "<tr><th class=\"rank\">#</th><th>" + esc(col[key].label) + " before</th><th>after</th>";
    for (const x of d.keys) h += diffHead(x, "\u0394 " + col[x].label, sortedAs(x));
    h += "<th></th>" + diffHead("label", WHAT[state.group], sortedAs("label"), "label") + "</tr>";
    $("diff-head").innerHTML = h;
    const max = Math.max(1, ...rows.map((r) => Math.abs(r.delta[k])));
    h = "";
    rows.forEach((r, n) => {
      const [b, a] = r.f[k];
      const w = Math.max(1, Math.round(Math.abs(r.delta[k]) * 120 / max));
      h += "<tr data-label=\"" + esc(r.label) + "\" class=\"" + cls(r.delta[k]) + "\"><td class=\"rank\">" + (n + 1) + "</td>" +
        exact(b, show(b, blocks)) + exact(a, show(a, blocks));
      d.keys.forEach((x, j) => {
        const [xb, xa] = r.f[j], dx = r.delta[j];
        h += exactDelta(xb, xa, dx, signed(dx, col[x].blocks), cls(dx), x, "<span class=\"sub\">" + change(percent(xb, xa)) + "</span>");
      });
      h += "<td><span class=\"bar " + cls(r.delta[k]) + "\" style=\"width:" + w + "px\"></span></td>" +
        "<td class=\"label\">" + name(r.label) + "</td></tr>";
    });
    $("diff-rows").innerHTML = h;
    const changed = byLabel ? table.changed : table.changed_by[k];
    const capped = rows.length < changed;
    $("diff-note").textContent = thousands(rows.length) + " of " + thousands(changed) + " " + WHAT[state.group] + (changed === 1 ? "" : "s") +
      " changed" + (byLabel ? "" : " in " + inUnits(key.replace("_", " "))) +
      (capped ? " (the " + thousands(d.cap) + " that grew most and the " + thousands(d.cap) + " that shrank most by each figure)" : "") +
      "; growth in red, shrinkage in green." + (d.estimated ? " A sampled profile's site figures are estimates, which differ from run to run of the same work (its totals are exact): a change much smaller than their own spread is not a change." : "") + (d.mixed ? " One profile is sampled and the other exact: the sampled one charges a reallocation (a growing Vec or String) to the code that grew the block, the exact one to the code that first allocated it, so a container made in one function and grown in another is at different sites in the two." : "");
  }
  // A diff column's header: `order` is how the table is sorted by it ("size", "desc", "asc"), or
  // null.
  function diffHead(key, label, order, cls) {
    const h = sortable(key, label, cls, order === "size" ? null : order);
    return order === "size" ? h.replace("<th class=\"", "<th aria-sort=\"other\" class=\"sorted size ") : h;
  }
  if (D.diff) {
    onSort($("diff-head"), (key) => {
      if (dstate.key !== key) {
        dstate.key = key;
        dstate.order = key === "label" ? "asc" : "size";
      } else if (key === "label") dstate.order = dstate.order === "asc" ? "desc" : "asc";
      else dstate.order = { size: "desc", desc: "asc", asc: "size" }[dstate.order];
    }, renderDiffSites);
  }

  // ---- budgets ----
  // `dhat-kit check --budget`'s table, verdict and warnings; a component over its limit (or, with
  // --strict, one that claims nothing) in red.
  function renderBudget() {
    const B = D.budget;
    if (!B) return;
    $("budget-section").hidden = false;
    $("budget-file").textContent = B.file;
    const last = B.header.length - 1;
    const cell = (tag, text, i) => "<" + tag + (i === last ? " class=\"label\"" : "") + ">" + esc(text) + "</" + tag + ">";
    let h = "<thead><tr>" + B.header.map((c, i) => cell("th", c, i)).join("") + "</tr></thead><tbody>";
    for (const r of B.rows) {
      h += "<tr data-status=\"" + esc(r.status) + "\"" + (r.fails ? " class=\"up\"" : "") + ">" + r.cells.map((c, i) => cell("td", c, i)).join("") + "</tr>";
    }
    $("budget").innerHTML = h + "</tbody>";
    const verdict = $("budget-verdict");
    verdict.textContent = B.verdict;
    verdict.className = B.passed ? "down" : "up";
    $("budget-warnings").innerHTML = B.warnings.map((w) => "<li>" + esc(w) + "</li>").join("");
    if (B.estimated) {
      $("budget-note").hidden = false;
      $("budget-note").textContent = B.estimated.charAt(0).toUpperCase() + B.estimated.slice(1) + ".";
    }
  }

  // ---- regions ----
  function renderRegions() {
    if (D.regions_error) {
      $("regions-section").hidden = false;
      $("regions-error").textContent = "No regions table: " + D.regions_error;
    }
    if (!D.regions) return;
    $("regions-section").hidden = false;
    let h = "<tr><th class=\"label\">region</th><th>own " + esc(S.unit) + "</th><th>own " + esc(S.blocks_unit) +
      "</th><th>inclusive " + esc(S.unit) + "</th><th>inclusive " + esc(S.blocks_unit) + "</th><th>share</th><th>most live</th></tr>";
    // Share of what was allocated inside regions, as `dhat-kit regions` and regions() give it.
    const outside = (r) => r.max_bytes === null;
    const inside = D.regions.filter((r) => r.path.length === 1 && !outside(r))
      .reduce((sum, r) => sum + r.inclusive.total_bytes, 0);
    for (const r of D.regions) {
      const depth = r.path.length - 1;
      h += "<tr data-path=\"" + esc(r.path.join("/")) + "\"><td class=\"label\" style=\"--depth:" + depth + "\">" + name(r.path[depth]) + "</td>" +
        "<td data-v=\"" + r.own.total_bytes + "\">" + esc(show(r.own.total_bytes, false)) + "</td>" +
        "<td data-v=\"" + r.own.total_blocks + "\">" + thousands(r.own.total_blocks) + "</td>" +
        "<td data-v=\"" + r.inclusive.total_bytes + "\">" + esc(show(r.inclusive.total_bytes, false)) + "</td>" +
        "<td data-v=\"" + r.inclusive.total_blocks + "\">" + thousands(r.inclusive.total_blocks) + "</td>" +
        "<td>" + (outside(r) ? "-" : pct(r.inclusive.total_bytes, inside)) + "</td>" +
        (r.max_bytes === null ? "<td>-</td></tr>" :
          "<td data-v=\"" + r.max_bytes + "\">" + esc(show(r.max_bytes, false)) + "</td></tr>");
    }
    $("regions").innerHTML = h;
  }

  if (D.flame_error) $("flame-error").textContent = "No flame graph: " + D.flame_error;
  renderSummary();
  render();
  renderBudget();
  renderDiff();
  renderRegions();

  // ---- scripted use ----
  // `report.html#do=group:function;sort:total_blocks;filter:parse;click:0` performs those steps
  // (`dsort:KEY` clicks the diff's header of KEY)
  // through the page's own controls (clicks and input events), as a person would, then marks the
  // document done; a headless browser reads the resulting DOM.
  const m = /^#do=(.*)$/.exec(location.hash);
  if (m) {
    for (const step of m[1].split(";")) {
      const at = step.indexOf(":");
      const verb = at < 0 ? step : step.slice(0, at);
      const arg = at < 0 ? "" : decodeURIComponent(step.slice(at + 1));
      if (verb === "group") {
        $("group").value = arg;
        $("group").dispatchEvent(new Event("change", { bubbles: true }));
      } else if (verb === "sort") {
        const b = document.querySelector("#top-head button[data-key=\"" + arg + "\"]");
        if (!b) { recordError("no column " + arg); continue; }
        b.click();
      } else if (verb === "dsort") {
        const b = document.querySelector("#diff-head button[data-key=\"" + arg + "\"]");
        if (!b) { recordError("no diff column " + arg); continue; }
        b.click();
      } else if (verb === "filter") {
        $("filter").value = arg;
        $("filter").dispatchEvent(new Event("input", { bubbles: true }));
      } else if (verb === "click") {
        const tr = $("rows").querySelectorAll("tr")[Number(arg)];
        if (!tr) { recordError("no row " + arg); continue; }
        tr.querySelector("td.label").click();
      } else if (verb === "focus") {
        // Keyboard focus on row N (as Tab would put it): the page says so if it cannot.
        const tr = $("rows").querySelectorAll("tr")[Number(arg)];
        if (!tr) { recordError("no row " + arg); continue; }
        tr.focus();
        if (document.activeElement !== tr) recordError("row " + arg + " cannot take the focus");
      } else if (verb === "key") {
        // A key pressed where the focus is (`key:Enter`, `key:%20` for Space, `key:ArrowDown`).
        const at = document.activeElement || document.body;
        at.dispatchEvent(new KeyboardEvent("keydown", { key: arg, bubbles: true, cancelable: true }));
      } else if (verb) {
        recordError("unknown step " + verb);
      }
    }
  }
  // Time from navigation to the page fully drawn by this script, in milliseconds.
  document.documentElement.dataset.renderMs = String(Math.round(performance.now()));
  document.documentElement.dataset.done = "1";
})();

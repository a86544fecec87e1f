// The coordinator board: sign in with an API key, choose a day or a roster, and see the timeline,
// the route map, the unassigned visits and the KPIs; coordinators can take a worker off sick or
// cancel a visit and re-optimise, and publish a roster (providers and workers see only published ones). Every cut of the data (a provider's own workers, a worker's own
// day) is made by the server; this page only draws what it is given.

import { el } from "./dom.js";
import { drawMap, highlightWorker } from "./map.js";

const KEY_STORE = "homecare.apiKey";
const KIND_LABELS = { care: "care", hairdressing: "hairdressing", delivery: "delivery", equipment: "equipment" };
const KPI_LABELS = [
  ["visits", "visits"], ["assigned", "assigned"], ["unassigned", "unassigned"],
  ["mandatory_unassigned", "mandatory unassigned"], ["workers_used", "workers used"], ["workers", "workers"],
  ["travel_s", "travel"], ["travel_m", "distance"], ["travel_share", "travel share"],
  ["continuity", "continuity"], ["visits_per_worker", "visits per worker"],
];
const CHANGE_LABELS = {
  moved: "moved", reassigned: "reassigned", dropped: "dropped", assigned: "now assigned",
  cancelled: "cancelled", added: "added",
};
const POLL_MS = 500;
const TIGHT_MIN = 10; // a visit starting this close to its window's end is marked as tight

const state = {
  me: null, // {key_id, name, role}
  board: null,
  pending: { remove_workers: new Set(), cancel_visits: new Set() },
  job: null,
};

const $ = (id) => document.getElementById(id);

// --------------------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { "X-API-Key": sessionStorage.getItem(KEY_STORE) || "" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const detail = (await response.json()).detail;
      message = Array.isArray(detail)
        ? detail.map((p) => [p.record_kind, p.record_id, p.field].filter(Boolean).join(" ") + ": " + p.message).join("; ")
        : String(detail);
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, message);
  }
  return response.json();
}

// --------------------------------------------------------------------------- small helpers


function minutes(hhmm) {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

function hhmm(totalMinutes) {
  const m = Math.round(totalMinutes);
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function duration(seconds) {
  const m = Math.round(seconds / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min` : `${m} min`;
}

function setStatus(text, kind = "") {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${kind}`;
}

function roleKind() {
  return state.me ? state.me.role.split(":")[0] : "";
}

function isStaff() {
  return ["coordinator", "planner"].includes(roleKind());
}

/** A colour per worker, the same on the timeline label and the map. */
export function workerColour(index) {
  const hue = (index * 137.508) % 360;
  return `hsl(${hue.toFixed(0)} 70% 42%)`;
}

function linkColour(visitId) {
  let hash = 0;
  for (const char of visitId) hash = (hash * 31 + char.charCodeAt(0)) % 360;
  return `hsl(${hash} 85% 35%)`;
}

// --------------------------------------------------------------------------- sign in

async function signIn(key) {
  sessionStorage.setItem(KEY_STORE, key);
  try {
    state.me = await api("/me");
  } catch (error) {
    sessionStorage.removeItem(KEY_STORE);
    state.me = null;
    setStatus(error.status === 401 ? "That API key is not valid (unknown or revoked)." : `Sign-in failed: ${error.message}`,
      "error");
    return false;
  }
  $("signin").hidden = true;
  $("who").hidden = false;
  $("role").textContent = `${state.me.name || state.me.key_id} · ${state.me.role}`;
  $("chooser").hidden = false;
  document.body.classList.toggle("staff", isStaff());
  for (const node of document.querySelectorAll(".staff-only")) node.hidden = !isStaff();
  setStatus("");
  return true;
}

function signOut() {
  sessionStorage.removeItem(KEY_STORE);
  window.location.hash = "";
  window.location.reload();
}

// --------------------------------------------------------------------------- choosing a day or roster

async function fillChooser(date) {
  if (!isStaff()) return;
  const plans = await api(`/plans?limit=200&date=${encodeURIComponent(date)}`);
  const planSelect = $("plan");
  planSelect.replaceChildren(el("option", { value: "" }, "every plan of the day"),
    ...plans.data.map((p) => el("option", { value: p.id },
      `${p.id} · ${p.purpose} · ${p.visits} visits, ${p.workers} workers`)));
  await fillRosters();
}

async function fillRosters() {
  const plan = $("plan").value;
  const query = plan ? `plan_id=${encodeURIComponent(plan)}` : `date=${encodeURIComponent($("date").value)}`;
  const rosters = await api(`/rosters?limit=200&${query}`);
  // Where providers of the day publish different rosters (a booking publishes one for its provider),
  // each provider's is a choice of its own.
  const published = new Map();
  for (const r of rosters.data.filter((r) => r.state === "published")) {
    for (const p of r.published_for) published.set(p, r.id);
  }
  const providers = new Set(published.values()).size > 1 ? [...published.keys()].sort() : [];
  const chosen = $("roster").value; // kept when it is still a choice
  $("roster").replaceChildren(el("option", { value: "" }, "the day's published roster"),
    ...providers.map((p) => el("option", { value: `provider:${p}` }, `the roster published for ${p}`)),
    ...rosters.data.map((r) => {
      const made = new Date(r.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      return el("option", { value: r.id, dataset: { state: r.state } },
        `${made} · ${r.purpose} · ${r.kpis.assigned}/${r.kpis.visits} assigned · ${stateText(r)} · ${r.id}`);
    }));
  if ([...$("roster").options].some((o) => o.value === chosen)) $("roster").value = chosen;
}

function stateText(roster) {
  if (roster.state === "published") return `published for ${roster.published_for.join(", ")}`;
  return roster.state; // draft, superseded
}

async function newestDate() {
  try {
    const rosters = await api("/rosters?limit=1");
    return rosters.data.length ? rosters.data[0].date : null;
  } catch {
    return null;
  }
}

async function show(event) {
  if (event) event.preventDefault();
  const chosen = isStaff() ? $("roster").value : "";
  if (chosen.startsWith("provider:")) {
    await loadBoard({ date: $("date").value, providerId: chosen.slice("provider:".length) });
  } else {
    await loadBoard(chosen ? { rosterId: chosen } : { date: $("date").value });
  }
}

// --------------------------------------------------------------------------- loading a board

async function loadBoard({ rosterId, date, providerId }) {
  setStatus("Loading…");
  let board;
  try {
    const day = `/board/day?date=${encodeURIComponent(date)}`
      + (providerId ? `&provider_id=${encodeURIComponent(providerId)}` : "");
    board = await api(rosterId ? `/board/rosters/${encodeURIComponent(rosterId)}` : day);
  } catch (error) {
    $("board").hidden = true;
    const none = isStaff() ? `No roster published for ${date}: choose one of its rosters.`
      : `No roster published for you on ${date}.`;
    setStatus(error.status === 404 ? (rosterId ? `No roster to show for ${rosterId}.` : none) : error.message,
      "error");
    return;
  }
  state.board = board;
  state.pending.remove_workers.clear();
  state.pending.cancel_visits.clear();
  window.location.hash = `roster=${board.roster_id}`;
  render(board);
  setStatus("");
  document.body.dataset.rosterId = board.roster_id;
  try {
    const geojson = await api(`/board/rosters/${encodeURIComponent(board.roster_id)}/map`);
    if (state.board === board) drawMap($("map"), geojson, colourByWorker(board));
  } catch (error) {
    $("map").replaceChildren(el("p", { class: "error" }, `No map: ${error.message}`));
  }
}

function colourByWorker(board) {
  return Object.fromEntries(board.rows.map((row, i) => [row.worker_id, workerColour(i)]));
}

function render(board) {
  $("board").hidden = false;
  const who = board.scope === "all" ? "every worker" : board.scope;
  $("title").textContent = `${board.date} · ${board.purpose} roster ${board.roster_id} · ${who}`;
  renderKpis(board);
  renderChanges(board);
  renderLegend(board);
  renderTimeline(board);
  renderUnassigned(board);
  $("details").hidden = true;
  $("actions").hidden = !board.can_reoptimise;
  renderPublication(board);
  renderPending();
}

function renderPublication(board) {
  const text = {
    published: `Published for ${board.published_for.join(", ")}: providers and workers see this roster.`,
    superseded: "Superseded: published before, now replaced by another roster for every provider.",
    draft: "Draft: not published, so providers and workers do not see it.",
  }[board.state];
  const node = $("publication");
  node.textContent = text || "";
  node.className = `publication state-${board.state}`;
  node.dataset.state = board.state;
  $("publish-panel").hidden = !board.can_publish;
  if (!board.can_publish) return;
  $("publish-providers").replaceChildren(...board.providers.map((p) => el("label", {},
    el("input", { type: "checkbox", name: "provider", value: p.id, checked: true }),
    ` ${p.name || p.id} (${p.id})`, board.published_for.includes(p.id) ? el("span", { class: "badge" }, "published") : null)));
}

async function publish() {
  const board = state.board;
  const providerIds = [...document.querySelectorAll("#publish-providers input[name=provider]:checked")]
    .map((input) => input.value);
  if (!providerIds.length) {
    setStatus("Tick at least one provider to publish for.", "error");
    return;
  }
  let summary;
  try {
    summary = await api(`/rosters/${encodeURIComponent(board.roster_id)}/publish`,
      { method: "POST", body: { provider_ids: providerIds } });
  } catch (error) {
    setStatus(`Publish refused: ${error.message}`, "error");
    return;
  }
  if (isStaff()) await fillRosters().catch(() => {});
  await loadBoard({ rosterId: board.roster_id });
  setStatus(`Published roster ${summary.id} for ${providerIds.join(", ")}.`, "ok");
}

function renderKpis(board) {
  const items = [];
  for (const [name, label] of KPI_LABELS) {
    const value = board.kpis[name];
    if (value === undefined || value === null) continue;
    let shown = value;
    if (name === "travel_s") shown = duration(value);
    else if (name === "travel_m") shown = `${(value / 1000).toFixed(1)} km`;
    else if (name === "travel_share" || name === "continuity") shown = `${(value * 100).toFixed(1)} %`;
    items.push(el("div", { class: `kpi kpi-${name}` }, el("dt", {}, label), el("dd", { dataset: { kpi: name } }, shown)));
  }
  $("kpis").replaceChildren(...items);
  const violations = $("violations");
  violations.hidden = !board.violations.length;
  violations.textContent = board.violations.length
    ? `${board.violations.length} rule violation(s): ${board.violations.slice(0, 3).join("; ")}` : "";
}

function renderChanges(board) {
  const section = $("changes");
  section.hidden = !board.changes.length;
  if (!board.changes.length) return;
  const counts = {};
  for (const change of board.changes) counts[change.change] = (counts[change.change] || 0) + 1;
  $("change-counts").textContent = `Re-optimised from ${board.previous_roster_id}: ` + Object.entries(counts)
    .map(([kind, n]) => `${n} ${CHANGE_LABELS[kind]}`).join(", ") + ".";
  const place = (list) => list.length ? list.map((p) => `${p.worker_id} ${p.start}`).join(" + ") : "unassigned";
  $("change-list").replaceChildren(...board.changes.map((c) => el("li", { class: `change change-${c.change}`,
    dataset: { visit: c.visit_id } }, el("strong", {}, c.visit_id), ` ${CHANGE_LABELS[c.change]}: `,
  c.change === "cancelled" ? place(c.before) : `${place(c.before)} → ${place(c.after)}`)));
}

function renderLegend(board) {
  const kinds = [...new Set(board.providers.map((p) => p.kind))];
  $("legend").replaceChildren(
    ...kinds.map((kind) => el("span", { class: `key kind-${kind}` }, KIND_LABELS[kind] || kind)),
    el("span", { class: "key travel" }, "travel"),
    el("span", { class: "key wait" }, "waiting"),
    el("span", { class: "key break" }, "break"),
    el("span", { class: "key double" }, "double-handed"),
    el("span", { class: "key tight" }, `< ${TIGHT_MIN} min to window end`),
    el("span", { class: "key late" }, "late"),
    ...(board.changes.length ? [el("span", { class: "key changed" }, "changed")] : []));
}

// --------------------------------------------------------------------------- timeline

function dayBounds(board) {
  let first = 24 * 60;
  let last = 0;
  for (const row of board.rows) {
    first = Math.min(first, minutes(row.shift_start));
    last = Math.max(last, minutes(row.shift_end));
    for (const stop of row.stops) {
      first = Math.min(first, minutes(stop.arrival) - stop.travel_s / 60);
      last = Math.max(last, minutes(stop.end));
    }
    if (row.return_arrival) last = Math.max(last, minutes(row.return_arrival));
  }
  if (first >= last) return [8 * 60, 18 * 60];
  return [Math.floor(first / 60) * 60, Math.ceil(last / 60) * 60];
}

function segment(className, from, to, [t0, t1], attrs = {}, ...children) {
  const node = el("div", { class: className, ...attrs }, ...children);
  node.style.left = `${((from - t0) / (t1 - t0)) * 100}%`;
  node.style.width = `${(Math.max(to - from, 0) / (t1 - t0)) * 100}%`;
  return node;
}

function renderTimeline(board) {
  const bounds = dayBounds(board);
  const [t0, t1] = bounds;
  const axis = el("div", { class: "track axis" });
  for (let t = t0; t <= t1; t += 60) {
    const tick = el("span", { class: "tick" }, hhmm(t));
    tick.style.left = `${((t - t0) / (t1 - t0)) * 100}%`;
    axis.append(tick);
  }
  const colours = colourByWorker(board);
  const rows = board.rows.map((row) => renderRow(board, row, bounds, colours[row.worker_id]));
  if (!rows.length) rows.push(el("p", { class: "empty" }, "No worker rows to show."));
  $("timeline").replaceChildren(el("div", { class: "row axis-row" }, el("div", { class: "label" }), axis), ...rows);
}

function renderRow(board, row, bounds, colour) {
  const track = el("div", { class: "track" });
  track.append(segment("shift", minutes(row.shift_start), minutes(row.shift_end), bounds));
  let lastEnd = null;
  for (const stop of row.stops) {
    if (stop.kind === "break") {
      track.append(segment("seg break", minutes(stop.start), minutes(stop.end), bounds,
        { title: `Break ${stop.start}–${stop.end}` }));
      continue;
    }
    const arrival = minutes(stop.arrival);
    if (stop.travel_s > 0) {
      track.append(segment("seg travel", arrival - stop.travel_s / 60, arrival, bounds,
        { title: `Travel to ${stop.visit_id}: ${duration(stop.travel_s)}, ${(stop.travel_m / 1000).toFixed(1)} km` }));
    }
    if (minutes(stop.start) > arrival) {
      track.append(segment("seg wait", arrival, minutes(stop.start), bounds,
        { title: `Waiting before ${stop.visit_id}: ${minutes(stop.start) - arrival} min` }));
    }
    track.append(visitBlock(stop, row, bounds));
    lastEnd = minutes(stop.end);
  }
  if (lastEnd !== null && row.return_arrival) {
    track.append(segment("seg travel home", lastEnd, minutes(row.return_arrival), bounds,
      { title: `Travel home, back at ${row.return_arrival}` }));
  }
  const visits = row.stops.filter((s) => s.kind === "visit").length;
  const label = el("div", { class: "label" },
    el("span", { class: "swatch" }),
    el("span", { class: "name" }, row.name || row.worker_id),
    el("span", { class: "meta" }, `${row.worker_id} · ${row.provider_id} · ${row.shift_start}–${row.shift_end}`),
    row.off ? el("span", { class: "badge off" }, "off") : el("span", { class: "meta count" }, `${visits} visits`));
  label.querySelector(".swatch").style.background = colour;
  if (board.can_reoptimise && !row.off) {
    label.append(el("button", {
      type: "button", class: "sick", title: `Take ${row.worker_id} off the day (sick) and re-plan their visits`,
      dataset: { worker: row.worker_id }, onclick: () => togglePending("remove_workers", row.worker_id),
    }, "off sick"));
  }
  const classes = ["row", `kind-${row.provider_kind}`];
  if (row.off) classes.push("off");
  if (state.pending.remove_workers.has(row.worker_id)) classes.push("pending-off");
  return el("div", {
    class: classes.join(" "), dataset: { worker: row.worker_id },
    onmouseenter: () => highlightWorker($("map"), row.worker_id),
    onmouseleave: () => highlightWorker($("map"), null),
  }, label, track);
}

function visitBlock(stop, row, bounds) {
  const classes = ["block", "visit", `kind-${stop.visit_kind}`];
  if (stop.workers_required > 1) classes.push("double");
  if (stop.late) classes.push("late");
  else if (stop.slack_min !== null && stop.slack_min < TIGHT_MIN) classes.push("tight");
  if (stop.change) classes.push("changed", `change-${stop.change}`);
  if (stop.priority === "mandatory") classes.push("mandatory");
  if (state.pending.cancel_visits.has(stop.visit_id)) classes.push("pending-cancel");
  const partners = stop.partners.length ? ` with ${stop.partners.join(", ")}` : "";
  const title = [
    `${stop.visit_id} (${stop.visit_kind}) ${stop.start}–${stop.end}, window ${stop.window_start}–${stop.window_end}`,
    stop.workers_required > 1 ? `double-handed${partners}` : "",
    stop.late ? `LATE: starts ${-stop.slack_min} min after the window closes` : "",
    stop.change ? `changed: ${CHANGE_LABELS[stop.change]}` : "",
    stop.postcode, stop.tasks.join(", "),
  ].filter(Boolean).join("\n");
  const block = segment(classes.join(" "), minutes(stop.start), minutes(stop.end), bounds,
    { title, dataset: { visit: stop.visit_id, worker: row.worker_id }, tabindex: "0" },
    el("span", {}, stop.visit_id));
  if (stop.workers_required > 1) {
    block.style.setProperty("--link", linkColour(stop.visit_id));
    block.addEventListener("mouseenter", () => linkPartners(stop.visit_id, true));
    block.addEventListener("mouseleave", () => linkPartners(stop.visit_id, false));
  }
  block.addEventListener("click", () => showDetails(stop, row));
  block.addEventListener("keydown", (event) => { if (event.key === "Enter") showDetails(stop, row); });
  return block;
}

function linkPartners(visitId, on) {
  for (const node of document.querySelectorAll(`.block[data-visit="${CSS.escape(visitId)}"]`)) {
    node.classList.toggle("linked", on);
  }
}

function showDetails(stop, row) {
  const details = $("details");
  details.hidden = false;
  const lines = [
    ["worker", `${row.name || row.worker_id} (${row.worker_id})`],
    ["time", `${stop.start}–${stop.end}, arrives ${stop.arrival}`],
    ["window", `${stop.window_start}–${stop.window_end} (${stop.slack_min} min to spare)`],
    ["priority", stop.priority],
    ["travel", `${duration(stop.travel_s)}, ${(stop.travel_m / 1000).toFixed(1)} km`],
    ["postcode", stop.postcode || "—"],
    ["tasks", stop.tasks.join(", ") || "—"],
  ];
  if (stop.workers_required > 1) lines.push(["double-handed", stop.partners.length ? `with ${stop.partners.join(", ")}` : "partner not shown"]);
  if (stop.change) lines.push(["change", CHANGE_LABELS[stop.change]]);
  const children = [el("h3", {}, `Visit ${stop.visit_id}`),
    el("dl", {}, ...lines.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))];
  if (state.board.can_reoptimise) {
    const cancelled = state.pending.cancel_visits.has(stop.visit_id);
    children.push(el("button", { type: "button", id: "cancel-visit", dataset: { visit: stop.visit_id },
      onclick: () => { togglePending("cancel_visits", stop.visit_id); showDetails(stop, row); } },
    cancelled ? "Keep this visit" : "Cancel this visit"));
  }
  children.push(el("button", { type: "button", class: "close", onclick: () => { details.hidden = true; } }, "Close"));
  details.replaceChildren(...children);
}

// --------------------------------------------------------------------------- unassigned

function renderUnassigned(board) {
  $("unassigned-count").textContent = `(${board.unassigned.length})`;
  const rows = board.unassigned.map((u) => el("tr", {
    class: [u.priority === "mandatory" ? "mandatory" : "", u.change ? `changed change-${u.change}` : ""].join(" ").trim(),
    dataset: { visit: u.visit_id },
  },
  el("td", {}, u.visit_id, u.change ? el("span", { class: "badge" }, CHANGE_LABELS[u.change]) : null),
  el("td", {}, el("span", { class: `dot kind-${u.visit_kind}` }), u.visit_kind),
  el("td", {}, `${u.window_start}–${u.window_end}`),
  el("td", {}, u.duration_min + (u.workers_required > 1 ? " ×2" : "")),
  el("td", {}, u.priority),
  el("td", {}, el("code", {}, u.code)),
  el("td", { class: "reason" }, u.reason)));
  $("unassigned").querySelector("tbody").replaceChildren(...rows);
}

// --------------------------------------------------------------------------- re-optimising

function togglePending(list, id) {
  const set = state.pending[list];
  if (set.has(id)) set.delete(id);
  else set.add(id);
  for (const node of document.querySelectorAll(`.row[data-worker="${CSS.escape(id)}"]`)) {
    node.classList.toggle("pending-off", state.pending.remove_workers.has(id));
  }
  for (const node of document.querySelectorAll(`.block[data-visit="${CSS.escape(id)}"]`)) {
    node.classList.toggle("pending-cancel", state.pending.cancel_visits.has(id));
  }
  renderPending();
}

function renderPending() {
  const items = [
    ...[...state.pending.remove_workers].map((w) => el("li", {}, `${w} off sick`)),
    ...[...state.pending.cancel_visits].map((v) => el("li", {}, `${v} cancelled`)),
  ];
  $("pending").replaceChildren(...(items.length ? items : [el("li", { class: "none" }, "no changes yet")]));
  $("reoptimise").disabled = !items.length || state.job !== null;
}

async function reoptimise() {
  const board = state.board;
  const body = {
    changes: {
      remove_workers: [...state.pending.remove_workers],
      cancel_visits: [...state.pending.cancel_visits],
    },
    keep_untouched_workers: $("keep-untouched").checked,
    time_limit_s: Number($("time-limit").value) || 10,
  };
  if ($("lock-before").value) body.lock_before = $("lock-before").value;
  let job;
  try {
    job = await api(`/rosters/${encodeURIComponent(board.roster_id)}/reoptimise`, { method: "POST", body });
  } catch (error) {
    setStatus(`Re-optimise refused: ${error.message}`, "error");
    return;
  }
  state.job = job;
  $("reoptimise").disabled = true;
  $("cancel-job").hidden = false;
  $("job").hidden = false;
  setStatus(`Re-optimising (${job.locked_stops} stops locked)…`);
  while (state.job) {
    showProgress(job);
    if (["succeeded", "failed", "cancelled", "interrupted"].includes(job.state)) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      job = await api(`/jobs/${encodeURIComponent(job.id)}`);
    } catch (error) {
      setStatus(`Lost the job: ${error.message}`, "error");
      break;
    }
  }
  state.job = null;
  $("cancel-job").hidden = true;
  if (job.state === "succeeded") {
    if (isStaff()) await fillRosters().catch(() => {});
    await loadBoard({ rosterId: job.roster_id });
    const n = state.board.changes.length;
    setStatus(`Re-optimised: roster ${job.roster_id}, ${n} visit${n === 1 ? "" : "s"} changed. `
      + "It is a draft: publish it to send it to providers and workers.", "ok");
  } else {
    renderPending();
    setStatus(`Re-optimise ${job.state}: ${job.error ? job.error.message : ""}`, "error");
  }
}

function showProgress(job) {
  const p = job.progress;
  const bar = $("job-progress");
  if (p.elapsed_s !== null && job.time_limit_s) bar.value = Math.min(p.elapsed_s / job.time_limit_s, 1);
  else bar.removeAttribute("value");
  const places = p.total_places ? `, ${p.assigned_places}/${p.total_places} places filled` : "";
  const elapsed = p.elapsed_s !== null ? `, ${p.elapsed_s.toFixed(1)} of ${job.time_limit_s} s` : "";
  $("job-text").textContent = `${job.state}${p.stage ? ` · ${p.stage}` : ""}${elapsed}${places}`;
}

async function cancelJob() {
  if (!state.job) return;
  try {
    await api(`/jobs/${encodeURIComponent(state.job.id)}/cancel`, { method: "POST" });
  } catch (error) {
    setStatus(`Could not stop the job: ${error.message}`, "error");
  }
}

// --------------------------------------------------------------------------- start

async function start() {
  $("signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await signIn($("key").value.trim())) {
      $("key").value = "";
      await afterSignIn();
    }
  });
  $("signout").addEventListener("click", signOut);
  $("chooser").addEventListener("submit", show);
  $("date").addEventListener("change", () => fillChooser($("date").value).catch((e) => setStatus(e.message, "error")));
  $("plan").addEventListener("change", () => fillRosters().catch((e) => setStatus(e.message, "error")));
  $("reoptimise").addEventListener("click", reoptimise);
  $("publish").addEventListener("click", publish);
  $("cancel-job").addEventListener("click", cancelJob);
  $("clear-pending").addEventListener("click", () => {
    for (const list of ["remove_workers", "cancel_visits"]) {
      for (const id of [...state.pending[list]]) togglePending(list, id);
    }
  });
  const key = sessionStorage.getItem(KEY_STORE);
  if (key && await signIn(key)) await afterSignIn();
}

async function afterSignIn() {
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get("roster");
  const date = (isStaff() && await newestDate()) || new Date().toLocaleDateString("en-CA"); // YYYY-MM-DD, local
  $("date").value = date;
  if (isStaff()) await fillChooser(date).catch((e) => setStatus(e.message, "error"));
  if (fromHash) await loadBoard({ rosterId: fromHash });
  else if (isStaff()) await loadBoard({ date });
  document.body.dataset.ready = "true";
}

start();

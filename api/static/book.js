// The booking page: sign in with a key (a resident's own, or the contact centre's), ask when someone could
// come, see the times grouped by day (green ones marked in words), book one, see the upcoming visits and
// cancel a booking. Every cut of the data (a resident never sees workers or providers) is made by the
// server; this page only shows what it is given. Plain JavaScript, nothing loaded from elsewhere.

import { el } from "./dom.js";

const KEY_STORE = "homecare.apiKey";
const GREEN_TEXT = "Green: adds little travel";
const ROLES = ["resident", "frontdoor", "coordinator"];

const state = {
  me: null, // {key_id, name, role}
  clientId: null, // whose upcoming visits are shown
  request: null, // the last request asked
  keys: new Map(), // offer id -> Idempotency-Key (a retry of one offer books it once)
  cancelling: null, // {booking, button}
};

const $ = (id) => document.getElementById(id);

// --------------------------------------------------------------------------- API

/** Call the service; answer {status, body} (body null when it is not JSON). */
async function call(path, { method = "GET", body, headers = {} } = {}) {
  const sent = { "X-API-Key": sessionStorage.getItem(KEY_STORE) || "", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try {
    data = await response.json();
  } catch {
    // not JSON
  }
  return { status: response.status, body: data };
}

/** The service's reason for a refusal, in words. */
function problem({ status, body }) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) return detail.map((p) => p.message).join("; ");
  if (detail) return String(detail);
  return `the service answered ${status}`;
}

function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return "book-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// --------------------------------------------------------------------------- small helpers

/** "Tuesday 8 December" of an ISO date. */
function dayName(iso) {
  return new Date(`${iso}T12:00:00`).toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long" });
}

function localToday() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

function addDays(iso, n) {
  const d = new Date(`${iso}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function say(text, kind = "") {
  const status = $("status");
  status.className = `status ${kind}`;
  status.textContent = text;
}

function kind() {
  return state.me ? state.me.role.split(":")[0] : "";
}

function isResident() {
  return kind() === "resident";
}

function groupByDate(items) {
  const days = new Map();
  for (const item of items) {
    if (!days.has(item.date)) days.set(item.date, []);
    days.get(item.date).push(item);
  }
  return [...days.entries()].sort(([a], [b]) => a.localeCompare(b));
}

// --------------------------------------------------------------------------- sign in

async function signIn(key) {
  sessionStorage.setItem(KEY_STORE, key);
  const answer = await call("/me");
  if (answer.status !== 200) {
    sessionStorage.removeItem(KEY_STORE);
    say(answer.status === 401 ? "That key is not valid. Check it and try again." : `Signing in failed: ${problem(answer)}`,
      "error");
    $("key").focus();
    return;
  }
  if (!ROLES.includes(answer.body.role.split(":")[0])) {
    sessionStorage.removeItem(KEY_STORE);
    say("This page is for residents and the contact centre. Sign in with a resident's or the contact centre's key.",
      "error");
    $("key").focus();
    return;
  }
  state.me = answer.body;
  $("signin-panel").hidden = true;
  $("who").hidden = false;
  $("booking").hidden = false;
  $("role").textContent = isResident() ? `Signed in as resident ${answer.body.role.split(":")[1]}`
    : `Signed in as ${answer.body.name || answer.body.key_id} (${answer.body.role})`;
  $("for-me").hidden = !isResident();
  $("for-choice").hidden = isResident();
  if (isResident()) {
    $("for-me").textContent = "The visit is for you.";
    state.clientId = answer.body.role.split(":")[1];
    await showUpcoming();
  }
  say("Signed in. Say what you need and choose Find times.", "ok");
  $("kind").focus();
}

function signOut() {
  sessionStorage.removeItem(KEY_STORE);
  window.location.reload();
}

// --------------------------------------------------------------------------- asking

function checked(name) {
  return [...document.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
}

/** The request of the form, or a message and the field to fix. */
function request() {
  const ask = {
    kind: $("kind").value,
    duration_min: Number($("duration").value),
    workers_required: Number($("workers").value),
  };
  if (!Number.isInteger(ask.duration_min) || ask.duration_min < 1 || ask.duration_min > 720) {
    return { error: "How long should be a whole number of minutes, from 5 to 720.", field: "duration" };
  }
  if (ask.kind === "equipment") ask.installs = $("installs").value;
  if (!isResident()) {
    if (checked("for")[0] === "new") {
      const lat = Number($("new-lat").value);
      const lon = Number($("new-lon").value);
      if ($("new-lat").value.trim() === "" || !Number.isFinite(lat) || lat < -90 || lat > 90) {
        return { error: "Give the new resident's home latitude, a number such as 51.5226.", field: "new-lat" };
      }
      if ($("new-lon").value.trim() === "" || !Number.isFinite(lon) || lon < -180 || lon > 180) {
        return { error: "Give the new resident's home longitude, a number such as -0.1301.", field: "new-lon" };
      }
      ask.client = { location: { lat, lon }, name: $("new-name").value.trim(), postcode: $("new-address").value.trim() };
    } else {
      const id = $("client-id").value.trim();
      if (!id) return { error: "Give the resident's client number, or choose A new resident.", field: "client-id" };
      ask.client_id = id;
    }
  }
  const times = $("time-of-day").value;
  if (times) {
    const [start, end] = times.split("-");
    ask.preferred_times = [{ start, end }];
  }
  const first = $("first-day").value || localToday();
  const days = Math.min(Math.max(Number($("days").value) || 7, 1), 28);
  ask.dates = Array.from({ length: days }, (_, i) => addDays(first, i));
  const weekdays = checked("weekday");
  if (weekdays.length) ask.recurrence = { weekdays, every_n_weeks: Number($("every").value) };
  return { ask };
}

async function find(event) {
  event.preventDefault();
  const made = request();
  if (made.error) {
    say(made.error, "error");
    $(made.field).focus();
    return;
  }
  state.request = made.ask;
  say("Looking for times…", "busy");
  $("find").disabled = true;
  try {
    const answer = await call("/offers", { method: "POST", body: made.ask });
    if (answer.status !== 200) {
      say(`Sorry, that could not be asked: ${problem(answer)}`, "error");
      return;
    }
    if (made.ask.client_id && !isResident()) state.clientId = made.ask.client_id;
    showOffers(answer.body.offers, answer.body.reason);
    if (answer.body.offers.length) {
      const days = new Set(answer.body.offers.map((o) => o.date)).size;
      say(`Found ${visibleOffers(answer.body.offers).length} times on ${days} ${days === 1 ? "day" : "days"}. `
        + "They are listed below by day.", "ok");
    } else {
      say(`No times found: ${answer.body.reason || "nothing is free"}.`, "error");
    }
    $("slots-title").focus();
  } finally {
    $("find").disabled = false;
  }
}

// --------------------------------------------------------------------------- times to book

/** The offers to list: a resident sees one per day and window (the best ranked); others one per provider. */
function visibleOffers(offers) {
  if (!isResident()) return offers;
  const seen = new Set();
  return offers.filter((o) => {
    const key = `${o.date} ${o.window.start}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function showOffers(offers, reason) {
  $("slots-panel").hidden = false;
  $("slots-reason").hidden = Boolean(offers.length) || !reason;
  $("slots-reason").textContent = reason ? `No times found: ${reason}.` : "";
  const list = $("slots");
  list.replaceChildren();
  for (const [date, items] of groupByDate(visibleOffers(offers))) {
    items.sort((a, b) => a.window.start.localeCompare(b.window.start) || a.n - b.n);
    const headingId = `slots-${date}`;
    list.append(el("section", { class: "day", "aria-labelledby": headingId, dataset: { date } },
      el("h3", { id: headingId }, dayName(date)),
      el("ul", {}, items.map((offer) => slotItem(offer)))));
  }
}

function slotItem(offer) {
  const times = `${offer.window.start} to ${offer.window.end}`;
  const more = offer.slots.length > 1 ? offer.slots.slice(1).map((s) => dayName(s.date)) : [];
  return el("li", { class: `slot${offer.green ? " is-green" : ""}`,
    dataset: { offer: offer.id, date: offer.date, start: offer.window.start, green: String(offer.green) } },
  el("span", { class: "time" }, `Arrives ${times}`),
  offer.green ? el("span", { class: "green" }, GREEN_TEXT) : null,
  more.length ? el("span", { class: "detail" }, `and the same time on ${more.join(", ")}`) : null,
  offer.known_worker ? el("span", { class: "detail" }, "someone you know") : null,
  offer.provider_id ? el("span", { class: "detail" }, `provider ${offer.provider_id}`) : null,
  el("button", { type: "button", class: "book", onclick: () => book(offer) },
    "Book", el("span", { class: "visually-hidden" }, ` ${dayName(offer.date)}, arriving ${times}`)));
}

async function book(offer) {
  if (!state.keys.has(offer.id)) state.keys.set(offer.id, newKey());
  say("Booking…", "busy");
  const answer = await call("/bookings", { method: "POST", body: { offer_id: offer.id },
    headers: { "Idempotency-Key": state.keys.get(offer.id) } });
  if (answer.status === 200 || answer.status === 201) {
    const booking = answer.body;
    state.clientId = booking.client_id;
    if (!isResident() && checked("for")[0] === "new") {
      $("for-existing").checked = true;
      $("client-id").value = booking.client_id;
      toggleNew();
    }
    $("slots-panel").hidden = true;
    $("slots").replaceChildren();
    await showUpcoming();
    say(`Booked: ${dayName(offer.date)}, arriving ${offer.window.start} to ${offer.window.end}. `
      + "It is in the upcoming visits below.", "ok");
    const item = document.querySelector(`#upcoming li[data-booking="${booking.id}"]`);
    (item ? item.querySelector("button") : $("upcoming-title")).focus();
    return;
  }
  if (answer.status === 409 && answer.body && Array.isArray(answer.body.offers)) {
    showOffers(answer.body.offers, answer.body.reason);
    say(answer.body.offers.length
      ? "Sorry, that time has just been taken by someone else. The times free now are listed below."
      : `Sorry, that time has just been taken, and no other time is free: ${answer.body.reason || "try other days"}.`,
    "error");
    $("slots-title").focus();
    return;
  }
  say(`Sorry, that could not be booked: ${problem(answer)}. Choose Find times to see the times free now.`, "error");
  $("find").focus();
}

// --------------------------------------------------------------------------- upcoming visits

async function showUpcoming() {
  if (!state.clientId) return;
  const query = isResident() ? "" : `?client_id=${encodeURIComponent(state.clientId)}`;
  const answer = await call(`/upcoming${query}`);
  if (answer.status !== 200) {
    say(`The upcoming visits could not be shown: ${problem(answer)}`, "error");
    return;
  }
  $("upcoming-panel").hidden = false;
  $("upcoming-title").textContent = isResident() ? "Your upcoming visits" : `Upcoming visits of ${answer.body.client_id}`;
  $("upcoming-empty").hidden = answer.body.data.length > 0;
  const list = $("upcoming");
  list.replaceChildren();
  for (const [date, visits] of groupByDate(answer.body.data)) {
    const headingId = `upcoming-${date}`;
    list.append(el("section", { class: "day", "aria-labelledby": headingId, dataset: { date } },
      el("h3", { id: headingId }, dayName(date)),
      el("ul", {}, visits.map((v) => visitItem(v)))));
  }
}

function visitItem(v) {
  const textId = `visit-${v.date}-${v.visit_id}`;
  const what = v.what.charAt(0).toUpperCase() + v.what.slice(1);
  return el("li", { class: "visit", dataset: { visit: v.visit_id, date: v.date, booking: v.booking_id || undefined } },
    el("span", { id: textId },
      el("strong", {}, what), `, arriving ${v.window.start} to ${v.window.end} (planned ${v.start} to ${v.end}), `
      + `${v.duration_min} minutes${v.workers_required > 1 ? ", two people" : ""}`
      + `${v.provider_id ? `, provider ${v.provider_id}` : ""}${v.booking_id ? ", booked" : ""}.`),
    v.booking_id ? el("button", { type: "button", class: "cancel", "aria-describedby": textId,
      onclick: (event) => askCancel(v, event.currentTarget) }, "Cancel booking") : null);
}

function askCancel(v, button) {
  state.cancelling = { visit: v, button };
  $("confirm-text").textContent = `${v.what.charAt(0).toUpperCase() + v.what.slice(1)} on ${dayName(v.date)}, `
    + `arriving ${v.window.start} to ${v.window.end}.`;
  $("confirm").showModal();
  $("confirm-no").focus();
}

function keep() {
  const held = state.cancelling;
  state.cancelling = null;
  if ($("confirm").open) $("confirm").close();
  if (held) held.button.focus();
}

async function cancel() {
  const held = state.cancelling;
  state.cancelling = null;
  $("confirm").close();
  if (!held) return;
  say("Cancelling…", "busy");
  const answer = await call(`/bookings/${encodeURIComponent(held.visit.booking_id)}`, { method: "DELETE" });
  if (answer.status !== 200) {
    say(`Sorry, that could not be cancelled: ${problem(answer)}`, "error");
    held.button.focus();
    return;
  }
  await showUpcoming();
  say(`Cancelled: ${held.visit.what} on ${dayName(held.visit.date)}, arriving ${held.visit.window.start} to `
    + `${held.visit.window.end}.`, "ok");
  $("upcoming-title").focus();
}

// --------------------------------------------------------------------------- wiring

function toggleNew() {
  const isNew = checked("for")[0] === "new";
  $("new-fields").hidden = !isNew;
  $("existing-fields").hidden = isNew;
}

function showExisting() {
  const id = $("client-id").value.trim();
  if (!id) {
    say("Give the resident's client number first.", "error");
    $("client-id").focus();
    return;
  }
  state.clientId = id;
  showUpcoming().then(() => {
    if (!$("upcoming-panel").hidden) $("upcoming-title").focus();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("first-day").value = localToday();
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("key").value.trim());
  });
  $("signout").addEventListener("click", signOut);
  $("ask").addEventListener("submit", find);
  $("kind").addEventListener("change", () => { $("installs-field").hidden = $("kind").value !== "equipment"; });
  for (const radio of document.querySelectorAll("input[name=for]")) radio.addEventListener("change", toggleNew);
  $("show-upcoming").addEventListener("click", showExisting);
  $("confirm-yes").addEventListener("click", cancel);
  $("confirm-no").addEventListener("click", keep);
  $("confirm").addEventListener("cancel", (event) => { event.preventDefault(); keep(); });
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) signIn(key);
});

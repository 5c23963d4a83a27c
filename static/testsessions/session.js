// The public page of an anonymous test session: requests appear live.
//
// The socket (`/v1/ws/test/<ts_id>`) is opened first and the REST list
// fetched once it is open, merged by id, so a request that lands in between
// is never missed (and never shown twice). After a drop it reconnects with
// backoff and fetches the list again. Close 4004: the session expired or was
// claimed. Everything from the server reaches the page as text (h() from
// realtime/dom.js), never as HTML. The body views mirror the event page's
// (events.views.render_body): pretty JSON, raw text, hex dump.

import { fileSize, h, utcStamp } from "../realtime/dom.js";

const CLOSE_ENDED = 4004;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const HEX_LIMIT = 16 * 1024;
const LIST_LIMIT = 200;

const root = document.getElementById("test-session");
const list = document.getElementById("requests");
const count = document.getElementById("request-count");
const detail = document.getElementById("request-detail");
const indicator = document.getElementById("session-live");
const countdown = document.getElementById("countdown");

const requests = new Map(); // id -> request data, as the API and the feed send it
let selected = null;
let view = "pretty";

// --- body decoding ---------------------------------------------------------

function bodyBytes(request) {
  if (request.body_encoding === "base64") {
    return Uint8Array.from(atob(request.body), (c) => c.charCodeAt(0));
  }
  return new TextEncoder().encode(request.body);
}

function prettyJSON(request) {
  if (request.body_encoding !== "text") return null;
  try {
    const parsed = JSON.parse(request.body);
    return parsed !== null && typeof parsed === "object" ? JSON.stringify(parsed, null, 2) : null;
  } catch {
    return null;
  }
}

function hexDump(bytes) {
  const lines = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const chunk = bytes.subarray(offset, offset + 16);
    const hex = Array.from(chunk, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(chunk, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines.join("\n");
}

function bodyKind(request) {
  if (!request.size) return "empty";
  if (request.body_encoding === "base64") return "binary";
  return prettyJSON(request) === null ? "text" : "json";
}

function headerValue(request, name) {
  const found = request.headers.find(([key]) => key.toLowerCase() === name);
  return found ? found[1] : "";
}

// --- rendering -------------------------------------------------------------

function field(name, value) {
  detail.querySelector(`[data-field="${name}"]`).textContent = value;
}

function renderBody(request) {
  const kind = bodyKind(request);
  const note = document.getElementById("body-note");
  let text = "";
  note.hidden = true;
  if (kind === "empty") {
    text = "";
  } else if (view === "hex" || kind === "binary") {
    const bytes = bodyBytes(request);
    text = hexDump(bytes.subarray(0, HEX_LIMIT));
    if (bytes.length > HEX_LIMIT) {
      note.textContent = `Showing the first ${fileSize(HEX_LIMIT)} of ${fileSize(bytes.length)}; download the body for the rest.`;
      note.hidden = false;
    }
  } else if (view === "pretty" && kind === "json") {
    text = prettyJSON(request);
  } else {
    text = request.body;
  }
  field("body_kind", kind);
  const code = detail.querySelector("#request-body code");
  code.textContent = text;
  for (const button of detail.querySelectorAll("[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
}

function showDetail(id) {
  const request = requests.get(id);
  if (!request) return;
  selected = id;
  for (const item of list.querySelectorAll("li[data-event-id]")) {
    item.setAttribute("aria-current", String(item.dataset.eventId === id));
  }
  field("method", request.method);
  field("id", request.id);
  document.getElementById("inspect-link").href = `/t/${root.dataset.sessionId}/events/${encodeURIComponent(request.id)}/`;
  field("path", `/${request.path}`);
  field("query", request.query ? `?${request.query}` : "none");
  field("source_ip", request.source_ip || "unknown");
  field("content_type", headerValue(request, "content-type") || "none");
  field("size", `${request.size} bytes`);
  field("event_type", request.event_type || "none");
  field("sha256", request.sha256 || "");
  field("received_at", `${utcStamp(request.received_at)} UTC`);
  field("header_count", String(request.headers.length));
  const rows = request.headers.map(([name, value]) =>
    h("tr", {}, h("th", { scope: "row" }, h("code", {}, name)), h("td", {}, h("code", { class: "wrap" }, value))),
  );
  document.getElementById("request-headers").replaceChildren(...rows);
  renderBody(request);
  detail.hidden = false;
}

function listItem(request) {
  const button = h(
    "button",
    { type: "button" },
    h("span", { class: "method" }, request.method),
    h("span", { class: "path" }, `/${request.path}${request.query ? `?${request.query}` : ""}`),
    h("time", { datetime: request.received_at }, utcStamp(request.received_at).slice(11)),
  );
  button.addEventListener("click", () => showDetail(request.id));
  return h("li", { "data-event-id": request.id }, button);
}

function add(request, fresh) {
  if (requests.has(request.id)) return;
  requests.set(request.id, request);
  list.querySelector("li.empty")?.remove();
  // Newest first; the feed and the list can interleave, so place by time.
  const item = listItem(request);
  if (fresh) item.classList.add("fresh");
  const later = Array.from(list.children).find(
    (other) => requests.get(other.dataset.eventId)?.received_at < request.received_at,
  );
  list.insertBefore(item, later || null);
  count.textContent = String(requests.size);
  if (selected === null) showDetail(request.id);
}

function download() {
  const request = requests.get(selected);
  if (!request) return;
  const url = URL.createObjectURL(new Blob([bodyBytes(request)], { type: "application/octet-stream" }));
  const link = h("a", { href: url, download: `${request.id}.bin` });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

// --- countdown -------------------------------------------------------------

const expiresAt = new Date(root.dataset.expiresAt).getTime();

function tick() {
  const left = Math.max(0, Math.floor((expiresAt - Date.now()) / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  countdown.textContent = `${pad(Math.floor(left / 3600))}:${pad(Math.floor(left / 60) % 60)}:${pad(left % 60)}`;
  if (left === 0) ended();
}

// --- live feed -------------------------------------------------------------

let failures = 0;
let finished = false;

function setState(state, label) {
  indicator.dataset.state = state;
  indicator.textContent = label;
}

function ended() {
  if (finished) return;
  finished = true;
  setState("offline", "ENDED");
  countdown.textContent = "00:00:00";
}

async function fetchList() {
  const response = await fetch(`${root.dataset.eventsUrl}?limit=${LIST_LIMIT}`, { headers: { Accept: "application/json" } });
  if (response.status === 404) {
    ended();
    return;
  }
  if (!response.ok) throw new Error(`the request list answered ${response.status}`);
  const page = await response.json();
  for (const request of page.results.slice().reverse()) add(request, false);
}

function connect() {
  if (finished) return;
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${window.location.host}${root.dataset.wsUrl}`);
  socket.addEventListener("open", () => {
    failures = 0;
    setState("live", "LIVE");
    fetchList().catch(() => socket.close());
  });
  socket.addEventListener("message", (message) => {
    const envelope = JSON.parse(message.data);
    if (envelope.type === "event" && envelope.channel === "test") add(envelope.data, true);
    else if (envelope.type === "dropped") fetchList().catch(() => socket.close());
  });
  socket.addEventListener("close", (closed) => {
    if (closed.code === CLOSE_ENDED) {
      ended();
      return;
    }
    if (finished) return;
    failures += 1;
    setState("reconnecting", "RECONNECTING");
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
    window.setTimeout(connect, delay);
  });
}

detail.addEventListener("click", (event) => {
  const button = event.target.closest("[data-view]");
  if (button && selected !== null) {
    view = button.dataset.view;
    renderBody(requests.get(selected));
  }
});
document.getElementById("download-body").addEventListener("click", download);
tick();
window.setInterval(tick, 1000);
connect();

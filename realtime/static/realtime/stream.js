// The live event list (dashboard and endpoint page) and the dashboard's
// endpoints table. Reads `event.received` / `event.retrying` /
// `event.delivered` / `event.failed` / `endpoint.status` / `dropped` as
// realtime/envelope.py builds them; the refetch reads /api/v1/events/, whose
// summaries carry the same field names as `event.received`.

import { fileSize, getJSON, h, timeElement } from "./dom.js";

const MAX_ROWS = 200;
const MAX_BUFFERED = 1000;
const MAX_EARLY = 500;
const RATE_WINDOW_MS = 60000;
const RATE_REFRESH_MS = 5000;
export const STATUS_OF_TYPE = {
  "event.retrying": "retrying",
  "event.delivered": "delivered",
  "event.failed": "failed",
};

// Same text as templates/includes/signature_badge.html.
export function signatureBadge(signature) {
  const report = signature || { scheme: null, verdict: "unchecked", detail: "" };
  const label = report.verdict === "unchecked" ? "unchecked" : `${report.scheme} ${report.verdict}`;
  const title = report.scheme ? `${report.scheme}: ${report.detail}` : report.detail;
  return h("span", { class: "badge", "data-verdict": report.verdict, title }, label);
}

export class EventStream {
  constructor(tbody, { endpointsTable, endpointHeader, tools }) {
    this.tbody = tbody;
    this.scope = tbody.dataset.endpoints || "*";
    this.showEndpoint = tbody.dataset.showEndpoint === "true";
    // The server renders the URL of a placeholder event, evt_0.
    this.eventUrl = tbody.dataset.eventUrl || "/events/evt_0/";
    this.endpointsTable = endpointsTable;
    this.endpointHeader = endpointHeader;
    // Older pages of an endpoint's list keep their rows; only badges move.
    // So do search results (?q=, ?event_type=, ?verdict=): new arrivals may not match.
    const query = new URLSearchParams(window.location.search);
    const page = query.get("page");
    const searching = ["q", "event_type", "verdict"].some((name) => query.get(name));
    this.growing = (!page || page === "1") && !searching;
    const placeholder = tbody.querySelector("tr.empty");
    this.placeholder = placeholder ? placeholder.cloneNode(true) : null;
    this.lastEventId = this.rows()[0]?.dataset.eventId || null;
    this.counted = new Set(this.rows().map((row) => row.dataset.eventId));
    // Attempt results that arrived before their event's row (the worker can
    // publish before ingest does); applied when the row appears.
    this.early = new Map();
    this.arrivals = new Map();
    this.paused = false;
    this.buffer = [];
    this.overflowed = false;
    this.refetching = false;
    this.refetchAgain = false;
    this.heldDuringRefetch = [];
    this.tools = tools;
    this.filters = { endpoint: "", status: "" };
    this.seedRates();
    this.bindTools();
    this.refreshRates();
    window.setInterval(() => this.refreshRates(), RATE_REFRESH_MS);
  }

  subscription() {
    return [this.scope];
  }

  since() {
    return this.growing ? this.lastEventId : null;
  }

  rows() {
    return Array.from(this.tbody.querySelectorAll("tr[data-event-id]"));
  }

  row(eventId) {
    const node = document.getElementById(eventId);
    return node && node.matches("tr[data-event-id]") && this.tbody.contains(node) ? node : null;
  }

  // Socket side

  onSubscribed({ resumed }) {
    // Without a replay, anything stored since the page was rendered (or
    // while the socket was down) is only in the database.
    if (!resumed) this.refetch();
  }

  receive(message) {
    if (message.type === "event.received" && message.data) this.lastEventId = message.data.id;
    if (this.paused) {
      if (message.type === "dropped" || this.buffer.length >= MAX_BUFFERED) {
        // Too much to replay by hand: refetch on resume instead.
        this.overflowed = true;
        this.buffer = [];
      } else {
        this.buffer.push(message);
      }
      this.showBuffered();
      return;
    }
    if (this.refetching) {
      this.heldDuringRefetch.push(message);
      return;
    }
    this.apply(message);
  }

  apply(message) {
    const data = message.data || {};
    switch (message.type) {
      case "event.received":
        this.added(data);
        return;
      case "event.retrying":
      case "event.delivered":
      case "event.failed":
        this.attempted(data, STATUS_OF_TYPE[message.type]);
        return;
      case "endpoint.status":
        this.setHealth(data.endpoint, data.health);
        return;
      case "dropped":
        this.refetch();
        return;
      default:
    }
  }

  // Rows

  added(summary) {
    if (!summary.id) return;
    this.countArrival(summary);
    if (!this.growing || this.row(summary.id)) return;
    const row = this.buildRow(summary);
    row.classList.add("fresh");
    this.tbody.querySelector("tr.empty")?.remove();
    this.tbody.prepend(row);
    const early = this.early.get(summary.id);
    if (early) {
      this.early.delete(summary.id);
      this.flip(row, early.status, early.attempt);
    }
    this.filterRow(row);
    for (const old of this.rows().slice(MAX_ROWS)) old.remove();
    this.showMatches();
  }

  attempted(data, status) {
    const row = this.row(data.event_id);
    if (row) {
      this.flip(row, status, data.attempt);
      return;
    }
    if (!this.growing) return;
    const known = this.early.get(data.event_id);
    if (!known || known.attempt <= data.attempt) this.early.set(data.event_id, { status, attempt: data.attempt });
    if (this.early.size > MAX_EARLY) this.early.delete(this.early.keys().next().value);
  }

  flip(row, status, attempt) {
    // Replays can repeat an older attempt after a newer one was shown.
    if (Number(attempt) < Number(row.dataset.attempt || 0)) return;
    row.dataset.attempt = String(attempt);
    const badge = row.querySelector('[data-field="status"] .badge');
    if (badge) {
      badge.dataset.status = status;
      badge.textContent = status;
    }
    this.filterRow(row);
    this.showMatches();
  }

  buildRow(summary) {
    const row = h("tr", { id: summary.id, "data-event-id": summary.id, "data-endpoint-id": summary.endpoint });
    if (summary.attempt_count) row.dataset.attempt = String(summary.attempt_count);
    row.append(
      h("td", { "data-field": "received_at" }, timeElement(summary.received_at)),
      h("td", { "data-field": "method" }, h("span", { class: "method" }, summary.method)),
    );
    if (this.showEndpoint) row.append(h("td", { "data-field": "endpoint" }, this.endpointLabel(summary.endpoint)));
    row.append(
      h("td", { "data-field": "event_type" }, summary.event_type ? h("code", {}, summary.event_type) : null),
      h("td", { "data-field": "size", class: "num", title: `${summary.size} bytes` }, fileSize(summary.size)),
      h(
        "td",
        { "data-field": "status" },
        h("span", { class: "badge", "data-status": summary.status }, summary.status),
        summary.duplicate_of ? " " : null,
        summary.duplicate_of
          ? h("span", { class: "badge", "data-duplicate": "true", title: `Duplicate of ${summary.duplicate_of}` }, "duplicate")
          : null,
      ),
      h("td", { "data-field": "signature" }, signatureBadge(summary.signature)),
      h(
        "td",
        { "data-field": "id" },
        h("a", { href: this.eventUrl.replace("evt_0", encodeURIComponent(summary.id)) }, h("code", {}, summary.id)),
      ),
    );
    return row;
  }

  endpointLabel(endpointId) {
    const link = this.endpointRow(endpointId)?.querySelector('[data-field="name"] a');
    if (!link) return h("code", {}, endpointId);
    return h("a", { href: link.getAttribute("href") }, link.textContent);
  }

  async refetch() {
    if (!this.growing) return;
    if (this.paused) {
      this.overflowed = true;
      this.buffer = [];
      this.showBuffered();
      return;
    }
    if (this.refetching) {
      this.refetchAgain = true;
      return;
    }
    this.refetching = true;
    try {
      const params = new URLSearchParams({ limit: String(Math.max(50, Math.min(MAX_ROWS, this.rows().length))) });
      if (this.scope !== "*") params.set("endpoint", this.scope);
      const page = await getJSON(`/api/v1/events/?${params}`);
      this.render(page.results || []);
    } catch {
      // The rows stay as they are; the next `dropped` or reconnect tries again.
    } finally {
      this.refetching = false;
      const held = this.heldDuringRefetch;
      this.heldDuringRefetch = [];
      for (const message of held) this.receive(message);
      if (this.refetchAgain) {
        this.refetchAgain = false;
        this.refetch();
      }
    }
  }

  render(summaries) {
    for (const row of this.rows()) row.remove();
    this.tbody.querySelector("tr.empty")?.remove();
    for (const summary of summaries) {
      const row = this.buildRow(summary);
      this.filterRow(row);
      this.tbody.append(row);
      // Stored after the page was rendered and never announced to it (a
      // gap before the first subscription, a reconnect, a drop): count it.
      this.countArrival(summary);
    }
    if (!summaries.length && this.placeholder) this.tbody.append(this.placeholder.cloneNode(true));
    if (summaries.length) this.lastEventId = summaries[0].id;
    this.showMatches();
  }

  // Endpoints: health badges, last event, events per minute

  endpointRow(endpointId) {
    if (!this.endpointsTable) return null;
    const node = document.getElementById(endpointId);
    return node && node.matches("tr[data-endpoint-id]") && this.endpointsTable.contains(node) ? node : null;
  }

  setHealth(endpointId, health) {
    if (!endpointId || !health) return;
    const badges = [];
    const row = this.endpointRow(endpointId);
    if (row) badges.push(row.querySelector('[data-field="health"] .badge'));
    if (this.endpointHeader && this.endpointHeader.dataset.endpointId === endpointId) {
      badges.push(this.endpointHeader.querySelector('[data-field="health"] .badge'));
    }
    for (const badge of badges) {
      if (!badge) continue;
      badge.dataset.health = health;
      badge.textContent = health;
    }
  }

  countArrival(summary) {
    if (this.counted.has(summary.id)) return;
    this.counted.add(summary.id);
    if (this.counted.size > 5000) this.counted.delete(this.counted.values().next().value);
    this.noteArrival(summary.endpoint, summary.received_at);
    const row = this.endpointRow(summary.endpoint);
    if (!row) return;
    const total = row.querySelector('[data-field="events_24h"]');
    if (total && /^\d+$/.test(total.textContent.trim())) total.textContent = String(Number(total.textContent) + 1);
    const last = row.querySelector('[data-field="last_event_at"]');
    const shown = last?.querySelector("time")?.getAttribute("datetime");
    if (last && (!shown || Date.parse(shown) <= Date.parse(summary.received_at))) {
      last.replaceChildren(timeElement(summary.received_at));
    }
    this.refreshRates();
  }

  noteArrival(endpointId, receivedAt) {
    const at = Date.parse(receivedAt);
    if (!endpointId || Number.isNaN(at)) return;
    const times = this.arrivals.get(endpointId) || [];
    times.push(at);
    this.arrivals.set(endpointId, times);
  }

  seedRates() {
    for (const row of this.rows()) {
      const at = row.querySelector('[data-field="received_at"] time')?.getAttribute("datetime");
      if (at) this.noteArrival(row.dataset.endpointId, at);
    }
  }

  refreshRates() {
    if (!this.endpointsTable) return;
    const since = Date.now() - RATE_WINDOW_MS;
    for (const [endpointId, times] of this.arrivals) {
      this.arrivals.set(endpointId, times.filter((at) => at >= since));
    }
    for (const cell of this.endpointsTable.querySelectorAll('[data-field="events_per_min"]')) {
      const endpointId = cell.closest("tr[data-endpoint-id]")?.dataset.endpointId;
      cell.textContent = String((this.arrivals.get(endpointId) || []).length);
    }
  }

  // Filters and pause

  bindTools() {
    if (!this.tools) return;
    this.endpointFilter = this.tools.querySelector("[data-filter='endpoint']");
    this.statusFilter = this.tools.querySelector("[data-filter='status']");
    this.pauseButton = this.tools.querySelector("[data-stream-pause]");
    this.bufferedNote = this.tools.querySelector("[data-stream-buffered]");
    this.matchesNote = this.tools.querySelector("[data-stream-matches]");
    for (const select of [this.endpointFilter, this.statusFilter]) {
      select?.addEventListener("change", () => {
        this.filters = { endpoint: this.endpointFilter?.value || "", status: this.statusFilter?.value || "" };
        for (const row of this.rows()) this.filterRow(row);
        this.showMatches();
      });
    }
    this.pauseButton?.addEventListener("click", () => (this.paused ? this.resume() : this.pause()));
  }

  filterRow(row) {
    const status = row.querySelector('[data-field="status"] .badge')?.dataset.status;
    row.hidden =
      (this.filters.endpoint !== "" && row.dataset.endpointId !== this.filters.endpoint) ||
      (this.filters.status !== "" && status !== this.filters.status);
  }

  showMatches() {
    const rows = this.rows();
    const count = document.querySelector("[data-stream-count]");
    if (count) count.textContent = String(rows.length);
    if (!this.matchesNote) return;
    const shown = rows.filter((row) => !row.hidden).length;
    const filtering = this.filters.endpoint !== "" || this.filters.status !== "";
    this.matchesNote.hidden = !filtering;
    this.matchesNote.textContent = `${shown} of ${rows.length} shown`;
  }

  pause() {
    this.paused = true;
    this.pauseButton.textContent = "Resume stream";
    this.pauseButton.setAttribute("aria-pressed", "true");
    this.showBuffered();
  }

  resume() {
    this.paused = false;
    const buffered = this.buffer;
    const overflowed = this.overflowed;
    this.buffer = [];
    this.overflowed = false;
    this.pauseButton.textContent = "Pause stream";
    this.pauseButton.setAttribute("aria-pressed", "false");
    this.showBuffered();
    if (overflowed) {
      this.refetch();
      return;
    }
    for (const message of buffered) this.receive(message);
  }

  showBuffered() {
    if (!this.bufferedNote) return;
    this.bufferedNote.hidden = !this.paused;
    if (!this.paused) return;
    if (this.overflowed) {
      this.bufferedNote.textContent = "Many updates buffered; the list reloads on resume";
      return;
    }
    const events = this.buffer.filter((message) => message.type === "event.received").length;
    const updates = this.buffer.length - events;
    const parts = [`${events} new ${events === 1 ? "event" : "events"}`];
    if (updates) parts.push(`${updates} ${updates === 1 ? "update" : "updates"}`);
    this.bufferedNote.textContent = `Paused: ${parts.join(", ")} buffered`;
  }
}

// The event page: its status badge and its attempts timeline, live.
//
// An attempt is drawn from its `event.retrying` / `event.delivered` /
// `event.failed` message at once, then completed from
// /api/v1/events/<id>/deliveries/ (start time, URL, response excerpt), which
// uses the same field names except `id` for the message's `delivery_id`.

import { duration, getJSON, h, timeElement, truncate } from "./dom.js";
import { STATUS_OF_TYPE } from "./stream.js";

const RESPONSE_EXCERPT = 1000;
const ENRICH_DELAY_MS = 150;
const TICK_MS = 250;

export class Timeline {
  constructor(root, list) {
    this.root = root;
    this.list = list;
    this.eventId = root.dataset.eventId;
    this.endpointId = root.dataset.endpointId;
    this.enrichTimer = null;
    this.tick();
    window.setInterval(() => this.tick(), TICK_MS);
  }

  subscription() {
    return [this.endpointId];
  }

  // Replaying from the event itself brings back every attempt it had, so a
  // reconnect never misses one; attempts already drawn are skipped.
  since() {
    return this.eventId;
  }

  onSubscribed({ resumed }) {
    if (!resumed) this.refetch();
  }

  receive(message) {
    if (message.type === "dropped") {
      this.refetch();
      return;
    }
    const data = message.data || {};
    const status = STATUS_OF_TYPE[message.type];
    if (!status || data.event_id !== this.eventId) return;
    this.setStatus(status, data.attempt);
    this.setNextAttempt(message.type === "event.retrying" ? data.next_retry_at : null, data.attempt);
    this.upsert({ ...data, id: data.delivery_id }, false);
    this.enrichSoon();
  }

  setStatus(status, attempt) {
    if (Number(attempt) < Number(this.root.dataset.attempt || 0)) return;
    this.root.dataset.attempt = String(attempt);
    const badge = this.root.querySelector('[data-field="status"] .badge');
    if (!badge) return;
    badge.dataset.status = status;
    badge.textContent = status;
  }

  setNextAttempt(at, attempt) {
    if (Number(attempt) < Number(this.root.dataset.attempt || 0)) return;
    const cell = document.querySelector('dd[data-field="next_attempt_at"]');
    if (!cell) return;
    if (at) cell.replaceChildren(timeElement(at), " UTC");
    else cell.replaceChildren(h("span", { class: "muted" }, "none due"));
  }

  items() {
    return Array.from(this.list.querySelectorAll("li.attempt"));
  }

  // complete: the record came from the API (everything known), so it may
  // redraw an item; a message only draws attempts not on the page yet.
  upsert(record, complete) {
    if (!record.id) return;
    const existing = this.items().find((item) => item.dataset.deliveryId === record.id);
    if (existing && !complete) return;
    const startedAt =
      record.started_at || existing?.querySelector(".attempt-head time")?.getAttribute("datetime") || new Date().toISOString();
    const item = this.attemptItem({ ...record, started_at: startedAt });
    if (existing) {
      existing.replaceWith(item);
    } else {
      this.list.querySelector("li.empty")?.remove();
      const later = this.items().find((other) => Number(other.dataset.attempt) > Number(record.attempt));
      this.list.insertBefore(item, later || null);
    }
    this.tick();
  }

  attemptItem(attempt) {
    return h(
      "li",
      { class: "attempt", "data-delivery-id": attempt.id, "data-attempt": attempt.attempt, "data-outcome": attempt.outcome },
      h(
        "div",
        { class: "attempt-head" },
        h("strong", {}, `#${attempt.attempt}`),
        h("span", { class: "badge", "data-outcome": attempt.outcome }, attempt.outcome),
        attempt.one_off ? h("span", { class: "badge", "data-one-off": "true" }, "one-off") : null,
        attempt.status_code ? h("span", { class: "status-code" }, `HTTP ${attempt.status_code}`) : null,
        h("span", { class: "muted" }, `${attempt.duration_ms} ms`),
        timeElement(attempt.started_at),
      ),
      h(
        "div",
        { class: "attempt-body" },
        attempt.url ? h("div", { class: "muted small" }, h("code", { class: "url" }, attempt.url)) : null,
        attempt.error ? h("p", { class: "error-text" }, attempt.error) : null,
        attempt.next_retry_at
          ? h("p", { class: "small", "data-field": "next_retry_at" }, "Next retry at ", timeElement(attempt.next_retry_at), " UTC")
          : null,
        attempt.response_body
          ? h("pre", { class: "code small response" }, truncate(attempt.response_body, RESPONSE_EXCERPT))
          : null,
      ),
    );
  }

  // Only the newest attempt counts down: an older one's retry has happened.
  tick() {
    const items = this.items();
    items.forEach((item, index) => {
      const note = item.querySelector('[data-field="next_retry_at"]');
      if (!note) return;
      let countdown = note.querySelector(".countdown");
      if (index !== items.length - 1) {
        countdown?.remove();
        return;
      }
      const until = Date.parse(note.querySelector("time")?.getAttribute("datetime") || "");
      if (Number.isNaN(until)) return;
      if (!countdown) {
        countdown = h("span", { class: "countdown", "data-until": new Date(until).toISOString() });
        note.append(countdown);
      }
      const left = until - Date.now();
      countdown.textContent = left > 0 ? `in ${duration(left)}` : "retrying now…";
    });
  }

  enrichSoon() {
    clearTimeout(this.enrichTimer);
    this.enrichTimer = setTimeout(async () => {
      try {
        const attempts = await getJSON(`/api/v1/events/${encodeURIComponent(this.eventId)}/deliveries/`);
        for (const attempt of attempts) this.upsert(attempt, true);
      } catch {
        // The attempt stays as its message drew it.
      }
    }, ENRICH_DELAY_MS);
  }

  async refetch() {
    try {
      const event = await getJSON(`/api/v1/events/${encodeURIComponent(this.eventId)}/`);
      const badge = this.root.querySelector('[data-field="status"] .badge');
      if (badge) {
        badge.dataset.status = event.status;
        badge.textContent = event.status;
      }
      const attempts = event.deliveries || [];
      this.root.dataset.attempt = String(attempts.length ? attempts[attempts.length - 1].attempt : 0);
      const cell = document.querySelector('dd[data-field="next_attempt_at"]');
      if (cell) {
        cell.replaceChildren(
          event.next_attempt_at ? timeElement(event.next_attempt_at) : h("span", { class: "muted" }, "none due"),
        );
        if (event.next_attempt_at) cell.append(" UTC");
      }
      for (const attempt of attempts) this.upsert(attempt, true);
    } catch {
      // Keep what is shown; the next reconnect or `dropped` tries again.
    }
  }
}

// A bulk replay's page: the progress bar, counts and summary, live.
//
// Subscribes `/v1/ws` to the replay's endpoint and applies its
// `replay.progress` messages ({id, endpoint, state, total, done, failed},
// realtime/envelope.py); after each (re)connection it reads
// /api/v1/replays/<id>/ once, since progress is not replayed with `since`.

import { LiveSocket } from "../realtime/socket.js";
import { getJSON } from "../realtime/dom.js";

const FINISHED = new Set(["done", "cancelled"]);

// The same sentences as templates/replays/summary.txt.
function summary({ state, total, done, failed }) {
  const delivered = done - failed;
  if (state === "done") {
    const retry = failed ? " (they retry on the endpoint's schedule)" : "";
    return `Finished: ${done} event${done === 1 ? "" : "s"} replayed, ${delivered} delivered, ${failed} failed${retry}.`;
  }
  if (state === "cancelled") {
    return `Cancelled after ${done} of ${total}: ${delivered} delivered, ${failed} failed; the rest was not sent.`;
  }
  return "";
}

class BulkReplayView {
  constructor(root) {
    this.root = root;
    this.id = root.dataset.replayId;
    this.endpointId = root.dataset.endpointId;
    this.bar = document.getElementById("replay-progress");
    this.shown = { state: this.bar.dataset.state, done: Number(this.bar.dataset.done) };
  }

  subscription() {
    return [this.endpointId];
  }

  since() {
    return null;
  }

  onSubscribed() {
    this.refetch();
  }

  receive(message) {
    if (message.type === "replay.progress" && message.data && message.data.id === this.id) this.show(message.data);
    if (message.type === "dropped") this.refetch();
  }

  async refetch() {
    try {
      this.show(await getJSON(`/api/v1/replays/${encodeURIComponent(this.id)}/`));
    } catch {
      // Keep what is shown; the next message or reconnect updates it.
    }
  }

  // A late answer must not undo a newer one: never back from finished to
  // running, never fewer done within one state.
  isOlder(progress) {
    const wasFinished = FINISHED.has(this.shown.state);
    if (wasFinished && !FINISHED.has(progress.state)) return true;
    return wasFinished === FINISHED.has(progress.state) && progress.done < this.shown.done;
  }

  show(progress) {
    if (this.isOlder(progress)) return;
    this.shown = { state: progress.state, done: progress.done };
    const percent = progress.total ? Math.min(100, Math.floor((progress.done * 100) / progress.total)) : 100;
    this.bar.dataset.state = progress.state;
    this.bar.dataset.done = String(progress.done);
    // A replay of nothing is complete: max 1, value 1 (max must be above 0).
    this.bar.max = progress.total || 1;
    this.bar.value = progress.total ? progress.done : 1;
    this.bar.textContent = `${percent} %`;
    for (const field of ["done", "total", "failed"]) {
      const cell = document.querySelector(`.progress-text [data-field="${field}"]`);
      if (cell) cell.textContent = String(progress[field]);
    }
    const badge = this.root.querySelector('[data-field="state"]');
    badge.dataset.state = progress.state;
    badge.textContent = progress.state;
    const finished = FINISHED.has(progress.state);
    document.getElementById("cancel-replay").hidden = finished;
    const note = document.querySelector('[data-field="summary"]');
    note.textContent = summary(progress);
    note.hidden = !finished;
  }
}

const root = document.querySelector("#bulk-replay[data-replay-id]");
if (root) {
  const view = new BulkReplayView(root);
  new LiveSocket({
    endpoints: view.subscription(),
    since: () => view.since(),
    onMessage: (message) => view.receive(message),
    onSubscribed: (state) => view.onSubscribed(state),
    indicator: document.getElementById("live-status"),
  }).start();
}

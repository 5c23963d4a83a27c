// One `/v1/ws` connection that stays up: session-cookie auth, subscribe with
// `since`, pong, exponential backoff with jitter, and the LIVE indicator.
// Message shapes are realtime/envelope.py's.

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
// The server pings every 20 s; this long without a byte means a dead link
// that the browser has not noticed yet (a laptop waking up, a NAT timeout).
const SILENCE_MS = 50000;
const CLOSE_NORMAL = 1000;
const CLOSE_UNAUTHORIZED = 4001;

const LABELS = {
  connecting: ["CONNECTING", "Connecting to the live stream"],
  live: ["LIVE", "Updates appear as they happen"],
  reconnecting: ["RECONNECTING", "Connection lost; catching up once it is back"],
  offline: ["OFFLINE", "Signed out: reload the page to sign in again"],
};

export class LiveSocket {
  // endpoints: the subscription, ["*"] or ["ep_…"].
  // since(): the newest event id the page has, or null.
  // onMessage(message): every data message and `dropped`.
  // onSubscribed({ resumed }): after each (re)subscription; resumed is false
  //   when nothing was replayed, so the page must refetch what it shows.
  constructor({ endpoints, since, onMessage, onSubscribed, indicator }) {
    this.endpoints = endpoints;
    this.since = since;
    this.onMessage = onMessage;
    this.onSubscribed = onSubscribed;
    this.indicator = indicator;
    this.socket = null;
    this.failures = 0;
    this.retryTimer = null;
    this.silenceTimer = null;
    this.stopped = false;
    this.requestedSince = null;
    this.awaitingSubscribed = false;
  }

  start() {
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.goOffline());
    window.addEventListener("pagehide", () => this.stop());
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) {
        this.stopped = false;
        this.reconnectNow();
      }
    });
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.socket) this.discard(this.socket, CLOSE_NORMAL);
  }

  open() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.stopped || this.socket) return;
    if (navigator.onLine === false) {
      // Nothing to try until the browser says the network is back ("online").
      this.show("reconnecting");
      return;
    }
    this.show(this.failures ? "reconnecting" : "connecting");
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${window.location.host}/v1/ws`);
    } catch {
      this.retryLater();
      return;
    }
    this.socket = ws;
    ws.onopen = () => {
      this.heard(ws);
      this.subscribe(ws, this.since());
    };
    ws.onmessage = (frame) => {
      this.heard(ws);
      let message;
      try {
        message = JSON.parse(frame.data);
      } catch {
        return;
      }
      this.receive(ws, message);
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      this.socket = null;
      clearTimeout(this.silenceTimer);
      if (event.code === CLOSE_UNAUTHORIZED) {
        // The session ended (logged out elsewhere, expired): retrying cannot help.
        this.show("offline");
        return;
      }
      this.retryLater();
    };
  }

  subscribe(ws, since) {
    this.requestedSince = since || null;
    this.awaitingSubscribed = true;
    const request = { type: "subscribe", endpoints: this.endpoints };
    if (since) request.since = since;
    ws.send(JSON.stringify(request));
  }

  receive(ws, message) {
    switch (message.type) {
      case "ping":
        ws.send(JSON.stringify({ type: "pong" }));
        return;
      case "subscribed":
        if (!this.awaitingSubscribed) return;
        this.awaitingSubscribed = false;
        this.failures = 0;
        this.show("live");
        this.onSubscribed({ resumed: this.requestedSince !== null });
        return;
      case "error":
        // A refused `since` (its event was deleted) is answered with an
        // error and no subscription: subscribe afresh; the page refetches.
        if (this.awaitingSubscribed && this.requestedSince) this.subscribe(ws, null);
        return;
      default:
        this.onMessage(message);
    }
  }

  heard(ws) {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      if (this.socket !== ws) return;
      this.discard(ws, CLOSE_NORMAL);
      this.retryLater();
    }, SILENCE_MS);
  }

  discard(ws, code) {
    ws.onclose = ws.onmessage = ws.onopen = null;
    if (this.socket === ws) this.socket = null;
    clearTimeout(this.silenceTimer);
    try {
      ws.close(code);
    } catch {
      // Already closing.
    }
  }

  retryLater() {
    if (this.stopped) return;
    this.show("reconnecting");
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.failures);
    this.failures += 1;
    // Jitter spreads the reconnects of every open tab after a server restart.
    const wait = base * (0.8 + Math.random() * 0.4);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  reconnectNow() {
    if (this.stopped) return;
    this.failures = Math.max(this.failures, 1);
    this.open();
  }

  goOffline() {
    clearTimeout(this.retryTimer);
    if (this.socket) this.discard(this.socket, CLOSE_NORMAL);
    this.failures = Math.max(this.failures, 1);
    this.show("reconnecting");
  }

  show(state) {
    if (!this.indicator) return;
    const [label, title] = LABELS[state];
    this.indicator.hidden = false;
    this.indicator.dataset.state = state;
    this.indicator.textContent = label;
    this.indicator.title = title;
  }
}

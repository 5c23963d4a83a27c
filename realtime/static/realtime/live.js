// Live updates for the dashboard, an endpoint's page and an event's page.
//
// Loaded as a module by those three templates. It finds the page's data-*
// hooks, subscribes `/v1/ws` to what the page shows (dashboard: every
// endpoint; endpoint page: that endpoint; event page: its endpoint), and
// hands each message to the page's view. See the README, "Live stream",
// and realtime/envelope.py for the message shapes.

import { LiveSocket } from "./socket.js";
import { EventStream } from "./stream.js";
import { Timeline } from "./timeline.js";

function pageView() {
  const event = document.querySelector("#event[data-event-id][data-endpoint-id]");
  const attempts = document.getElementById("attempts");
  if (event && attempts) return new Timeline(event, attempts);
  const stream = document.getElementById("event-stream");
  if (stream) {
    return new EventStream(stream, {
      endpointsTable: document.getElementById("endpoints"),
      endpointHeader: document.querySelector("#endpoint[data-endpoint-id]"),
      tools: document.getElementById("stream-tools"),
    });
  }
  return null;
}

const view = pageView();
if (view) {
  new LiveSocket({
    endpoints: view.subscription(),
    since: () => view.since(),
    onMessage: (message) => {
      view.receive(message);
      // Other modules of the page (monitoring's open alerts) listen here
      // instead of opening a second socket.
      document.dispatchEvent(new CustomEvent("hookline:message", { detail: message }));
    },
    onSubscribed: (state) => view.onSubscribed(state),
    indicator: document.getElementById("live-status"),
  }).start();
}

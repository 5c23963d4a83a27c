// Keeps an endpoint's server-rendered charts current: on every event or
// attempt of the endpoint (over `/v1/ws`), the chart images are fetched
// again, at most once every REFRESH_MS.

import { LiveSocket } from "../realtime/socket.js";

const REFRESH_MS = 3000;
const page = document.querySelector("#monitoring[data-endpoint-id]");
const charts = [...document.querySelectorAll("img[data-chart]")];
let timer = null;

function refresh() {
  timer = null;
  for (const chart of charts) {
    const url = new URL(chart.src, window.location.href);
    url.searchParams.set("t", String(Date.now()));
    chart.src = url.toString();
  }
}

function soon() {
  if (timer === null) timer = setTimeout(refresh, REFRESH_MS);
}

if (page && charts.length) {
  new LiveSocket({
    endpoints: [page.dataset.endpointId],
    since: () => null,
    onMessage: (message) => {
      if (message.channel === "events" || message.channel === "deliveries") soon();
    },
    onSubscribed: () => soon(),
    indicator: document.getElementById("live-status"),
  }).start();
}

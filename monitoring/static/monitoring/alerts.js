// The dashboard's open alerts, kept live: `alert.opened` adds a row,
// `alert.resolved` removes it. Messages arrive through live.js's socket as
// "hookline:message" DOM events; text only ever enters the page as text.

import { h } from "../realtime/dom.js";

const list = document.querySelector("[data-open-alerts]");
const empty = list ? list.querySelector("[data-no-alerts]") : null;

function row(alert) {
  const endpointName = document.querySelector(`#endpoints tr[data-endpoint-id="${CSS.escape(alert.endpoint)}"] [data-field="name"]`);
  return h(
    "li",
    { "data-alert-id": alert.id, "data-endpoint-id": alert.endpoint },
    h("span", { class: "badge", "data-alert-type": alert.type }, alert.type),
    " ",
    h("a", { href: `/endpoints/${encodeURIComponent(alert.endpoint)}/monitoring/` }, endpointName ? endpointName.textContent : alert.endpoint),
    " ",
    h("span", { class: "muted" }, alert.detail),
  );
}

function existing(id) {
  return list.querySelector(`li[data-alert-id="${CSS.escape(id)}"]`);
}

if (list) {
  document.addEventListener("hookline:message", (event) => {
    const message = event.detail;
    if (message.channel !== "alerts" || !message.data) return;
    const current = existing(message.data.id);
    if (message.type === "alert.opened" && !current) list.prepend(row(message.data));
    if (message.type === "alert.resolved" && current) current.remove();
    empty.hidden = list.querySelectorAll("li[data-alert-id]").length > 0;
  });
}

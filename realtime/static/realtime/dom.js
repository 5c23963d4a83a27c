// DOM and formatting helpers for the live modules.
//
// Every value that came from the server (a message or an API answer) reaches
// the page through h(): as a text node or an attribute value, never as HTML,
// so a webhook's body, headers or an endpoint's name cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Same text as the templates' |date:"Y-m-d H:i:s" (times are UTC).
export function utcStamp(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  return moment.toISOString().slice(0, 19).replace("T", " ");
}

export function timeElement(iso) {
  return h("time", { datetime: iso }, utcStamp(iso));
}

// Same text as Django's |filesizeformat, so live rows match rendered ones.
export function fileSize(bytes) {
  const size = Number(bytes) || 0;
  const units = ["KB", "MB", "GB", "TB", "PB"];
  if (size < 1024) return `${size}\u00a0${size === 1 ? "byte" : "bytes"}`;
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)}\u00a0${units[unit]}`;
}

export function duration(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function truncate(text, limit) {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

// Small helpers shared by the page's modules: elements, cards, times, hex, API reads.

import { sha256 } from "./merkle.js";

// An element with attributes and children; text is set as text, never parsed as HTML (what
// the page shows comes from dropped files and the API).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

export function card(kind, verdict, rows = [], ...extra) {
  const list = el("dl");
  for (const [name, value] of rows) list.append(el("dt", {}, name), el("dd", {}, value));
  return el("div", { class: `card ${kind}` }, el("p", { class: "verdict" }, verdict), ...(rows.length ? [list] : []), ...extra);
}

export function when(seconds) {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

export function org(ref) {
  return ref && ref.name ? `${ref.name} (member ${ref.orgNo})` : `member ${ref ? ref.orgNo : "?"}`;
}

// GET a JSON document of the API: {status, body}; 404 is an answer, not an error.
export async function api(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok && response.status !== 404) {
    throw new Error(`the registry API answered ${response.status} to ${path}${body && body.error ? `: ${body.error}` : ""}`);
  }
  return { status: response.status, body };
}

export async function sha256Leaf(hex32) {
  const bytes = new Uint8Array(33);
  bytes.set(hexBytes(hex32), 1);
  return "0x" + toHex(await sha256(bytes));
}

export function hexBytes(hex) {
  const digits = hex.replace(/^0x/, "");
  return Uint8Array.from(digits.match(/../g) || [], (b) => parseInt(b, 16));
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

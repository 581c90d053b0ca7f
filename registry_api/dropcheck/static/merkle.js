// RFC 6962 building blocks with WebCrypto SHA-256, shared by the hashing worker and the proof
// check (docs/hashing.md).

let fallback = null;

// WebCrypto's SHA-256; where the browser withholds WebCrypto (a page served over plain HTTP
// from another host than localhost is not a "secure context"), @noble/hashes' SHA-256 in
// JavaScript, slower but the same bytes.
export async function sha256(bytes) {
  if (globalThis.crypto && globalThis.crypto.subtle) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  fallback ??= (await import("/assets/npm/@noble/hashes/sha2.js")).sha256;
  return fallback(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes);
}

// SHA-256(0x01 ‖ left ‖ right): an inner node.
export async function nodeHash(left, right) {
  const buffer = new Uint8Array(65);
  buffer[0] = 0x01;
  buffer.set(left, 1);
  buffer.set(right, 33);
  return sha256(buffer);
}

export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

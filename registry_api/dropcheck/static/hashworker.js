// Content roots in a Web Worker, exactly as docs/hashing.md defines them: RFC 6962 over 1 MiB
// chunks with WebCrypto SHA-256, and for a folder the same tree over a manifest (header leaf,
// then one leaf per file sorted by the UTF-8 bytes of its NFC path).
//
// Memory stays bounded whatever the size: a file is read in 1 MiB slices, WINDOW at a time
// (Blob.slice, never the whole file), and the tree keeps only the roots of the complete
// subtrees seen so far (O(log n) hashes).
//
// Messages in:  {id, kind: "file", file}  or  {id, kind: "folder", entries: [{path, file}]}
// Messages out: {id, type: "progress", done, total}, {id, type: "done", root, leaves, files, bytes}
//               or {id, type: "error", message}

import { concat, nodeHash, sha256 } from "./merkle.js";

const CHUNK = 1 << 20;
const TAG = new TextEncoder().encode("IDSREG-DIR-V1\0");
const MAX_PATH_BYTES = 65535;

const LEAF_PREFIX = new Uint8Array([0x00]);
// Slices read and hashed at once: reading the next while hashing the previous keeps the disk
// and the hash busy; memory is this many MiB, whatever the file's size.
const WINDOW = 4;

async function leafHash(data) {
  return sha256(concat([LEAF_PREFIX, data]));
}

// SHA-256(0x00 ‖ chunk) of one slice, read with its prefix in one piece (no copy in JS).
async function chunkLeaf(file, offset, end) {
  let data;
  try {
    data = await new Blob([LEAF_PREFIX, file.slice(offset, end)]).arrayBuffer();
  } catch (error) {
    throw new Error(`cannot read ${file.name}: it changed or disappeared while it was hashed (${error.name})`);
  }
  if (data.byteLength !== end - offset + 1) throw new Error(`${file.name} changed while it was hashed`);
  return sha256(data);
}

// The streaming RFC 6962 tree: the roots of the complete subtrees so far, largest first.
class Accumulator {
  constructor() {
    this.stack = []; // [{size, hash}]
    this.count = 0;
  }

  async add(leaf) {
    let entry = { size: 1, hash: leaf };
    while (this.stack.length && this.stack[this.stack.length - 1].size === entry.size) {
      const left = this.stack.pop();
      entry = { size: left.size * 2, hash: await nodeHash(left.hash, entry.hash) };
    }
    this.stack.push(entry);
    this.count += 1;
  }

  // Folding the complete subtrees right to left gives RFC 6962's uneven split.
  async root() {
    if (!this.stack.length) return sha256(new Uint8Array(0));
    let hash = this.stack[this.stack.length - 1].hash;
    for (let i = this.stack.length - 2; i >= 0; i--) hash = await nodeHash(this.stack[i].hash, hash);
    return hash;
  }
}

class Progress {
  constructor(id, total) {
    this.id = id;
    this.total = total;
    this.done = 0;
    this.last = 0;
  }

  add(n) {
    this.done += n;
    const now = Date.now();
    if (now - this.last > 100 || this.done === this.total) {
      this.last = now;
      postMessage({ id: this.id, type: "progress", done: this.done, total: this.total });
    }
  }
}

// The file root; the file is read in 1 MiB slices, at most WINDOW at a time. A file that changes
// size while it is read is refused, as `idsreg hash` refuses it.
async function fileRoot(file, progress) {
  const tree = new Accumulator();
  const size = file.size;
  if (size === 0) {
    await tree.add(await leafHash(new Uint8Array(0)));
    return tree.root();
  }
  for (let offset = 0; offset < size; offset += WINDOW * CHUNK) {
    const batch = [];
    for (let at = offset; at < Math.min(size, offset + WINDOW * CHUNK); at += CHUNK) {
      batch.push(chunkLeaf(file, at, Math.min(at + CHUNK, size)));
    }
    for (const leaf of await Promise.all(batch)) await tree.add(leaf);
    progress.add(Math.min(size, offset + WINDOW * CHUNK) - offset);
  }
  return tree.root();
}

function u64(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

// UTF-8 byte order (= code point order), not JavaScript's UTF-16 code unit order.
function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

// The sorted manifest entries [{path, bytes, file}], or an Error naming the refused path.
function manifest(entries) {
  if (!entries.length) throw new Error("the folder has no files: it has no content to identify");
  const encoder = new TextEncoder();
  const seen = new Map();
  const out = [];
  for (const { path, file } of entries) {
    const nfc = path.normalize("NFC");
    const parts = nfc.split("/");
    if (parts.some((p) => p === "" || p === "." || p === "..")) throw new Error(`bad path in the folder: ${JSON.stringify(path)}`);
    if (nfc.includes("\uFFFD")) throw new Error(`the name ${JSON.stringify(path)} is not valid UTF-8`);
    if (seen.has(nfc)) {
      throw new Error(`two names become equal after Unicode NFC normalisation: ${JSON.stringify(seen.get(nfc))} and ${JSON.stringify(path)}`);
    }
    seen.set(nfc, path);
    const bytes = encoder.encode(nfc);
    if (bytes.length > MAX_PATH_BYTES) throw new Error(`the path ${JSON.stringify(path.slice(0, 80))}… is over ${MAX_PATH_BYTES} bytes`);
    out.push({ path: nfc, bytes, file });
  }
  out.sort((a, b) => compareBytes(a.bytes, b.bytes));
  return out;
}

async function folderRoot(entries, progress) {
  const sorted = manifest(entries);
  const total = sorted.reduce((n, e) => n + e.file.size, 0);
  const tree = new Accumulator();
  const header = concat([TAG, new Uint8Array([0x48]), u64(sorted.length), u64(total)]);
  await tree.add(await leafHash(header));
  for (const entry of sorted) {
    const root = await fileRoot(entry.file, progress);
    const length = new Uint8Array([entry.bytes.length >> 8, entry.bytes.length & 0xff]);
    const leaf = concat([TAG, new Uint8Array([0x45]), length, entry.bytes, u64(entry.file.size), root]);
    await tree.add(await leafHash(leaf));
  }
  return { root: await tree.root(), leaves: tree.count, files: sorted.length, bytes: total };
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

onmessage = async (event) => {
  const { id, kind } = event.data;
  try {
    if (kind === "file") {
      const file = event.data.file;
      const progress = new Progress(id, file.size);
      const root = await fileRoot(file, progress);
      postMessage({ id, type: "done", root: "0x" + hex(root), files: 1, bytes: file.size, leaves: Math.max(1, Math.ceil(file.size / CHUNK)) });
    } else if (kind === "folder") {
      const entries = event.data.entries;
      const progress = new Progress(id, entries.reduce((n, e) => n + e.file.size, 0));
      const result = await folderRoot(entries, progress);
      postMessage({ id, type: "done", ...result, root: "0x" + hex(result.root) });
    } else {
      throw new Error(`unknown request ${kind}`);
    }
  } catch (error) {
    postMessage({ id, type: "error", message: error.message });
  }
};

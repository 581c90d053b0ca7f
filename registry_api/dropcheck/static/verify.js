// Verify by drop: the page's start-up. Hashing runs in hashworker.js; this module gathers what
// was dropped, asks the API about roots, anchors and members (GET only: nothing dropped is
// sent), and checks proof files and receipt files in the browser (evidence.js).

import { api, card, el, org, sha256Leaf, when } from "./ui.js";

const $ = (id) => document.getElementById(id);
const state = { root: null, jobs: 0 };
const worker = new Worker("/assets/verify/hashworker.js", { type: "module" });
const pending = new Map();

worker.onmessage = (event) => {
  const message = event.data;
  const job = pending.get(message.id);
  if (!job) return;
  if (message.type === "progress") {
    $("progress").max = Math.max(1, message.total);
    $("progress").value = message.done;
    $("progress-text").textContent = `${mib(message.done)} of ${mib(message.total)} MiB`;
    return;
  }
  pending.delete(message.id);
  if (message.type === "done") job.resolve(message);
  else job.reject(new Error(message.message));
};

function hashInWorker(request) {
  const id = ++state.jobs;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, ...request });
  });
}

function mib(bytes) {
  return (bytes / 1048576).toFixed(bytes < 10485760 ? 2 : 0);
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

// ----- what was dropped ---------------------------------------------------------------------

function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

// Every file under a dropped directory entry, with its path relative to that directory.
async function walk(directory, prefix, out) {
  const reader = directory.createReader();
  for (;;) {
    const batch = await readEntries(reader); // at most 100 at a time in Chromium
    if (!batch.length) return out;
    for (const entry of batch) {
      if (entry.isDirectory) await walk(entry, `${prefix}${entry.name}/`, out);
      else out.push({ path: `${prefix}${entry.name}`, file: await entryFile(entry) });
    }
  }
}

// A dropped or picked item: {kind: "file", file} or {kind: "folder", name, entries}.
async function fromDataTransfer(transfer) {
  const entries = Array.from(transfer.items || [])
    .filter((item) => item.kind === "file")
    .map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  if (entries.length && entries.every(Boolean)) {
    const items = [];
    for (const entry of entries) {
      if (entry.isDirectory) items.push({ kind: "folder", name: entry.name, entries: await walk(entry, "", []) });
      else items.push({ kind: "file", file: await entryFile(entry) });
    }
    return items;
  }
  return Array.from(transfer.files).map((file) => ({ kind: "file", file }));
}

// A folder picked with webkitdirectory: paths come as "folder/sub/name".
function fromFolderInput(files) {
  const list = Array.from(files);
  if (!list.length) return [];
  const name = list[0].webkitRelativePath.split("/")[0];
  const entries = list.map((file) => ({ path: file.webkitRelativePath.split("/").slice(1).join("/"), file }));
  return [{ kind: "folder", name, entries }];
}

// The proof and receipt checks, loaded when first needed: they import the npm libraries, and
// hashing must work even where those are not installed.
async function evidenceChecks() {
  try {
    return await import("./evidence.js");
  } catch (error) {
    showError(`the proof and receipt checks cannot load (are the npm packages installed? scripts/setup): ${error.message}`);
    return null;
  }
}

async function handle(items) {
  showError("");
  const checks = await evidenceChecks();
  const data = [];
  for (const item of items) {
    const evidence = checks && item.kind === "file" ? await checks.classify(item.file) : null;
    if (evidence) await showEvidence(evidence, checks);
    else data.push(item);
  }
  if (data.length > 1) {
    showError(`drop one file or one folder at a time to compute its root (got ${data.length})`);
    return;
  }
  if (data.length === 1) await hashAndLookUp(data[0]);
}

// ----- the content root and what the registry knows of it ------------------------------------

async function hashAndLookUp(item) {
  $("result").hidden = true;
  $("hashing").hidden = false;
  $("progress").value = 0;
  const label = item.kind === "file" ? `file ${item.file.name}` : `folder ${item.name}/`;
  $("hashing-what").textContent = `Hashing ${label} in this browser…`;
  let result;
  try {
    result =
      item.kind === "file"
        ? await hashInWorker({ kind: "file", file: item.file })
        : await hashInWorker({ kind: "folder", entries: item.entries });
  } catch (error) {
    $("hashing").hidden = true;
    showError(`cannot compute the root of ${label}: ${error.message}`);
    document.body.dataset.state = "error";
    return;
  }
  $("hashing-what").textContent = `Hashed ${label}.`;
  state.root = result.root;
  $("root").textContent = result.root;
  $("root-what").textContent =
    item.kind === "file"
      ? `${label}: ${result.bytes} bytes, ${result.leaves} chunk(s) of 1 MiB`
      : `${label}: ${result.files} file(s), ${result.bytes} bytes`;
  $("registration").replaceChildren(el("p", { class: "muted" }, "Asking the registry…"));
  $("anchors").replaceChildren();
  $("result").hidden = false;
  document.body.dataset.root = result.root;
  try {
    $("registration").replaceChildren(await registrationCard(result.root));
    $("anchors").replaceChildren(await anchorCard(result.root));
  } catch (error) {
    showError(error.message);
  }
  document.body.dataset.state = "looked-up";
}

async function registrationCard(root) {
  const { status, body } = await api(`/v1/datasets/${root}`);
  if (status === 404) {
    return card("none", "Not registered", [["", "No dataset with this content root is registered (as far as this service has indexed the chain)."]]);
  }
  const link = el("a", { href: `/datasets/${root}`, id: "dataset-link" }, "dataset page");
  return card(
    "ok",
    `Registered by ${org(body.registrant)}`,
    [
      ["registrant", org(body.registrant)],
      ["grade", body.grade],
      ["registered", `${when(body.registeredAt)} (block ${body.registered.blockNumber})`],
      ["transaction", body.registered.txHash],
      ["metadata", body.metadataUri || "—"],
    ],
    el("p", {}, "See the ", link, "."),
  );
}

// Anchored alone (a one-item tree, whose root is SHA-256(0x00 ‖ content root)); an anchor in a
// batch is shown by the batch's proof file.
async function anchorCard(root) {
  const single = await sha256Leaf(root);
  const { status, body } = await api(`/v1/anchors/${single}`);
  if (status === 404 || body.leafCount !== 1) {
    return card("none", "Not anchored alone", [["", "No anchor of this root on its own; drop its proof file to check an anchor in a batch."]]);
  }
  return card("ok", `Anchored by ${org(body.org)}`, [
    ["anchored", `${when(body.anchoredAt)} (block ${body.anchored.blockNumber})`],
    ["anchor root", body.root],
    ["transaction", body.anchored.txHash],
  ]);
}

async function showEvidence(evidence, checks) {
  $("evidence").hidden = false;
  let result;
  try {
    result = evidence.kind === "proof" ? await checks.verifyProof(evidence, state.root) : await checks.verifyReceipt(evidence);
  } catch (error) {
    result = card("bad", `${evidence.name}: cannot check it`, [["reason", error.message]]);
  }
  $("evidence-list").prepend(result);
  document.body.dataset.evidence = String(Number(document.body.dataset.evidence || 0) + 1);
}

// ----- start-up --------------------------------------------------------------------------------

const drop = $("drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", async (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  try {
    await handle(await fromDataTransfer(event.dataTransfer));
  } catch (error) {
    showError(error.message);
  }
});
$("pick-file").addEventListener("change", async (event) => {
  await handle(Array.from(event.target.files).map((file) => ({ kind: "file", file })));
  event.target.value = "";
});
$("pick-folder").addEventListener("change", async (event) => {
  if (!event.target.files.length) {
    // The browser lists no files, and no name, for a folder with no files in it.
    showError("cannot compute the root of the folder: it has no files, so it has no content to identify");
    document.body.dataset.state = "error";
    return;
  }
  await handle(fromFolderInput(event.target.files));
  event.target.value = "";
});
if (!globalThis.crypto || !crypto.subtle) {
  // Browsers offer WebCrypto only to https:// pages and to http://localhost or 127.0.0.1.
  $("hashing-what").textContent = "This page is not served over HTTPS: it hashes with SHA-256 in JavaScript, which is slower than the browser's own.";
  $("hashing").hidden = false;
  document.body.dataset.webcrypto = "false";
}
document.body.dataset.ready = "true";

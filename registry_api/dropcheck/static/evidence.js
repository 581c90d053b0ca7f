// Proof files (docs/proofs.md) and receipt files (docs/licences.md) checked in the browser.
//
// A proof: SHA-256(0x00 ‖ leaf) and the audit path must lead to the root (RFC 9162 §2.1.3.2),
// and the API's index must hold that anchor as the file describes it (chain, contract,
// organisation, tree size, time, block, transaction).
// A receipt: the EIP-712 digest recomputed from its fields (keccak-256), both signatures
// recovered (secp256k1) to the keys the file names, each a key of the organisation the receipt
// names (the API's members), and the terms opening (keccak-256 of salt ‖ RFC 8785 document).
// Whether the ledger recorded the receipt is the chain's to say: `idsreg receipt verify`.

import { keccak_256 } from "@noble/hashes/sha3.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { concat, nodeHash } from "./merkle.js";
import { api, card, el, hexBytes, org, sha256Leaf, toHex, when } from "./ui.js";

const PROOF_FORMAT = "idsreg-inclusion-proof/1";
const RECEIPT_FORMAT = "idsreg-receipt/2";
const TERMS_FORMAT = "idsreg-terms/1";
const HEX32 = /^0x[0-9a-fA-F]{64}$/;
// A file larger than this is data, not evidence (proof and receipt files are a few KiB).
const EVIDENCE_MAX = 1 << 20;

// JSON with every whole number as a BigInt, read from its source text (a receipt's nonce is a
// uint256, beyond what a JavaScript number holds exactly).
function parseExact(text) {
  return JSON.parse(text, (_key, value, context) =>
    typeof value === "number" && context && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value,
  );
}

// {kind: "proof" | "receipt", name, doc} for a proof or receipt file, null for anything else.
export async function classify(file) {
  if (file.size > EVIDENCE_MAX || !/\.json$/i.test(file.name)) return null;
  let doc;
  try {
    doc = parseExact(await file.text());
  } catch {
    return null;
  }
  if (doc && doc.format === PROOF_FORMAT) return { kind: "proof", name: file.name, doc };
  if (doc && doc.format === RECEIPT_FORMAT) return { kind: "receipt", name: file.name, doc };
  return null;
}

class Refusal extends Error {}

function need(condition, message) {
  if (!condition) throw new Refusal(message);
}

function hex32(doc, name) {
  need(typeof doc[name] === "string" && HEX32.test(doc[name]), `its ${name} ${JSON.stringify(doc[name])} is not 32 bytes of 0x-hex`);
  return doc[name].toLowerCase();
}

function whole(doc, name, bits = 64) {
  const value = doc[name];
  need(typeof value === "bigint" && value >= 0n && value < 1n << BigInt(bits), `its ${name} ${JSON.stringify(String(value))} is not a whole number of ${bits} bits`);
  return value;
}

// RFC 9162 §2.1.3.2: the root that the leaf hash and the audit path lead to.
async function rootFromPath(leafHash, index, size, path) {
  need(index < size, `leaf index ${index} is out of range for a tree of ${size} leaves`);
  let fn = index;
  let sn = size - 1n;
  let r = leafHash;
  for (const p of path) {
    need(sn !== 0n, `the audit path is too long for leaf ${index} of ${size}`);
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      while (!(fn & 1n) && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  need(sn === 0n, `the audit path is too short for leaf ${index} of ${size}`);
  return r;
}

// The anchor the proof names, from the API's index: the anchoring organisation's own anchor of
// the root (each organisation that anchors a root has its own).
async function findAnchor(root, orgId) {
  const { status, body } = await api(`/v1/anchors/${root}`);
  if (status === 404) return null;
  if (body.org.orgId && body.org.orgId.toLowerCase() === orgId) return body;
  let cursor = "";
  for (;;) {
    const page = await api(`/v1/anchors?org=${orgId}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (page.status === 404) return null;
    const found = page.body.data.find((a) => a.root.toLowerCase() === root);
    if (found) return found;
    if (!page.body.nextCursor) return null;
    cursor = page.body.nextCursor;
  }
}

export async function verifyProof({ name, doc }, droppedRoot) {
  try {
    const leaf = hex32(doc, "leaf");
    const root = hex32(doc, "root");
    const anchoredBy = hex32(doc, "anchoredBy");
    const blockHash = hex32(doc, "blockHash");
    const transaction = hex32(doc, "transaction");
    const index = whole(doc, "leafIndex");
    const size = whole(doc, "treeSize");
    need(Array.isArray(doc.path), "its path is not a list");
    doc.path.forEach((p, i) => need(typeof p === "string" && HEX32.test(p), `its path element ${i} ${JSON.stringify(p)} is not 32 bytes of 0x-hex`));
    const reached = "0x" + toHex(await rootFromPath(hexBytes(await sha256Leaf(leaf)), index, size, doc.path.map(hexBytes)));
    need(reached === root, `the inclusion proof does not hold: leaf ${index} of a tree of ${size} leads to root ${reached}, not to the file's root ${root}`);

    const status = (await api("/v1/status")).body;
    need(String(status.chainId) === String(doc.chainId), `the proof is for chain ${doc.chainId}; this registry is chain ${status.chainId}`);
    const contract = (status.contracts && status.contracts.AnchorRegistry) || "";
    need(typeof doc.contract === "string" && contract.toLowerCase() === doc.contract.toLowerCase(), `the proof names anchor contract ${doc.contract}; this registry's is ${contract}`);
    const anchor = await findAnchor(root, anchoredBy);
    need(anchor !== null, `root ${root} is not anchored by organisation ${anchoredBy} (as far as this service has indexed the chain)`);
    const differs = [
      ["tree size", size, anchor.leafCount],
      ["anchoring time", whole(doc, "anchoredAt"), anchor.anchoredAt],
      ["block", whole(doc, "blockNumber"), anchor.anchored.blockNumber],
      ["block hash", blockHash, anchor.blockHash.toLowerCase()],
      ["transaction", transaction, anchor.anchored.txHash.toLowerCase()],
    ].find(([, claimed, indexed]) => String(claimed) !== String(indexed));
    need(!differs, differs && `the proof says ${differs[0]} ${differs[1]}; the anchor on the chain has ${differs[2]}`);

    const rows = [
      ["item", `${doc.item || "—"} (leaf ${index} of ${size})`],
      ["content root", leaf],
      ["anchor root", root],
      ["anchored", `${when(anchor.anchoredAt)} by ${org(anchor.org)} (block ${anchor.anchored.blockNumber})`],
      ["transaction", anchor.anchored.txHash],
    ];
    if (droppedRoot) {
      rows.push(["dropped content", droppedRoot === leaf ? "is this proof's item (same content root)" : `has root ${droppedRoot}, not this proof's item`]);
    }
    const verdict = `${name}: the proof holds — anchored by ${org(anchor.org)}`;
    if (droppedRoot && droppedRoot !== leaf) return card("warn", `${verdict}, but for other content than the one hashed here`, rows);
    return card("ok", verdict, rows);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return card("bad", `${name}: the proof does not verify`, [["reason", error.message]]);
  }
}

// ----- receipts --------------------------------------------------------------------------------

const text = (s) => new TextEncoder().encode(s);
const keccak = (bytes) => keccak_256(bytes);

function word(value) {
  const out = new Uint8Array(32);
  let v = BigInt(value);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

// The EIP-712 types, as client/eip712.py and ExchangeLedger.sol define them.
const RECEIPT_FIELDS = [
  ["dataset", "bytes32"],
  ["grantSerial", "uint32"],
  ["provider", "bytes32"],
  ["consumer", "bytes32"],
  ["deliveredRoot", "bytes32"],
  ["termsCommitment", "bytes32"],
  ["deliveredAt", "uint64"],
  ["nonce", "uint256"],
];
const DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const RECEIPT_TYPE = `Receipt(${RECEIPT_FIELDS.map(([n, t]) => `${t} ${n}`).join(",")})`;

function receiptDigest(chainId, ledger, fields) {
  const domain = keccak(concat([keccak(text(DOMAIN_TYPE)), keccak(text("IDS Registry")), keccak(text("1")), word(chainId), word(BigInt(ledger))]));
  const struct = keccak(concat([keccak(text(RECEIPT_TYPE)), ...RECEIPT_FIELDS.map(([n, t]) => (t === "bytes32" ? hexBytes(fields[n]) : word(fields[n])))]));
  return keccak(concat([new Uint8Array([0x19, 0x01]), domain, struct]));
}

// The address whose key made a 65-byte signature (r ‖ s ‖ v) over a 32-byte digest, or null.
function recoverAddress(digest, signatureHex) {
  if (typeof signatureHex !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signatureHex)) return null;
  const bytes = hexBytes(signatureHex);
  const v = bytes[64] >= 27 ? bytes[64] - 27 : bytes[64];
  if (v !== 0 && v !== 1) return null;
  try {
    const point = secp256k1.Signature.fromBytes(bytes.subarray(0, 64), "compact").addRecoveryBit(v).recoverPublicKey(digest);
    return "0x" + toHex(keccak(point.toBytes(false).subarray(1)).subarray(12));
  } catch {
    return null;
  }
}

// RFC 8785 for a terms document, whose values are all strings: keys sorted by UTF-16 code
// units, strings as ECMAScript's JSON.stringify writes them (which RFC 8785 adopts).
function canonicalTerms(terms) {
  need(terms && typeof terms === "object" && !Array.isArray(terms), "its terms are not a JSON object");
  const keys = Object.keys(terms).sort();
  keys.forEach((k) => need(typeof terms[k] === "string", `its terms field ${k} is not a string`));
  return text(`{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(terms[k])}`).join(",")}}`);
}

async function member(orgId) {
  const { status, body } = await api(`/v1/members/${orgId}`);
  return status === 404 ? null : body;
}

export async function verifyReceipt({ name, doc }) {
  try {
    need(doc.receipt && typeof doc.receipt === "object", "it has no receipt fields");
    const fields = {};
    for (const [field, type] of RECEIPT_FIELDS) {
      fields[field] = type === "bytes32" ? hex32(doc.receipt, field) : whole(doc.receipt, field, Number(type.slice(4)));
    }
    const chainId = whole(doc, "chainId", 256);
    need(typeof doc.ledger === "string" && /^0x[0-9a-fA-F]{40}$/.test(doc.ledger), `its ledger ${JSON.stringify(doc.ledger)} is not an address`);
    const digest = receiptDigest(chainId, doc.ledger, fields);
    const digestHex = "0x" + toHex(digest);
    const stated = typeof doc.digest === "string" ? doc.digest.toLowerCase() : null;
    const changed = stated !== null && stated !== digestHex;

    need(doc.terms !== undefined && typeof doc.salt === "string" && /^0x[0-9a-fA-F]{64}$/.test(doc.salt), "it has no terms opening (terms and a 32-byte salt)");
    need(doc.terms.format === TERMS_FORMAT, `its terms document's format is not ${TERMS_FORMAT}`);
    const commitment = "0x" + toHex(keccak(concat([hexBytes(doc.salt), canonicalTerms(doc.terms)])));
    need(commitment === fields.termsCommitment, `its terms and salt give commitment ${commitment}, not the receipt's termsCommitment ${fields.termsCommitment}`);

    const rows = [["digest", digestHex]];
    for (const party of ["provider", "consumer"]) {
      const entry = doc.signatures && doc.signatures[party];
      need(entry && typeof entry.key === "string", `it has no ${party} signature yet`);
      const recovered = recoverAddress(digest, entry.signature);
      need(recovered !== null, `its ${party} signature ${JSON.stringify(entry.signature)} is malformed`);
      if (recovered !== entry.key.toLowerCase()) {
        if (changed) {
          const signedKey = recoverAddress(hexBytes(stated), entry.signature);
          need(false, `the receipt no longer matches what the ${party} signed: its fields were changed after signing (the file states digest ${stated}, its fields give ${digestHex}${signedKey === entry.key.toLowerCase() ? `, which key ${entry.key} signed` : ""})`);
        }
        need(false, `the ${party} signature was not made by the named key ${entry.key} over this receipt (it recovers to ${recovered}): the receipt was changed after signing, or another key signed it`);
      }
      const organisation = await member(fields[party]);
      need(organisation !== null, `the ${party} ${fields[party]} is not a member organisation`);
      const key = organisation.keys.find((k) => k.address.toLowerCase() === recovered);
      need(key !== undefined, `the ${party} signature was made by key ${entry.key}, which is not a key of ${organisation.name} (member ${organisation.orgNo})`);
      rows.push([party, `${organisation.name} (member ${organisation.orgNo}), signed by its ${key.role} key ${key.address}`]);
    }
    rows.push(["dataset", fields.dataset], ["delivered root", fields.deliveredRoot], ["delivered", when(fields.deliveredAt)], ["grant serial", String(fields.grantSerial)]);
    const terms = Object.entries(doc.terms).filter(([k]) => k !== "format" && k !== "kind");
    rows.push(["terms", terms.map(([k, v]) => `${k} ${v}`).join(", ") + " (the opening matches the commitment)"]);
    const note = el("p", { class: "muted" }, "Whether the ledger recorded it is the chain's to say: ", el("code", {}, "idsreg receipt verify FILE"), ".");
    return card("ok", `${name}: both signatures verify`, rows, note);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return card("bad", `${name}: the receipt does not verify`, [["reason", error.message]]);
  }
}

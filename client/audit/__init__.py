"""Audit bundles: a dataset's whole history as one file that verifies offline (docs/audit.md).

| module | owns |
|---|---|
| `evidence.py` | block-level evidence: header RLP and hash, consensus receipts, receipts-trie proofs, blooms |
| `facts.py` | the one rule that says which logs are facts about a dataset (export and verifier share it) |
| `bundle.py` | the typed bundle model, its canonical bytes (RFC 8785 JSON) and the strict loader |
| `export.py` | collecting a bundle from a node |
| `verify.py` | verifying a bundle's bytes with no node |
| `openings.py` | terms openings the exporting party holds |
| `report.py` | the HTML report a person reads, built from a verified bundle |
| `report_pdf.py` | the same report as a PDF (ReportLab) |
| `lineage_svg.py` | the lineage picture (inline SVG) in the report |
| `prov.py` | a verified bundle as W3C PROV-JSON |
| `online.py` | a verified bundle re-checked against a node: chain id, every header, the facts' receipts |
| `trust.py` | the last block authenticated by cosigned checkpoints (client/checkpoints.py) and the council file |
"""

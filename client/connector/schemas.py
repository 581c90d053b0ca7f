"""The official DSP 2025-1 JSON Schemas as a local registry (no network): validate a message by its type.

The schemas are not part of this project: they are read where the specification's release is
kept (`../shared/dsp/2025-1/` next to the checkout, or a folder given explicitly). Their `$id`s
are `https://w3id.org/dspace/2025/1/...`; every file is registered under its `$id`, so `$ref`s
resolve locally. Three transfer schemas of the published release refer to
`transfer-schema.json#definitions/...`, a JSON Pointer without its leading `/` that strict
resolvers reject; those fragments are read as `#/definitions/...` in memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

from ..errors import ConfigError
from ..locations import checkout_root

BASE = "https://w3id.org/dspace/2025/1/"
RELEASE = Path("shared") / "dsp" / "2025-1"

#: Message (or resource) type → schema file, relative to the release folder.
SCHEMA_OF: dict[str, str] = {
    "CatalogRequestMessage": "catalog/catalog-request-message-schema.json",
    "DatasetRequestMessage": "catalog/dataset-request-message-schema.json",
    "Catalog": "catalog/catalog-schema.json",
    "Dataset": "catalog/dataset-schema.json",
    "CatalogError": "catalog/catalog-error-schema.json",
    "ContractRequestMessage": "negotiation/contract-request-message-schema.json",
    "ContractOfferMessage": "negotiation/contract-offer-message-schema.json",
    "ContractAgreementMessage": "negotiation/contract-agreement-message-schema.json",
    "ContractAgreementVerificationMessage": "negotiation/contract-agreement-verification-message-schema.json",
    "ContractNegotiationEventMessage": "negotiation/contract-negotiation-event-message-schema.json",
    "ContractNegotiationTerminationMessage": "negotiation/contract-negotiation-termination-message-schema.json",
    "ContractNegotiation": "negotiation/contract-negotiation-schema.json",
    "ContractNegotiationError": "negotiation/contract-negotiation-error-schema.json",
    "TransferRequestMessage": "transfer/transfer-request-message-schema.json",
    "TransferStartMessage": "transfer/transfer-start-message-schema.json",
    "TransferSuspensionMessage": "transfer/transfer-suspension-message-schema.json",
    "TransferCompletionMessage": "transfer/transfer-completion-message-schema.json",
    "TransferTerminationMessage": "transfer/transfer-termination-message-schema.json",
    "TransferProcess": "transfer/transfer-process-schema.json",
    "TransferError": "transfer/transfer-error-schema.json",
    "VersionResponse": "common/protocol-version-schema.json",
}

_BAD_POINTER = re.compile(r'("\$ref"\s*:\s*"[^"#]*#)(definitions/)')


class SchemaViolation(ConfigError):
    """A message that does not validate against its official schema (message names where)."""

    def __init__(self, kind: str, error: ValidationError) -> None:
        where = "/".join(str(p) for p in error.absolute_path) or "(the message)"
        super().__init__(f"{kind} does not follow the DSP 2025-1 schema at {where}: {error.message}")
        self.kind = kind


def release_candidates() -> list[Path]:
    """Where the release is looked for: `../shared/dsp/2025-1` next to this checkout, then next to
    the main checkout when this is a git worktree (its `.git` file names the common folder)."""
    root = checkout_root()
    if root is None:  # an installed package: only a folder given explicitly
        return []
    found = [root.parent / RELEASE]
    git = root / ".git"
    if git.is_file():
        text = git.read_text().strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.removeprefix("gitdir:").strip())
            common = gitdir.parent.parent if gitdir.parent.name == "worktrees" else gitdir
            found.append(common.parent.parent / RELEASE)
    return found


def find_release() -> Path | None:
    """The first folder of `release_candidates` that holds the schemas, if any."""
    for path in release_candidates():
        if (path / SCHEMA_OF["Catalog"]).is_file():
            return path
    return None


class Schemas:
    """The schemas of one release folder, registered under their `$id`s."""

    def __init__(self, folder: Path) -> None:
        if not (folder / SCHEMA_OF["Catalog"]).is_file():
            raise ConfigError(f"{folder} holds no DSP 2025-1 schemas (no {SCHEMA_OF['Catalog']})")
        self.folder = folder
        resources = []
        for path in sorted(folder.glob("*/*-schema.json")):
            text = _BAD_POINTER.sub(r"\1/\2", path.read_text())
            contents = json.loads(text)
            resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT201909)))
        self._registry: Registry[Any] = Registry().with_resources(resources)
        self._validators: dict[str, Draft201909Validator] = {}

    def validator(self, kind: str) -> Draft201909Validator:
        if kind not in SCHEMA_OF:
            raise ConfigError(f"{kind!r} is not a DSP 2025-1 message type this connector knows")
        if kind not in self._validators:
            schema = self._registry.contents(BASE + SCHEMA_OF[kind])
            self._validators[kind] = Draft201909Validator(schema, registry=self._registry)
        return self._validators[kind]

    def validate(self, message: Mapping[str, Any], kind: str | None = None) -> None:
        """Refuse, with a SchemaViolation naming where, a message that its schema does not accept.

        `kind` defaults to the message's `@type` (the version response has none: pass "VersionResponse").
        """
        name = kind or str(message.get("@type", ""))
        error = next(iter(sorted(self.validator(name).iter_errors(message), key=lambda e: e.path)), None)
        if error is not None:
            raise SchemaViolation(name, error)


@lru_cache(maxsize=4)
def load(folder: Path) -> Schemas:
    """The schemas of `folder`, read once per process."""
    return Schemas(folder)

"""The examples in the packages' docstrings run and give what they show.

Modules are found by walking the packages, not listed by hand, so a module that gains an
example is tested without anyone remembering to add it here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import client
import registry_api


def _modules() -> list[str]:
    names = []
    for package in (client, registry_api):
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if info.name.endswith("__main__"):
                continue  # running it would start the program
            names.append(info.name)
    return sorted(names)


def _examples(module: str) -> int:
    finder = doctest.DocTestFinder(exclude_empty=True)
    return sum(len(test.examples) for test in finder.find(importlib.import_module(module)))


MODULES_WITH_EXAMPLES = [name for name in _modules() if _examples(name) > 0]


def test_examples_are_found() -> None:
    # The public crypto and hashing modules document themselves with examples (STYLE.md).
    expected_modules = (
        "client.hashing",
        "client.directory",
        "client.merkle",
        "client.grants",
        "client.siwe",
        "client.files",
    )
    for expected in expected_modules:
        assert expected in MODULES_WITH_EXAMPLES, expected
    assert _examples("client.merkle") > 10
    assert _examples("client.hashing") + _examples("client.directory") > 5


@pytest.mark.parametrize("module", MODULES_WITH_EXAMPLES)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0

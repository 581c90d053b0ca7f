"""registry_api has one root error: every exception class the package defines derives from it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import registry_api
from client.errors import ConfigError, IdsRegistryError
from registry_api.errors import RegistryApiError


def _defined_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(registry_api.__path__, "registry_api."):
        if info.name.endswith(".__main__"):
            continue  # runs the command line
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_registry_api_error_derives_from_its_root() -> None:
    defined = _defined_exceptions()
    names = {f"{e.__module__}.{e.__qualname__}" for e in defined}
    assert {"registry_api.errors.ProjectionError", "registry_api.api.limits.BodyRefused"} <= names, names
    strays = sorted(f"{e.__module__}.{e.__qualname__}" for e in defined if not issubclass(e, RegistryApiError))
    assert strays == []
    # The service's errors are its own, not the client's, yet a command line reports them alike.
    assert not any(issubclass(e, ConfigError) for e in defined)
    assert issubclass(RegistryApiError, IdsRegistryError)

"""A registry whose entries are modules, each imported when first looked up: the configuration
can list and check the names of the kinds of source and channel without loading their code
(reading alerts never loads the HTTP client; loading the configuration never loads the fetcher).

A plug-in adds an entry as to a dict (``KINDS["notebook"] = KIND``): the object itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class LazyRegistry(MutableMapping[str, T], Generic[T]):
    """Name → the ``KIND`` of a module, imported on first use; entries added as objects."""

    def __init__(self, modules: dict[str, str], attribute: str = "KIND") -> None:
        self._modules = dict(modules)
        self._attribute = attribute
        self._loaded: dict[str, T] = {}

    def __getitem__(self, name: str) -> T:
        if name not in self._loaded:
            module = self._modules[name]  # KeyError: not registered
            found: Any = getattr(importlib.import_module(module), self._attribute)
            self._loaded[name] = found
        return self._loaded[name]

    def __setitem__(self, name: str, value: T) -> None:
        self._loaded[name] = value

    def __delitem__(self, name: str) -> None:
        found = name in self._loaded or name in self._modules
        self._loaded.pop(name, None)
        self._modules.pop(name, None)
        if not found:
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from (n for n in self._loaded if n not in self._modules)

    def __len__(self) -> int:
        return len(set(self._modules) | set(self._loaded))

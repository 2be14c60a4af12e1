"""An official client package's message types without the package's clients.

Every ML API service reads and writes Google's messages as the `google-cloud-*` packages'
proto-plus types (`google.cloud.language_v1.Document`), but only the `cloud` backend calls
Google. Importing `google.cloud.language_v1` runs its `__init__`, which imports the service
clients, their gRPC and REST transports, `google.api_core.gapic_v1`, grpc and google-auth's
crypto: 0.17-0.35 s of a service's start, where the types themselves take 0.04 s
(`python -X importtime`). The types live in the package's `types` subpackage, which imports
nothing from the package but itself and protobuf; Python imports a parent package before a
child, so this module loads the child under a stand-in parent that is removed again at once.

    language_v1 = message_types("google.cloud.language_v1")
    language_v1.Document(content="...")          # the same class the package exports

    client_class("google.cloud.language_v1", "LanguageServiceClient")  # on first use

The classes are the package's own: when the package is imported later (a `cloud` backend's
first call, a test), its `__init__` finds the loaded `types` modules and reuses them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

# Import is process-wide state: one stand-in at a time.
_lock = threading.Lock()


def message_types(package: str) -> types.ModuleType:
    """`package`'s `types` subpackage (every message and enum it exports), loaded without
    running `package`'s own `__init__` when nothing has imported it yet."""
    name = f"{package}.types"
    with _lock:
        if name in sys.modules or package in sys.modules:
            return importlib.import_module(name)
        spec = importlib.util.find_spec(package)
        if spec is None or spec.submodule_search_locations is None:
            raise ModuleNotFoundError(f"No package named {package!r}", name=package)
        stand_in = types.ModuleType(package)
        stand_in.__path__ = list(spec.submodule_search_locations)
        sys.modules[package] = stand_in
        try:
            return importlib.import_module(name)
        finally:
            if sys.modules.get(package) is stand_in:
                del sys.modules[package]


def client_class(package: str, name: str) -> Any:
    """The client class `name` of `package`, importing the whole package (clients,
    transports) now: what a `cloud` backend does on its first call, not at start."""
    module = importlib.import_module(package)
    if not hasattr(module, "types"):  # loaded by `message_types` before the package
        module.types = sys.modules[f"{package}.types"]
    return getattr(module, name)

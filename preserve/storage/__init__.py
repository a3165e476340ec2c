"""OCFL 1.1 storage (https://ocfl.io/1.1/spec/): the storage root and writing object versions.

`StorageRoot` (root.py) opens or creates a local storage root with the 0004 hashed n-tuple
layout (layout.py) and reads objects; `VersionBuilder` (version.py) stages one new version and
moves it in, with the root inventory (inventory.py) as the commit point and every write made
durable (fsync.py). Standard library and the core modules only.
"""

from preserve.storage.layout import object_path_for
from preserve.storage.root import StorageRoot
from preserve.storage.version import VersionBuilder

__all__ = ["StorageRoot", "VersionBuilder", "object_path_for"]

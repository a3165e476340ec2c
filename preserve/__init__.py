"""preserve: a preservation repository for national libraries and archives.

Deposits (BagIt bags, serialized bags, plain folders) are validated, checksummed and stored as
OCFL 1.1 objects with METS/PREMIS metadata; every action is an event in an SQL catalog.
See docs/design.md for the layers.
"""

__version__ = "0.1.0"
SOFTWARE_NAME = "preserve"

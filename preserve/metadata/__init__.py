"""Metadata adapter: METS 1.12.1 documents and their offline XSD validation (DESIGN.md, "Metadata").

lxml and xmlschema are used here and nowhere else in preserve. Builders are pure functions of
their inputs; validation never touches the network (schemas resolve through an XML catalog).
"""

from preserve.metadata.mets import DcValue, MetsFile, build_mets, write_mets
from preserve.metadata.premis import FileFormat, PremisEvent
from preserve.metadata.schemas import SchemaSet, find_schemas

__all__ = ["DcValue", "FileFormat", "MetsFile", "PremisEvent", "SchemaSet", "build_mets",
           "find_schemas", "write_mets"]

"""Workflow: keep `replication.copies` verified copies of every package (issue 13).

`replicate` copies what a package lacks at each location that should hold it, from a location
that holds it completely, through `preserve.storage.replica` (every file verified twice), and
records each copy in the catalog with a PREMIS `replication` event naming the location.
"""

from preserve.replicate.replicate import (
    ReplicaMade,
    ReplicationFailure,
    ReplicationReport,
    replicate,
)

__all__ = ["ReplicaMade", "ReplicationFailure", "ReplicationReport", "replicate"]

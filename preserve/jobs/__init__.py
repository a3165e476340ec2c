"""Background work on a PostgreSQL job queue (issue 14; DESIGN.md, "Scale-out").

`work.py` holds what each job does — replicate a package, audit a batch of due copies at one
location, repair a package's copies at one location — as repeatable calls of the workflows;
`identify.py` the deferred PRONOM identification of a version (`ingest --defer identify`),
`export.py` a queued export (`export --enqueue`), each recording its event once;
`queue.py` puts them on procrastinate's queue in the catalog's PostgreSQL database and runs
the worker (`preserve worker`). SQLite repositories have no queue: their commands run
everything in process. Importing this package loads nothing: procrastinate (the `postgres`
extra) is imported only by `preserve.jobs.queue`.
"""

"""Where an audit keeps the evidence of damage (DESIGN.md, "Rules": an audit never deletes or
fixes silently).

The stored file is copied, never moved (`preserve.storage.evidence.keep_copy`): the object
stays exactly as it was found. A copy from the local root goes to
`<repo>/quarantine/<run id>/<object path>/<content path>`, one from another location to
`<repo>/quarantine/<location>-audit-<time>/<path>`; the note is next to it as
`<name>.audit.json`.
"""

NOTE_SUFFIX = ".audit.json"

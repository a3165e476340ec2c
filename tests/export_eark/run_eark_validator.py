"""Run eark-validator offline on E-ARK packages; print one JSON document.

Usage: PYTHON run_eark_validator.py VOCABULARY_DIR PACKAGE [PACKAGE...]

Run by the interpreter of eark-validator's own virtualenv (it pins lxml 5.1.0, preserve needs
lxml >= 5.2, so the two cannot share one environment; the Makefile builds it in
.venv/eark-validator). eark-validator 1.1.3 downloads four CSIP vocabularies with
`urllib.request.urlopen` when `eark_validator.ipxml.schematron` is imported
(`SchematronTests.__vocabulary_definitions`, https://earkcsip.dilcis.eu/schema/CSIPVocabulary*.xml).
Before importing it, this script installs a urllib opener that has no network handler at all:
it answers those URLs from VOCABULARY_DIR (DILCISBoard/E-ARK-CSIP `schema/` copies) and
refuses every other URL, so a run can never reach the network.

For each package: the report eark-validator itself makes (structure, METS schema and the
CSIP + SIP Schematron rules of the root METS.xml), plus the same schema and Schematron
checks applied to every representation METS the root METS points at (the validator's
package check reads only the root METS).
"""

from __future__ import annotations

import email.message
import io
import json
import sys
import urllib.error
import urllib.request
import urllib.response
from pathlib import Path

VOCABULARY_URL = "https://earkcsip.dilcis.eu/schema/"


class LocalVocabularies(urllib.request.BaseHandler):
    """Serves https://earkcsip.dilcis.eu/schema/NAME from a folder; refuses anything else."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.served: list[str] = []

    def default_open(self, request: urllib.request.Request):
        url = request.full_url
        name = url[len(VOCABULARY_URL):] if url.startswith(VOCABULARY_URL) else ""
        if not name or "/" in name or not (self.folder / name).is_file():
            raise urllib.error.URLError(f"no network in tests: refused {url}")
        headers = email.message.Message()
        headers["Content-Type"] = "application/xml"
        self.served.append(name)
        return urllib.response.addinfourl(io.BytesIO((self.folder / name).read_bytes()),
                                          headers, url, 200)


def main(argv: list[str]) -> int:
    vocabularies = LocalVocabularies(Path(argv[1]))
    opener = urllib.request.OpenerDirector()  # no HTTP/HTTPS/FTP/file handlers: offline
    opener.add_handler(vocabularies)
    urllib.request.install_opener(opener)

    from eark_validator import rules
    from eark_validator.mets import MetsValidator
    from eark_validator.packages import PackageValidator
    from eark_validator.specifications.specification import SpecificationType, SpecificationVersion

    version = SpecificationVersion.V2_1_0
    result: dict = {"served_vocabularies": vocabularies.served, "packages": []}
    for package in map(Path, argv[2:]):
        report = PackageValidator(package, version).validation_report
        entry = {"path": str(package), "report": json.loads(report.model_dump_json()),
                 "representations": {}}
        validator = MetsValidator(str(package.absolute()))
        validator.validate_mets("METS.xml")
        for name in validator.representations:
            mets = package / validator.get_mets_path(name)
            schema = MetsValidator(str(mets.parent.absolute()))
            schema.validate_mets(mets.name)
            messages = [json.loads(m.model_dump_json()) for m in schema.validation_errors]
            for spec in (SpecificationType.CSIP, SpecificationType.SIP):
                profile = rules.ValidationProfile(spec, version)
                profile.validate(str(mets))
                messages += [json.loads(m.model_dump_json()) for m in profile.get_all_results()]
            entry["representations"][name] = messages
        result["packages"].append(entry)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

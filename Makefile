# Two commands do all set-up on a fresh machine with Python 3.11+:
#   make demo   virtualenv, install, build a multilingual sample deposit, validate, ingest, list,
#               show, audit, export (a zip for another archive), log
#   make test   virtualenv, install (with OpenStack Swift, the S3 server of the tests, in
#               .venv/swift), run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The official XSDs (METS, PREMIS, ...): ../shared/schemas on the development and CI machines.
SCHEMAS ?= $(wildcard ../shared/schemas)
DEMO := demo

.PHONY: demo serve screenshots test bench bench-quick bench-s3 clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	rm -rf $(DEMO)
	$(BIN)/python scripts/sample_deposit.py $(DEMO)/deposit
	$(BIN)/preserve --repo $(DEMO)/repo init $(if $(SCHEMAS),--schemas-dir $(abspath $(SCHEMAS)))
	$(BIN)/preserve --repo $(DEMO)/repo validate $(DEMO)/deposit
	@# exit 1 = stored with warnings (e.g. no XSDs here to validate the METS against: META-W004)
	$(BIN)/preserve --repo $(DEMO)/repo ingest $(DEMO)/deposit --id demo-manuscripts-0001 || test $$? -eq 1
	$(BIN)/preserve --repo $(DEMO)/repo list
	$(BIN)/preserve --repo $(DEMO)/repo show demo-manuscripts-0001
	$(BIN)/preserve --repo $(DEMO)/repo audit --all
	$(BIN)/preserve --repo $(DEMO)/repo export demo-manuscripts-0001 $(DEMO) --format zip || test $$? -eq 1
	$(BIN)/preserve --repo $(DEMO)/repo log demo-manuscripts-0001
	$(BIN)/preserve --repo $(DEMO)/repo log verify
	@# An admin account for the web app (`make serve`), with a random password kept beside it.
	@pw=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))') && \
	  printf '%s\n' "$$pw" | $(BIN)/preserve --repo $(DEMO)/repo users add demo --role admin --password-stdin && \
	  printf 'account: demo\npassword: %s\n' "$$pw" > $(DEMO)/login.txt
	$(BIN)/preserve --repo $(DEMO)/repo users list

# The web app (issue 15, docs/web.md) on the demo repository: `make demo` first.
PORT ?= 8080
serve: $(BIN)/.installed
	@test -f $(DEMO)/login.txt || $(MAKE) demo
	@echo "preserve web app on the demo repository: http://127.0.0.1:$(PORT)/"
	@echo "log in with ($(DEMO)/login.txt):" && sed 's/^/  /' $(DEMO)/login.txt
	$(BIN)/preserve --repo $(DEMO)/repo serve --port $(PORT)

# docs/screenshots/: every page in every language, taken from a running `make serve`, logged
# in as the demo admin.
screenshots: $(BIN)/.installed
	PRESERVE_WEB_USER=demo PRESERVE_WEB_PASSWORD="$$(sed -n 's/^password: //p' $(DEMO)/login.txt)" \
	  $(BIN)/python scripts/screenshots.py http://127.0.0.1:$(PORT) docs/screenshots demo-manuscripts-0001

# eark-validator 1.1.3 (the E-ARK oracle of tests/export_eark) pins lxml==5.1.0, preserve needs
# lxml>=5.2: it gets its own virtualenv inside .venv, run by the tests as a subprocess.
EARK_VALIDATOR := $(VENV)/eark-validator
$(EARK_VALIDATOR)/.installed: | $(BIN)/.installed
	$(BIN)/python -m venv $(EARK_VALIDATOR)
	$(EARK_VALIDATOR)/bin/python -m pip install -q eark-validator==1.1.3
	touch $@

# OpenStack Swift with s3api, the real S3 server of the tests (scripts/swift_server.py): its own
# virtualenv, as swift pins eventlet, greenlet and lxml of its own.
SWIFT := $(VENV)/swift
$(SWIFT)/.installed: | $(BIN)/.installed
	$(BIN)/python -m venv $(SWIFT)
	$(SWIFT)/bin/python -m pip install -q swift==2.38.3
	touch $@

test: $(BIN)/.installed $(EARK_VALIDATOR)/.installed $(SWIFT)/.installed
	PRESERVE_SCHEMAS=$(if $(SCHEMAS),$(abspath $(SCHEMAS))) $(BIN)/python -m pytest -q -p no:cacheprovider

# docs/performance.md: every shape, the 200,000-file scaling run, one 8 GiB file under a 1 GiB
# memory cgroup (root) and the 1,000,000-copy catalog query (34 minutes on 2 cores, 40 GB
# free in BENCH_WORK); bench-quick: a tenth, a laptop; bench-s3: replication to a local Swift.
BENCH_WORK ?= /tmp/preserve-bench
bench: $(BIN)/.installed
	PRESERVE_SCHEMAS=$(if $(SCHEMAS),$(abspath $(SCHEMAS))) $(BIN)/python -m benchmarks.run --shapes all --work $(BENCH_WORK)

bench-quick: $(BIN)/.installed
	PRESERVE_SCHEMAS=$(if $(SCHEMAS),$(abspath $(SCHEMAS))) $(BIN)/python -m benchmarks.run --quick --work $(BENCH_WORK)

bench-s3: $(BIN)/.installed $(SWIFT)/.installed
	$(BIN)/python -m benchmarks.run --quick --scale 0.03 --runs 2 --warmup 1 --shapes s3 --work $(BENCH_WORK)

clean:
	rm -rf $(VENV) $(DEMO) build *.egg-info

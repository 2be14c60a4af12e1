# Everything a fresh Debian 12/13 machine needs, from two commands: `make demo` and `make test`.
# Python packages go into .venv; Debian packages are installed with apt-get when run as root,
# otherwise the exact command is printed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
# Extras installed into .venv: the offline engines (RapidOCR among them), LABEL_DETECTION's model,
# and test tools.
EXTRAS ?= local,ocr-accurate,labels,prediction,beam,dev

.PHONY: install system-packages test lint format demo clean deploy-plan deploy cloudbuild bench-serving

install: system-packages $(STAMP)

system-packages:
	@sh local/system_packages.sh

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>/dev/null
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	@touch $(STAMP)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: install
	$(BIN)/python -m local.demo

# The online-serving table (bench/serving.py): wrk and the peers (KServe, MLServer, BentoML,
# MLflow, each in its own venv under bench/.peers, never in .venv) are installed first.
BENCH_ARGS ?=
bench-serving: install
	@command -v wrk >/dev/null 2>&1 || { test "$$(id -u)" = 0 && apt-get install -y wrk; } \
		|| { echo "wrk is missing: sudo apt-get install -y wrk" >&2; exit 2; }
	-$(BIN)/python bench/serving.py --install-only
	$(BIN)/python bench/serving.py $(BENCH_ARGS)

# Deploy to Google Cloud: `make deploy-plan` prints every step without a Google account;
# `make deploy` submits cloudbuild.yaml (tests, images, Cloud Run, wiring, smoke test).
PROJECT ?=
REGION ?= us-central1
REPOSITORY ?= mlapi

deploy-plan: $(STAMP)
	@test -n "$(PROJECT)" || (echo "usage: make deploy-plan PROJECT=my-project REGION=europe-west1" >&2; exit 2)
	@$(BIN)/python -m deploy.render --project=$(PROJECT) --region=$(REGION) --repository=$(REPOSITORY)

deploy:
	@test -n "$(PROJECT)" || (echo "usage: make deploy PROJECT=my-project REGION=europe-west1" >&2; exit 2)
	gcloud builds submit --project=$(PROJECT) --config=cloudbuild.yaml \
		--substitutions=_REGION=$(REGION),_REPOSITORY=$(REPOSITORY),SHORT_SHA=$$(git rev-parse --short HEAD) .

cloudbuild: $(STAMP)
	$(BIN)/python -m deploy.cloudbuild > cloudbuild.yaml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

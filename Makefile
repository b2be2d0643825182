# The verbs people type. Everything installs from the committed uv.lock; nothing else is
# assumed beyond Python 3.11+ (uv itself is bootstrapped into .tools/ with pip).
UV_VERSION := 0.13.9
UV := .tools/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= python3

.PHONY: run serve test test-faults lint typecheck migrate bench bench-knowledge fmt clean screenshots

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.run-deps: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev --inexact --compile-bytecode
	@touch $@

.venv/.dev-deps: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode
	@touch $@ .venv/.run-deps

run: .venv/.run-deps  ## migrate, seed the demo if absent, print its key, serve
	.venv/bin/chatkeep demo --host $(HOST) --port $(PORT)
	.venv/bin/chatkeep serve --host $(HOST) --port $(PORT)

migrate: .venv/.run-deps
	.venv/bin/chatkeep migrate

lint: .venv/.dev-deps
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench

typecheck: .venv/.dev-deps
	$(UV) run --frozen mypy

test: lint typecheck  ## ruff, mypy, then the whole suite on SQLite and PostgreSQL
	$(UV) run --frozen pytest

screenshots: .venv/.dev-deps  ## refresh docs/screenshots from the browser suite
	CHATKEEP_UPDATE_SCREENSHOTS=1 $(UV) run --frozen pytest -q tests/web

# Slow (~2-3 min): kill -9 under load, PostgreSQL restarts (its own throwaway cluster),
# read-only and full disks (tmpfs and loop mounts: needs root). Never part of `make test`.
test-faults: .venv/.dev-deps
	$(UV) run --frozen pytest -m faults tests/faults

fmt: .venv/.dev-deps
	$(UV) run --frozen ruff check --fix src tests bench
	$(UV) run --frozen ruff format src tests bench

# SIZES="10k 100k 1m" for several; CHATKEEP_DATABASE_URL=postgresql://... benchmarks PostgreSQL;
# BENCH_ARGS="--duration 20 --fresh ..." passes anything else (chatkeep bench --help).
SIZES ?= 10k
bench: .venv/.dev-deps  ## the benchmark (docs/benchmark.md): data set, real server, report, plot
	$(UV) run --frozen chatkeep bench $(foreach size,$(SIZES),--sessions $(size)) $(BENCH_ARGS)

# Documents: ingestion pages/s and chunks/s (2 workers), retrieval p50/p99, recall@5 and MRR
# (English and Chinese); CHATKEEP_DATABASE_URL=postgresql://... (an empty database) for PostgreSQL.
DOCUMENTS ?= 200
bench-knowledge: .venv/.dev-deps
	$(UV) run --frozen chatkeep bench-knowledge --documents $(DOCUMENTS) \
		$(if $(filter postgres%,$(CHATKEEP_DATABASE_URL)),--database-url $(CHATKEEP_DATABASE_URL))

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache

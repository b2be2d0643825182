"""Schema fuzzing: Schemathesis generates valid and invalid requests for every operation in
the app's own OpenAPI document (native API and both dialects) and checks the answers: no
5xx, status codes, content types, headers and bodies as documented, invalid input refused.

Requests go through the in-process app on this test's own event loop (tests/security/
harness.py), authenticated as a service key with every scope; the checks that re-send a
request themselves (``ignored_auth``, ``unsupported_method``) are replaced by the explicit
walks over every route in test_identity.py and test_methods.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import CHECKS
from schemathesis.generation.case import Case

from chatkeep.app import create_app
from chatkeep.settings import Settings
from tests.security.figures import FIGURES
from tests.security.harness import Harness, harness

# The document does not depend on the database; build it once from a throwaway app.
SCHEMA = schemathesis.openapi.from_dict(
    create_app(Settings(database_url="sqlite:///:memory:", secret_key="openapi")).openapi()  # type: ignore[arg-type]
)
SCHEMA.config.generation.update(modes=["positive", "negative"])
# A body past CHATKEEP_MAX_BODY_BYTES is refused before it is parsed: 413 is a rejection too.
SCHEMA.config.checks.negative_data_rejection.expected_statuses = [
    *SCHEMA.config.checks.negative_data_rejection.expected_statuses,
    "413",
]
RESENDING_CHECKS = {"ignored_auth", "unsupported_method"}
# Schemathesis itself passes per-request cookies to httpx, which deprecates them: noise
# about the fuzzer's transport, not about chatkeep.
pytestmark = pytest.mark.filterwarnings("ignore:Setting per-request cookies:DeprecationWarning")
# Schema-valid requests may still be refused for what a schema cannot say (an opaque
# cursor, a domain that does not exist, a 404 for a random id): see docs/security.md.
EXCLUDED_CHECKS = {*RESENDING_CHECKS, "positive_data_acceptance"}
FUZZ = settings(
    max_examples=7,
    derandomize=True,  # CI runs the same examples every time: a failure is never a fluke
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def fuzz(settings: Settings) -> Iterator[tuple[Harness, dict[str, str]]]:
    """The app with no rate limit (thousands of requests from one key) and a service key."""
    unlimited = settings.model_copy(update={"rate_limit_requests": 0})
    with harness(unlimited) as h:
        tenant = h.call(h.world.tenant)
        key = h.call(functools.partial(h.world.key, tenant, "fuzzer", service=True))
        yield h, {"Authorization": f"Bearer {key.key}"}


def send(h: Harness, case: Case, auth: dict[str, str]) -> tuple[httpx.Response, dict[str, Any]]:
    kwargs = case.as_transport_kwargs(base_url="http://chatkeep.test", headers=auth)
    request: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": kwargs.get("headers"),
        "params": kwargs.get("params"),
        "cookies": kwargs.get("cookies"),
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    response = h.call(functools.partial(h.client.request, **request))
    return response, kwargs


def checks() -> list[Any]:
    return [c for c in CHECKS.get_all() if c.__name__ not in EXCLUDED_CHECKS]


@SCHEMA.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(
    case: Case, fuzz: tuple[Harness, dict[str, str]]
) -> None:
    h, auth = fuzz
    response, kwargs = send(h, case, auth)
    FIGURES["fuzz examples"] += 1
    case.validate_response(response, checks=checks(), headers=auth, transport_kwargs=kwargs)


def test_each_dialect_documents_its_own_error_shape_not_fastapis_422() -> None:
    document = SCHEMA.raw_schema
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            if path.startswith("/v1/"):
                assert "application/problem+json" in responses["422"]["content"], where
            elif path.startswith("/api/"):
                assert "422" not in responses, where  # AISquare and AI-doc answer 400
                assert {"400", "401", "403", "404", "4XX"} <= set(responses), where
                schema = responses["400"]["content"]["application/json"]["schema"]
                if "aidoc" in path:
                    assert schema["required"] == ["requestId", "code", "message"], where
                else:
                    assert "detail" in schema["properties"], where
    assert "HTTPValidationError" not in str(document), "FastAPI's own error shape is no wire's"

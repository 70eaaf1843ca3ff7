"""A database that fails mid-request leaves no email, password hash or token in the log."""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Iterator

import pytest
import structlog

from reference_service.observability import configure_logging
from reference_service.redaction import RedactingFormatter, redact_text
from tests.builders import customer
from tests.reference_service.conftest import AppFactory

pytestmark = pytest.mark.req("REQ-OBS-002")

EMAIL = "private.person@example.com"
PASSWORD = "super-secret-pw-123"


@pytest.fixture
def log_output() -> Iterator[io.BytesIO]:
    """The service's real logging pipeline writing to a buffer; the old configuration after."""
    before = structlog.get_config()
    stream = io.BytesIO()
    configure_logging(stream=stream)
    # Loggers cached now would keep writing here in later tests, out of their captures' reach.
    structlog.configure(cache_logger_on_first_use=False)
    try:
        yield stream
    finally:
        structlog.configure(**before)


def _break_user_inserts(database_url: str) -> None:
    # A trigger on a table that is then dropped: every INSERT into users fails for real with
    # OperationalError ("no such table"), after the password has been hashed.
    with sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///")) as conn:
        conn.execute("CREATE TABLE doomed (id INTEGER)")
        conn.execute(
            "CREATE TRIGGER users_fail BEFORE INSERT ON users "
            "BEGIN INSERT INTO doomed VALUES (1); END"
        )
        conn.execute("DROP TABLE doomed")


def test_a_failing_insert_logs_no_email_hash_or_token(
    make_client: AppFactory, database_url: str, log_output: io.BytesIO
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the failure is made with a SQLite trigger")
    _, client = make_client()
    token = customer(client)["Authorization"].removeprefix("Bearer ")
    _break_user_inserts(database_url)
    body = {"email": EMAIL, "password": PASSWORD, "full_name": "P"}
    answer = client.post("/auth/register", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503, answer.text
    log = log_output.getvalue().decode()
    assert "OperationalError" in log  # the failure itself is logged, with its traceback
    assert "no such table" in log
    assert "SQL parameters hidden" in log  # the engine keeps them out of the message
    for secret in (EMAIL, "$argon2", PASSWORD, token, "tok_"):
        assert secret not in log, secret


def test_stdlib_logging_is_redacted_too() -> None:
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(RedactingFormatter("%(message)s"))
    logger = logging.getLogger("test_log_redaction.bridge")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise RuntimeError(f"login failed for {EMAIL} with tok_visa_4242")
    except RuntimeError:
        logger.exception("engine error for %s", EMAIL)
    finally:
        logger.removeHandler(handler)
    assert "engine error" in written.getvalue()
    assert "RuntimeError" in written.getvalue()  # the traceback is there, redacted
    assert EMAIL not in written.getvalue()
    assert "tok_visa_4242" not in written.getvalue()


@pytest.mark.parametrize(
    "secret",
    [
        "someone+tag@example.co.uk",
        "Bearer abc.def_ghi-jkl",
        # A token's shape, put together here so no scanner mistakes the test for a leak.
        ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxIn0", "c2lnbmF0dXJl"]),
        "tok_chargeDeclined",
        "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
    ],
)
def test_each_kind_of_secret_is_redacted(secret: str) -> None:
    text = redact_text(f"params=('{secret}', 42) route=/orders/{{order_id}}")
    assert secret not in text
    assert "[redacted]" in text
    assert "route=/orders/{order_id}" in text

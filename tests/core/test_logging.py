"""``oidc_core.logging.configure``: what the standalone server's log lines look like."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from oidc_core import logging as request_logs


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, given back as it was (pytest's own handlers included)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    oauthlib_level = logging.getLogger("oauthlib").level
    try:
        yield root
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("oauthlib").setLevel(oauthlib_level)


def test_json_lines_carry_the_request_id_of_the_request_in_hand(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    request_logs.configure("json")
    token = request_logs.REQUEST_ID.set("req-1")
    try:
        logging.getLogger("oidc_core.test").warning("hello %s", "world")
    finally:
        request_logs.REQUEST_ID.reset(token)
    logging.getLogger("oidc_core.test").info("outside")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["message"] == "hello world" and first["request_id"] == "req-1"
    assert first["level"] == "WARNING" and first["logger"] == "oidc_core.test"
    assert first["time"].endswith("Z")
    assert second["request_id"] is None


def test_text_lines_show_the_request_id(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    request_logs.configure("text")
    token = request_logs.REQUEST_ID.set("req-2")
    try:
        logging.getLogger("oidc_core.test").info("hello")
    finally:
        request_logs.REQUEST_ID.reset(token)
    assert "INFO oidc_core.test [req-2] hello" in capsys.readouterr().err


def test_debug_logging_keeps_oauthlib_at_info(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.getLogger("oauthlib").setLevel(logging.NOTSET)
    request_logs.configure("json", level=logging.DEBUG)
    logging.getLogger("oauthlib.oauth2.rfc6749").debug("code=secret-code")
    logging.getLogger("oidc_core.test").debug("ours")
    err = capsys.readouterr().err
    assert "secret-code" not in err and '"message":"ours"' in err


def test_request_ids_are_taken_only_when_short_and_safe() -> None:
    assert request_logs.request_id_for("abc-1.2_3") == "abc-1.2_3"
    for unsafe in (None, "", "a" * 65, "a b", "a\nb", "a\r\nSet-Cookie: x"):
        generated = request_logs.request_id_for(unsafe)
        assert generated != unsafe and len(generated) == 16

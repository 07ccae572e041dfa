"""No raw token reaches a log line: the RedactAccessTokens filter on every configured handler."""

import datetime as dt
import io
import logging
import sys

import pytest

from access_tokens.logging import REDACTED, RedactAccessTokens
from access_tokens.token_format import generate_token


def _record(msg, args=(), exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("test", logging.WARNING, __file__, 1, msg, args, exc_info)


def _formatted(record: logging.LogRecord) -> str:
    assert RedactAccessTokens().filter(record) is True
    return logging.Formatter("%(levelname)s %(message)s").format(record)


def test_it_redacts_a_token_in_the_message():
    raw = generate_token()
    line = _formatted(_record(f"GET /api/v1/me/?token={raw}&page=2"))
    assert raw not in line
    assert line == f"WARNING GET /api/v1/me/?token={REDACTED}&page=2"


def test_it_redacts_a_token_in_the_arguments():
    raw = generate_token()
    line = _formatted(_record("%s %s gave %d", ("GET", f"/x?t={raw}", 404)))
    assert raw not in line
    assert line == f"WARNING GET /x?t={REDACTED} gave 404"


def test_it_redacts_every_token_in_a_line():
    first, second = generate_token(), generate_token()
    line = _formatted(_record("%s and %s", (first, {"token": second})))
    assert first not in line and second not in line
    assert line.count(REDACTED) == 2


def test_it_redacts_a_token_in_an_exception():
    raw = generate_token()
    try:
        raise ValueError(f"bad header {raw}")
    except ValueError:
        record = _record("request failed", exc_info=sys.exc_info())
    line = _formatted(record)
    assert "ValueError: bad header" in line
    assert raw not in line


def test_it_leaves_other_lines_and_their_arguments_alone():
    record = _record("%s used %d%% of kspat_ quota", ("alice", 50))
    assert _formatted(record) == "WARNING alice used 50% of kspat_ quota"
    assert record.args == ("alice", 50)


def _console_handler() -> logging.Handler:
    [handler] = [
        h
        for h in logging.getLogger("django").handlers
        if any(isinstance(f, RedactAccessTokens) for f in h.filters)
    ]
    return handler


def test_it_is_on_the_configured_handlers():
    handler = _console_handler()
    root = logging.getLogger()
    assert any(
        isinstance(f, RedactAccessTokens) for h in root.handlers if h is handler for f in h.filters
    )


@pytest.mark.django_db
def test_it_keeps_a_token_in_a_url_out_of_the_log(client):
    raw = generate_token()
    handler = _console_handler()
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        response = client.get(f"/settings/access-tokens/{raw}/?access_token={raw}")
        response_api = client.get(f"/api/v1/nowhere/{raw}/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    finally:
        handler.setStream(old)
    assert response.status_code == 404 and response_api.status_code == 404
    log = stream.getvalue()
    assert "Not Found: /settings/access-tokens/kspat_[REDACTED]/" in log
    assert raw not in log
    assert raw[6:49] not in log
    assert raw not in response.content.decode()


def test_it_redacts_a_token_cut_short_or_mistyped():
    raw = generate_token()
    typo = raw[:30] + ("A" if raw[30] != "A" else "B") + raw[31:]
    line = _formatted(_record("%s|%s", (raw[:40], typo)))
    assert raw[6:30] not in line
    assert line == f"WARNING {REDACTED}|{REDACTED}"


def test_it_keeps_a_token_out_of_gunicorns_access_log(capsys):
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    raw = generate_token()
    cfg = Config()
    cfg.set("accesslog", "-")
    server_log = Logger(cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/me/?access_token={raw}",
        "PATH_INFO": "/api/v1/me/",
        "QUERY_STRING": f"access_token={raw}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
    }
    response = type("Response", (), {"status": "401 Unauthorized", "headers": [], "sent": 58})
    try:
        server_log.access(response, {}, environ, dt.timedelta(milliseconds=3))
    finally:
        for handler in list(server_log.access_log.handlers):
            server_log.access_log.removeHandler(handler)
    line = capsys.readouterr().out
    assert '"GET /api/v1/me/?access_token=kspat_[REDACTED] HTTP/1.1" 401' in line
    assert raw not in line

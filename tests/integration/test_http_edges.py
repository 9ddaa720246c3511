"""The HTTP edges: the key before the body, a capped body, HEAD, no Host-built redirects, a
bounded report month, /docs with no internet, an OpenAPI document that says how to send the
key and that errors come in the envelope."""

import json
import re
import socket
import time

import pytest

from tests.integration.test_api import assert_envelope
from tests.support.database import API_KEY
from tests.support.processes import cli_env, wait_for
from tests.support.service import free_port

MiB = 1024 * 1024


@pytest.fixture
def edge_api(make_settings, sqlite_template, tmp_path):
    """The app on SQLite alone: nothing here depends on the database."""
    import shutil

    from fastapi.testclient import TestClient

    from mamcrawler.api.app import create_app
    from mamcrawler.runtime import Runtime

    shutil.copy(sqlite_template, tmp_path / "edges.db")
    rt = Runtime.build(make_settings(database_url=f"sqlite:///{tmp_path / 'edges.db'}"),
                       upgrade_db=False)
    with TestClient(create_app(rt, start_scheduler=False),
                    headers={"X-Api-Key": API_KEY}) as client:
        yield client
    rt.close()


def test_head_is_answered_as_get_without_a_body(edge_api):
    head = edge_api.head("/health")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert edge_api.head("/api/books").status_code == 200
    assert edge_api.head("/api/books", headers={"X-Api-Key": "wrong"}).status_code == 401


def test_a_trailing_slash_is_a_404_in_the_envelope_not_a_redirect(edge_api):
    response = edge_api.get("/api/books/", headers={"Host": "evil.example"},
                            follow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    assert_envelope(response.json(), False)
    assert "without the trailing slash: /api/books" in response.json()["error"]
    assert edge_api.get("/nothing-here").json()["error"].startswith("no such endpoint")


def test_a_body_without_the_key_is_refused_unread(edge_api):
    response = edge_api.post("/api/books", content=b"x" * (5 * MiB),
                             headers={"X-Api-Key": "", "Content-Type": "application/json"})
    assert response.status_code == 401
    assert_envelope(response.json(), False)
    assert "API key" in response.json()["error"]


def test_a_body_over_the_cap_is_a_413_in_the_envelope(edge_api):
    declared = edge_api.post("/api/wanted", content=b"x" * (MiB + 1),
                             headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert_envelope(declared.json(), False)
    assert "API_MAX_BODY_BYTES" in declared.json()["error"]

    def chunked():  # no Content-Length: counted while it is read
        for _ in range(40):
            yield b" " * 65536

    streamed = edge_api.post("/api/wanted", content=chunked(),
                             headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert_envelope(streamed.json(), False)
    small = edge_api.post("/api/wanted", json={"title": "Mistborn", "author": "B. Sanderson"})
    assert small.status_code == 201


@pytest.mark.parametrize(("month", "status"), [("9999-12", 422), ("3000-01", 422),
                                               ("1999-12", 422), ("2999-12", 200),
                                               ("2000-01", 200)])
def test_the_report_month_is_bounded(edge_api, month, status):
    response = edge_api.get("/api/compliance/report", params={"month": month})
    assert response.status_code == status, response.text
    assert_envelope(response.json(), status == 200)
    if status == 422:
        assert "from 2000-01 to 2999-12" in response.json()["error"]


def test_docs_load_every_file_from_the_service_itself(edge_api):
    page = edge_api.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"https?://", page.text), "the page must not load anything remote"
    assert '"validatorUrl": null' in page.text  # no badge from the public validator
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(assets) == ["/static/swagger-ui-bundle.js",
                              "/static/swagger-ui-favicon-32x32.png",
                              "/static/swagger-ui.css"]
    for asset in assets:
        fetched = edge_api.get(asset, headers={"X-Api-Key": ""})
        assert fetched.status_code == 200 and len(fetched.content) > 500, asset
    assert "SwaggerUIBundle" in edge_api.get("/static/swagger-ui-bundle.js").text
    assert edge_api.get("/static/swagger-ui-dist.LICENSE").status_code == 200
    assert edge_api.get("/redoc").status_code == 404  # ReDoc loads from CDNs: not offered


def test_openapi_declares_the_key_and_the_error_envelope(edge_api):
    schema = edge_api.get("/openapi.json", headers={"X-Api-Key": ""}).json()
    assert schema["components"]["securitySchemes"] == {
        "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                   "description": schema["components"]["securitySchemes"]["ApiKey"]
                   ["description"]},
        "Bearer": {"type": "http", "scheme": "bearer",
                   "description": schema["components"]["securitySchemes"]["Bearer"]
                   ["description"]}}
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    operations = [(path, method, op) for path, ops in schema["paths"].items()
                  for method, op in ops.items()]
    assert len(operations) >= 30
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        if path.startswith("/api/"):
            assert op["security"] == [{"ApiKey": []}, {"Bearer": []}], where
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == envelope
        else:
            assert "security" not in op, where
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                assert response["content"]["application/json"]["schema"] == envelope, where
        if "requestBody" in op:
            assert "413" in op["responses"], where
    text = json.dumps(schema)
    assert "HTTPValidationError" not in text and '"detail"' not in text
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    assert refs <= set(schema["components"]["schemas"]), refs - set(schema["components"]["schemas"])
    error = schema["components"]["schemas"]["ErrorEnvelope"]
    assert set(error["required"]) == {"error", "timestamp"}
    invalid = edge_api.get("/api/books", params={"limit": 0})
    assert invalid.status_code == 422 and set(invalid.json()) == set(error["properties"])


@pytest.fixture
def served(tmp_path, processes):
    """A real `serve` on loopback; its base address as (host, port)."""
    port = free_port()
    server = processes.start("serve", "--port", str(port), env=cli_env(
        data_dir=tmp_path / "data", demo="false", api_key=API_KEY, api_max_body_bytes=MiB))

    def up():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            assert server.proc.poll() is None, server.output()
            return False

    wait_for(up, timeout=60, what="serve to listen")
    return "127.0.0.1", port


def answer_before_the_body(address, head: str, sent_body: bytes) -> tuple[str, float]:
    """Send `head` and only `sent_body` of the body it declares; the status line the server
    answers with meanwhile, and how long it took."""
    started = time.monotonic()
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + sent_body)
        answer = sock.recv(65536).decode(errors="replace")
    return answer.split("\r\n")[0], time.monotonic() - started


def test_a_real_server_refuses_a_50_mb_body_without_the_key_before_reading_it(served):
    head = ("POST /api/books HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {50 * MiB}\r\n")
    status, seconds = answer_before_the_body(served, head, b"[" * 65536)
    assert status == "HTTP/1.1 401 Unauthorized", status
    assert seconds < 5


def test_a_real_server_refuses_a_declared_oversized_body_before_reading_it(served):
    head = (f"POST /api/books HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {50 * MiB}\r\n")
    status, _ = answer_before_the_body(served, head, b"")
    assert status == "HTTP/1.1 413 Request Entity Too Large", status


def test_a_real_server_stops_a_chunked_body_at_the_cap(served):
    head = (f"POST /api/books HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
    status, _ = answer_before_the_body(served, head, chunk * 20)  # 1.25 MiB, no end chunk
    assert status == "HTTP/1.1 413 Request Entity Too Large", status


def test_a_real_server_answers_head_health(served):
    head = "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    status, _ = answer_before_the_body(served, head, b"")
    assert status == "HTTP/1.1 200 OK", status

"""The API's documentation: the Swagger UI page, served from files in the package (the service
must work with no internet: FastAPI's own page loads its scripts from a public CDN), and an
OpenAPI document that says how to send the key and that errors come in the envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from .envelope import ErrorEnvelope

# swagger-ui-dist from the npm registry: its swagger-ui-bundle.js and swagger-ui.css, with
# its LICENSE and NOTICE (Apache-2.0), are copied unchanged into web/static/.
SWAGGER_UI_VERSION = "5.35.0"
STATIC_DIR = Path(__file__).resolve().parents[1] / "web" / "static"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}


def install_docs(app: FastAPI) -> None:
    """/docs from the package's files, /static for them; the app must be made with
    docs_url=None and redoc_url=None (ReDoc's page loads its script and fonts from CDNs)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} API",
            swagger_js_url=f"{root}/static/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static/swagger-ui.css",
            swagger_favicon_url=f"{root}/static/swagger-ui-favicon-32x32.png",
            # validatorUrl: Swagger UI would fetch a badge from a public validator.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True})

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        errors_in_envelope(FastAPI.openapi(app))  # builds and keeps app.openapi_schema
    return app.openapi_schema  # type: ignore[return-value]


def errors_in_envelope(schema: dict[str, Any]) -> None:
    """Document every error as the envelope it is: 422 (FastAPI documents `{detail}`), 401
    where the key is needed, 413 where a body is taken, and any other 4XX and 5XX."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorEnvelope"] = ErrorEnvelope.model_json_schema()
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = _error("invalid input; `error` names each bad field")
            if operation.get("security"):
                responses["401"] = _error("missing or wrong API key")
            if "requestBody" in operation:
                responses["413"] = _error("request body larger than API_MAX_BODY_BYTES")
            responses["4XX"] = _error("any other refusal (404, 405, 409, ...)")
            responses["5XX"] = _error("the service failed; the details are in its log")
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}

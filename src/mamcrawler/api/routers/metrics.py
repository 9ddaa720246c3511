"""/metrics in the Prometheus text format; behind the API key unless METRICS_PUBLIC=true."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from mamcrawler import metrics

from ..deps import require_api_key, runtime

router = APIRouter(tags=["system"])


@router.get("/metrics", response_class=Response,
            summary="Prometheus metrics (the API key is needed unless METRICS_PUBLIC=true)")
def prometheus_metrics(request: Request) -> Response:
    rt = runtime(request)
    if not rt.settings.metrics_public:
        require_api_key(request)
    body = metrics.exposition(rt.sessions, rt.policies.vip)
    return Response(body, media_type=CONTENT_TYPE_LATEST)

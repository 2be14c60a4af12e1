"""The local Vertex AI host: one port for every Vertex service, as Google serves them all from
`{region}-aiplatform.googleapis.com`, so the high-level SDK needs one `api_endpoint`:

    aiplatform.init(project="local-project", location="us-central1",
                    api_endpoint="http://127.0.0.1:8070", api_transport="rest",
                    credentials=AnonymousCredentials())

It routes by path as Google's front end does, and does nothing else: the collection after
`projects/*/locations/*/` picks the service (`/v1/projects/p/locations/l/models:upload` ->
`models`; `/ui/projects/p/locations/l/endpoints/1/operations/2` -> `endpoints`, so an
operation goes to the service that owns its resource), and the request is passed through
unchanged, answer included. The table comes from the topology's `hosts.vertex.routes`; a new
Vertex service (monitoring, training) adds one line there. A collection no service serves is
UNIMPLEMENTED, a service that does not answer is UNAVAILABLE, both in Google's error JSON. The
services stay reachable on their own ports.

Local only: in the cloud the real Vertex host is used and this router is not deployed.

    python -m local.vertex_host --port 8070 \\
        --route endpoints=http://127.0.0.1:8087 --route batchPredictionJobs=http://127.0.0.1:8088
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import urllib3

log = logging.getLogger("vertex_host")

_PATH = re.compile(r"^/(?:v1|v1beta1|ui)/projects/[^/]+/locations/[^/]+/(?P<collection>[A-Za-z]+)")
# Hop-by-hop headers (RFC 9110 section 7.6.1) are the connection's, not the message's.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
HEALTH = "/health"
# A batch job's create or a model upload may take a while; a prediction is quick either way.
READ_TIMEOUT_S = 600.0


class RouteTable:
    """Collection -> upstream base URL. Pure: `upstream(path)` is the whole routing logic."""

    def __init__(self, routes: Mapping[str, str]) -> None:
        self.routes = {collection: url.rstrip("/") for collection, url in routes.items()}

    def collection(self, path: str) -> str | None:
        match = _PATH.match(path)
        return match["collection"] if match else None

    def upstream(self, path: str) -> str | None:
        """The base URL that serves `path`; None when no service does."""
        collection = self.collection(path)
        return self.routes.get(collection) if collection else None


def routes_for(host_routes: Mapping[str, str], service_urls: Mapping[str, str]) -> dict[str, str]:
    """A topology host's `collection: service` table with each service's URL filled in."""
    return {collection: service_urls[service] for collection, service in host_routes.items()}


class VertexHost:
    """The WSGI app: health, then route and pass through."""

    def __init__(self, table: RouteTable, pool: urllib3.PoolManager | None = None) -> None:
        self.table = table
        self.pool = pool or urllib3.PoolManager(
            maxsize=32,
            retries=False,
            timeout=urllib3.Timeout(connect=5.0, read=READ_TIMEOUT_S),
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH:
            return _answer(start_response, 200, {"status": "ok"})
        upstream = self.table.upstream(path)
        if upstream is None:
            return _error(
                start_response,
                501,
                "UNIMPLEMENTED",
                f"No local service serves {path}: this Vertex AI host routes "
                f"{', '.join(sorted(self.table.routes))}.",
            )
        # The request target as sent (still percent-encoded), so the service parses what the
        # client wrote; PATH_INFO is decoded.
        target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if not target:
            query = environ.get("QUERY_STRING", "")
            target = path + (f"?{query}" if query else "")
        url = upstream + target
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP_BY_HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        try:
            response = self.pool.request(
                environ["REQUEST_METHOD"], url, body=body, headers=headers, redirect=False
            )
        except urllib3.exceptions.HTTPError as exc:
            log.warning("upstream unavailable", extra={"json_fields": {"url": upstream}})
            return _error(
                start_response,
                503,
                "UNAVAILABLE",
                f"The service at {upstream} did not answer: {exc}",
            )
        kept = [(k, v) for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP]
        start_response(f"{response.status} {response.reason or ''}".strip(), kept)
        return [response.data]


def _answer(start_response: Callable, status: int, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    reason = {200: "OK", 501: "Not Implemented", 503: "Service Unavailable"}[status]
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _error(start_response: Callable, status: int, code: str, message: str) -> list[bytes]:
    return _answer(
        start_response, status, {"error": {"code": status, "message": message, "status": code}}
    )


def parse_routes(items: Iterable[str]) -> dict[str, str]:
    """`["endpoints=http://127.0.0.1:8087", ...]` -> the table."""
    routes = {}
    for item in items:
        collection, sep, url = item.partition("=")
        if not sep or not collection or not url.startswith("http"):
            raise ValueError(f"expected COLLECTION=URL, got {item!r}")
        routes[collection] = url
    return routes


def main(argv: list[str] | None = None) -> int:
    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser(prog="python -m local.vertex_host", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--route", action="append", default=[], metavar="COLLECTION=URL")
    args = parser.parse_args(argv)
    try:
        table = RouteTable(parse_routes(args.route))
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server(args.host, args.port, VertexHost(table), threaded=True)
    log.info("Vertex AI host on http://%s:%d routing %s", args.host, args.port, table.routes)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The router's inference server, SageMaker's container contract with the standard library only.

SageMaker starts the container with the argument ``serve``, unpacks ``model.tar.gz`` into
``/opt/ml/model`` and talks HTTP on port 8080 (``SAGEMAKER_BIND_TO_PORT`` when it sets one):

- ``GET /ping``: 200 once the model is loaded (it is loaded before the port is opened, so a listening
  server is a ready one; 503 otherwise);
- ``POST /invocations`` with ``{"instances": [{user_message, agent_id, language, context_chars,
  tool_calls, prior_turns}, ...]}`` -> ``{"predictions": [{"tier": ..., "probabilities": {tier: p}}]}``,
  one prediction per instance in order, probabilities for every configured tier in cost order.

A malformed request is answered 400 with ``{"error": "..."}`` naming each problem (by instance index);
an unexpected failure 500 with a fixed message. Neither ever carries a stack trace or the request's text
(the message may hold customer data): tracebacks go to the server's log only. ``http.server`` rather than
a framework: one small JSON endpoint does not justify a web stack in the image, and SageMaker puts its
own front end before the container.
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .dataset import RouterRequest, parse_request
from .model import RouterModel, load_model

DEFAULT_MODEL_DIR = Path("/opt/ml/model")
DEFAULT_PORT = 8080
#: SageMaker real-time endpoints accept payloads up to 6 MB; refuse more before reading it.
MAX_BODY_BYTES = 6 * 1024 * 1024
MAX_INSTANCES = 1000

log = logging.getLogger("sial_training.router.serve")


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_invocation(body: bytes) -> list[RouterRequest]:
    """The instances of an /invocations body; BadRequest(400) listing every problem."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(400, f"the body is not UTF-8 JSON: {error}") from None
    if not isinstance(payload, dict) or set(payload) != {"instances"}:
        keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise BadRequest(400, f'the body must be {{"instances": [...]}} and nothing else; received {keys}')
    instances = payload["instances"]
    if not isinstance(instances, list) or not instances:
        raise BadRequest(400, "instances must be a non-empty list")
    if len(instances) > MAX_INSTANCES:
        raise BadRequest(400, f"at most {MAX_INSTANCES} instances per request; received {len(instances)}")
    requests: list[RouterRequest] = []
    problems: list[str] = []
    for index, instance in enumerate(instances):
        request, found = parse_request(instance)
        if request is None:
            problems.append(f"instances[{index}]: {'; '.join(found)}")
        else:
            requests.append(request)
    if problems:
        raise BadRequest(400, " | ".join(problems[:20]) + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))
    return requests


class RouterServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], model: RouterModel) -> None:
        self.model = model
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: RouterServer
    # Keep-alive: SageMaker's front end reuses connections.
    protocol_version = "HTTP/1.1"
    # A client that announces more body than it sends must not hold a thread forever.
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status >= 400:
            # The connection may hold an unread body (a refused path, size or type): answer, then close it
            # rather than read the rest as the next request.
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path != "/ping":
            self._send(404, {"error": f"no such path: {self.path[:100]}"})
        elif getattr(self.server, "model", None) is None:
            self._send(503, {"status": "loading"})
        else:
            self._send(200, {"status": "ok"})

    def do_POST(self) -> None:  # noqa: N802
        try:
            if self.path != "/invocations":
                raise BadRequest(404, f"no such path: {self.path[:100]}")
            content_type = self.headers.get("Content-Type", "application/json")
            if not content_type.startswith("application/json"):
                raise BadRequest(415, f"Content-Type must be application/json; received {content_type[:100]}")
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                raise BadRequest(411, "a Content-Length header is required") from None
            if length > MAX_BODY_BYTES:
                raise BadRequest(413, f"the body is {length} bytes; at most {MAX_BODY_BYTES}")
            requests = parse_invocation(self.rfile.read(length))
            predictions = self.server.model.predict(requests)
            self._send(200, {"predictions": [{"tier": p.tier, "probabilities": p.probabilities} for p in predictions]})
        except BadRequest as error:
            self._send(error.status, {"error": str(error)})
        except Exception:  # noqa: BLE001 - a bug must not reach the caller as a traceback
            log.error("invocation failed:\n%s", traceback.format_exc())
            self._send(500, {"error": "internal error while routing; see the endpoint's log"})


def make_server(model: RouterModel | Path | str, host: str = "0.0.0.0", port: int | None = None) -> RouterServer:
    """A bound server with the model loaded (port 0: an ephemeral port, for tests)."""
    loaded = model if isinstance(model, RouterModel) else load_model(model)
    if port is None:
        port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT", DEFAULT_PORT))
    return RouterServer((host, port), loaded)


def serve(model_dir: Path = DEFAULT_MODEL_DIR, host: str = "0.0.0.0", port: int | None = None) -> None:
    server = make_server(model_dir, host, port)
    log.info("router model from %s loaded (tiers %s); listening on %s:%s", model_dir, ", ".join(server.model.tiers), *server.server_address[:2])
    try:
        server.serve_forever()
    finally:
        server.server_close()

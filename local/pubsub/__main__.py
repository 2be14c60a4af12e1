"""``python -m local.pubsub``: run the emulator until SIGTERM or SIGINT.

Every option can also come from the environment (the flag wins)::

    --host              LOCAL_PUBSUB_HOST              default 127.0.0.1
    --port              LOCAL_PUBSUB_PORT              default 8085 (0: any free port)
    --data-dir          LOCAL_PUBSUB_DATA_DIR          default: in memory, nothing kept
    --push-retry-min    LOCAL_PUBSUB_PUSH_RETRY_MIN    default 0.1 (seconds, push backoff)
    --push-retry-max    LOCAL_PUBSUB_PUSH_RETRY_MAX    default 60 (seconds, push backoff)
    --push-concurrency  LOCAL_PUBSUB_PUSH_CONCURRENCY  default 8 (most pushes in flight per sub)
    --enforce-iam       LOCAL_PUBSUB_ENFORCE_IAM       default off (1/true/yes: on)
    --log-level         LOCAL_PUBSUB_LOG_LEVEL         default INFO

The push backoff is Google's: without a retry policy, a push subscription whose endpoint fails
pauses for 100 ms, doubling per consecutive failure up to 60 s.

Logs are JSON lines on stderr (``severity``, ``message``, ``logger``, ``time``); readiness is
the line whose message is ``Server started, listening on PORT``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the fields Cloud Logging reads (severity, message)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def _env(name: str, default):
    return os.environ.get(f"LOCAL_PUBSUB_{name}", default)


def _env_flag(name: str) -> bool:
    return _env(name, "").strip().lower() in ("1", "true", "yes", "on")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.pubsub", description="Local Pub/Sub emulator (gRPC and REST)."
    )
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("PORT", 8085)))
    parser.add_argument("--data-dir", default=_env("DATA_DIR", None) or None)
    parser.add_argument("--push-retry-min", type=float, default=float(_env("PUSH_RETRY_MIN", 0.1)))
    parser.add_argument("--push-retry-max", type=float, default=float(_env("PUSH_RETRY_MAX", 60)))
    parser.add_argument("--push-concurrency", type=int, default=int(_env("PUSH_CONCURRENCY", 8)))
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        default=_env_flag("ENFORCE_IAM"),
        help="check IAM policies for callers that present an emulator-signed token",
    )
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    if args.push_retry_min < 0 or args.push_retry_max < args.push_retry_min:
        parser.error("need 0 <= --push-retry-min <= --push-retry-max")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler], force=True)

    from local.pubsub.emulator import Emulator

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    emulator = Emulator(
        args.host,
        args.port,
        args.data_dir,
        push_retry_min=args.push_retry_min,
        push_retry_max=args.push_retry_max,
        push_concurrency=args.push_concurrency,
        enforce_iam=args.enforce_iam,
    )
    try:
        emulator.start()
    except OSError as exc:
        logging.getLogger("local.pubsub").error("could not start: %s", exc)
        return 1
    while not stop.wait(3600):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

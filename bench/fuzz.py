"""Fuzz every REST route of every service of the local stack, from outside, as a tester would:
random JSON of every shape, mutations of one valid request per route (a value replaced by
anything, a field dropped, an unknown one added), and hostile-but-legal JSON (deep nesting,
lone surrogates, numbers beyond int64 and float range). Prints per service the requests sent
and the answers of 5xx other than Google's 501 (UNIMPLEMENTED), with a sample of each.

    .venv/bin/python -m bench.fuzz                    # 300 examples a route
    .venv/bin/python -m bench.fuzz --examples 30 --services vision,language

Generation is hypothesis's (`hypothesis.strategies`), run without shrinking: this is a census
of answers, not a search for one minimal failure. Every service must still answer its health
route afterwards.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import random
import socket
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from deploy.topology import DEFAULT_PATH, load
from local.stack import Stack, free_ports_for

PROJECT = "fuzz-project"
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f6f0000000049454e44ae426082"
    )
).decode()
ENDPOINT = f"/v1/projects/{PROJECT}/locations/us-central1/endpoints/cancer"
JOBS = f"/v1/projects/{PROJECT}/locations/us-central1/batchPredictionJobs"
PARENT = f"/v3/projects/{PROJECT}/locations/global"
VERTEX = f"/v1/projects/{PROJECT}/locations/us-central1"
DOCUMENT = {"document": {"content": "Ada Lovelace lived in London.", "type": "PLAIN_TEXT"}}

# (service, method, path, a valid body): one row a route.
ROUTES: list[tuple[str, str, str, Any]] = [
    ("vision", "POST", "/v1/images:annotate",
     {"requests": [{"image": {"content": PNG}, "features": [{"type": "TEXT_DETECTION"}]}]}),
    ("vision", "POST", "/v1/files:annotate",
     {"requests": [{"inputConfig": {"content": PNG, "mimeType": "application/pdf"},
                    "features": [{"type": "DOCUMENT_TEXT_DETECTION"}], "pages": [1]}]}),
    *[("language", "POST", f"/v1/documents:{verb}", {**DOCUMENT, "encodingType": "UTF8"})
      for verb in ("analyzeSentiment", "analyzeEntities", "analyzeEntitySentiment",
                   "analyzeSyntax", "classifyText", "moderateText")],
    ("language", "POST", "/v1/documents:annotateText",
     {**DOCUMENT, "features": {"extractEntities": True}, "encodingType": "UTF8"}),
    *[("language", "POST", f"/v2/documents:{verb}", DOCUMENT)
      for verb in ("analyzeSentiment", "analyzeEntities", "classifyText", "moderateText")],
    ("translation", "POST", f"{PARENT}:translateText",
     {"contents": ["Hello world"], "targetLanguageCode": "es", "mimeType": "text/plain"}),
    ("translation", "POST", f"{PARENT}:detectLanguage", {"content": "Hello world"}),
    ("translation", "GET", f"{PARENT}/supportedLanguages", None),
    ("prediction", "POST", f"{ENDPOINT}:predict", {"instances": [[1.0, 2.0]]}),
    ("prediction", "POST", f"{ENDPOINT}:explain", {"instances": [[1.0, 2.0]]}),
    ("prediction", "POST", f"{ENDPOINT}:rawPredict",
     {"httpBody": {"contentType": "application/json",
                   "data": base64.b64encode(b'{"instances": [[1, 2]]}').decode()}}),
    ("prediction", "GET", ENDPOINT, None),
    ("batch_prediction", "POST", JOBS,
     {"displayName": "fuzz", "model": "cancer@champion",
      "inputConfig": {"instancesFormat": "jsonl",
                      "gcsSource": {"uris": [f"gs://{PROJECT}-results/in.jsonl"]}},
      "outputConfig": {"predictionsFormat": "jsonl",
                       "gcsDestination": {"outputUriPrefix": f"gs://{PROJECT}-results/out"}},
      "manualBatchTuningParameters": {"batchSize": 10}, "labels": {"a": "b"}}),
    ("batch_prediction", "GET", JOBS, None),
    ("batch_prediction", "GET", f"{JOBS}/123", None),
    ("batch_prediction", "POST", f"{JOBS}/123:cancel", {}),
    # Vertex AI's ModelService and EndpointService (served by prediction, one host locally).
    ("prediction", "POST", f"{VERTEX}/models:upload",
     {"model": {"displayName": "fuzz", "artifactUri": f"gs://{PROJECT}-models/none",
                "containerSpec": {"imageUri": "us-docker.pkg.dev/vertex-ai/prediction/"
                                              "sklearn-cpu.1-3:latest"}, "labels": {"a": "b"}},
      "modelId": "fuzzmodel"}),
    ("prediction", "GET", f"{VERTEX}/models", None),
    ("prediction", "GET", f"{VERTEX}/models/cancer", None),
    ("prediction", "POST", f"{VERTEX}/models/cancer:mergeVersionAliases",
     {"versionAliases": ["fuzzed"]}),
    ("prediction", "POST", f"{VERTEX}/endpoints",
     {"displayName": "fuzz-endpoint", "labels": {"a": "b"}}),
    ("prediction", "GET", f"{VERTEX}/endpoints", None),
    ("prediction", "PATCH", f"{VERTEX}/endpoints/cancer?updateMask=displayName",
     {"displayName": "renamed"}),
    ("prediction", "POST", f"{VERTEX}/endpoints/cancer:deployModel",
     {"deployedModel": {"model": f"projects/{PROJECT}/locations/us-central1/models/cancer",
                        "dedicatedResources": {"machineSpec": {"machineType": "n1-standard-2"},
                                               "minReplicaCount": 1}},
      "trafficSplit": {"0": 100}}),
    ("prediction", "POST", f"{VERTEX}/endpoints/cancer:undeployModel",
     {"deployedModelId": "123", "trafficSplit": {}}),
    ("prediction", "POST", f"{VERTEX}/endpoints/cancer:mutateDeployedModel",
     {"deployedModel": {"id": "123", "dedicatedResources": {"minReplicaCount": 2}},
      "updateMask": "dedicatedResources"}),
    ("prediction", "GET", f"{VERTEX}/operations", None),
]  # fmt: skip
EVENT_SEED = {
    "message": {
        "data": base64.b64encode(b"Ada Lovelace lived in London.").decode(),
        "attributes": {"producer": "fuzz", "sourceUri": f"gs://{PROJECT}-images/a.png",
                       "sourceGeneration": "1"},
        "messageId": "1",
        "publishTime": "2026-12-02T10:00:00Z",
    },
    "subscription": f"projects/{PROJECT}/subscriptions/fuzz",
}  # fmt: skip
HOSTILE = [
    b"[" * 2000 + b"]" * 2000,
    b'{"a":' * 2000 + b"1" + b"}" * 2000,
    b'{"\\ud800": 1}',
    b'["\\ud800"]',
    b'{"requests": 1' + b"0" * 40 + b"}",
    b"1e400",
    b"\xff\xfe",
    b"",
    b"null",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
odd_values = st.one_of(
    json_values,
    st.just(10**30),
    st.just(1e308),
    st.just(-(2**63) - 1),
    st.just("x"),
    st.just(999),
    st.just("\u0000"),
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(seed: Any, rng: random.Random, replacement: Any) -> Any:
    """`seed` with one value replaced, one field dropped, or one unknown field added."""
    body = json.loads(json.dumps(seed))
    paths = [p for p in _paths(body) if p]
    if not paths:
        return replacement
    path = rng.choice(paths)
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    action = rng.random()
    if action < 0.7:
        parent[path[-1]] = replacement
    elif action < 0.85 and isinstance(parent, dict):
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent["unknownField"] = replacement
    return body


def _send(url: str, method: str, body: bytes | None) -> int:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return 599 if "timed out" not in str(error) else 598


def _bodies(seed: Any, examples: int, rng: random.Random) -> list[bytes]:
    """Hostile bodies, then `examples` generated ones (half random JSON, half mutations)."""
    found: list[bytes] = list(HOSTILE)

    @settings(
        max_examples=examples,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=json_values, replacement=odd_values, mutate=st.booleans())
    def generate(value: Any, replacement: Any, mutate: bool) -> None:
        chosen = _mutate(seed, rng, replacement) if mutate and seed is not None else value
        found.append(json.dumps(chosen).encode())

    generate()
    return found


def _census(stack: Stack, services: set[str], examples: int) -> dict[str, dict[str, Any]]:
    rng = random.Random(7)
    report: dict[str, dict[str, Any]] = collections.defaultdict(
        lambda: {"sent": 0, "5xx": 0, "samples": collections.Counter()}
    )
    routes = [r for r in ROUTES if r[0] in services]
    routes += [(name, "POST", "/events", EVENT_SEED) for name in sorted(services)]
    for service, method, path, seed in routes:
        base = stack.service_url(service)
        bodies = [None] if method == "GET" else _bodies(seed, examples, rng)
        queries = [""] if method != "GET" else ["", "?pageSize=x", "?pageSize=-1",
                                                "?filter=%ff", "?pageToken=%00"]  # fmt: skip
        for body in bodies:
            for query in queries:
                status = _send(base + path + query, method, body)
                entry = report[service]
                entry["sent"] += 1
                if status >= 500 and status != 501:
                    entry["5xx"] += 1
                    sample = (body or b"")[:80].decode("utf-8", "replace")
                    entry["samples"][f"{status} {method} {path}{query} {sample}"] += 1
    for service in services:
        report[service]["alive"] = _send(stack.service_url(service) + "/health", "GET", None)
    return report


def _seed_data(stack: Stack) -> None:
    """A model for the prediction routes, an input file for the batch ones."""
    import os

    import numpy as np
    from sklearn.linear_model import LogisticRegression

    try:
        from shared.registration import register_model
    except ImportError:  # an older tree, for the "before" figures
        from services.prediction.cli import register_model  # type: ignore[no-redef]
    from shared.registry import Registry
    from shared.storage import Storage

    os.environ["STORAGE_EMULATOR_HOST"] = stack.emulators.storage_url
    storage = Storage(PROJECT)
    for bucket in (f"{PROJECT}-models", f"{PROJECT}-results"):
        storage.ensure_bucket(bucket)
    features = np.random.default_rng(0).normal(size=(200, 2))
    model = LogisticRegression().fit(features, features[:, 0] > 0)
    registry = Registry(f"{PROJECT}-models", "models", storage)
    register_model(
        registry, "cancer", model, feature_names=["a", "b"], output_kind="classification",
        classes=[False, True], aliases=["champion"],
    )  # fmt: skip
    storage.write(f"gs://{PROJECT}-results/in.jsonl", b"[1.0, 2.0]\n[3.0, 4.0]\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="generated bodies a route")
    parser.add_argument("--services", default="", help="comma-separated; default: all")
    args = parser.parse_args()
    topology = load(DEFAULT_PATH)
    wanted = set(filter(None, args.services.split(","))) or set(topology.services)
    services = wanted & set(topology.services) & {r[0] for r in ROUTES}
    log = Path(tempfile.mkdtemp(prefix="fuzz-")) / "stack.log"
    with (
        log.open("w") as sink,
        Stack(
            topology,
            project=PROJECT,
            data_dir=log.parent,
            pubsub_port=_free_port(),
            storage_port=_free_port(),
            service_ports=free_ports_for(topology),
            log_sink=lambda name, line: sink.write(f"{name}: {line}\n"),
        ) as stack,
    ):
        _seed_data(stack)
        report = _census(stack, services, args.examples)
    print("| service | requests | 5xx (not 501) | health after |\n|---|---|---|---|")
    for service in sorted(report):
        entry = report[service]
        print(f"| {service} | {entry['sent']} | {entry['5xx']} | {entry['alive']} |")
    for service in sorted(report):
        for sample, count in report[service]["samples"].most_common(8):
            print(f"  {service}: {count} x {sample}")
    print(f"stack log: {log}")


if __name__ == "__main__":
    main()

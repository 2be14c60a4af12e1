"""Online-serving benchmark: one scikit-learn model served by this project's prediction
service and by the servers a user would pick instead, loaded with `wrk` on 127.0.0.1.

    .venv/bin/python bench/serving.py                       # every peer, 10 s per run
    .venv/bin/python bench/serving.py --peers ours,floor,inprocess,kserve --duration 5
    .venv/bin/python bench/serving.py --peers ours,kserve --cells 100x8,1x8   # an A/B in a minute

The model: a StandardScaler + LogisticRegression pipeline on scikit-learn's breast-cancer data
(30 features), saved once as `model.joblib`. Every server answers `predict_proba` (ours: output
kind `classification`) or `predict` (MLServer's and MLflow's defaults), for single-instance
and 100-instance requests in Vertex AI's JSON (`{"instances": [...]}`; MLServer only speaks the
V2 protocol, so it gets the same rows as a V2 tensor). Each peer lives in its own virtual
environment under `bench/.peers/` (created on first use, with the same scikit-learn version as
ours so the same artifact loads everywhere), each server with two worker processes where it
has the option, as on a 2-core machine.

Measured per peer: requests/s and p50/p99 latency at concurrency 1, 8 and 32 (wrk, one
connection per concurrent client), cold start (process spawn to the first correct
prediction), idle RSS after start and RSS after load (all processes of the server added up).
`inprocess` is the limit: `predict_proba` called in a loop in this process, no HTTP. `floor`
is a hello-world Flask app under gunicorn that parses nothing: the HTTP floor.

wrk runs on the same cores as the server, as do other programs on a shared machine: compare
peers within one run, and rerun when numbers look off. Results go to `.bench/results.json`
and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"
# Each peer in its own virtual environment, never in the project's .venv.
PEERS_DIR = ROOT / "bench" / ".peers"
PYTHON = Path(sys.executable)
SKLEARN = "scikit-learn=={}"
CONCURRENCY = (1, 8, 32)


@dataclass
class Peer:
    """How to install, start and call one server."""

    name: str
    packages: list[str]
    start: Callable[[Path, int], list[str]]  # (venv, port) -> argv
    path: str  # request path
    body: str  # "vertex" or "v2"
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None  # once, after install


# -- the model and request bodies ---------------------------------------------------------


@dataclass
class Workload:
    files: dict[str, Path]  # model, vertex-1, vertex-100, v2-1, v2-100
    model: object
    rows: object


def prepare() -> Workload:
    import joblib
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    work = CACHE / "work"
    work.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    data = load_breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(data.data, data.target)
    joblib.dump(model, work / "model.joblib")
    files = {"model": work / "model.joblib"}
    for size in (1, 100):
        rows = data.data[:size].tolist()
        files[f"vertex-{size}"] = work / f"vertex-{size}.json"
        files[f"vertex-{size}"].write_text(json.dumps({"instances": rows}))
        v2 = {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [size, 30],
                    "datatype": "FP64",
                    "data": [x for row in rows for x in row],
                }
            ]
        }
        files[f"v2-{size}"] = work / f"v2-{size}.json"
        files[f"v2-{size}"].write_text(json.dumps(v2))
    return Workload(files, model, data.data)


def lua_script(body: Path) -> Path:
    script = body.with_suffix(".lua")
    script.write_text(
        textwrap.dedent(f"""\
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
        local f = io.open("{body}", "r")
        wrk.body = f:read("*a")
        f:close()
        """)
    )
    return script


# -- peers ----------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def kserve_start(venv: Path, port: int) -> list[str]:
    server = _write(
        CACHE / "servers" / "kserve_server.py",
        f"""\
        import joblib, kserve

        class SKLearnModel(kserve.Model):  # what kserve's sklearnserver does
            def load(self):
                self._model = joblib.load("{CACHE / "work" / "model.joblib"}")
                self.ready = True
                return True

            def predict(self, payload, headers=None):
                instances = payload["instances"]
                return {{"predictions": self._model.predict_proba(instances).tolist()}}

        if __name__ == "__main__":
            model = SKLearnModel("cancer")
            model.load()
            kserve.ModelServer(http_port={port}, workers=2, enable_docs_url=False).start([model])
        """,
    )
    return [str(venv / "bin/python"), str(server)]


def mlserver_start(batching: bool) -> Callable[[Path, int], list[str]]:
    def start(venv: Path, port: int) -> list[str]:
        folder = CACHE / "servers" / ("mlserver-batch" if batching else "mlserver")
        settings = {
            "http_port": port,
            "grpc_port": port + 1,
            "metrics_port": port + 2,
            "parallel_workers": 2,
        }
        model = {
            "name": "cancer",
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": str(CACHE / "work" / "model.joblib")},
        }
        if batching:
            model |= {"max_batch_size": 64, "max_batch_time": 0.002}
        _write(folder / "settings.json", json.dumps(settings))
        _write(folder / "model-settings.json", json.dumps(model))
        return [str(venv / "bin/mlserver"), "start", str(folder)]

    return start


def mlflow_setup(venv: Path) -> None:
    target = CACHE / "servers" / "mlflow-model"
    if target.exists():
        return
    code = (
        f"import joblib, mlflow.sklearn; mlflow.sklearn.save_model("
        f"joblib.load('{CACHE / 'work' / 'model.joblib'}'), '{target}')"
    )
    subprocess.run([str(venv / "bin/python"), "-c", code], check=True)


def mlflow_start(venv: Path, port: int) -> list[str]:
    return [
        str(venv / "bin/mlflow"),
        "models",
        "serve",
        "-m",
        str(CACHE / "servers/mlflow-model"),
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "2",
    ]


def bentoml_start(venv: Path, port: int) -> list[str]:
    _write(
        CACHE / "servers" / "bento" / "service.py",
        f"""\
        import bentoml, joblib, numpy as np

        @bentoml.service(workers=2)
        class Cancer:
            def __init__(self):
                self.model = joblib.load("{CACHE / "work" / "model.joblib"}")

            @bentoml.api
            def predict(self, instances: list) -> dict:
                return {{"predictions": self.model.predict_proba(np.asarray(instances)).tolist()}}
        """,
    )
    return [
        str(venv / "bin/bentoml"),
        "serve",
        "service:Cancer",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--working-dir",
        str(CACHE / "servers" / "bento"),
    ]


def floor_start(venv: Path, port: int) -> list[str]:
    _write(
        CACHE / "servers" / "floor" / "floor.py",
        """\
        from flask import Flask

        app = Flask(__name__)

        @app.post("/predict")
        def predict():
            return {"predictions": [[0.5, 0.5]]}
        """,
    )
    return [
        str(venv / "bin/gunicorn"),
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(CACHE / "servers" / "floor"),
        "floor:app",
    ]


PEERS = {
    "kserve": Peer("kserve", ["kserve"], kserve_start, "/v1/models/cancer:predict", "vertex"),
    "mlserver": Peer(
        "mlserver",
        ["mlserver", "mlserver-sklearn", "uvloop<0.22"],  # 0.22 breaks its workers
        mlserver_start(False),
        "/v2/models/cancer/infer",
        "v2",
    ),
    "mlserver-batch": Peer(
        "mlserver-batch",
        ["mlserver", "mlserver-sklearn", "uvloop<0.22"],  # 0.22 breaks its workers
        mlserver_start(True),
        "/v2/models/cancer/infer",
        "v2",
    ),
    "mlflow": Peer(
        "mlflow", ["mlflow"], mlflow_start, "/invocations", "vertex", setup=mlflow_setup
    ),
    "bentoml": Peer("bentoml", ["bentoml"], bentoml_start, "/predict", "vertex"),
    "floor": Peer("floor", ["flask", "gunicorn"], floor_start, "/predict", "vertex"),
}
VENV_OF = {"mlserver-batch": "mlserver"}


def ensure_venv(peer: Peer) -> Path:
    import sklearn

    venv = PEERS_DIR / VENV_OF.get(peer.name, peer.name)
    stamp = venv / ".installed"
    if not stamp.exists():
        if not (venv / "bin/python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # The base interpreter's venv module is enough; packages come from PyPI.
        subprocess.run(
            [
                str(venv / "bin/pip"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                SKLEARN.format(sklearn.__version__),
                "joblib",
                *peer.packages,
            ],
            check=True,
        )
        stamp.touch()
    if peer.setup:
        peer.setup(venv)
    return venv


def install_peers(names: list[str]) -> int:
    """Every named peer's environment; a peer that cannot be installed is reported, and the
    table shows it as failed."""
    prepare()  # the model, which some peers' setup converts
    failed = []
    for name in names:
        if name in PEERS:
            try:
                ensure_venv(PEERS[name])
                print(f"{name}: ready", file=sys.stderr)
            except subprocess.CalledProcessError as exc:
                failed.append(name)
                print(f"{name}: install failed ({exc})", file=sys.stderr)
    return 0 if not failed else 1


# -- ours -----------------------------------------------------------------------------------


@contextlib.contextmanager
def ours_server(
    files: dict[str, Path], port: int, variant: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen, float]]:
    """The registry in gcp-storage-emulator, the model registered, then the service."""
    emulator_port = free_port()
    emulator = subprocess.Popen(
        [
            str(PYTHON.parent / "gcp-storage-emulator"),
            "start",
            "--port",
            str(emulator_port),
            "--host",
            "127.0.0.1",
            "--in-memory",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(emulator_port)
        env = {**os.environ, "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{emulator_port}"}
        register = (
            "import joblib\n"
            "from sklearn.datasets import load_breast_cancer\n"
            "from shared.registration import register_model\n"
            "from shared.registry import Registry\n"
            "from shared.storage import Storage\n"
            "storage = Storage('bench'); storage.ensure_bucket('bench-models')\n"
            "data = load_breast_cancer()\n"
            f"model = joblib.load('{files['model']}')\n"
            "register_model(Registry('bench-models', storage=storage), 'cancer', model,"
            " feature_names=[n.replace(' ', '_') for n in data.feature_names],"
            " training_data=data.data, output_kind='classification', aliases=['champion'])\n"
        )
        subprocess.run([str(PYTHON), "-c", register], cwd=ROOT, env=env, check=True)
        env |= {
            "REGISTRY_BUCKET": "bench-models",
            "PORT": str(port),
            "WORKERS": "2",
            "THREADS": "2",
            "PREDICTION_ACCESS_LOG": "false",
            "LOG_FORMAT": "json",
            "PREDICTION_PRELOAD": "cancer",
            **(variant or {}),
            **OURS_ENV,
        }
        started = time.perf_counter()
        server = env.get("SERVER", "gunicorn")
        if server == "gunicorn":  # as the topology and deploy/Dockerfile run it
            argv = [
                str(PYTHON.parent / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                env["WORKERS"],
                "--threads",
                env["THREADS"],
                "--worker-class",
                env.get("WORKER_CLASS", "gthread"),
                "--timeout",
                "0",
                "--preload",
                "--log-level",
                "error",
                "services.prediction.main:app",
            ]
        elif server == "granian":  # shared.serving, the other services' default
            env |= {"HOST": "127.0.0.1"}
            argv = [str(PYTHON), "-m", "shared.serving", "services.prediction.main:app"]
        else:  # functions-framework's own server
            argv = [
                str(PYTHON.parent / "functions-framework"),
                "--source",
                "services/prediction/main.py",
                "--target",
                "prediction",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            yield process, started
        finally:
            stop_tree(process)
    finally:
        emulator.terminate()
        emulator.wait()


OURS_PATH = "/v1/projects/bench/locations/us-central1/endpoints/cancer:predict"
# Our service under each server it can run under (peer names for --peers): `ours` is how the
# topology runs it.
OURS_VARIANTS: dict[str, dict[str, str]] = {
    "ours": {"SERVER": "gunicorn"},
    "ours-granian": {"SERVER": "granian"},
    "ours-ff": {"SERVER": "functions-framework"},
}
# Extra settings for ours from the command line (--ours-env KEY=VALUE), e.g. WORKERS=1.
OURS_ENV: dict[str, str] = {}
# Only these cells (--cells "100x8,1x8"); empty: all of them.
CELLS: set[str] = set()


# -- measuring ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"port {port} did not open")


def first_prediction(
    url: str, body: bytes, process: subprocess.Popen, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=5) as response:
            answer = response.read()
            if response.status == 200 and (b"predictions" in answer or b"outputs" in answer):
                return
        time.sleep(0.02)
    raise TimeoutError(f"{url} gave no prediction within {timeout} s")


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process and all its descendants, in MB. RSS counts pages that forked
    workers share with their parent once per process; PSS splits them among the sharers."""
    rss = pss = 0
    for proc in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{proc}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
    return rss / 1024, pss / 1024


def descendants(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children + [d for c in children for d in descendants(c)]


def stop_tree(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


_WRK_TIME = re.compile(r"([\d.]+)(us|ms|s)")


def _ms(text: str) -> float:
    value, unit = _WRK_TIME.match(text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, body: Path, connections: int, seconds: int) -> dict[str, float]:
    threads = 1 if connections == 1 else 2
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(lua_script(body)),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        match = re.search(rf"\s{pct}%\s+(\S+)", out)
        result[f"p{pct}"] = _ms(match.group(1)) if match else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    result["errors"] = int(errors.group(1)) if errors else 0
    if socket_errors:
        result["socket_errors"] = socket_errors.group(1)  # type: ignore[assignment]
    return result


def load(url: str, files: dict[str, Path], kind: str, seconds: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for size in (1, 100):
        for connections in CONCURRENCY:
            cell = f"{size}x{connections}"
            if CELLS and cell not in CELLS:
                results[cell] = {}
                continue
            results[cell] = wrk(url, files[f"{kind}-{size}"], connections, seconds)
    return results


def run_peer(name: str, files: dict[str, Path], seconds: int) -> dict:
    port = free_port()
    if name in OURS_VARIANTS:
        url = f"http://127.0.0.1:{port}{OURS_PATH}"
        with ours_server(files, port, OURS_VARIANTS[name]) as (process, started):
            first_prediction(url, files["vertex-1"].read_bytes(), process)
            cold = time.perf_counter() - started
            time.sleep(1.5)  # gunicorn forks its workers one after the other
            idle = memory_mb(process.pid)
            results = load(url, files, "vertex", seconds)
            loaded = memory_mb(process.pid)
        return {
            "cold_start_s": cold,
            "rss_idle_mb": idle[0],
            "pss_idle_mb": idle[1],
            "pss_loaded_mb": loaded[1],
            **results,
        }
    peer = PEERS[name]
    venv = ensure_venv(peer)
    url = f"http://127.0.0.1:{port}{peer.path}"
    log = (CACHE / "work" / f"{name}.log").open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(
        peer.start(venv, port),
        cwd=CACHE / "work",
        stdout=log,
        stderr=subprocess.STDOUT,
        # Servers that start helpers by name (mlflow runs `uvicorn`) find their venv's.
        env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", **peer.env},
        start_new_session=True,
    )
    try:
        first_prediction(url, files[f"{peer.body}-1"].read_bytes(), process)
        cold = time.perf_counter() - started
        time.sleep(1.5)  # let lazily started workers settle before measuring idle memory
        idle = memory_mb(process.pid)
        results = load(url, files, peer.body, seconds)
        loaded = memory_mb(process.pid)
    finally:
        stop_tree(process)
        log.close()
    return {
        "cold_start_s": cold,
        "rss_idle_mb": idle[0],
        "pss_idle_mb": idle[1],
        "pss_loaded_mb": loaded[1],
        **results,
    }


def in_process(work: Workload, seconds: int) -> dict:
    """`predict_proba` in a loop, one thread: the limit without HTTP."""
    model, rows = work.model, work.rows
    results: dict = {}
    for size in (1, 100):
        batch = rows[:size]  # type: ignore[index]
        count, deadline = 0, time.perf_counter() + min(seconds, 3)
        latencies = []
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            model.predict_proba(batch)  # type: ignore[attr-defined]
            latencies.append(time.perf_counter() - t)
            count += 1
        latencies.sort()
        entry = {
            "rps": count / sum(latencies),
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            "errors": 0,
        }
        for connections in CONCURRENCY:
            results[f"{size}x{connections}"] = entry if connections == 1 else {}
    return results


# -- report ---------------------------------------------------------------------------------


def table(results: dict[str, dict]) -> str:
    head = ["server", "cold s", "RSS idle MB", "PSS idle MB", "PSS loaded MB"]
    for size in (1, 100):
        for connections in CONCURRENCY:
            head.append(f"{size}i c{connections} rps (p50/p99 ms)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, result in results.items():
        if "error" in result:
            lines.append(f"| {name} | failed: {result['error']} |")
            continue
        row = [
            name,
            _num(result.get("cold_start_s"), 2),
            _num(result.get("rss_idle_mb"), 0),
            _num(result.get("pss_idle_mb"), 0),
            _num(result.get("pss_loaded_mb"), 0),
        ]
        for size in (1, 100):
            for connections in CONCURRENCY:
                cell = result.get(f"{size}x{connections}") or {}
                if not cell:
                    row.append("")
                    continue
                text = f"{cell['rps']:,.0f} ({cell['p50']:.1f}/{cell['p99']:.1f})"
                if cell.get("errors") or cell.get("socket_errors"):
                    text += f" [{cell.get('errors', 0)} errors {cell.get('socket_errors', '')}]"
                row.append(text)
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _num(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--peers", default="inprocess,floor,ours,kserve,mlserver,mlserver-batch,mlflow,bentoml"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--ours-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="settings for our service (default SERVER=gunicorn WORKERS=2 THREADS=2 "
        "PREDICTION_ACCESS_LOG=false PREDICTION_PRELOAD=cancer; SERVER=granian: "
        "shared.serving, SERVER=functions-framework)",
    )
    parser.add_argument(
        "--cells",
        default="",
        help="only these cells, as INSTANCESxCONNECTIONS (e.g. 100x8,1x8), for quick A/B runs",
    )
    parser.add_argument(
        "--install-only", action="store_true", help="create the peers' environments and exit"
    )
    args = parser.parse_args(argv)
    if args.install_only:
        return install_peers(args.peers.split(","))
    OURS_ENV.update(item.split("=", 1) for item in args.ours_env)
    CELLS.update(cell for cell in args.cells.split(",") if cell)
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    work = prepare()
    results: dict[str, dict] = {}
    for name in args.peers.split(","):
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            results[name] = (
                in_process(work, args.duration)
                if name == "inprocess"
                else run_peer(name, work.files, args.duration)
            )
        except Exception as exc:  # one peer failing does not end the run
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
        print(json.dumps(results[name]), file=sys.stderr, flush=True)
    (CACHE / "results.json").write_text(json.dumps(results, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

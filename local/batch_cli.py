"""`mlapi batch`: batch prediction jobs from the command line, through the service's REST API
(Vertex AI's batchPredictionJobs). Thin: plain HTTP and JSON. Every option is also an
environment variable.

    mlapi batch submit --model cancer@champion --input gs://b/in.jsonl --output gs://b/out
    mlapi batch watch JOB_ID        a progress bar until the job ends (exit 1 unless SUCCEEDED)
    mlapi batch list [--state JOB_STATE_RUNNING]
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import click

TERMINAL = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")


class Api:
    def __init__(self, url: str, project: str, location: str) -> None:
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"--url must be http(s)://, got {url!r}")
        self.url = url.rstrip("/")
        self.parent = f"projects/{project}/locations/{location}"

    def call(self, method: str, path: str, body: Any = None) -> tuple[dict[str, Any], Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked in __init__
            f"{self.url}/v1/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read() or b"{}"), response.headers
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = str(exc)
            raise click.ClickException(f"{exc.code}: {message}") from None
        except urllib.error.URLError as exc:
            raise click.ClickException(f"cannot reach {self.url}: {exc.reason}") from None

    def job_path(self, job: str) -> str:
        return job if job.startswith("projects/") else f"{self.parent}/batchPredictionJobs/{job}"


@click.group()
@click.option(
    "--url",
    envvar="MLAPI_BATCH_URL",
    default="http://127.0.0.1:8088",
    show_default=True,
    help="The batch prediction service.",
)
@click.option(
    "--project", envvar="GOOGLE_CLOUD_PROJECT", default="local-project", show_default=True
)
@click.option("--location", envvar="MLAPI_BATCH_LOCATION", default="us-central1", show_default=True)
@click.pass_context
def batch(ctx: click.Context, url: str, project: str, location: str) -> None:
    """Batch prediction jobs (Vertex AI's batchPredictionJobs)."""
    ctx.obj = Api(url, project, location)


@batch.command()
@click.option("--model", envvar="MLAPI_BATCH_MODEL", required=True, help="NAME@ALIAS, NAME/VERSION")
@click.option(
    "--input",
    "inputs",
    envvar="MLAPI_BATCH_INPUT",
    multiple=True,
    required=True,
    help="gs:// object, prefix or glob (repeat the option, or space-separate in the variable).",
)
@click.option("--output", envvar="MLAPI_BATCH_OUTPUT", required=True, help="gs:// prefix")
@click.option(
    "--format",
    "instances_format",
    envvar="MLAPI_BATCH_FORMAT",
    type=click.Choice(["jsonl", "csv", "file-list"]),
    default="jsonl",
    show_default=True,
)
@click.option("--key-field", envvar="MLAPI_BATCH_KEY_FIELD", default="")
@click.option("--chunk-size", envvar="MLAPI_BATCH_CHUNK_SIZE", type=int, default=0)
@click.option(
    "--engine", envvar="MLAPI_BATCH_ENGINE", type=click.Choice(["", "local", "beam"]), default=""
)
@click.option("--display-name", envvar="MLAPI_BATCH_DISPLAY_NAME", default="")
@click.option("--watch/--no-watch", envvar="MLAPI_BATCH_WATCH", default=False)
@click.pass_obj
def submit(
    api: Api,
    model: str,
    inputs: tuple[str, ...],
    output: str,
    instances_format: str,
    key_field: str,
    chunk_size: int,
    engine: str,
    display_name: str,
    watch: bool,
) -> None:
    """Create a job; prints its name (and with --watch, follows it)."""
    body: dict[str, Any] = {
        "displayName": display_name or f"batch-{int(time.time())}",
        "model": model,
        "inputConfig": {"instancesFormat": instances_format, "gcsSource": {"uris": list(inputs)}},
        "outputConfig": {
            "predictionsFormat": "jsonl",
            "gcsDestination": {"outputUriPrefix": output},
        },
    }
    if key_field:
        body["instanceConfig"] = {"keyField": key_field}
    if chunk_size:
        body["manualBatchTuningParameters"] = {"batchSize": chunk_size}
    if engine:
        body["labels"] = {"engine": engine}
    job, _ = api.call("POST", f"{api.parent}/batchPredictionJobs", body)
    click.echo(job["name"])
    if watch:
        _watch(api, job["name"], 1.0)


@batch.command("watch")
@click.argument("job")
@click.option("--interval", envvar="MLAPI_BATCH_INTERVAL", type=float, default=1.0)
@click.pass_obj
def watch_command(api: Api, job: str, interval: float) -> None:
    """Show a job's progress until it ends; exit status 1 unless it SUCCEEDED."""
    _watch(api, api.job_path(job), interval)


def _watch(api: Api, name: str, interval: float) -> None:
    with click.progressbar(length=1000, label="JOB_STATE_QUEUED", show_percent=True) as bar:
        while True:
            job, headers = api.call("GET", name)
            state = job.get("state", "")
            progress = float(headers.get("X-Mlapi-Progress") or 0)
            bar.label = f"{state} {_counts(job)}"
            bar.update(int(progress * 1000) - bar.pos)
            if state in TERMINAL:
                break
            time.sleep(interval)
    click.echo(f"{name}: {state} ({_counts(job)})")
    if job.get("outputInfo", {}).get("gcsOutputDirectory"):
        click.echo(f"output: {job['outputInfo']['gcsOutputDirectory']}")
    if job.get("error"):
        click.echo(f"error: {job['error'].get('message', '')}", err=True)
    if state != "JOB_STATE_SUCCEEDED":
        raise SystemExit(1)


def _counts(job: dict[str, Any]) -> str:
    stats = job.get("completionStats", {})
    return f"{int(stats.get('successfulCount', 0))} ok, {int(stats.get('failedCount', 0))} failed"


@batch.command("list")
@click.option("--state", envvar="MLAPI_BATCH_STATE", default="", help="e.g. JOB_STATE_RUNNING")
@click.option("--page-size", envvar="MLAPI_BATCH_PAGE_SIZE", type=int, default=100)
@click.pass_obj
def list_command(api: Api, state: str, page_size: int) -> None:
    """Jobs, one line each: id, state, counts, display name."""
    token = ""
    while True:
        query = f"?pageSize={page_size}" + (f"&pageToken={token}" if token else "")
        if state:
            query += f"&filter=state%3D{state}"
        page, _ = api.call("GET", f"{api.parent}/batchPredictionJobs{query}")
        for job in page.get("batchPredictionJobs", []):
            job_id = job["name"].rsplit("/", 1)[-1]
            click.echo(
                f"{job_id}\t{job.get('state', '')}\t{_counts(job)}\t{job.get('displayName', '')}"
            )
        token = page.get("nextPageToken", "")
        if not token:
            return

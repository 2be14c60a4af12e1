"""`mlapi`: the local stack from the command line. Thin: the work is in `local.stack`,
`deploy.wiring` and the official clients. Every option is also an environment variable.

    mlapi up                  start emulators and services, wire them, show what flows
    mlapi upload FILE...      put files in a bucket (and so trigger the pipelines)
    mlapi tail TOPIC          print messages as they arrive on a topic
    mlapi status              services, subscriptions, backlog and dead letters
    mlapi models ...          the model registry (`local.models_cli`)
    mlapi batch ...           batch prediction jobs (`local.batch_cli`)
"""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from pathlib import Path

import click

from local.batch_cli import batch
from local.clients import Emulators
from local.models_cli import models
from local.stack import PUBSUB_PORT, STORAGE_PORT

SUPERVISE_EVERY_S = 0.5
DEFAULT_TOPOLOGY = str(Path(__file__).resolve().parent.parent / "deploy" / "topology.yaml")

project_option = click.option(
    "--project",
    envvar="GOOGLE_CLOUD_PROJECT",
    default="local-project",
    show_default=True,
    help="Project id used for every resource name.",
)
topology_option = click.option(
    "--topology",
    "topology_path",
    envvar="MLAPI_TOPOLOGY",
    default=DEFAULT_TOPOLOGY,
    show_default=True,
    type=click.Path(exists=True, dir_okay=False),
)
pubsub_option = click.option(
    "--pubsub-host",
    envvar="PUBSUB_EMULATOR_HOST",
    default=f"127.0.0.1:{PUBSUB_PORT}",
    show_default=True,
)
service_ports_option = click.option(
    "--service-port",
    "service_ports",
    envvar="MLAPI_SERVICE_PORTS",
    multiple=True,
    metavar="NAME=PORT",
    help="Override a service's port from the topology (repeat the option, or comma-separate "
    "in the environment variable).",
)
data_dir_option = click.option(
    "--data-dir",
    envvar="MLAPI_DATA_DIR",
    default=".state",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the emulators keep their state across restarts (and `up` its components').",
)
storage_option = click.option(
    "--storage-url",
    envvar="STORAGE_EMULATOR_HOST",
    default=f"http://127.0.0.1:{STORAGE_PORT}",
    show_default=True,
)


@click.group()
def main() -> None:
    """Google Cloud ML APIs as small services, on one machine."""


@main.command()
@topology_option
@project_option
@data_dir_option
@click.option("--pubsub-port", envvar="MLAPI_PUBSUB_PORT", default=PUBSUB_PORT, show_default=True)
@click.option(
    "--storage-port", envvar="MLAPI_STORAGE_PORT", default=STORAGE_PORT, show_default=True
)
@service_ports_option
def up(
    topology_path: str,
    project: str,
    data_dir: Path,
    pubsub_port: int,
    storage_port: int,
    service_ports: tuple[str, ...],
) -> None:
    """Start the emulators and every service of the topology; Ctrl-C stops them all."""
    from deploy.topology import TopologyError, load
    from local.stack import Stack
    from local.supervision import GaveUp, Supervisor

    try:
        topology = load(topology_path)
    except TopologyError as exc:
        raise click.ClickException(str(exc)) from None
    stack = Stack(
        topology,
        project=project,
        data_dir=data_dir.resolve(),
        pubsub_port=pubsub_port,
        storage_port=storage_port,
        service_ports=_ports(service_ports),
        log_sink=_log_line,
    )
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    click.echo(f"starting the stack of {topology_path} (project {project})")
    started = time.monotonic()
    changes = stack.start()
    try:
        click.echo(f"\nready in {time.monotonic() - started:.1f} s\n")
        _table(["component", "endpoint", "serves"], stack.endpoints())
        click.echo()
        _table(["wiring", "name", "action"], [(c.kind, c.name, c.action) for c in changes])
        click.echo("\nexport " + " ".join(f"{k}={v}" for k, v in stack.emulators.env().items()))
        click.echo("logs follow; Ctrl-C stops everything\n")
        supervisor = Supervisor(
            stack, state_dir=data_dir.resolve(), report=lambda line: click.echo(line, err=True)
        )
        while not stopping.wait(SUPERVISE_EVERY_S):
            try:
                supervisor.check()
            except GaveUp as exc:
                click.echo(str(exc), err=True)
                raise SystemExit(1) from None
    finally:
        click.echo("stopping ...")
        stack.stop()


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--bucket", envvar="MLAPI_BUCKET", default="{project}-images", show_default=True)
@click.option("--prefix", default="", help="Object name prefix, such as 'scans/'.")
@project_option
@storage_option
def upload(
    files: tuple[Path, ...], bucket: str, prefix: str, project: str, storage_url: str
) -> None:
    """Put FILES in a bucket; its notifications start the pipelines."""
    import mimetypes

    client = Emulators("", storage_url, project).storage()
    target = client.bucket(bucket.replace("{project}", project))
    with click.progressbar(
        files, label=f"uploading to gs://{target.name}", show_pos=True, hidden=len(files) < 5
    ) as bar:
        for path in bar:
            blob = target.blob(prefix + path.name)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            blob.upload_from_filename(str(path), content_type=content_type)
    click.echo(f"uploaded {len(files)} file(s) to gs://{target.name}/{prefix}")


@main.command()
@click.argument("topic")
@click.option("--count", type=int, default=0, help="Stop after this many messages (0: never).")
@click.option("--timeout", type=float, default=0.0, help="Stop after this many seconds.")
@project_option
@pubsub_option
def tail(topic: str, count: int, timeout: float, project: str, pubsub_host: str) -> None:
    """Print messages published to TOPIC from now on (a temporary subscription)."""
    emulators = Emulators(pubsub_host, "", project)
    subscriber = emulators.subscriber()
    topic_path = topic if topic.startswith("projects/") else f"projects/{project}/topics/{topic}"
    subscription = f"projects/{project}/subscriptions/mlapi-tail-{uuid.uuid4().hex[:8]}"
    subscriber.create_subscription(name=subscription, topic=topic_path)
    seen, deadline = 0, time.monotonic() + timeout if timeout else None
    try:
        while (not count or seen < count) and (deadline is None or time.monotonic() < deadline):
            response = subscriber.pull(subscription=subscription, max_messages=10, timeout=30)
            if not response.received_messages:
                continue
            for received in response.received_messages:
                message = received.message
                click.echo(
                    json.dumps(
                        {
                            "messageId": message.message_id,
                            "attributes": dict(message.attributes),
                            "data": message.data.decode("utf-8", errors="replace"),
                        },
                        ensure_ascii=False,
                    )
                )
                seen += 1
            subscriber.acknowledge(
                subscription=subscription, ack_ids=[r.ack_id for r in response.received_messages]
            )
    except KeyboardInterrupt:
        pass
    finally:
        subscriber.delete_subscription(subscription=subscription)


@main.command()
@topology_option
@project_option
@pubsub_option
@storage_option
@service_ports_option
@data_dir_option
def status(
    topology_path: str,
    project: str,
    pubsub_host: str,
    storage_url: str,
    service_ports: tuple[str, ...],
    data_dir: Path,
) -> None:
    """Services (with restarts), subscriptions (with backlog) and dead letters of the running
    stack."""
    from local.status import collect

    report = collect(
        topology_path,
        Emulators(pubsub_host, storage_url, project),
        _ports(service_ports),
        state_dir=data_dir.resolve(),
    )
    _table(["component", "url", "health", "restarts"], report.services)
    click.echo()
    _table(["subscription", "topic", "kind", "backlog"], report.subscriptions)
    if report.dead_letters:
        click.echo()
        _table(["dead-letter topic", "messages kept"], report.dead_letters)


def _ports(values: tuple[str, ...]) -> dict[str, int]:
    ports = {}
    for item in (part for value in values for part in value.split(",") if part.strip()):
        name, _, port = item.partition("=")
        if not port.strip().isdigit():
            raise click.BadParameter(f"{item!r} is not NAME=PORT", param_hint="--service-port")
        ports[name.strip()] = int(port)
    return ports


def _log_line(name: str, line: str) -> None:
    """One component's log line, prefixed and made readable if it is Cloud Logging JSON."""
    text = line
    if line.startswith("{"):
        try:
            entry = json.loads(line)
            text = f"{entry.get('severity', ''):<7} {entry.get('message', '')}"
        except ValueError:
            pass
    click.echo(f"{click.style(f'{name:>10}', fg='cyan')} | {text}")


def _table(headers: list[str], rows) -> None:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    click.echo(
        "  ".join(click.style(h.ljust(w), bold=True) for h, w in zip(headers, widths, strict=True))
    )
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


main.add_command(batch)
main.add_command(models)


if __name__ == "__main__":
    main()

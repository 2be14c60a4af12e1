"""`mlapi models`: the model registry from the command line. Thin: the work is in
`shared.registry` and `shared.registration`.

    mlapi models register iris model.joblib --training-data iris.csv \\
        --label-column species --output-kind classification --alias champion
    mlapi models list [iris]
    mlapi models alias iris challenger 2      (--delete to remove)
    mlapi models split iris champion=90 challenger=10

Every option is also an environment variable: `--bucket` is `REGISTRY_BUCKET`, `--prefix`
`REGISTRY_PREFIX`, and a command's options `MLAPI_MODELS_<COMMAND>_<OPTION>`
(`MLAPI_MODELS_REGISTER_VERSION`); `STORAGE_EMULATOR_HOST` points at the emulator. Exit status:
0, 1 for a refused request (Google's status and message on stderr), 2 for bad usage.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from shared.errors import ApiError
from shared.modelschema import FEATURE_TYPES
from shared.registration import parse_features, register_artifact
from shared.registry import ARTIFACTS, Registry
from shared.storage import Storage
from shared.traffic import parse_split_args


def _refusals(command: Callable[..., None]) -> Callable[..., None]:
    """A request the registry refuses: Google's status and message, exit status 1."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except ApiError as error:
            click.echo(f"{error.code.name}: {error.message}", err=True)
            raise SystemExit(1) from None

    return run


@click.group(context_settings={"auto_envvar_prefix": "MLAPI_MODELS"})
@click.option(
    "--bucket", envvar="REGISTRY_BUCKET", default="mlapi-models", show_default=True,
    help="The registry's bucket.",
)  # fmt: skip
@click.option(
    "--prefix", envvar="REGISTRY_PREFIX", default="models", show_default=True,
    help="The registry's folder in the bucket.",
)  # fmt: skip
@click.pass_context
def models(ctx: click.Context, bucket: str, prefix: str) -> None:
    """The model registry: register | list | alias | split."""
    storage = Storage(os.environ.get("GOOGLE_CLOUD_PROJECT"))
    ctx.obj = Registry(bucket, prefix, storage)


@models.command()
@click.argument("name")
@click.argument("artifact", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--version", default="", help="Version id (default: the next integer).")
@click.option("--framework", type=click.Choice(sorted(ARTIFACTS)))
@click.option(
    "--output-kind",
    type=click.Choice(["regression", "label", "classification"]),
    default="regression",
    show_default=True,
)
@click.option("--classes", help="Comma-separated class labels, in score order.")
@click.option(
    "--features",
    help=f"NAME[:TYPE],... in input order; TYPE one of {', '.join(FEATURE_TYPES)} (default "
    "double).",
)
@click.option("--allow-missing", is_flag=True, help="Features accept null/NaN (XGBoost, LightGBM).")
@click.option(
    "--training-data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with a header row: baseline statistics (and the features when --features is "
    "not given).",
)
@click.option("--label-column", help="The CSV column that is the label, not a feature.")
@click.option("--alias", "aliases", multiple=True, help="An alias to point here (repeatable).")
@click.option("--create-bucket", is_flag=True, help="Create the registry's bucket if missing.")
@click.pass_obj
@_refusals
def register(
    registry: Registry,
    name: str,
    artifact: Path,
    version: str,
    framework: str | None,
    output_kind: str,
    classes: str | None,
    features: str | None,
    allow_missing: bool,
    training_data: Path | None,
    label_column: str | None,
    aliases: tuple[str, ...],
    create_bucket: bool,
) -> None:
    """Register a model artifact as a new version."""
    if create_bucket:
        registry.storage.ensure_bucket(registry.bucket)
    output: dict[str, Any] = {"kind": output_kind}
    if classes:
        output["classes"] = [c.strip() for c in classes.split(",")]
    registered = register_artifact(
        registry,
        name,
        artifact.read_bytes(),
        artifact.name,
        framework=framework,
        version=version,
        output=output,
        schema=parse_features(features, allow_missing) if features else None,
        training_csv=training_data,
        label_column=label_column,
        allow_missing=allow_missing,
        aliases=aliases,
    )
    click.echo(
        f"registered {registered.name} version {registered.version} ({registered.framework}) "
        f"at {registry.version_uri(registered.name, registered.version)}"
    )


@models.command("list")
@click.argument("name", required=False)
@click.pass_obj
@_refusals
def list_command(registry: Registry, name: str | None) -> None:
    """The models, or one model's versions with their traffic and aliases."""
    if name is None:
        for model in registry.models():
            click.echo(model)
        return
    snapshot = registry.snapshot(name)
    by_version: dict[str, list[str]] = {}
    for alias, version in sorted(snapshot.aliases.items()):
        by_version.setdefault(version, []).append(alias)
    try:
        traffic = snapshot.traffic(name).percents
    except ApiError:
        traffic = {}
    header = ("VERSION", "FRAMEWORK", "OUTPUT", "TRAFFIC", "CREATED")
    click.echo("{:<10} {:<10} {:<15} {:>7}  {:<25} ALIASES".format(*header))
    for version in registry.versions(name):
        try:
            meta = registry.get(name, version)
            framework, kind, created = meta.framework, meta.output_kind, meta.create_time
        except ApiError:
            framework, kind, created = "?", "?", "(no metadata)"
        click.echo(
            f"{version:<10} {framework:<10} {kind:<15} {traffic.get(version, 0):>6}%  "
            f"{created:<25} {','.join(by_version.get(version, []))}"
        )


@models.command()
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead.")
@click.pass_obj
@_refusals
def alias(registry: Registry, name: str, alias: str, version: str | None, delete: bool) -> None:
    """Point an alias at a version (or --delete it)."""
    if delete:
        aliases = registry.delete_alias(name, alias)
    elif not version:
        raise click.UsageError("alias needs a VERSION (or --delete)")
    else:
        aliases = registry.set_alias(name, alias, version)
    click.echo(json.dumps(aliases, sort_keys=True))


@models.command()
@click.argument("name")
@click.argument("percents", nargs=-1, required=True, metavar="VERSION=PERCENT...")
@click.pass_obj
@_refusals
def split(registry: Registry, name: str, percents: tuple[str, ...]) -> None:
    """Set the endpoint's traffic split across versions or aliases."""
    click.echo(
        json.dumps(registry.set_split(name, parse_split_args(list(percents))), sort_keys=True)
    )

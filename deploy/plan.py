"""The deploy plan: everything a deploy to Google Cloud does, in order, derived from the topology.

    python -m deploy.render --project P --region R            # the whole plan, for people
    python -m deploy.render ... --phases setup --format sh  # a phase as a script

Phases, in order: `bootstrap` (once, by a project owner: what the build itself may not grant),
`setup` (APIs, repository, service accounts, topics, buckets, IAM on them), `build` (one image
per service), `deploy` (one private Cloud Run service per service), `post-deploy` (who may
invoke each service), `wiring` (subscriptions and bucket notifications, applied idempotently by
`deploy/wiring.py`, the same code `mlapi up` uses locally), `post-wiring` (IAM on subscriptions)
and `smoke` (each service's health route, called with an identity token).

Commands are idempotent: a create runs only when the matching describe fails; bindings are
additive. Printing needs no Google account.
"""

from __future__ import annotations

import dataclasses
import re
import shlex

from deploy import iam, naming
from deploy.topology import Topology, seconds

PHASES = ("bootstrap", "setup", "build", "deploy", "post-deploy", "wiring", "post-wiring", "smoke")
BASE_APIS = (
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "pubsub.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
)
# What Cloud Build's account needs to run the deploy; granted once by an owner (bootstrap).
DEPLOYER_ROLES = (
    "roles/run.admin",
    "roles/artifactregistry.writer",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/resourcemanager.projectIamAdmin",
    "roles/pubsub.admin",
    "roles/storage.admin",
    "roles/serviceusage.serviceUsageAdmin",
)
PROJECT_NUMBER = "${PROJECT_NUMBER}"
_VARIABLE = re.compile(r"\$\{[A-Z_]+\}")


@dataclasses.dataclass(frozen=True)
class Step:
    """One command. `unless`: a command whose success means the step is already done.
    `assign`: the command's output is stored in this shell variable for later steps."""

    phase: str
    title: str
    command: tuple[str, ...]
    unless: tuple[str, ...] | None = None
    assign: str | None = None
    retry: bool = False  # IAM is eventually consistent: a new account may not be visible yet

    def shell(self, *, with_retry: bool = False) -> str:
        line = " ".join(_quote(arg) for arg in self.command)
        if with_retry and self.retry:
            line = f"retry {line}"
        if self.assign:
            return f'{self.assign}="$({line})"'
        if self.unless:
            check = " ".join(_quote(arg) for arg in self.unless)
            return f"{check} >/dev/null 2>&1 || {line}"
        return line

    def gcloud_commands(self) -> list[tuple[str, ...]]:
        """The gcloud invocations of this step (to check them with gcloud itself)."""
        return [c for c in (self.unless, self.command) if c and c[0] == "gcloud"]


def _quote(arg: str) -> str:
    """Shell-quote, keeping ${VARIABLE} references expandable."""
    if _VARIABLE.search(arg):
        escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
        return f'"{escaped}"'
    return shlex.quote(arg)


@dataclasses.dataclass(frozen=True)
class Target:
    project: str
    region: str
    repository: str = "mlapi"
    tag: str = "latest"


class Planner:
    def __init__(self, topology: Topology, target: Target) -> None:
        self.raw = topology
        self.topology = topology.render(target.project)
        self.target = target

    # -- the pieces ---------------------------------------------------------------------------

    def _flags(self) -> tuple[str, ...]:
        return (f"--project={self.target.project}",)

    def image(self, service: str) -> str:
        t = self.target
        return naming.image(service, t.project, t.region, t.repository, t.tag)

    def deploy_args(self, service: str) -> tuple[str, ...]:
        """`gcloud run deploy` for one service: private, its own account, its resources."""
        spec = self.topology.services[service]
        r = spec.resources
        env = {
            **spec.env,
            **spec.cloud_env,
            "ML_BACKEND": "cloud",
            "GOOGLE_CLOUD_PROJECT": self.target.project,
            "LOG_FORMAT": "json",
        }
        account = naming.account_email(naming.account_id(service), self.target.project)
        return (
            "gcloud",
            "run",
            "deploy",
            naming.run_service(service),
            f"--image={self.image(service)}",
            f"--region={self.target.region}",
            *self._flags(),
            f"--service-account={account}",
            "--no-allow-unauthenticated",
            f"--concurrency={r.concurrency}",
            f"--cpu={r.cpu:g}",
            f"--memory={r.memory}",
            f"--min-instances={r.min_instances}",
            f"--max-instances={r.max_instances}",
            f"--timeout={int(seconds(r.timeout))}",
            "--cpu-boost" if r.cpu_boost else "--no-cpu-boost",
            "--no-cpu-throttling" if r.cpu_always_allocated else "--cpu-throttling",
            f"--set-env-vars={_env_flag(env)}",
            f"--labels=app={naming.PREFIX},service={naming.run_service(service)}",
        )

    def build_args(self, service: str) -> tuple[str, ...]:
        spec = self.topology.services[service]
        extras = ("--build-arg", f"EXTRAS={','.join(spec.extras)}") if spec.extras else ()
        return (
            "docker",
            "build",
            "-f",
            "deploy/Dockerfile",
            "--build-arg",
            f"SERVICE={service}",
            "--build-arg",
            f"TARGET={spec.target}",
            *extras,
            "-t",
            self.image(service),
            ".",
        )

    def push_args(self, service: str) -> tuple[str, ...]:
        return ("docker", "push", self.image(service))

    def url_variable(self, service: str) -> str:
        return f"{naming.run_service(service).upper().replace('-', '_')}_URL"

    def _describe_url(self, service: str) -> Step:
        return Step(
            "smoke",
            f"{service}: URL",
            (
                "gcloud",
                "run",
                "services",
                "describe",
                naming.run_service(service),
                f"--region={self.target.region}",
                *self._flags(),
                "--format=value(status.url)",
            ),
            assign=self.url_variable(service),
        )

    # -- the plan -------------------------------------------------------------------------------

    def notes(self) -> list[str]:
        """What the plan deliberately leaves out, for the people reading it."""
        return [
            f"host {name} (local port {host.port}, routing {', '.join(host.routes)}) is "
            "local only: in the cloud, clients use Google's own host, "
            f"{self.target.region}-aiplatform.googleapis.com"
            for name, host in self.topology.hosts.items()
        ]

    def steps(self) -> list[Step]:
        return [
            *self.bootstrap(),
            *self.setup(),
            *self.build(),
            *self.deploy(),
            *self.post_deploy(),
            *self.wiring(),
            *self.post_wiring(),
            *self.smoke(),
        ]

    def _project_number(self, phase: str) -> Step:
        return Step(
            phase,
            "project number (for Google's service agents)",
            (
                "gcloud",
                "projects",
                "describe",
                self.target.project,
                "--format=value(projectNumber)",
            ),
            assign="PROJECT_NUMBER",
        )

    def bootstrap(self) -> list[Step]:
        builder = f"serviceAccount:{naming.cloud_build_account(PROJECT_NUMBER)}"
        steps = [
            self._project_number("bootstrap"),
            Step(
                "bootstrap",
                "the APIs the build needs",
                (
                    "gcloud",
                    "services",
                    "enable",
                    "cloudbuild.googleapis.com",
                    "serviceusage.googleapis.com",
                    *self._flags(),
                ),
            ),
        ]
        steps += [
            Step(
                "bootstrap",
                f"Cloud Build may {role.split('/')[1]}",
                (
                    "gcloud",
                    "projects",
                    "add-iam-policy-binding",
                    self.target.project,
                    f"--member={builder}",
                    f"--role={role}",
                    "--condition=None",
                ),
            )
            for role in DEPLOYER_ROLES
        ]
        return steps

    def setup(self) -> list[Step]:
        t, flags = self.target, self._flags()
        apis = sorted({*BASE_APIS, *(a for s in self.topology.services.values() for a in s.apis)})
        steps = [
            self._project_number("setup"),
            Step("setup", "APIs", ("gcloud", "services", "enable", *apis, *flags)),
            Step(
                "setup",
                f"Artifact Registry repository {t.repository}",
                (
                    "gcloud",
                    "artifacts",
                    "repositories",
                    "create",
                    t.repository,
                    "--repository-format=docker",
                    f"--location={t.region}",
                    *flags,
                ),
                unless=(
                    "gcloud",
                    "artifacts",
                    "repositories",
                    "describe",
                    t.repository,
                    f"--location={t.region}",
                    *flags,
                ),
            ),
        ]
        for account in iam.accounts(self.raw):
            email = naming.account_email(account, t.project)
            steps.append(
                Step(
                    "setup",
                    f"service account {account}",
                    (
                        "gcloud",
                        "iam",
                        "service-accounts",
                        "create",
                        account,
                        f"--display-name={account}",
                        *flags,
                    ),
                    unless=("gcloud", "iam", "service-accounts", "describe", email, *flags),
                )
            )
        for topic in self.topology.topics:
            steps.append(
                Step(
                    "setup",
                    f"topic {topic}",
                    ("gcloud", "pubsub", "topics", "create", topic, *flags),
                    unless=("gcloud", "pubsub", "topics", "describe", topic, *flags),
                )
            )
        for bucket in self.topology.buckets:
            steps.append(
                Step(
                    "setup",
                    f"bucket {bucket}",
                    (
                        "gcloud",
                        "storage",
                        "buckets",
                        "create",
                        f"gs://{bucket}",
                        f"--location={t.region}",
                        "--uniform-bucket-level-access",
                        *flags,
                    ),
                    unless=("gcloud", "storage", "buckets", "describe", f"gs://{bucket}", *flags),
                )
            )
        steps += [
            self._bind("setup", b)
            for b in self._bindings()
            if b.kind in ("project", "bucket", "topic", "service-account")
        ]
        return steps

    def build(self) -> list[Step]:
        steps = []
        for service in self.topology.services:
            steps.append(Step("build", f"{service}: image", self.build_args(service)))
            steps.append(Step("build", f"{service}: push", self.push_args(service)))
        return steps

    def deploy(self) -> list[Step]:
        return [
            Step("deploy", f"{service}: Cloud Run", self.deploy_args(service))
            for service in self.topology.services
        ]

    def post_deploy(self) -> list[Step]:
        steps = [self._project_number("post-deploy")]
        return steps + [
            self._bind("post-deploy", b) for b in self._bindings() if b.kind == "run-service"
        ]

    def wiring(self) -> list[Step]:
        """One command: deploy/wiring.py through the client libraries, create or update."""
        t = self.target
        return [
            Step(
                "wiring",
                "subscriptions and bucket notifications (create or update)",
                ("python", "-m", "deploy.apply", f"--project={t.project}", f"--region={t.region}"),
            )
        ]

    def post_wiring(self) -> list[Step]:
        steps = [self._project_number("post-wiring")]
        return steps + [
            self._bind("post-wiring", b) for b in self._bindings() if b.kind == "subscription"
        ]

    def smoke(self) -> list[Step]:
        steps = []
        for service in self.topology.services:
            url = "${" + self.url_variable(service) + "}"
            steps.append(self._describe_url(service))
            steps.append(
                Step(
                    "smoke",
                    f"{service}: health with an identity token",
                    (
                        "curl",
                        "-fsS",
                        "--retry",
                        "5",
                        "--retry-all-errors",
                        "-H",
                        f"Authorization: Bearer ${{TOKEN_{self.url_variable(service)}}}",
                        f"{url}/health",
                    ),
                )
            )
        return [s for step in steps for s in self._with_token(step)]

    def _with_token(self, step: Step) -> list[Step]:
        if not step.command or step.command[0] != "curl":
            return [step]
        variable = step.command[-1].split("}")[0].removeprefix("${")
        token = Step(
            "smoke",
            "identity token",
            ("gcloud", "auth", "print-identity-token", f"--audiences=${{{variable}}}"),
            assign=f"TOKEN_{variable}",
        )
        return [token, step]

    # -- IAM --------------------------------------------------------------------------------------

    def _bindings(self) -> list[iam.Binding]:
        return iam.bindings(self.raw, self.target.project, PROJECT_NUMBER)

    def _bind(self, phase: str, binding: iam.Binding) -> Step:
        flags = self._flags()
        member, role = f"--member={binding.member}", f"--role={binding.role}"
        resource = {
            "project": (
                "gcloud",
                "projects",
                "add-iam-policy-binding",
                binding.resource,
                member,
                role,
                "--condition=None",
            ),
            "bucket": (
                "gcloud",
                "storage",
                "buckets",
                "add-iam-policy-binding",
                f"gs://{binding.resource}",
                member,
                role,
                *flags,
            ),
            "topic": (
                "gcloud",
                "pubsub",
                "topics",
                "add-iam-policy-binding",
                binding.resource,
                member,
                role,
                *flags,
            ),
            "subscription": (
                "gcloud",
                "pubsub",
                "subscriptions",
                "add-iam-policy-binding",
                binding.resource,
                member,
                role,
                *flags,
            ),
            "run-service": (
                "gcloud",
                "run",
                "services",
                "add-iam-policy-binding",
                binding.resource,
                f"--region={self.target.region}",
                member,
                role,
                *flags,
            ),
            "service-account": (
                "gcloud",
                "iam",
                "service-accounts",
                "add-iam-policy-binding",
                binding.resource,
                member,
                role,
                *flags,
            ),
        }[binding.kind]
        return Step(
            phase,
            f"{binding.role} on {binding.kind} {binding.resource}: {binding.reason}",
            resource,
            retry=True,
        )


def _env_flag(env: dict[str, str]) -> str:
    """`--set-env-vars` value; an alternate delimiter when a value holds a comma (gcloud's
    `^DELIM^` escaping), so lists such as `a,b` survive."""
    pairs = [f"{key}={value}" for key, value in sorted(env.items())]
    if any("," in pair for pair in pairs):
        return "^|^" + "|".join(pairs)
    return ",".join(pairs)

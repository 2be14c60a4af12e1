"""What ModelService, EndpointService and their operations work on: the registry (models,
versions, aliases, each model's own split), the endpoint records beside it, the operations
store, and this process's deployments (refreshed at once after a change made here).

Only the `local` backend has one; with `ML_BACKEND=cloud` the service forwards predictions
to Vertex AI's endpoints, whose models and endpoints Vertex AI's own host manages, so these
APIs answer UNIMPLEMENTED there (as does a Vertex AI custom container: one model, no registry).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from shared.errors import unimplemented
from shared.service import context_of

if TYPE_CHECKING:
    from services.prediction.endpoint_records import EndpointRecords
    from services.prediction.endpoints import Deployments
    from services.prediction.operations import Operations
    from shared.registry import Registry
    from shared.storage import Storage


@dataclasses.dataclass
class ControlPlane:
    registry: Registry
    records: EndpointRecords
    operations: Operations
    deployments: Deployments
    storage: Storage

    def changed(self, endpoint: str) -> None:
        """An endpoint's deployed models or split changed here: this process serves the new
        state from its next request (other instances within REFRESH_SECONDS)."""
        self.deployments.invalidate(endpoint)

    def model_changed(self, model: str) -> None:
        """A model's versions or aliases changed here: its own endpoint(s) are rebuilt on
        their next request (aliases in a split may now point elsewhere)."""
        self.deployments.invalidate(model)
        for endpoint, deployment in self.deployments.loaded().items():
            if deployment.model == model:
                self.deployments.invalidate(endpoint)


def current() -> ControlPlane:
    found = getattr(context_of("prediction").backend, "control", None)
    if found is None:
        raise unimplemented(
            "Model and endpoint management is served over the local model registry only; "
            "with ML_BACKEND=cloud (or as a custom container) use Vertex AI's own host, "
            "{location}-aiplatform.googleapis.com."
        )
    return found

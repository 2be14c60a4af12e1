"""The engines that score a job's shards, by the name a job or `ENGINE` gives:

- `local`: this process, chunk by chunk, or `SCORING_PROCESSES` spawned processes;
- `beam`: an Apache Beam pipeline (DirectRunner here, Dataflow in the cloud; the `beam` extra).

There is no `cloud` backend that forwards to Vertex AI: the models are this project's
registry's, and the cloud path is the Beam engine on Dataflow. Engines are imported when a job
first asks for one, so a process that never runs Beam never imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from services.batch_prediction.backends.base import Engine

if TYPE_CHECKING:
    from services.batch_prediction.jobfiles import JobFiles
    from services.batch_prediction.modelcache import ModelCache
    from services.batch_prediction.settings import BatchPredictionSettings

# name -> "module:class"; every class takes (settings, models, files).
ENGINES = {
    "local": "services.batch_prediction.backends.local:LocalEngine",
    "beam": "services.batch_prediction.backends.beam:BeamEngine",
}


def create_engine(
    name: str, settings: BatchPredictionSettings, models: ModelCache, files: JobFiles
) -> Engine:
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)(settings, models, files)


__all__ = ["ENGINES", "Engine", "create_engine"]

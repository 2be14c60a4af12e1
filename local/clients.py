"""Official clients aimed at the local emulators and at our services, without touching the
process environment."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

C = TypeVar("C")


@dataclasses.dataclass(frozen=True)
class Emulators:
    pubsub_host: str  # host:port, as PUBSUB_EMULATOR_HOST
    storage_url: str  # http://host:port, as STORAGE_EMULATOR_HOST
    project: str

    def env(self) -> dict[str, str]:
        """What a child process needs to find the emulators."""
        return {
            "PUBSUB_EMULATOR_HOST": self.pubsub_host,
            "STORAGE_EMULATOR_HOST": self.storage_url,
            "GOOGLE_CLOUD_PROJECT": self.project,
        }

    def publisher(self):
        import grpc
        from google.cloud import pubsub_v1
        from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport

        channel = grpc.insecure_channel(self.pubsub_host)
        return pubsub_v1.PublisherClient(transport=PublisherGrpcTransport(channel=channel))

    def subscriber(self):
        import grpc
        from google.cloud import pubsub_v1
        from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

        channel = grpc.insecure_channel(self.pubsub_host)
        return pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))

    def storage(self):
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.storage_url),
        )


def api_client(client_type: Callable[..., C], url: str) -> C:
    """An official google-cloud-* client (`vision.ImageAnnotatorClient`, ...) aimed at one of
    our services at `url` (`http://127.0.0.1:PORT`): REST, no credentials."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return client_type(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )

"""Turning an `Image` of a request into pixels, safely.

- `image.content` (bytes), `image.source.gcsImageUri` and `image.source.imageUri` with `gs://`
  are read through Cloud Storage;
- `imageUri` with `http(s)://` is fetched only from hosts on `VISION_IMAGE_URI_ALLOWED_HOSTS`
  (default: none), and never from loopback, link-local, private or otherwise non-public
  addresses, whatever the allow-list says: every address the name resolves to is checked, the
  connection goes to the checked address, and redirects are not followed;
- at most `max_bytes` (20 MB, Google's image file limit) are read;
- dimensions are checked from the header before any pixel is decoded, so a decompression bomb
  (a tiny file declaring huge dimensions) is refused without allocating it;
- animated GIF and multi-page TIFF give their first frame, as Google documents.

Every refusal is an `ApiError` that ends up in that image's `error`.
"""

from __future__ import annotations

import dataclasses
import io
import ipaddress
import socket
import urllib.parse
import warnings

from PIL import Image, UnidentifiedImageError

from shared.errors import ApiError, Code, echo, invalid_argument
from shared.gapictypes import message_types
from shared.storage import Storage

vision = message_types("google.cloud.vision_v1")

BAD_IMAGE = "Bad image data."
URL_UNREACHABLE = "We can not access the URL currently. Please download the content and pass it in."
FETCH_TIMEOUT_S = 10.0


@dataclasses.dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    allowed_hosts: frozenset[str] = frozenset()


def load_bytes(image: vision.Image, storage: Storage, limits: ImageLimits) -> bytes:
    """The encoded bytes of the request's image, wherever they live."""
    if image.content:
        data = image.content
    else:
        uri = image.source.gcs_image_uri or image.source.image_uri
        if not uri:
            raise invalid_argument("No image present.")
        if uri.startswith("gs://"):
            data = storage.read(uri, max_bytes=limits.max_bytes)
        elif uri.startswith(("http://", "https://")):
            data = fetch_url(uri, limits)
        else:
            raise invalid_argument(f"Unsupported image URI scheme: {echo(uri)}.")
    if len(data) > limits.max_bytes:
        raise invalid_argument(
            f"Image is {len(data)} bytes; the limit is {limits.max_bytes} bytes."
        )
    return data


def decode(data: bytes, limits: ImageLimits) -> Image.Image:
    """Decoded first frame, RGB or L; INVALID_ARGUMENT for anything that is not a sound image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > limits.max_pixels:
                raise invalid_argument(
                    f"Image is {width}x{height} pixels; the limit is {limits.max_pixels} pixels."
                )
            image.seek(0)
            image.load()
    except ApiError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses before our own check when the header is absurd.
        raise invalid_argument(
            f"Image has more pixels than the limit of {limits.max_pixels} pixels."
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise invalid_argument(BAD_IMAGE) from None
    if image.mode not in ("RGB", "L", "RGBA", "LA"):
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    return image


def check_host(url: str, allowed_hosts: frozenset[str]) -> tuple[str, str, int]:
    """(host, public address, port) for an allowed URL; PERMISSION_DENIED otherwise."""
    parsed = urllib.parse.urlsplit(url)
    host = (parsed.hostname or "").lower()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if host not in allowed_hosts:
        raise ApiError(
            Code.PERMISSION_DENIED,
            f"Fetching images from {host or url!r} is not allowed: add the host to "
            "VISION_IMAGE_URI_ALLOWED_HOSTS, or send the bytes as image.content.",
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise invalid_argument(URL_UNREACHABLE) from None
    addresses = {info[4][0] for info in infos}
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise ApiError(
                Code.PERMISSION_DENIED,
                f"{host} resolves to a non-public address ({ip}); images are never fetched "
                "from loopback, link-local or private networks.",
            )
    return host, sorted(addresses)[0], port


def fetch_url(url: str, limits: ImageLimits) -> bytes:
    import urllib3

    host, address, port = check_host(url, limits.allowed_hosts)
    parsed = urllib.parse.urlsplit(url)
    path = parsed.path or "/"
    if parsed.query:
        path += "?" + parsed.query
    if parsed.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host, timeout=FETCH_TIMEOUT_S
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=FETCH_TIMEOUT_S)
    try:
        response = pool.urlopen(
            "GET",
            path,
            headers={"Host": host},
            redirect=False,
            preload_content=False,
            retries=False,
        )
        if response.status != 200:
            raise invalid_argument(URL_UNREACHABLE)
        data = response.read(limits.max_bytes + 1)
        response.release_conn()
    except ApiError:
        raise
    except urllib3.exceptions.HTTPError:
        raise invalid_argument(URL_UNREACHABLE) from None
    finally:
        pool.close()
    return data

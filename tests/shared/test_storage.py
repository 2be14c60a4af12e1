"""Large objects through `shared.storage.Storage` on the storage emulator: expanding URIs to
objects, ranged reads, writers that appear whole or not at all, directories with metadata.

gcp-storage-emulator serves the live generation whatever generation is asked for, so that a
reader stays on the generation it was handed is not checkable here (Cloud Storage answers 404
for a generation that is no longer live in a bucket without versioning)."""

from __future__ import annotations

import uuid

import pytest

from shared.errors import ApiError, Code
from shared.storage import ObjectInfo, Storage

CHUNK = 256 * 1024  # resumable uploads go in multiples of 256 KiB


@pytest.fixture
def bucket(storage_env) -> tuple[Storage, str]:
    storage = Storage("test-project")
    name = f"large-{uuid.uuid4().hex[:8]}"
    storage.ensure_bucket(name)
    return storage, name


def test_expand_names_an_object_a_prefix_or_a_glob_with_sizes_sorted(bucket):
    storage, name = bucket
    for path, data in [("in/b.jsonl", b"22"), ("in/a.jsonl", b"1"), ("in/c.csv", b"333")]:
        storage.write(f"gs://{name}/{path}", data)
    storage.write(f"gs://{name}/in/deeper/d.jsonl", b"4444")

    [one] = storage.expand(f"gs://{name}/in/b.jsonl")
    prefix = storage.expand(f"gs://{name}/in/")
    glob = storage.expand(f"gs://{name}/in/*.jsonl")

    assert (one.uri, one.size) == (f"gs://{name}/in/b.jsonl", 2)
    assert one.generation > 0
    assert [(o.uri.rsplit("/", 1)[-1], o.size) for o in prefix] == [
        ("a.jsonl", 1),
        ("b.jsonl", 2),
        ("c.csv", 3),
        ("d.jsonl", 4),
    ]
    # fnmatch: `*` crosses "/" too, so the deeper object matches (as documented).
    assert [o.uri.rsplit("/", 1)[-1] for o in glob] == ["a.jsonl", "b.jsonl", "d.jsonl"]
    assert storage.expand(f"gs://{name}/in/missing.jsonl") == []
    assert storage.expand(f"gs://{name}/none/*") == []


def test_expand_refuses_what_is_not_a_gs_uri(bucket):
    storage, _ = bucket
    with pytest.raises(ApiError) as caught:
        storage.expand("/etc/passwd")
    assert caught.value.code == Code.INVALID_ARGUMENT


def test_reader_fetches_ranges_and_seeks(bucket):
    storage, name = bucket
    data = bytes(range(256)) * 40  # 10 KiB
    uri = f"gs://{name}/ranged.bin"
    storage.write(uri, data)
    [info] = storage.expand(uri)

    with storage.open_reader(info, 1024) as reader:
        reader.seek(5000)
        middle = reader.read(3000)
        reader.seek(0)
        blocks = iter(lambda: reader.read(700), b"")
        whole = b"".join(blocks)

    assert middle == data[5000:8000]
    assert whole == data


def test_reader_of_a_missing_object_is_not_found(bucket):
    storage, name = bucket
    reader = storage.open_reader(ObjectInfo(f"gs://{name}/gone", 10, 1), 1024)
    with pytest.raises(ApiError) as caught, reader:
        reader.read(10)
    assert caught.value.code == Code.NOT_FOUND


def test_writer_appears_whole_on_commit_and_not_at_all_on_abort(bucket):
    storage, name = bucket
    directory = f"gs://{name}/out"
    kept = storage.open_writer(
        f"{directory}/kept.jsonl", metadata={"mlapi-job": "j1"}, chunk_bytes=CHUNK
    )
    dropped = storage.open_writer(f"{directory}/dropped.jsonl", chunk_bytes=CHUNK)
    big = b"x" * (CHUNK + 1000)  # more than one upload request
    kept.write(big)
    kept.write(b"tail\n")
    dropped.write(big)  # its first request is sent: the upload session must be cancelled
    dropped.write(b"never\n")

    assert storage.list_metadata(directory) == {}  # nothing is visible before commit
    kept.commit()
    dropped.abort()

    assert storage.list_metadata(directory) == {"kept.jsonl": {"mlapi-job": "j1"}}
    assert storage.read(f"{directory}/kept.jsonl") == big + b"tail\n"


def test_list_metadata_lists_only_the_directory_itself(bucket):
    storage, name = bucket
    storage.write(f"gs://{name}/dir/a", b"1")
    storage.write(f"gs://{name}/dir/sub/b", b"2")
    storage.write(f"gs://{name}/directory-not/c", b"3")

    assert storage.list_metadata(f"gs://{name}/dir") == {"a": {}}
    assert storage.list_metadata(f"gs://{name}/dir/") == {"a": {}}
    assert storage.list_metadata(f"gs://{name}/nothing") == {}

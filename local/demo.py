"""`make demo`: the topology's pipelines on one machine, offline, no Google account.

1. Starts the local stack (`local.stack.Stack`: Pub/Sub and Cloud Storage emulators, every
   service of `deploy/topology.yaml` on its port, the wiring applied).
2. Calls the vision service directly with the official `google-cloud-vision` client, as one
   would call vision.googleapis.com, and prints the text it received.
3. Uploads a few images the demo renders into the images bucket; the bucket's notification goes
   through Pub/Sub to the vision service, whose text lands on the `text-ready` topic, which
   pushes it to the language and translation services; prints what each step published, read
   from the sink subscriptions of `language-done` and `translation-done`.
2b. Speaks a sentence with espeak-ng, has the speech service recognise it directly through
   `google-cloud-speech`, then uploads the WAV to the audio bucket: speech -> text-ready ->
   language + translation, printing the transcript, its entities and its translation.
2c. Makes an invoice PDF (fields, check boxes, a ruled table), sends it to the Document AI
   service with the official `google-cloud-documentai` client and prints its fields and table;
   then drops it into the documents bucket: documentai -> text-ready -> language (entities)
   + translation (Spanish), each printed.
4. Registers two versions of a scikit-learn model in the registry, splits traffic 90/10 between
   them, and calls the prediction service with the official Vertex AI client.
4b. Does the same the way most Vertex AI users do, with the high-level SDK
   (`aiplatform.init(api_endpoint=<the Vertex host>)`): `Model.upload`, `Endpoint.create`,
   `model.deploy`, a second version at 10%, `endpoint.predict`, `endpoint.explain`,
   `undeploy_all`, through the stack's one Vertex AI host (port 8070).
5. Drops a JSONL file (two bad rows among them) into the batch-input bucket: a batch
   prediction job scores it into Vertex's output layout and announces itself on `batch-done`.
6. Stops everything.

Default ports (vision 8081, language 8082, speech 8083, translation 8084, Pub/Sub 8085,
storage 9023) are used when free, free ones otherwise.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import time
from pathlib import Path

from local.harness import free_port
from local.samples import TextImage, png_bytes, render

PROJECT = "demo-project"
IMAGES = {
    "receipt.png": TextImage(
        ("Invoice 4471 is due on 12 March 2026.", "Total amount payable: 1,250.00 EUR"),
        font="serif",
        size=30,
        rotate=4,
        noise=12,
    ),
    "sign.png": TextImage(
        ("Meeting moved to Thursday", "at 3:30 pm in room B."),
        font="sans-bold",
        size=40,
        rotate=180,
    ),
    "note.png": TextImage(
        ("Fresh bread, milk and eggs", "are on the list."), font="mono", size=24, ink=90, paper=200
    ),
}
WAIT_S = 60.0


def _port(preferred: int) -> int:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    return free_port()


def _quiet(_name: str, _line: str) -> None:
    """The demo prints results, not the services' logs (`mlapi up` shows those)."""


def main() -> int:
    from deploy.topology import load
    from local.stack import PUBSUB_PORT, STORAGE_PORT, Stack

    topology = load()
    ports = {name: _port(service.port) for name, service in topology.services.items()}
    ports.update({name: _port(host.port) for name, host in topology.hosts.items()})
    with tempfile.TemporaryDirectory(prefix="mlapi-demo-") as state:
        stack = Stack(
            topology,
            project=PROJECT,
            data_dir=Path(state),
            pubsub_port=_port(PUBSUB_PORT),
            storage_port=_port(STORAGE_PORT),
            service_ports=ports,
            log_sink=_quiet,
            # One prediction process here: its deploy operations need not wait the 5 s that
            # other instances' registry pollers would take to see a change.
            service_env={"PREDICTION_REFRESH_SECONDS": "0.5"},
        )
        started = time.monotonic()
        with stack:
            print(
                f"local stack up in {time.monotonic() - started:.1f} s "
                f"(project {PROJECT}, offline, local backends)"
            )
            for name, url, serves in stack.endpoints():
                print(f"  {name:<12} {url:<24} {serves}")
            _direct_call(stack.service_url("vision"))
            status = _pipeline(stack) or _speech(stack) or _documents(stack)
            return status or _prediction(stack) or _vertex_sdk(stack) or _batch(stack)


def _direct_call(url: str) -> None:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import vision

    client = vision.ImageAnnotatorClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )
    image = render(IMAGES["receipt.png"])
    started = time.perf_counter()
    response = client.text_detection({"content": png_bytes(image)})
    elapsed = (time.perf_counter() - started) * 1000
    print(
        f"\n1) google-cloud-vision -> {url}/v1/images:annotate ({elapsed:.0f} ms); "
        "the text the official client received:\n"
    )
    print(_indent(response.full_text_annotation.text))


# What the demo waits for, per uploaded image: the step's sink subscription and how to show it.
SINKS = {
    "vision": "text-ready-sink",
    "language": "language-done-sink",
    "translation": "translation-done-sink",
}


def _pipeline(stack) -> int:
    storage = stack.emulators.storage()
    bucket = storage.bucket(f"{PROJECT}-images")
    print(
        f"2) uploading {len(IMAGES)} images to gs://{bucket.name}: bucket notification -> "
        "Pub/Sub push -> vision -> text-ready -> language + translation\n"
    )
    started = time.monotonic()
    for name, spec in IMAGES.items():
        bucket.blob(f"scans/{name}").upload_from_string(
            png_bytes(render(spec)), content_type="image/png"
        )
    sources = [f"gs://{bucket.name}/scans/{name}" for name in IMAGES]
    if _collect(stack, sources, SINKS, started):
        return 1
    print(f"every image went through the pipeline; results in gs://{PROJECT}-results")
    return 0


def _collect(stack, sources: list[str], sinks: dict[str, str], started: float) -> int:
    """Wait for every step's result of every source on the sink subscriptions and print them;
    the number of results that did not arrive within WAIT_S."""
    from google.api_core import exceptions

    subscriber = stack.emulators.subscriber()
    results: dict[tuple[str, str], object] = {}
    wanted = {(source, step) for source in sources for step in sinks}
    while not wanted <= results.keys() and time.monotonic() - started < WAIT_S:
        for step, sink in sinks.items():
            subscription = f"projects/{PROJECT}/subscriptions/{sink}"
            try:
                response = subscriber.pull(subscription=subscription, max_messages=10, timeout=2)
            except exceptions.DeadlineExceeded:  # nothing yet, on a busy machine
                continue
            for received in response.received_messages:
                source = received.message.attributes.get("sourceUri", "?")
                results[(source, step)] = (received.message, time.monotonic() - started)
            if response.received_messages:
                subscriber.acknowledge(
                    subscription=subscription,
                    ack_ids=[r.ack_id for r in response.received_messages],
                )
    for source in sources:
        print(f"   {source}")
        for step in sinks:
            found = results.get((source, step))
            if found is None:
                print(f"      {step:<12} nothing within {WAIT_S:.0f} s")
                continue
            message, seconds = found
            print(f"      {step:<12} {seconds:4.1f} s  {_summary(step, message)}")
        print()
    missing = wanted - results.keys()
    if missing:
        print(f"{len(missing)} result(s) did not arrive within {WAIT_S:.0f} s", file=sys.stderr)
    return len(missing)


SENTENCE = "Marie Curie worked in Paris for many years."
SPEECH_SINKS = {
    "speech": "text-ready-sink",
    "language": "language-done-sink",
    "translation": "translation-done-sink",
}


def _speech(stack) -> int:
    """A sentence spoken by espeak-ng: recognised directly with google-cloud-speech, then
    uploaded to the audio bucket: speech -> text-ready -> language + translation."""
    import shutil
    import subprocess

    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import speech

    if shutil.which("espeak-ng") is None:
        print("2b) speech: espeak-ng is not installed (local/system_packages.sh); skipped\n")
        return 0
    with tempfile.TemporaryDirectory(prefix="mlapi-speech-") as folder:
        path = Path(folder) / "sentence.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), SENTENCE], check=True
        )
        audio = path.read_bytes()
    url = stack.service_url("speech")
    client = speech.SpeechClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )
    started = time.perf_counter()
    response = client.recognize(
        config=speech.RecognitionConfig(language_code="en-US", enable_automatic_punctuation=True),
        audio=speech.RecognitionAudio(content=audio),
    )
    elapsed = (time.perf_counter() - started) * 1000
    transcript = "".join(r.alternatives[0].transcript for r in response.results)
    print(f"2b) espeak-ng said: {SENTENCE!r}")
    print(
        f"   google-cloud-speech -> {url}/v1/speech:recognize ({elapsed:.0f} ms, the first "
        f"call loads Whisper): {transcript!r}"
    )
    bucket = stack.emulators.storage().bucket(f"{PROJECT}-audio")
    print(
        f"   uploading it to gs://{bucket.name}: bucket notification -> Pub/Sub push -> "
        "speech -> text-ready -> language + translation\n"
    )
    began = time.monotonic()
    bucket.blob("voice/sentence.wav").upload_from_string(audio, content_type="audio/wav")
    if _collect(stack, [f"gs://{bucket.name}/voice/sentence.wav"], SPEECH_SINKS, began):
        return 1
    print("the spoken sentence went through the pipeline as text\n")
    return 0


def _summary(step: str, message) -> str:
    """One readable line per result: the text, the entities and sentiment, the translation."""
    if step == "language":
        result = json.loads(message.data or b"{}")
        entities = ", ".join(f"{e['name']} ({e['type']})" for e in result.get("entities", [])[:4])
        score = result.get("documentSentiment", {}).get("score", 0.0)
        return f"sentiment {score:+.2f}; entities: {entities or 'none'}"
    text = " / ".join(line for line in message.data.decode().splitlines() if line.strip())
    language = message.attributes.get("languageCode", "")
    return f"[{language}] {text}"


def _documents(stack) -> int:
    """An invoice through Document AI directly, then through the pipeline."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import documentai_v1 as documentai

    from local.document_samples import invoice

    form = invoice(2026)
    url = stack.service_url("documentai")
    client = documentai.DocumentProcessorServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )
    name = f"projects/{PROJECT}/locations/us/processors/form"
    started = time.perf_counter()
    doc = client.process_document(
        request=documentai.ProcessRequest(
            name=name,
            raw_document=documentai.RawDocument(content=form.pdf, mime_type="application/pdf"),
        )
    ).document
    elapsed = (time.perf_counter() - started) * 1000
    print(
        f"2c) google-cloud-documentai -> {url}/v1/{name}:process ({elapsed:.0f} ms): "
        "an invoice the demo made\n"
    )

    def text(layout) -> str:
        return "".join(
            doc.text[int(s.start_index) : int(s.end_index)]
            for s in layout.text_anchor.text_segments
        ).strip()

    page = doc.pages[0]
    for field in page.form_fields:
        value = field.value_type or text(field.field_value)
        print(f"      {text(field.field_name):<22} {value}")
    for table in page.tables:
        print()
        for row in [*table.header_rows, *table.body_rows]:
            cells = []
            for cell in row.cells:
                cells.append(f"{text(cell.layout):<{16 * cell.col_span}}")
            print("      | " + " | ".join(cells))
    invoice_doc = client.process_document(
        request=documentai.ProcessRequest(
            name=f"projects/{PROJECT}/locations/us/processors/invoice",
            raw_document=documentai.RawDocument(content=form.pdf, mime_type="application/pdf"),
        )
    ).document
    print("\n   the invoice parser's entities (from the labelled fields and the table):")
    for entity in invoice_doc.entities:
        if entity.type_ == "line_item":
            continue
        normal = entity.normalized_value.text
        print(
            f"      {entity.type_:<18} {entity.mention_text}" + (f"  -> {normal}" if normal else "")
        )
    items = sum(1 for e in invoice_doc.entities if e.type_ == "line_item")
    print(f"      line_item          {items} of them, with description, quantity, prices")
    bucket = stack.emulators.storage().bucket(f"{PROJECT}-documents")
    source = f"gs://{bucket.name}/invoices/invoice-2026.pdf"
    print(
        f"\n   uploading it to {source}: notification -> documentai -> text-ready -> "
        "language + translation\n"
    )
    started_at = time.monotonic()
    bucket.blob("invoices/invoice-2026.pdf").upload_from_string(
        form.pdf, content_type="application/pdf"
    )
    results = _results_by_step(stack, {source})
    for step in SINKS:
        found = results.get((source, "documentai" if step == "vision" else step))
        label = "documentai" if step == "vision" else step
        if found is None:
            print(f"      {label:<12} nothing within {WAIT_S:.0f} s")
            continue
        message, seconds = found
        summary = _summary(step, message).replace("\n", " ")
        print(f"      {label:<12} {seconds:4.1f} s  {summary[:240]}")
    if len(results) < len(SINKS):
        print("the invoice did not go all the way through the pipeline", file=sys.stderr)
        return 1
    print(f"   ({time.monotonic() - started_at:.1f} s through the pipeline)\n")
    return 0


def _results_by_step(stack, sources: set[str]) -> dict:
    """(sourceUri, step) -> (message, seconds) from the sink subscriptions, for `sources`."""
    from google.api_core import exceptions

    subscriber = stack.emulators.subscriber()
    started = time.monotonic()
    steps = {"vision": "documentai", "language": "language", "translation": "translation"}
    results: dict = {}
    wanted = {(s, steps[k]) for s in sources for k in SINKS}
    while not wanted <= results.keys() and time.monotonic() - started < WAIT_S:
        for step, sink in SINKS.items():
            subscription = f"projects/{PROJECT}/subscriptions/{sink}"
            try:
                response = subscriber.pull(subscription=subscription, max_messages=10, timeout=2)
            except exceptions.DeadlineExceeded:
                continue
            for received in response.received_messages:
                source = received.message.attributes.get("sourceUri", "?")
                if source in sources:
                    results[(source, steps[step])] = (received.message, time.monotonic() - started)
            if response.received_messages:
                subscriber.acknowledge(
                    subscription=subscription,
                    ack_ids=[r.ack_id for r in response.received_messages],
                )
    return results


def _prediction(stack) -> int:
    """Two versions of a model in the registry, a 90/10 split, the official Vertex AI client."""
    import collections
    import os

    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.aiplatform_v1 import PredictionServiceClient
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from shared.registration import register_model
    from shared.registry import Registry
    from shared.storage import Storage

    os.environ["STORAGE_EMULATOR_HOST"] = stack.emulators.storage_url  # for the registry
    data = load_breast_cancer()
    names = [n.replace(" ", "_") for n in data.feature_names]
    registry = Registry(f"{PROJECT}-models", storage=Storage(PROJECT))
    print("3) model registry: two versions of a breast-cancer classifier, split 90/10")
    for regularisation, alias in ((1.0, "champion"), (0.01, "challenger")):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=regularisation, max_iter=2000))
        model.fit(data.data, data.target)
        version = register_model(
            registry,
            "cancer",
            model,
            feature_names=names,
            training_data=data.data,
            output_kind="classification",
            classes=["malignant", "benign"],
            aliases=[alias],
        )
        print(f"   registered cancer version {version.version} as {alias} (C={regularisation})")
    registry.set_split("cancer", {"champion": 90, "challenger": 10})

    url = stack.service_url("prediction")
    client = PredictionServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )
    endpoint = f"projects/{PROJECT}/locations/us-central1/endpoints/cancer"
    instance = dict(zip(names, data.data[0].tolist(), strict=True))
    started = time.perf_counter()
    response = client.predict(endpoint=endpoint, instances=[instance])
    elapsed = (time.perf_counter() - started) * 1000
    prediction = dict(response.predictions[0])
    scores = ", ".join(
        f"{c} {s:.3f}" for c, s in zip(prediction["classes"], prediction["scores"], strict=True)
    )
    print(f"\n   google-cloud-aiplatform -> {url}/v1/{endpoint}:predict ({elapsed:.0f} ms)")
    print(f"   first patient: {scores}; answered by version {response.deployed_model_id}")
    answered = collections.Counter(
        client.predict(endpoint=endpoint, instances=[instance]).deployed_model_id
        for _ in range(200)
    )
    shares = ", ".join(f"version {v}: {n}" for v, n in sorted(answered.items()))
    print(f"   200 more requests through the 90/10 split: {shares}\n")
    return 0


def _vertex_sdk(stack) -> int:
    """The prediction step as the Vertex AI SDK drives it, through the one Vertex AI host."""
    import collections
    import io
    import logging

    import joblib
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for name in ("google.cloud.aiplatform.models", "google.cloud.aiplatform.jobs"):
        logging.getLogger(name).setLevel(logging.WARNING)  # the demo prints results, not logs
    host = stack.service_url("vertex")
    started = time.monotonic()
    aiplatform.init(
        project=PROJECT,
        location="us-central1",
        api_endpoint=host,
        api_transport="rest",
        credentials=AnonymousCredentials(),
    )
    print(f"3b) the Vertex AI SDK, aiplatform.init(api_endpoint={host!r}): one host for all")
    data = load_breast_cancer()
    bucket = stack.emulators.storage().bucket(f"{PROJECT}-results")
    image = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest"
    names = [n.replace(" ", "_") for n in data.feature_names]
    schema = "type: object\nproperties:\n" + "".join(f"  {n}: {{type: number}}\n" for n in names)
    bucket.blob("artifacts/cancer-sdk/instance.yaml").upload_from_string(schema)
    uploaded = []
    for version, regularisation in enumerate((1.0, 0.01), 1):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=regularisation, max_iter=2000))
        model.fit(data.data, data.target)
        artifact = io.BytesIO()
        joblib.dump(model, artifact)
        bucket.blob(f"artifacts/cancer-sdk/v{version}/model.joblib").upload_from_string(
            artifact.getvalue()
        )
        uploaded.append(
            aiplatform.Model.upload(
                display_name="cancer-sdk",
                parent_model=uploaded[0].resource_name if uploaded else None,
                artifact_uri=f"gs://{bucket.name}/artifacts/cancer-sdk/v{version}",
                serving_container_image_uri=image,
                instance_schema_uri=f"gs://{bucket.name}/artifacts/cancer-sdk/instance.yaml",
                is_default_version=version == 1,
            )
        )
        print(f"   Model.upload -> {uploaded[-1].resource_name} version {version}")
    endpoint = aiplatform.Endpoint.create(display_name="cancer-sdk")
    uploaded[0].deploy(endpoint=endpoint, machine_type="n1-standard-2")
    uploaded[1].deploy(endpoint=endpoint, traffic_percentage=10, machine_type="n1-standard-2")
    print(f"   Endpoint.create + model.deploy x2: {endpoint.resource_name}")
    print(f"   traffic split by deployed model id: {endpoint.traffic_split}")
    row = dict(zip(names, data.data[0].tolist(), strict=True))
    answered = collections.Counter(
        endpoint.predict(instances=[row]).model_version_id for _ in range(200)
    )
    shares = ", ".join(f"version {v}: {n}" for v, n in sorted(answered.items()))
    print(f"   200 endpoint.predict calls: {shares}")
    explained = endpoint.explain(instances=[row]).explanations[0].attributions[0]
    top = sorted(dict(explained.feature_attributions).items(), key=lambda kv: -abs(kv[1]))[:3]
    print(
        "   endpoint.explain, largest attributions: " + ", ".join(f"{k} {v:+.3f}" for k, v in top)
    )
    endpoint.undeploy_all()
    print(f"   undeploy_all: {len(endpoint.list_models())} deployed models left")
    print(f"   ({time.monotonic() - started:.1f} s for the whole SDK step)\n")
    return 0


def _batch(stack) -> int:
    """A JSONL file dropped in the batch-input bucket becomes a batch prediction job."""
    from google.api_core import exceptions
    from sklearn.datasets import load_breast_cancer

    rows = load_breast_cancer().data[:2000]
    lines = [json.dumps({"instance": [round(v, 4) for v in row]}) for row in rows]
    lines[7] = "this line is not JSON"
    lines[42] = json.dumps({"instance": [1.0, 2.0]})  # two features, not thirty
    storage = stack.emulators.storage()
    bucket = storage.bucket(f"{PROJECT}-batch-input")
    print(f"4) batch prediction: {len(lines)} rows of JSONL dropped into gs://{bucket.name}")
    started = time.monotonic()
    bucket.blob("patients.jsonl").upload_from_string(
        "\n".join(lines) + "\n", content_type="application/jsonl"
    )
    subscriber = stack.emulators.subscriber()
    sink = f"projects/{PROJECT}/subscriptions/batch-done-sink"
    while time.monotonic() - started < WAIT_S:
        try:
            response = subscriber.pull(subscription=sink, max_messages=1, timeout=5)
        except exceptions.DeadlineExceeded:
            continue
        if not response.received_messages:
            continue
        subscriber.acknowledge(subscription=sink, ack_ids=[response.received_messages[0].ack_id])
        message = response.received_messages[0].message
        done = json.loads(message.data)
        stats = done.get("completionStats", {})
        print(
            f"   {message.attributes.get('jobState')} in {time.monotonic() - started:.1f} s: "
            f"{stats.get('successfulCount')} predicted, {stats.get('failedCount')} in errors"
        )
        for uri in done.get("predictionUris", []) + done.get("errorUris", []):
            bucket_name, _, name = uri.removeprefix("gs://").partition("/")
            text = storage.bucket(bucket_name).blob(name).download_as_text()
            first = text.splitlines()[0] if text else ""
            print(f"   {uri}\n      {first[:110]}{'...' if len(first) > 110 else ''}")
        return 0
    print(f"no batch-done message within {WAIT_S:.0f} s", file=sys.stderr)
    return 1


def _indent(text: str) -> str:
    return "\n".join(f"      {line}" for line in text.strip().splitlines()) + "\n"


if __name__ == "__main__":
    sys.exit(main())

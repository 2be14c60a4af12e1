"""Speech-to-Text's REST surface: the paths and JSON `google-cloud-speech` calls over REST.

    POST /v1/speech:recognize                 Recognize
    POST /v1/speech:longrunningrecognize      LongRunningRecognize -> Operation
    GET  /v1/operations/{name}                GetOperation (names are bare numbers)
    GET  /v1/operations?pageSize=&pageToken=  ListOperations
    POST /v2/projects/{p}/locations/{l}/recognizers/{r}:recognize       v2 Recognize
    POST /v2/projects/{p}/locations/{l}/recognizers/{r}:batchRecognize  -> Operation
    GET  /v2/projects/{p}/locations/{l}/operations/{id}    GET  .../operations (list)

Checked here, whoever answers: the audio is given exactly once (`content` or `uri`). The
limits that need the audio's length are the backend's (Google applies its own).
"""

from __future__ import annotations

import flask

from services.speech import limits
from shared import protojson
from shared.app import json_body, proto_response
from shared.errors import echo, invalid_argument
from shared.gapictypes import message_types
from shared.service import context_of

speech = message_types("google.cloud.speech_v1")
speech_v2 = message_types("google.cloud.speech_v2")

_V2 = "/v2/projects/<project>/locations/<location>/recognizers/<recognizer>"
# Google's limit on files in one BatchRecognize request (speech-to-text/v2/quotas).
MAX_BATCH_FILES = 15


def blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("speech_api", __name__)
    bp.add_url_rule("/v1/speech:recognize", view_func=recognize, methods=["POST"])
    bp.add_url_rule(
        "/v1/speech:longrunningrecognize", view_func=long_running_recognize, methods=["POST"]
    )
    bp.add_url_rule("/v1/operations/<path:name>", view_func=get_operation, methods=["GET"])
    bp.add_url_rule("/v1/operations", view_func=list_operations, methods=["GET"])
    bp.add_url_rule(_V2 + ":recognize", view_func=recognize_v2, methods=["POST"])
    bp.add_url_rule(_V2 + ":batchRecognize", view_func=batch_recognize, methods=["POST"])
    v2_operations = "/v2/projects/<project>/locations/<location>/operations"
    bp.add_url_rule(v2_operations + "/<number>", view_func=get_operation_v2, methods=["GET"])
    bp.add_url_rule(v2_operations, view_func=list_operations_v2, methods=["GET"])
    return bp


def _context():
    return context_of("speech")


def _parse(message_type, body: bytes):
    try:
        return protojson.parse(message_type, body)
    except Exception as exc:
        # A body with both `content` and `uri` fails json_format's oneof check; say it plainly.
        if "oneof" in str(exc) and "audio_source" in str(exc):
            raise invalid_argument(limits.BOTH_SOURCES) from None
        raise


def _check_audio(audio) -> None:
    if audio.content and audio.uri:
        raise invalid_argument(limits.BOTH_SOURCES)
    if not audio.content and not audio.uri:
        raise invalid_argument(limits.NO_AUDIO)


def recognize() -> flask.Response:
    request = _parse(speech.RecognizeRequest, json_body())
    _check_audio(request.audio)
    return proto_response(_context().backend.recognize(request))


def long_running_recognize() -> flask.Response:
    request = _parse(speech.LongRunningRecognizeRequest, json_body())
    _check_audio(request.audio)
    context = _context()
    check = getattr(context.backend, "check_long_running", None)
    if check is not None:
        check(request)
    return flask.jsonify(context.operations.start(request))


def get_operation(name: str) -> flask.Response:
    return flask.jsonify(_context().operations.get(name))


def _page() -> tuple[int, str]:
    args = flask.request.args
    raw_size = args.get("pageSize") or args.get("page_size") or "0"
    if not raw_size.isdigit():
        raise invalid_argument(f"Invalid value for pageSize: {echo(raw_size)}.")
    return int(raw_size), args.get("pageToken") or args.get("page_token") or ""


def list_operations() -> flask.Response:
    return flask.jsonify(_context().operations.list(*_page()))


def get_operation_v2(project: str, location: str, number: str) -> flask.Response:
    name = f"projects/{project}/locations/{location}/operations/{number}"
    return flask.jsonify(_context().operations_v2.get(name))


def list_operations_v2(project: str, location: str) -> flask.Response:
    parent = f"projects/{project}/locations/{location}"
    return flask.jsonify(_context().operations_v2.list(*_page(), parent=parent))


def recognize_v2(project: str, location: str, recognizer: str) -> flask.Response:
    request = _parse(speech_v2.RecognizeRequest, json_body())
    request.recognizer = f"projects/{project}/locations/{location}/recognizers/{recognizer}"
    _check_audio(request)
    return proto_response(_context().backend.recognize_v2(request))


def batch_recognize(project: str, location: str, recognizer: str) -> flask.Response:
    request = _parse(speech_v2.BatchRecognizeRequest, json_body())
    request.recognizer = f"projects/{project}/locations/{location}/recognizers/{recognizer}"
    if not request.files:
        raise invalid_argument("files is required: give 1 to 15 gs:// audio files.")
    if len(request.files) > MAX_BATCH_FILES:
        raise invalid_argument(
            f"Too many files: {len(request.files)}; BatchRecognize takes at most "
            f"{MAX_BATCH_FILES} a request."
        )
    output = request.recognition_output_config
    if "gcs_output_config" not in output and "inline_response_config" not in output:
        raise invalid_argument(
            "recognitionOutputConfig is required: gcsOutputConfig (a gs:// folder) or "
            "inlineResponseConfig."
        )
    for file in request.files:
        if not file.uri.startswith("gs://"):
            raise invalid_argument(f"files[].uri must be a gs:// URI: {echo(file.uri)}.")
    context = _context()
    check = getattr(context.backend, "check_batch", None)
    if check is not None:
        check(request)
    return flask.jsonify(context.operations_v2.start(request))

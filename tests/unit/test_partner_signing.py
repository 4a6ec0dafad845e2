"""The transport's signing of the signed partners: Tencent's TC3 signature is the one Tencent's own SDK makes for the
same request; a Google access token is minted once through the gateway's HTTP client and reused until near expiry.
Also the catalog pieces these partners brought: statuses over every sub-job, a failure field, an output a finished
job must have, token rates by model, and the NDJSON stream's error event."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from functions.proxy.catalog import route
from functions.proxy.catalog.credentials import PartnerNotConfigured, signing_of
from functions.proxy.catalog.partners import PARTNERS
from functions.proxy.catalog.prices import ModelTokens, Rates
from functions.proxy.catalog.statuses import Outcome, outcome
from functions.proxy.gateway.usecases.streams import LineErrors
from local.fake_partners.signed_steps import CREDENTIALS, SERVICE_ACCOUNT
from shared.adapters.httpx_partners import HttpxPartnerTransport, tc3_headers
from shared.proxy.ports import Outbound, Signing

SDK_TIMESTAMP = 1_790_000_000


def _sdk_authorization(monkeypatch: pytest.MonkeyPatch, body: dict[str, Any]) -> str:
    """What tencentcloud-sdk-python-common's client puts in `Authorization` for this body, at a fixed time."""
    from tencentcloud.common import abstract_client, credential
    from tencentcloud.common.common_client import CommonClient
    from tencentcloud.common.http.request import RequestInternal
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    monkeypatch.setattr(abstract_client.time, "time", lambda: SDK_TIMESTAMP)
    profile = ClientProfile(httpProfile=HttpProfile(endpoint="hunyuan.intl.tencentcloudapi.com"))
    client = CommonClient("hunyuan", "2023-09-01", credential.Credential("AKIDx", "secret"), "ap-singapore", profile)
    request = RequestInternal("hunyuan.intl.tencentcloudapi.com", "POST", "/")
    client._build_req_with_tc3_signature("SubmitHunyuanTo3DProJob", body, request)
    assert json.loads(request.data) == body
    return str(request.header["Authorization"])


def test_the_tc3_signature_is_the_one_tencents_sdk_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"Prompt": "a teapot", "EnablePBR": True}
    raw = json.dumps(body).encode()  # the SDK's own serialisation: the signature covers these exact bytes
    request = Outbound(
        "POST",
        "https://hunyuan.intl.tencentcloudapi.com/",
        {"Content-Type": "application/json", "X-TC-Action": "SubmitHunyuanTo3DProJob"},
        raw,
    )
    ours = tc3_headers(request, Signing("tc3", "AKIDx:secret", service="hunyuan"), SDK_TIMESTAMP)
    assert ours["Authorization"] == _sdk_authorization(monkeypatch, body)
    assert ours["X-TC-Timestamp"] == str(SDK_TIMESTAMP)
    other = tc3_headers(Outbound(request.method, request.url, request.headers, raw + b" "), request_signing(), 1)
    assert other["Authorization"] != ours["Authorization"]  # the body is signed


def request_signing() -> Signing:
    return Signing("tc3", "AKIDx:secret", service="hunyuan")


def test_a_malformed_credential_is_a_configuration_error() -> None:
    with pytest.raises(PartnerNotConfigured):
        signing_of(PARTNERS["tencent"], "no-colon", {})
    with pytest.raises(PartnerNotConfigured):
        signing_of(PARTNERS["veo"], "{}", {})
    google = signing_of(PARTNERS["veo"], CREDENTIALS["veo"], {"google-token": "http://127.0.0.1:9/google-token"})
    assert google is not None and google.token_uri == "http://127.0.0.1:9/google-token/token"
    assert CREDENTIALS["veo"] not in repr(google)  # the key never shows in logs


def test_a_google_token_is_minted_once_and_reused_until_near_expiry() -> None:
    minted: list[dict[str, list[str]]] = []
    expires_in = [3600]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            minted.append(parse_qs(request.content.decode()))
            token = {"access_token": f"tok-{len(minted)}", "expires_in": expires_in[0], "token_type": "Bearer"}
            return httpx.Response(200, json=token)
        seen = json.dumps({"auth": request.headers["Authorization"]}).encode()
        return httpx.Response(200, stream=httpx.ByteStream(seen))  # a partner's answer arrives streamed

    transport = HttpxPartnerTransport(httpx.MockTransport(handler))
    signing = Signing("google", json.dumps(SERVICE_ACCOUNT), token_uri="http://oauth.test/token")
    call = Outbound("POST", "http://vertex.test/m:generateContent", {}, b"{}", signing=signing)
    seen = [json.loads(transport.send(call).read(1000))["auth"] for _ in range(3)]
    assert seen == ["Bearer tok-1"] * 3 and len(minted) == 1
    assert minted[0]["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    expires_in[0] = 60  # a token about to expire is replaced before it is used
    other = Signing("google", json.dumps({**SERVICE_ACCOUNT, "private_key_id": "k2"}), token_uri=signing.token_uri)
    assert transport.google_token(other) == "tok-2" and transport.google_token(other) == "tok-3"
    assert transport.google_token(signing) == "tok-1"


def test_statuses_of_every_sub_job_a_failure_field_and_a_missing_output() -> None:
    _, rodin, _ = route("rodin", "POST", "/api/v2/status")
    jobs = [{"jobs": [{"status": a}, {"status": b}]} for a, b in (("Done", "Generating"), ("Done", "Done"))]
    assert [outcome(rodin, 200, j) for j in jobs] == [Outcome.RUNNING, Outcome.DONE]
    assert outcome(rodin, 200, {"jobs": [{"status": "Failed"}, {"status": "Waiting"}]}) is Outcome.FAILED
    assert outcome(rodin, 200, {"jobs": []}) is Outcome.RUNNING
    _, veo, _ = route("veo", "POST", "/veo-3.0-generate-001/poll")
    assert outcome(veo, 200, {"done": False}) is Outcome.RUNNING
    assert outcome(veo, 200, {"done": True, "response": {"videos": [{"gcsUri": "gs://x"}]}}) is Outcome.DONE
    assert outcome(veo, 200, {"done": True, "error": {"code": 3, "message": "no"}}) is Outcome.FAILED
    filtered = {"done": True, "response": {"raiMediaFilteredCount": 1, "videos": []}}
    assert outcome(veo, 200, filtered) is Outcome.FAILED  # nothing was delivered
    _, tencent, _ = route("tencent", "POST", "/hunyuan/3d-uv/query")
    assert [outcome(tencent, 200, {"Response": {"Status": s}}) for s in ("RUN", "DONE", "FAIL")] == [
        Outcome.RUNNING,
        Outcome.DONE,
        Outcome.FAILED,
    ]


def test_tokens_are_priced_at_the_answering_models_rates() -> None:
    rule = ModelTokens(
        1_000_000, {"m-pro": Rates(2_000_000, 12_000_000), "m": Rates(300_000, 2_500_000, 30_000_000)}, Rates(9, 9)
    )
    usage = {"promptTokenCount": 1000, "candidatesTokenCount": 2000, "thoughtsTokenCount": 500}
    assert rule.actual({"modelVersion": "m-pro-001", "usageMetadata": usage}, {}, 0) == 2000 + 2500 * 12
    images = {**usage, "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1000}]}
    assert rule.actual({"modelVersion": "m", "usageMetadata": images}, {}, 0) == 300 + 1500 * 2.5 + 1000 * 30
    assert rule.actual({"modelVersion": "m", "usageMetadata": {}}, {}, 0) is None
    assert rule.actual({"modelVersion": "x", "usageMetadata": usage}, {}, 0) == 1  # the default's rates, rounded up


def test_imagen_and_veo_are_priced_by_our_paths_model_never_the_body() -> None:
    _, imagen, values = route("vertexai", "POST", "/imagen/imagen-3.0-fast-generate-001")
    fields: dict[str, Any] = {"parameters": {"sampleCount": 3}, "@path": values}
    assert imagen.price is not None and imagen.price.estimate(fields) == 60_000
    assert imagen.price.estimate({**fields, "@path": {"model": "imagen-3.0-generate-002"}}) == 120_000
    _, veo, values = route("veo", "POST", "/veo-3.1-fast-generate-001/generate")
    assert veo.price is not None
    assert veo.price.estimate({"@path": values, "parameters": {"durationSeconds": 4, "sampleCount": 2}}) == 1_200_000
    assert veo.price.estimate({"@path": {"model_id": "veo-9"}}) == 8 * 500_000  # unlisted: the dearest


def test_an_ndjson_stream_that_reports_an_error_is_a_failure() -> None:
    lines = LineErrors()
    for piece in (b'{"type":"title"}\n{"type":"audio_ch', b'unk"}\n', b'{"type":"error","message":"x"}'):
        lines.feed(piece)
    assert not lines.failed
    lines.end()
    assert lines.failed
    whole = LineErrors()
    whole.feed(b'{"type":"complete"}\nnot json\n')
    whole.end()
    assert not whole.failed

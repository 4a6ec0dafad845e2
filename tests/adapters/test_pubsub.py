"""The two EventPublisher adapters: in-process, and Pub/Sub with a fake client and then
against the official emulator from gcloud (skipped, with the reason printed, where gcloud,
java or the emulator component is missing)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.inprocess_publisher import InProcessPublisher, Message, short_topic
from shared.adapters.pubsub_publisher import PubSubPublisher, topic_path
from shared.ports import EventPublisher

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "demo-comfy-registry"
READY_TIMEOUT = 60.0


# -- InProcessPublisher ------------------------------------------------------------------


def test_inprocess_delivers_to_subscribers_of_the_topic_in_order() -> None:
    publisher = InProcessPublisher()
    bus: EventPublisher = publisher  # checked by mypy against the port
    calls: list[tuple[str, Message]] = []
    publisher.subscribe("registry-events", lambda m: calls.append(("first", m)))
    publisher.subscribe("registry-events", lambda m: calls.append(("second", m)))
    publisher.subscribe("other", lambda m: calls.append(("other", m)))

    bus.publish("registry-events", b'{"id": 1}', {"event_id": "e1"})

    expected = Message("registry-events", b'{"id": 1}', {"event_id": "e1"})
    assert calls == [("first", expected), ("second", expected)]
    assert publisher.delivered == [expected]
    assert publisher.messages("registry-events") == [expected]
    assert publisher.messages("other") == []


def test_inprocess_records_messages_without_subscribers() -> None:
    publisher = InProcessPublisher()
    publisher.publish("t", b"a", {})
    publisher.publish("t", b"b", {"k": "v"})
    assert [m.data for m in publisher.delivered] == [b"a", b"b"]
    publisher.clear()
    assert publisher.delivered == []


def test_inprocess_matches_short_names_and_full_paths() -> None:
    publisher = InProcessPublisher()
    seen: list[bytes] = []
    publisher.subscribe(f"projects/{PROJECT}/topics/registry-events", lambda m: seen.append(m.data))
    publisher.publish("registry-events", b"short", {})
    publisher.publish("projects/elsewhere/topics/registry-events", b"full", {})
    assert seen == [b"short", b"full"]
    assert short_topic("registry-events") == "registry-events"
    assert short_topic("projects/p/topics/x") == "x"
    assert short_topic("not/a/path") == "not/a/path"


def test_inprocess_subscriber_failure_propagates_and_is_not_recorded() -> None:
    publisher = InProcessPublisher()
    later: list[Message] = []

    def boom(message: Message) -> None:
        raise RuntimeError("indexer down")

    publisher.subscribe("registry-events", boom)
    publisher.subscribe("registry-events", later.append)

    with pytest.raises(RuntimeError, match="indexer down"):
        publisher.publish("registry-events", b"x", {})
    # Delivery stops at the failure: the caller will retry the whole message.
    assert later == []
    assert publisher.delivered == []


def test_inprocess_unsubscribe() -> None:
    publisher = InProcessPublisher()
    seen: list[bytes] = []
    unsubscribe = publisher.subscribe("t", lambda m: seen.append(m.data))
    publisher.publish("t", b"1", {})
    unsubscribe()
    unsubscribe()  # idempotent
    publisher.publish("t", b"2", {})
    assert seen == [b"1"]


def test_inprocess_rejects_what_pubsub_would_reject() -> None:
    publisher = InProcessPublisher()
    with pytest.raises(TypeError):
        publisher.publish("t", "text", {})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        publisher.publish("t", b"x", {"n": 1})  # type: ignore[dict-item]
    assert publisher.delivered == []


def test_inprocess_attributes_are_a_read_only_snapshot() -> None:
    publisher = InProcessPublisher()
    attributes = {"event_id": "e1"}
    publisher.publish("t", b"x", attributes)
    attributes["event_id"] = "changed"
    (message,) = publisher.delivered
    assert message.attributes == {"event_id": "e1"}
    with pytest.raises(TypeError):
        message.attributes["event_id"] = "x"  # type: ignore[index]


def test_inprocess_subscriber_may_publish_in_turn() -> None:
    # The scanner answers an upload event by publishing its own: no lock may be held.
    publisher = InProcessPublisher()
    publisher.subscribe("uploads", lambda m: publisher.publish("registry-events", m.data + b"!", {}))
    publisher.publish("uploads", b"v1", {})
    assert [(m.topic, m.data) for m in publisher.delivered] == [
        ("registry-events", b"v1!"),
        ("uploads", b"v1"),
    ]


def test_inprocess_is_thread_safe() -> None:
    publisher = InProcessPublisher()
    counted: list[bytes] = []
    counted_lock = threading.Lock()

    def count(message: Message) -> None:
        with counted_lock:
            counted.append(message.data)

    publisher.subscribe("t", count)
    threads, per_thread = 8, 200
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            publisher.publish("t", f"{n}-{i}".encode(), {"n": str(n)})

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    expected = {f"{n}-{i}".encode() for n in range(threads) for i in range(per_thread)}
    assert len(publisher.delivered) == len(counted) == threads * per_thread
    assert {m.data for m in publisher.delivered} == set(counted) == expected


# -- PubSubPublisher without a server ----------------------------------------------------


def test_topic_path() -> None:
    assert topic_path("p", "registry-events") == "projects/p/topics/registry-events"
    assert topic_path("p", "projects/q/topics/t") == "projects/q/topics/t"
    for bad in ("", "a/b", "projects/q/topics/", "projects//topics/t"):
        with pytest.raises(ValueError):
            topic_path("p", bad)
    with pytest.raises(ValueError):
        topic_path("", "t")


def test_importing_the_adapter_does_not_import_the_sdk() -> None:
    # A fresh interpreter, as this one has the SDK loaded already. The cold-start budget
    # depends on it. (`google` and `google.cloud` are namespace packages that
    # site-packages' .pth files preload, hence the difference.)
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import shared.adapters.pubsub_publisher, shared.adapters.inprocess_publisher\n"
        "new = set(sys.modules) - before\n"
        "loaded = sorted(m for m in new if m.startswith(('google', 'grpc')))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_reserved_attribute_names_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        PubSubPublisher(PROJECT).publish("t", b"x", {"timeout": "1"})


@dataclass
class FakeClients:
    """Stands in for pubsub_v1.PublisherClient; every future raises `failure` if set."""

    built: int = 0
    calls: list[tuple[str, bytes, dict[str, Any]]] | None = None
    waits: list[float | None] | None = None
    failure: BaseException | None = None

    def factory(self, **kwargs: Any) -> Any:
        # Widen the window in which two threads could both build a client.
        time.sleep(0.05)
        self.built += 1
        fakes = self

        class Future:
            def result(self, timeout: float | None = None) -> str:
                assert fakes.waits is not None
                fakes.waits.append(timeout)
                if fakes.failure is not None:
                    raise fakes.failure
                return "message-id"

        class Client:
            def publish(self, topic: str, data: bytes, **rest: Any) -> Future:
                assert fakes.calls is not None
                fakes.calls.append((topic, data, rest))
                return Future()

        return Client()


@pytest.fixture
def fake_clients(monkeypatch: pytest.MonkeyPatch) -> FakeClients:
    from google.cloud import pubsub_v1

    fakes = FakeClients(calls=[], waits=[])
    monkeypatch.setattr(pubsub_v1, "PublisherClient", fakes.factory)
    return fakes


def test_pubsub_publish_passes_path_data_attributes_and_waits(
    fake_clients: FakeClients,
) -> None:
    PubSubPublisher(PROJECT, timeout=7.0).publish("registry-events", b"x", {"event_id": "e1"})
    assert fake_clients.calls is not None and len(fake_clients.calls) == 1
    topic, data, rest = fake_clients.calls[0]
    assert (topic, data) == (f"projects/{PROJECT}/topics/registry-events", b"x")
    assert rest["event_id"] == "e1"
    assert rest["timeout"] == 7.0
    assert rest["retry"] is not None  # bounded, not the client's ten-minute default
    assert fake_clients.waits == [7.0]


def test_pubsub_publish_raises_when_the_future_fails(fake_clients: FakeClients) -> None:
    fake_clients.failure = RuntimeError("publish failed")
    with pytest.raises(RuntimeError, match="publish failed"):
        PubSubPublisher(PROJECT).publish("registry-events", b"x", {})


def test_pubsub_builds_one_client_under_concurrency(fake_clients: FakeClients) -> None:
    publisher = PubSubPublisher(PROJECT)
    threads = 16
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        publisher.publish("t", b"x", {})

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert fake_clients.built == 1
    assert fake_clients.calls is not None and len(fake_clients.calls) == threads


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(60)
def test_pubsub_unreachable_server_raises_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.api_core.exceptions import GoogleAPIError

    # A port nobody listens on.
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{_free_port()}")
    monkeypatch.setenv("no_grpc_proxy", "127.0.0.1,localhost")
    publisher = PubSubPublisher(PROJECT, timeout=2.0)
    try:
        with pytest.raises((GoogleAPIError, TimeoutError)):
            publisher.publish("registry-events", b"x", {})
    finally:
        publisher.close()


# -- PubSubPublisher against the official emulator --------------------------------------


@dataclass(frozen=True)
class Emulator:
    host: str  # host:port, the PUBSUB_EMULATOR_HOST value
    startup_seconds: float


def _say(config: pytest.Config, line: str) -> None:
    """Print past output capture (not under xdist workers; the skip reason still shows)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    # fd 1 is captured while fixtures set up.
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


def _emulator_command() -> tuple[list[str] | None, str]:
    """The command to start, or None and why it cannot run here."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None, "gcloud is not on PATH"
    if shutil.which("java") is None:
        return None, "java is not on PATH (the Pub/Sub emulator needs it)"
    # Checked first: gcloud would otherwise offer to install the component, or fail late.
    emulator = Path(gcloud).resolve().parent.parent / "platform" / "pubsub-emulator"
    if not emulator.is_dir():
        return None, f"the Pub/Sub emulator component is not installed ({emulator} is missing)"
    return [gcloud, "beta", "emulators", "pubsub", "start", f"--project={PROJECT}"], ""


def _log_tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    # Its root answers "Ok" over plain HTTP once the gRPC server listens. Never proxied.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the Pub/Sub emulator exited with {proc.returncode}:\n{_log_tail(log)}")
        try:
            with opener.open(f"http://127.0.0.1:{port}/", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"the Pub/Sub emulator was not ready in {READY_TIMEOUT:.0f} s:\n{_log_tail(log)}")


def _leader_exited(pid: int, timeout: float) -> bool:
    """Wait for our child to exit without reaping it: its pid, the group id, stays ours."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        time.sleep(0.05)
    return False


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group we created (gcloud and its java child), then SIGKILL the rest."""
    # start_new_session=True made the child the leader of a group of its own.
    pgid = proc.pid
    try:
        os.killpg(pgid, signal.SIGTERM)
        _leader_exited(pgid, 10.0)
        os.killpg(pgid, signal.SIGKILL)  # java may outlive gcloud; zombies ignore it
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def emulator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    command, missing = _emulator_command()
    if command is None:
        _say(request.config, f"\nSKIPPED Pub/Sub emulator tests: {missing}")
        pytest.skip(f"Pub/Sub emulator unavailable: {missing}")
    port = _free_port()
    state = tmp_path_factory.mktemp("pubsub-emulator")
    log = state / "emulator.log"
    # gcloud writes its env.yaml there but does not create the folder.
    (state / "data").mkdir()
    # Its own gcloud config and data dir: nothing written to ~/.config, no prompts.
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(state / "gcloud"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
    }
    command += [f"--host-port=127.0.0.1:{port}", f"--data-dir={state / 'data'}"]
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        _wait_ready(proc, port, log)
        ready = Emulator(host=f"127.0.0.1:{port}", startup_seconds=time.monotonic() - started)
        _say(
            request.config,
            f"\nPub/Sub emulator on {ready.host} ready in {ready.startup_seconds:.1f} s",
        )
        yield ready
    finally:
        _stop_group(proc)


@pytest.fixture
def on_emulator(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    # Read by each pubsub client when built; the adapter builds its own on first publish.
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    monkeypatch.setenv("no_grpc_proxy", "127.0.0.1,localhost")
    return emulator


@dataclass
class Subscription:
    topic: str  # the short name
    pull: Callable[[int], list[tuple[bytes, dict[str, str]]]]


@pytest.fixture
def subscription(on_emulator: Emulator) -> Iterator[Subscription]:
    """A fresh topic (the module shares the emulator) with one pull subscription."""
    from google.api_core.exceptions import DeadlineExceeded
    from google.cloud import pubsub_v1

    name = f"registry-events-{uuid.uuid4().hex[:8]}"
    admin = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = admin.topic_path(PROJECT, name)
    sub = subscriber.subscription_path(PROJECT, name)
    admin.create_topic(name=topic)
    subscriber.create_subscription(name=sub, topic=topic)

    def pull(expected: int) -> list[tuple[bytes, dict[str, str]]]:
        got: list[tuple[bytes, dict[str, str]]] = []
        deadline = time.monotonic() + 20
        while len(got) < expected and time.monotonic() < deadline:
            try:
                response = subscriber.pull(subscription=sub, max_messages=expected - len(got), timeout=5)
            except DeadlineExceeded:
                continue
            if response.received_messages:
                subscriber.acknowledge(
                    subscription=sub,
                    ack_ids=[r.ack_id for r in response.received_messages],
                )
            got += [(r.message.data, dict(r.message.attributes)) for r in response.received_messages]
        return got

    try:
        yield Subscription(topic=name, pull=pull)
    finally:
        subscriber.close()
        admin.transport.close()


@pytest.mark.emulator
def test_emulator_round_trip(subscription: Subscription) -> None:
    publisher = PubSubPublisher(PROJECT, timeout=10.0)
    try:
        publisher.publish(
            subscription.topic,
            b'{"n": 1}',
            {"event_id": "e1", "event_type": "node.created"},
        )
        # The full path spelling reaches the same topic.
        publisher.publish(
            f"projects/{PROJECT}/topics/{subscription.topic}",
            b'{"n": 2}',
            {"event_id": "e2", "event_type": "version.scanned"},
        )
    finally:
        publisher.close()

    received = subscription.pull(2)
    by_id = {attributes["event_id"]: (data, attributes) for data, attributes in received}
    assert len(received) == 2
    assert by_id == {
        "e1": (b'{"n": 1}', {"event_id": "e1", "event_type": "node.created"}),
        "e2": (b'{"n": 2}', {"event_id": "e2", "event_type": "version.scanned"}),
    }


@pytest.mark.emulator
def test_emulator_concurrent_publishes_share_one_adapter(
    subscription: Subscription,
) -> None:
    publisher = PubSubPublisher(PROJECT, timeout=10.0)
    threads, per_thread = 4, 5
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                publisher.publish(subscription.topic, f"{n}-{i}".encode(), {"event_id": f"{n}-{i}"})
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        publisher.close()
    assert errors == []
    received = subscription.pull(threads * per_thread)
    assert sorted(a["event_id"] for _, a in received) == sorted(
        f"{n}-{i}" for n in range(threads) for i in range(per_thread)
    )


@pytest.mark.emulator
def test_emulator_missing_topic_raises_not_found(on_emulator: Emulator) -> None:
    from google.api_core.exceptions import NotFound

    publisher = PubSubPublisher(PROJECT, timeout=10.0)
    try:
        with pytest.raises(NotFound):
            publisher.publish(f"no-such-topic-{uuid.uuid4().hex[:8]}", b"x", {"event_id": "e1"})
    finally:
        publisher.close()

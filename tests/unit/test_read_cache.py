"""ReadCache on its own, with a clock the test moves."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from shared import read_cache
from shared.read_cache import MAX_KEY_LENGTH, ReadCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Epoch:
    def __init__(self) -> None:
        self.value = 7
        self.reads = 0
        self.fail = False

    def __call__(self) -> int:
        self.reads += 1
        if self.fail:
            raise ConnectionError("database down")
        return self.value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db() -> Epoch:
    return Epoch()


def make(clock: Clock, db: Epoch, *, max_age: float = 30, check_every: float = 1, capacity: int = 3) -> ReadCache:
    return ReadCache(db, max_age=max_age, check_every=check_every, capacity=capacity, clock=clock)


def store(cache: ReadCache, key: str, body: bytes = b"{}") -> None:
    tag = cache.tag()
    assert tag is not None
    cache.put(key, tag, body, 200, "application/json")


def test_answers_until_they_expire(clock: Clock, db: Epoch) -> None:
    cache = make(clock, db)
    store(cache, "/nodes/a?", b"A")
    hit = cache.get("/nodes/a?")
    assert hit is not None and hit.body == b"A" and hit.status == 200
    clock.now += 29.9
    assert cache.get("/nodes/a?") is not None
    clock.now += 0.2
    assert cache.get("/nodes/a?") is None


def test_the_epoch_is_read_at_most_once_per_interval(clock: Clock, db: Epoch) -> None:
    cache = make(clock, db, check_every=1)
    store(cache, "k")
    for _ in range(100):
        assert cache.get("k") is not None
    assert db.reads == 1
    db.value += 1  # another instance committed a change
    clock.now += 0.5
    assert cache.get("k") is not None  # not looked yet: within the bound
    clock.now += 0.6
    assert cache.get("k") is None and db.reads == 2
    assert len(cache) == 0  # the whole cache went with the old epoch


def test_a_local_change_drops_everything_at_once(clock: Clock, db: Epoch) -> None:
    cache = make(clock, db)
    store(cache, "k")
    stale_tag = cache.tag()
    assert stale_tag is not None
    cache.invalidate()
    assert cache.get("k") is None
    # An answer computed before the change, stored after it, is refused.
    cache.put("k", stale_tag, b"old", 200, "application/json")
    assert cache.get("k") is None and len(cache) == 0
    store(cache, "k", b"new")
    hit = cache.get("k")
    assert hit is not None and hit.body == b"new"


def test_an_unreadable_epoch_bypasses_the_cache(clock: Clock, db: Epoch) -> None:
    cache = make(clock, db)
    store(cache, "k")
    db.fail = True
    clock.now += 1.1
    assert cache.get("k") is None and cache.tag() is None
    db.fail = False
    clock.now += 1.1
    assert cache.tag() == (7, 0)
    assert cache.get("k") is None  # what was stored before the outage is not trusted again
    store(cache, "k")
    assert cache.get("k") is not None


def test_capacity_and_long_keys_are_bounded(clock: Clock, db: Epoch) -> None:
    cache = make(clock, db, capacity=3)
    for key in ("a", "b", "c", "d"):
        store(cache, key)
    assert len(cache) == 3 and cache.get("a") is None and cache.get("d") is not None
    store(cache, "x" * (MAX_KEY_LENGTH + 1))
    assert cache.get("x" * (MAX_KEY_LENGTH + 1)) is None


def test_a_zero_max_age_disables_it(clock: Clock, db: Epoch) -> None:
    cache = make(clock, db, max_age=0)
    assert not cache.enabled
    cache.put("k", (7, 0), b"{}", 200, "application/json")
    assert cache.get("k") is None and len(cache) == 0


def test_the_byte_budget_evicts_the_oldest_and_refuses_huge_answers(clock: Clock, db: Epoch) -> None:
    cache = make(clock, db, capacity=100)
    cache._max_bytes = 1600  # a sixteenth: answers over 100 bytes are not stored
    for key in "abcdefghijklmnopq":  # 17 answers of 100 bytes
        store(cache, key, b"x" * 100)
    assert cache.size_bytes <= 1600 and len(cache) == 16
    assert cache.get("a") is None and cache.get("q") is not None
    store(cache, "huge", b"x" * 101)
    assert cache.get("huge") is None
    store(cache, "q", b"y" * 50)  # replacing an answer counts its bytes once
    assert cache.size_bytes == 15 * 100 + 50


class CountingEvent(threading.Event):
    """An Event that says how many threads are waiting on it."""

    waiting = 0
    counted = threading.Condition()

    def wait(self, timeout: float | None = None) -> bool:
        with CountingEvent.counted:
            CountingEvent.waiting += 1
            CountingEvent.counted.notify_all()
        return super().wait(timeout)


def test_concurrent_misses_wait_for_one_leader_then_go_in_parallel(
    clock: Clock, db: Epoch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the cache's own Events count (the test's are left alone).
    monkeypatch.setattr(read_cache, "threading", SimpleNamespace(Event=CountingEvent, Lock=threading.Lock))
    CountingEvent.waiting = 0
    cache = make(clock, db)
    leaders: list[bool] = []
    failures: list[BaseException] = []
    inside = threading.Event()
    waiters_together = threading.Barrier(4, timeout=5)

    def miss() -> None:
        try:
            fill()
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            failures.append(exc)

    def fill() -> None:
        with cache.filling("k") as leading:
            leaders.append(leading)
            if leading:  # computes an answer it does not store (an error, say), once every other miss waits
                inside.set()
                with CountingEvent.counted:
                    assert CountingEvent.counted.wait_for(lambda: CountingEvent.waiting == 4, timeout=5)
            else:
                waiters_together.wait()  # raises if the waiters were let through one at a time

    first = threading.Thread(target=miss)
    first.start()
    assert inside.wait(5)
    others = [threading.Thread(target=miss) for _ in range(4)]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(10)
    assert failures == []
    assert sorted(leaders) == [False] * 4 + [True]
    assert not waiters_together.broken

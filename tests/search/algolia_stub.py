"""A small Algolia on loopback: the REST calls our adapter makes, checked as Algolia checks them.

It keeps records and settings per index, answers `batch`, `settings`, `query` and `browse` with the fields the real
service sends, refuses a wrong application id or API key (403) and a filter it cannot parse (400), and records every
request so that tests can look at paths, headers and bodies."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

APP_ID, API_KEY = "TESTAPP123", "test-admin-key"
_PATH = re.compile(r"^/1/indexes/(?P<index>[^/]+)/(?P<op>batch|settings|query|browse)$")
_TERM = re.compile(r'(?P<attr>[A-Za-z_.]+):"(?P<value>(?:[^"\\]|\\.)*)"')


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Index:
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def parse_filters(filters: str) -> list[list[tuple[str, str]]]:
    """`(a:"x" OR a:"y") AND (b:"z")` as AND of OR groups; ValueError if it is not that grammar."""
    groups = []
    for part in filters.split(" AND "):
        if not (part.startswith("(") and part.endswith(")")):
            raise ValueError(f"unexpected token {part!r}")
        terms = part[1:-1].split(" OR ")
        group = []
        for term in terms:
            match = _TERM.fullmatch(term)
            if match is None:
                raise ValueError(f"unexpected token {term!r}")
            group.append((match["attr"], re.sub(r"\\(.)", r"\1", match["value"])))
        groups.append(group)
    return groups


def _values(record: dict[str, Any], attr: str) -> list[str]:
    value: Any = record
    for part in attr.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _searchable(settings: dict[str, Any], restrict: list[str] | None) -> list[str]:
    if restrict:
        return restrict
    names: list[str] = []
    for entry in settings.get("searchableAttributes") or ["name", "id", "description"]:
        inner = entry.removeprefix("unordered(").removesuffix(")")
        names += [n.strip() for n in inner.split(",")]
    return names


class AlgoliaStub:
    def __init__(self) -> None:
        self.indexes: dict[str, Index] = {}
        self.requests: list[Request] = []
        self.fail_status: int | None = None
        self._task = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                stub._handle(self)

            def do_PUT(self) -> None:
                stub._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> AlgoliaStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def index(self, name: str) -> Index:
        return self.indexes.setdefault(name, Index())

    def reset(self) -> None:
        with self._lock:
            self.indexes.clear()
            self.requests.clear()
            self.fail_status = None

    def calls(self, op: str, index: str | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.path.endswith("/" + op) and (index is None or r.path.startswith(f"/1/indexes/{index}/"))
        ]

    # -- the service -------------------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        path = h.path.split("?", 1)[0]
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return self._send(h, 400, {"message": "Invalid JSON", "status": 400})
        with self._lock:
            self.requests.append(Request(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body))
            if self.fail_status is not None:
                return self._send(h, self.fail_status, {"message": "Internal error", "status": self.fail_status})
            if h.headers.get("x-algolia-application-id") != APP_ID or h.headers.get("x-algolia-api-key") != API_KEY:
                return self._send(h, 403, {"message": "Invalid Application-ID or API key", "status": 403})
            match = _PATH.match(path)
            if match is None or not isinstance(body, dict):
                return self._send(h, 404, {"message": "Not found", "status": 404})
            index, op = self.index(match["index"]), match["op"]
            try:
                status, answer = getattr(self, f"_{op}")(index, body, h.command)
            except ValueError as exc:
                status, answer = 400, {"message": str(exc), "status": 400}
        self._send(h, status, answer)

    def _send(self, h: BaseHTTPRequestHandler, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=UTF-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _next_task(self) -> int:
        self._task += 1
        return self._task

    def _batch(self, index: Index, body: dict[str, Any], method: str) -> tuple[int, dict[str, Any]]:
        if method != "POST":
            raise ValueError("batch is a POST")
        ids = []
        for request in body["requests"]:
            record = request["body"]
            object_id = str(record["objectID"])
            if request["action"] == "addObject":
                index.records[object_id] = record
            elif request["action"] == "deleteObject":
                index.records.pop(object_id, None)
            else:
                raise ValueError(f"unsupported action {request['action']!r}")
            ids.append(object_id)
        return 200, {"taskID": self._next_task(), "objectIDs": ids}

    def _settings(self, index: Index, body: dict[str, Any], method: str) -> tuple[int, dict[str, Any]]:
        if method != "PUT":
            raise ValueError("settings are set with PUT")
        index.settings.update(body)
        return 200, {"taskID": self._next_task(), "updatedAt": "2026-11-27T10:00:00.000Z"}

    def _query(self, index: Index, body: dict[str, Any], method: str) -> tuple[int, dict[str, Any]]:
        words = str(body.get("query", "")).lower().split()
        attrs = _searchable(index.settings, body.get("restrictSearchableAttributes"))
        groups = parse_filters(body["filters"]) if body.get("filters") else []
        hits = []
        for record in index.records.values():
            text = " ".join(v for a in attrs for v in _values(record, a)).lower()
            if not all(w in text for w in words):
                continue
            if all(any(v in _values(record, a) for a, v in group) for group in groups):
                hits.append(record)
        hits.sort(key=lambda r: (-int(r.get("total_install", 0)), str(r["objectID"])))
        page, per_page = int(body.get("page", 0)), int(body.get("hitsPerPage", 20))
        shown = hits[page * per_page : (page + 1) * per_page]
        keep = body.get("attributesToRetrieve") or ["*"]
        return 200, {
            "hits": [{"objectID": r["objectID"]} if keep == ["objectID"] else r for r in shown],
            "nbHits": len(hits),
            "page": page,
            "nbPages": -(-len(hits) // per_page) if per_page else 0,
            "hitsPerPage": per_page,
            "exhaustiveNbHits": True,
            "processingTimeMS": 1,
            "query": body.get("query", ""),
            "params": "",
        }

    def _browse(self, index: Index, body: dict[str, Any], method: str) -> tuple[int, dict[str, Any]]:
        per_page = int(body.get("hitsPerPage", 1000))
        start = int(body.get("cursor") or 0)
        ids = sorted(index.records)
        chunk = ids[start : start + per_page]
        answer: dict[str, Any] = {
            "hits": [{"objectID": i} for i in chunk],
            "nbHits": len(ids),
            "page": start // per_page if per_page else 0,
            "nbPages": -(-len(ids) // per_page) if per_page else 0,
            "hitsPerPage": per_page,
            "processingTimeMS": 1,
            "query": "",
            "params": "",
        }
        if start + per_page < len(ids):
            answer["cursor"] = str(start + per_page)
        return 200, answer

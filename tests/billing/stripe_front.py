"""The Stripe servers of the billing tests: localstripe served in-process on 127.0.0.1, and a loopback front that
answers as Stripe what localstripe does not model (Checkout Sessions, billing portal sessions, promotion codes, the
`created`/`status` filters of the invoice list), checks the SDK's requests, and forwards everything else to
localstripe. Fixtures and helpers are in tests/billing/stripe_support.py."""

from __future__ import annotations

import asyncio
import http.client
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SECRET_KEY = "sk_test_comfy_billing_suite"


# -- localstripe, in-process on 127.0.0.1 -------------------------------------------------------------------------
class LocalStripe:
    """localstripe's aiohttp app on its own event loop and thread, bound to 127.0.0.1 (its CLI binds every interface
    and pickles its store to /tmp after every write; in-process neither happens)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="localstripe", daemon=True)
        self.url = ""
        self._runner: Any = None

    def start(self) -> str:
        from aiohttp import web
        from localstripe import server
        from localstripe.resources import store

        store.dump_to_disk = lambda: None  # the store stays in memory
        self._runner = web.AppRunner(server.app, access_log=None)
        self.loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.thread.start()
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        async def quiet() -> None:  # webhook deliveries still waiting: dropped, as a stopped Stripe would
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(quiet(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


# -- the loopback front -------------------------------------------------------------------------------------------
def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node: Any = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(node: Any) -> Any:
        if isinstance(node, dict):
            if node and all(k.isdigit() for k in node):
                return [lists(node[k]) for k in sorted(node, key=int)]
            return {k: lists(v) for k, v in node.items()}
        return node

    converted: dict[str, Any] = lists(root)
    return converted


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error", code: str = "") -> None:
        super().__init__(message)
        self.status, self.body = (
            status,
            {"error": {"type": type_, "message": message, **({"code": code} if code else {})}},
        )


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, Any]


@dataclass
class StripeFront:
    upstream: str
    url: str = ""
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    promotion_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    # -- lifecycle
    def start(self) -> str:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                front.handle(self)

            do_POST = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, name="stripe-front", daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- dispatch
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        form = unflatten(parse_qsl(raw.decode() if h.command == "POST" else parts.query, keep_blank_values=True))
        headers = {k: v for k, v in h.headers.items()}
        with self.lock:
            self.seen.append(Seen(h.command, parts.path, headers, form))
        try:
            self._check_request(h, headers)
            answer = self._route(h.command, parts.path, form, headers)
        except StripeError as exc:
            return self._reply(h, exc.status, exc.body)
        if answer is None:
            return self._forward(h, raw)
        return self._reply(h, 200, answer)

    def _check_request(self, h: BaseHTTPRequestHandler, headers: Mapping[str, str]) -> None:
        if headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            raise StripeError(401, "Invalid API Key provided.", type_="invalid_request_error")
        if not headers.get("Stripe-Version"):
            raise StripeError(400, "The SDK always names its API version.")
        if h.command == "POST" and "x-www-form-urlencoded" not in headers.get("Content-Type", ""):
            raise StripeError(400, "Stripe takes form-encoded bodies.")

    def _route(self, method: str, path: str, form: dict[str, Any], headers: Mapping[str, str]) -> Any:
        segments = path.strip("/").split("/")
        if path == "/v1/checkout/sessions" and method == "POST":
            return self._idempotent(headers, form, "checkout", lambda: self._create_session(form))
        if path == "/v1/checkout/sessions" and method == "GET":
            return self._list(self.sessions, form)
        if segments[:3] == ["v1", "checkout", "sessions"] and len(segments) == 4 and method == "GET":
            return self._get(self.sessions, segments[3], "checkout session")
        if path == "/v1/billing_portal/sessions" and method == "POST":
            return self._portal(form)
        if segments[:2] == ["v1", "promotion_codes"]:
            return self._promotion_codes(method, segments[2:], form)
        if path == "/v1/invoices" and method == "GET" and ("created" in form or "status" in form):
            return self._invoices(form)
        return None

    def _invoices(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """Stripe filters invoices by `created` and `status`; localstripe takes neither, so its list is filtered
        here."""
        every: dict[str, dict[str, Any]] = {}
        after = ""
        while True:
            page = self._upstream_json(
                "GET", "/v1/invoices?limit=100" + (f"&starting_after={after}" if after else ""), "list"
            )
            every.update((i["id"], i) for i in page["data"])
            if not page["has_more"]:
                break
            after = page["data"][-1]["id"]
        if form.get("status"):
            every = {k: v for k, v in every.items() if v.get("status") == form["status"]}
        rest = {k: v for k, v in form.items() if k != "status"}
        return self._list(every, rest, lock=False)

    def _idempotent(self, headers: Mapping[str, str], form: dict[str, Any], prefix: str, make: Any) -> Any:
        key = headers.get("Idempotency-Key", "")
        if not key.startswith(("credit-checkout:", "subscription-checkout:")):
            raise StripeError(400, f"expected our idempotency key on a {prefix} session, got {key!r}")
        fingerprint = json.dumps(form, sort_keys=True)
        with self.lock:
            if key in self.idempotent:
                earlier, answer = self.idempotent[key]
                if earlier != fingerprint:
                    raise StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters.",
                        type_="idempotency_error",
                    )
                return answer
        answer = make()
        with self.lock:
            self.idempotent[key] = (fingerprint, answer)
        return answer

    # -- checkout sessions
    def _create_session(self, form: dict[str, Any]) -> dict[str, Any]:
        for name in ("mode", "customer", "success_url", "cancel_url", "line_items"):
            if not form.get(name):
                raise StripeError(400, f"Missing required param: {name}.", code="parameter_missing")
        self._upstream_json("GET", f"/v1/customers/{form['customer']}", "customer")
        amount = self._amount(form)
        session_id = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "mode": form["mode"],
            "customer": form["customer"],
            "client_reference_id": form.get("client_reference_id"),
            "metadata": form.get("metadata", {}),
            "amount_total": amount,
            "amount_subtotal": amount,
            "currency": "usd",
            "payment_status": "unpaid",
            "status": "open",
            "created": int(time.time()),
            "payment_intent": None,
            "subscription": None,
            "livemode": False,
            "allow_promotion_codes": form.get("allow_promotion_codes") == "true",
            "_payment_intent_data": form.get("payment_intent_data", {}),
            "_subscription_data": form.get("subscription_data", {}),
        }
        with self.lock:
            self.sessions[session_id] = session
        return self._public(session)

    def _amount(self, form: dict[str, Any]) -> int:
        items = form["line_items"]
        total = 0
        for item in items:
            quantity = int(item.get("quantity", 1))
            if form["mode"] == "payment":
                price = item.get("price_data") or {}
                if price.get("currency") != "usd" or not price.get("product_data", {}).get("name"):
                    raise StripeError(400, "price_data needs a currency and a product name.")
                total += int(price["unit_amount"]) * quantity
            else:
                plan = self._upstream_json("GET", f"/v1/plans/{item.get('price')}", "price")
                total += int(plan["amount"]) * quantity
        return total

    @staticmethod
    def _public(obj: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _list(
        self, store: Mapping[str, dict[str, Any]], form: Mapping[str, Any], *, lock: bool = True
    ) -> dict[str, Any]:
        created = form.get("created") or {}
        if lock:
            with self.lock:
                rows = sorted(store.values(), key=lambda r: (r["created"], r["id"]), reverse=True)
        else:
            rows = sorted(store.values(), key=lambda r: (r["created"], r["id"]), reverse=True)
        if "gte" in created:
            rows = [r for r in rows if r["created"] >= int(created["gte"])]
        if "lt" in created:
            rows = [r for r in rows if r["created"] < int(created["lt"])]
        if form.get("starting_after"):
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(form["starting_after"]) + 1 :]
        limit = int(form.get("limit", 10))
        return {
            "object": "list",
            "data": [self._public(r) for r in rows[:limit]],
            "has_more": len(rows) > limit,
            "url": "/v1/list",
        }

    def _get(self, store: Mapping[str, dict[str, Any]], object_id: str, what: str) -> dict[str, Any]:
        with self.lock:
            found = store.get(object_id)
        if found is None:
            raise StripeError(404, f"No such {what}: '{object_id}'", code="resource_missing")
        return self._public(found)

    def _portal(self, form: Mapping[str, Any]) -> dict[str, Any]:
        if not form.get("customer"):
            raise StripeError(400, "Missing required param: customer.", code="parameter_missing")
        self._upstream_json("GET", f"/v1/customers/{form['customer']}", "customer")
        portal_id = "bps_" + secrets.token_hex(10)
        return {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": form["customer"],
            "return_url": form.get("return_url"),
            "url": f"https://billing.stripe.com/p/session/{portal_id}",
        }

    # -- promotion codes (API 2025-09-30 and later: the coupon is under `promotion`)
    def _promotion_codes(self, method: str, rest: list[str], form: dict[str, Any]) -> dict[str, Any]:
        if not rest and method == "POST":
            promotion = form.get("promotion") or {}
            if promotion.get("type") != "coupon" or not promotion.get("coupon"):
                raise StripeError(400, "Missing required param: promotion[coupon].", code="parameter_missing")
            coupon = self._upstream_json("GET", f"/v1/coupons/{promotion['coupon']}", "coupon")
            code = {
                "id": "promo_" + secrets.token_hex(8),
                "object": "promotion_code",
                "code": form.get("code") or secrets.token_hex(4).upper(),
                "promotion": {"type": "coupon", "coupon": coupon["id"]},
                "active": form.get("active", "true") == "true",
                "expires_at": int(form["expires_at"]) if form.get("expires_at") else None,
                "max_redemptions": int(form["max_redemptions"]) if form.get("max_redemptions") else None,
                "times_redeemed": 0,
                "metadata": form.get("metadata", {}),
                "created": int(time.time()),
                "livemode": False,
            }
            with self.lock:
                self.promotion_codes[code["id"]] = code
            return code
        if not rest and method == "GET":
            return self._list(self.promotion_codes, form)
        found = self._get(self.promotion_codes, rest[0], "promotion code")
        if method == "POST":
            if set(form) - {"active", "metadata"}:
                raise StripeError(
                    400, f"Received unknown parameters: {', '.join(sorted(set(form) - {'active', 'metadata'}))}"
                )
            with self.lock:
                stored = self.promotion_codes[rest[0]]
                if "active" in form:
                    stored["active"] = form["active"] == "true"
                stored["metadata"] = {**stored["metadata"], **form.get("metadata", {})}
                found = dict(stored)
        return found

    # -- localstripe
    def _upstream_json(self, method: str, path: str, what: str) -> dict[str, Any]:
        status, body = self._upstream(method, path, b"", {"Authorization": f"Bearer {SECRET_KEY}"})
        if status == 404:
            raise StripeError(400, f"No such {what}: '{path.rsplit('/', 1)[-1]}'", code="resource_missing")
        data: dict[str, Any] = json.loads(body)
        return data

    def _upstream(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=dict(headers))
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def _forward(self, h: BaseHTTPRequestHandler, raw: bytes) -> None:
        keep = {k: v for k, v in h.headers.items() if k.lower() in ("authorization", "content-type", "stripe-version")}
        status, body = self._upstream(h.command, h.path, raw, keep)
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Request-Id", "req_" + secrets.token_hex(6))
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    # -- what Stripe does when the customer pays
    def complete(self, session_id: str, *, paid: bool = True) -> dict[str, Any]:
        """The customer finished the checkout page: for a payment, a card charge is made in localstripe carrying the
        PaymentIntent's metadata (as Stripe copies it onto the charge); the completed session is returned."""
        with self.lock:
            session = self.sessions[session_id]
        if session["mode"] == "payment" and paid:
            charge = self.charge(
                session["customer"], session["amount_total"], session["_payment_intent_data"].get("metadata", {})
            )
            session.update(payment_intent="pi_" + secrets.token_hex(8), _charge=charge["id"])
        session.update(status="complete", payment_status="paid" if paid else "unpaid")
        return self._public(session)

    def charge(self, customer: str, cents: int, metadata: Mapping[str, str]) -> dict[str, Any]:
        client = upstream_client(self.upstream)
        card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
        method = client.v1.payment_methods.create(params={"type": "card", "card": card})
        client.v1.payment_methods.attach(method.id, params={"customer": customer})
        created = client.v1.charges.create(
            params={
                "amount": cents,
                "currency": "usd",
                "customer": customer,
                "source": method.id,
                "metadata": dict(metadata),
            }
        )
        charge: dict[str, Any] = created.to_dict()
        return charge


def upstream_client(url: str) -> Any:
    """An SDK client straight to localstripe (what a test does that Stripe's dashboard or Stripe itself would)."""
    import stripe

    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": url}, max_network_retries=0)

"""The UsageMeter port on Metronome, through the official `metronome-sdk` (imported on first use).

How our records map onto Metronome's:
- every captured charge is one usage event: `transaction_id` is the ledger entry id (Metronome ignores a second
  event with the same id for 34 days, so a resend is counted once), `customer_id` is OUR customer id (the Firebase
  uid), which Metronome resolves through the customer's ingest alias: each Metronome customer must carry our id as
  an ingest alias (its first one, when it has several), `event_type` is METRONOME_EVENT_TYPE, `timestamp` the
  capture time in RFC 3339 UTC, and `properties.amount_micros` the charge as a decimal string (Metronome parses
  numeric strings, and a string never loses digits to a float) beside the call's `model`, `endpoint`, `product`;
- `totals` reads Metronome's aggregate (`POST /v1/usage`, window NONE) of METRONOME_BILLABLE_METRIC_ID, a SUM of
  `amount_micros`, and maps Metronome's customer ids back to ours through their ingest aliases;
- `dashboard_url`: METRONOME_DASHBOARD_URL when set (a template; `{customer_id}` becomes our id), otherwise an
  embeddable dashboard URL Metronome makes for the customer;
- `archive_customer`: archives the Metronome customer that carries our id as an alias.

Every SDK failure becomes `shared.errors.Unavailable` (code `metronome_unavailable`) whose message names the status
or the kind of failure, never the request's headers: the bearer token is never logged or stored."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from shared.billing.ports import UsageRecord
from shared.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from metronome import Metronome

    from shared.settings import Settings

DEFAULT_BASE_URL = "https://api.metronome.com"
INGEST_BATCH = 100  # Metronome takes up to 100 events per ingest call
ALIAS_BATCH = 100  # and up to 100 customer ids per customer listing
DASHBOARDS = ("invoices", "usage", "credits", "commits_and_credits")


class MetronomeUsage:
    configured = True

    def __init__(
        self,
        token: str,
        *,
        event_type: str,
        base_url: str | None = None,
        billable_metric_id: str | None = None,
        dashboard_template: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 2,
    ) -> None:
        if not token:
            raise ValueError("a Metronome API token is required")
        self._token = token
        self.event_type = event_type
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.billable_metric_id = billable_metric_id
        self.dashboard_template = dashboard_template
        self._timeout = timeout
        self._max_retries = max_retries
        self._client: Metronome | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, s: Settings) -> MetronomeUsage:
        return cls(
            s.metronome_api_token or "",
            event_type=s.metronome_event_type,
            base_url=s.metronome_base_url,
            billable_metric_id=s.metronome_billable_metric_id,
            dashboard_template=s.metronome_dashboard_url,
        )

    def __repr__(self) -> str:  # the token stays out of any log line that prints the adapter
        return f"MetronomeUsage(base_url={self.base_url!r}, event_type={self.event_type!r})"

    # -- the port -------------------------------------------------------------------------------------------------
    def send(self, records: Sequence[UsageRecord]) -> None:
        events = [self._event(r) for r in records]
        client = self._sdk()
        for start in range(0, len(events), INGEST_BATCH):
            batch = events[start : start + INGEST_BATCH]
            with _mapped("ingest"):
                client.v1.usage.ingest(usage=batch)  # type: ignore[arg-type]  # plain dicts of the TypedDict

    def totals(self, since: datetime, until: datetime) -> Mapping[str, int]:
        if not self.billable_metric_id:
            raise Unavailable(
                "METRONOME_BILLABLE_METRIC_ID is not set: Metronome's totals cannot be read.",
                code="metronome_metric_not_configured",
            )
        since, until = _midnight(since), _midnight(until)
        client = self._sdk()
        by_metronome_id: dict[str, float] = {}
        with _mapped("usage"):
            for row in client.v1.usage.list(
                starting_on=since,
                ending_before=until,
                window_size="NONE",
                billable_metrics=[{"id": self.billable_metric_id}],
            ):
                if row.billable_metric_id == self.billable_metric_id and row.value is not None:
                    by_metronome_id[row.customer_id] = by_metronome_id.get(row.customer_id, 0.0) + row.value
        ours = self._our_ids(list(by_metronome_id))
        totals: dict[str, int] = {}
        for metronome_id, value in by_metronome_id.items():
            customer = ours.get(metronome_id, metronome_id)
            totals[customer] = totals.get(customer, 0) + round(value)
        return totals

    def dashboard_url(
        self, customer_id: str, *, dashboard: str = "usage", colors: Mapping[str, str] | None = None
    ) -> str | None:
        if self.dashboard_template:
            return self.dashboard_template.replace("{customer_id}", customer_id)
        if dashboard not in DASHBOARDS:
            raise InvalidInput(f"dashboard_type must be one of {', '.join(DASHBOARDS)}", code="invalid_dashboard")
        metronome_id = self._metronome_id(customer_id)
        if metronome_id is None:
            return None
        overrides = [{"name": name, "value": value} for name, value in (colors or {}).items()]
        with _mapped("dashboard"):
            answer = self._sdk().v1.dashboards.get_embeddable_url(
                customer_id=metronome_id,
                dashboard=dashboard,  # type: ignore[arg-type]  # checked against DASHBOARDS above
                color_overrides=overrides,  # type: ignore[arg-type]  # names are checked by the handler's schema
            )
        return answer.data.url

    def archive_customer(self, customer_id: str) -> bool:
        metronome_id = self._metronome_id(customer_id)
        if metronome_id is None:
            return False
        with _mapped("archive"):
            self._sdk().v1.customers.archive(id=metronome_id)
        return True

    # -- helpers --------------------------------------------------------------------------------------------------
    def _event(self, record: UsageRecord) -> dict[str, Any]:
        properties: dict[str, object] = {k: v for k, v in record.properties.items() if k != "amount_micros"}
        properties["amount_micros"] = str(record.amount_micros)
        return {
            "transaction_id": record.transaction_id,
            "customer_id": record.customer_id,
            "event_type": self.event_type,
            "timestamp": _rfc3339(record.timestamp),
            "properties": properties,
        }

    def _metronome_id(self, customer_id: str) -> str | None:
        """The Metronome customer that carries our id as an ingest alias."""
        with _mapped("customers"):
            for found in self._sdk().v1.customers.list(ingest_alias=customer_id, limit=1):
                return found.id
        return None

    def _our_ids(self, metronome_ids: list[str]) -> dict[str, str]:
        """Metronome customer id -> our id (its first ingest alias)."""
        ours: dict[str, str] = {}
        for start in range(0, len(metronome_ids), ALIAS_BATCH):
            batch = metronome_ids[start : start + ALIAS_BATCH]
            with _mapped("customers"):
                for customer in self._sdk().v1.customers.list(customer_ids=batch, limit=ALIAS_BATCH):
                    if customer.ingest_aliases:
                        ours[customer.id] = customer.ingest_aliases[0]
        return ours

    def _sdk(self) -> Metronome:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                from metronome import Metronome

                self._client = Metronome(
                    bearer_token=self._token,
                    base_url=self.base_url,
                    timeout=self._timeout,
                    max_retries=self._max_retries,
                )
            return self._client


@contextmanager
def _mapped(what: str) -> Iterator[None]:
    """Metronome's failures as Unavailable (the export task answers 503 and Cloud Tasks retries it). The message
    names the status or the failure's class only: SDK messages may quote a response body, never our headers, but
    nothing of the request is carried over all the same."""
    import metronome

    try:
        yield
    except metronome.APIStatusError as exc:
        retry = 60 if exc.status_code == 429 else 10
        raise Unavailable(
            f"Metronome answered {exc.status_code} to {what}.", code="metronome_unavailable", retry_after=retry
        ) from None
    except metronome.APIError as exc:
        raise Unavailable(
            f"Metronome could not be reached for {what} ({type(exc).__name__}).", code="metronome_unavailable"
        ) from None


def _rfc3339(at: datetime) -> str:
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _midnight(at: datetime) -> datetime:
    """Metronome aggregates between UTC midnights: anything else is a caller's mistake, not rounded silently."""
    moment = at.astimezone(UTC)
    if moment.time() != time(0):
        raise ValueError(f"Metronome usage windows run between UTC midnights, not {moment.isoformat()}")
    return moment

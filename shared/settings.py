"""The one place that reads the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "staging", "production"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # `ENVIRONMENT` is taken by comfy-cli (it picks its base URL from it), so ours is APP_ENV. Unset, it is
    # `production` wherever K_SERVICE is set (Cloud Functions and Cloud Run set it: a deploy that forgets APP_ENV
    # never gets the local conveniences) and `local` elsewhere (a workstation: the README's commands just work).
    app_env: Environment = Field("local", alias="APP_ENV")
    k_service: str | None = Field(None, alias="K_SERVICE")
    # Logs: one JSON line per record in Cloud Logging's structured format, or plain text; unset, JSON in the cloud
    # (K_SERVICE set) and text elsewhere.
    log_format: Literal["text", "json"] | None = Field(None, alias="LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="LOG_LEVEL")
    # Traces: OpenTelemetry spans sent to Cloud Trace (`cloud_trace`), or none (`off`, locally and in tests). A
    # request the load balancer sampled is traced; of the others, this share.
    trace_exporter: Literal["off", "cloud_trace"] = Field("off", alias="TRACE_EXPORTER")
    trace_sample_ratio: float = Field(0.1, alias="TRACE_SAMPLE_RATIO", ge=0, le=1)
    data_dir: Path = Field(Path(".local"), alias="DATA_DIR")
    port: int = Field(8080, alias="PORT")
    host: str = Field("127.0.0.1", alias="HOST")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    # Connections per instance (max_instances x (size + overflow) must stay under the database's limit), and how
    # long a request waits for a free one before it is answered 503 with Retry-After.
    database_pool_size: int = Field(5, alias="DATABASE_POOL_SIZE", ge=1, le=100)
    database_max_overflow: int = Field(5, alias="DATABASE_MAX_OVERFLOW", ge=0, le=100)
    database_pool_timeout_seconds: float = Field(10, alias="DATABASE_POOL_TIMEOUT_SECONDS", gt=0, le=60)
    # Absolute URL clients reach us at; signed URLs of the local blob store are built on it.
    public_base_url: str | None = Field(None, alias="PUBLIC_BASE_URL")

    blob_backend: Literal["local", "gcs"] = Field("local", alias="BLOB_BACKEND")
    # Uploads land in the private quarantine bucket; only the scanner's clean verdict copies them to the public
    # releases bucket.
    uploads_bucket: str = Field("comfy-registry-uploads", alias="UPLOADS_BUCKET", min_length=1)
    releases_bucket: str = Field("comfy-registry-releases", alias="RELEASES_BUCKET", min_length=1)
    signed_url_ttl_seconds: int = Field(900, alias="SIGNED_URL_TTL_SECONDS", gt=0, le=7 * 24 * 3600)
    # How long a publisher's or admin's link to a quarantined archive works.
    archive_download_ttl_seconds: int = Field(300, alias="ARCHIVE_DOWNLOAD_TTL_SECONDS", gt=0, le=24 * 3600)
    # Key for the local blob store's URL signatures; unset, one is kept in DATA_DIR/signing.key.
    local_signing_key: str | None = Field(None, alias="LOCAL_SIGNING_KEY")
    gcs_endpoint: str | None = Field(None, alias="STORAGE_EMULATOR_HOST")

    events_backend: Literal["inprocess", "pubsub"] = Field("inprocess", alias="EVENTS_BACKEND")
    events_topic: str = Field("registry-events", alias="EVENTS_TOPIC")
    gcp_project: str = Field("demo-comfy-registry", alias="GOOGLE_CLOUD_PROJECT")
    pubsub_emulator_host: str | None = Field(None, alias="PUBSUB_EMULATOR_HOST")

    firebase_project_id: str = Field("demo-comfy-registry", alias="FIREBASE_PROJECT_ID")
    firebase_auth_emulator_host: str | None = Field(None, alias="FIREBASE_AUTH_EMULATOR_HOST")

    # Scheduled and service endpoints: Google OIDC tokens for this audience, from these service accounts.
    service_audience: str | None = Field(None, alias="SERVICE_AUDIENCE")
    service_accounts: str = Field("", alias="SERVICE_ACCOUNTS")  # comma-separated e-mails
    google_certs_url: str = Field("https://www.googleapis.com/oauth2/v1/certs", alias="GOOGLE_CERTS_URL")
    # CI uploads (the comfy-action): SHA-256 digests of the accepted keys, comma-separated.
    ci_upload_key_digests: str = Field("", alias="CI_UPLOAD_KEY_DIGESTS")
    # GitHub: claim-my-node checks the caller's token against the node's repository, the stars job reads each node's
    # stargazers (GITHUB_TOKEN, when set, gives it 5,000 requests an hour instead of 60), and GitHub's release
    # webhook signs POST /releases with GITHUB_WEBHOOK_SECRET (unset: that endpoint refuses every call).
    github_api_url: str = Field("https://api.github.com", alias="GITHUB_API_URL")
    github_token: str | None = Field(None, alias="GITHUB_TOKEN")
    github_timeout_seconds: float = Field(10, alias="GITHUB_TIMEOUT_SECONDS", gt=0, le=60)
    github_webhook_secret: str | None = Field(None, alias="GITHUB_WEBHOOK_SECRET")
    # Whose releases feed which project of GET /releases: `owner/name=project`, comma-separated (any case).
    release_repositories: str = Field(
        "comfyanonymous/ComfyUI=comfyui,Comfy-Org/ComfyUI=comfyui,Comfy-Org/ComfyUI_frontend=comfyui_frontend,"
        "Comfy-Org/desktop=desktop",
        alias="RELEASE_REPOSITORIES",
    )

    # Publish rate limits: a token bucket per publisher and per token for each action.
    rate_new_node_interval_seconds: float = Field(600, alias="RATE_NEW_NODE_INTERVAL_SECONDS", gt=0)
    rate_new_node_burst: int = Field(3, alias="RATE_NEW_NODE_BURST", ge=1)
    rate_new_version_interval_seconds: float = Field(60, alias="RATE_NEW_VERSION_INTERVAL_SECONDS", gt=0)
    rate_new_version_burst: int = Field(5, alias="RATE_NEW_VERSION_BURST", ge=1)

    bulk_max_items: int = Field(100, alias="BULK_MAX_ITEMS", ge=1)
    # Origins whose browsers may call us with credentials (comma-separated, exact). `*` lets any other origin read
    # without credentials: the API authenticates by bearer header, never by cookie.
    cors_origins: str = Field("*", alias="CORS_ORIGINS")

    # The scanner's bounds on one archive (see functions/scanner/limits.py for what each guards against).
    scan_max_archive_bytes: int = Field(200 * 1024 * 1024, alias="SCAN_MAX_ARCHIVE_BYTES", gt=0)
    scan_max_total_uncompressed_bytes: int = Field(1024**3, alias="SCAN_MAX_TOTAL_UNCOMPRESSED_BYTES", gt=0)
    scan_max_file_bytes: int = Field(512 * 1024 * 1024, alias="SCAN_MAX_FILE_BYTES", gt=0)
    scan_max_files: int = Field(20_000, alias="SCAN_MAX_FILES", gt=0)
    scan_max_compression_ratio: float = Field(250.0, alias="SCAN_MAX_COMPRESSION_RATIO", gt=1)
    scan_flag_at: Literal["low", "medium", "high", "critical"] = Field("high", alias="SCAN_FLAG_AT")
    # The first scan's budget, well under the scanner function's timeout. A scan that runs out of it is no verdict: the
    # version keeps its status and the sweep scans it again with twice the budget, up to SCAN_MAX_SECONDS_CAP (under
    # the sweep function's timeout); past the cap it waits, pending, for an admin.
    scan_max_seconds: float = Field(240, alias="SCAN_MAX_SECONDS", gt=0)
    scan_max_seconds_cap: float = Field(480, alias="SCAN_MAX_SECONDS_CAP", gt=0)
    # How long one sweep run may keep starting scans (under scanner-sweep's own timeout of 900 s), and how many
    # versions an older rule set judged it rescans per run.
    scan_sweep_seconds: float = Field(840, alias="SCAN_SWEEP_SECONDS", gt=0)
    scan_rescans_per_run: int = Field(200, alias="SCAN_RESCANS_PER_RUN", ge=0)
    # scanner-advisories-refresh: OSV's PyPI data, and the most it downloads.
    scan_advisories_url: str = Field(
        "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip", alias="SCAN_ADVISORIES_URL"
    )
    scan_advisories_max_bytes: int = Field(512 * 1024 * 1024, alias="SCAN_ADVISORIES_MAX_BYTES", gt=0)
    # The sweep rescans versions still pending after this long (their upload event was lost).
    scan_pending_minutes: int = Field(30, alias="SCAN_PENDING_MINUTES", ge=1)
    max_publishers_per_user: int = Field(5, alias="MAX_PUBLISHERS_PER_USER", ge=1)
    max_page_size: int = Field(100, alias="MAX_PAGE_SIZE", ge=1)
    # Public reads (node pages, one node, install, search) are cached per instance. A cached answer is dropped as soon
    # as this instance commits an event, and within READ_CACHE_CHECK_SECONDS of any other instance doing so (each
    # instance reads the catalog epoch that every event-emitting commit bumps). Changes that emit no event (download
    # counts) show after at most READ_CACHE_SECONDS. 0 turns the cache off.
    read_cache_seconds: float = Field(30, alias="READ_CACHE_SECONDS", ge=0)
    # What the CDN in front of the public reads may keep (`Cache-Control: public, s-maxage=..,
    # stale-while-revalidate=..` on caller-independent answers); a ban or flag invalidates the node's paths there at
    # once (CDN_URL_MAP names the load balancer's URL map to invalidate; unset, nothing is sent, as locally).
    cdn_max_age_seconds: int = Field(30, alias="CDN_MAX_AGE_SECONDS", ge=0)
    cdn_stale_seconds: int = Field(60, alias="CDN_STALE_SECONDS", ge=0)
    cdn_url_map: str | None = Field(None, alias="CDN_URL_MAP")
    read_cache_check_seconds: float = Field(1, alias="READ_CACHE_CHECK_SECONDS", ge=0)
    read_cache_entries: int = Field(4096, alias="READ_CACHE_ENTRIES", ge=1)
    read_cache_max_bytes: int = Field(64 * 1024 * 1024, alias="READ_CACHE_MAX_BYTES", ge=1024)
    # Installs add to a per-instance tally written at most this often (and when the instance stops), so a burst of
    # installs of one node costs one UPDATE, not one per request. 0 writes each download as it happens.
    download_flush_seconds: float = Field(1, alias="DOWNLOAD_FLUSH_SECONDS", ge=0)
    token_default_ttl_days: int | None = Field(None, alias="TOKEN_DEFAULT_TTL_DAYS", ge=1)

    # Search: the database is the default index; Algolia is used only when asked for and configured (app id and
    # key), otherwise the database answers. ALGOLIA_HOSTS (comma-separated base URLs) replaces Algolia's own hosts:
    # tests aim the client at a local stub with it.
    search_backend: Literal["database", "algolia"] = Field("database", alias="SEARCH_BACKEND")
    algolia_app_id: str | None = Field(None, alias="ALGOLIA_APP_ID")
    algolia_api_key: str | None = Field(None, alias="ALGOLIA_API_KEY")
    algolia_hosts: str = Field("", alias="ALGOLIA_HOSTS")
    algolia_nodes_index: str = Field("nodes_index", alias="ALGOLIA_NODES_INDEX", min_length=1)
    algolia_versions_index: str = Field("node_versions_index", alias="ALGOLIA_VERSIONS_INDEX", min_length=1)
    # The indexer: nodes per reindex batch, nodes per download-count sync, and how long one scheduled run may take
    # before it stops and leaves its cursor for the next.
    search_reindex_batch: int = Field(500, alias="SEARCH_REINDEX_BATCH", ge=1, le=10_000)
    search_sync_batch: int = Field(1000, alias="SEARCH_SYNC_BATCH", ge=1, le=100_000)
    search_reindex_budget_seconds: float = Field(480, alias="SEARCH_REINDEX_BUDGET_SECONDS", gt=0)
    # A reindex asked for by an event (POST /nodes/reindex) runs inside the Pub/Sub handler, whose timeout is shorter.
    search_requested_reindex_budget_seconds: float = Field(60, alias="SEARCH_REQUESTED_REINDEX_BUDGET_SECONDS", gt=0)

    # -- billing ---------------------------------------------------------------------------------------------------
    # Stripe: the secret key (unset: credit purchases answer 503 and `python -m local grant` credits by hand), the
    # webhook signing secret and how old a signed event may be, and where the SDK sends its requests (tests: a local
    # server).
    stripe_secret_key: str | None = Field(None, alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: str | None = Field(None, alias="STRIPE_WEBHOOK_SECRET")
    stripe_webhook_tolerance_seconds: int = Field(300, alias="STRIPE_WEBHOOK_TOLERANCE_SECONDS", ge=1, le=3600)
    stripe_api_base: str | None = Field(None, alias="STRIPE_API_BASE")
    # Where Checkout and the billing portal send the customer back to.
    checkout_success_url: str = Field("https://platform.comfy.org/payment/success", alias="CHECKOUT_SUCCESS_URL")
    checkout_cancel_url: str = Field("https://platform.comfy.org/payment/failed", alias="CHECKOUT_CANCEL_URL")
    billing_portal_return_url: str = Field(
        "https://platform.comfy.org/profile/billing", alias="BILLING_PORTAL_RETURN_URL"
    )
    # One credit purchase: at least and at most this many micro-USD (whole cents).
    credit_min_micros: int = Field(5_000_000, alias="CREDIT_MIN_MICROS", ge=10_000)
    credit_max_micros: int = Field(1_000_000_000, alias="CREDIT_MAX_MICROS", ge=10_000)
    # Subscription tiers to Stripe price ids, as JSON: {"STANDARD": "price_...", "PRO": "price_..."}.
    subscription_prices: dict[str, str] = Field(default_factory=dict, alias="SUBSCRIPTION_PRICES")
    subscription_default_tier: str = Field("STANDARD", alias="SUBSCRIPTION_DEFAULT_TIER")
    # Metronome: unset token, nothing is exported and the ledger alone meters.
    metronome_api_token: str | None = Field(None, alias="METRONOME_API_TOKEN")
    metronome_base_url: str | None = Field(None, alias="METRONOME_BASE_URL")
    metronome_webhook_secret: str | None = Field(None, alias="METRONOME_WEBHOOK_SECRET")
    metronome_event_type: str = Field("comfy_api_credit_usage", alias="METRONOME_EVENT_TYPE", min_length=1)
    metronome_dashboard_url: str | None = Field(None, alias="METRONOME_DASHBOARD_URL")
    # The billable metric (a SUM of `amount_micros` over METRONOME_EVENT_TYPE events) whose totals reconciliation
    # compares with the ledger; unset, the Metronome half of the reconciliation is skipped and says so.
    metronome_billable_metric_id: str | None = Field(None, alias="METRONOME_BILLABLE_METRIC_ID")
    # SHA-256 hex of the secret that `X-Comfy-Admin-Secret` carries (unset: those endpoints answer 401).
    admin_secret_digest: str | None = Field(None, alias="ADMIN_SECRET_DIGEST", pattern=r"^[0-9a-fA-F]{64}$")
    admin_token_ttl_seconds: int = Field(3600, alias="ADMIN_TOKEN_TTL_SECONDS", ge=60, le=7 * 24 * 3600)
    api_key_default_ttl_days: int | None = Field(None, alias="API_KEY_DEFAULT_TTL_DAYS", ge=1)
    # Holds older than this are released by billing-holds-sweep (a call that never settled).
    hold_max_age_minutes: int = Field(60, alias="HOLD_MAX_AGE_MINUTES", ge=1)
    # Tasks (the usage export): in-process locally, Cloud Tasks in the cloud. USAGE_EXPORT_URL is the
    # billing-usage-export function's URL; tasks carry an OIDC token for TASKS_SERVICE_ACCOUNT.
    tasks_backend: Literal["inprocess", "cloudtasks"] = Field("inprocess", alias="TASKS_BACKEND")
    tasks_location: str = Field("us-central1", alias="TASKS_LOCATION")
    usage_export_queue: str = Field("billing-usage-export", alias="USAGE_EXPORT_QUEUE")
    usage_export_url: str | None = Field(None, alias="USAGE_EXPORT_URL")
    tasks_service_account: str | None = Field(None, alias="TASKS_SERVICE_ACCOUNT")
    cloud_tasks_emulator_host: str | None = Field(None, alias="CLOUD_TASKS_EMULATOR_HOST")
    # Reconciliation: how far back each daily run looks.
    reconcile_window_hours: int = Field(48, alias="RECONCILE_WINDOW_HOURS", ge=1, le=24 * 90)
    # GET /features: what ComfyUI multiplies USD by to show "credits".
    partner_node_conversion_rate: float = Field(211, alias="PARTNER_NODE_CONVERSION_RATE", gt=0)
    # POST /customers/storage: where a partner call's inputs are uploaded, how big and of what types.
    customer_storage_bucket: str = Field("comfy-customer-storage", alias="CUSTOMER_STORAGE_BUCKET", min_length=1)
    customer_storage_max_bytes: int = Field(100 * 1024 * 1024, alias="CUSTOMER_STORAGE_MAX_BYTES", ge=1)
    customer_storage_ttl_seconds: int = Field(900, alias="CUSTOMER_STORAGE_TTL_SECONDS", ge=60, le=24 * 3600)
    customer_storage_content_types: str = Field(
        "image/png,image/jpeg,image/webp,image/gif,video/mp4,video/webm,audio/mpeg,audio/wav,audio/mp4,"
        "application/octet-stream,model/gltf-binary",
        alias="CUSTOMER_STORAGE_CONTENT_TYPES",
    )
    # The gateway (/proxy). PARTNER_BASE_URLS replaces a catalog upstream ({"bfl": "http://127.0.0.1:9000/bfl"}: how
    # tests and local fake partners are plugged in); PARTNER_CREDENTIALS gives each partner's credential (Secret
    # Manager in the cloud; a two-part one as ACCESS:SECRET). A partner without one answers 503.
    partner_base_urls: dict[str, str] = Field(default_factory=dict, alias="PARTNER_BASE_URLS")
    partner_credentials: dict[str, str] = Field(default_factory=dict, alias="PARTNER_CREDENTIALS", repr=False)
    proxy_calls_per_minute: int = Field(120, alias="PROXY_CALLS_PER_MINUTE", ge=1)
    proxy_max_in_flight: int = Field(16, alias="PROXY_MAX_IN_FLIGHT", ge=1)
    # A job nobody polls is followed by proxy-job-settle, first after this delay, then backing off; after the max age
    # its hold is released (the partner never said it finished).
    proxy_settle_delay_seconds: int = Field(30, alias="PROXY_SETTLE_DELAY_SECONDS", ge=1)
    proxy_job_max_age_minutes: int = Field(24 * 60, alias="PROXY_JOB_MAX_AGE_MINUTES", ge=1)
    proxy_settle_url: str | None = Field(None, alias="PROXY_SETTLE_URL")
    proxy_settle_queue: str = Field("proxy-job-settle", alias="PROXY_SETTLE_QUEUE")
    proxy_replay_hours: int = Field(24, alias="PROXY_REPLAY_HOURS", ge=1, le=24 * 7)
    # Answers kept for an Idempotency-Key replay, and JSON answers read whole to meter them, up to this size.
    proxy_buffer_bytes: int = Field(16 * 1024 * 1024, alias="PROXY_BUFFER_BYTES", ge=1024)
    # The circuit breaker: this many partner failures in a row open it for PROXY_BREAKER_OPEN_SECONDS.
    proxy_breaker_failures: int = Field(5, alias="PROXY_BREAKER_FAILURES", ge=1)
    proxy_breaker_open_seconds: int = Field(30, alias="PROXY_BREAKER_OPEN_SECONDS", ge=1)
    # GET polls that meet a partner 429/5xx or a lost connection are retried this many times, honouring Retry-After
    # up to PROXY_RETRY_MAX_WAIT_SECONDS.
    proxy_poll_retries: int = Field(2, alias="PROXY_POLL_RETRIES", ge=0, le=10)
    proxy_retry_max_wait_seconds: float = Field(5.0, alias="PROXY_RETRY_MAX_WAIT_SECONDS", ge=0, le=60)
    # Caps every partner's timeout from the catalog (unset: the catalog's own; tests set a short one).
    proxy_timeout_cap_seconds: float | None = Field(None, alias="PROXY_TIMEOUT_CAP_SECONDS", gt=0)
    # Partner-node limits, sized by lifetime paid spend: each step is [paid USD cents from, concurrent calls of the
    # capped tier, committed-spend ceiling in USD cents]; the first step is for a customer who never paid. A model
    # whose representative call costs PROXY_EXPENSIVE_CENTS or more is of the capped tier (unless an admin pins it).
    proxy_limit_ladder: list[tuple[int, int, int]] = Field(
        default_factory=lambda: [(0, 2, 1_000), (1, 5, 5_000), (10_000, 10, 20_000), (100_000, 25, 100_000)],
        alias="PROXY_LIMIT_LADDER",
        min_length=1,
    )
    proxy_expensive_cents: int = Field(10, alias="PROXY_EXPENSIVE_CENTS", ge=0)
    # The Comfy Router (/v2/models): off answers 403 not_enabled; a run waits for its job up to the deadline (then 504
    # deadline_exceeded, and a same-key retry collects it), asking the partner every PROXY_ROUTER_POLL_SECONDS.
    proxy_router_enabled: bool = Field(True, alias="PROXY_ROUTER_ENABLED")
    proxy_router_deadline_seconds: float = Field(300, alias="PROXY_ROUTER_DEADLINE_SECONDS", gt=0)
    proxy_router_poll_seconds: float = Field(2.0, alias="PROXY_ROUTER_POLL_SECONDS", gt=0)

    @model_validator(mode="before")
    @classmethod
    def _production_in_the_cloud(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("K_SERVICE") and not (data.get("APP_ENV") or data.get("app_env")):
            return {**data, "APP_ENV": "production"}
        return data

    @model_validator(mode="after")
    def _emulators_only_where_safe(self) -> Settings:
        # The auth emulator makes firebase-admin accept unsigned tokens: never outside local and test.
        if self.firebase_auth_emulator_host and self.app_env not in ("local", "test"):
            raise ValueError(
                "FIREBASE_AUTH_EMULATOR_HOST is set but APP_ENV is "
                f"{self.app_env!r}: unsigned tokens are only accepted in local or test"
            )
        if self.blob_backend == "local" and self.app_env in ("staging", "production"):
            raise ValueError("BLOB_BACKEND=local is for the local stack and tests only")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'registry.sqlite3').resolve()}"

    @property
    def stripe_configured(self) -> bool:
        return bool(self.stripe_secret_key)

    @property
    def metronome_configured(self) -> bool:
        return bool(self.metronome_api_token)

    @property
    def customer_storage_type_list(self) -> list[str]:
        return [t.strip().lower() for t in self.customer_storage_content_types.split(",") if t.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def service_account_list(self) -> list[str]:
        return [e.strip() for e in self.service_accounts.split(",") if e.strip()]

    @property
    def ci_upload_digest_list(self) -> list[str]:
        return [d.strip().lower() for d in self.ci_upload_key_digests.split(",") if d.strip()]

    @property
    def release_repository_map(self) -> dict[str, str]:
        """`owner/name` (lower case) -> project."""
        pairs = (item.split("=", 1) for item in self.release_repositories.split(",") if "=" in item)
        return {repo.strip().lower(): project.strip() for repo, project in pairs if repo.strip()}

    @property
    def algolia_host_list(self) -> list[str]:
        return [h.strip() for h in self.algolia_hosts.split(",") if h.strip()]

    @property
    def algolia_configured(self) -> bool:
        return self.search_backend == "algolia" and bool(self.algolia_app_id and self.algolia_api_key)

    @property
    def log_json(self) -> bool:
        return self.log_format == "json" if self.log_format else bool(self.k_service)

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")


class ConfigurationError(RuntimeError):
    """The environment does not make valid settings. Raised while an instance starts (each function's main.py
    loads its settings on import), so a bad deploy never becomes ready; it is never a client's error."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from None

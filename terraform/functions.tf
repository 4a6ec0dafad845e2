# The Cloud Functions (2nd gen): one per entry point, each with its own service account and only the roles its
# entry in local.functions asks for.

locals {
  # How each deployed function runs and what it may touch, keyed by its name. Which functions exist, their folders,
  # entry points and triggers come from shared/routing.py (var.deployed, rendered into functions.auto.tfvars.json by
  # `python -m tools.render`); a function there without settings here (or the reverse) fails the plan.
  #   jobs         scheduler functions: Cloud Scheduler job name => its cron (UTC) and the query string it sends
  #   database     none, or a profile of shared/db/grants.py (reads, publishing, community, moderation, ci,
  #                comfy_nodes, scanner, indexer, outbox, billing): logs in to Cloud SQL as its own IAM database user
  #                (DATABASE_URL from its secret) with that profile's table rights, applied by tools/migrate.py
  #   events       publishes to registry-events
  #   uploads      none | read | write (signs upload and download URLs) on the quarantine bucket (uploads)
  #   releases     none | withdraw (deletes a released archive) | write (creates releases too: the scanner only)
  #   search       none | query | write: gets SEARCH_BACKEND and, with the algolia backend, the ALGOLIA_* settings and
  #                the search-only (query) or admin (write) API key's secret as ALGOLIA_API_KEY
  #   enqueues     tasks functions (local.task_queues, tasks.tf) whose Cloud Tasks queue this function adds tasks
  #                to: it gets TASKS_* and the queue's settings, enqueuer on the queue and acts as tasks-invoker
  #   storage      none | write (signs upload and download URLs) on the customer-storage bucket (storage.tf)
  #   env          environment variables of this function only, over local.common_env
  #   secrets      environment variable => Secret Manager secret id, filled by the operator
  # What most functions leave as it is (function_settings sets what a function may touch itself, never by default:
  # the defaults below grant nothing).
  function_defaults = {
    jobs          = {}
    enqueues      = []
    storage       = "none"
    env           = {}
    secrets       = {}
    cpu           = "1"
    min_instances = 0
  }
  function_settings = {
    # The public reads and install: reads the catalog, writes nothing but download counts.
    registry = {
      database      = "reads"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "query"
      memory        = "1Gi"
      concurrency   = 8
      timeout       = 60
      min_instances = var.min_instances
      max_instances = var.max_instances
    }
    registry-publishing = {
      database      = "publishing"
      events        = true
      uploads       = "write"
      releases      = "withdraw"
      search        = "none"
      memory        = "512Mi"
      concurrency   = 8
      timeout       = 60
      max_instances = var.max_instances
    }
    registry-community = {
      database      = "community"
      events        = true
      uploads       = "none"
      releases      = "none"
      search        = "none"
      memory        = "512Mi"
      concurrency   = 8
      timeout       = 60
      max_instances = var.max_instances
    }
    registry-moderation = {
      database      = "moderation"
      events        = true
      uploads       = "none"
      releases      = "withdraw"
      env           = { CDN_URL_MAP = local.url_map_name } # bans and flags invalidate the CDN's cached reads
      search        = "none"
      memory        = "512Mi"
      concurrency   = 8
      timeout       = 60
      max_instances = var.max_instances
    }
    registry-ci = {
      database      = "ci"
      events        = true
      uploads       = "none"
      releases      = "none"
      search        = "none"
      memory        = "512Mi"
      concurrency   = 8
      timeout       = 60
      max_instances = var.max_instances
    }
    # Also the stars job's endpoint (POST /nodes/update-github-stars): GITHUB_TOKEN, a token with no scopes, only
    # raises GitHub's rate limit for it (5,000 requests an hour instead of 60).
    registry-comfy-nodes = {
      database      = "comfy_nodes"
      events        = true
      uploads       = "none"
      releases      = "none"
      search        = "none"
      secrets       = { GITHUB_TOKEN = "github-token" }
      memory        = "1Gi"
      concurrency   = 8
      timeout       = 60
      max_instances = var.max_instances
    }
    # The ComfyUI release feed: public reads, and GitHub's release webhook signed with the webhook's secret.
    registry-releases = {
      database      = "releases"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "none"
      secrets       = { GITHUB_WEBHOOK_SECRET = "github-webhook-secret" }
      memory        = "256Mi"
      concurrency   = 8
      timeout       = 60
      max_instances = var.max_instances
    }
    registry-outbox-sweep = {
      jobs          = { registry-outbox-sweep = { schedule = "* * * * *", query = "" } }
      database      = "outbox"
      events        = true
      uploads       = "none"
      releases      = "none"
      search        = "none"
      memory        = "512Mi"
      concurrency   = 1
      timeout       = 300
      max_instances = 1 # two sweeps at once would only race for the same rows
    }
    scanner = {
      database      = "scanner"
      events        = true
      uploads       = "read"
      releases      = "write"
      search        = "none"
      memory        = "2Gi" # one archive at a time, unpacked in memory within SCAN_MAX_* bounds
      concurrency   = 1
      timeout       = 540
      max_instances = 10
    }
    scanner-sweep = {
      jobs          = { scanner-sweep = { schedule = "*/15 * * * *", query = "" } }
      database      = "scanner"
      events        = true
      uploads       = "read"
      releases      = "write"
      search        = "none"
      memory        = "2Gi"
      concurrency   = 1
      timeout       = 900
      max_instances = 1
    }
    # Releases what an admin activated or unbanned: the scanner alone writes public archives.
    scanner-release = {
      database      = "scanner"
      events        = true
      uploads       = "read"
      releases      = "write"
      search        = "none"
      memory        = "1Gi"
      concurrency   = 1
      timeout       = 300
      max_instances = 5
    }
    # OSV's malicious and compromised PyPI releases, filtered into the snapshot the scanner's DEP-COMPROMISED rule reads
    # (an object under _scanner/ in the releases bucket, replaced each run: objectCreator plus the withdrawer's delete).
    scanner-advisories-refresh = {
      jobs          = { scanner-advisories-refresh = { schedule = "23 */6 * * *", query = "" } }
      database      = "none"
      events        = false
      uploads       = "none"
      releases      = "write"
      search        = "none"
      memory        = "2Gi" # OSV's PyPI zip is spooled to /tmp, which counts against memory (SCAN_ADVISORIES_MAX_BYTES)
      concurrency   = 1
      timeout       = 540
      max_instances = 1
    }
    indexer = {
      database      = "indexer"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "write"
      memory        = "512Mi"
      concurrency   = 4
      timeout       = 120
      max_instances = 5
    }
    indexer-reindex = {
      jobs = {
        indexer-reindex   = { schedule = "0 3 * * *", query = "" }
        indexer-downloads = { schedule = "*/30 * * * *", query = "mode=downloads" }
      }
      database      = "indexer"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "write"
      memory        = "1Gi"
      concurrency   = 1
      timeout       = 540 # SEARCH_REINDEX_BUDGET_SECONDS (480) stops a run first and leaves its cursor
      max_instances = 1
    }
    # The money side: customers, API keys, credit (Stripe Checkout and the billing portal), the Stripe and Metronome
    # webhooks, balances and usage. Each captured charge's usage record goes to Metronome through the
    # billing-usage-export queue; partner-call inputs are uploaded to the customer-storage bucket by signed URL.
    billing = {
      database = "billing"
      events   = false
      uploads  = "none"
      releases = "none"
      search   = "none"
      enqueues = ["billing-usage-export"]
      storage  = "write"
      env      = { CUSTOMER_STORAGE_BUCKET = google_storage_bucket.customer_storage.name }
      secrets = {
        STRIPE_SECRET_KEY        = "stripe-secret-key"
        STRIPE_WEBHOOK_SECRET    = "stripe-webhook-secret"
        METRONOME_API_TOKEN      = "metronome-api-token"
        METRONOME_WEBHOOK_SECRET = "metronome-webhook-secret"
        ADMIN_SECRET_DIGEST      = "admin-secret-digest"
      }
      memory        = "512Mi"
      concurrency   = 8
      timeout       = 60
      max_instances = var.max_instances
    }
    # The ledger against Stripe's paid sessions and invoices and Metronome's usage totals over RECONCILE_WINDOW_HOURS:
    # credits a payment whose webhook never came (once), reports every other drift.
    billing-reconcile = {
      jobs          = { billing-reconcile = { schedule = "17 3 * * *", query = "" } }
      database      = "billing"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "none"
      secrets       = { STRIPE_SECRET_KEY = "stripe-secret-key", METRONOME_API_TOKEN = "metronome-api-token" }
      env           = { METRONOME_BILLABLE_METRIC_ID = var.metronome_billable_metric_id }
      memory        = "1Gi"
      concurrency   = 1
      timeout       = 900
      max_instances = 1 # one run at a time (a retried job must not race the run it retries)
    }
    # Releases holds older than HOLD_MAX_AGE_MINUTES and queues again the usage exports left unsent.
    billing-holds-sweep = {
      jobs          = { billing-holds-sweep = { schedule = "*/5 * * * *", query = "" } }
      database      = "billing"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "none"
      enqueues      = ["billing-usage-export"]
      memory        = "512Mi"
      concurrency   = 1
      timeout       = 240 # shorter than the schedule: runs never overlap
      max_instances = 1
    }
    # One usage record to Metronome per task (transaction_id: the ledger entry id, so a retry is counted once); a
    # failure answers 5xx and the queue retries it (local.task_queues).
    billing-usage-export = {
      database      = "billing"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "none"
      secrets       = { METRONOME_API_TOKEN = "metronome-api-token" }
      memory        = "512Mi"
      concurrency   = 8
      timeout       = 60
      max_instances = 5 # with the queue's max_concurrent_dispatches, bounds the calls Metronome sees at once
    }
    # The partner gateway: authenticates the caller, holds credit, forwards with the partner's credential (from
    # PARTNER_CREDENTIALS, one Secret Manager secret holding the JSON map), meters and settles. It touches no bucket,
    # event or index: its service account reaches the database and the settle queue, and the internet as egress.
    proxy = {
      database      = "proxy"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "none"
      enqueues      = ["proxy-job-settle"]
      secrets       = { PARTNER_CREDENTIALS = "partner-credentials" }
      memory        = "1Gi"
      concurrency   = 40  # calls wait on partners, not on the CPU
      timeout       = 900 # the longest partner call (a video download) plus margin
      max_instances = var.max_instances
    }
    # Follows a job nobody polls to its end: one task per look, the next look scheduled by the function (backing off).
    proxy-job-settle = {
      database      = "proxy"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "none"
      enqueues      = ["proxy-job-settle"]
      secrets       = { PARTNER_CREDENTIALS = "partner-credentials" }
      memory        = "512Mi"
      concurrency   = 8
      timeout       = 300
      max_instances = 5
    }
    # The safety net of proxy-job-settle: every job whose next look is due (its task was lost), every 10 minutes.
    proxy-jobs-sweep = {
      jobs          = { proxy-jobs-sweep = { schedule = "*/10 * * * *", query = "" } }
      database      = "proxy"
      events        = false
      uploads       = "none"
      releases      = "none"
      search        = "none"
      enqueues      = ["proxy-job-settle"]
      secrets       = { PARTNER_CREDENTIALS = "partner-credentials" }
      memory        = "512Mi"
      concurrency   = 1
      timeout       = 540 # shorter than the schedule: runs never overlap
      max_instances = 1
    }
  }
  # shared/routing.py's table (source folder, entry point, trigger) with the settings above.
  functions = { for name, fn in var.deployed : name => merge(local.function_defaults, fn, local.function_settings[name]) }

  folders          = toset([for f in local.functions : f.source])
  public_functions = { for k, f in local.functions : k => f if f.trigger == "http" }
  # Private functions that fn-invoker calls (Cloud Scheduler, Eventarc, Pub/Sub push). The tasks functions are
  # called by tasks-invoker alone (local.task_functions, tasks.tf): the functions that enqueue act as that account,
  # and must not thereby reach the jobs and event handlers.
  invoked_functions = { for k, f in local.functions : k => f if contains(["scheduler", "storage", "pubsub"], f.trigger) }
  # The registry's scheduled endpoints run on the public function that serves their path (shared/routing.py), which
  # checks the caller's Google ID token itself (fn-invoker is in SERVICE_ACCOUNTS; the audience is SERVICE_AUDIENCE).
  # Methods and paths as the handlers route; tests/deploy checks each job names the function its path reaches.
  endpoint_jobs = {
    registry-security-scan        = { function = "registry-comfy-nodes", method = "GET", path = "/security-scan", schedule = "*/30 * * * *" }
    registry-comfy-nodes-backfill = { function = "registry-comfy-nodes", method = "POST", path = "/comfy-nodes/backfill", schedule = "15 * * * *" }
    # 100 nodes a run (the endpoint's default batch) every 10 minutes: 600 GitHub requests an hour, well inside the
    # token's 5,000; a spent limit pauses the job until GitHub's reset.
    registry-github-stars = { function = "registry-comfy-nodes", method = "POST", path = "/nodes/update-github-stars", schedule = "*/10 * * * *" }
  }
  # Every Cloud Scheduler job: the scheduler functions' own (POST to the function, IAM checks the token for the
  # function's URL) and the endpoints above.
  scheduler_jobs = merge(
    merge([
      for k, f in local.functions : {
        for job, spec in f.jobs : job => merge(spec, { function = k, timeout = f.timeout, method = "POST", path = "", audience = null })
      }
    ]...),
    {
      for job, spec in local.endpoint_jobs : job => merge(spec, {
        query = "", timeout = local.functions[spec.function].timeout, audience = local.common_env.SERVICE_AUDIENCE
      })
    },
  )
  storage_functions  = { for k, f in local.functions : k => f if f.trigger == "storage" }
  pubsub_functions   = { for k, f in local.functions : k => f if f.trigger == "pubsub" }
  database_functions = { for k, f in local.functions : k => f if f.database != "none" }
  event_publishers   = { for k, f in local.functions : k => f if f.events }
  url_signers        = { for k, f in local.functions : k => f if f.uploads == "write" || f.storage == "write" }

  # objectCreator cannot overwrite, and the quarantine's retention policy refuses a replacement from anyone.
  uploads_roles = {
    none  = []
    read  = ["roles/storage.objectViewer"]
    write = ["roles/storage.objectCreator", "roles/storage.objectViewer"]
  }
  uploads_grants = merge([
    for k, f in local.functions : { for role in local.uploads_roles[f.uploads] : "${k} ${role}" => { function = k, role = role } }
  ]...)
  # Only the scanner creates releases; whoever bans or flags may delete one, nothing more. (The role's id is known
  # when planning, its computed name is not: for_each keys must be.)
  withdrawer = "projects/${var.project_id}/roles/${google_project_iam_custom_role.release_withdrawer.role_id}"
  releases_roles = {
    none     = []
    withdraw = [local.withdrawer]
    write    = ["roles/storage.objectCreator", "roles/storage.objectViewer", local.withdrawer]
  }
  releases_grants = merge([
    for k, f in local.functions : { for role in local.releases_roles[f.releases] : "${k} ${role}" => { function = k, role = role } }
  ]...)
  # Partner-call inputs: billing signs a PUT for each upload and a GET for the partner, and finds an upload already
  # stored by its hash; objectCreator cannot overwrite one.
  storage_roles = {
    none  = []
    write = ["roles/storage.objectCreator", "roles/storage.objectViewer"]
  }
  storage_grants = merge([
    for k, f in local.functions : { for role in local.storage_roles[f.storage] : "${k} ${role}" => { function = k, role = role } }
  ]...)

  # With the database backend no function gets an Algolia setting or secret: there is nothing of Algolia to fill.
  algolia = var.search_backend == "algolia"
  search_env = merge({ SEARCH_BACKEND = var.search_backend }, {
    for name, value in {
      ALGOLIA_APP_ID         = var.algolia_app_id
      ALGOLIA_NODES_INDEX    = var.algolia_nodes_index
      ALGOLIA_VERSIONS_INDEX = var.algolia_versions_index
    } : name => value if local.algolia
  })
  # The registry only queries the index, so it holds the search-only key; the indexer writes with the admin key.
  algolia_key_secrets = { none = null, query = "algolia-search-api-key", write = "algolia-admin-api-key" }
  function_env = {
    for k, f in local.functions : k => merge(
      local.common_env,
      { for name, value in local.search_env : name => value if f.search != "none" },
      { for name, value in local.tasks_env : name => value if length(f.enqueues) > 0 },
      { for q in f.enqueues : local.task_queues[q].queue_setting => google_cloud_tasks_queue.queue[q].name },
      { for q in f.enqueues : local.task_queues[q].url_setting => local.task_urls[q] },
      f.env,
    )
  }

  secret_env = {
    for k, f in local.functions : k => merge(
      { for name, wanted in { DATABASE_URL = f.database != "none" } : name => "${k}-database-url" if wanted },
      { for name, secret in { ALGOLIA_API_KEY = local.algolia_key_secrets[f.search] } : name => secret if local.algolia && secret != null },
      # Without Metronome no function reads its secrets (nothing to fill): nothing is exported, the ledger meters.
      { for name, secret in f.secrets : name => secret if var.metronome || !startswith(name, "METRONOME_") },
    )
  }
  # Every secret a function reads but its database URL, which Terraform writes itself (database.tf).
  operator_secrets = toset(flatten([
    for env in values(local.secret_env) : [for name, secret in env : secret if name != "DATABASE_URL"]
  ]))
  secret_grants = merge([
    for k, env in local.secret_env : { for name, secret in env : "${k} ${secret}" => { function = k, secret = secret } }
  ]...)

  base_url = "https://${var.domains[0]}"
  # What every function reads (shared/settings.py); tests/deploy checks each name is a Settings field. The job and
  # CI endpoints behind the load balancer check Google ID tokens themselves: audience the base URL, these accounts.
  common_env = {
    APP_ENV               = var.app_env
    BLOB_BACKEND          = "gcs"
    UPLOADS_BUCKET        = google_storage_bucket.uploads.name
    RELEASES_BUCKET       = google_storage_bucket.releases.name
    CORS_ORIGINS          = join(",", concat(var.cors_origins, ["*"]))
    EVENTS_BACKEND        = "pubsub"
    EVENTS_TOPIC          = google_pubsub_topic.events.name
    GOOGLE_CLOUD_PROJECT  = var.project_id
    FIREBASE_PROJECT_ID   = coalesce(var.firebase_project_id, var.project_id)
    PUBLIC_BASE_URL       = local.base_url
    SERVICE_AUDIENCE      = local.base_url
    SERVICE_ACCOUNTS      = join(",", concat([google_service_account.invoker.email], var.service_accounts))
    CI_UPLOAD_KEY_DIGESTS = join(",", var.ci_upload_key_digests)
  }
}

resource "google_service_account" "fn" {
  for_each     = local.functions
  account_id   = "${each.key}-fn" # 6 to 30 characters: a function name of at most 27
  display_name = "Cloud Function ${each.key}"
}

# Builds the functions' images (Cloud Functions runs the build as this account, not the default compute one).
resource "google_service_account" "builder" {
  account_id   = "fn-builder"
  display_name = "Builds the Cloud Functions' images"
}

# Read the uploaded source, push the image to the gcf-artifacts repository, write the build's logs.
resource "google_project_iam_member" "builder" {
  for_each = toset(["roles/storage.objectViewer", "roles/artifactregistry.writer", "roles/logging.logWriter"])
  project  = var.project_id
  role     = each.key
  member   = "serviceAccount:${google_service_account.builder.email}"
}

# Calls the private functions (Cloud Scheduler jobs, the bucket's Eventarc trigger, Pub/Sub push) and the registry's
# scheduled endpoints, with OIDC.
resource "google_service_account" "invoker" {
  account_id   = "fn-invoker"
  display_name = "Invokes the private Cloud Functions"
}

# Each function's first build: Terraform zips build/<folder>/ (run `make package` before `terraform apply`).
data "archive_file" "source" {
  for_each    = local.folders
  type        = "zip"
  source_dir  = "${path.module}/../build/${each.key}"
  output_path = "${path.module}/../build/${each.key}.zip"
}

resource "google_storage_bucket_object" "source" {
  for_each = local.folders
  name     = "${each.key}-${data.archive_file.source[each.key].output_md5}.zip"
  bucket   = google_storage_bucket.sources.name
  source   = data.archive_file.source[each.key].output_path
}

resource "google_cloudfunctions2_function" "fn" {
  for_each    = local.functions
  name        = each.key
  location    = var.region
  description = "functions/${each.value.source}: ${each.value.entry_point} (${each.value.trigger})"

  build_config {
    runtime         = var.runtime
    entry_point     = each.value.entry_point
    service_account = google_service_account.builder.id
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source[each.value.source].name
      }
    }
  }

  service_config {
    service_account_email = google_service_account.fn[each.key].email
    # Public functions take traffic only through the load balancer; the others only from Google's own callers.
    ingress_settings                 = each.value.trigger == "http" ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    max_instance_request_concurrency = each.value.concurrency
    timeout_seconds                  = each.value.timeout
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    # Only private ranges (Cloud SQL's private IP) go through the VPC; Google APIs are reached directly.
    vpc_connector                 = google_vpc_access_connector.functions.id
    vpc_connector_egress_settings = "PRIVATE_RANGES_ONLY"
    environment_variables         = local.function_env[each.key]

    dynamic "secret_environment_variables" {
      for_each = local.secret_env[each.key]
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  dynamic "event_trigger" {
    for_each = each.value.trigger == "storage" ? [google_storage_bucket.uploads] : []
    content {
      trigger_region        = lower(event_trigger.value.location)
      event_type            = "google.cloud.storage.object.v1.finalized"
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.invoker.email
      event_filters {
        attribute = "bucket"
        value     = event_trigger.value.name
      }
    }
  }

  # Terraform creates each function from `make package`'s build; from then on cloudbuild.yaml ships the code.
  lifecycle {
    ignore_changes = [build_config[0].source]
    precondition {
      condition     = keys(var.deployed) == keys(local.function_settings)
      error_message = "shared/routing.py (functions.auto.tfvars.json) and local.function_settings name different functions."
    }
    precondition {
      condition     = keys(local.task_functions) == keys(local.task_queues)
      error_message = "Each tasks function of shared/routing.py needs its queue in local.task_queues (tasks.tf), and only those."
    }
    precondition {
      condition     = !local.algolia || var.algolia_app_id != null
      error_message = "search_backend = \"algolia\" needs algolia_app_id (and the algolia-*-api-key secrets filled)."
    }
  }

  depends_on = [
    google_secret_manager_secret_version.database_url,
    google_secret_manager_secret_iam_member.function,
    google_project_iam_member.builder,
  ]
}

# The load balancer's serverless NEG calls without credentials, so the public functions admit everyone; their
# ingress setting (internal and load balancer only) keeps the direct run.app and cloudfunctions.net URLs closed.
resource "google_cloud_run_v2_service_iam_member" "public" {
  #checkov:skip=CKV_GCP_102:The registry API is public by design (anonymous reads and installs, as api.comfy.org); ingress admits only the load balancer.
  for_each = local.public_functions
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.invoked_functions
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.invoker.email}"
}

# Eventarc delivers the bucket's events as the invoker account.
resource "google_project_iam_member" "invoker_event_receiver" {
  count   = length(local.storage_functions) > 0 ? 1 : 0
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.invoker.email}"
}

resource "google_cloud_scheduler_job" "job" {
  for_each         = local.scheduler_jobs
  name             = each.key
  region           = var.region
  description      = "Calls ${each.value.method} ${each.value.function}${each.value.path}${each.value.query == "" ? "" : "?${each.value.query}"}"
  schedule         = each.value.schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "${min(1800, each.value.timeout + 30)}s"

  # The next run is the retry: each job sweeps whatever is left.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = each.value.method
    uri         = "${google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri}${each.value.path}${each.value.query == "" ? "" : "?${each.value.query}"}"
    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = coalesce(each.value.audience, google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri)
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.invoker]
}

# -- what each function's account may do ------------------------------------------------------------------------

# instanceUser holds cloudsql.instances.connect and .get (all of roles/cloudsql.client) plus .login, which IAM
# database authentication needs.
resource "google_project_iam_member" "database" {
  for_each = local.database_functions
  project  = var.project_id
  role     = "roles/cloudsql.instanceUser"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_secret_manager_secret_iam_member" "function" {
  for_each  = local.secret_grants
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.fn[each.value.function].email}"

  depends_on = [google_secret_manager_secret.database_url, google_secret_manager_secret.operator]
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.event_publishers
  topic    = google_pubsub_topic.events.id
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.fn[each.key].email}"
}

resource "google_storage_bucket_iam_member" "uploads" {
  for_each = local.uploads_grants
  bucket   = google_storage_bucket.uploads.name
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

resource "google_storage_bucket_iam_member" "releases" {
  for_each = local.releases_grants
  bucket   = google_storage_bucket.releases.name
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

resource "google_storage_bucket_iam_member" "customer_storage" {
  for_each = local.storage_grants
  bucket   = google_storage_bucket.customer_storage.name
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

# Cloud Functions' credentials hold no private key: V4 signed URLs are signed by IAM signBlob as the function's
# own account, which needs the token creator role on itself (and on nothing else).
resource "google_service_account_iam_member" "self_signer" {
  for_each           = local.url_signers
  service_account_id = google_service_account.fn[each.key].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.fn[each.key].email}"
}

# Secrets the operator fills (`gcloud secrets versions add`) before the first apply of a function that reads them.
resource "google_secret_manager_secret" "operator" {
  for_each  = local.operator_secrets
  secret_id = each.key
  replication {
    auto {}
  }
}

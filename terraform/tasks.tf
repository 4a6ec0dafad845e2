# Cloud Tasks: each function of trigger "tasks" (shared/routing.py) is a private HTTP endpoint with a queue of its
# own, named after it. The functions whose settings list it in `enqueues` (functions.tf) add tasks to that queue,
# each carrying an OIDC token of tasks-invoker for the function's URL; the queue delivers them with its rate limits
# and retries with backoff until the function answers 2xx or the attempts run out.
#
# tasks-invoker may invoke the tasks functions and nothing else: the enqueuing functions act as it (they must, to
# put its token on a task), so it must not reach the scheduled jobs or the event handlers that fn-invoker calls.
# The Cloud Tasks service agent mints the tokens; its own role (roles/cloudtasks.serviceAgent, granted when the API
# is enabled) already allows that.

locals {
  # Each tasks function's queue, keyed by the function's name (a function in shared/routing.py without one here, or
  # the reverse, fails the plan). queue_setting and url_setting name the settings (shared/settings.py) in which its
  # enqueuers find the queue and the URL to call; each enqueuer also gets local.tasks_env.
  task_queues = {
    # One usage record per captured charge. Metronome deduplicates by transaction_id (the ledger entry id), so a
    # retry after a lost answer is counted once. A task gives up after about 12 hours of backoff; billing-holds-sweep
    # queues every export still unsent in usage_exports again once an hour (a new task each hour), so longer retries
    # here would only pile up tasks for the same export while Metronome is down.
    billing-usage-export = {
      max_attempts              = 20
      min_backoff               = "10s"
      max_backoff               = "3600s"
      max_doublings             = 16 # 10s, 20s, 40s, ... doubling up to the hour, then hourly
      max_dispatches_per_second = 20
      max_concurrent_dispatches = 20
      queue_setting             = "USAGE_EXPORT_QUEUE"
      url_setting               = "USAGE_EXPORT_URL"
    }
    # One look at a partner job nobody polls; the function schedules the next look itself (backing off), so a task
    # is retried only when the function failed outright.
    proxy-job-settle = {
      max_attempts              = 10
      min_backoff               = "30s"
      max_backoff               = "3600s"
      max_doublings             = 8
      max_dispatches_per_second = 20
      max_concurrent_dispatches = 20
      queue_setting             = "PROXY_SETTLE_QUEUE"
      url_setting               = "PROXY_SETTLE_URL"
    }
  }
  # From var.deployed, not local.functions: the functions' own settings name these queues and URLs.
  task_functions = { for k, f in var.deployed : k => f if f.trigger == "tasks" }
  # The URL each task calls (and its token's audience). A 2nd-gen function's cloudfunctions.net URL is known before
  # the function exists, so its enqueuers' settings can name it; the check below compares it with the deployed one.
  task_urls = { for k in keys(local.task_functions) : k => "https://${var.region}-${var.project_id}.cloudfunctions.net/${k}" }
  tasks_env = {
    TASKS_BACKEND         = "cloudtasks"
    TASKS_LOCATION        = var.region
    TASKS_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
  }
  enqueue_grants = merge([
    for k, f in local.functions : { for q in f.enqueues : "${k} ${q}" => { function = k, queue = q } }
  ]...)
  enqueuers = toset([for grant in values(local.enqueue_grants) : grant.function])
}

resource "google_service_account" "tasks_invoker" {
  account_id   = "tasks-invoker"
  display_name = "Cloud Tasks: invokes the tasks functions"
}

resource "google_cloud_tasks_queue" "queue" {
  for_each = local.task_functions
  name     = each.key
  location = var.region

  rate_limits {
    max_dispatches_per_second = local.task_queues[each.key].max_dispatches_per_second
    max_concurrent_dispatches = local.task_queues[each.key].max_concurrent_dispatches
  }

  retry_config {
    max_attempts  = local.task_queues[each.key].max_attempts
    min_backoff   = local.task_queues[each.key].min_backoff
    max_backoff   = local.task_queues[each.key].max_backoff
    max_doublings = local.task_queues[each.key].max_doublings
  }

  # Every attempt's outcome in Cloud Logging (resource.type="cloud_tasks_queue").
  stackdriver_logging_config {
    sampling_ratio = 1.0
  }
}

# Only tasks-invoker may invoke a tasks function; its ingress admits only Google's own callers (functions.tf).
resource "google_cloud_run_v2_service_iam_member" "tasks_invoker" {
  for_each = local.task_functions
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.tasks_invoker.email}"
}

# An enqueuer adds tasks to its queues and nowhere else.
resource "google_cloud_tasks_queue_iam_member" "enqueuer" {
  for_each = local.enqueue_grants
  location = var.region
  name     = google_cloud_tasks_queue.queue[each.value.queue].name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.fn[each.value.function].email}"
}

# Creating a task whose OIDC token is tasks-invoker's needs iam.serviceAccounts.actAs on that account.
resource "google_service_account_iam_member" "enqueuer_acts_as_tasks_invoker" {
  for_each           = local.enqueuers
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.fn[each.key].email}"
}

check "task_urls" {
  assert {
    condition     = alltrue([for k, url in local.task_urls : google_cloudfunctions2_function.fn[k].url == url])
    error_message = "A tasks function's deployed URL differs from local.task_urls, which its enqueuers call: fix local.task_urls."
  }
}

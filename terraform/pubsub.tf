# registry-events: what the outbox publishes (node and version changes). Each consumer function (trigger
# "pubsub") gets its own push subscription with a retry policy; a message it refuses 10 times goes to the
# dead-letter topic, kept by the dead-letter subscription for 7 days and alerted on (monitoring.tf).

resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; the events carry ids and version numbers, no secrets or personal data.
  name                       = "registry-events"
  message_retention_duration = "86400s" # a consumer can seek back a day after a bad deploy
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; the same messages as registry-events.
  name = "registry-events-dead-letter"
}

resource "google_pubsub_subscription" "dead_letter" {
  name                       = "registry-events-dead-letter"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = "" # never expires for want of readers
  }
}

resource "google_pubsub_subscription" "consumer" {
  for_each             = local.pubsub_functions
  name                 = each.key
  topic                = google_pubsub_topic.events.id
  ack_deadline_seconds = min(600, max(10, each.value.timeout))

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = 10
  }

  # Raw Pub/Sub push: functions-framework turns it into the messagePublished CloudEvent the function expects.
  push_config {
    push_endpoint = google_cloudfunctions2_function.fn[each.key].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = google_cloudfunctions2_function.fn[each.key].service_config[0].uri
    }
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_cloud_run_v2_service_iam_member.invoker]
}

# Dead-lettering is done by the Pub/Sub service agent: it publishes to the dead-letter topic and acks the
# original on the consumer's subscription.
resource "google_project_service_identity" "pubsub" {
  provider = google-beta
  service  = "pubsub.googleapis.com"
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.dead_letter.id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.pubsub_functions
  subscription = google_pubsub_subscription.consumer[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

# Push subscriptions mint the invoker's OIDC tokens as the Pub/Sub service agent.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  count              = length(local.pubsub_functions) > 0 ? 1 : 0
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

# Storage-triggered functions: Cloud Storage publishes its object events to Eventarc's topic as its service agent.
data "google_storage_project_service_account" "gcs" {}

resource "google_project_iam_member" "gcs_event_publisher" {
  count   = length(local.storage_functions) > 0 ? 1 : 0
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

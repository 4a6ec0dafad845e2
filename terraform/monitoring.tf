# Alerts: a function answering more than 5% 5xx over 5 minutes, and any message in the dead-letter subscription.

resource "google_monitoring_notification_channel" "email" {
  for_each     = toset(var.alert_emails)
  display_name = "Registry alerts: ${each.key}"
  type         = "email"
  labels = {
    email_address = each.key
  }
}

resource "google_monitoring_alert_policy" "function_5xx" {
  for_each     = local.functions
  display_name = "${each.key}: 5xx above 5% of requests"
  combiner     = "OR"

  conditions {
    display_name = "5xx ratio of ${each.key}"
    condition_threshold {
      filter             = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloudfunctions2_function.fn[each.key].service_config[0].service}\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloudfunctions2_function.fn[each.key].service_config[0].service}\" AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = 0.05
      duration           = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
      }
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [for c in google_monitoring_notification_channel.email : c.id]
  documentation {
    content   = "The function's logs: Logs Explorer, resource.type=\"cloud_run_revision\" resource.labels.service_name=\"${each.key}\" severity>=ERROR."
    mime_type = "text/markdown"
  }
}

resource "google_monitoring_alert_policy" "dead_letters" {
  display_name = "registry-events: messages in the dead-letter subscription"
  combiner     = "OR"

  conditions {
    display_name = "undelivered dead letters"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letter.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
      trigger {
        count = 1
      }
    }
  }

  notification_channels = [for c in google_monitoring_notification_channel.email : c.id]
  documentation {
    content   = "A consumer refused these events 10 times. Read them with `gcloud pubsub subscriptions pull registry-events-dead-letter --limit=10`; after the fix, republish them to registry-events (consumers are idempotent)."
    mime_type = "text/markdown"
  }
}

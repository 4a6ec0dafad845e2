output "load_balancer_ip" {
  description = "Point every name in var.domains at this address (A record)."
  value       = google_compute_global_address.lb.address
}

output "base_url" {
  description = "The registry's public base URL (clients use it in place of https://api.comfy.org)."
  value       = local.base_url
}

output "function_uris" {
  description = "Each function's own URL (the public ones answer only through the load balancer)."
  value       = { for k, fn in google_cloudfunctions2_function.fn : k => fn.service_config[0].uri }
}

output "function_service_accounts" {
  description = "Each function's runtime service account."
  value       = { for k, sa in google_service_account.fn : k => sa.email }
}

output "uploads_bucket" {
  value = google_storage_bucket.uploads.name
}

output "releases_bucket" {
  value = google_storage_bucket.releases.name
}

output "customer_storage_bucket" {
  value = google_storage_bucket.customer_storage.name
}

output "task_queues" {
  description = "Each tasks function's Cloud Tasks queue and the URL its tasks call."
  value       = { for k, q in google_cloud_tasks_queue.queue : k => { queue = q.id, url = local.task_urls[k] } }
}

output "sources_bucket" {
  description = "Stage manual builds here: gcloud builds submit --gcs-source-staging-dir=gs://<this>/builds."
  value       = google_storage_bucket.sources.name
}

output "events_topic" {
  value = google_pubsub_topic.events.id
}

output "dead_letter_subscription" {
  value = google_pubsub_subscription.dead_letter.id
}

output "database_instance" {
  description = "The Cloud SQL instance's connection name and private IP."
  value = {
    connection_name = google_sql_database_instance.main.connection_name
    private_ip      = google_sql_database_instance.main.private_ip_address
  }
}

output "database_users" {
  description = "The functions' IAM database users and the table rights each gets (tools/migrate.py --grant)."
  value       = { for k, u in google_sql_user.fn : u.name => local.functions[k].database }
}

output "deployer_service_account" {
  value = google_service_account.deployer.email
}

output "cloudbuild_substitutions" {
  description = "The substitutions for a manual `gcloud builds submit` of cloudbuild.yaml (add _FUNCTION)."
  value       = join(",", [for k, v in local.cloudbuild_substitutions : "${k}=${v}"])
}

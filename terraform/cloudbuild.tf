# Continuous deployment: one Cloud Build trigger per function folder, run when the folder or shared/ changes,
# with _FUNCTION naming the folder so that cloudbuild.yaml deploys only that folder's functions. Builds run in a
# private pool peered with the VPC, because the migrations reach Cloud SQL's private IP.

# The identity of the builds: deploys the functions, reads the migration secret, writes logs.
resource "google_service_account" "deployer" {
  account_id   = "deployer"
  display_name = "Cloud Build: tests, migrates and deploys the registry"
}

resource "google_project_iam_member" "deployer" {
  for_each = toset([
    "roles/cloudfunctions.developer",
    "roles/logging.logWriter",
  ])
  project = var.project_id
  role    = each.key
  member  = "serviceAccount:${google_service_account.deployer.email}"
}

# Deploying a function acts as its runtime account and its build account, and as nothing else.
resource "google_service_account_iam_member" "deployer_acts_as" {
  for_each           = merge({ for k, sa in google_service_account.fn : k => sa.name }, { "fn-builder" = google_service_account.builder.name })
  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deployer.email}"
}

# A manual build's sources are staged in the sources bucket (README: --gcs-source-staging-dir).
resource "google_storage_bucket_iam_member" "deployer_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_secret_manager_secret_iam_member" "deployer_migrate" {
  secret_id = google_secret_manager_secret.migrate_database_url.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.deployer.email}"
}

resource "google_cloudbuild_worker_pool" "deploy" {
  #checkov:skip=CKV_GCP_86:The test step installs from PyPI and Debian; workers without an external IP would need a NAT the peered producer network cannot use.
  name     = "registry-deploy"
  location = var.region

  worker_config {
    machine_type   = "e2-standard-4"
    disk_size_gb   = 100
    no_external_ip = false # the test step installs from PyPI and Debian
  }

  network_config {
    peered_network          = google_compute_network.vpc.id
    peered_network_ip_range = "/24" # room for concurrent builds: a change to shared/ starts one per folder
  }

  depends_on = [google_service_networking_connection.private_services]
}

locals {
  # What cloudbuild.yaml needs to know of this environment (also the output cloudbuild_substitutions).
  cloudbuild_substitutions = {
    _REGION        = var.region
    _RUNTIME       = var.runtime
    _POOL          = google_cloudbuild_worker_pool.deploy.name
    _MIGRATE_URL   = google_secret_manager_secret.migrate_database_url.secret_id
    _DB_APP_USERS  = join(",", [for k, u in google_sql_user.fn : "${u.name}=${local.functions[k].database}"])
    _UPLOADS       = google_storage_bucket.uploads.name
    _UPLOADS_WHERE = lower(google_storage_bucket.uploads.location)
  }
}

resource "google_cloudbuild_trigger" "deploy" {
  for_each        = var.github == null ? toset([]) : local.folders
  name            = "deploy-${each.key}"
  location        = var.region
  description     = "Test, migrate and deploy functions/${each.key}/ when it or shared/ changes"
  filename        = "cloudbuild.yaml"
  service_account = google_service_account.deployer.id
  # Everything that goes into build/<folder>/ or decides how it is built and deployed.
  included_files = [
    "functions/${each.key}/**",
    "shared/**",
    "tools/**",
    "cloudbuild.yaml",
  ]

  substitutions = merge(local.cloudbuild_substitutions, { _FUNCTION = each.key })

  github {
    owner = var.github.owner
    name  = var.github.name
    push {
      branch = var.github.branch
    }
  }

  depends_on = [google_project_iam_member.deployer, google_service_account_iam_member.deployer_acts_as]
}

# Archives live in two buckets (shared/archives.py names the objects):
#
# - uploads, the quarantine: private. Uploads arrive only through V4 signed PUT URLs, one object per publish
#   attempt; the scanner reads them, and a publisher or an admin reads one only through a short signed GET. Its
#   retention policy keeps every stored object from being replaced or deleted for a day, longer than any upload URL
#   lives: comfy-cli sends no x-goog-if-generation-match header, so this is what makes uploads create-only.
# - releases: public by path (not listable), as the old service served downloads: ComfyUI-Manager keeps download URLs
#   from its node list. Only the scanner writes here, copies of the exact bytes it judged clean (checked by SHA-256,
#   created with if_generation_match=0); a ban or a flag deletes the copy at once (the registry may delete, never
#   create). No versioning, or a withdrawn archive would stay readable by its generation.
#
# And one of billing's: customer-storage, the inputs of partner calls (POST /customers/storage), private, under a
# prefix per customer, uploaded through V4 signed PUT URLs that billing signs and read through signed GETs; each
# object is deleted a day after its upload.

locals {
  uploads_bucket          = coalesce(var.uploads_bucket, "${var.project_id}-registry-uploads")
  releases_bucket         = coalesce(var.releases_bucket, "${var.project_id}-registry-releases")
  customer_storage_bucket = coalesce(var.customer_storage_bucket, "${var.project_id}-customer-storage")
}

resource "google_storage_bucket" "uploads" {
  #checkov:skip=CKV_GCP_78:Versioning cannot be enabled with a retention policy; the retention policy is what keeps uploads immutable.
  name                        = local.uploads_bucket
  location                    = var.uploads_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  retention_policy {
    retention_period = 86400 # a day, past SIGNED_URL_TTL_SECONDS (at most 15 minutes in functions.tf)
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # The registry web app uploads from the browser to the signed URL; comfy-cli is no browser and needs none.
  dynamic "cors" {
    for_each = length(var.cors_origins) > 0 ? [var.cors_origins] : []
    content {
      origin          = cors.value
      method          = ["PUT", "GET", "HEAD"]
      response_header = ["Content-Type", "Content-Length", "ETag"]
      max_age_seconds = 3600
    }
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }
}

resource "google_storage_bucket" "releases" {
  #checkov:skip=CKV_GCP_114:Public access prevention must stay "inherited": released archives are downloaded anonymously.
  #checkov:skip=CKV_GCP_78:No versioning on purpose: a withdrawn (banned, flagged) archive must not stay readable as a noncurrent version.
  name                        = local.releases_bucket
  location                    = var.uploads_location
  uniform_bucket_level_access = true
  public_access_prevention    = "inherited"
  force_destroy               = !var.deletion_protection

  dynamic "cors" {
    for_each = length(var.cors_origins) > 0 ? [var.cors_origins] : []
    content {
      origin          = cors.value
      method          = ["GET", "HEAD"]
      response_header = ["Content-Type", "Content-Length", "ETag"]
      max_age_seconds = 3600
    }
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }
}

resource "google_storage_bucket_iam_member" "releases_public_read" {
  #checkov:skip=CKV_GCP_28:Released archives are public downloads by design, as on api.comfy.org; objects can be read but not listed.
  bucket = google_storage_bucket.releases.name
  role   = "roles/storage.legacyObjectReader"
  member = "allUsers"
}

resource "google_storage_bucket" "customer_storage" {
  #checkov:skip=CKV_GCP_78:No versioning on purpose: customers' inputs are deleted for good a day after upload; noncurrent versions would keep them longer.
  name                        = local.customer_storage_bucket
  location                    = var.region # next to the functions; the partners read it by signed URL
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # A browser client may PUT an input to its signed URL, as the web app does to the uploads bucket.
  dynamic "cors" {
    for_each = length(var.cors_origins) > 0 ? [var.cors_origins] : []
    content {
      origin          = cors.value
      method          = ["PUT", "GET", "HEAD"]
      response_header = ["Content-Type", "Content-Length", "ETag"]
      max_age_seconds = 3600
    }
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }
}

# Taking a released archive back, and nothing else: the registry's moderation holds this on the releases bucket.
resource "google_project_iam_custom_role" "release_withdrawer" {
  role_id     = "releaseWithdrawer"
  title       = "Withdraws released archives"
  description = "Deletes objects (a ban or a flag); cannot create, replace or list them."
  permissions = ["storage.objects.delete"]
}

# The zips Terraform creates the functions from (later deploys go through cloudbuild.yaml), and the sources of
# manual `gcloud builds submit` runs (README, "Deployment").
resource "google_storage_bucket" "sources" {
  name                        = "${var.project_id}-function-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }

  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }
}

# Usage and storage logs of the buckets above.
resource "google_storage_bucket" "access_logs" {
  #checkov:skip=CKV_GCP_62:This is the access-log bucket; logging it to itself would log its own log writes.
  name                        = "${var.project_id}-access-logs"
  location                    = var.uploads_location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = 365
    }
    action {
      type = "Delete"
    }
  }
}

# GCS writes usage logs as this group.
resource "google_storage_bucket_iam_member" "access_logs_writer" {
  bucket = google_storage_bucket.access_logs.name
  role   = "roles/storage.objectCreator"
  member = "group:cloud-storage-analytics@google.com"
}

# The uploads bucket holds every published archive. Downloads are public, as the old service served them and as
# shared/adapters/gcs_blobs.py builds them (https://storage.googleapis.com/<bucket>/<path>): ComfyUI-Manager keeps
# download URLs from its node list, so signed, expiring download URLs would break installs from a cached list.
# Public means objects can be read by exact path, never listed (legacyObjectReader has no storage.objects.list).
# Uploads go through V4 signed PUT URLs only. A pending or flagged archive is readable by whoever knows its path
# until the scanner deals with it.

locals {
  uploads_bucket = coalesce(var.uploads_bucket, "${var.project_id}-registry-uploads")
}

resource "google_storage_bucket" "uploads" {
  #checkov:skip=CKV_GCP_114:Public access prevention must stay "inherited": archives are downloaded anonymously (see above).
  name                        = local.uploads_bucket
  location                    = var.uploads_location
  uniform_bucket_level_access = true
  public_access_prevention    = "inherited"
  force_destroy               = !var.deletion_protection

  # A replaced or deleted archive stays recoverable for 30 days.
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

resource "google_storage_bucket_iam_member" "uploads_public_read" {
  #checkov:skip=CKV_GCP_28:Node archives are public downloads by design, as on api.comfy.org; objects can be read but not listed.
  bucket = google_storage_bucket.uploads.name
  role   = "roles/storage.legacyObjectReader"
  member = "allUsers"
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

# Usage and storage logs of the two buckets above.
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

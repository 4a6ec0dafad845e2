# Cloud SQL for PostgreSQL 15: private IP only, TLS only, IAM database authentication for the functions.
#
# Who logs in as whom:
#   - each function: its service account as an IAM database user (no password; an OAuth token per connection),
#     with DATABASE_URL = postgresql://<account>%40<project>.iam@<private ip>:5432/registry?sslmode=require;
#   - the migrations (cloudbuild.yaml, in the private pool): the built-in user registry_migrator, whose URL with
#     password is the secret migrate-database-url. Built-in users created through the API are members of
#     cloudsqlsuperuser, so it may create the tables; it owns them, and tools/migrate.py grants the functions' users
#     their use after every migration (an IAM user starts with no rights).

resource "google_sql_database_instance" "main" {
  #checkov:skip=CKV_GCP_6:ssl_mode is ENCRYPTED_ONLY: every connection uses TLS; client certificates would need the Cloud SQL connector in every function, and IAM authentication already identifies the client.
  #checkov:skip=CKV_GCP_79:PostgreSQL 15 on purpose: the version the suite tests against (Debian's packages); upgrade both together.
  #checkov:skip=CKV_GCP_108:log_hostname costs a reverse DNS lookup per connection; the connection log already has the client IP.
  #checkov:skip=CKV_GCP_110:pgAudit would log statements with users' data; schema changes come only from the migrate step, whose build log records them.
  #checkov:skip=CKV_GCP_111:Logging every statement would put users' data and tokens' digests in the logs; errors are logged (log_min_error_statement).
  #checkov:skip=CKV2_GCP_13:log_duration writes a line per statement; Query Insights keeps the latencies.
  name                = "registry-pg15"
  database_version    = "POSTGRES_15"
  region              = var.region
  deletion_protection = var.deletion_protection

  settings {
    tier                        = var.db_tier
    edition                     = "ENTERPRISE"
    availability_type           = var.db_availability
    disk_type                   = "PD_SSD"
    disk_size                   = var.db_disk_gb
    disk_autoresize             = true
    deletion_protection_enabled = var.deletion_protection

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.vpc.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      start_time                     = "03:00"
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7
      backup_retention_settings {
        retained_backups = 14
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = 7
      hour         = 4
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      record_client_address   = false
      record_application_tags = false
    }

    database_flags {
      name  = "cloudsql.iam_authentication"
      value = "on"
    }
    # What the logs keep: enough to investigate connections, locks and slow checkpoints, never statement text
    # (it would carry users' data).
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_min_messages"
      value = "error"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
  }

  depends_on = [google_service_networking_connection.private_services]
}

resource "google_sql_database" "registry" {
  name     = "registry"
  instance = google_sql_database_instance.main.name
}

resource "google_sql_user" "fn" {
  for_each = local.database_functions
  # Cloud SQL names a service account's user by its e-mail without ".gserviceaccount.com".
  name     = trimsuffix(google_service_account.fn[each.key].email, ".gserviceaccount.com")
  instance = google_sql_database_instance.main.name
  type     = "CLOUD_IAM_SERVICE_ACCOUNT"
}

resource "google_secret_manager_secret" "database_url" {
  for_each  = local.database_functions
  secret_id = "${each.key}-database-url"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "database_url" {
  for_each    = local.database_functions
  secret      = google_secret_manager_secret.database_url[each.key].id
  secret_data = "postgresql://${urlencode(google_sql_user.fn[each.key].name)}@${google_sql_database_instance.main.private_ip_address}:5432/${google_sql_database.registry.name}?sslmode=require"
}

resource "random_password" "migrator" {
  length  = 40
  special = false
}

resource "google_sql_user" "migrator" {
  name     = "registry_migrator"
  instance = google_sql_database_instance.main.name
  password = random_password.migrator.result
}

resource "google_secret_manager_secret" "migrate_database_url" {
  secret_id = "migrate-database-url"
  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "migrate_database_url" {
  secret      = google_secret_manager_secret.migrate_database_url.id
  secret_data = "postgresql://${google_sql_user.migrator.name}:${random_password.migrator.result}@${google_sql_database_instance.main.private_ip_address}:5432/${google_sql_database.registry.name}?sslmode=require"
}

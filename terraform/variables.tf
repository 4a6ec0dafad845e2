# One set of values per environment: staging.tfvars and production.tfvars (each its own project and state prefix).

variable "project_id" {
  description = "The Google Cloud project of this environment."
  type        = string
}

variable "region" {
  description = "Region of the functions, Cloud SQL, the VPC connector, Cloud Scheduler and Cloud Build."
  type        = string
  default     = "us-central1"
}

variable "app_env" {
  description = "APP_ENV of every function: staging or production (shared/settings.py refuses local conveniences there)."
  type        = string
  validation {
    condition     = contains(["staging", "production"], var.app_env)
    error_message = "app_env is staging or production."
  }
}

variable "domains" {
  description = "Host names the load balancer answers (managed certificate); the first is the public base URL."
  type        = list(string)
  validation {
    condition     = length(var.domains) > 0
    error_message = "At least one domain is needed for the managed certificate."
  }
}

variable "firebase_project_id" {
  description = "The Firebase project whose ID tokens are accepted; null means project_id."
  type        = string
  default     = null
}

variable "runtime" {
  description = "Cloud Functions runtime; cloudbuild.yaml's _RUNTIME must match."
  type        = string
  default     = "python311"
}

variable "uploads_bucket" {
  description = "Name of the uploads bucket (globally unique); null means <project_id>-registry-uploads."
  type        = string
  default     = null
}

variable "releases_bucket" {
  description = "Name of the public releases bucket (globally unique); null means <project_id>-registry-releases."
  type        = string
  default     = null
}

variable "customer_storage_bucket" {
  description = "Name of billing's customer-storage bucket, the inputs of partner calls (globally unique); null means <project_id>-customer-storage."
  type        = string
  default     = null
}

variable "uploads_location" {
  description = "Location of the uploads and releases buckets: a multi-region (US) serves downloads worldwide."
  type        = string
  default     = "US"
}

variable "cors_origins" {
  description = "Browser origins of the registry web app: they may call the API with credentials and PUT uploads to signed URLs (comfy-cli needs none); any other origin reads the API without credentials."
  type        = list(string)
  default     = []
}

variable "ci_upload_key_digests" {
  description = "SHA-256 hex digests of the accepted CI upload keys (CI_UPLOAD_KEY_DIGESTS); digests, not keys."
  type        = list(string)
  default     = []
}

variable "service_accounts" {
  description = "Service accounts, besides fn-invoker, whose Google ID tokens the registry's job and CI endpoints accept."
  type        = list(string)
  default     = []
}

variable "search_backend" {
  description = "SEARCH_BACKEND of the registry and the indexer: database (nothing else needed) or algolia (algolia_app_id, and the secrets algolia-search-api-key and algolia-admin-api-key filled)."
  type        = string
  default     = "database"
  validation {
    condition     = contains(["database", "algolia"], var.search_backend)
    error_message = "search_backend is database or algolia."
  }
}

variable "algolia_app_id" {
  description = "ALGOLIA_APP_ID, read only when search_backend is algolia."
  type        = string
  default     = null
}

variable "algolia_nodes_index" {
  description = "ALGOLIA_NODES_INDEX: the Algolia index of nodes, when search_backend is algolia."
  type        = string
  default     = "nodes_index"
}

variable "algolia_versions_index" {
  description = "ALGOLIA_VERSIONS_INDEX: the Algolia index of node versions, when search_backend is algolia."
  type        = string
  default     = "node_versions_index"
}

variable "metronome" {
  description = "Whether billing exports usage to Metronome: true needs the secrets metronome-api-token and metronome-webhook-secret filled; false reads neither, exports nothing, and the ledger alone meters."
  type        = bool
  default     = true
}

variable "metronome_billable_metric_id" {
  description = "The Metronome billable metric (a SUM of amount_micros over our usage events) that the reconciliation compares the ledger's charges with; empty skips that comparison."
  type        = string
  default     = ""
}

variable "max_instances" {
  description = "Upper bound of instances of the public registry function; each holds up to 10 database connections."
  type        = number
  default     = 10
}

variable "min_instances" {
  description = "Instances of the public registry function kept warm (0 scales to zero)."
  type        = number
  default     = 0
}

variable "rate_limit_per_minute" {
  description = "Requests per minute one client IP may make through the load balancer before Cloud Armor answers 429."
  type        = number
  default     = 1200
}

variable "db_tier" {
  description = "Cloud SQL machine tier."
  type        = string
  default     = "db-custom-1-3840"
}

variable "db_availability" {
  description = "ZONAL or REGIONAL (a standby in another zone)."
  type        = string
  default     = "REGIONAL"
}

variable "db_disk_gb" {
  description = "Initial Cloud SQL disk size in GB; it grows by itself."
  type        = number
  default     = 20
}

variable "deletion_protection" {
  description = "Protects the Cloud SQL instance (Terraform and API) and the uploads, releases, access-log and customer-storage buckets from deletion."
  type        = bool
  default     = true
}

variable "connector_cidr" {
  description = "An unused /28 in the VPC for the Serverless VPC Access connector."
  type        = string
  default     = "10.8.0.0/28"
}

variable "github" {
  description = "The GitHub repository Cloud Build triggers watch (connect it to Cloud Build first); null creates no triggers."
  type = object({
    owner  = string
    name   = string
    branch = string
  })
  default = null
}

variable "alert_emails" {
  description = "E-mail addresses that receive the alerts."
  type        = list(string)
  default     = []
}

# The load balancer's path map, rendered from shared/routing.py into url_map.auto.tfvars.json
# (`python -m shared.routing > terraform/url_map.auto.tfvars.json`); tests/unit/test_routing.py keeps the two equal.
variable "deployed" {
  description = "Every deployed function (shared/routing.py, rendered into functions.auto.tfvars.json): its folder under functions/, entry point and trigger."
  type = map(object({
    source      = string
    entry_point = string
    trigger     = string
  }))
}

variable "url_map" {
  description = "Which Cloud Function serves which paths: the default function, route rules (a path template each, first match wins), and each function's source and entry point."
  type = object({
    default_function = string
    route_rules = list(object({
      priority = number
      function = string
      template = string
    }))
    functions = map(object({
      source      = string
      entry_point = string
    }))
  })
}

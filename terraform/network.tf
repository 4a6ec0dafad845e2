# A private network for Cloud SQL: the instance has only a private IP, reached by the functions through a
# Serverless VPC Access connector and by Cloud Build's private pool (migrations) through private services access.
# A connector rather than Direct VPC egress: both google_cloudfunctions2_function and `gcloud functions deploy`
# support it for Cloud Functions.

variable "private_services_cidr" {
  description = "The range reserved for private services access (Cloud SQL, the Cloud Build private pool)."
  type        = string
  default     = "10.16.0.0/16"
}

resource "google_compute_network" "vpc" {
  name                    = "registry"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

# Nothing in the VPC takes connections from outside it. The connector's own rules (health checks, serverless
# traffic) are added by the service at a higher priority.
resource "google_compute_firewall" "deny_ingress" {
  name      = "registry-deny-ingress"
  network   = google_compute_network.vpc.name
  direction = "INGRESS"
  priority  = 65534

  deny {
    protocol = "all"
  }
  source_ranges = ["0.0.0.0/0"]

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_global_address" "private_services" {
  name          = "registry-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  address       = split("/", var.private_services_cidr)[0]
  prefix_length = tonumber(split("/", var.private_services_cidr)[1])
  network       = google_compute_network.vpc.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.vpc.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}

resource "google_vpc_access_connector" "functions" {
  name          = "registry-functions"
  region        = var.region
  network       = google_compute_network.vpc.name
  ip_cidr_range = var.connector_cidr
  machine_type  = "e2-micro"
  min_instances = 2
  max_instances = 3
}

# State lives in a GCS bucket made once per project (README, "Deployment"); `terraform init` names it:
#   terraform init -backend-config="bucket=<project>-tfstate" -backend-config="prefix=registry"
terraform {
  required_version = ">= 1.6"

  backend "gcs" {}

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.20"
    }
    # google_project_service_identity (the Pub/Sub service agent) exists only in google-beta.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.20"
    }
    # Zips build/<folder>/ (from `make package`) for each function's first deploy.
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
    # The migrator's database password.
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}

data "google_project" "this" {}

# terraform apply -var-file=production.tfvars  (state prefix registry/production)
project_id          = "comfy-registry-prod"
region              = "us-central1"
app_env             = "production"
domains             = ["api.comfy.example"]
firebase_project_id = null # the project's own Firebase
cors_origins        = ["https://registry.comfy.example"]

max_instances = 15 # 15 x 10 connections stays under the instance's connection limit
min_instances = 1  # one warm instance: no cold start on the first request after a quiet spell

db_tier             = "db-custom-2-7680"
db_availability     = "REGIONAL"
deletion_protection = true

github = {
  owner  = "example-org"
  name   = "comfy-registry"
  branch = "^main$"
}

search_backend = "database" # "algolia" also needs algolia_app_id and two secrets (README, Deployment, step 6)
metronome      = true       # false: no Metronome secrets to fill; nothing is exported and the ledger alone meters

alert_emails = ["registry-oncall@comfy.example"]

# terraform apply -var-file=staging.tfvars  (state prefix registry/staging)
project_id          = "comfy-registry-staging"
region              = "us-central1"
app_env             = "staging"
domains             = ["api.staging.comfy.example"]
firebase_project_id = null
cors_origins        = ["https://registry.staging.comfy.example"]

max_instances = 3
min_instances = 0

db_tier             = "db-custom-1-3840"
db_availability     = "ZONAL"
deletion_protection = false # staging is torn down and rebuilt at will

github = {
  owner  = "example-org"
  name   = "comfy-registry"
  branch = "^staging$"
}

search_backend = "database" # "algolia" also needs algolia_app_id and two secrets (README, Deployment, step 6)
metronome      = true       # false: no Metronome secrets to fill; nothing is exported and the ledger alone meters

alert_emails = []

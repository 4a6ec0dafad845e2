# The load balancer's path map, rendered from shared/routing.py by `make terraform-vars`
# (url_map.auto.tfvars.json); a test keeps the two equal. The full stack is described in the deployment issue.
variable "url_map" {
  description = "Which Cloud Function serves which paths: the default function, path rules, and each function's source and entry point."
  type = object({
    default_function = string
    path_rules = list(object({
      function = string
      paths    = list(string)
    }))
    functions = map(object({
      source      = string
      entry_point = string
    }))
  })
}

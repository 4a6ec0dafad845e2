# The global external Application Load Balancer in front of the public functions. Its URL map is the routing
# table of shared/routing.py (var.url_map), so the paths served in production are the ones served locally.

locals {
  # A serverless NEG and backend service per public function.
  routed_functions = toset(concat([var.url_map.default_function], [for r in var.url_map.route_rules : r.function]))
  # Cloud CDN in front of the public reads (the default function: /nodes, /nodes/{id}, search, versions). It keeps
  # only what the function marks `Cache-Control: public` (caller-independent reads, for s-maxage), keyed on the whole
  # query string, so ComfyUI-Manager's pages and the frontend's searches are answered at the edge; everything else is
  # `private` and passes through. A ban or flag invalidates the node's paths at once (registry-moderation, through
  # CDN_URL_MAP and the invalidator role below).
  cdn_functions = toset([var.url_map.default_function])
  # The URL map's name, known when planning: the moderation function is told it without depending on the map.
  url_map_name = "registry"
}

resource "google_compute_global_address" "lb" {
  name = "registry-lb"
}

resource "google_compute_region_network_endpoint_group" "fn" {
  for_each              = local.public_functions
  name                  = "${each.key}-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"
  # A 2nd-gen function is a Cloud Run service.
  cloud_run {
    service = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  }
}

resource "google_compute_backend_service" "fn" {
  for_each              = local.public_functions
  name                  = "${each.key}-backend"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = google_compute_security_policy.edge.id

  backend {
    group = google_compute_region_network_endpoint_group.fn[each.key].id
  }

  enable_cdn = contains(local.cdn_functions, each.key)
  dynamic "cdn_policy" {
    for_each = contains(local.cdn_functions, each.key) ? [1] : []
    content {
      cache_mode        = "USE_ORIGIN_HEADERS"
      serve_while_stale = 86400 # an origin outage is answered from the edge with what it last held
      cache_key_policy {
        include_host         = true
        include_protocol     = true
        include_query_string = true
      }
    }
  }

  log_config {
    enable      = true
    sample_rate = 1.0
  }
}

# Cloud Armor: a per-client-IP request budget (ComfyUI-Manager pages through /nodes, so it is generous) and the
# Log4Shell signature, in front of every public function.
resource "google_compute_security_policy" "edge" {
  name = "registry-edge"
  type = "CLOUD_ARMOR"

  rule {
    action   = "deny(403)"
    priority = 1000
    match {
      expr {
        expression = "evaluatePreconfiguredExpr('cve-canary')"
      }
    }
    description = "Log4j JNDI lookups (CVE-2021-44228, CVE-2021-45046)"
  }

  rule {
    action   = "throttle"
    priority = 2000
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.rate_limit_per_minute
        interval_sec = 60
      }
    }
    description = "Per-IP request budget"
  }

  rule {
    action   = "allow"
    priority = 2147483647
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    description = "Everything else"
  }
}

resource "google_compute_url_map" "https" {
  name            = local.url_map_name
  default_service = google_compute_backend_service.fn[var.url_map.default_function].id

  host_rule {
    hosts        = ["*"]
    path_matcher = "functions"
  }

  path_matcher {
    name            = "functions"
    default_service = google_compute_backend_service.fn[var.url_map.default_function].id

    # One rule per path template of shared/routing.py, in its order: the first that matches wins.
    dynamic "route_rules" {
      for_each = var.url_map.route_rules
      content {
        priority = route_rules.value.priority
        service  = google_compute_backend_service.fn[route_rules.value.function].id
        match_rules {
          path_template_match = route_rules.value.template
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition = alltrue([
        for name, fn in var.url_map.functions :
        contains(keys(local.public_functions), name) && try(local.functions[name].entry_point == fn.entry_point, false)
      ]) && alltrue([for name in local.routed_functions : contains(keys(var.url_map.functions), name)])
      error_message = "url_map.auto.tfvars.json and local.functions disagree: every routed function must be an http entry of local.functions with the same entry point (re-render with `python -m shared.routing`)."
    }
  }
}

resource "google_compute_managed_ssl_certificate" "registry" {
  # The name follows the domains, so a change makes a new certificate before the old one goes.
  name = "registry-${substr(sha1(join(",", var.domains)), 0, 8)}"
  managed {
    domains = var.domains
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_ssl_policy" "modern" {
  name            = "registry-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "registry" {
  name             = "registry"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.registry.id]
  ssl_policy       = google_compute_ssl_policy.modern.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "registry-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.lb.address
  port_range            = "443"
  target                = google_compute_target_https_proxy.registry.id
}

# Plain HTTP answers with a redirect to HTTPS and reaches no function.
resource "google_compute_url_map" "redirect" {
  name = "registry-redirect"
  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "registry-redirect"
  url_map = google_compute_url_map.redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name                  = "registry-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.lb.address
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
}

# Invalidating the CDN's cache of the public reads, and nothing else: registry-moderation holds it (a ban or a flag
# must not wait for s-maxage).
resource "google_project_iam_custom_role" "cdn_invalidator" {
  role_id     = "cdnInvalidator"
  title       = "Invalidates cached public reads"
  description = "Invalidates paths in the load balancer's Cloud CDN cache; cannot change the URL map."
  permissions = ["compute.urlMaps.invalidateCache"]
}

resource "google_project_iam_member" "cdn_invalidator" {
  project = var.project_id
  role    = google_project_iam_custom_role.cdn_invalidator.id
  member  = "serviceAccount:${google_service_account.fn["registry-moderation"].email}"
}

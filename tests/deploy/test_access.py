"""Who may call each deployed function, and what the tasks functions and billing's bucket let through, read from
terraform/ the way the deploy tests read it (no providers: each grant's for_each filter is evaluated over the
functions of shared/routing.py).

- http functions admit everyone, through the load balancer only; every other function is private (internal
  ingress) and exactly one service account may invoke it: fn-invoker for the jobs and event handlers,
  tasks-invoker for the tasks functions.
- each tasks function has its Cloud Tasks queue, with retries that back off and rate limits; only the functions
  that enqueue to it may add tasks there and act as tasks-invoker.
- billing's customer-storage bucket is private and forgets its objects after a day; only billing signs its URLs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from shared import routing
from shared.settings import Settings
from tests.deploy.support import tf_functions, tf_locals, tf_resources, unquote

TASKS_INVOKER = "serviceAccount:${google_service_account.tasks_invoker.email}"
FN_INVOKER = "serviceAccount:${google_service_account.invoker.email}"
EXPECTED_INVOKER = {
    "http": "allUsers",
    "scheduler": FN_INVOKER,
    "storage": FN_INVOKER,
    "pubsub": FN_INVOKER,
    "tasks": TASKS_INVOKER,
}


def local_filter(name: str) -> Callable[[dict[str, Any]], bool]:
    """The condition of a filtering local (`{for k, f in ... : k => f if COND}`) as a predicate on a function's
    settings. Knows the forms terraform/ uses: f.x == "v", f.x != "v", contains([...], f.x), &&, ||, !, length()."""
    expression = tf_locals()[name]
    match = re.fullmatch(r"\$\{\{for k, f in (?:local\.functions|var\.deployed) : k => f if (.+)\}\}", expression)
    assert match, f"local.{name} is not a filter of the functions: {expression}"
    condition = match.group(1)
    condition = re.sub(r"contains\((\[[^\]]*\]), f\.(\w+)\)", r'(f["\2"] in \1)', condition)
    condition = re.sub(r"\bf\.(\w+)", r'f["\1"]', condition)
    condition = condition.replace("&&", " and ").replace("||", " or ")
    condition = re.sub(r"!(?!=)", " not ", condition).replace("length(", "len(")
    names = set(re.findall(r"[A-Za-z_]\w*", re.sub(r'"[^"]*"', "", condition)))
    assert names <= {"f", "and", "or", "not", "in", "len"}, f"local.{name}: a condition this test cannot read"
    code = compile(condition, f"local.{name}", "eval")
    return lambda spec: bool(eval(code, {"__builtins__": {}, "len": len}, {"f": spec}))  # noqa: S307


def invokers() -> dict[str, list[str]]:
    """Each deployed function -> the members granted roles/run.invoker on it."""
    found: dict[str, list[str]] = {name: [] for name in tf_functions()}
    grants = tf_resources("google_cloud_run_v2_service_iam_member")
    assert grants
    for name, body in grants:
        assert unquote(body["role"]) == "roles/run.invoker", name
        assert body["name"] == "${google_cloudfunctions2_function.fn[each.key].service_config[0].service}", name
        local = re.fullmatch(r"\$\{local\.(\w+)\}", body["for_each"])
        assert local, f"{name}: for_each is not a local filter of the functions"
        selects = local_filter(local.group(1))
        for fn, spec in tf_functions().items():
            if selects(spec):
                found[fn].append(unquote(body["member"]))
    return found


def test_each_function_has_exactly_the_invoker_of_its_trigger() -> None:
    granted = invokers()
    for name, spec in tf_functions().items():
        assert granted[name] == [EXPECTED_INVOKER[spec["trigger"]]], (name, spec["trigger"], granted[name])


def test_only_http_functions_take_traffic_from_the_load_balancer() -> None:
    ((_, body),) = tf_resources("google_cloudfunctions2_function")
    ingress = body["service_config"][0]["ingress_settings"]
    assert ingress == '${each.value.trigger == "http" ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY"}'
    assert {spec["trigger"] for spec in tf_functions().values()} <= set(EXPECTED_INVOKER)


def test_tasks_functions_are_deployed_private() -> None:
    tasks = {name for name, spec in tf_functions().items() if spec["trigger"] == "tasks"}
    assert "billing-usage-export" in tasks
    for name in tasks:
        assert not tf_functions()[name]["jobs"], f"{name}: a queue calls it, not Cloud Scheduler"
    # Its account is not fn-invoker, and the registry's own token check does not accept it.
    accounts = {name: unquote(body["account_id"]) for name, body in tf_resources("google_service_account")}
    assert accounts["tasks_invoker"] not in (accounts["invoker"], accounts["fn"], accounts["builder"])
    assert "tasks_invoker" not in tf_locals()["common_env"]["SERVICE_ACCOUNTS"]


def task_queues() -> dict[str, dict[str, Any]]:
    return {unquote(k): {key: unquote(v) for key, v in q.items()} for k, q in tf_locals()["task_queues"].items()}


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"{duration!r} is not a duration in seconds"
    return int(match.group(1))


def test_each_tasks_function_has_its_queue() -> None:
    tasks = {fn.name for fn in routing.deployed_functions() if fn.trigger == "tasks"}
    assert set(task_queues()) == tasks, "local.task_queues (terraform/tasks.tf) and the tasks functions differ"
    ((_, body),) = tf_resources("google_cloud_tasks_queue")
    assert body["for_each"] == "${local.task_functions}"
    assert local_filter("task_functions")({"trigger": "tasks"})
    assert not any(local_filter("task_functions")({"trigger": t}) for t in EXPECTED_INVOKER if t != "tasks")
    assert unquote(body["name"]) == "${each.key}", "a queue is named after its function"
    assert body["location"] == "${var.region}"
    retry, rate = body["retry_config"][0], body["rate_limits"][0]
    for key in ("max_attempts", "min_backoff", "max_backoff", "max_doublings"):
        assert retry[key] == f"${{local.task_queues[each.key].{key}}}", key
    for key in ("max_dispatches_per_second", "max_concurrent_dispatches"):
        assert rate[key] == f"${{local.task_queues[each.key].{key}}}", key


@pytest.mark.parametrize("name", sorted(task_queues()))
def test_the_queue_retries_with_backoff_and_bounds_its_rate(name: str) -> None:
    queue = task_queues()[name]
    assert 5 <= queue["max_attempts"] <= 100
    low, high = seconds(queue["min_backoff"]), seconds(queue["max_backoff"])
    assert 1 <= low < high <= 3600
    assert queue["max_doublings"] >= 1, "the backoff doubles"
    assert low * 2 ** queue["max_doublings"] >= high, "the doubling reaches the maximum backoff"
    assert 0 < queue["max_dispatches_per_second"] <= 500
    assert 0 < queue["max_concurrent_dispatches"] <= 1000
    # An HTTP task's attempt is given 10 minutes by default: a function that may run longer would be retried while
    # its first attempt still works.
    assert tf_functions()[name]["timeout"] <= 600
    aliases = {str(field.alias) for field in Settings.model_fields.values()}
    assert {queue["queue_setting"], queue["url_setting"]} <= aliases


def test_billing_usage_export_queue() -> None:
    queue = task_queues()["billing-usage-export"]
    assert queue["max_attempts"] == 20
    assert (seconds(queue["min_backoff"]), seconds(queue["max_backoff"])) == (10, 3600)
    assert (queue["queue_setting"], queue["url_setting"]) == ("USAGE_EXPORT_QUEUE", "USAGE_EXPORT_URL")


def enqueues() -> dict[str, list[str]]:
    return {name: [unquote(q) for q in spec["enqueues"]] for name, spec in tf_functions().items() if spec["enqueues"]}


def test_the_enqueuers_add_tasks_to_their_queues_only_and_act_as_tasks_invoker() -> None:
    queues = set(task_queues())
    assert enqueues().get("billing") == ["billing-usage-export"]
    assert enqueues().get("billing-holds-sweep") == ["billing-usage-export"], "it queues unsent exports again"
    for name, targets in enqueues().items():
        assert set(targets) <= queues, f"{name} enqueues to an unknown queue"
    grants = dict(tf_resources("google_cloud_tasks_queue_iam_member"))
    assert set(grants) == {"enqueuer"}
    enqueuer = grants["enqueuer"]
    assert enqueuer["for_each"] == "${local.enqueue_grants}"
    assert unquote(enqueuer["role"]) == "roles/cloudtasks.enqueuer"
    assert enqueuer["name"] == "${google_cloud_tasks_queue.queue[each.value.queue].name}"
    assert unquote(enqueuer["member"]) == "serviceAccount:${google_service_account.fn[each.value.function].email}"
    assert tf_locals()["enqueue_grants"] == (
        '${merge([for k, f in local.functions : {for q in f.enqueues : "${k} ${q}" => {function = k, queue = q}}] ...)}'
    )
    # Who may mint tasks-invoker's tokens: the enqueuers, as users of the account, and nobody else.
    on_tasks_invoker = [
        (name, body)
        for name, body in tf_resources("google_service_account_iam_member")
        if "tasks_invoker" in body["service_account_id"]
    ]
    assert len(on_tasks_invoker) == 1, on_tasks_invoker
    name, body = on_tasks_invoker[0]
    assert body["for_each"] == "${local.enqueuers}"
    assert unquote(body["role"]) == "roles/iam.serviceAccountUser"
    assert unquote(body["member"]) == "serviceAccount:${google_service_account.fn[each.key].email}"
    assert tf_locals()["enqueuers"] == "${toset([for grant in values(local.enqueue_grants) : grant.function])}"


def test_the_enqueuers_call_the_tasks_function_url_as_tasks_invoker() -> None:
    env = tf_locals()["tasks_env"]
    assert unquote(env["TASKS_BACKEND"]) == "cloudtasks"
    assert env["TASKS_LOCATION"] == "${var.region}", "the queues live in the functions' region"
    assert env["TASKS_SERVICE_ACCOUNT"] == "${google_service_account.tasks_invoker.email}"
    urls = tf_locals()["task_urls"]
    assert (
        urls
        == '${{for k in keys(local.task_functions) : k => "https://${var.region}-${var.project_id}.cloudfunctions.net/${k}"}}'
    )
    # Terraform compares the URL it gives the enqueuers with the deployed function's (a check block).
    checks = [c for path_checks in _checks() for c in path_checks]
    assert any("local.task_urls" in a["condition"] and ".url == url" in a["condition"] for a in checks)


def _checks() -> list[list[dict[str, Any]]]:
    from tests.deploy.support import parse_tf, tf_files

    found = []
    for path in tf_files():
        for block in parse_tf(path).get("check", []):
            for body in block.values():
                found.append(body["assert"])
    return found


def test_the_customer_storage_bucket_is_private_and_short_lived() -> None:
    buckets = dict(tf_resources("google_storage_bucket"))
    bucket = buckets["customer_storage"]
    assert bucket["uniform_bucket_level_access"] is True
    assert unquote(bucket["public_access_prevention"]) == "enforced"
    rules = [(r["condition"][0], r["action"][0]) for r in bucket["lifecycle_rule"]]
    assert any(c.get("age") == 1 and unquote(a["type"]) == "Delete" for c, a in rules), "deleted a day after upload"
    assert "versioning" not in bucket, "a deleted input must not stay as a noncurrent version"
    assert "logging" in bucket
    # No public grant on it; billing alone may create and read objects and sign URLs (as itself).
    bucket_grants = tf_resources("google_storage_bucket_iam_member")
    members = [(name, body) for name, body in bucket_grants if "customer_storage" in body["bucket"]]
    assert [name for name, _ in members] == ["customer_storage"]
    assert members[0][1]["for_each"] == "${local.storage_grants}"
    signers = [name for name, spec in tf_functions().items() if spec["storage"] != "none"]
    assert signers == ["billing"]
    assert tf_functions()["billing"]["storage"] == "write"
    assert local_filter("url_signers")(tf_functions()["billing"])
    env = tf_functions()["billing"]["env"]
    assert env["CUSTOMER_STORAGE_BUCKET"] == "${google_storage_bucket.customer_storage.name}"
    roles = {unquote(k): [unquote(r) for r in v] for k, v in tf_locals()["storage_roles"].items()}
    assert roles == {"none": [], "write": ["roles/storage.objectCreator", "roles/storage.objectViewer"]}

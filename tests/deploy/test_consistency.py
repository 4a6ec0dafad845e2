"""One table of functions, three places that deploy them: shared/routing.py is rendered (`python -m tools.render`)
into terraform/url_map.auto.tfvars.json, terraform/functions.auto.tfvars.json and cloudbuild.yaml; the committed files
must be what it renders, and terraform/functions.tf must give every function its settings, and only those."""

from __future__ import annotations

import re

import pytest

from shared import routing
from shared.settings import Settings
from tests.deploy.support import (
    ROOT,
    cloudbuild,
    deploy_steps,
    flag,
    tf_function_settings,
    tf_functions,
    tf_locals,
    tf_resources,
    tf_variable_default,
    unquote,
)
from tools import package, render

# What each trigger kind must be deployed with (gcloud functions deploy flags).
TRIGGER_FLAGS = {
    "http": ["--trigger-http"],
    "scheduler": ["--trigger-http"],
    "pubsub": ["--trigger-http"],  # a push subscription (terraform/pubsub.tf) delivers the events
    "tasks": ["--trigger-http"],  # its Cloud Tasks queue (terraform/tasks.tf) calls it
    "storage": [
        "--trigger-event-filters=type=google.cloud.storage.object.v1.finalized",
        "--trigger-event-filters=bucket=${_UPLOADS}",
        "--retry",  # terraform's RETRY_POLICY_RETRY; gcloud would reset a retry policy it is not given
    ],
}


def table() -> dict[str, routing.Function]:
    return {fn.name: fn for fn in routing.deployed_functions()}


def test_names_are_unique_across_the_table() -> None:
    names = [fn.name for fn in routing.deployed_functions()]
    assert len(names) == len(set(names)), names


def test_every_function_folder_is_deployed() -> None:
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/main.py")}
    assert folders == set(package.folders()), "a folder under functions/ with no deployed function, or the reverse"


def test_every_entry_point_is_defined_in_its_folder() -> None:
    for fn in routing.deployed_functions():
        source = (ROOT / fn.source / "main.py").read_text()
        assert re.search(rf"^def {fn.entry_point}\(", source, re.M), f"{fn.source}/main.py has no {fn.entry_point}"


def test_the_rendered_files_are_what_the_table_renders() -> None:
    for path, text in render.rendered().items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run `.venv/bin/python -m tools.render`"


def test_terraform_has_one_entry_per_function_with_the_same_entry_point_and_trigger() -> None:
    tf = tf_functions()
    assert set(tf) == set(table()), "functions.auto.tfvars.json and shared/routing.py differ"
    assert set(tf_function_settings()) == set(table()), "local.function_settings and shared/routing.py differ"
    for name, fn in table().items():
        spec = tf[name]
        assert spec["source"] == package._folder_name(fn.source), name
        assert spec["entry_point"] == fn.entry_point, name
        assert spec["trigger"] == fn.trigger, name
        assert bool(spec["jobs"]) == (fn.trigger == "scheduler"), f"{name}: Cloud Scheduler jobs iff scheduler"
        assert len(name) <= 27, f"{name}: its service account id {name}-fn would exceed 30 characters"


def test_terraform_has_exactly_one_function_resource_for_each_entry() -> None:
    functions = tf_resources("google_cloudfunctions2_function")
    assert len(functions) == 1, "all functions come from one resource over local.functions"
    _, body = functions[0]
    assert body["for_each"] == "${local.functions}"
    build = body["build_config"][0]
    assert build["entry_point"] == "${each.value.entry_point}"
    assert unquote(body["name"]) == "${each.key}"


def test_cloudbuild_has_one_deploy_step_per_function_with_the_same_entry_point_and_trigger() -> None:
    steps = deploy_steps()
    assert set(steps) == set(table()), "cloudbuild.yaml's deploy steps and shared/routing.py differ"
    for name, fn in table().items():
        step = steps[name]
        assert step["id"] == f"deploy-{name}"
        assert step["folder"] == package._folder_name(fn.source), name
        assert flag(step["flags"], "--entry-point") == fn.entry_point, name
        assert flag(step["flags"], "--runtime") == "${_RUNTIME}", name
        for required in TRIGGER_FLAGS[fn.trigger]:
            assert required in step["flags"], f"{name}: {fn.trigger} is deployed with {required}"
        others = {f for flags in TRIGGER_FLAGS.values() for f in flags} - set(TRIGGER_FLAGS[fn.trigger])
        assert not others & set(step["flags"]), f"{name}: trigger flags of another kind"
        assert "--allow-unauthenticated" not in step["flags"], "terraform owns who may invoke"
        assert step["step"].get("waitFor") == ["migrate"], f"{name}: deploys after the migrations"
        assert {"SELECTED=${_FUNCTION}", "REGION=${_REGION}"} <= set(step["step"].get("env", []))


def test_cloudbuild_substitutions_are_all_declared_and_used() -> None:
    text = (ROOT / "cloudbuild.yaml").read_text()
    declared = set(cloudbuild()["substitutions"])
    used = set(re.findall(r"\$\{(_[A-Z0-9_]+)\}", text))
    # Cloud Build refuses a build that uses an undeclared one or is given one it does not use.
    assert used == declared
    trigger = set(tf_locals()["cloudbuild_substitutions"]) | {"_FUNCTION"}
    assert trigger == declared, "terraform/cloudbuild.tf passes other substitutions than cloudbuild.yaml takes"


def test_runtime_and_region_agree() -> None:
    subs = cloudbuild()["substitutions"]
    assert subs["_RUNTIME"] == tf_variable_default("runtime")
    assert subs["_REGION"] == tf_variable_default("region")


def test_the_functions_environment_is_what_settings_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    aliases = {str(field.alias) for field in Settings.model_fields.values()}
    for name in aliases:  # only what Terraform sets (the test session's own APP_ENV and emulator host go)
        monkeypatch.delenv(name, raising=False)
    env = tf_locals()["common_env"]
    secret_env = {"DATABASE_URL"} | {key for spec in tf_functions().values() for key in spec["secrets"]}
    own_env = {key for spec in tf_functions().values() for key in spec["env"]}
    tasks_env = set(tf_locals()["tasks_env"])
    queue_env = {unquote(q[s]) for q in tf_locals()["task_queues"].values() for s in ("queue_setting", "url_setting")}
    assert own_env <= aliases, f"not read by shared/settings.py: {own_env - aliases}"
    assert set(env) <= aliases, f"not read by shared/settings.py: {set(env) - aliases}"
    assert secret_env <= aliases, f"not read by shared/settings.py: {secret_env - aliases}"
    assert tasks_env | queue_env <= aliases, f"not read by shared/settings.py: {(tasks_env | queue_env) - aliases}"
    assert {unquote(env[k]) for k in ("BLOB_BACKEND", "EVENTS_BACKEND")} == {"gcs", "pubsub"}
    for required in ("APP_ENV", "UPLOADS_BUCKET", "GOOGLE_CLOUD_PROJECT", "FIREBASE_PROJECT_ID", "SERVICE_AUDIENCE"):
        assert required in env
    # Each function's literal values with a stand-in for each expression must make a valid production Settings.
    for name, environment in function_env().items():
        values = {k: (unquote(v) if not str(v).startswith("${") else "x") for k, v in environment.items()}
        values.update(APP_ENV="production", DATABASE_URL="postgresql://u@10.0.0.1/registry")
        settings = Settings.model_validate(values)
        assert settings.blob_backend == "gcs" and settings.events_backend == "pubsub", name
        if tf_functions()[name]["enqueues"]:
            assert settings.tasks_backend == "cloudtasks", f"{name} enqueues: its tasks must go to Cloud Tasks"


def function_env() -> dict[str, dict[str, object]]:
    """local.function_env of terraform/functions.tf, rebuilt from its parts (the expression is checked to be the
    merge of these parts, in this order): common_env, the search settings where a function searches, the tasks
    settings and each queue's where it enqueues, its own env."""
    assert tf_locals()["function_env"] == (
        "${{for k, f in local.functions : k => merge(local.common_env, "
        '{for name, value in local.search_env : name => value if f.search != "none"}, '
        "{for name, value in local.tasks_env : name => value if length(f.enqueues) > 0}, "
        "{for q in f.enqueues : local.task_queues[q].queue_setting => google_cloud_tasks_queue.queue[q].name}, "
        "{for q in f.enqueues : local.task_queues[q].url_setting => local.task_urls[q]}, f.env)}}"
    ), "terraform/functions.tf builds function_env differently: update this test"
    locals_ = tf_locals()
    queues = {unquote(k): v for k, v in locals_["task_queues"].items()}
    env: dict[str, dict[str, object]] = {}
    for name, spec in tf_functions().items():
        enqueues = [unquote(q) for q in spec["enqueues"]]
        env[name] = {
            **locals_["common_env"],
            **({"SEARCH_BACKEND": tf_variable_default("search_backend")} if spec["search"] != "none" else {}),
            **(locals_["tasks_env"] if enqueues else {}),
            **{unquote(queues[q]["queue_setting"]): f"${{google_cloud_tasks_queue.queue[{q}].name}}" for q in enqueues},
            **{unquote(queues[q]["url_setting"]): f"${{local.task_urls[{q}]}}" for q in enqueues},
            **spec["env"],
        }
    return env


@pytest.mark.parametrize("fn", routing.HTTP_FUNCTIONS, ids=lambda fn: fn.name)
def test_routed_functions_are_public_http_entries(fn: routing.HttpFunction) -> None:
    spec = tf_functions()[fn.name]
    assert spec["trigger"] == "http"
    assert spec["entry_point"] == fn.entry_point


def test_scheduled_endpoints_call_the_function_that_serves_their_path() -> None:
    """Cloud Scheduler calls a registry endpoint on a function's own URL, past the load balancer: that function must
    be the one whose area routes the path, or the job meets a 404 every time it runs."""
    jobs = {
        unquote(name): {k: unquote(v) for k, v in job.items()} for name, job in tf_locals()["endpoint_jobs"].items()
    }
    assert jobs, "no scheduled endpoints found in terraform/functions.tf"
    for name, job in jobs.items():
        assert job["function"] == routing.function_for(job["path"]), name


@pytest.mark.parametrize("name", sorted(tf_function_settings()))
def test_each_function_logs_in_with_a_known_database_profile(name: str) -> None:
    from shared.db.grants import PROFILES

    profile = tf_function_settings()[name]["database"]
    assert profile == "none" or profile in PROFILES, (name, profile)

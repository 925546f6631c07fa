"""Every rendered object validates against a maintained schema where one exists:
Kubernetes' built-in kinds against kubernetes-validate (strict) at the supported minimum
(kubernetes-min-version, which docs/deploy.md must state) and at the newest release it
carries; CloudNativePG, Gateway API and KEDA kinds against the pinned @kubernetes-models
packages (models/); the kinds no package carries against the JSON Schemas in schemas/
(jsonschema). The cross-object rules of spin-operator's webhooks are in test_spinapps.py."""
from __future__ import annotations

import json
import os
import re

import jsonschema
import pytest

from manifests import DOCS, ENVS, EXECUTOR, K8S_MIN, Ctx, api_group, find_obj, mutated, no_errors, spinapp
from validators import (SCHEMAS_DIR, core_groups, json_schemas, model_packages, validate_core, validate_json_schema,
                        validate_models)


def check_core_schemas(ctx: Ctx, envs=ENVS) -> list[str]:
    return validate_core([(f"{env}: {o['kind']}/{o['metadata'].get('name')}", o)
                          for env in envs for o in ctx.objs(env) if api_group(o) in core_groups()])


def check_models(ctx: Ctx, envs=ENVS) -> list[str]:
    """Every custom resource of a group a maintained package covers (CloudNativePG, Gateway
    API, KEDA) validates against it."""
    packaged = model_packages()
    return validate_models([(f"{env}: {o['kind']}/{o['metadata']['name']}", o)
                            for env in envs for o in ctx.objs(env) if api_group(o) in packaged])


def check_models_used(ctx: Ctx) -> list[str]:
    """Each group a package is pinned for is rendered by some overlay (KEDA's keda.sh only
    should a ScaledObject appear)."""
    seen = {api_group(o) for env in ENVS for o in ctx.objs(env)}
    return [f"no {g} object rendered ({p} is pinned for nothing)" for g, p in sorted(model_packages().items())
            if g not in seen and g != "keda.sh"]


def check_json_schemas(ctx: Ctx, envs=ENVS) -> list[str]:
    """Custom resources that no maintained package covers (models/) against the JSON
    Schemas in schemas/: spin-operator's SpinApp and SpinAppExecutor, the KEDA HTTP
    add-on's HTTPScaledObject, the Barman Cloud plugin's ObjectStore. A kind with neither
    is an error."""
    errs = []
    packaged, schemas = model_packages(), json_schemas()
    for env in envs:
        for o in ctx.objs(env):
            api = o.get("apiVersion", "")
            if api_group(o) in core_groups() or api_group(o) in packaged:
                continue
            schema = schemas.get((api, o.get("kind")))
            name = f"{env}: {o.get('kind')}/{o.get('metadata', {}).get('name')}"
            if schema is None:
                errs.append(f"{name}: no schema for {api}: no package in ci/models covers it, "
                            "and ci/schemas/ has none")
                continue
            errs += [f"{name}: {e}" for e in validate_json_schema(o, schema)]
    return errs


def check_docs_version(docs_text: str | None = None) -> list[str]:
    """docs/deploy.md states the minimum Kubernetes version of ci/kubernetes-min-version, and
    no other."""
    if docs_text is None:
        with open(DOCS, encoding="utf-8") as fh:
            docs_text = fh.read()
    stated = set(re.findall(r"Kubernetes (1\.\d+) or newer", docs_text))
    if stated != {K8S_MIN}:
        return [f"docs/deploy.md states Kubernetes {sorted(stated) or 'no version'} 'or newer'; "
                f"ci/kubernetes-min-version says {K8S_MIN}"]
    return []


# =========================================================================== the rendered objects
@pytest.mark.parametrize("env", ENVS)
def test_core_kinds_validate_at_the_minimum_and_the_newest_kubernetes(ctx, env):
    no_errors(check_core_schemas(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_cloudnativepg_gateway_api_and_keda_kinds_validate_against_their_packages(ctx, env):
    no_errors(check_models(ctx, [env]))


def test_every_pinned_model_package_validates_something(ctx):
    no_errors(check_models_used(ctx))


@pytest.mark.parametrize("env", ENVS)
def test_kinds_no_package_carries_validate_against_the_json_schemas(ctx, env):
    no_errors(check_json_schemas(ctx, [env]))


def test_docs_state_the_minimum_kubernetes_version():
    no_errors(check_docs_version())


def test_json_schemas_are_valid_and_say_where_they_come_from():
    """Each file in schemas/ is a Draft 2020-12 schema of one kind no package carries,
    whose description names the source it was written from; they cover exactly the
    four kinds."""
    errs = []
    for name in sorted(os.listdir(SCHEMAS_DIR)):
        with open(os.path.join(SCHEMAS_DIR, name), encoding="utf-8") as fh:
            schema = json.load(fh)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            errs.append(f"{name}: not a valid JSON Schema: {exc.message}")
        desc = schema.get("description", "")
        if "Written from" not in desc or "No package" not in desc:
            errs.append(f"{name}: the description must say what it was written from and that no package carries it")
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if len(gvks) != 1 or name != f"{gvks[0]['kind'].lower()}.{gvks[0]['group']}.json":
            errs.append(f"{name}: must describe one kind and be named <kind>.<group>.json, has {gvks}")
    kinds = sorted(k for _, k in json_schemas())
    if kinds != ["HTTPScaledObject", "ObjectStore", "SpinApp", "SpinAppExecutor"]:
        errs.append(f"schemas/ describes {kinds}")
    no_errors(errs)


# =========================================================================== planted faults
def test_core_schema_check_catches_a_bad_job(ctx):
    def f(c):
        job = next(o for o in c.rendered["stg"] if o["kind"] == "Job")
        job["spec"]["backoffLimit"] = "four"
        job["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert check_core_schemas(mutated(ctx, f))


def test_json_schema_check_catches_spinapp_and_httpscaledobject_field_errors_and_a_kind_with_no_schema(ctx):
    def f(c):
        s = spinapp(c, "dev", "login")["spec"]
        s["enableAutoScaling"] = True
        s["checks"]["readiness"]["periodSeconds"] = "5"
        h = next(o for o in c.rendered["dev"] if o["kind"] == "HTTPScaledObject")
        h["spec"]["replicas"]["min"] = "0"
        h["spec"]["scaleTargetRef"]["servce"] = "login"
        c.rendered["dev"].append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}})
    errs = check_json_schemas(mutated(ctx, f))
    assert len(errs) >= 5 and any("Widget" in e for e in errs), errs


def test_json_schema_check_catches_an_executor_with_both_or_neither_runtime_and_image_or_no_create_deployment(ctx):
    def f(c):
        find_obj(c, "prod", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"]["spinImage"] = "ghcr.io/x/spin:3.6"
        find_obj(c, "stg", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"].pop("runtimeClassName")
        find_obj(c, "dev", "SpinAppExecutor", EXECUTOR)["spec"].pop("createDeployment")
    errs = check_json_schemas(mutated(ctx, f))
    assert len(errs) >= 3, errs


def test_json_schema_check_catches_objectstore_field_errors(ctx):
    """A retention that is no `<n>[dwm]`, and serverName, which the plugin's CRD refuses."""
    def f(c):
        find_obj(c, "prod", "ObjectStore", "pizza-db-backups")["spec"]["retentionPolicy"] = "30 days"
        find_obj(c, "stg", "ObjectStore", "pizza-db-backups")["spec"]["configuration"]["serverName"] = "x"
    errs = check_json_schemas(mutated(ctx, f))
    assert len(errs) >= 2, errs


def test_model_check_catches_cloudnativepg_gateway_api_and_keda_type_enum_and_required_errors(ctx):
    def f(c):
        find_obj(c, "stg", "Cluster", "pizza-db")["spec"]["instances"] = "3"
        find_obj(c, "stg", "Pooler", "pizza-db-pooler-ro")["spec"]["pgbouncer"]["poolMode"] = "statement"
        find_obj(c, "prod", "ScheduledBackup", "pizza-db-nightly")["spec"]["method"] = "barman"
        find_obj(c, "dev", "HTTPRoute", "menu")["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"
        find_obj(c, "prod", "HTTPRoute", "order")["spec"]["rules"][0]["backendRefs"][0]["weight"] = "10"
        find_obj(c, "dev", "ReferenceGrant", "pizza-dev-routes-to-interceptor")["spec"].pop("to")
        c.rendered["dev"].append({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                                  "metadata": {"name": "x"}, "spec": {"scaleTargetRef": {"name": "x"},
                                                                     "minReplicaCount": "0", "triggers": "cpu"}})
    errs = check_models(mutated(ctx, f))
    want = ("Cluster/pizza-db", "Pooler/pizza-db-pooler-ro", "ScheduledBackup/pizza-db-nightly",
            "HTTPRoute/menu", "HTTPRoute/order", "ReferenceGrant/", "ScaledObject/x")
    assert all(any(w in e for e in errs) for w in want), errs


def test_docs_version_check_catches_a_minimum_that_differs_from_kubernetes_min_version():
    with open(DOCS, encoding="utf-8") as fh:
        text = fh.read()
    assert check_docs_version(text.replace(f"Kubernetes {K8S_MIN} or newer", "Kubernetes 1.29 or newer"))

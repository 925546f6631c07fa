"""The one migrator and the apply order: the migration Job runs `pizza-db deploy` from the
pizza-db image of the app's own build (housekeeping `pizza-db purge` from the same image),
with its credentials and role limits from the overlay; Argo CD applies the generated
ConfigMaps and Secrets first, then the Job (a Sync hook), then the SpinApps."""
from __future__ import annotations

import re

import pytest

from manifests import (ENVS, LIMIT_KEY, ROOT, SERVICES, TICKER_ROLE, Ctx, find_obj, generated_base, mutated, no_errors,
                       pod_template, ref_target, spinapp, spinapps)

ARGO_WAVE = "argocd.argoproj.io/sync-wave"


def _image(ref: str) -> tuple[str, str]:
    """registry/path/name:tag -> (repository, tag); no tag -> ""."""
    repo, _, tag = str(ref).rpartition(":")
    return (repo, tag) if repo and "/" not in tag else (str(ref), "")


def _argv(container: dict) -> list[str]:
    return [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]


def check_migrations(ctx: Ctx, envs=ENVS, root: str = ROOT) -> list[str]:
    """The migration Job runs the project's one migrator, `pizza-db deploy`, from the pizza-db
    image of the same build (tag) as the SpinApps (the image carries the migrations), as the
    schema owner (pizza-db-admin's url), with each service role's password from its Secret
    and its connection limit from pizza-config; housekeeping runs `pizza-db purge` from the
    same image."""
    errs = []
    for env in envs:
        job = ctx.find(env, "Job", "pizza-migrate")
        if not job:
            errs.append(f"{env}: no Job pizza-migrate")
            continue
        c = job["spec"]["template"]["spec"]["containers"][0]
        repo, tag = _image(c.get("image", ""))
        app_tags = sorted({_image(a["spec"].get("image", ""))[1] for a in spinapps(ctx, env)})
        if repo.rsplit("/", 1)[-1] != "pizza-db":
            errs.append(f"{env}: the migration Job runs {c.get('image')!r}, not the pizza-db image")
        elif [tag] != app_tags:
            errs.append(f"{env}: the migration Job's pizza-db tag {tag!r} is not the SpinApps' {app_tags}: the "
                        "migrations it applies must be the app's (the overlay's `images:` entry pizza-db)")
        argv = _argv(c)
        if not argv or not argv[0].endswith("pizza-db") or "deploy" not in argv[1:]:
            errs.append(f"{env}: the migration Job must run `pizza-db deploy`, runs {argv}")
        envs = {e["name"]: e for e in c.get("env", [])}
        wants = [("DATABASE_URL", "pizza-db-admin", "url")] + [
            (f"{svc.upper()}_DB_PASSWORD", f"pizza-{svc}-db", "password") for svc in SERVICES]
        for var, secret, key in wants:
            ref = ((envs.get(var) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
            if generated_base(ref.get("name", "")) != secret or ref.get("key") != key:
                errs.append(f"{env}: Job env {var} must come from Secret {secret} key {key}")
        for e in c.get("env", []):
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                prob = ref_target(ctx, env, "Secret", ref["name"], ref["key"])
                if prob:
                    errs.append(f"{env}: Job env {e['name']}: {prob}")
        # Each role's connection limit comes from the overlay's budget in pizza-config.
        for svc in SERVICES:
            ref = ((envs.get(f"{svc.upper()}_DB_CONNECTION_LIMIT") or {}).get("valueFrom") or {}).get("configMapKeyRef") or {}
            cm = ctx.find(env, "ConfigMap", ref.get("name", ""))
            if not cm or generated_base(cm["metadata"]["name"]) != "pizza-config" or ref.get("key") != LIMIT_KEY.format(svc):
                errs.append(f"{env}: Job env {svc.upper()}_DB_CONNECTION_LIMIT must come from pizza-config key {LIMIT_KEY.format(svc)}")
        if "pizza.shop/rollout" in job["metadata"].get("labels", {}):
            errs.append(f"{env}: the Job must not carry pizza.shop/rollout (it runs before the SpinApps)")
        for cj in ctx.objs(env, "CronJob"):
            if ((pod_template(cj).get("metadata") or {}).get("labels") or {}).get("pizza.shop/role") == TICKER_ROLE:
                continue                 # the relay ticker calls the app, not the database (test_payments.py)
            hc = pod_template(cj)["spec"]["containers"][0]
            if hc.get("image") != c.get("image") or "purge" not in _argv(hc)[1:]:
                errs.append(f"{env}: CronJob/{cj['metadata']['name']} must run `pizza-db purge` from the Job's image "
                            f"{c.get('image')!r}, runs {_argv(hc)} from {hc.get('image')!r}")
    return errs


def _wave(obj: dict) -> int:
    return int(((obj.get("metadata") or {}).get("annotations") or {}).get(ARGO_WAVE, "0"))


def check_argo_order(ctx: Ctx, envs=ENVS) -> list[str]:
    """Argo CD applies in sync waves: every generated ConfigMap and Secret before the
    migration Job, which is a Sync hook (a PreSync hook would run before the generated
    Secrets it reads exist), and every SpinApp after the Job, so no pod starts on an old
    schema."""
    errs = []
    for env in envs:
        job = ctx.find(env, "Job", "pizza-migrate")
        if not job:
            continue
        hook = (job["metadata"].get("annotations") or {}).get("argocd.argoproj.io/hook")
        if hook != "Sync":
            errs.append(f"{env}: Job/pizza-migrate is hook {hook!r}, not Sync")
        jw = _wave(job)
        for kind in ("ConfigMap", "Secret"):
            for o in ctx.objs(env, kind):
                generated = re.search(r"-[a-z0-9]{10}$", o["metadata"]["name"])
                if generated and _wave(o) >= jw:
                    errs.append(f"{env}: {kind}/{o['metadata']['name']} is in wave {_wave(o)}, not before the Job's {jw}")
        for a in spinapps(ctx, env):
            if _wave(a) <= jw:
                errs.append(f"{env}: SpinApp/{a['metadata']['name']} is in wave {_wave(a)}, not after the Job's {jw}")
    return errs


@pytest.mark.parametrize("env", ENVS)
def test_the_migration_job_runs_pizza_db_deploy_of_the_apps_build(ctx, env):
    no_errors(check_migrations(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_argo_cd_applies_config_then_the_migration_job_then_the_spinapps(ctx, env):
    no_errors(check_argo_order(ctx, [env]))


# =========================================================================== planted faults
def test_migration_check_catches_another_build_not_deploy_a_limit_not_from_pizza_config_and_psql_housekeeping(ctx):
    def f(c):
        job = find_obj(c, "stg", "Job", "pizza-migrate")["spec"]["template"]["spec"]["containers"][0]
        job["image"] = job["image"].rsplit(":", 1)[0] + ":main-0000001"          # another build
        dev = find_obj(c, "dev", "Job", "pizza-migrate")["spec"]["template"]["spec"]["containers"][0]
        dev["args"] = ["migrate"]
        for e in dev["env"]:
            if e["name"] == "LOGIN_DB_CONNECTION_LIMIT":
                e["valueFrom"] = {"configMapKeyRef": {"name": "other", "key": "x"}}
        cj = find_obj(c, "prod", "CronJob", "pizza-housekeeping")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        cj["containers"][0]["image"] = "postgres:17-alpine"
    errs = check_migrations(mutated(ctx, f))
    assert (any(e.startswith("stg") and "tag" in e for e in errs) and any("pizza-db deploy" in e for e in errs)
            and any("LOGIN_DB_CONNECTION_LIMIT" in e for e in errs)
            and any("CronJob/pizza-housekeeping" in e for e in errs)), errs


def test_argo_order_check_catches_a_presync_migration_job_and_a_spinapp_in_an_early_wave(ctx):
    def f(c):
        job = next(o for o in c.rendered["stg"] if o["kind"] == "Job" and o["metadata"]["name"] == "pizza-migrate")
        job["metadata"]["annotations"]["argocd.argoproj.io/hook"] = "PreSync"
        spinapp(c, "prod", "menu")["metadata"]["annotations"][ARGO_WAVE] = "0"
    errs = check_argo_order(mutated(ctx, f))
    assert len(errs) == 2, errs

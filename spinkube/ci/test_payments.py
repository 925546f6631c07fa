"""The payment pieces on Kubernetes (docs/deploy.md, "Payments") that no other file checks:
the relay ticker CronJob (one, every minute, never two at once, ticking inside the minute,
POSTing the relay's route on the Service of the SpinApp that runs it with that SpinApp's
own token Secret, locked down like the other Jobs), and the Secrets: every one the
SpinApps, Jobs and CronJobs read is made by scripts/create-secrets.sh (dev: a generated
env file; stg/prod: created in the cluster). Its routing (no HTTPRoute reaches the relay)
is in test_routes.py, its NetworkPolicies in test_network.py, the components and the
provider URL in test_spinapps.py."""
from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest

from manifests import (ENVS, RELAY_COMPONENT, ROOT, SERVICES, TICKER_ROLE, Ctx, find_obj, generated_base, mutated,
                       namespace_of, no_errors, pod_template, ref_target, runs_component, spinapps)

SCRIPT = os.path.join(ROOT, "spinkube", "scripts", "create-secrets.sh")
ARGO_WAVE = "argocd.argoproj.io/sync-wave"


def tickers(ctx: Ctx, env: str) -> list[dict]:
    """The CronJobs whose pods are the relay ticker's (pizza.shop/role TICKER_ROLE)."""
    return [o for o in ctx.objs(env, "CronJob")
            if ((pod_template(o).get("metadata") or {}).get("labels") or {}).get("pizza.shop/role") == TICKER_ROLE]


def _env(container: dict) -> dict:
    return {e["name"]: e for e in container.get("env") or []}


def _int(entry: dict | None) -> int | None:
    try:
        return int(str((entry or {}).get("value")))
    except ValueError:
        return None


def check_ticker(ctx: Ctx, envs=ENVS) -> list[str]:
    """One relay ticker CronJob per overlay: every minute ("* * * * *"), concurrencyPolicy
    Forbid, no retry pod (the next minute is the retry), a run of RUN_SECONDS (30..59: it
    ends before the next minute's) ticking every TICK_SECONDS (1..5), within its
    activeDeadlineSeconds (at most 2 minutes); RELAY_URL is http://<Service of the SpinApp
    that runs the relay>[:80]<the relay's route>, the token the Secret key that SpinApp's
    relay_token comes from, on curl's stdin (--config -), never its argv; a pinned image;
    the house's pod security (non-root by number, no service account token, read-only root,
    no privilege escalation, no capabilities, RuntimeDefault seccomp) and resources;
    applied with the SpinApps (pizza.shop/rollout app, their Argo CD wave), after the
    migration Job."""
    errs = []
    routes = ctx.spin.public_routes(RELAY_COMPONENT)
    for env in envs:
        found = tickers(ctx, env)
        if len(found) != 1:
            errs.append(f"{env}: {len(found)} relay ticker CronJobs (pod label pizza.shop/role={TICKER_ROLE}); "
                        "expected one: nothing else runs the payment saga's steps")
            continue
        cj = found[0]
        where, spec = f"{env}: CronJob/{cj['metadata']['name']}", cj["spec"]
        job, pod = spec["jobTemplate"]["spec"], pod_template(cj)["spec"]
        if spec.get("schedule") != "* * * * *":
            errs.append(f"{where}: schedule {spec.get('schedule')!r}; every minute (\"* * * * *\"), the finest a CronJob has")
        if spec.get("concurrencyPolicy") != "Forbid":
            errs.append(f"{where}: concurrencyPolicy must be Forbid (one ticker at a time)")
        if job.get("backoffLimit", 6) != 0:
            errs.append(f"{where}: backoffLimit must be 0: a retry pod would tick beside the next minute's")
        if pod.get("restartPolicy") != "Never":
            errs.append(f"{where}: restartPolicy must be Never")
        containers = pod.get("containers") or []
        if len(containers) != 1:
            errs.append(f"{where}: expected one container, has {len(containers)}")
            continue
        c = containers[0]
        env_ = _env(c)
        tick, run, deadline = _int(env_.get("TICK_SECONDS")), _int(env_.get("RUN_SECONDS")), job.get("activeDeadlineSeconds")
        if tick is None or not 1 <= tick <= 5:
            errs.append(f"{where}: TICK_SECONDS {tick!r}: the relay is POSTed every 1..5 s (make up's: every second)")
        if run is None or not 30 <= run < 60:
            errs.append(f"{where}: RUN_SECONDS {run!r}: each minute's pod ticks 30..59 s and ends before the next one")
        elif not isinstance(deadline, int) or not run < deadline <= 120:
            errs.append(f"{where}: activeDeadlineSeconds {deadline!r} must exceed RUN_SECONDS {run} (one last call) "
                        "and stay within 2 minutes (a stuck pod blocks the next, Forbid)")
        script = " ".join(str(a) for a in (c.get("command") or []) + (c.get("args") or []))
        for var in ("RELAY_URL", "RELAY_TOKEN", "TICK_SECONDS", "RUN_SECONDS"):
            if f"${var}" not in script and f"${{{var}}}" not in script:
                errs.append(f"{where}: the container's script does not use ${var}")
        if "-X POST" not in script:
            errs.append(f"{where}: the relay answers POST only; the script sends no -X POST")
        if "--config -" not in script or re.search(r"-H\s+\S*Authorization", script, re.I):
            errs.append(f"{where}: the token must reach curl on stdin (--config -), never as an argument")
        # RELAY_URL: the Service spin-operator makes for the SpinApp that runs the relay.
        relay_apps = runs_component(ctx, env, RELAY_COMPONENT)
        url = str((env_.get("RELAY_URL") or {}).get("value") or "")
        u = urlsplit(url)
        ns = namespace_of(cj)
        host, port = (u.hostname or ""), u.port
        svc = host.split(".")[0]
        forms = {svc, f"{svc}.{ns}", f"{svc}.{ns}.svc", f"{svc}.{ns}.svc.cluster.local"}
        if (u.scheme != "http" or svc not in relay_apps or host not in forms or port not in (None, 80)
                or u.path not in routes):
            errs.append(f"{where}: RELAY_URL {url!r} must be http://<Service of {relay_apps or 'the SpinApp running it'}>"
                        f"[.{ns}[.svc.cluster.local]][:80] and the path {RELAY_COMPONENT}'s route {routes}")
        # The token: the Secret and key the relay's SpinApp reads relay_token from.
        ref = ((env_.get("RELAY_TOKEN") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        prob = ref_target(ctx, env, "Secret", ref.get("name", ""), ref.get("key", "")) if ref else "no secretKeyRef"
        if prob:
            errs.append(f"{where}: RELAY_TOKEN: {prob}")
        for app in relay_apps:
            a = ctx.find(env, "SpinApp", app)
            v = next((v for v in a["spec"].get("variables") or [] if v["name"] == "relay_token"), {})
            theirs = (v.get("valueFrom") or {}).get("secretKeyRef") or {}
            if (generated_base(theirs.get("name", "")), theirs.get("key")) != (generated_base(ref.get("name", "")), ref.get("key")):
                errs.append(f"{where}: RELAY_TOKEN comes from {ref.get('name')}/{ref.get('key')}, but SpinApp/{app}'s "
                            f"relay_token from {theirs.get('name')}/{theirs.get('key')}: the relay would refuse it")
        # A pinned image, and the house's pod security and resources.
        image = str(c.get("image", ""))
        tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
        if "@sha256:" not in image and (not tag or tag == "latest"):
            errs.append(f"{where}: image {image!r} must be pinned (a version tag or a digest)")
        psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
        if pod.get("automountServiceAccountToken") is not False:
            errs.append(f"{where}: automountServiceAccountToken must be false (it talks to no API)")
        if not (psc.get("runAsNonRoot") and isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0
                and (psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault"):
            errs.append(f"{where}: the pod needs runAsNonRoot, a numeric non-zero runAsUser and seccomp RuntimeDefault")
        if not (csc.get("allowPrivilegeEscalation") is False and csc.get("readOnlyRootFilesystem") is True
                and (csc.get("capabilities") or {}).get("drop") == ["ALL"]):
            errs.append(f"{where}: the container needs allowPrivilegeEscalation false, readOnlyRootFilesystem true "
                        "and capabilities drop ALL")
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in (res.get(part) or {}):
                    errs.append(f"{where}: resources.{part}.{r} missing")
        # Applied with the SpinApps, after the migration Job (make deploy, Argo CD waves).
        labels, waves = cj["metadata"].get("labels") or {}, {
            ((a["metadata"].get("annotations") or {}).get(ARGO_WAVE)) for a in spinapps(ctx, env)}
        if labels.get("pizza.shop/rollout") != "app":
            errs.append(f"{where}: needs the label pizza.shop/rollout=app: make deploy applies it with the SpinApps, "
                        "after the migrations")
        if {(cj["metadata"].get("annotations") or {}).get(ARGO_WAVE)} != waves:
            errs.append(f"{where}: Argo CD wave {(cj['metadata'].get('annotations') or {}).get(ARGO_WAVE)!r}, "
                        f"not the SpinApps' {sorted(map(str, waves))}")
    return errs


def _secret_refs(ctx: Ctx, env: str) -> set[str]:
    """The Secrets (kustomize's hash suffix stripped) that the SpinApps' variables and the
    Jobs' and CronJobs' env read."""
    refs = set()
    for a in spinapps(ctx, env):
        for v in a["spec"].get("variables") or []:
            ref = (v.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                refs.add(generated_base(ref["name"]))
    for o in ctx.objs(env, "Job") + ctx.objs(env, "CronJob"):
        for c in pod_template(o)["spec"].get("containers") or []:
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    refs.add(generated_base(ref["name"]))
    return refs


def check_secrets_script(ctx: Ctx, envs=ENVS, script: str | None = None) -> list[str]:
    """Every Secret that the SpinApps, Jobs and CronJobs read is made by
    scripts/create-secrets.sh: in dev it writes the env file that the overlay's
    secretGenerator reads (`env_file NAME`); in stg/prod it creates the Secret (`put NAME`,
    a `NAME:key:VARIABLE` entry of its payment list, or the service loop's
    "pizza-$svc-db"). pizza-db-ca is CloudNativePG's own (the script's --ca, for an external
    database)."""
    if script is None:
        with open(SCRIPT, encoding="utf-8") as fh:
            script = fh.read()
    dev_part, _, cluster_part = script.partition("# stg, prod: Secrets in the cluster.")
    db_names = {f"pizza-{svc}-db" for svc in SERVICES}
    errs = []
    for env in envs:
        for name in sorted(_secret_refs(ctx, env)):
            if name in db_names:
                made = '"pizza-$svc-db"' in (dev_part if env == "dev" else cluster_part)
            elif env == "dev":
                made = re.search(rf"^\s*env_file {re.escape(name)}\s", dev_part, re.M) is not None
            else:
                made = name == "pizza-db-ca" or re.search(
                    rf"^\s*put {re.escape(name)}\s|[\s\"']{re.escape(name)}:[a-z_]+:[A-Z_]+", cluster_part, re.M) is not None
            if not made:
                errs.append(f"{env}: Secret {name} is read, but scripts/create-secrets.sh "
                            + ("dev writes no env file for it (env_file)" if env == "dev" else "does not create it (put)"))
    return errs


@pytest.mark.parametrize("env", ENVS)
def test_one_relay_ticker_posts_the_relay_of_its_spinapp_every_few_seconds(ctx, env):
    no_errors(check_ticker(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_create_secrets_makes_every_secret_the_workloads_read(ctx, env):
    no_errors(check_secrets_script(ctx, [env]))


# =========================================================================== planted faults
def _ticker(c: Ctx, env: str) -> dict:
    return find_obj(c, env, "CronJob", "pizza-relay-ticker")


def test_ticker_check_catches_a_coarse_schedule_overlap_a_wrong_service_and_path_and_another_token(ctx):
    def f(c):
        cj = _ticker(c, "stg")
        cj["spec"]["schedule"] = "*/5 * * * *"
        cj["spec"]["concurrencyPolicy"] = "Allow"
        cont = pod_template(cj)["spec"]["containers"][0]
        for e in cont["env"]:
            if e["name"] == "RELAY_URL":
                e["value"] = "http://menu/api/relay/"
            if e["name"] == "RUN_SECONDS":
                e["value"] = "120"
        prod = pod_template(_ticker(c, "prod"))["spec"]["containers"][0]
        for e in prod["env"]:
            if e["name"] == "RELAY_TOKEN":
                e["valueFrom"]["secretKeyRef"] = {"name": "pizza-jwt", "key": "jwt_secret"}
    errs = check_ticker(mutated(ctx, f))
    assert (any("stg" in e and "schedule" in e for e in errs) and any("stg" in e and "Forbid" in e for e in errs)
            and any("stg" in e and "RELAY_URL 'http://menu/api/relay/'" in e for e in errs)
            and any("stg" in e and "RUN_SECONDS 120" in e for e in errs)
            and any(e.startswith("prod") and "the relay would refuse it" in e for e in errs)), errs


def test_ticker_check_catches_a_missing_ticker_an_unpinned_root_image_and_the_token_on_the_command_line(ctx):
    def f(c):
        c.rendered["dev"] = [o for o in c.rendered["dev"] if o["metadata"]["name"] != "pizza-relay-ticker"]
        pod = pod_template(_ticker(c, "prod"))["spec"]
        pod["containers"][0]["image"] = "curlimages/curl:latest"
        pod["securityContext"].pop("runAsUser")
        pod["containers"][0]["args"] = ['while :; do curl -X POST -H "Authorization: Bearer $RELAY_TOKEN" '
                                        '"$RELAY_URL"; sleep "$TICK_SECONDS"; done # $RUN_SECONDS']
        _ticker(c, "stg")["metadata"]["labels"].pop("pizza.shop/rollout")
    errs = check_ticker(mutated(ctx, f))
    assert (any(e.startswith("dev: 0 relay ticker CronJobs") for e in errs)
            and any(e.startswith("prod") and "pinned" in e for e in errs)
            and any(e.startswith("prod") and "runAsUser" in e for e in errs)
            and any(e.startswith("prod") and "stdin" in e for e in errs)
            and any(e.startswith("stg") and "pizza.shop/rollout" in e for e in errs)), errs


def test_secrets_script_check_catches_a_secret_the_script_no_longer_makes(ctx):
    with open(SCRIPT, encoding="utf-8") as fh:
        script = fh.read()
    broken = script.replace("  env_file pizza-relay relay_token=relay_token\n", "").replace(
        "put pizza-relay relay_token=relay_token\n", "").replace(
        "pizza-payment-webhook:payment_webhook_secret:PAYMENT_WEBHOOK_SECRET", "")
    assert broken.count("pizza-relay") < script.count("pizza-relay"), "create-secrets.sh changed: plant the fault anew"
    errs = check_secrets_script(ctx, script=broken)
    assert (any(e.startswith("dev: Secret pizza-relay") for e in errs)
            and any(e.startswith("prod: Secret pizza-relay") for e in errs)
            and any(e.startswith("stg: Secret pizza-payment-webhook") for e in errs)), errs

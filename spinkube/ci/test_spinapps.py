"""The SpinApps: what spin-operator's webhooks refuse (cross-object rules: the executor in
the SpinApp's namespace, replicas vs enableAutoscaling, invocationLimits within the
resources), the project's conventions (executor, one image, resources, tags), cheap probes,
the components against spin.toml (each SpinApp runs its own service's; the test payment
provider in dev only), the variables each SpinApp provides, only its own Secrets, no
`*.spin.internal` chaining across SpinApps (templated hosts resolved), and a real payment
provider outside dev."""
from __future__ import annotations

import re

import pytest

from gateway import route_path
from manifests import (DEV_ONLY, ENVS, EXECUTOR, EXTRA_COMPONENTS, NOT_DEPLOYED, PROVIDER_COMPONENT, PROVIDER_URL_VAR,
                       RELAY_COMPONENT, SELF_CONTAINED, SERVICE_SECRETS, SERVICES, Ctx, app_variable, config_data, find_obj,
                       generated_base, mutated, namespace_of, no_errors, quantity, ref_target, resolve_template,
                       runs_component, spinapp, spinapps)

RUNTIME_CLASS = "wasmtime-spin-v2"   # spin-operator's RuntimeClass for the Spin shim
# Spin's HTTP trigger answers this itself (crates/trigger-http/src/server.rs, WELL_KNOWN
# "health"): no component, no database. Readiness and liveness both use it, so a database
# blip neither takes pods out of their Services nor holds node drains on unready pods.
SPIN_HEALTH_PATH = "/.well-known/spin/health"
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*-[0-9a-f]{7,40}$")          # {branch}-{shortsha}
SEMVER_RE = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
CHAIN_RE = re.compile(r"^[a-z*]+://([^/:]+)\.spin\.internal(:\d+)?(/.*)?$")


def check_operator_webhooks(ctx: Ctx, envs=ENVS) -> list[str]:
    """What spin-operator's validating webhooks refuse (internal/webhook/
    spinapp_validating.go, spinappexecutor_validating.go), on the rendered objects:
    - a SpinApp's spec.executor must name a SpinAppExecutor in the SpinApp's own namespace
      (the webhook and the controller look it up there only);
    - replicas must not be set (non-zero) with enableAutoscaling, and must be >= 1 without;
    - deploymentAnnotations/podAnnotations only with an executor that has createDeployment;
    - invocationLimits.memory must be a quantity no larger than the memory limit (the
      request where there is no limit; unchecked where neither is set).
    The executor webhook's one rule (exactly one of runtimeClassName and spinImage) is part
    of its JSON Schema (schemas/spinappexecutor.core.spinkube.dev.json, a oneOf)."""
    errs = []
    for env in envs:
        executors = {(namespace_of(x), x["metadata"]["name"]): x for x in ctx.objs(env, "SpinAppExecutor")}
        for a in spinapps(ctx, env):
            s, ns = a.get("spec", {}), namespace_of(a)
            where = f"{env}: SpinApp/{a['metadata']['name']}"
            executor = executors.get((ns, s.get("executor")))
            if not s.get("executor"):
                errs.append(f"{where}: spec.executor must be set")
            elif executor is None:
                elsewhere = sorted(n for n, x in executors if x == s["executor"])
                errs.append(f"{where}: spec.executor {s['executor']!r}: no SpinAppExecutor of that name in namespace "
                            f"{ns} (the operator looks only there)" + (f"; found in {elsewhere}" if elsewhere else ""))
            replicas = s.get("replicas") or 0
            if s.get("enableAutoscaling") and replicas != 0:
                errs.append(f"{where}: replicas cannot be set when autoscaling is enabled")
            if not s.get("enableAutoscaling") and replicas < 1:
                errs.append(f"{where}: replicas must be > 0 without enableAutoscaling")
            if executor is not None and not executor.get("spec", {}).get("createDeployment"):
                for key in ("deploymentAnnotations", "podAnnotations"):
                    if s.get(key):
                        errs.append(f"{where}: {key} cannot be set when the executor does not create Deployments")
            limit = (s.get("invocationLimits") or {}).get("memory")
            if limit is not None:
                inv = quantity(limit)
                res = s.get("resources") or {}
                bound, what = next(((v, part[:-1]) for part in ("limits", "requests")
                                    for v in [(res.get(part) or {}).get("memory")] if v is not None), (None, ""))
                if inv is None:
                    errs.append(f"{where}: invocationLimits.memory {limit!r} is not a memory quantity (e.g. 128Mi)")
                elif bound is not None and quantity(bound) is not None and inv > quantity(bound):
                    errs.append(f"{where}: invocationLimits.memory {limit} is greater than the memory {what} {bound}")
    return errs


def check_spinapps(ctx: Ctx, envs=ENVS) -> list[str]:
    """Executor, one image, resources, invocation limits, labels, image tags."""
    errs = []
    for env in envs:
        apps = spinapps(ctx, env)
        for ns in sorted({namespace_of(a) for a in apps}):
            x = next((x for x in ctx.objs(env, "SpinAppExecutor")
                      if x["metadata"]["name"] == EXECUTOR and namespace_of(x) == ns), None)
            dc = ((x or {}).get("spec") or {}).get("deploymentConfig") or {}
            if x is None:
                errs.append(f"{env}: no SpinAppExecutor {EXECUTOR} rendered in namespace {ns}")
            elif not (x["spec"].get("createDeployment") and dc.get("runtimeClassName") == RUNTIME_CLASS
                      and dc.get("installDefaultCACerts") is True):
                errs.append(f"{env}: SpinAppExecutor {EXECUTOR} needs createDeployment: true, runtimeClassName "
                            f"{RUNTIME_CLASS} and installDefaultCACerts: true (CA bundle for TLS to PostgreSQL)")
        if sorted(a["metadata"]["name"] for a in apps) != sorted(SERVICES):
            errs.append(f"{env}: expected SpinApps {', '.join(SERVICES)}; got {[a['metadata']['name'] for a in apps]}")
        images = {a["spec"].get("image") for a in apps}
        if len(images) > 1:
            errs.append(f"{env}: SpinApps run different images {sorted(map(str, images))}; one artifact expected")
        for a in apps:
            n, s = a["metadata"]["name"], a["spec"]
            where = f"{env}: SpinApp/{n}"
            if s.get("executor") != EXECUTOR:
                errs.append(f"{where}: executor must be {EXECUTOR}")
            res = s.get("resources") or {}
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(part) or {}):
                        errs.append(f"{where}: resources.{part}.{r} missing")
            if not s.get("invocationLimits"):
                errs.append(f"{where}: invocationLimits missing")
            labels = s.get("podLabels") or {}
            if labels.get("pizza.shop/role") != "app" or labels.get("pizza.shop/service") != n:
                errs.append(f"{where}: podLabels need pizza.shop/role=app and pizza.shop/service={n}")
            scaled = [f"{h['kind']}/{h['metadata']['name']}" for kind in ("HorizontalPodAutoscaler", "HTTPScaledObject")
                      for h in ctx.objs(env, kind) if h["spec"]["scaleTargetRef"].get("name") == n]
            if scaled and not s.get("enableAutoscaling"):
                errs.append(f"{where}: enableAutoscaling must be true: {', '.join(scaled)} owns its replicas "
                            "(else spin-operator resets them)")
            elif not scaled and s.get("enableAutoscaling"):
                errs.append(f"{where}: enableAutoscaling is true, but no HPA or HTTPScaledObject scales it: "
                            "set replicas and enableAutoscaling false")
            tag = str(s.get("image", "")).rsplit(":", 1)[-1] if ":" in str(s.get("image", "")).rsplit("/", 1)[-1] else ""
            if env == "prod" and not SEMVER_RE.match(tag):
                errs.append(f"{where}: prod image tag {tag!r} must be SemVer")
            elif not (TAG_RE.match(tag) or SEMVER_RE.match(tag)):
                errs.append(f"{where}: image tag {tag!r} is neither {{branch}}-{{shortsha}} nor SemVer")
    return errs


def _probe_problem(ctx: Ctx, app: dict, path: str | None) -> str | None:
    """Why a probe on `path` is not cheap for SpinApp `app`, or None: Spin's built-in health
    path is; a route is only if the SpinApp runs its component and that component can reach
    nothing (no allowed_outbound_hosts, no variables: a database check is not a probe)."""
    if path == SPIN_HEALTH_PATH:
        return None
    served_by = [c for r, c in ctx.spin.routes if r is not None and route_path(r) == path]
    if not served_by or served_by[0] not in (app["spec"].get("components") or []):
        return f"{path} is served by {served_by or 'no component'}, which the SpinApp does not run"
    comp = ctx.spin.components.get(served_by[0], {})
    if comp.get("allowed_outbound_hosts") or comp.get("variables"):
        return (f"{path} ({served_by[0]}) reaches out ({', '.join(comp.get('allowed_outbound_hosts') or ['variables'])}): "
                "a database blip would make every pod unready and hold node drains")
    return None


def check_probes(ctx: Ctx, envs=ENVS) -> list[str]:
    """Readiness and liveness are cheap: Spin's /.well-known/spin/health (or a route whose
    component reaches nothing), never a database check, so a short database outage leaves
    every pod Ready (the app answers 503 with Retry-After meanwhile) and node drains are not
    held. The per-service database check stays deployed for monitoring: each SpinApp runs
    the component behind GET /api/<service>/healthz."""
    errs = []
    for env in envs:
        for a in spinapps(ctx, env):
            n, checks = a["metadata"]["name"], a["spec"].get("checks") or {}
            where = f"{env}: SpinApp/{n}"
            for kind in ("readiness", "liveness"):
                path = ((checks.get(kind) or {}).get("httpGet") or {}).get("path")
                if not path:
                    errs.append(f"{where}: no {kind} probe (httpGet path)")
                    continue
                prob = _probe_problem(ctx, a, path)
                if prob:
                    errs.append(f"{where}: {kind}: {prob}")
            monitor = f"/api/{n}/healthz"
            served_by = [c for r, c in ctx.spin.routes if r == monitor]
            if not served_by or served_by[0] not in (a["spec"].get("components") or []):
                errs.append(f"{where}: the database check {monitor} (for monitoring) is not served by this SpinApp")
    return errs


def check_components(ctx: Ctx, envs=ENVS) -> list[str]:
    """Every component a SpinApp names is in spin.toml, and each component of spin.toml runs
    in exactly one SpinApp of the overlay (NOT_DEPLOYED ones in none; DEV_ONLY ones, the
    test payment provider, in exactly one in dev and in none in stg/prod)."""
    errs = []
    for env in envs:
        deployed: dict[str, list] = {}
        for a in spinapps(ctx, env):
            for c in a["spec"].get("components") or []:
                if c not in ctx.spin.components:
                    errs.append(f"{env}: SpinApp/{a['metadata']['name']} names component {c!r}, not in spin.toml")
                deployed.setdefault(c, []).append(a["metadata"]["name"])
        for c in ctx.spin.components:
            where = deployed.get(c, [])
            if c in NOT_DEPLOYED:
                if where:
                    errs.append(f"{env}: component {c} is meant to stay undeployed ({NOT_DEPLOYED[c]}) but runs in {where}")
            elif c in DEV_ONLY and env != "dev":
                if where:
                    errs.append(f"{env}: component {c} ({DEV_ONLY[c]}) runs in {where}; it belongs to dev only")
            elif len(where) != 1:
                errs.append(f"{env}: component {c} runs in {len(where)} SpinApps {where}; expected exactly one")
    return errs


def check_own_components(ctx: Ctx, envs=ENVS) -> list[str]:
    """Each SpinApp runs only its own service's components, `<service>-*` (plus
    EXTRA_COMPONENTS: menu's docs-openapi, order's payment providers, admin's console). With check_components (every component of
    spin.toml runs in exactly one SpinApp) each SpinApp runs exactly its service's: a new
    admin-* component lands in the admin SpinApp or the check fails."""
    errs = []
    for env in envs:
        for a in spinapps(ctx, env):
            n = a["metadata"]["name"]
            for c in a["spec"].get("components") or []:
                if not c.startswith(f"{n}-") and c not in EXTRA_COMPONENTS.get(n, ()):
                    errs.append(f"{env}: SpinApp/{n} runs {c}, which is not one of the {n} service's "
                                f"components ({n}-*)")
    return errs


def check_own_secrets(ctx: Ctx, envs=ENVS) -> list[str]:
    """Each SpinApp reads only its own database Secret (pizza-<service>-db; besides it only
    pizza-jwt and its SERVICE_SECRETS: order's payment Secrets) and sets no other service's
    database URL variable, so a pod of one service never holds another role's password, nor
    any other service the payment provider's key."""
    errs = []
    others = {f"{svc}_db_url": svc for svc in SERVICES}
    for env in envs:
        for a in spinapps(ctx, env):
            n = a["metadata"]["name"]
            allowed = {"pizza-jwt", f"pizza-{n}-db", *SERVICE_SECRETS.get(n, ())}
            for v in a["spec"].get("variables") or []:
                ref = (v.get("valueFrom") or {}).get("secretKeyRef")
                if ref and generated_base(ref.get("name", "")) not in allowed:
                    errs.append(f"{env}: SpinApp/{n}: variable {v['name']} reads Secret {ref.get('name')}; "
                                f"it may read only {sorted(allowed)}")
                if others.get(v["name"], n) != n:
                    errs.append(f"{env}: SpinApp/{n} sets {v['name']}, the {others[v['name']]} service's database URL")
    return errs


def check_variables(ctx: Ctx, envs=ENVS) -> list[str]:
    """Every variable a selected component needs is provided; required app variables too.

    Spin keeps every app-level variable when a SpinApp selects components, and refuses to
    start while a `required` variable has no value - even one that no selected component
    uses. Secret variables a selected component reads must come from a Secret.
    """
    errs = []
    app_vars = ctx.spin.variables
    for env in envs:
        for a in spinapps(ctx, env):
            where = f"{env}: SpinApp/{a['metadata']['name']}"
            provided = {}
            for v in a["spec"].get("variables") or []:
                if v["name"] in provided:
                    errs.append(f"{where}: variable {v['name']} set twice")
                provided[v["name"]] = v
                if v["name"] not in app_vars:
                    errs.append(f"{where}: variable {v['name']!r} is not declared in spin.toml")
                if ("value" in v) == ("valueFrom" in v):
                    errs.append(f"{where}: variable {v['name']} needs exactly one of value/valueFrom")
                vf = v.get("valueFrom") or {}
                for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                    if key in vf:
                        prob = ref_target(ctx, env, kind, vf[key].get("name", ""), vf[key].get("key", ""))
                        if prob:
                            errs.append(f"{where}: variable {v['name']}: {prob}")
            needed = set()
            for c in a["spec"].get("components") or []:
                for var in ctx.spin.needed_variables(c):
                    needed.add(var)
                    if var not in app_vars:
                        errs.append(f"{where}: component {c} uses undeclared app variable {var}")
                    elif var not in provided:
                        errs.append(f"{where}: component {c} needs variable {var}, not provided")
                    elif app_vars[var].get("secret") and "secretKeyRef" not in (provided[var].get("valueFrom") or {}):
                        errs.append(f"{where}: secret variable {var} (used by {c}) must come from a Secret")
            for var in sorted(ctx.spin.required_variables() - set(provided)):
                errs.append(f"{where}: required app variable {var} not provided (Spin will not start)")
    return errs


def check_chaining(ctx: Ctx, envs=ENVS) -> list[str]:
    """No `*.spin.internal` chaining to a component outside the caller's SpinApp
    (spin-operator#357: selective deployment cannot chain across SpinApps). Templated hosts
    are resolved with the SpinApp's variables first: payments-provider's
    `{{ payment_provider_url }}` chains to the test provider in dev."""
    errs = []
    for env in envs:
        for a in spinapps(ctx, env):
            comps = set(a["spec"].get("components") or [])
            for c in comps:
                for raw in ctx.spin.components.get(c, {}).get("allowed_outbound_hosts") or []:
                    host = resolve_template(ctx, env, a["metadata"]["name"], raw) if "{{" in raw else raw
                    if host is None:
                        errs.append(f"{env}: {c} in SpinApp/{a['metadata']['name']}: allowed host {raw} uses a variable "
                                    "the SpinApp gives no plain value (and spin.toml no default)")
                        continue
                    m = CHAIN_RE.match(host)
                    if not m:
                        continue
                    target = m.group(1)
                    if target == "*" or "{{" in target:
                        errs.append(f"{env}: {c} in SpinApp/{a['metadata']['name']} uses wildcard/templated chaining {host}")
                    elif target not in comps:
                        errs.append(f"{env}: {c} chains to {target}, which SpinApp/{a['metadata']['name']} does not run")
    return errs


# What a component's spin.toml entry can use to reach outside its own wasm.
REACHES_OUT = ("variables", "allowed_outbound_hosts", "allowed_http_hosts", "key_value_stores", "sqlite_databases",
               "ai_models")


def check_self_contained(ctx: Ctx, envs=ENVS) -> list[str]:
    """SELF_CONTAINED components (the staff web console) reach nothing in any overlay: each
    runs in a SpinApp of every overlay, and spin.toml gives it no variables, no
    allowed_outbound_hosts (resolved with that SpinApp's variables, as Spin would) and no
    store, so it reads no Secret or setting, opens no database connection, chains to no
    component and needs no NetworkPolicy egress of its own; whatever its SpinApp's pods may
    reach is for the SpinApp's other components."""
    errs = []
    for env in envs:
        for c, why in SELF_CONTAINED.items():
            comp = ctx.spin.components.get(c)
            if comp is None:
                errs.append(f"{env}: {c} ({why}) is not in spin.toml")
                continue
            apps = runs_component(ctx, env, c)
            if not apps:
                errs.append(f"{env}: {c} ({why}) runs in no SpinApp")
            for key in REACHES_OUT:
                value = comp.get(key)
                if not value:
                    continue
                if key in ("allowed_outbound_hosts", "allowed_http_hosts"):
                    value = [h if "{{" not in str(h) else resolve_template(ctx, env, app, str(h)) or str(h)
                             for app in apps or [""] for h in value]
                errs.append(f"{env}: {c} ({why}) must reach nothing, but spin.toml gives it {key} {value}"
                            + (f" (in SpinApp/{apps[0]})" if len(apps) == 1 else ""))
    return errs


def check_payment_provider(ctx: Ctx, envs=ENVS) -> list[str]:
    """The payment pieces where they must be (docs/deploy.md, "Payments"): the relay and
    the provider component in one SpinApp (it chains to the provider), which alone holds the
    provider's key; in stg/prod payment_provider_url is a real provider's HTTPS origin (no
    path), never the test provider or another `*.spin.internal` host; in dev it stays the
    test provider in the same SpinApp (no real money from a dev deploy)."""
    errs = []
    for env in envs:
        relay, provider = runs_component(ctx, env, RELAY_COMPONENT), runs_component(ctx, env, PROVIDER_COMPONENT)
        if len(provider) != 1 or provider != relay:
            errs.append(f"{env}: {RELAY_COMPONENT} runs in {relay} and {PROVIDER_COMPONENT} in {provider}: "
                        "they belong in one SpinApp (the relay chains to the provider component)")
            continue
        app = provider[0]
        url = app_variable(ctx, env, app, PROVIDER_URL_VAR)
        where = f"{env}: SpinApp/{app}: {PROVIDER_URL_VAR} {url!r}"
        if url is None:
            errs.append(f"{where}: not given (spin.toml's default is the test provider)")
        elif env == "dev":
            test = next(iter(DEV_ONLY))
            if url.rstrip("/") != f"http://{test}.spin.internal":
                errs.append(f"{where}: dev pays through the test provider (http://{test}.spin.internal)")
        elif not re.fullmatch(r"https://[a-z0-9.-]+(:\d+)?/?", url) or ".spin.internal" in url:
            errs.append(f"{where}: {env} needs a real provider's HTTPS origin (https://host[:port], no path)")
        for a in spinapps(ctx, env):
            has = {v["name"] for v in a["spec"].get("variables") or []}
            if a["metadata"]["name"] != app and "payment_provider_key" in has:
                errs.append(f"{env}: SpinApp/{a['metadata']['name']} is given payment_provider_key; only {app} calls the provider")
    return errs


# =========================================================================== the rendered SpinApps
@pytest.mark.parametrize("env", ENVS)
def test_nothing_spin_operators_webhooks_refuse(ctx, env):
    no_errors(check_operator_webhooks(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_spinapp_conventions(ctx, env):
    """The containerd-shim-spin executor in each namespace, one image, resources, invocation
    limits, pod labels, autoscaling, tag format."""
    no_errors(check_spinapps(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_probes_are_cheap_and_the_database_check_stays_for_monitoring(ctx, env):
    no_errors(check_probes(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_components_exist_in_spin_toml_and_each_runs_once(ctx, env):
    no_errors(check_components(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_each_spinapp_runs_only_its_own_services_components(ctx, env):
    no_errors(check_own_components(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_each_spinapp_reads_only_its_own_database_secret(ctx, env):
    no_errors(check_own_secrets(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_each_spinapp_provides_the_variables_its_components_need(ctx, env):
    no_errors(check_variables(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_no_chaining_across_spinapps(ctx, env):
    no_errors(check_chaining(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_the_console_reaches_nothing_no_variables_no_outbound_hosts(ctx, env):
    no_errors(check_self_contained(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_payments_go_to_a_real_provider_outside_dev_and_the_test_provider_in_dev(ctx, env):
    no_errors(check_payment_provider(ctx, [env]))


# =========================================================================== planted faults
def test_webhook_check_catches_an_executor_missing_from_a_spinapps_namespace(ctx):
    def f(c):
        c.rendered["stg"] = [o for o in c.rendered["stg"] if o["kind"] != "SpinAppExecutor"]
        for o in c.rendered["prod"]:
            if o["kind"] == "SpinAppExecutor":
                o["metadata"]["namespace"] = "default"       # where the docs used to put it
        spinapp(c, "dev", "menu")["spec"]["executor"] = "containerd-shim-spin-v2"
    errs = check_operator_webhooks(mutated(ctx, f))
    assert len(errs) >= 7 and all("spec.executor" in e for e in errs), errs


def test_webhook_check_catches_replicas_with_enable_autoscaling_and_none_without(ctx):
    def f(c):
        spinapp(c, "dev", "login")["spec"]["replicas"] = 2
        s = spinapp(c, "stg", "order")["spec"]
        s["enableAutoscaling"] = False
        s.pop("replicas", None)
    errs = check_operator_webhooks(mutated(ctx, f))
    assert len(errs) >= 2 and all("replicas" in e for e in errs), errs


def test_webhook_check_catches_invocation_memory_past_the_memory_limit_or_request_or_no_quantity(ctx):
    def f(c):
        spinapp(c, "prod", "login")["spec"]["invocationLimits"]["memory"] = "300Mi"     # limit 256Mi
        spinapp(c, "prod", "menu")["spec"]["invocationLimits"]["memory"] = "lots"
        s = spinapp(c, "stg", "menu")["spec"]
        s["resources"]["limits"].pop("memory")
        s["invocationLimits"]["memory"] = "1Gi"                                     # > the request
    errs = check_operator_webhooks(mutated(ctx, f))
    assert len(errs) >= 3 and all("invocationLimits.memory" in e for e in errs), errs


def test_webhook_check_catches_pod_annotations_with_an_executor_that_creates_no_deployment(ctx):
    def f(c):
        find_obj(c, "dev", "SpinAppExecutor", EXECUTOR)["spec"]["createDeployment"] = False
        spinapp(c, "dev", "order")["spec"]["podAnnotations"] = {"a": "b"}
    errs = check_operator_webhooks(mutated(ctx, f))
    assert any("podAnnotations" in e for e in errs), errs


def test_spinapp_check_catches_an_executor_without_the_ca_bundle_and_none_in_a_namespace(ctx):
    def f(c):
        find_obj(c, "prod", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"]["installDefaultCACerts"] = False
        c.rendered["stg"] = [o for o in c.rendered["stg"] if o["kind"] != "SpinAppExecutor"]
    errs = check_spinapps(mutated(ctx, f))
    assert len(errs) >= 2, errs


def test_spinapp_check_catches_enable_autoscaling_without_a_scaler_and_off_under_keda_or_an_hpa(ctx):
    def f(c):
        spinapp(c, "prod", "admin")["spec"]["enableAutoscaling"] = True          # nothing scales admin in prod
        spinapp(c, "dev", "admin")["spec"]["enableAutoscaling"] = False          # KEDA does in dev
        spinapp(c, "stg", "login")["spec"]["enableAutoscaling"] = False          # the HPA does
    errs = check_spinapps(mutated(ctx, f))
    assert (any("prod: SpinApp/admin" in e and "no HPA or HTTPScaledObject" in e for e in errs)
            and any("dev: SpinApp/admin" in e and "HTTPScaledObject/admin" in e for e in errs)
            and any("stg: SpinApp/login" in e and "HorizontalPodAutoscaler/login" in e for e in errs)), errs


def test_spinapp_check_catches_a_missing_spinapp(ctx):
    def f(c):
        c.rendered["stg"] = [o for o in c.rendered["stg"]
                             if not (o["kind"] == "SpinApp" and o["metadata"]["name"] == "admin")]
    errs = check_spinapps(mutated(ctx, f))
    assert any("stg: expected SpinApps" in e for e in errs), errs


def test_spinapp_check_catches_a_prod_tag_that_is_not_semver(ctx):
    def f(c):
        for a in c.rendered["prod"]:
            if a["kind"] == "SpinApp":
                a["spec"]["image"] = "ghcr.io/pizza-shop/pizza:latest"
    errs = check_spinapps(mutated(ctx, f))
    assert any("prod" in e and "SemVer" in e for e in errs), errs


def test_probe_check_catches_a_database_readiness_check_a_liveness_route_that_reaches_out_and_no_monitoring(ctx):
    def f(c):
        spinapp(c, "prod", "login")["spec"]["checks"]["readiness"]["httpGet"]["path"] = "/api/login/healthz"
        spinapp(c, "dev", "order")["spec"]["checks"]["liveness"]["httpGet"]["path"] = "/api/menu/"
        spinapp(c, "stg", "menu")["spec"]["components"].remove("menu-healthz")
    errs = check_probes(mutated(ctx, f))
    assert (any("prod: SpinApp/login: readiness" in e and "database blip" in e for e in errs)
            and any("dev: SpinApp/order: liveness" in e for e in errs)
            and any("stg: SpinApp/menu" in e and "monitoring" in e for e in errs)), errs


def test_component_check_catches_a_component_missing_from_spin_toml(ctx):
    errs = check_components(mutated(ctx, lambda c: spinapp(c, "stg", "menu")["spec"]["components"].append("menu-lst")))
    assert any("menu-lst" in e and "not in spin.toml" in e for e in errs), errs


def test_own_component_check_catches_an_admin_component_in_another_spinapp_and_a_foreign_one_in_admin(ctx):
    def f(c):
        spinapp(c, "dev", "admin")["spec"]["components"].remove("admin-roles")
        spinapp(c, "dev", "login")["spec"]["components"].append("admin-roles")
        spinapp(c, "prod", "admin")["spec"]["components"].append("order-queue")
    mc = mutated(ctx, f)
    errs = check_own_components(mc)
    assert (any("dev: SpinApp/login runs admin-roles" in e for e in errs)
            and any("prod: SpinApp/admin runs order-queue" in e for e in errs)), errs
    # and check_components sees order-queue twice in prod (admin, order): each runs in exactly one SpinApp
    errs = check_components(mc)
    assert any("prod: component order-queue runs in 2 SpinApps" in e for e in errs), errs


def test_own_secret_check_catches_admin_reading_another_services_database_secret(ctx):
    def f(c):
        for v in spinapp(c, "stg", "admin")["spec"]["variables"]:
            if v["name"] == "admin_db_url":
                v["valueFrom"]["secretKeyRef"]["name"] = "pizza-order-db"
        spinapp(c, "prod", "admin")["spec"]["variables"].append(
            {"name": "login_db_url", "valueFrom": {"secretKeyRef": {"name": "pizza-admin-db", "key": "url"}}})
    errs = check_own_secrets(mutated(ctx, f))
    assert (any("stg: SpinApp/admin: variable admin_db_url reads Secret pizza-order-db" in e for e in errs)
            and any("prod: SpinApp/admin sets login_db_url" in e for e in errs)), errs


def test_variable_check_catches_a_secret_removed_from_the_admin_spinapp(ctx):
    def f(c):
        a = spinapp(c, "dev", "admin")["spec"]
        a["variables"] = [v for v in a["variables"] if v["name"] != "admin_db_url"]
    errs = check_variables(mutated(ctx, f))
    assert any("dev: SpinApp/admin" in e and "admin_db_url" in e and "not provided" in e for e in errs), errs


def test_variable_check_catches_a_missing_required_app_variable(ctx):
    def f(c):
        m = spinapp(c, "prod", "menu")["spec"]
        m["variables"] = [v for v in m["variables"] if v["name"] != "jwt_secret"]
    errs = check_variables(mutated(ctx, f))
    assert any("prod: SpinApp/menu" in e and "jwt_secret" in e for e in errs), errs


def test_variable_check_catches_a_secret_variable_given_as_a_literal(ctx):
    def f(c):
        for v in spinapp(c, "dev", "login")["spec"]["variables"]:
            if v["name"] == "jwt_secret":
                v.pop("valueFrom")
                v["value"] = "hunter2"
    errs = check_variables(mutated(ctx, f))
    assert any("dev: SpinApp/login" in e and "jwt_secret" in e and "Secret" in e for e in errs), errs


def test_variable_check_catches_a_component_variable_not_provided(ctx):
    def f(c):
        o = spinapp(c, "stg", "order")["spec"]
        o["variables"] = [v for v in o["variables"] if v["name"] != "shop_timezone"]
    errs = check_variables(mutated(ctx, f))
    assert any("stg: SpinApp/order" in e and "shop_timezone" in e for e in errs), errs


def test_chaining_check_catches_a_spin_internal_call_across_spinapps(ctx):
    def f(c):
        c.spin.components["order-create"] = dict(c.spin.components["order-create"])
        c.spin.components["order-create"]["allowed_outbound_hosts"] = ["http://login-verify.spin.internal"]
    errs = check_chaining(mutated(ctx, f))
    assert any("order-create chains to login-verify" in e for e in errs), errs


def test_chaining_check_resolves_the_provider_url_and_catches_the_test_provider_outside_dev(ctx):
    """stg pointed at the test provider: payments-provider would chain to a component its
    SpinApp does not run (and the payment check says stg needs a real provider)."""
    def f(c):
        config_data(c, "stg")[PROVIDER_URL_VAR] = "http://payments-test-provider.spin.internal"
    mc = mutated(ctx, f)
    errs = check_chaining(mc)
    assert any("stg: payments-provider chains to payments-test-provider" in e for e in errs), errs
    errs = check_payment_provider(mc)
    assert any(e.startswith("stg: SpinApp/order: payment_provider_url") for e in errs), errs


def test_component_check_catches_the_test_provider_in_prod_and_missing_from_dev(ctx):
    def f(c):
        spinapp(c, "prod", "order")["spec"]["components"].append("payments-test-provider")
        spinapp(c, "dev", "order")["spec"]["components"].remove("payments-test-provider")
    errs = check_components(mutated(ctx, f))
    assert (any("prod: component payments-test-provider" in e and "dev only" in e for e in errs)
            and any("dev: component payments-test-provider runs in 0 SpinApps" in e for e in errs)), errs


def test_payment_check_catches_the_provider_apart_from_the_relay_a_plain_http_provider_and_the_key_elsewhere(ctx):
    def f(c):
        spinapp(c, "dev", "order")["spec"]["components"].remove("payments-provider")
        spinapp(c, "dev", "admin")["spec"]["components"].append("payments-provider")
        config_data(c, "prod")[PROVIDER_URL_VAR] = "http://api.payments.example"
        spinapp(c, "stg", "admin")["spec"]["variables"].append(
            {"name": "payment_provider_key", "valueFrom": {"secretKeyRef": {"name": "pizza-payment-provider",
                                                                            "key": "payment_provider_key"}}})
    mc = mutated(ctx, f)
    errs = check_payment_provider(mc)
    assert (any(e.startswith("dev: order-relay runs in ['order'] and payments-provider in ['admin']") for e in errs)
            and any(e.startswith("prod: SpinApp/order: payment_provider_url") and "HTTPS" in e for e in errs)
            and any(e.startswith("stg: SpinApp/admin is given payment_provider_key") for e in errs)), errs
    errs = check_own_secrets(mc)
    assert any("stg: SpinApp/admin: variable payment_provider_key reads Secret pizza-payment-provider" in e
               for e in errs), errs


def test_self_contained_check_catches_the_console_given_a_variable_and_a_database_host_or_left_out(ctx):
    def f(c):
        console = dict(c.spin.components["console"])
        console["variables"] = {"db_url": "{{ admin_db_url }}"}
        console["allowed_outbound_hosts"] = ["postgres://{{ db_host }}"]
        c.spin.components["console"] = console
        spinapp(c, "stg", "admin")["spec"]["components"].remove("console")
    mc = mutated(ctx, f)
    errs = check_self_contained(mc)
    assert (any(e.startswith("dev: console") and "variables {'db_url'" in e for e in errs)
            and any(e.startswith("prod: console") and "postgres://pizza-db-pooler-admin.pizza-prod.svc.cluster.local:5432" in e
                    for e in errs)
            and any(e.startswith("stg: console") and "runs in no SpinApp" in e for e in errs)), errs
    # and with the variable provided (admin has admin_db_url) the other checks see nothing wrong:
    # only this check keeps the console from quietly reaching the database
    assert not any("console" in e for e in check_variables(mc, ["dev", "prod"]) + check_chaining(mc)), errs


def test_own_component_check_catches_the_console_in_another_spinapp(ctx):
    def f(c):
        spinapp(c, "dev", "admin")["spec"]["components"].remove("console")
        spinapp(c, "dev", "menu")["spec"]["components"].append("console")
    errs = check_own_components(mutated(ctx, f))
    assert any("dev: SpinApp/menu runs console" in e for e in errs), errs

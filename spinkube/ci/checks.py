#!/usr/bin/env python3
"""Cluster-free checks of spinkube/ (run by spinkube/ci/check.sh).

Every check is a function returning a list of problems (empty = pass) and runs on the
rendered output of all three overlays. The self-tests at the end feed each check a broken
input (a temp dir or a mutated copy of the rendered manifests) and pass only if the check
reports it, so no check can silently stop checking.
Prints one line per check and ends with `N passed, M failed`.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SPINKUBE = os.path.dirname(HERE)
ROOT = os.path.dirname(SPINKUBE)
sys.path.insert(0, os.path.join(SPINKUBE, "tools"))
sys.path.insert(0, HERE)

import crd_schemas  # noqa: E402
import kustomize_lite  # noqa: E402
import sync_migrations  # noqa: E402

ENVS = ("dev", "stg", "prod")
K8S_VERSION = "1.33.0"           # the oldest Kubernetes minor we support
EXECUTOR = "containerd-shim-spin"
LIVENESS_PATH = "/.well-known/spin/health"
APP_PORT = 80                    # spin-operator's Service and container port
POSTGRES_PORT = 5432
DNS_PORT = 53
# Components deliberately run by no SpinApp: the app-wide probes exist for `spin up`;
# on Kubernetes liveness uses Spin's built-in /.well-known/spin/health and readiness the
# per-service <service>-healthz components, so none needs every service's database URL.
NOT_DEPLOYED = {"healthz": "app-wide readiness for spin up", "livez": "app-wide liveness for spin up"}
# Secrets that stg/prod expect to exist already (docs/deploy.md step 4, or
# spinkube/scripts/create-secrets.sh); name -> keys.
EXTERNAL_SECRETS = {
    "pizza-jwt": {"jwt_secret"},
    "pizza-db-admin": {"url"},
    "pizza-login-db": {"url", "password"},
    "pizza-menu-db": {"url", "password"},
    "pizza-order-db": {"url", "password"},
    "pizza-db-ca": {"ca.crt"},
}
# Who may talk to the app pods: (namespace, pod label key, value); keda only where used.
INGRESS_CONTROLLER = ("ingress-nginx", "app.kubernetes.io/name", "ingress-nginx")
KEDA_INTERCEPTOR = ("keda", "app.kubernetes.io/component", "interceptor")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*-[0-9a-f]{7,40}$")          # {branch}-{shortsha}
SEMVER_RE = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
CORE_GROUPS = kustomize_lite.BUILTIN_GROUPS
TEMPLATE_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
CHAIN_RE = re.compile(r"^[a-z*]+://([^/:]+)\.spin\.internal(:\d+)?(/.*)?$")


# =========================================================================== spin.toml
@dataclass
class SpinManifest:
    variables: dict                     # name -> {required, secret, default}
    components: dict                    # id -> {"variables": {...}, "allowed_outbound_hosts": [...]}
    routes: list                        # (route or None if private, component)

    @classmethod
    def load(cls, path: str) -> "SpinManifest":
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        routes = []
        for trig in raw.get("trigger", {}).get("http", []):
            r = trig.get("route")
            routes.append((None if isinstance(r, dict) and r.get("private") else r, trig["component"]))
        return cls(raw.get("variables", {}), raw.get("component", {}), routes)

    def public_routes(self, component: str) -> list[str]:
        return [r for r, c in self.routes if c == component and r is not None]

    def is_private(self, component: str) -> bool:
        return any(r is None and c == component for r, c in self.routes)

    def needed_variables(self, component: str) -> set[str]:
        comp = self.components.get(component, {})
        texts = list((comp.get("variables") or {}).values()) + list(comp.get("allowed_outbound_hosts") or [])
        return {m for t in texts for m in TEMPLATE_RE.findall(str(t))}

    def required_variables(self) -> set[str]:
        return {n for n, v in self.variables.items() if v.get("required")}


# =========================================================================== context
@dataclass
class Ctx:
    spin: SpinManifest
    rendered: dict = field(default_factory=dict)     # env -> [objects]
    render_errors: dict = field(default_factory=dict)

    def objs(self, env: str, kind: str | None = None) -> list[dict]:
        return [o for o in self.rendered.get(env, []) if kind is None or o.get("kind") == kind]

    def find(self, env: str, kind: str, name: str) -> dict | None:
        for o in self.objs(env, kind):
            if o["metadata"]["name"] == name:
                return o
        return None


def load_ctx(root: str = ROOT) -> Ctx:
    ctx = Ctx(SpinManifest.load(os.path.join(root, "spin.toml")))
    for env in ENVS:
        try:
            ctx.rendered[env] = kustomize_lite.build(os.path.join(root, "spinkube", "overlays", env))
        except Exception as exc:  # noqa: BLE001 - reported as a check failure
            ctx.render_errors[env] = str(exc)
            ctx.rendered[env] = []
    return ctx


def spinapps(ctx: Ctx, env: str) -> list[dict]:
    return ctx.objs(env, "SpinApp")


def generated_base(name: str) -> str:
    """pizza-jwt-7c9k2mh5bt -> pizza-jwt (strip kustomize's hash suffix)."""
    m = re.match(r"^(.*)-[a-z0-9]{10}$", name)
    return m.group(1) if m else name


# =========================================================================== checks
def check_yaml_parses(directory: str = SPINKUBE) -> list[str]:
    errs = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if d not in (".venv", "__pycache__", ".deploy")]
        for f in filenames:
            if f.endswith((".yaml", ".yml")) or f == "Kustomization":
                p = os.path.join(dirpath, f)
                try:
                    with open(p, encoding="utf-8") as fh:
                        list(yaml.safe_load_all(fh))
                except yaml.YAMLError as exc:
                    errs.append(f"{os.path.relpath(p, directory)}: {str(exc).splitlines()[0]}")
    return errs


def check_renders(ctx: Ctx) -> list[str]:
    errs = [f"{env}: {msg}" for env, msg in ctx.render_errors.items()]
    for env in ENVS:
        if env not in ctx.render_errors and not ctx.rendered.get(env):
            errs.append(f"{env}: rendered nothing")
    return errs


def _kustomization_dirs(directory: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if d not in (".venv", "__pycache__", ".deploy")]
        if any(n in filenames for n in kustomize_lite.KUSTOMIZATION_NAMES):
            out.append(dirpath)
    return out


def check_overlay_refs(directory: str = SPINKUBE) -> list[str]:
    """Every file or folder a kustomization names exists (and files stay inside its root).

    Covers the kustomizations under `directory` and those they name as resource folders
    elsewhere (migrations/, which builds the migrations ConfigMap)."""
    errs = []
    queue = _kustomization_dirs(directory)
    seen = {os.path.realpath(d) for d in queue}
    while queue:
        kdir = queue.pop(0)
        rel = os.path.relpath(kdir, directory)
        with open(kustomize_lite.find_kustomization(kdir), encoding="utf-8") as fh:
            kz = yaml.safe_load(fh) or {}

        def need_file(p, what):
            full = os.path.normpath(os.path.join(kdir, p))
            if not os.path.isfile(full):
                errs.append(f"{rel}: {what} '{p}' does not exist")
            elif not kustomize_lite._inside(kdir, full):
                errs.append(f"{rel}: {what} '{p}' is outside the kustomization root")

        for r in kz.get("resources", []) or []:
            full = os.path.normpath(os.path.join(kdir, r))
            if os.path.isdir(full):
                try:
                    kustomize_lite.find_kustomization(full)
                except kustomize_lite.KustomizeError:
                    errs.append(f"{rel}: resource folder '{r}' has no kustomization")
                    continue
                if os.path.realpath(full) not in seen:
                    seen.add(os.path.realpath(full))
                    queue.append(full)
            else:
                need_file(r, "resource")
        for p in kz.get("patches", []) or []:
            if "path" in p:
                need_file(p["path"], "patch")
        for c in kz.get("configurations", []) or []:
            need_file(c, "configuration")
        for key in ("configMapGenerator", "secretGenerator"):
            for g in kz.get(key, []) or []:
                for f in g.get("files", []) or []:
                    need_file(f.split("=", 1)[-1], f"{key} file")
                for f in g.get("envs", []) or []:
                    need_file(f, f"{key} env file")
    for env in ENVS:
        if not os.path.isdir(os.path.join(directory, "overlays", env)):
            errs.append(f"overlay {env} missing")
    return errs


def check_core_schemas(ctx: Ctx) -> list[str]:
    import kubernetes_validate  # installed by check.sh
    errs = []
    for env in ENVS:
        for o in ctx.objs(env):
            api = o.get("apiVersion", "")
            group = api.split("/")[0] if "/" in api else ""
            if group not in CORE_GROUPS:
                continue
            try:
                kubernetes_validate.validate(o, K8S_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = "/".join(str(p) for p in exc.path)
                errs.append(f"{env}: {o['kind']}/{o['metadata'].get('name')}: {path}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                errs.append(f"{env}: no Kubernetes {K8S_VERSION} schema for {api} {o['kind']}")
    return errs


def check_crd_schemas(ctx: Ctx) -> list[str]:
    errs = []
    for env in ENVS:
        for o in ctx.objs(env):
            api = o.get("apiVersion", "")
            group = api.split("/")[0] if "/" in api else ""
            if group in CORE_GROUPS:
                continue
            schema = crd_schemas.SCHEMAS.get((api, o.get("kind")))
            name = f"{env}: {o.get('kind')}/{o.get('metadata', {}).get('name')}"
            if schema is None:
                errs.append(f"{name}: no schema for {api} (add one to ci/crd_schemas.py)")
                continue
            errs += [f"{name}: {e}" for e in crd_schemas.validate(o, schema)]
            spec = o.get("spec", {})
            if o["kind"] == "SpinApp" and spec.get("enableAutoscaling") and "replicas" in spec:
                errs.append(f"{name}: replicas cannot be set with enableAutoscaling (operator webhook)")
    return errs


def check_spinapps(ctx: Ctx) -> list[str]:
    """Executor, one image, probes, resources, invocation limits, labels."""
    errs = []
    for env in ENVS:
        apps = spinapps(ctx, env)
        if sorted(a["metadata"]["name"] for a in apps) != ["login", "menu", "order"]:
            errs.append(f"{env}: expected SpinApps login, menu, order; got {[a['metadata']['name'] for a in apps]}")
        images = {a["spec"].get("image") for a in apps}
        if len(images) > 1:
            errs.append(f"{env}: SpinApps run different images {sorted(map(str, images))}; one artifact expected")
        for a in apps:
            n, s = a["metadata"]["name"], a["spec"]
            where = f"{env}: SpinApp/{n}"
            if s.get("executor") != EXECUTOR:
                errs.append(f"{where}: executor must be {EXECUTOR}")
            ready = (((s.get("checks") or {}).get("readiness") or {}).get("httpGet") or {}).get("path")
            live = (((s.get("checks") or {}).get("liveness") or {}).get("httpGet") or {}).get("path")
            if ready != f"/api/{n}/healthz":
                errs.append(f"{where}: readiness path {ready!r}, expected /api/{n}/healthz")
            else:
                served_by = [c for r, c in ctx.spin.routes if r == ready]
                if not served_by or served_by[0] not in (s.get("components") or []):
                    errs.append(f"{where}: readiness route {ready} is served by {served_by}, which the SpinApp does not run")
            if live != LIVENESS_PATH:
                errs.append(f"{where}: liveness path {live!r}, expected {LIVENESS_PATH}")
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
            if not s.get("enableAutoscaling"):
                errs.append(f"{where}: enableAutoscaling must be true (KEDA or the HPA owns replicas)")
            tag = str(s.get("image", "")).rsplit(":", 1)[-1] if ":" in str(s.get("image", "")).rsplit("/", 1)[-1] else ""
            if env == "prod" and not SEMVER_RE.match(tag):
                errs.append(f"{where}: prod image tag {tag!r} must be SemVer")
            elif not (TAG_RE.match(tag) or SEMVER_RE.match(tag)):
                errs.append(f"{where}: image tag {tag!r} is neither {{branch}}-{{shortsha}} nor SemVer")
    return errs


def check_components_exist(ctx: Ctx) -> list[str]:
    errs = []
    deployed: dict[str, list] = {}
    for env in ENVS:
        for a in spinapps(ctx, env):
            for c in a["spec"].get("components") or []:
                if c not in ctx.spin.components:
                    errs.append(f"{env}: SpinApp/{a['metadata']['name']} names component {c!r}, not in spin.toml")
                if env == "prod":
                    deployed.setdefault(c, []).append(a["metadata"]["name"])
    for c in ctx.spin.components:
        where = deployed.get(c, [])
        if c in NOT_DEPLOYED:
            if where:
                errs.append(f"component {c} is meant to stay undeployed ({NOT_DEPLOYED[c]}) but runs in {where}")
        elif len(where) != 1:
            errs.append(f"component {c} runs in {len(where)} SpinApps {where}; expected exactly one")
    return errs


def _ref_target(ctx: Ctx, env: str, kind: str, name: str, key: str) -> str | None:
    """None if ok, else a problem. Generated objects carry a hash suffix."""
    for o in ctx.objs(env, kind):
        if o["metadata"]["name"] == name:
            data = o.get("data") or {}
            return None if key in data else f"{kind} {name} has no key {key!r}"
    base = generated_base(name)
    if kind == "Secret" and base == name and name in EXTERNAL_SECRETS:
        return None if key in EXTERNAL_SECRETS[name] else f"external Secret {name} has no key {key!r}"
    return f"{kind} {name} is neither rendered nor a documented external Secret"


def check_variables(ctx: Ctx) -> list[str]:
    """Every variable a selected component needs is provided; required app variables too.

    Spin keeps every app-level variable when a SpinApp selects components, and refuses to
    start while a `required` variable has no value - even one that no selected component
    uses. Secret variables a selected component reads must come from a Secret.
    """
    errs = []
    app_vars = ctx.spin.variables
    for env in ENVS:
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
                        prob = _ref_target(ctx, env, kind, vf[key].get("name", ""), vf[key].get("key", ""))
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


def _route_path(route: str) -> str:
    return route[:-4] + "/probe" if route.endswith("/...") else route


def _ingress_match(path: str, rule_path: str, path_type: str) -> bool:
    if path_type == "Exact":
        return path == rule_path
    p = rule_path.rstrip("/")
    return p == "" or path == p or path.startswith(p + "/")


def _ingress_routes(ctx: Ctx, env: str) -> list[tuple[str, str, str, str]]:
    """(host, path, pathType, SpinApp or problem) for each Ingress path, with the KEDA
    interceptor resolved through the HTTPScaledObjects."""
    out = []
    apps = {a["metadata"]["name"] for a in spinapps(ctx, env)}
    for ing in ctx.objs(env, "Ingress"):
        for rule in ing["spec"].get("rules", []):
            host = rule.get("host", "")
            for p in (rule.get("http") or {}).get("paths", []):
                svc_name = p["backend"]["service"]["name"]
                port = p["backend"]["service"]["port"].get("number")
                svc = ctx.find(env, "Service", svc_name)
                target = f"?unknown backend {svc_name}"
                if svc and svc["spec"].get("type") == "ExternalName" and "interceptor" in svc["spec"].get("externalName", ""):
                    hits = [h for h in ctx.objs(env, "HTTPScaledObject")
                            if host in (h["spec"].get("hosts") or [])
                            and any(_ingress_match(p["path"], pp, "Prefix") for pp in h["spec"].get("pathPrefixes") or ["/"])]
                    if len(hits) == 1:
                        ref = hits[0]["spec"]["scaleTargetRef"]
                        target = ref.get("service") if ref.get("port") == APP_PORT else f"?HTTPScaledObject port {ref.get('port')}"
                    else:
                        target = f"?{len(hits)} HTTPScaledObjects match {host}{p['path']}"
                elif svc_name in apps:
                    target = svc_name if port == APP_PORT else f"?port {port} (SpinApp Services listen on {APP_PORT})"
                out.append((host, p["path"], p.get("pathType", "Prefix"), target))
    return out


def check_routes(ctx: Ctx) -> list[str]:
    """Public routes of deployed components are reachable through the Ingress at the
    SpinApp that runs them; private components and undeployed ones are not."""
    errs = []
    for env in ENVS:
        table = _ingress_routes(ctx, env)
        if not table:
            errs.append(f"{env}: no Ingress paths")
            continue
        for host, path, ptype, target in table:
            if target.startswith("?"):
                errs.append(f"{env}: Ingress {host}{path}: {target[1:]}")
        runs = {c: a["metadata"]["name"] for a in spinapps(ctx, env) for c in a["spec"].get("components") or []}
        for route, comp in ctx.spin.routes:
            if route is None:
                continue
            path = _route_path(route)
            matches = [t for t in table if _ingress_match(path, t[1], t[2])]
            best = max(matches, key=lambda t: len(t[1]), default=None)
            if comp in NOT_DEPLOYED:
                continue
            if ctx.spin.is_private(comp):
                if best:
                    errs.append(f"{env}: private component {comp} is reachable through the Ingress at {route}")
                continue
            if best is None:
                errs.append(f"{env}: public route {route} ({comp}) is not routed by the Ingress")
            elif best[3] != runs.get(comp):
                errs.append(f"{env}: {route} ({comp}) goes to {best[3]!r}, but {comp} runs in {runs.get(comp)!r}")
        # every Ingress path leads somewhere that serves something under it
        for host, ipath, ptype, target in table:
            if target.startswith("?"):
                continue
            app = next((a for a in spinapps(ctx, env) if a["metadata"]["name"] == target), None)
            served = [r for c in (app["spec"].get("components") or []) for r in ctx.spin.public_routes(c)] if app else []
            if not any(_ingress_match(_route_path(r), ipath, ptype) for r in served):
                errs.append(f"{env}: Ingress path {ipath} leads to {target}, which serves no route under it")
    return errs


def check_chaining(ctx: Ctx) -> list[str]:
    """No `*.spin.internal` chaining to a component outside the caller's SpinApp
    (spin-operator#357: selective deployment cannot chain across SpinApps)."""
    errs = []
    for env in ENVS:
        for a in spinapps(ctx, env):
            comps = set(a["spec"].get("components") or [])
            for c in comps:
                for host in ctx.spin.components.get(c, {}).get("allowed_outbound_hosts") or []:
                    m = CHAIN_RE.match(host)
                    if not m:
                        continue
                    target = m.group(1)
                    if target == "*" or "{{" in target:
                        errs.append(f"{env}: {c} in SpinApp/{a['metadata']['name']} uses wildcard/templated chaining {host}")
                    elif target not in comps:
                        errs.append(f"{env}: {c} chains to {target}, which SpinApp/{a['metadata']['name']} does not run")
    return errs


def _selects(selector: dict, labels: dict) -> bool:
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        val, op = labels.get(e["key"]), e["operator"]
        if op == "In" and val not in e.get("values", []):
            return False
        if op == "NotIn" and val in e.get("values", []):
            return False
        if op == "Exists" and e["key"] not in labels:
            return False
        if op == "DoesNotExist" and e["key"] in labels:
            return False
    return True


def check_scaling(ctx: Ctx) -> list[str]:
    errs = []
    for env in ENVS:
        for a in spinapps(ctx, env):
            n = a["metadata"]["name"]
            labels = a["spec"].get("podLabels") or {}
            hsos = [h for h in ctx.objs(env, "HTTPScaledObject") if h["spec"]["scaleTargetRef"].get("name") == n]
            hpas = [h for h in ctx.objs(env, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"].get("name") == n]
            pdbs = [p for p in ctx.objs(env, "PodDisruptionBudget") if _selects(p["spec"].get("selector") or {}, labels)]
            where = f"{env}: SpinApp/{n}"
            if env == "dev":
                if len(hsos) != 1 or hpas:
                    errs.append(f"{where}: dev needs exactly one HTTPScaledObject and no HPA")
                    continue
                ref, rep = hsos[0]["spec"]["scaleTargetRef"], hsos[0]["spec"].get("replicas") or {}
                if ref.get("kind", "Deployment") != "Deployment" or ref.get("service") != n or ref.get("port") != APP_PORT:
                    errs.append(f"{where}: HTTPScaledObject must target Deployment {n}, Service {n}:{APP_PORT}")
                if rep.get("min") != 0:
                    errs.append(f"{where}: dev must scale to zero (replicas.min 0)")
            else:
                if len(hpas) != 1 or hsos:
                    errs.append(f"{where}: {env} needs exactly one HPA and no HTTPScaledObject")
                    continue
                h = hpas[0]["spec"]
                ref = h["scaleTargetRef"]
                if (ref.get("apiVersion"), ref.get("kind")) != ("apps/v1", "Deployment"):
                    errs.append(f"{where}: HPA must target the apps/v1 Deployment {n}")
                if (h.get("minReplicas") or 1) < 2:
                    errs.append(f"{where}: HPA minReplicas must be at least 2")
                if not any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu" for m in h.get("metrics") or []):
                    errs.append(f"{where}: HPA must scale on CPU")
                if len(pdbs) != 1:
                    errs.append(f"{where}: needs exactly one PodDisruptionBudget selecting its pods, found {len(pdbs)}")
    return errs


def _peer_ok(peer: dict, allowed: list[tuple]) -> bool:
    ns = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
    pod = (peer.get("podSelector") or {}).get("matchLabels") or {}
    for a_ns, key, val in allowed:
        if ns == {"kubernetes.io/metadata.name": a_ns} and pod.get(key) == val:
            return True
    return False


def check_networkpolicies(ctx: Ctx) -> list[str]:
    """App pods: in only from the ingress controller (+ KEDA interceptor in dev) on 80;
    app and migration pods: out only to DNS (53) and PostgreSQL (5432)."""
    errs = []
    for env in ENVS:
        nps = ctx.objs(env, "NetworkPolicy")
        if not any(np["spec"].get("podSelector") == {} and set(np["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
                   and not np["spec"].get("ingress") and not np["spec"].get("egress") for np in nps):
            errs.append(f"{env}: no default-deny NetworkPolicy (podSelector {{}}, Ingress+Egress)")
        allowed_in = [INGRESS_CONTROLLER] + ([KEDA_INTERCEPTOR] if ctx.objs(env, "HTTPScaledObject") else [])
        db_pods = [o["spec"]["template"]["metadata"]["labels"] for o in ctx.objs(env, "StatefulSet")
                   if o["spec"]["template"]["metadata"].get("labels", {}).get("pizza.shop/role") == "db"]
        for role in ("app", "migrate"):
            labels = {"pizza.shop/role": role}
            sel = [np for np in nps if _selects(np["spec"].get("podSelector") or {}, labels)]
            egress_ports = set()
            for np in sel:
                name = f"{env}: NetworkPolicy/{np['metadata']['name']}"
                for rule in np["spec"].get("ingress") or []:
                    if role != "app":
                        errs.append(f"{name}: {role} pods must accept no traffic")
                    peers = rule.get("from") or []
                    if not peers or not all(_peer_ok(p, allowed_in) for p in peers):
                        errs.append(f"{name}: ingress from {peers or 'anywhere'} is not the ingress controller/interceptor")
                    ports = rule.get("ports") or []
                    if not ports or any(p.get("port") != APP_PORT for p in ports):
                        errs.append(f"{name}: ingress ports must be exactly {APP_PORT}")
                for rule in np["spec"].get("egress") or []:
                    ports = {p.get("port") for p in rule.get("ports") or []}
                    peers = rule.get("to") or []
                    if not ports or not peers:
                        errs.append(f"{name}: egress rule without ports or peers allows too much")
                        continue
                    if ports == {DNS_PORT}:
                        if not all(_peer_ok(p, [("kube-system", "k8s-app", "kube-dns")]) for p in peers):
                            errs.append(f"{name}: DNS egress must go to kube-dns only")
                    elif ports == {POSTGRES_PORT}:
                        for p in peers:
                            cidr = (p.get("ipBlock") or {}).get("cidr", "")
                            if cidr:
                                if cidr.endswith("/0") or (p["ipBlock"].get("except")):
                                    errs.append(f"{name}: PostgreSQL egress to {cidr} is too wide")
                            elif not any(_selects(p.get("podSelector") or {"matchLabels": {"x": "y"}}, d) for d in db_pods) or "namespaceSelector" in p:
                                errs.append(f"{name}: PostgreSQL egress peer {p} is not the database")
                    else:
                        errs.append(f"{name}: egress ports {sorted(map(str, ports))} are neither DNS nor PostgreSQL")
                    egress_ports |= ports
            if egress_ports != {DNS_PORT, POSTGRES_PORT}:
                errs.append(f"{env}: {role} pods may reach ports {sorted(egress_ports)}; they need exactly DNS and PostgreSQL")
    return errs


def check_migrations(ctx: Ctx, root: str = ROOT) -> list[str]:
    errs = list(sync_migrations.problems(root))
    names = sorted(n for n in os.listdir(os.path.join(root, "migrations")) if n.endswith(".sql"))
    script = open(os.path.join(root, "spinkube", "base", "migrate", "migrate.sh"), encoding="utf-8").read()
    for needle in ("schema_migrations", "ON_ERROR_STOP", "BEGIN;", "COMMIT;", "ALTER ROLE pizza_$svc WITH LOGIN PASSWORD"):
        if needle not in script:
            errs.append(f"migrate.sh lacks {needle!r}")
    if shutil.which("sh"):
        r = subprocess.run(["sh", "-n", os.path.join(root, "spinkube", "base", "migrate", "migrate.sh")],
                           capture_output=True, text=True)
        if r.returncode:
            errs.append(f"migrate.sh: {r.stderr.strip()}")
    for env in ENVS:
        job = ctx.find(env, "Job", "pizza-migrate")
        if not job:
            errs.append(f"{env}: no Job pizza-migrate")
            continue
        pod = job["spec"]["template"]["spec"]
        c = pod["containers"][0]
        if not str(c.get("image", "")).startswith("postgres:"):
            errs.append(f"{env}: migration Job must use the official postgres image")
        vols = {v["name"]: v for v in pod.get("volumes", [])}
        cm_name = (vols.get("migrations", {}).get("configMap") or {}).get("name", "")
        cm = ctx.find(env, "ConfigMap", cm_name)
        if not cm or generated_base(cm_name) != "pizza-migrations":
            errs.append(f"{env}: Job does not mount the pizza-migrations ConfigMap")
        elif cm_name == "pizza-migrations":
            errs.append(f"{env}: pizza-migrations has no content hash in its name (a new migration would not change the Job)")
        elif sorted(cm.get("data", {})) != names:
            errs.append(f"{env}: pizza-migrations holds {sorted(cm.get('data', {}))}, migrations/ has {names}")
        else:
            for n in names:
                with open(os.path.join(root, "migrations", n), encoding="utf-8") as fh:
                    if cm["data"][n] != fh.read():
                        errs.append(f"{env}: pizza-migrations[{n}] differs from migrations/{n}")
        for e in c.get("env", []):
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                prob = _ref_target(ctx, env, "Secret", ref["name"], ref["key"])
                if prob:
                    errs.append(f"{env}: Job env {e['name']}: {prob}")
        if "pizza.shop/rollout" in job["metadata"].get("labels", {}):
            errs.append(f"{env}: the Job must not carry pizza.shop/rollout (it runs before the SpinApps)")
    return errs


def check_dev_database(ctx: Ctx) -> list[str]:
    """dev's generated secrets agree with db_host (Spin's allowed_outbound_hosts) and roles."""
    import base64
    from urllib.parse import urlsplit
    errs = []
    cfg = next((o for o in ctx.objs("dev", "ConfigMap") if generated_base(o["metadata"]["name"]) == "pizza-config"), None)
    if not cfg:
        return ["dev: no pizza-config ConfigMap"]
    db_host = cfg["data"].get("db_host", "")
    for svc in ("login", "menu", "order"):
        sec = next((o for o in ctx.objs("dev", "Secret") if generated_base(o["metadata"]["name"]) == f"pizza-{svc}-db"), None)
        if not sec:
            errs.append(f"dev: no pizza-{svc}-db Secret")
            continue
        data = {k: base64.b64decode(v).decode() for k, v in sec["data"].items()}
        u = urlsplit(data.get("url", ""))
        if f"{u.hostname}:{u.port}" != db_host:
            errs.append(f"dev: pizza-{svc}-db url host {u.hostname}:{u.port} != db_host {db_host} (allowed_outbound_hosts)")
        if u.username != f"pizza_{svc}" or u.password != data.get("password"):
            errs.append(f"dev: pizza-{svc}-db url must use role pizza_{svc} and the Secret's password")
    return errs


def check_rollout(ctx: Ctx, directory: str = os.path.join(SPINKUBE, "rollout")) -> list[str]:
    """The migration canaries render, validate, and mirror the prod Ingress paths."""
    import kubernetes_validate
    try:
        objs = kustomize_lite.build(directory)
    except Exception as exc:  # noqa: BLE001
        return [f"rollout does not render: {exc}"]
    errs = []
    for o in objs:
        try:
            kubernetes_validate.validate(o, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errs.append(f"rollout {o['kind']}/{o['metadata']['name']}: {exc.message}")
    # Canaries split the Django ingress's paths; paths Django never had (the API
    # contract at /api/openapi.json) go live with the pizza-prod Ingress at cutover.
    django_paths = {"/api/login", "/api/menu", "/api/order"}
    prod_paths = {(p["path"], p["backend"]["service"]["name"])
                  for ing in ctx.objs("prod", "Ingress") for r in ing["spec"]["rules"] for p in r["http"]["paths"]
                  if p["path"] in django_paths}
    canary = set()
    for ing in (o for o in objs if o["kind"] == "Ingress"):
        ann = ing["metadata"].get("annotations") or {}
        if ann.get("nginx.ingress.kubernetes.io/canary") != "true":
            errs.append(f"rollout Ingress {ing['metadata']['name']} is not a canary")
        for r in ing["spec"]["rules"]:
            for p in r["http"]["paths"]:
                svc = next((o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == p["backend"]["service"]["name"]), None)
                target = (svc or {}).get("spec", {}).get("externalName", "").split(".")
                if len(target) < 2 or target[1] != "pizza-prod":
                    errs.append(f"rollout path {p['path']} does not lead to a pizza-prod Service")
                    continue
                canary.add((p["path"], target[0]))
    if canary != prod_paths:
        errs.append(f"rollout canaries {sorted(canary)} differ from the prod Ingress {sorted(prod_paths)}")
    return errs


def check_kubectl_equivalence(ctx: Ctx) -> list[str] | None:
    """Where kubectl exists, the built-in renderer must agree with `kubectl kustomize`."""
    if not shutil.which("kubectl"):
        return None
    errs = []
    for env in ENVS:
        r = subprocess.run(["kubectl", "kustomize", os.path.join(SPINKUBE, "overlays", env)],
                           capture_output=True, text=True, timeout=120)
        if r.returncode:
            errs.append(f"{env}: kubectl kustomize failed: {r.stderr.strip()[:300]}")
            continue
        theirs = sorted((yaml.safe_dump(d, sort_keys=True) for d in yaml.safe_load_all(r.stdout) if d))
        ours = sorted(yaml.safe_dump(d, sort_keys=True) for d in ctx.rendered[env])
        if theirs != ours:
            errs.append(f"{env}: built-in renderer output differs from kubectl kustomize")
    return errs


# =========================================================================== self-tests
def _mutated(ctx: Ctx, fn) -> Ctx:
    c = copy.deepcopy(ctx)
    fn(c)
    return c


def _app(c: Ctx, env: str, name: str) -> dict:
    return next(a for a in c.rendered[env] if a["kind"] == "SpinApp" and a["metadata"]["name"] == name)


def _tmp_kustomize(files: dict) -> str:
    d = tempfile.mkdtemp(prefix="spinkube-selftest-")
    for rel, text in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as fh:
            fh.write(text)
    return d


def self_tests(ctx: Ctx) -> list[tuple[str, callable]]:
    """(name, thunk returning the problems the check found on a broken input)."""
    def broken_yaml():
        d = _tmp_kustomize({"bad.yaml": "a: [1, 2\nb: c\n"})
        try:
            return check_yaml_parses(d)
        finally:
            shutil.rmtree(d)

    def missing_overlay_file():
        d = _tmp_kustomize({"overlays/dev/kustomization.yaml": "resources:\n  - gone.yaml\npatches:\n  - path: nope.yaml\n",
                            "overlays/stg/kustomization.yaml": "resources: []\n",
                            "overlays/prod/kustomization.yaml": "resources: []\n"})
        try:
            return check_overlay_refs(d)
        finally:
            shutil.rmtree(d)

    def file_outside_root():
        d = _tmp_kustomize({"x.sql": "select 1;\n",
                            "k/kustomization.yaml": "configMapGenerator:\n  - name: m\n    files:\n      - ../x.sql\n"})
        try:
            kustomize_lite.build(os.path.join(d, "k"))
            return []
        except kustomize_lite.KustomizeError as exc:
            return [str(exc)]
        finally:
            shutil.rmtree(d)

    def bad_core_object():
        def f(c):
            job = next(o for o in c.rendered["stg"] if o["kind"] == "Job")
            job["spec"]["backoffLimit"] = "four"
            job["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
        return check_core_schemas(_mutated(ctx, f))

    def bad_spinapp_fields():
        def f(c):
            s = _app(c, "dev", "login")["spec"]
            s["enableAutoScaling"] = True
            s["checks"]["readiness"]["periodSeconds"] = "5"
            h = next(o for o in c.rendered["dev"] if o["kind"] == "HTTPScaledObject")
            h["spec"]["replicas"]["min"] = "0"
            c.rendered["dev"].append({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                                      "metadata": {"name": "x"}, "spec": {"scaleTargetRef": {"name": "x"},
                                                                         "minReplicas": 0, "triggers": []}})
        errs = check_crd_schemas(_mutated(ctx, f))
        return errs if len(errs) >= 5 else []

    def unknown_component():
        return check_components_exist(_mutated(ctx, lambda c: _app(c, "stg", "menu")["spec"]["components"].append("menu-lst")))

    def missing_required_variable():
        def f(c):
            m = _app(c, "prod", "menu")["spec"]
            m["variables"] = [v for v in m["variables"] if v["name"] != "jwt_secret"]
        return check_variables(_mutated(ctx, f))

    def secret_from_literal():
        def f(c):
            for v in _app(c, "dev", "login")["spec"]["variables"]:
                if v["name"] == "jwt_secret":
                    v.pop("valueFrom")
                    v["value"] = "hunter2"
        return check_variables(_mutated(ctx, f))

    def missing_component_variable():
        def f(c):
            o = _app(c, "stg", "order")["spec"]
            o["variables"] = [v for v in o["variables"] if v["name"] != "shop_timezone"]
        return check_variables(_mutated(ctx, f))

    def private_route_exposed():
        def f(c):
            c.spin.routes.append(("/api/login/int/auth/verify", "login-verify"))
        return check_routes(_mutated(ctx, f))

    def public_route_unrouted():
        def f(c):
            ing = next(o for o in c.rendered["prod"] if o["kind"] == "Ingress")
            ing["spec"]["rules"][0]["http"]["paths"].pop()
        return check_routes(_mutated(ctx, f))

    def cross_app_chaining():
        def f(c):
            c.spin.components["order-create"] = dict(c.spin.components["order-create"])
            c.spin.components["order-create"]["allowed_outbound_hosts"] = ["http://login-verify.spin.internal"]
        return check_chaining(_mutated(ctx, f))

    def no_scale_to_zero():
        def f(c):
            next(o for o in c.rendered["dev"] if o["kind"] == "HTTPScaledObject")["spec"]["replicas"]["min"] = 1
            next(o for o in c.rendered["stg"] if o["kind"] == "HorizontalPodAutoscaler")["spec"]["minReplicas"] = 1
        errs = check_scaling(_mutated(ctx, f))
        return errs if len(errs) >= 2 else []

    def open_networkpolicy():
        def f(c):
            c.rendered["prod"].append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                       "metadata": {"name": "oops"}, "spec": {
                                           "podSelector": {"matchLabels": {"pizza.shop/role": "app"}},
                                           "policyTypes": ["Ingress", "Egress"],
                                           "ingress": [{"from": [{"podSelector": {}}]}],
                                           "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}]}})
        return check_networkpolicies(_mutated(ctx, f))

    def bad_image_tag():
        def f(c):
            for a in c.rendered["prod"]:
                if a["kind"] == "SpinApp":
                    a["spec"]["image"] = "ghcr.io/pizza-shop/pizza:latest"
        return check_spinapps(_mutated(ctx, f))

    def _migrations_copy(change) -> list[str]:
        d = tempfile.mkdtemp(prefix="spinkube-selftest-")
        try:
            # A fresh, in-sync fixture (independent of the real list's state): the .sql
            # files plus a generated kustomization; it must pass before it is broken.
            os.makedirs(os.path.join(d, "migrations"))
            for n in sync_migrations.migration_names(ROOT):
                shutil.copy(os.path.join(ROOT, "migrations", n), os.path.join(d, "migrations", n))
            sync_migrations.sync(d)
            if sync_migrations.problems(d):
                return []      # the in-sync fixture must pass, or the test proves nothing
            change(d)
            return sync_migrations.problems(d)
        finally:
            shutil.rmtree(d)

    def unlisted_migration():
        def change(d):
            with open(os.path.join(d, "migrations", "9999_new.sql"), "w") as fh:
                fh.write("select 1;\n")
        return _migrations_copy(change)

    def listed_migration_gone():
        def change(d):
            last = sync_migrations.migration_names(d)[-1]
            os.remove(os.path.join(d, "migrations", last))
            open(os.path.join(d, "migrations", "0000_placeholder.sql"), "w").close()
        return _migrations_copy(change)

    def sql_copy_back():
        def change(d):
            os.makedirs(os.path.join(d, sync_migrations.OLD_COPY))
            shutil.copy(os.path.join(d, "migrations", sync_migrations.migration_names(d)[0]),
                        os.path.join(d, sync_migrations.OLD_COPY))
        return _migrations_copy(change)

    def migrations_configmap_drift():
        def f(c):
            cm = next(o for o in c.rendered["prod"] if o["kind"] == "ConfigMap"
                      and generated_base(o["metadata"]["name"]) == "pizza-migrations")
            first = sorted(cm["data"])[0]
            cm["data"][first] += "-- edited\n"
            job = next(o for o in c.rendered["dev"] if o["kind"] == "Job")
            for v in job["spec"]["template"]["spec"]["volumes"]:
                if v["name"] == "migrations":
                    v["configMap"]["name"] = "pizza-migrations"
        errs = check_migrations(_mutated(ctx, f))
        return errs if len(errs) >= 2 else []

    def canary_wrong_target():
        d = tempfile.mkdtemp(prefix="spinkube-selftest-")
        try:
            shutil.copytree(os.path.join(SPINKUBE, "rollout"), os.path.join(d, "rollout"))
            p = os.path.join(d, "rollout", "spin-services.yaml")
            text = open(p).read().replace("menu.pizza-prod", "order.pizza-prod")
            open(p, "w").write(text)
            return check_rollout(ctx, os.path.join(d, "rollout"))
        finally:
            shutil.rmtree(d)

    def dev_db_host_mismatch():
        def f(c):
            cfg = next(o for o in c.rendered["dev"] if o["kind"] == "ConfigMap" and generated_base(o["metadata"]["name"]) == "pizza-config")
            cfg["data"]["db_host"] = "elsewhere:5432"
        return check_dev_database(_mutated(ctx, f))

    return [
        ("yaml-parses detects a broken YAML file", broken_yaml),
        ("overlay-refs detects missing files", missing_overlay_file),
        ("renderer refuses files outside the kustomization root", file_outside_root),
        ("core-schemas detects a bad Job", bad_core_object),
        ("crd-schemas detects SpinApp/HTTPScaledObject/ScaledObject field errors", bad_spinapp_fields),
        ("components detects a component missing from spin.toml", unknown_component),
        ("variables detects a missing required app variable", missing_required_variable),
        ("variables detects a secret variable given as a literal", secret_from_literal),
        ("variables detects a component variable not provided", missing_component_variable),
        ("routes detects a private component exposed", private_route_exposed),
        ("routes detects a public route the Ingress misses", public_route_unrouted),
        ("chaining detects *.spin.internal across SpinApps", cross_app_chaining),
        ("scaling detects dev min>0 and an HPA min<2", no_scale_to_zero),
        ("networkpolicies detects open ingress/egress", open_networkpolicy),
        ("spinapps detects a non-SemVer prod tag", bad_image_tag),
        ("migrations detects a migration missing from migrations/kustomization.yaml", unlisted_migration),
        ("migrations detects a listed migration that no longer exists", listed_migration_gone),
        ("migrations detects a reintroduced spinkube/base/migrate/sql copy", sql_copy_back),
        ("migrations detects ConfigMap content drift and an unhashed mount", migrations_configmap_drift),
        ("dev-database detects db_host/URL drift", dev_db_host_mismatch),
        ("rollout detects a canary pointing at the wrong SpinApp", canary_wrong_target),
    ]


# =========================================================================== main
def main() -> int:
    passed = failed = 0

    def report(name: str, errs: list[str] | None) -> None:
        nonlocal passed, failed
        if errs is None:
            print(f"SKIP {name}")
        elif errs:
            failed += 1
            print(f"FAIL {name}")
            for e in errs[:25]:
                print(f"     - {e}")
            if len(errs) > 25:
                print(f"     ... {len(errs) - 25} more")
        else:
            passed += 1
            print(f"PASS {name}")

    ctx = load_ctx()
    checks = [
        ("yaml-parses: every YAML file under spinkube/ parses", lambda: check_yaml_parses()),
        ("overlay-refs: every file an overlay/kustomization names exists", lambda: check_overlay_refs()),
        ("renders: dev, stg and prod render", lambda: check_renders(ctx)),
        (f"core-schemas: core kinds validate against Kubernetes {K8S_VERSION}", lambda: check_core_schemas(ctx)),
        ("crd-schemas: SpinApp/HTTPScaledObject/ScaledObject fields and types", lambda: check_crd_schemas(ctx)),
        ("spinapps: executor, one image, probes, resources, limits, tags", lambda: check_spinapps(ctx)),
        ("components: every named component exists; each deployed once", lambda: check_components_exist(ctx)),
        ("variables: needed and required variables provided per SpinApp", lambda: check_variables(ctx)),
        ("routes: public routes reachable via Ingress, private ones not", lambda: check_routes(ctx)),
        ("chaining: no *.spin.internal to another SpinApp", lambda: check_chaining(ctx)),
        ("scaling: dev KEDA min 0; stg/prod HPA min 2 + PDB", lambda: check_scaling(ctx)),
        ("networkpolicies: ingress controller in; DNS + PostgreSQL out", lambda: check_networkpolicies(ctx)),
        ("migrations: Job mounts the hashed ConfigMap of migrations/*.sql; list in sync; psql script", lambda: check_migrations(ctx)),
        ("dev-database: dev URLs match db_host and roles", lambda: check_dev_database(ctx)),
        ("rollout: canary Ingresses mirror the prod paths and validate", lambda: check_rollout(ctx)),
        ("kubectl-equivalence: built-in renderer == kubectl kustomize", lambda: check_kubectl_equivalence(ctx)),
    ]
    for name, fn in checks:
        try:
            report(name, fn())
        except Exception as exc:  # noqa: BLE001
            report(name, [f"check crashed: {type(exc).__name__}: {exc}"])
    if ctx.render_errors:
        print("(self-tests skipped: the overlays do not render)")
    else:
        for name, fn in self_tests(ctx):
            try:
                errs = fn()
            except Exception as exc:  # noqa: BLE001
                report(f"self-test: {name}", [f"crashed: {type(exc).__name__}: {exc}"])
                continue
            report(f"self-test: {name}", [] if errs else ["the check did not notice the broken input"])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

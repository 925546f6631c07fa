#!/usr/bin/env python3
"""Cluster-free checks of spinkube/ (run by spinkube/ci/check.sh).

Every check is a function returning a list of problems (empty = pass) and runs on the
output of all three overlays as `kubectl kustomize` (kustomize v5) renders them (the
rollout checks on spinkube/rollout/ rendered likewise, and on the kubectl steps
docs/deploy.md gives for it); without kubectl the run stops with one line saying so. The self-tests at the end feed each check a broken
input (a temp dir or a mutated copy of the rendered manifests) and pass only if the check
reports it, so no check can silently stop checking.
Prints one line per check and ends with `N passed, M failed`.
"""
from __future__ import annotations

import copy
import json
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

ENVS = ("dev", "stg", "prod")
DOCS = os.path.join(ROOT, "docs", "deploy.md")
K8S_MIN_FILE = os.path.join(HERE, "kubernetes-min-version")


def read_k8s_min(path: str = K8S_MIN_FILE) -> str:
    """The oldest supported Kubernetes minor (`1.31`), from ci/kubernetes-min-version."""
    with open(path, encoding="utf-8") as fh:
        lines = [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) != 1 or not re.match(r"^1\.\d+$", lines[0]):
        raise RuntimeError(f"{path}: expected one line like 1.31, got {lines}")
    return lines[0]


K8S_MIN = read_k8s_min()         # the oldest Kubernetes minor we support (one place)
K8S_VERSION = f"{K8S_MIN}.0"     # kubernetes-validate's name for its schemas
EXECUTOR = "containerd-shim-spin"
RUNTIME_CLASS = "wasmtime-spin-v2"   # spin-operator's RuntimeClass for the Spin shim
# Spin's HTTP trigger answers this itself (crates/trigger-http/src/server.rs, WELL_KNOWN
# "health"): no component, no database. Readiness and liveness both use it, so a database
# blip neither takes pods out of their Services nor holds node drains on unready pods.
SPIN_HEALTH_PATH = "/.well-known/spin/health"
APP_PORT = 80                    # spin-operator's Service and container port
POSTGRES_PORT = 5432
DNS_PORT = 53
# Components deliberately run by no SpinApp: the app-wide probes exist for `spin up`;
# on Kubernetes liveness uses Spin's built-in /.well-known/spin/health and readiness the
# per-service <service>-healthz components, so none needs every service's database URL.
NOT_DEPLOYED = {"healthz": "app-wide readiness for spin up", "livez": "app-wide liveness for spin up"}
# Secrets that stg/prod expect to exist already (docs/deploy.md step 4, or
# spinkube/scripts/create-secrets.sh); name -> keys. pizza-db-ca is CloudNativePG's own
# CA Secret of the Cluster pizza-db (it makes it); pizza-db-admin is also that Cluster's
# bootstrap owner Secret (kubernetes.io/basic-auth).
EXTERNAL_SECRETS = {
    "pizza-jwt": {"jwt_secret"},
    "pizza-db-admin": {"url", "username", "password"},
    "pizza-login-db": {"url", "password"},
    "pizza-menu-db": {"url", "password"},
    "pizza-order-db": {"url", "password"},
    "pizza-db-ca": {"ca.crt"},
    "pizza-db-backup": {"ACCESS_KEY_ID", "ACCESS_SECRET_KEY"},
}
SERVICES = ("login", "menu", "order")   # SpinApp name = service = role pizza_<service>
# Spin 3.6 keeps up to 64 pooled connections per connection string in every pod, and
# each SpinApp uses one connection string (its service's role).
SPIN_POOL_PER_POD = 64
# The budget keys of pizza-config (base/kustomization.yaml; docs/deploy.md, "Database tier").
LIMIT_KEY = "{}_db_connection_limit"
RESERVE_KEY = "db_connection_reserve"
CNPG_GROUP = "postgresql.cnpg.io"
BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
CNPG_OPERATOR = ("cnpg-system", "app.kubernetes.io/name", "cloudnative-pg")   # Helm defaults
MODELS_DIR = os.path.join(HERE, "models")    # the pinned npm schema packages and validate.mjs
# PostgreSQL/PgBouncer defaults for settings an object leaves out.
PG_DEFAULTS = {"max_connections": 100, "superuser_reserved_connections": 3}
PGBOUNCER_DEFAULTS = {"max_client_conn": 100, "default_pool_size": 20, "reserve_pool_size": 0}
# The KEDA HTTP add-on's interceptor (dev): its pods (namespace, label key, value), which
# alone may talk to dev's app pods, and its proxy Service (namespace, name, port), where
# dev's HTTPRoutes send everything (its Helm chart's defaults; docs/deploy.md section 2).
KEDA_INTERCEPTOR = ("keda", "app.kubernetes.io/component", "interceptor")
KEDA_INTERCEPTOR_SERVICE = ("keda", "keda-add-ons-http-interceptor-proxy", 8080)
GATEWAY_GROUP = "gateway.networking.k8s.io"
# The paths the Django services' ingress routed: the rollout moves these, one at a time.
DJANGO_PATHS = ("/api/login", "/api/menu", "/api/order")
ROLLOUT_DIR = os.path.join(SPINKUBE, "rollout")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*-[0-9a-f]{7,40}$")          # {branch}-{shortsha}
SEMVER_RE = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
NO_KUBECTL = ("kubectl not found: install kubectl (it carries kustomize) — "
              "https://kubernetes.io/docs/tasks/tools/")
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


def kustomize(directory: str) -> list[dict]:
    """The objects `kubectl kustomize DIRECTORY` renders (kustomize v5, the real renderer);
    RuntimeError with kustomize's message when it refuses."""
    r = subprocess.run(["kubectl", "kustomize", directory], capture_output=True, text=True, timeout=120)
    if r.returncode:
        msg = " ".join(line.strip() for line in r.stderr.strip().splitlines())
        raise RuntimeError(f"kubectl kustomize failed: {msg[:400]}")
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def load_ctx(root: str = ROOT) -> Ctx:
    """spin.toml and the three overlays as `kubectl kustomize` renders them."""
    ctx = Ctx(SpinManifest.load(os.path.join(root, "spin.toml")))
    for env in ENVS:
        try:
            ctx.rendered[env] = kustomize(os.path.join(root, "spinkube", "overlays", env))
        except Exception as exc:  # noqa: BLE001 - reported as a check failure
            ctx.render_errors[env] = str(exc)
            ctx.rendered[env] = []
    return ctx


_CORE_GROUPS: set[str] = set()


def core_groups() -> set[str]:
    """The API groups of Kubernetes' built-in kinds (at K8S_VERSION), from kubernetes-validate's
    schema definitions (x-kubernetes-group-version-kind); "" is the core group. Objects of
    these groups validate against those schemas, all others against ci/crd_schemas.py."""
    if not _CORE_GROUPS:
        import json

        import importlib_resources     # a dependency of kubernetes-validate
        ref = importlib_resources.files("kubernetes_validate").joinpath(
            f"kubernetes-json-schema/v{K8S_VERSION}-local-strict/_definitions.json")
        with ref.open(encoding="utf-8") as fh:
            defs = json.load(fh)["$defs"]
        _CORE_GROUPS.update(gvk["group"] for d in defs.values() for gvk in d.get("x-kubernetes-group-version-kind", []))
        if "" not in _CORE_GROUPS or "apps" not in _CORE_GROUPS:
            raise RuntimeError("kubernetes-validate's schema definitions list no core groups")
    return _CORE_GROUPS


def api_group(obj: dict) -> str:
    api = obj.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


def spinapps(ctx: Ctx, env: str) -> list[dict]:
    return ctx.objs(env, "SpinApp")


def pizza_config(ctx: Ctx, env: str) -> dict:
    cfg = next((o for o in ctx.objs(env, "ConfigMap") if generated_base(o["metadata"]["name"]) == "pizza-config"), None)
    return (cfg or {}).get("data") or {}


def app_variable(ctx: Ctx, env: str, app: str, var: str) -> str | None:
    """The value SpinApp `app` gives variable `var` (a literal or a rendered ConfigMap key)."""
    a = ctx.find(env, "SpinApp", app)
    v = next((v for v in (a or {}).get("spec", {}).get("variables") or [] if v["name"] == var), None)
    if not v:
        return None
    if "value" in v:
        return v["value"]
    ref = (v.get("valueFrom") or {}).get("configMapKeyRef")
    if ref:
        cm = next((o for o in ctx.objs(env, "ConfigMap") if o["metadata"]["name"] == ref.get("name")), None)
        return ((cm or {}).get("data") or {}).get(ref.get("key"))
    return None


def cnpg_objs(ctx: Ctx, env: str, kind: str) -> list[dict]:
    return [o for o in ctx.objs(env, kind) if o.get("apiVersion", "").startswith(CNPG_GROUP + "/")]


def cluster_pod_labels(cluster: dict) -> dict:
    """What CloudNativePG labels a Cluster's instance pods (and its initdb/join Jobs) with:
    its own labels plus the Cluster's spec.inheritedMetadata.labels."""
    labels = dict((cluster["spec"].get("inheritedMetadata") or {}).get("labels") or {})
    labels.update({"cnpg.io/cluster": cluster["metadata"]["name"], "cnpg.io/podRole": "instance",
                   "app.kubernetes.io/component": "database"})
    return labels


def pooler_pod_labels(pooler: dict) -> dict:
    """What CloudNativePG labels a Pooler's PgBouncer pods with (plus the template's)."""
    labels = dict(((pooler["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})
    labels.update({"cnpg.io/poolerName": pooler["metadata"]["name"],
                   "cnpg.io/cluster": pooler["spec"]["cluster"]["name"],
                   "cnpg.io/podRole": "pooler", "app.kubernetes.io/component": "pooler"})
    return labels


def db_server_pods(ctx: Ctx, env: str) -> list[dict]:
    """Pod labels of the PostgreSQL servers in an overlay: dev's StatefulSet, CNPG instances."""
    pods = [o["spec"]["template"]["metadata"]["labels"] for o in ctx.objs(env, "StatefulSet")
            if o["spec"]["template"]["metadata"].get("labels", {}).get("pizza.shop/role") == "db"]
    return pods + [cluster_pod_labels(c) for c in cnpg_objs(ctx, env, "Cluster")]


def pooler_for_host(ctx: Ctx, env: str, host: str | None) -> dict | None:
    """The Pooler whose Service `host` (host:port) names: <pooler>[.<ns>[.svc[.<domain>]]]:5432."""
    name, _, port = (host or "").rpartition(":")
    for p in cnpg_objs(ctx, env, "Pooler"):
        n, ns = p["metadata"]["name"], p["metadata"].get("namespace", "")
        if port == str(POSTGRES_PORT) and (name in (n, f"{n}.{ns}", f"{n}.{ns}.svc") or name.startswith(f"{n}.{ns}.svc.")):
            return p
    return None


def pod_groups(ctx: Ctx, env: str) -> list[tuple[str, dict, str]]:
    """(what, pod labels, kind) of the pods this repository runs: 'app' (each SpinApp) and
    'admin' (the migration Job and housekeeping, which connect as the schema owner)."""
    out = [(f"SpinApp/{a['metadata']['name']}", a["spec"].get("podLabels") or {}, "app") for a in spinapps(ctx, env)]
    for o in ctx.objs(env, "Job") + ctx.objs(env, "CronJob"):
        tpl = o["spec"]["jobTemplate"]["spec"]["template"] if o["kind"] == "CronJob" else o["spec"]["template"]
        out.append((f"{o['kind']}/{o['metadata']['name']}", (tpl.get("metadata") or {}).get("labels") or {}, "admin"))
    return out


def generated_base(name: str) -> str:
    """pizza-jwt-7c9k2mh5bt -> pizza-jwt (strip kustomize's hash suffix)."""
    m = re.match(r"^(.*)-[a-z0-9]{10}$", name)
    return m.group(1) if m else name


# =========================================================================== checks
def check_yaml_parses(directory: str = SPINKUBE) -> list[str]:
    errs = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if d not in (".venv", "__pycache__", ".deploy", "node_modules")]
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
        dirnames[:] = [d for d in dirnames if d not in (".venv", "__pycache__", ".deploy", "node_modules")]
        if any(n in filenames for n in KUSTOMIZATION_NAMES):
            out.append(dirpath)
    return out


def find_kustomization(directory: str) -> str | None:
    return next((os.path.join(directory, n) for n in KUSTOMIZATION_NAMES
                 if os.path.isfile(os.path.join(directory, n))), None)


def _inside(root: str, path: str) -> bool:
    """kustomize's default load restrictor: files must lie inside the kustomization root."""
    root, path = os.path.realpath(root), os.path.realpath(path)
    return path == root or path.startswith(root + os.sep)


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
        with open(find_kustomization(kdir), encoding="utf-8") as fh:
            kz = yaml.safe_load(fh) or {}

        def need_file(p, what):
            full = os.path.normpath(os.path.join(kdir, p))
            if not os.path.isfile(full):
                errs.append(f"{rel}: {what} '{p}' does not exist")
            elif not _inside(kdir, full):
                errs.append(f"{rel}: {what} '{p}' is outside the kustomization root")

        for r in kz.get("resources", []) or []:
            full = os.path.normpath(os.path.join(kdir, r))
            if os.path.isdir(full):
                if not find_kustomization(full):
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
        for t in kz.get("transformers", []) or []:
            if isinstance(t, str) and "\n" not in t:
                need_file(t, "transformer")
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


def newest_k8s_version() -> str:
    """The newest Kubernetes version kubernetes-validate carries schemas for."""
    import importlib_resources     # a dependency of kubernetes-validate
    names = [p.name for p in importlib_resources.files("kubernetes_validate").joinpath("kubernetes-json-schema").iterdir()]
    versions = {m.group(1) for n in names for m in [re.match(r"^v(\d+\.\d+\.\d+)-local-strict$", n)] if m}
    return max(versions, key=lambda v: tuple(map(int, v.split("."))))


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def validate_core(objs: list[tuple[str, dict]]) -> list[str]:
    """(label, object) pairs of core kinds against the Kubernetes schemas of the supported
    minimum (K8S_MIN) and of the newest release kubernetes-validate has (strict: unknown
    fields are errors): a field newer than the minimum, or an API a later release removed,
    fails."""
    import kubernetes_validate  # installed by check.sh
    errs = []
    for version in dict.fromkeys((K8S_VERSION, newest_k8s_version())):
        for label, o in objs:
            try:
                kubernetes_validate.validate(o, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = "/".join(str(p) for p in exc.path)
                errs.append(f"{label}: Kubernetes {version}: {path}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                errs.append(f"{label}: no Kubernetes {version} schema for {o.get('apiVersion')} {o.get('kind')}")
    return errs


def check_core_schemas(ctx: Ctx) -> list[str]:
    return validate_core([(f"{env}: {o['kind']}/{o['metadata'].get('name')}", o)
                          for env in ENVS for o in ctx.objs(env) if api_group(o) in core_groups()])


def model_packages() -> dict[str, str]:
    """API group -> npm package that validates it, as ci/models/validate.mjs maps them (its
    PACKAGES table is the one place that says which groups a maintained package covers)."""
    with open(os.path.join(MODELS_DIR, "validate.mjs"), encoding="utf-8") as fh:
        text = fh.read()
    table = text[text.index("export const PACKAGES = {"):]
    table = table[:table.index("};")]
    return dict(re.findall(r'"([a-z0-9.-]+)":\s*"(@kubernetes-models/[a-z0-9-]+)"', table))


def model_package_versions() -> str:
    with open(os.path.join(MODELS_DIR, "package.json"), encoding="utf-8") as fh:
        deps = json.load(fh)["dependencies"]
    return ", ".join(f"{n}@{v}" for n, v in sorted(deps.items()))


def check_crd_schemas(ctx: Ctx) -> list[str]:
    """Custom resources that no maintained package covers (ci/models) against the schemas
    in ci/crd_schemas.py: spin-operator's SpinApp and SpinAppExecutor, the KEDA HTTP
    add-on's HTTPScaledObject, the Barman Cloud plugin's ObjectStore."""
    errs = []
    packaged = model_packages()
    for env in ENVS:
        for o in ctx.objs(env):
            api = o.get("apiVersion", "")
            if api_group(o) in core_groups() or api_group(o) in packaged:
                continue
            schema = crd_schemas.SCHEMAS.get((api, o.get("kind")))
            name = f"{env}: {o.get('kind')}/{o.get('metadata', {}).get('name')}"
            if schema is None:
                errs.append(f"{name}: no schema for {api}: no package in ci/models covers it, "
                            "and ci/crd_schemas.py has none")
                continue
            errs += [f"{name}: {e}" for e in crd_schemas.validate(o, schema)]
    return errs


def namespace_of(obj: dict) -> str:
    return obj.get("metadata", {}).get("namespace") or "default"


def check_operator_webhooks(ctx: Ctx) -> list[str]:
    """What spin-operator's validating webhooks refuse (internal/webhook/
    spinapp_validating.go, spinappexecutor_validating.go), on the rendered objects:
    - a SpinApp's spec.executor must name a SpinAppExecutor in the SpinApp's own namespace
      (the webhook and the controller look it up there only);
    - replicas must not be set (non-zero) with enableAutoscaling, and must be >= 1 without;
    - deploymentAnnotations/podAnnotations only with an executor that has createDeployment;
    - invocationLimits.memory must be a quantity no larger than the memory limit (the
      request where there is no limit; unchecked where neither is set).
    The executor webhook's one rule (exactly one of runtimeClassName and spinImage) is part
    of its schema in ci/crd_schemas.py."""
    errs = []
    for env in ENVS:
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
                inv = crd_schemas.quantity(limit)
                res = s.get("resources") or {}
                bound, what = next(((v, part[:-1]) for part in ("limits", "requests")
                                    for v in [(res.get(part) or {}).get("memory")] if v is not None), (None, ""))
                if inv is None:
                    errs.append(f"{where}: invocationLimits.memory {limit!r} is not a memory quantity (e.g. 128Mi)")
                elif bound is not None and crd_schemas.quantity(bound) is not None and inv > crd_schemas.quantity(bound):
                    errs.append(f"{where}: invocationLimits.memory {limit} is greater than the memory {what} {bound}")
    return errs


def check_spinapps(ctx: Ctx) -> list[str]:
    """Executor, one image, resources, invocation limits, labels, image tags."""
    errs = []
    for env in ENVS:
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


def _probe_problem(ctx: Ctx, app: dict, path: str | None) -> str | None:
    """Why a probe on `path` is not cheap for SpinApp `app`, or None: Spin's built-in health
    path is; a route is only if the SpinApp runs its component and that component can reach
    nothing (no allowed_outbound_hosts, no variables: a database check is not a probe)."""
    if path == SPIN_HEALTH_PATH:
        return None
    served_by = [c for r, c in ctx.spin.routes if r is not None and _route_path(r) == path]
    if not served_by or served_by[0] not in (app["spec"].get("components") or []):
        return f"{path} is served by {served_by or 'no component'}, which the SpinApp does not run"
    comp = ctx.spin.components.get(served_by[0], {})
    if comp.get("allowed_outbound_hosts") or comp.get("variables"):
        return (f"{path} ({served_by[0]}) reaches out ({', '.join(comp.get('allowed_outbound_hosts') or ['variables'])}): "
                "a database blip would make every pod unready and hold node drains")
    return None


ARGO_WAVE = "argocd.argoproj.io/sync-wave"
LOCAL_CONFIG = "config.kubernetes.io/local-config"


def _wave(obj: dict) -> int:
    return int(((obj.get("metadata") or {}).get("annotations") or {}).get(ARGO_WAVE, "0"))


def check_argo_order(ctx: Ctx) -> list[str]:
    """Argo CD applies in sync waves: every generated ConfigMap and Secret before the
    migration Job, which is a Sync hook (a PreSync hook would run before the generated
    Secrets it reads exist), and every SpinApp after the Job, so no pod starts on an old
    schema."""
    errs = []
    for env in ENVS:
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


def check_no_committed_credentials(root: str = ROOT) -> list[str]:
    """No credential lives in git: no secretGenerator has literals, and every file a
    secretGenerator reads is git-ignored (dev's are generated by create-secrets.sh dev)."""
    errs = []
    for kdir in _kustomization_dirs(os.path.join(root, "spinkube")):
        with open(find_kustomization(kdir), encoding="utf-8") as fh:
            k = yaml.safe_load(fh) or {}
        for gen in k.get("secretGenerator") or []:
            where = f"{os.path.relpath(kdir, root)}: secretGenerator {gen.get('name')}"
            if gen.get("literals"):
                errs.append(f"{where}: literals are committed credentials")
            for f in (gen.get("envs") or []) + (gen.get("files") or []):
                path = os.path.join(kdir, str(f).split("=")[-1])
                ignored = subprocess.run(["git", "-C", root, "check-ignore", "-q", path]).returncode == 0
                if not ignored:
                    errs.append(f"{where}: {f} is not git-ignored")
    return errs


def check_probes(ctx: Ctx) -> list[str]:
    """Readiness and liveness are cheap: Spin's /.well-known/spin/health (or a route whose
    component reaches nothing), never a database check, so a short database outage leaves
    every pod Ready (the app answers 503 with Retry-After meanwhile) and node drains are not
    held. The per-service database check stays deployed for monitoring: each SpinApp runs
    the component behind GET /api/<service>/healthz."""
    errs = []
    for env in ENVS:
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


def _path_match(path: str, ptype: str, value: str) -> bool:
    """Gateway API path matching: Exact, or PathPrefix by whole path elements (a trailing
    `/` ignored: /api/login matches /api/login and /api/login/x, never /api/loginx)."""
    if ptype == "Exact":
        return path == value
    if ptype == "PathPrefix":
        p = value.rstrip("/")
        return p == "" or path == p or path.startswith(p + "/")
    return False


@dataclass
class RouteRule:
    """One path match of one HTTPRoute rule, with the rule's backends resolved: each
    (SpinApp it reaches, or "?problem"; weight)."""
    route: str
    namespace: str
    hosts: list
    type: str
    value: str
    backends: list
    extra: list                      # header/query/method matches (not reasoned about)


def grant_allows(objs: list[dict], from_ns: str, to_ns: str, service: str) -> bool:
    """Whether a ReferenceGrant in `to_ns` lets HTTPRoutes of `from_ns` name Service `service`."""
    for g in objs:
        if g.get("kind") != "ReferenceGrant" or namespace_of(g) != to_ns or api_group(g) != GATEWAY_GROUP:
            continue
        spec = g.get("spec") or {}
        frm = any(f.get("group") == GATEWAY_GROUP and f.get("kind") == "HTTPRoute" and f.get("namespace") == from_ns
                  for f in spec.get("from") or [])
        to = any(t.get("group", "") == "" and t.get("kind") == "Service" and t.get("name") in (None, service)
                 for t in spec.get("to") or [])
        if frm and to:
            return True
    return False


def _is_interceptor(ref: dict, route_ns: str) -> bool:
    return (ref.get("namespace") or route_ns, ref.get("name"), ref.get("port")) == KEDA_INTERCEPTOR_SERVICE


def _resolve_backend(ctx: Ctx, env: str, route_ns: str, hosts: list, value: str, ref: dict) -> str:
    """The SpinApp a backendRef reaches (through the KEDA interceptor: the HTTPScaledObject
    matching the route's hosts and the path), or "?problem"."""
    if ref.get("kind", "Service") != "Service" or ref.get("group", "") not in ("", "core"):
        return f"?backend {ref.get('group', '')}/{ref.get('kind')} is not a Service"
    ns, name, port = ref.get("namespace") or route_ns, ref.get("name"), ref.get("port")
    apps = {a["metadata"]["name"] for a in spinapps(ctx, env)}
    if _is_interceptor(ref, route_ns):
        if not grant_allows(ctx.objs(env), route_ns, ns, name):
            return f"?no ReferenceGrant in {ns} lets HTTPRoutes of {route_ns} use Service {name}"
        targets = set()
        for host in hosts or ["(any host)"]:
            hits = [h for h in ctx.objs(env, "HTTPScaledObject")
                    if host in (h["spec"].get("hosts") or []) and any(value.startswith(pp) for pp in h["spec"].get("pathPrefixes") or ["/"])]
            if len(hits) != 1:
                return f"?{len(hits)} HTTPScaledObjects match {host}{value} at the interceptor"
            sref = hits[0]["spec"]["scaleTargetRef"]
            if sref.get("service") not in apps or sref.get("port") != APP_PORT:
                return f"?HTTPScaledObject/{hits[0]['metadata']['name']} forwards to {sref.get('service')}:{sref.get('port')}, not a SpinApp Service on {APP_PORT}"
            targets.add(sref["service"])
        return targets.pop()
    if ns != route_ns:
        return f"?Service {ns}/{name}: only the KEDA interceptor is expected in another namespace"
    if name in apps:
        return name if port == APP_PORT else f"?{name} port {port} (SpinApp Services listen on {APP_PORT})"
    return f"?Service {name} is no SpinApp's"


def gateway_rules(ctx: Ctx, env: str) -> list[RouteRule]:
    out = []
    for r in ctx.objs(env, "HTTPRoute"):
        ns, spec = namespace_of(r), r.get("spec") or {}
        hosts = spec.get("hostnames") or []
        for rule in spec.get("rules") or []:
            for m in rule.get("matches") or [{}]:
                path = m.get("path") or {}
                ptype, value = path.get("type", "PathPrefix"), path.get("value", "/")
                backends = [(_resolve_backend(ctx, env, ns, hosts, value, ref), ref.get("weight", 1))
                            for ref in rule.get("backendRefs") or []]
                out.append(RouteRule(r["metadata"]["name"], ns, hosts, ptype, value, backends,
                                     [k for k in ("headers", "queryParams", "method") if m.get(k)]))
    return out


def best_rule(table: list[RouteRule], path: str) -> RouteRule | None:
    """The rule Gateway API picks for `path`: an Exact match, else the longest PathPrefix."""
    exact = [t for t in table if t.type == "Exact" and t.value == path]
    if exact:
        return exact[0]
    prefixes = [t for t in table if t.type == "PathPrefix" and _path_match(path, t.type, t.value)]
    return max(prefixes, key=lambda t: len(t.value.rstrip("/")), default=None)


def via_interceptor(ctx: Ctx, env: str) -> bool:
    return any(_is_interceptor(ref, namespace_of(r)) for r in ctx.objs(env, "HTTPRoute")
               for rule in r["spec"].get("rules") or [] for ref in rule.get("backendRefs") or [])


def check_routes(ctx: Ctx) -> list[str]:
    """Gateway API routing, on the rendered HTTPRoutes of every overlay:
    - every HTTPRoute is attached to a Gateway listener (parentRefs with namespace and
      sectionName) for named hosts, the same for all routes of an overlay;
    - every public route of a deployed component reaches, by Gateway API's precedence, the
      SpinApp that runs that component, at every backend with a weight (dev: through the
      KEDA interceptor, resolved by the HTTPScaledObject of the host and path, with a
      ReferenceGrant for the cross-namespace backend); private and undeployed components
      are not reachable; no rule leads somewhere that serves nothing under it;
    - dev's HTTPScaledObjects answer for exactly the routes' hosts;
    - trusted_proxy_hops counts at least the proxies in front of the app (the Gateway, plus
      the interceptor where it sits in the path; a load balancer in front adds one)."""
    errs = []
    for env in ENVS:
        routes = ctx.objs(env, "HTTPRoute")
        if not routes:
            errs.append(f"{env}: no HTTPRoutes")
            continue
        attach = set()
        for r in routes:
            where, spec = f"{env}: HTTPRoute/{r['metadata']['name']}", r.get("spec") or {}
            parents = spec.get("parentRefs") or []
            if not parents:
                errs.append(f"{where}: no parentRefs: attached to no Gateway (the overlay's gateway-patch.yaml sets them)")
            for pr in parents:
                if pr.get("group", GATEWAY_GROUP) != GATEWAY_GROUP or pr.get("kind", "Gateway") != "Gateway":
                    errs.append(f"{where}: parentRef {pr} is not a Gateway")
                elif not pr.get("name") or not pr.get("namespace") or not pr.get("sectionName"):
                    errs.append(f"{where}: parentRef {pr} must name the Gateway, its namespace and the listener (sectionName)")
            if not spec.get("hostnames"):
                errs.append(f"{where}: no hostnames: it would answer for every host of the listener")
            attach.add(json.dumps([parents, sorted(spec.get("hostnames") or [])], sort_keys=True))
        if len(attach) > 1:
            errs.append(f"{env}: the HTTPRoutes differ in parentRefs or hostnames; one host on one listener serves the API")
        table = gateway_rules(ctx, env)
        seen: dict = {}
        for t in table:
            where = f"{env}: HTTPRoute/{t.route} {t.type} {t.value}"
            if t.type not in ("Exact", "PathPrefix"):
                errs.append(f"{where}: only Exact and PathPrefix matches are checked")
            if t.extra:
                errs.append(f"{where}: {'/'.join(t.extra)} matches route only some requests; the check cannot follow them")
            for target, _ in t.backends:
                if target.startswith("?"):
                    errs.append(f"{where}: {target[1:]}")
            if not t.backends or not any(w > 0 for _, w in t.backends):
                errs.append(f"{where}: no backend with a weight (the Gateway answers 500)")
            if (t.type, t.value) in seen and seen[(t.type, t.value)] != t.route:
                errs.append(f"{where}: also matched by HTTPRoute/{seen[(t.type, t.value)]} (the older route would win)")
            seen.setdefault((t.type, t.value), t.route)
        runs = {c: a["metadata"]["name"] for a in spinapps(ctx, env) for c in a["spec"].get("components") or []}
        for route, comp in ctx.spin.routes:
            if route is None or comp in NOT_DEPLOYED:
                continue
            best = best_rule(table, _route_path(route))
            if ctx.spin.is_private(comp):
                if best:
                    errs.append(f"{env}: private component {comp} is reachable through HTTPRoute/{best.route} at {route}")
                continue
            targets = {tg for tg, w in (best.backends if best else []) if w > 0}
            if any(tg.startswith("?") for tg in targets):
                continue                 # reported with its rule above
            if best is None:
                errs.append(f"{env}: public route {route} ({comp}) is not routed by any HTTPRoute")
            elif targets != {runs.get(comp)}:
                errs.append(f"{env}: {route} ({comp}) goes to {sorted(targets)} (HTTPRoute/{best.route}), "
                            f"but {comp} runs in {runs.get(comp)!r}")
        for t in table:
            for target, w in t.backends:
                app = ctx.find(env, "SpinApp", target) if w > 0 and not target.startswith("?") else None
                served = [r for c in (app["spec"].get("components") or []) for r in ctx.spin.public_routes(c)] if app else []
                if app and not any(_path_match(_route_path(r), t.type, t.value) for r in served):
                    errs.append(f"{env}: HTTPRoute/{t.route} {t.value} leads to {target}, which serves no route under it")
        hosts = sorted({h for r in routes for h in r["spec"].get("hostnames") or []})
        through_keda = via_interceptor(ctx, env)
        if through_keda:
            for h in ctx.objs(env, "HTTPScaledObject"):
                if sorted(h["spec"].get("hosts") or []) != hosts:
                    errs.append(f"{env}: HTTPScaledObject/{h['metadata']['name']} hosts {h['spec'].get('hosts')} "
                                f"!= the HTTPRoutes' hostnames {hosts} (the interceptor routes by Host)")
        want = 2 if through_keda else 1
        for a in spinapps(ctx, env):
            hops = app_variable(ctx, env, a["metadata"]["name"], "trusted_proxy_hops")
            if hops is not None and (_int(hops) or 0) < want:
                errs.append(f"{env}: SpinApp/{a['metadata']['name']}: trusted_proxy_hops {hops}, but at least {want} proxies "
                            "append to X-Forwarded-For before the app (the Gateway" + (", the KEDA interceptor)" if through_keda else ")")
                            + ": every client would share the address of the nearest one")
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


def _gateway_peer(peer: dict, own_ns: str) -> bool:
    """A peer that names the Gateway's data-plane pods: one other namespace by name and pods
    by specific labels (what overlays/<env>/gateway-pods-patch.yaml sets)."""
    ns, pod = peer.get("namespaceSelector") or {}, peer.get("podSelector") or {}
    return (set(peer) == {"namespaceSelector", "podSelector"} and set(ns) == {"matchLabels"}
            and set(ns["matchLabels"]) == {"kubernetes.io/metadata.name"}
            and ns["matchLabels"]["kubernetes.io/metadata.name"] != own_ns
            and set(pod) == {"matchLabels"} and bool(pod["matchLabels"]))


def check_networkpolicies(ctx: Ctx) -> list[str]:
    """App pods: in only on 80, and only from the pods in front of them: the Gateway's
    data-plane pods (a namespace and pod labels set per overlay) where the HTTPRoutes lead
    to the SpinApps' Services, the KEDA interceptor alone where they lead to it (dev); and
    that front door does reach every SpinApp.
    App, migration and housekeeping pods: out only to DNS (53) and PostgreSQL (5432) -
    for the app the poolers where the overlay has any (else the server), for the admin
    pods the server itself (never a transaction pooler)."""
    errs = []
    for env in ENVS:
        nps = ctx.objs(env, "NetworkPolicy")
        if not any(np["spec"].get("podSelector") == {} and set(np["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
                   and not np["spec"].get("ingress") and not np["spec"].get("egress") for np in nps):
            errs.append(f"{env}: no default-deny NetworkPolicy (podSelector {{}}, Ingress+Egress)")
        ns = f"pizza-{env}"
        through_keda = via_interceptor(ctx, env)
        front: list = []                  # (namespace, pod labels) allowed in
        servers = db_server_pods(ctx, env)
        poolers = [pooler_pod_labels(p) for p in cnpg_objs(ctx, env, "Pooler")]
        for what, labels, kind in pod_groups(ctx, env):
            targets = poolers if kind == "app" and poolers else servers
            others = [t for t in servers + poolers if t not in targets]
            sel = [np for np in nps if _selects(np["spec"].get("podSelector") or {}, labels)]
            egress_ports = set()
            for np in sel:
                name = f"{env}: NetworkPolicy/{np['metadata']['name']} ({what})"
                for rule in np["spec"].get("ingress") or []:
                    if kind != "app":
                        errs.append(f"{name}: {kind} pods must accept no traffic")
                    peers = rule.get("from") or []
                    if not peers:
                        errs.append(f"{name}: ingress from anywhere")
                    for p in peers:
                        if _peer_ok(p, [KEDA_INTERCEPTOR]):
                            if not through_keda:
                                errs.append(f"{name}: admits the KEDA interceptor, which no HTTPRoute here sends to")
                            front.append((KEDA_INTERCEPTOR[0], {KEDA_INTERCEPTOR[1]: KEDA_INTERCEPTOR[2]}))
                        elif _gateway_peer(p, ns):
                            if through_keda:
                                errs.append(f"{name}: admits {p}, but here the HTTPRoutes send everything to the KEDA "
                                            "interceptor: only it talks to the app pods")
                            front.append((p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
                                          p["podSelector"]["matchLabels"]))
                        else:
                            errs.append(f"{name}: ingress from {p} is neither the Gateway's pods (one other namespace "
                                        "by name, pods by labels) nor the KEDA interceptor")
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
                                continue
                            picked = [t for t in targets if _selects(p.get("podSelector") or {"matchLabels": {"x": "y"}}, t)]
                            wrong = [t for t in others if _selects(p.get("podSelector") or {}, t)]
                            if "namespaceSelector" in p or not picked:
                                errs.append(f"{name}: PostgreSQL egress peer {p} is not the "
                                            + ("pooler" if targets is poolers else "database"))
                            elif wrong:
                                errs.append(f"{name}: PostgreSQL egress peer {p} also reaches "
                                            + ("the server past the pooler" if kind == "app" else "a pooler (admin work needs a session)"))
                    else:
                        errs.append(f"{name}: egress ports {sorted(map(str, ports))} are neither DNS nor PostgreSQL")
                    egress_ports |= ports
            if egress_ports != {DNS_PORT, POSTGRES_PORT}:
                errs.append(f"{env}: {what} pods may reach ports {sorted(egress_ports)}; they need exactly DNS and PostgreSQL")
        if not front:
            errs.append(f"{env}: no NetworkPolicy admits the " + ("KEDA interceptor" if through_keda else "Gateway's pods")
                        + " to the app pods: nothing reaches the SpinApps")
        front = list({json.dumps(f, sort_keys=True): f for f in front}.values())
        for a in spinapps(ctx, env):
            for peer_ns, peer in front:
                if not reachable(ctx, env, peer, a["spec"].get("podLabels") or {}, APP_PORT, src_ns=peer_ns):
                    errs.append(f"{env}: {peer_ns} pods {peer} cannot reach SpinApp/{a['metadata']['name']} on {APP_PORT}")
    return errs


def _policy_allows(nps: list, ns: str, direction: str, pod: dict, peer_ns: str, peer: dict, port: int) -> bool:
    """Whether the NetworkPolicies selecting `pod` (in `ns`) let traffic in `direction`
    (Ingress/Egress) to/from `peer` (pod labels, in `peer_ns`) on TCP `port`. ipBlock peers
    are taken to match no pod (pod addresses are private; the blocks here exclude those)."""
    sel = [np for np in nps if direction in (np["spec"].get("policyTypes") or [])
           and _selects(np["spec"].get("podSelector") or {}, pod)]
    if not sel:
        return True                      # not isolated in that direction
    for np in sel:
        for rule in np["spec"].get(direction.lower()) or []:
            ports = rule.get("ports") or []
            if ports and not any(p.get("port") == port for p in ports):
                continue
            peers = rule.get("from" if direction == "Ingress" else "to")
            if not peers:
                return True
            for p in peers:
                if "ipBlock" in p:
                    continue
                nsel = p.get("namespaceSelector")
                ns_ok = peer_ns == ns if nsel is None else _selects(nsel, {"kubernetes.io/metadata.name": peer_ns})
                if ns_ok and _selects(p.get("podSelector") or {}, peer):
                    return True
    return False


def reachable(ctx: Ctx, env: str, src: dict, dst: dict, port: int, src_ns: str | None = None) -> bool:
    """src pod (labels; in the overlay's namespace unless src_ns) -> dst pod (labels) on port."""
    nps = ctx.objs(env, "NetworkPolicy")
    ns = f"pizza-{env}"
    src_ns = src_ns or ns
    out = src_ns != ns or _policy_allows(nps, ns, "Egress", src, ns, dst, port)
    return out and _policy_allows(nps, ns, "Ingress", dst, src_ns, src, port)


def check_db_paths(ctx: Ctx) -> list[str]:
    """The database paths, both ends of every NetworkPolicy considered: each SpinApp reaches
    its pooler and nothing else of the database tier; poolers, the migration Job and
    housekeeping reach the server; the admin pods never a pooler; the instances reach each
    other and the operator reaches them."""
    errs = []
    for env in ENVS:
        servers = db_server_pods(ctx, env)
        poolers = cnpg_objs(ctx, env, "Pooler")
        for what, labels, kind in pod_groups(ctx, env):
            if kind == "app" and poolers:
                mine = pooler_for_host(ctx, env, app_variable(ctx, env, labels.get("pizza.shop/service", ""), "db_host"))
                for p in poolers:
                    ok = reachable(ctx, env, labels, pooler_pod_labels(p), POSTGRES_PORT)
                    if ok != (p is mine):
                        errs.append(f"{env}: {what} {'can' if ok else 'cannot'} reach Pooler/{p['metadata']['name']}"
                                    + ("" if ok else " (its db_host)"))
                for srv in servers:
                    if reachable(ctx, env, labels, srv, POSTGRES_PORT):
                        errs.append(f"{env}: {what} can reach the server {srv} past its pooler")
            else:
                for srv in servers:
                    if not reachable(ctx, env, labels, srv, POSTGRES_PORT):
                        errs.append(f"{env}: {what} cannot reach the server {srv} on {POSTGRES_PORT}")
                for p in poolers:
                    if reachable(ctx, env, labels, pooler_pod_labels(p), POSTGRES_PORT):
                        errs.append(f"{env}: {what} can reach Pooler/{p['metadata']['name']} (it must use the server directly)")
        for p in poolers:
            c = ctx.find(env, "Cluster", p["spec"]["cluster"]["name"])
            if c and not reachable(ctx, env, pooler_pod_labels(p), cluster_pod_labels(c), POSTGRES_PORT):
                errs.append(f"{env}: Pooler/{p['metadata']['name']} cannot reach its Cluster's instances")
        op_ns, op_key, op_val = CNPG_OPERATOR
        for c in cnpg_objs(ctx, env, "Cluster"):
            inst = cluster_pod_labels(c)
            for port in (POSTGRES_PORT, 8000):
                if not reachable(ctx, env, {op_key: op_val}, inst, port, src_ns=op_ns):
                    errs.append(f"{env}: the CloudNativePG operator cannot reach Cluster/{c['metadata']['name']} on {port}")
            if not reachable(ctx, env, inst, inst, POSTGRES_PORT):
                errs.append(f"{env}: Cluster/{c['metadata']['name']} instances cannot reach each other (replication)")
    return errs


def _image(ref: str) -> tuple[str, str]:
    """registry/path/name:tag -> (repository, tag); no tag -> ""."""
    repo, _, tag = str(ref).rpartition(":")
    return (repo, tag) if repo and "/" not in tag else (str(ref), "")


def _argv(container: dict) -> list[str]:
    return [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]


def check_migrations(ctx: Ctx, root: str = ROOT) -> list[str]:
    """The migration Job runs the project's one migrator, `pizza-db deploy`, from the pizza-db
    image of the same build (tag) as the SpinApps (the image carries the migrations), as the
    schema owner (pizza-db-admin's url), with each service role's password from its Secret
    and its connection limit from pizza-config; housekeeping runs `pizza-db purge` from the
    same image."""
    errs = []
    for env in ENVS:
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
                prob = _ref_target(ctx, env, "Secret", ref["name"], ref["key"])
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
            hc = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
            if hc.get("image") != c.get("image") or "purge" not in _argv(hc)[1:]:
                errs.append(f"{env}: CronJob/{cj['metadata']['name']} must run `pizza-db purge` from the Job's image "
                            f"{c.get('image')!r}, runs {_argv(hc)} from {hc.get('image')!r}")
    return errs


def check_dev_database(ctx: Ctx) -> list[str]:
    """dev's generated secrets agree with each SpinApp's db_host (Spin's
    allowed_outbound_hosts; menu's comes from db_read_host) and roles."""
    import base64
    from urllib.parse import urlsplit
    errs = []
    if not pizza_config(ctx, "dev"):
        return ["dev: no pizza-config ConfigMap"]
    for svc in SERVICES:
        db_host = app_variable(ctx, "dev", svc, "db_host") or ""
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


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def check_database(ctx: Ctx, root: str = ROOT) -> list[str]:
    """stg/prod run the CloudNativePG tier of docs/deploy.md: a Cluster of three in UTC, on
    a pinned PostgreSQL major, bootstrapped with the owner Secret, archiving
    WAL through the Barman Cloud plugin with a nightly plugin backup; transaction-mode
    Poolers (two or more PgBouncers, tracking prepared statements); and the SpinApps'
    db_host on a Pooler's Service (writers on an rw one)."""
    errs = []
    with open(os.path.join(root, "spinkube", "scripts", "create-secrets.sh"), encoding="utf-8") as fh:
        script = fh.read()
    for env in ENVS:
        clusters = cnpg_objs(ctx, env, "Cluster")
        poolers = cnpg_objs(ctx, env, "Pooler")
        if env != "dev" and not clusters:
            errs.append(f"{env}: no CloudNativePG Cluster")
        stores = {o["metadata"]["name"]: o for o in ctx.objs(env, "ObjectStore")}
        for c in clusters:
            n, sp = c["metadata"]["name"], c["spec"]
            where = f"{env}: Cluster/{n}"
            if (sp.get("instances") or 0) < 3:
                errs.append(f"{where}: needs 3 instances (a primary and two standbys)")
            if ((sp.get("postgresql") or {}).get("parameters") or {}).get("timezone") != "Etc/UTC":
                errs.append(f"{where}: timezone must be Etc/UTC (as make up runs)")
            m = re.search(r":(\d+)[.-]", sp.get("imageName", "") + "-")
            if not m:
                errs.append(f"{where}: imageName {sp.get('imageName')!r} pins no PostgreSQL major")
            init = (sp.get("bootstrap") or {}).get("initdb") or {}
            secret = (init.get("secret") or {}).get("name")
            if init.get("database") != "pizza" or not {"username", "password"} <= EXTERNAL_SECRETS.get(secret, set()):
                errs.append(f"{where}: bootstrap.initdb must create database pizza, its owner's password from a documented basic-auth Secret")
            if (sp.get("backup") or {}).get("barmanObjectStore"):
                errs.append(f"{where}: backup.barmanObjectStore is deprecated (CloudNativePG 1.26+): use the Barman Cloud plugin")
            archivers = [p for p in sp.get("plugins") or [] if p.get("name") == BARMAN_PLUGIN and p.get("isWALArchiver")]
            store = stores.get(((archivers or [{}])[0].get("parameters") or {}).get("barmanObjectName"))
            if not store:
                errs.append(f"{where}: no {BARMAN_PLUGIN} WAL archiver naming a rendered ObjectStore")
            else:
                for ref in (store["spec"]["configuration"].get("s3Credentials") or {}).values():
                    if isinstance(ref, dict) and ref.get("key") not in EXTERNAL_SECRETS.get(ref.get("name"), set()):
                        errs.append(f"{env}: ObjectStore/{store['metadata']['name']}: {ref} is not a documented Secret key")
            if not any(b["spec"].get("cluster", {}).get("name") == n and b["spec"].get("method") == "plugin"
                       and (b["spec"].get("pluginConfiguration") or {}).get("name") == BARMAN_PLUGIN
                       for b in cnpg_objs(ctx, env, "ScheduledBackup")):
                errs.append(f"{where}: no ScheduledBackup through the {BARMAN_PLUGIN} plugin")
            if f"CLUSTER={n}\n" not in script:
                errs.append(f"{where}: scripts/create-secrets.sh --cnpg builds its URLs for another Cluster name")
        names = {c["metadata"]["name"] for c in clusters}
        for p in poolers:
            sp, where = p["spec"], f"{env}: Pooler/{p['metadata']['name']}"
            params = sp["pgbouncer"].get("parameters") or {}
            for key, value in pgbouncer_env(root).items():
                if params.get(key) != value:
                    errs.append(f"{where}: {key} is {params.get(key)!r}, not pgbouncer.env's {value!r} (the tests run with that)")
            if sp["cluster"]["name"] not in names:
                errs.append(f"{where}: its Cluster {sp['cluster']['name']} is not rendered")
            if sp["pgbouncer"].get("poolMode") != "transaction":
                errs.append(f"{where}: poolMode must be transaction (session mode holds a server connection per client)")
            if (_int(params.get("max_prepared_statements")) or 0) <= 0:
                errs.append(f"{where}: max_prepared_statements must be set: tokio-postgres names every statement")
            if (sp.get("instances") or 1) < 2:
                errs.append(f"{where}: needs 2 or more instances")
            if p["metadata"]["name"] != f"{sp['cluster']['name']}-pooler-{sp.get('type', 'rw')}":
                errs.append(f"{where}: name it <cluster>-pooler-<type>, as scripts/create-secrets.sh --cnpg does")
        if poolers:
            for svc in SERVICES:
                host = app_variable(ctx, env, svc, "db_host")
                p = pooler_for_host(ctx, env, host)
                if not p:
                    errs.append(f"{env}: SpinApp/{svc} db_host {host} is not a Pooler's Service (<pooler>.<namespace>.svc.cluster.local:5432)")
                elif svc != "menu" and p["spec"].get("type", "rw") != "rw":
                    errs.append(f"{env}: SpinApp/{svc} writes, but its Pooler/{p['metadata']['name']} is of type {p['spec'].get('type')}")
    return errs


def pgbouncer_env(root: str = ROOT) -> dict:
    """The PgBouncer behaviour both Poolers and the project's pooler tests share
    (spinkube/database/cnpg/pgbouncer.env: name=value lines, # comments)."""
    path = os.path.join(root, "spinkube", "database", "cnpg", "pgbouncer.env")
    with open(path, encoding="utf-8") as fh:
        lines = [line.strip() for line in fh]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _le(a: int, b: int) -> str:
    return "<=" if a <= b else "> (over budget)"


def max_replicas(ctx: Ctx, env: str, app: str) -> tuple[int | None, str]:
    """The most pods a SpinApp can have, and what says so."""
    for h in ctx.objs(env, "HorizontalPodAutoscaler"):
        if h["spec"]["scaleTargetRef"].get("name") == app:
            return h["spec"].get("maxReplicas"), "HPA max"
    for h in ctx.objs(env, "HTTPScaledObject"):
        if h["spec"]["scaleTargetRef"].get("name") == app:
            return (h["spec"].get("replicas") or {}).get("max", 100), "KEDA max"
    for h in ctx.objs(env, "ScaledObject"):
        if h["spec"]["scaleTargetRef"].get("name") == app:
            return h["spec"].get("maxReplicaCount", 100), "KEDA max"
    a = ctx.find(env, "SpinApp", app)
    if a and not a["spec"].get("enableAutoscaling"):
        return a["spec"].get("replicas", 1), "replicas"
    return None, "nothing scales it"


def db_servers(ctx: Ctx, env: str) -> list[tuple[str, dict]]:
    """(name, server settings) of each PostgreSQL server in the overlay, with defaults."""
    out = []
    for c in cnpg_objs(ctx, env, "Cluster"):
        params = ((c["spec"].get("postgresql") or {}).get("parameters") or {})
        out.append((f"Cluster/{c['metadata']['name']}", {k: _int(params.get(k, d)) for k, d in PG_DEFAULTS.items()}))
    for o in ctx.objs(env, "StatefulSet"):
        if o["spec"]["template"]["metadata"].get("labels", {}).get("pizza.shop/role") != "db":
            continue
        settings = dict(PG_DEFAULTS)
        for c in o["spec"]["template"]["spec"]["containers"]:
            args = (c.get("command") or []) + (c.get("args") or [])
            for flag, val in zip(args, args[1:]):
                if flag == "-c" and "=" in val:
                    k, v = val.split("=", 1)
                    if k in settings:
                        settings[k] = _int(v)
        out.append((f"StatefulSet/{o['metadata']['name']}", settings))
    return out


def check_db_budget(ctx: Ctx, notes: list | None = None) -> list[str]:
    """The connection budget of docs/deploy.md ("Database tier"), from the rendered overlay:
    - every role has a CONNECTION LIMIT (pizza-config), and the limits plus the reserve fit
      in max_connections, so that no service can take another's slots; the reserve covers
      at least the superuser slots, one PgBouncer auth connection per pooler pod, the
      migration Job and housekeeping;
    - without a pooler, pods x 64 above a role's limit only means that this service's own
      connects fail first (503 with Retry-After): reported, not an error;
    - with poolers: the SpinApps on a pooler at their maximum pods x 64 fit in its
      max_client_conn (per PgBouncer: clients may all land on one), and its PgBouncers x
      max_user_connections fit in each of its roles' limits."""
    notes = notes if notes is not None else []
    errs = []
    for env in ENVS:
        cfg = pizza_config(ctx, env)
        limits, bad = {}, False
        for key in [LIMIT_KEY.format(svc) for svc in SERVICES] + [RESERVE_KEY]:
            v = _int(cfg.get(key))
            if v is None or v < (0 if key == RESERVE_KEY else 1):
                errs.append(f"{env}: pizza-config {key}={cfg.get(key)!r} must be a "
                            + ("non-negative" if key == RESERVE_KEY else "positive (never -1, no limit)") + " integer")
                bad = True
            limits[key] = v
        reps = {svc: max_replicas(ctx, env, svc) for svc in SERVICES}
        for svc, (n, src) in reps.items():
            if n is None:
                errs.append(f"{env}: SpinApp/{svc}: {src}, so its pods (and connections) are unbounded")
                bad = True
        servers = db_servers(ctx, env)
        if not servers:
            errs.append(f"{env}: no PostgreSQL server (Cluster or StatefulSet) to check the budget against")
            bad = True
        if bad:
            continue
        role = {svc: limits[LIMIT_KEY.format(svc)] for svc in SERVICES}
        reserve = limits[RESERVE_KEY]
        total = sum(role.values()) + reserve
        poolers = cnpg_objs(ctx, env, "Pooler")
        pooler_pods = sum(p["spec"].get("instances") or 1 for p in poolers)
        for name, st in servers:
            mc, sr = st["max_connections"], st["superuser_reserved_connections"]
            notes.append(f"{env}: {name}: " + " + ".join(f"{s} {role[s]}" for s in SERVICES)
                         + f" + reserve {reserve} = {total} {_le(total, mc)} max_connections {mc} ({mc - total} spare)")
            if total > mc:
                errs.append(f"{env}: role limits {sum(role.values())} + reserve {reserve} = {total} > max_connections {mc} "
                            f"of {name}: one service could take the others' connections")
            floor = sr + pooler_pods + 2
            if reserve < floor:
                errs.append(f"{env}: reserve {reserve} < {floor} (superuser_reserved_connections {sr} + {pooler_pods} "
                            "PgBouncer auth connections + migration Job + housekeeping)")
        on_pooler: dict = {}
        for svc in SERVICES:
            n, src = reps[svc]
            need = n * SPIN_POOL_PER_POD
            p = pooler_for_host(ctx, env, app_variable(ctx, env, svc, "db_host"))
            if p:
                on_pooler.setdefault(p["metadata"]["name"], (p, []))[1].append(svc)
                continue
            notes.append(f"{env}:   {svc}: {n} pods ({src}) x {SPIN_POOL_PER_POD} = {need} direct connections, limit {role[svc]}"
                         + (f": the limit binds first ({svc} alone answers 503)" if need > role[svc] else ""))
        for pname, (p, svcs) in on_pooler.items():
            params = {**PGBOUNCER_DEFAULTS, **(p["spec"]["pgbouncer"].get("parameters") or {})}
            mcc, inst = _int(params["max_client_conn"]), p["spec"].get("instances") or 1
            clients = sum(reps[s][0] * SPIN_POOL_PER_POD for s in svcs)
            notes.append(f"{env}:   Pooler/{pname}: " + " + ".join(f"{s} {reps[s][0]} pods ({reps[s][1]}) x {SPIN_POOL_PER_POD}" for s in svcs)
                         + f" = {clients} clients {_le(clients, mcc)} max_client_conn {mcc} per PgBouncer")
            if clients > mcc:
                errs.append(f"{env}: Pooler/{pname}: {clients} client connections at the HPA maxima > max_client_conn {mcc}: "
                            "raise max_client_conn with the HPA maximum")
            per_user = _int(params.get("max_user_connections"))
            if not per_user:
                errs.append(f"{env}: Pooler/{pname}: set max_user_connections (a role's server connections per PgBouncer)")
                continue
            for s in svcs:
                notes.append(f"{env}:     {s}: {inst} PgBouncers x {per_user} = {inst * per_user} server connections "
                             f"{_le(inst * per_user, role[s])} limit {role[s]}")
                if inst * per_user > role[s]:
                    errs.append(f"{env}: Pooler/{pname}: {inst} x max_user_connections {per_user} = {inst * per_user} "
                                f"> {s}'s connection limit {role[s]}: PgBouncer would hit the limit")
    return errs


def validate_models(items: list[tuple[str, dict]]) -> list[str]:
    """(label, object) pairs against the pinned @kubernetes-models packages (ci/models/
    validate.mjs, run with the Node.js that check.sh found; packages in .venv/node)."""
    modules = os.environ.get("SPINKUBE_NODE_MODULES") or os.path.join(SPINKUBE, ".venv", "node", "node_modules")
    if not shutil.which("node"):
        return [f"node not found: {model_package_versions()} need Node.js (and npm for check.sh to install them)"]
    missing = sorted({p for p in model_packages().values() if not os.path.isdir(os.path.join(modules, p))})
    if missing:
        return [f"{', '.join(missing)} not installed in {modules}: check.sh installs ci/models with npm ci "
                "(npm missing or offline?)"]
    r = subprocess.run(["node", os.path.join(MODELS_DIR, "validate.mjs"), modules],
                       input=json.dumps([{"id": label, "obj": o} for label, o in items]),
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        return [f"ci/models/validate.mjs failed: {r.stderr.strip()[:300]}"]
    return [f"{p['id']}: {p['error']}" for p in json.loads(r.stdout)]


def check_models(ctx: Ctx) -> list[str]:
    """Every custom resource of a group a maintained package covers (CloudNativePG, Gateway
    API, KEDA) validates against it; each of those groups is rendered somewhere."""
    packaged = model_packages()
    items = [(f"{env}: {o['kind']}/{o['metadata']['name']}", o)
             for env in ENVS for o in ctx.objs(env) if api_group(o) in packaged]
    seen = {api_group(o) for _, o in items}
    errs = [f"no {g} object rendered ({p} is pinned for nothing)" for g, p in sorted(packaged.items())
            if g not in seen and g != "keda.sh"]
    return errs + validate_models(items)


def check_pdbs(ctx: Ctx) -> list[str]:
    """Every PodDisruptionBudget (the SpinApps' and the poolers') lets a drain evict pods that
    run but are not Ready (unhealthyPodEvictionPolicy AlwaysAllow, GA in Kubernetes 1.31):
    such a pod serves nothing, and under the default IfHealthyBudget a service whose pods
    are all unready would hold every node drain. Each Pooler has one."""
    errs = []
    for env in ENVS:
        pdbs = ctx.objs(env, "PodDisruptionBudget")
        for p in pdbs:
            policy = p["spec"].get("unhealthyPodEvictionPolicy")
            if policy != "AlwaysAllow":
                errs.append(f"{env}: PodDisruptionBudget/{p['metadata']['name']}: unhealthyPodEvictionPolicy is "
                            f"{policy or 'unset (IfHealthyBudget)'}, not AlwaysAllow: unready pods would block drains")
        for pooler in cnpg_objs(ctx, env, "Pooler"):
            labels = pooler_pod_labels(pooler)
            if not any(_selects(p["spec"].get("selector") or {}, labels) for p in pdbs):
                errs.append(f"{env}: Pooler/{pooler['metadata']['name']} has no PodDisruptionBudget")
    return errs


def check_statefulsets(ctx: Ctx) -> list[str]:
    """A StatefulSet's serviceName names its governing Service: a headless one (clusterIP
    None) in the same namespace that selects its pods, as Kubernetes requires for the pods'
    DNS names."""
    errs = []
    for env in ENVS:
        for st in ctx.objs(env, "StatefulSet"):
            where = f"{env}: StatefulSet/{st['metadata']['name']}"
            name = st["spec"].get("serviceName")
            svc = next((o for o in ctx.objs(env, "Service") if o["metadata"]["name"] == name
                        and namespace_of(o) == namespace_of(st)), None) if name else None
            labels = ((st["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
            if svc is None:
                errs.append(f"{where}: serviceName {name!r} names no rendered Service")
            elif svc["spec"].get("clusterIP") != "None":
                errs.append(f"{where}: serviceName {name!r} is not headless (clusterIP: None)")
            elif not svc["spec"].get("selector") or not _selects({"matchLabels": svc["spec"]["selector"]}, labels):
                errs.append(f"{where}: Service {name} does not select the StatefulSet's pods")
    return errs


def render_rollout(directory: str = ROLLOUT_DIR) -> list[dict]:
    return kustomize(directory)


def check_rollout(ctx: Ctx, directory: str = ROLLOUT_DIR, objs: list[dict] | None = None) -> list[str]:
    """spinkube/rollout/ (the Django-to-Spin cutover), rendered: it validates (core kinds and
    the Gateway API package); every object names its namespace; one HTTPRoute per Django
    path, on prod's Gateway listener, with exactly two backendRefs: [0] the Django Service
    next to the route, [1] the Service of the SpinApp that prod's HTTPRoutes send that path
    to, in prod's namespace, port 80, granted by a ReferenceGrant there; committed with
    Spin's weight 0 and Django's above 0, so applying it moves no traffic."""
    if objs is None:
        try:
            objs = render_rollout(directory)
        except Exception as exc:  # noqa: BLE001
            return [f"rollout does not render: {exc}"]
    errs = []
    packaged = model_packages()
    errs += validate_core([(f"rollout {o['kind']}/{o['metadata']['name']}", o) for o in objs if api_group(o) in core_groups()])
    errs += validate_models([(f"rollout {o['kind']}/{o['metadata']['name']}", o) for o in objs if api_group(o) in packaged])
    for o in objs:
        if not o["metadata"].get("namespace"):
            errs.append(f"rollout {o['kind']}/{o['metadata']['name']}: no namespace (the routes live next to Django, the grant in prod's)")
    prod_apps = spinapps(ctx, "prod")
    prod_ns = namespace_of(prod_apps[0]) if prod_apps else "pizza-prod"
    table = gateway_rules(ctx, "prod")
    prod_parents = {json.dumps(r["spec"].get("parentRefs"), sort_keys=True) for r in ctx.objs("prod", "HTTPRoute")}
    covered = set()
    for r in (o for o in objs if o["kind"] == "HTTPRoute"):
        where, spec, ns = f"rollout HTTPRoute/{r['metadata']['name']}", r.get("spec") or {}, namespace_of(r)
        if json.dumps(spec.get("parentRefs"), sort_keys=True) not in prod_parents:
            errs.append(f"{where}: parentRefs {spec.get('parentRefs')} are not prod's Gateway listener")
        if not spec.get("hostnames"):
            errs.append(f"{where}: no hostnames (the live host)")
        rules = spec.get("rules") or []
        matches = (rules[0].get("matches") or []) if len(rules) == 1 else []
        path = (matches[0].get("path") or {}) if len(matches) == 1 else {}
        if path.get("type") != "PathPrefix" or path.get("value") not in DJANGO_PATHS:
            errs.append(f"{where}: needs one rule with one PathPrefix match on a Django path {list(DJANGO_PATHS)}")
            continue
        value = path["value"]
        if value in covered:
            errs.append(f"{where}: {value} is split twice")
        covered.add(value)
        refs = rules[0].get("backendRefs") or []
        best = best_rule(table, value)
        spin_app = {t for t, w in best.backends if w > 0} if best else set()
        if len(refs) != 2:
            errs.append(f"{where}: needs exactly two backendRefs, [0] Django and [1] Spin (the runbook patches them by index)")
            continue
        django, spin = refs
        if django.get("namespace", ns) != ns or not django.get("name") or not django.get("port"):
            errs.append(f"{where}: backendRefs[0] must be the Django Service next to the route, with its port")
        elif django.get("name") in {a["metadata"]["name"] for a in prod_apps}:
            errs.append(f"{where}: backendRefs[0] {django['name']} is a SpinApp's Service name, not Django's")
        if (spin.get("namespace"), spin.get("port")) != (prod_ns, APP_PORT) or {spin.get("name")} != spin_app:
            errs.append(f"{where}: backendRefs[1] is {spin.get('namespace')}/{spin.get('name')}:{spin.get('port')}, but prod "
                        f"routes {value} to {sorted(spin_app)} in {prod_ns} on {APP_PORT}")
        elif not grant_allows(objs, ns, prod_ns, spin["name"]):
            errs.append(f"{where}: no ReferenceGrant in {prod_ns} lets HTTPRoutes of {ns} use Service {spin['name']}")
        if spin.get("weight", 1) != 0 or django.get("weight", 1) <= 0:
            errs.append(f"{where}: committed weights must be Django > 0, Spin 0 (got {django.get('weight', 1)}/"
                        f"{spin.get('weight', 1)}): applying the rollout must move no traffic")
    if covered != set(DJANGO_PATHS):
        errs.append(f"rollout splits {sorted(covered)}, the Django paths are {list(DJANGO_PATHS)}")
    return errs


RUNBOOK_MARK = "<!-- checked: rollout-weights -->"


def _json_pointer_get(doc, pointer: str):
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def _json_patch(doc, ops: list) -> str | None:
    """Applies RFC 6902 `test` and `replace` operations in place (what the runbook uses);
    returns the first failure, as kubectl would refuse the patch."""
    for op in ops:
        try:
            parent, _, last = op["path"].rpartition("/")
            target = _json_pointer_get(doc, parent) if parent else doc
            key = int(last) if isinstance(target, list) else last
            if op["op"] == "test":
                if target[key] != op["value"]:
                    return f"test {op['path']} == {op['value']!r} fails (it is {target[key]!r})"
            elif op["op"] == "replace":
                target[key]            # replace needs the member to exist
                target[key] = op["value"]
            else:
                return f"op {op['op']} is not one the runbook should need"
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            return f"{op.get('op')} {op.get('path')}: no such member ({exc})"
    return None


def runbook_commands(docs_text: str) -> list[list[str]]:
    """The kubectl invocations of docs/deploy.md's checked rollout block (the fenced code
    block after RUNBOOK_MARK), run by bash with a stand-in kubectl that records its
    arguments; each function the block defines is also called for every Django path's
    service at 50 %, so the block works for all three."""
    i = docs_text.find(RUNBOOK_MARK)
    if i < 0:
        raise RuntimeError(f"docs/deploy.md has no {RUNBOOK_MARK} block")
    m = re.search(r"```sh\n(.*?)```", docs_text[i:], re.S)
    if not m:
        raise RuntimeError(f"no ```sh block after {RUNBOOK_MARK}")
    block = m.group(1)
    funcs = re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{", block, re.M)
    extra = "".join(f"{f} {p.rsplit('/', 1)[-1]} 50\n" for f in funcs for p in DJANGO_PATHS)
    d = tempfile.mkdtemp(prefix="spinkube-runbook-")
    try:
        stub, calls = os.path.join(d, "kubectl"), os.path.join(d, "calls")
        os.makedirs(calls)
        with open(stub, "w", encoding="utf-8") as fh:      # one file per call: its arguments, NUL-terminated
            fh.write('#!/bin/sh\nn=$(ls "$RUNBOOK_CALLS" | wc -l)\nprintf \'%s\\0\' "$@" > "$RUNBOOK_CALLS/$n"\n')
        os.chmod(stub, 0o755)
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", block + "\n" + extra], capture_output=True, text=True,
                           timeout=60, env={**os.environ, "PATH": d + os.pathsep + os.environ.get("PATH", ""),
                                            "RUNBOOK_CALLS": calls})
        if r.returncode:
            raise RuntimeError(f"the rollout block fails in bash: {r.stderr.strip()[:300]}")
        out = []
        for n in sorted(os.listdir(calls), key=int):
            with open(os.path.join(calls, n), encoding="utf-8") as fh:
                out.append(fh.read().split("\0")[:-1])
        return out
    finally:
        shutil.rmtree(d)


def check_rollout_runbook(ctx: Ctx, docs_text: str | None = None, objs: list[dict] | None = None) -> list[str]:
    """The weight steps docs/deploy.md gives (its checked block), run against the rendered
    rollout routes: each is `kubectl -n NS patch httproute NAME --type=json -p JSON` on a
    rollout route, every patch applies (its `test`s hold), Django's and Spin's weights
    stay in 0..100 and add up to 100, and the block walks one path 10 -> 50 -> 100 and
    back to 0 (the rollback)."""
    if docs_text is None:
        with open(DOCS, encoding="utf-8") as fh:
            docs_text = fh.read()
    try:
        objs = copy.deepcopy(objs if objs is not None else render_rollout())
        calls = runbook_commands(docs_text)
    except Exception as exc:  # noqa: BLE001
        return [str(exc)]
    routes = {(namespace_of(o), o["metadata"]["name"]): o for o in objs if o["kind"] == "HTTPRoute"}
    errs, history = [], {}
    for argv in calls:
        cmd = " ".join(argv)
        if re.fullmatch(r"(-n \S+ )?(get|describe) .*", cmd, re.S):
            continue                     # looking is fine
        m = re.fullmatch(r"-n (\S+) patch httproute (\S+) --type=json -p (.+)", cmd, re.S)
        if not m:
            errs.append(f"docs: unexpected kubectl call: kubectl {cmd[:120]}")
            continue
        route = routes.get((m.group(1), m.group(2)))
        if route is None:
            errs.append(f"docs: kubectl patches httproute {m.group(1)}/{m.group(2)}, which rollout/ does not render")
            continue
        try:
            ops = json.loads(argv[-1])
        except json.JSONDecodeError as exc:
            errs.append(f"docs: the patch for {m.group(2)} is not JSON: {exc}")
            continue
        fail = _json_patch(route, ops)
        if fail:
            errs.append(f"docs: kubectl would refuse the patch of {m.group(2)}: {fail}")
            continue
        refs = route["spec"]["rules"][0]["backendRefs"]
        w = [ref.get("weight", 1) for ref in refs]
        if len(w) != 2 or not all(0 <= x <= 100 for x in w) or sum(w) != 100:
            errs.append(f"docs: after the patch {m.group(2)} has weights {w} (Django, Spin): each 0..100, together 100")
        history.setdefault(m.group(2), []).append(w[-1])
    walked = [n for n, h in history.items() if h[:4] == [10, 50, 100, 0]]
    if not errs and not walked:
        errs.append(f"docs: the checked block should walk one path 10 -> 50 -> 100 -> 0 (rollback); Spin weights: {history}")
    return list(dict.fromkeys(errs))


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
                            "overlays/dev/kustomization.yaml": "configMapGenerator:\n  - name: m\n    files:\n      - ../../x.sql\n",
                            "overlays/stg/kustomization.yaml": "resources: []\n",
                            "overlays/prod/kustomization.yaml": "resources: []\n"})
        try:
            return [e for e in check_overlay_refs(d) if "outside the kustomization root" in e]
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
            h["spec"]["scaleTargetRef"]["servce"] = "login"
            c.rendered["dev"].append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}})
        errs = check_crd_schemas(_mutated(ctx, f))
        return errs if len(errs) >= 5 and any("Widget" in e for e in errs) else []

    def executor_not_in_namespace():
        def f(c):
            c.rendered["stg"] = [o for o in c.rendered["stg"] if o["kind"] != "SpinAppExecutor"]
            for o in c.rendered["prod"]:
                if o["kind"] == "SpinAppExecutor":
                    o["metadata"]["namespace"] = "default"       # where the docs used to put it
            _app(c, "dev", "menu")["spec"]["executor"] = "containerd-shim-spin-v2"
        errs = check_operator_webhooks(_mutated(ctx, f))
        return errs if len(errs) >= 7 and all("spec.executor" in e for e in errs) else []

    def replicas_with_autoscaling():
        def f(c):
            _app(c, "dev", "login")["spec"]["replicas"] = 2
            s = _app(c, "stg", "order")["spec"]
            s["enableAutoscaling"] = False
            s.pop("replicas", None)
        errs = check_operator_webhooks(_mutated(ctx, f))
        return errs if len(errs) >= 2 and all("replicas" in e for e in errs) else []

    def invocation_memory_past_limit():
        def f(c):
            _app(c, "prod", "login")["spec"]["invocationLimits"]["memory"] = "300Mi"     # limit 256Mi
            _app(c, "prod", "menu")["spec"]["invocationLimits"]["memory"] = "lots"
            s = _app(c, "stg", "menu")["spec"]
            s["resources"]["limits"].pop("memory")
            s["invocationLimits"]["memory"] = "1Gi"                                     # > the request
        errs = check_operator_webhooks(_mutated(ctx, f))
        return errs if len(errs) >= 3 and all("invocationLimits.memory" in e for e in errs) else []

    def annotations_without_deployment():
        def f(c):
            _obj(c, "dev", "SpinAppExecutor", EXECUTOR)["spec"]["createDeployment"] = False
            _app(c, "dev", "order")["spec"]["podAnnotations"] = {"a": "b"}
        return check_operator_webhooks(_mutated(ctx, f))

    def executor_without_ca_certs():
        def f(c):
            _obj(c, "prod", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"]["installDefaultCACerts"] = False
            c.rendered["stg"] = [o for o in c.rendered["stg"] if o["kind"] != "SpinAppExecutor"]
        errs = check_spinapps(_mutated(ctx, f))
        return errs if len(errs) >= 2 else []

    def executor_runtime_and_image():
        def f(c):
            _obj(c, "prod", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"]["spinImage"] = "ghcr.io/x/spin:3.6"
            _obj(c, "stg", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"].pop("runtimeClassName")
            _obj(c, "dev", "SpinAppExecutor", EXECUTOR)["spec"].pop("createDeployment")
        errs = check_crd_schemas(_mutated(ctx, f))
        return errs if len(errs) >= 3 else []

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
            menu = _obj(c, "prod", "HTTPRoute", "menu")
            menu["spec"]["rules"][0]["matches"].pop()                         # /api/openapi.json
        errs = check_routes(_mutated(ctx, f))
        return errs if any("/api/openapi.json" in e and "not routed" in e for e in errs) else []

    def route_to_wrong_app():
        def f(c):
            _obj(c, "stg", "HTTPRoute", "order")["spec"]["rules"][0]["backendRefs"] = [
                {"name": "order", "port": 80, "weight": 90}, {"name": "menu", "port": 80, "weight": 10}]
            _obj(c, "prod", "HTTPRoute", "login")["spec"]["rules"][0]["backendRefs"][0]["port"] = 8080
        errs = check_routes(_mutated(ctx, f))
        return errs if any("stg: /api/order/ (order-create) goes to ['menu', 'order']" in e for e in errs) \
            and any("prod" in e and "port 8080" in e for e in errs) else []

    def route_unattached():
        def f(c):
            _obj(c, "stg", "HTTPRoute", "menu")["spec"]["parentRefs"][0].pop("sectionName")
            _obj(c, "prod", "HTTPRoute", "order")["spec"].pop("hostnames")
        errs = check_routes(_mutated(ctx, f))
        return errs if any("sectionName" in e for e in errs) and any("no hostnames" in e for e in errs) else []

    def dev_interceptor_broken():
        def f(c):
            c.rendered["dev"] = [o for o in c.rendered["dev"] if o["kind"] != "ReferenceGrant"]
            _obj(c, "dev", "HTTPScaledObject", "order")["spec"]["hosts"] = ["elsewhere.example.com"]
            _cfg(c, "dev")["trusted_proxy_hops"] = "1"
        errs = check_routes(_mutated(ctx, f))
        return errs if (any("ReferenceGrant" in e for e in errs) and any("HTTPScaledObject/order hosts" in e for e in errs)
                        and any("trusted_proxy_hops" in e for e in errs)) else []

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

    def presync_job_and_early_spinapp():
        def f(c):
            job = next(o for o in c.rendered["stg"] if o["kind"] == "Job" and o["metadata"]["name"] == "pizza-migrate")
            job["metadata"]["annotations"]["argocd.argoproj.io/hook"] = "PreSync"
            _app(c, "prod", "menu")["metadata"]["annotations"][ARGO_WAVE] = "0"
        errs = check_argo_order(_mutated(ctx, f))
        return errs if len(errs) == 2 else []

    def committed_secret():
        d = _tmp_kustomize({
            "spinkube/k/kustomization.yaml": "secretGenerator:\n  - name: s\n    literals: [password=x]\n"
                                             "  - name: t\n    envs: [t.env]\n",
            "spinkube/k/t.env": "password=y\n",
        })
        try:
            subprocess.run(["git", "init", "-q", d], check=True)
            errs = check_no_committed_credentials(d)
            return errs if len(errs) == 2 else []
        finally:
            shutil.rmtree(d)

    def migrator_drift():
        def f(c):
            job = _obj(c, "stg", "Job", "pizza-migrate")["spec"]["template"]["spec"]["containers"][0]
            job["image"] = job["image"].rsplit(":", 1)[0] + ":main-0000001"          # another build
            dev = _obj(c, "dev", "Job", "pizza-migrate")["spec"]["template"]["spec"]["containers"][0]
            dev["args"] = ["migrate"]
            for e in dev["env"]:
                if e["name"] == "LOGIN_DB_CONNECTION_LIMIT":
                    e["valueFrom"] = {"configMapKeyRef": {"name": "other", "key": "x"}}
            cj = _obj(c, "prod", "CronJob", "pizza-housekeeping")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            cj["containers"][0]["image"] = "postgres:17-alpine"
        errs = check_migrations(_mutated(ctx, f))
        return errs if (any(e.startswith("stg") and "tag" in e for e in errs) and any("pizza-db deploy" in e for e in errs)
                        and any("LOGIN_DB_CONNECTION_LIMIT" in e for e in errs)
                        and any("CronJob/pizza-housekeeping" in e for e in errs)) else []

    def rollout_broken():
        objs = render_rollout()
        menu = next(o for o in objs if o["kind"] == "HTTPRoute" and o["metadata"]["name"].endswith("-menu"))
        menu["spec"]["rules"][0]["backendRefs"][1]["name"] = "order"                # menu's path to order
        order = next(o for o in objs if o["kind"] == "HTTPRoute" and o["metadata"]["name"].endswith("-order"))
        order["spec"]["rules"][0]["backendRefs"][1]["weight"] = 10                  # live traffic on apply
        grant = next(o for o in objs if o["kind"] == "ReferenceGrant")
        grant["spec"]["to"] = [t for t in grant["spec"]["to"] if t.get("name") != "login"]
        errs = check_rollout(ctx, objs=objs)
        return errs if (any("-menu" in e and "backendRefs[1]" in e for e in errs) and any("weights" in e for e in errs)
                        and any("-login" in e and "ReferenceGrant" in e for e in errs)) else []

    def runbook_broken():
        with open(DOCS, encoding="utf-8") as fh:
            text = fh.read()
        if check_rollout_runbook(ctx, text):
            return []                    # the real block must pass, or this proves nothing
        wrong_index = text.replace("/spec/rules/0/backendRefs/1/name", "/spec/rules/0/backendRefs/0/name", 1)
        wrong_sum = text.replace("$((100 - $2))", "100", 1)
        a, b = check_rollout_runbook(ctx, wrong_index), check_rollout_runbook(ctx, wrong_sum)
        return a + b if a and b else []

    def docs_version_drift():
        with open(DOCS, encoding="utf-8") as fh:
            text = fh.read()
        return check_docs_version(text.replace(f"Kubernetes {K8S_MIN} or newer", "Kubernetes 1.29 or newer"))

    def expensive_readiness():
        def f(c):
            _app(c, "prod", "login")["spec"]["checks"]["readiness"]["httpGet"]["path"] = "/api/login/healthz"
            _app(c, "dev", "order")["spec"]["checks"]["liveness"]["httpGet"]["path"] = "/api/menu/"
            _app(c, "stg", "menu")["spec"]["components"].remove("menu-healthz")
        errs = check_probes(_mutated(ctx, f))
        return errs if (any("prod: SpinApp/login: readiness" in e and "database blip" in e for e in errs)
                        and any("dev: SpinApp/order: liveness" in e for e in errs)
                        and any("stg: SpinApp/menu" in e and "monitoring" in e for e in errs)) else []

    def pdb_blocks_drains():
        def f(c):
            _obj(c, "stg", "PodDisruptionBudget", "order")["spec"].pop("unhealthyPodEvictionPolicy")
            _obj(c, "prod", "PodDisruptionBudget", "pizza-db-pooler-ro")["spec"]["unhealthyPodEvictionPolicy"] = "IfHealthyBudget"
            c.rendered["prod"] = [o for o in c.rendered["prod"] if not (
                o["kind"] == "PodDisruptionBudget" and o["metadata"]["name"] == "pizza-db-pooler-rw")]
        errs = check_pdbs(_mutated(ctx, f))
        return errs if len(errs) >= 3 else []

    def statefulset_not_headless():
        def f(c):
            _obj(c, "dev", "StatefulSet", "postgres")["spec"]["serviceName"] = "postgres"
        return check_statefulsets(_mutated(ctx, f))

    def gateway_policy_wrong():
        def f(c):
            pol = copy.deepcopy(_obj(c, "stg", "NetworkPolicy", "pizza-app-from-gateway"))
            c.rendered["dev"].append(pol)                                  # dev: only the interceptor
            _obj(c, "stg", "NetworkPolicy", "pizza-app-from-gateway")["spec"]["ingress"][0]["from"][0]["podSelector"] = {}
            prod = _obj(c, "prod", "NetworkPolicy", "pizza-app-from-gateway")
            prod["spec"]["podSelector"] = {"matchLabels": {"pizza.shop/service": "login"}}   # menu, order unreachable
        errs = check_networkpolicies(_mutated(ctx, f))
        return errs if (any(e.startswith("stg") and "neither the Gateway" in e for e in errs)
                        and any(e.startswith("dev") and "send everything to the KEDA interceptor" in e for e in errs)
                        and any(e.startswith("prod") and "cannot reach SpinApp/menu" in e for e in errs)) else []

    def dev_db_host_mismatch():
        def f(c):
            cfg = next(o for o in c.rendered["dev"] if o["kind"] == "ConfigMap" and generated_base(o["metadata"]["name"]) == "pizza-config")
            cfg["data"]["db_host"] = "elsewhere:5432"
        return check_dev_database(_mutated(ctx, f))

    def _obj(c: Ctx, env: str, kind: str, name: str) -> dict:
        return next(o for o in c.rendered[env] if o["kind"] == kind and o["metadata"]["name"] == name)

    def _cfg(c: Ctx, env: str) -> dict:
        return next(o for o in c.rendered[env] if o["kind"] == "ConfigMap"
                    and generated_base(o["metadata"]["name"]) == "pizza-config")["data"]

    def hpa_past_budget():
        # prod's order HPA raised from 8 to 20 pods, nothing else: (8 + 20) x 64 = 1792
        # clients on the rw pooler, past its max_client_conn.
        return check_db_budget(_mutated(ctx, lambda c: _obj(c, "prod", "HorizontalPodAutoscaler", "order")["spec"]
                                        .__setitem__("maxReplicas", 20)))

    def limits_past_budget():
        def f(c):
            _cfg(c, "dev")["login_db_connection_limit"] = "200"          # 200 + 64 + 64 + 18 > 210
            _cfg(c, "stg")["order_db_connection_limit"] = "-1"           # no limit
            _obj(c, "prod", "Pooler", "pizza-db-pooler-rw")["spec"]["instances"] = 5   # 5 x 30 > 96
        errs = check_db_budget(_mutated(ctx, f))
        return errs if len(errs) >= 3 else []

    def db_path_broken():
        def f(c):
            c.rendered["prod"] = [o for o in c.rendered["prod"] if not (
                o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "pizza-db-pooler-ro-ingress")]
            c.rendered["stg"].append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                      "metadata": {"name": "oops"}, "spec": {
                                          "podSelector": {"matchLabels": {"app.kubernetes.io/component": "database"}},
                                          "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}})
            _obj(c, "stg", "NetworkPolicy", "pizza-app-to-poolers")["spec"]["egress"].append(
                {"to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "pizza-db"}}}], "ports": [{"port": 5432}]})
            _obj(c, "stg", "NetworkPolicy", "pizza-db-instances")["spec"]["ingress"].append(
                {"from": [{"podSelector": {"matchLabels": {"pizza.shop/role": "app"}}}]})
        errs = check_db_paths(_mutated(ctx, f))
        return errs if len(errs) >= 2 else []

    def admin_via_pooler():
        def f(c):
            np = _obj(c, "prod", "NetworkPolicy", "pizza-admin-to-db")
            np["spec"]["egress"][0]["to"] = [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "pizza-db"}}}]
        return check_networkpolicies(_mutated(ctx, f))

    def database_bypassed():
        def f(c):
            _obj(c, "prod", "Pooler", "pizza-db-pooler-rw")["spec"]["pgbouncer"]["poolMode"] = "session"
            _cfg(c, "stg")["db_host"] = "pizza-db-rw:5432"
            _obj(c, "stg", "Cluster", "pizza-db")["spec"]["plugins"] = []
        errs = check_database(_mutated(ctx, f))
        return errs if len(errs) >= 3 else []

    def model_errors():
        def f(c):
            _obj(c, "stg", "Cluster", "pizza-db")["spec"]["instances"] = "3"
            _obj(c, "stg", "Pooler", "pizza-db-pooler-ro")["spec"]["pgbouncer"]["poolMode"] = "statement"
            _obj(c, "prod", "ScheduledBackup", "pizza-db-nightly")["spec"]["method"] = "barman"
            _obj(c, "dev", "HTTPRoute", "menu")["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"
            _obj(c, "prod", "HTTPRoute", "order")["spec"]["rules"][0]["backendRefs"][0]["weight"] = "10"
            _obj(c, "dev", "ReferenceGrant", "pizza-dev-routes-to-interceptor")["spec"].pop("to")
            c.rendered["dev"].append({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
                                      "metadata": {"name": "x"}, "spec": {"scaleTargetRef": {"name": "x"},
                                                                         "minReplicaCount": "0", "triggers": "cpu"}})
        errs = check_models(_mutated(ctx, f))
        want = ("Cluster/pizza-db", "Pooler/pizza-db-pooler-ro", "ScheduledBackup/pizza-db-nightly",
                "HTTPRoute/menu", "HTTPRoute/order", "ReferenceGrant/", "ScaledObject/x")
        return errs if all(any(w in e for e in errs) for w in want) else []

    def objectstore_field_errors():
        def f(c):
            _obj(c, "prod", "ObjectStore", "pizza-db-backups")["spec"]["retentionPolicy"] = "30 days"
            _obj(c, "stg", "ObjectStore", "pizza-db-backups")["spec"]["configuration"]["serverName"] = "x"
        errs = check_crd_schemas(_mutated(ctx, f))
        return errs if len(errs) >= 2 else []

    return [
        ("yaml-parses detects a broken YAML file", broken_yaml),
        ("overlay-refs detects missing files", missing_overlay_file),
        ("overlay-refs detects a file outside the kustomization root", file_outside_root),
        ("core-schemas detects a bad Job", bad_core_object),
        ("crd-schemas detects SpinApp/HTTPScaledObject field errors and a kind with no schema", bad_spinapp_fields),
        ("operator-webhooks detects an executor missing from a SpinApp's namespace", executor_not_in_namespace),
        ("operator-webhooks detects replicas with enableAutoscaling, and none without", replicas_with_autoscaling),
        ("operator-webhooks detects invocationLimits.memory past the memory limit/request, or no quantity",
         invocation_memory_past_limit),
        ("operator-webhooks detects podAnnotations with an executor that creates no Deployment",
         annotations_without_deployment),
        ("crd-schemas detects a SpinAppExecutor with both/neither runtimeClassName and spinImage, no createDeployment",
         executor_runtime_and_image),
        ("components detects a component missing from spin.toml", unknown_component),
        ("variables detects a missing required app variable", missing_required_variable),
        ("variables detects a secret variable given as a literal", secret_from_literal),
        ("variables detects a component variable not provided", missing_component_variable),
        ("routes detects a private component exposed", private_route_exposed),
        ("routes detects a public route no HTTPRoute matches (/api/openapi.json)", public_route_unrouted),
        ("routes detects a weighted backend at the wrong SpinApp, and a wrong port", route_to_wrong_app),
        ("routes detects a parentRef without its listener, a route without hostnames", route_unattached),
        ("routes detects dev without its ReferenceGrant, KEDA hosts != route hosts, too few proxy hops",
         dev_interceptor_broken),
        ("chaining detects *.spin.internal across SpinApps", cross_app_chaining),
        ("scaling detects dev min>0 and an HPA min<2", no_scale_to_zero),
        ("networkpolicies detects open ingress/egress", open_networkpolicy),
        ("networkpolicies detects a Gateway peer of any pod, the Gateway in dev, a SpinApp it cannot reach",
         gateway_policy_wrong),
        ("probes detect a database readiness check, a liveness route that reaches out, no monitoring check",
         expensive_readiness),
        ("pdbs detect IfHealthyBudget (twice) and a Pooler without a PDB", pdb_blocks_drains),
        ("statefulsets detect a serviceName that is not headless", statefulset_not_headless),
        ("spinapps detects a non-SemVer prod tag", bad_image_tag),
        ("spinapps detects an executor without the CA bundle, and none in a namespace", executor_without_ca_certs),
        ("argo-order detects a PreSync migration Job and a SpinApp in an early wave", presync_job_and_early_spinapp),
        ("credentials detects a literal and a secret file that git would commit", committed_secret),
        ("migrations detects a migrator of another build, not `deploy`, a limit not from pizza-config, psql housekeeping",
         migrator_drift),
        ("dev-database detects db_host/URL drift", dev_db_host_mismatch),
        ("rollout detects a path split to the wrong SpinApp, Spin weight > 0, a missing grant", rollout_broken),
        ("rollout-runbook detects a patch testing the wrong index, weights not adding up to 100", runbook_broken),
        ("docs-version detects a minimum Kubernetes version that differs from ci/kubernetes-min-version",
         docs_version_drift),
        ("db-budget detects an HPA maximum raised past the budget (prod order 8 -> 20 pods)", hpa_past_budget),
        ("db-budget detects role limits over max_connections, no limit, a pooler over a limit", limits_past_budget),
        ("db-paths detects an app past its pooler, a pooler closed to its app", db_path_broken),
        ("networkpolicies detects the migration Job allowed to a pooler", admin_via_pooler),
        ("database detects a session pooler, a db_host past the pooler, no WAL archiving", database_bypassed),
        ("models detect CloudNativePG, Gateway API and KEDA type/enum/required errors", model_errors),
        ("crd-schemas detects ObjectStore field errors (a bad retention, an unknown field)", objectstore_field_errors),
    ]


# =========================================================================== main
def main() -> int:
    passed = failed = 0

    def report(name: str, errs: list[str] | None, notes: list[str] = ()) -> None:
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
        for n in notes:
            print(f"       {n}")

    if not shutil.which("kubectl"):
        print(NO_KUBECTL)
        return 1
    ctx = load_ctx()
    budget_notes: list[str] = []

    def budget():
        return check_db_budget(ctx, budget_notes)
    checks = [
        ("yaml-parses: every YAML file under spinkube/ parses", lambda: check_yaml_parses()),
        ("overlay-refs: every file an overlay/kustomization names exists", lambda: check_overlay_refs()),
        ("renders: dev, stg and prod render (kubectl kustomize)", lambda: check_renders(ctx)),
        (f"core-schemas: core kinds validate against Kubernetes {K8S_MIN} (the minimum) and {minor(newest_k8s_version())}",
         lambda: check_core_schemas(ctx)),
        (f"models: CloudNativePG/Gateway API/KEDA kinds validate against {model_package_versions()}",
         lambda: check_models(ctx)),
        ("crd-schemas: the kinds no package covers (SpinApp, SpinAppExecutor, HTTPScaledObject, ObjectStore)",
         lambda: check_crd_schemas(ctx)),
        ("operator-webhooks: what spin-operator's webhooks refuse (executor in the namespace, replicas, limits)",
         lambda: check_operator_webhooks(ctx)),
        ("spinapps: executor, one image, resources, limits, tags", lambda: check_spinapps(ctx)),
        ("probes: readiness and liveness on Spin's own health path; the database check kept for monitoring",
         lambda: check_probes(ctx)),
        ("components: every named component exists; each deployed once", lambda: check_components_exist(ctx)),
        ("variables: needed and required variables provided per SpinApp", lambda: check_variables(ctx)),
        ("routes: HTTPRoutes on a Gateway listener take each public route to its SpinApp, private ones nowhere",
         lambda: check_routes(ctx)),
        ("chaining: no *.spin.internal to another SpinApp", lambda: check_chaining(ctx)),
        ("scaling: dev KEDA min 0; stg/prod HPA min 2 + PDB", lambda: check_scaling(ctx)),
        ("pdbs: every PodDisruptionBudget evicts unready pods (AlwaysAllow); each Pooler has one", lambda: check_pdbs(ctx)),
        ("statefulsets: serviceName is a headless Service selecting the pods", lambda: check_statefulsets(ctx)),
        ("networkpolicies: the Gateway's pods (dev: the KEDA interceptor) in; DNS + PostgreSQL out",
         lambda: check_networkpolicies(ctx)),
        ("db-paths: each SpinApp reaches its pooler only; poolers and admin pods the server", lambda: check_db_paths(ctx)),
        ("database: stg/prod CloudNativePG cluster, backups, transaction poolers, db_host on them", lambda: check_database(ctx)),
        ("db-budget: role limits + reserve <= max_connections; HPA max x 64 within the poolers", budget),
        ("migrations: the Job runs `pizza-db deploy` of the app's build (housekeeping `purge`); secrets, limits",
         lambda: check_migrations(ctx)),
        ("argo-order: generated config and secrets, then the migration Job (Sync hook), then the SpinApps",
         lambda: check_argo_order(ctx)),
        ("credentials: no secretGenerator literal; every file one reads is git-ignored",
         lambda: check_no_committed_credentials()),
        ("dev-database: dev URLs match db_host and roles", lambda: check_dev_database(ctx)),
        ("rollout: weighted HTTPRoutes split each Django path with prod's SpinApp (Spin at 0), granted",
         lambda: check_rollout(ctx)),
        ("rollout-runbook: the kubectl patch steps in docs/deploy.md apply to the rollout routes",
         lambda: check_rollout_runbook(ctx)),
        (f"docs-version: docs/deploy.md states Kubernetes {K8S_MIN} or newer (ci/kubernetes-min-version)",
         lambda: check_docs_version()),
    ]
    for name, fn in checks:
        try:
            errs = fn()
            report(name, errs, budget_notes if fn is budget else ())
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

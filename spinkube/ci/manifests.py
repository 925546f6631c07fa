"""What the checks read: spin.toml and the overlays as `kubectl kustomize` renders them.

The shared model of spinkube/ci's pytest checks (conftest.py renders once per session):
the project's facts (namespaces, ports, services, the Secrets stg/prod expect), `Ctx`
(spin.toml plus the rendered objects of each overlay), lookups on those objects, and the
helpers the fault tests use to plant a fault in a deep copy of them.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SPINKUBE = os.path.dirname(HERE)
ROOT = os.path.dirname(SPINKUBE)

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
APP_PORT = 80                    # spin-operator's Service and container port
POSTGRES_PORT = 5432
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
    "pizza-admin-db": {"url", "password"},
    "pizza-db-ca": {"ca.crt"},
    "pizza-db-backup": {"ACCESS_KEY_ID", "ACCESS_SECRET_KEY"},
    # Payments (docs/deploy.md, "Payments"): the provider's key and webhook secret (the
    # provider issues them), and the relay's Bearer token (the order SpinApp and the ticker).
    "pizza-payment-provider": {"payment_provider_key"},
    "pizza-payment-webhook": {"payment_webhook_secret"},
    "pizza-relay": {"relay_token"},
}
SERVICES = ("login", "menu", "order", "admin")   # SpinApp name = service; its Secret pizza-<service>-db
# Each service's PostgreSQL role (the migrations create it; the migration Job gives it LOGIN,
# its password and its CONNECTION LIMIT): the user in its Secret's URL.
# pizza_<service>; the admin service's role is pizza_admin_api, as pizza_admin is the
# schema owner (crates/pizza-db SERVICE_ROLES, migration 0015).
ROLES = {svc: "pizza_admin_api" if svc == "admin" else f"pizza_{svc}" for svc in SERVICES}
# SpinApps that stg and prod run at a fixed number of replicas (spec.replicas, no HPA), with
# a PodDisruptionBudget: admin serves only the shop owner's screens. dev scales them to zero
# with KEDA like the others. The rest scale with an HPA (test_workloads.py).
FIXED_REPLICAS = ("admin",)
# What each SpinApp runs besides its own `<service>-*` components: order the payment
# provider components, chained from its relay (payments-test-provider in dev only); admin the
# staff web console (part of the shop's staff tooling, scaled to zero with admin in dev).
EXTRA_COMPONENTS = {"menu": ("docs-openapi",), "order": ("payments-provider", "payments-test-provider"),
                    "admin": ("console",)}
# Components that must reach nothing: no variables, no allowed_outbound_hosts (so no
# database, no chaining, no NetworkPolicy egress of their own), in every overlay. The web
# console: its files are compiled into the wasm; the browser calls the JSON API itself.
SELF_CONTAINED = {"console": "the staff web console: static files compiled into the wasm"}
# The web console (spin.toml route /console/...): its component, and the paths the Gateway
# must take to the SpinApp that runs it (Spin's wildcard also answers /console itself).
CONSOLE_COMPONENT = "console"
CONSOLE_PATHS = ("/console", "/console/", "/console/index.html", "/console/assets/app.js")
# Components that run in dev only, in exactly one SpinApp there, and in none in stg/prod.
DEV_ONLY = {"payments-test-provider": "the test payment provider: never where real money moves"}
# Components with a (non-private) route that no HTTPRoute may reach: called inside the
# cluster only. The relay: the relay ticker CronJob POSTs it (base/relay-ticker).
INTERNAL_ROUTES = {"order-relay": "the payment relay, POSTed by the relay ticker inside the cluster"}
# Secrets a SpinApp may read besides pizza-jwt and its own pizza-<service>-db.
SERVICE_SECRETS = {"order": ("pizza-payment-provider", "pizza-payment-webhook", "pizza-relay")}
# The payment pieces (docs/deploy.md, "Payments"): the relay component, the one component
# that calls the provider (at payment_provider_url, HTTPS outside dev), the ticker's pods.
RELAY_COMPONENT = "order-relay"
PROVIDER_COMPONENT = "payments-provider"
PROVIDER_URL_VAR = "payment_provider_url"
TICKER_ROLE = "relay-ticker"
HTTPS_PORT = 443
# The budget keys of pizza-config (base/kustomization.yaml; docs/deploy.md, "Database tier").
LIMIT_KEY = "{}_db_connection_limit"
RESERVE_KEY = "db_connection_reserve"
CNPG_GROUP = "postgresql.cnpg.io"
# The KEDA HTTP add-on's interceptor (dev): its pods (namespace, label key, value), which
# alone may talk to dev's app pods, and its proxy Service (namespace, name, port), where
# dev's HTTPRoutes send everything (its Helm chart's defaults; docs/deploy.md section 2).
KEDA_INTERCEPTOR = ("keda", "app.kubernetes.io/component", "interceptor")
KEDA_INTERCEPTOR_SERVICE = ("keda", "keda-add-ons-http-interceptor-proxy", 8080)
GATEWAY_GROUP = "gateway.networking.k8s.io"
# Observability (docs/deploy.md, "Observability"; spinkube/observability/): the OpenTelemetry
# Collector every overlay runs next to its SpinApps, its pods' role label, its Service and
# ports (OTLP over HTTP, which Spin uses; the Prometheus scrape path), and where its
# configuration and the Grafana dashboard live.
COLLECTOR_ROLE = "otel-collector"
COLLECTOR_SERVICE = "otel-collector"
OTLP_HTTP_PORT = 4318
OTLP_GRPC_PORT = 4317
COLLECTOR_METRICS_PORT = 8889
OBSERVABILITY = os.path.join(SPINKUBE, "observability")
NO_KUBECTL = ("kubectl not found: install kubectl (it carries kustomize) — "
              "https://kubernetes.io/docs/tasks/tools/")
TEMPLATE_RE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


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
    RuntimeError with kustomize's message when it refuses, or NO_KUBECTL without kubectl."""
    if not shutil.which("kubectl"):
        raise RuntimeError(NO_KUBECTL)
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


# =========================================================================== lookups
def api_group(obj: dict) -> str:
    api = obj.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


def namespace_of(obj: dict) -> str:
    return obj.get("metadata", {}).get("namespace") or "default"


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


def otel_endpoint(ctx: Ctx, env: str) -> str | None:
    """The OTLP endpoint the overlay's SpinAppExecutor gives its pods (deploymentConfig.otel
    .exporter_otlp_endpoint, which spin-operator passes as OTEL_EXPORTER_OTLP_ENDPOINT)."""
    x = ctx.find(env, "SpinAppExecutor", EXECUTOR)
    otel = (((x or {}).get("spec") or {}).get("deploymentConfig") or {}).get("otel") or {}
    return otel.get("exporter_otlp_endpoint")


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


def pod_template(o: dict) -> dict:
    """The pod template of a Job or CronJob."""
    return o["spec"]["jobTemplate"]["spec"]["template"] if o["kind"] == "CronJob" else o["spec"]["template"]


def pod_groups(ctx: Ctx, env: str) -> list[tuple[str, dict, str]]:
    """(what, pod labels, kind) of the pods this repository runs: 'app' (each SpinApp),
    'ticker' (the relay ticker's pods, pizza.shop/role TICKER_ROLE, which call the relay's
    SpinApp only) and 'admin' (the migration Job and housekeeping, which connect as the
    schema owner)."""
    out = [(f"SpinApp/{a['metadata']['name']}", a["spec"].get("podLabels") or {}, "app") for a in spinapps(ctx, env)]
    for o in ctx.objs(env, "Job") + ctx.objs(env, "CronJob"):
        labels = (pod_template(o).get("metadata") or {}).get("labels") or {}
        kind = "ticker" if labels.get("pizza.shop/role") == TICKER_ROLE else "admin"
        out.append((f"{o['kind']}/{o['metadata']['name']}", labels, kind))
    return out


def runs_component(ctx: Ctx, env: str, component: str) -> list[str]:
    """The SpinApps of an overlay that run `component`."""
    return [a["metadata"]["name"] for a in spinapps(ctx, env) if component in (a["spec"].get("components") or [])]


def resolve_template(ctx: Ctx, env: str, app: str, text: str) -> str | None:
    """`text` (a spin.toml template, e.g. an allowed_outbound_hosts entry) with each
    {{ variable }} replaced by the value SpinApp `app` gives it, else spin.toml's default;
    None where a variable has neither (or comes from a Secret)."""
    def value(m):
        v = app_variable(ctx, env, app, m.group(1))
        if v is None:
            v = (ctx.spin.variables.get(m.group(1)) or {}).get("default")
        if v is None:
            raise LookupError(m.group(1))
        return str(v)
    try:
        return TEMPLATE_RE.sub(value, text)
    except LookupError:
        return None


def provider_is_external(ctx: Ctx, env: str, app: str) -> bool:
    """Whether SpinApp `app` runs the provider component with payment_provider_url on a
    host outside the app (not `*.spin.internal`): its pods then need HTTPS egress."""
    a = ctx.find(env, "SpinApp", app)
    if not a or PROVIDER_COMPONENT not in (a["spec"].get("components") or []):
        return False
    url = resolve_template(ctx, env, app, "{{ %s }}" % PROVIDER_URL_VAR) or ""
    host = re.sub(r"^[a-z]+://", "", url).split("/")[0].split(":")[0]
    return bool(host) and not host.endswith(".spin.internal")


def generated_base(name: str) -> str:
    """pizza-jwt-7c9k2mh5bt -> pizza-jwt (strip kustomize's hash suffix)."""
    m = re.match(r"^(.*)-[a-z0-9]{10}$", name)
    return m.group(1) if m else name


def ref_target(ctx: Ctx, env: str, kind: str, name: str, key: str) -> str | None:
    """None if ok, else a problem. Generated objects carry a hash suffix."""
    for o in ctx.objs(env, kind):
        if o["metadata"]["name"] == name:
            data = o.get("data") or {}
            return None if key in data else f"{kind} {name} has no key {key!r}"
    base = generated_base(name)
    if kind == "Secret" and base == name and name in EXTERNAL_SECRETS:
        return None if key in EXTERNAL_SECRETS[name] else f"external Secret {name} has no key {key!r}"
    return f"{kind} {name} is neither rendered nor a documented external Secret"


def selects(selector: dict, labels: dict) -> bool:
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


def as_int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


QUANTITY_RE = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")
_SUFFIX = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
           "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
           "P": Decimal("1e15"), "E": Decimal("1e18"),
           "Ki": Decimal(2 ** 10), "Mi": Decimal(2 ** 20), "Gi": Decimal(2 ** 30), "Ti": Decimal(2 ** 40),
           "Pi": Decimal(2 ** 50), "Ei": Decimal(2 ** 60)}


def quantity(value) -> Decimal | None:
    """A Kubernetes resource quantity (128Mi, 0.5, 1e3, 100m) as a number; None if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if not isinstance(value, str) or not QUANTITY_RE.match(value):
        return None
    m = re.match(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$", value)
    number, suffix = Decimal(m.group(1)), m.group(2)
    if suffix[:1] in ("e", "E"):
        if not re.match(r"^[+-]?[0-9]+$", suffix[1:]):
            return None                   # Kubernetes takes integer exponents only
        return number * (Decimal(10) ** int(suffix[1:]))
    return number * _SUFFIX[suffix]


# =========================================================================== planting faults
def mutated(ctx: Ctx, fn) -> Ctx:
    """A deep copy of `ctx` after `fn(copy)`: the fault tests plant their fault there."""
    c = copy.deepcopy(ctx)
    fn(c)
    return c


def find_obj(c: Ctx, env: str, kind: str, name: str) -> dict:
    """The rendered object a fault test changes; LookupError if the overlay lacks it."""
    found = next((o for o in c.rendered[env] if o["kind"] == kind and o["metadata"]["name"] == name), None)
    if found is None:
        raise LookupError(f"{env} renders no {kind}/{name} to plant the fault in")
    return found


def spinapp(c: Ctx, env: str, name: str) -> dict:
    return find_obj(c, env, "SpinApp", name)


def config_data(c: Ctx, env: str) -> dict:
    """The data of the overlay's generated pizza-config ConfigMap (to change in place)."""
    return next(o for o in c.rendered[env] if o["kind"] == "ConfigMap"
                and generated_base(o["metadata"]["name"]) == "pizza-config")["data"]


def tmp_tree(files: dict) -> str:
    """A temporary folder holding `files` (relative path -> text); the caller removes it."""
    d = tempfile.mkdtemp(prefix="spinkube-faulttest-")
    for rel, text in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as fh:
            fh.write(text)
    return d


def no_errors(errs: list[str], limit: int = 25) -> None:
    """Fails the calling test with the problems a check found, one per line, no traceback."""
    if errs:
        shown = [f"- {e}" for e in errs[:limit]]
        if len(errs) > limit:
            shown.append(f"... {len(errs) - limit} more")
        pytest.fail("\n".join(shown), pytrace=False)

"""Observability (docs/deploy.md, "Observability"; spinkube/observability/): every overlay
runs the OpenTelemetry Collector, and its SpinAppExecutor's otel block sends the pods'
telemetry to that collector's Service by its real in-cluster DNS name and OTLP/HTTP port;
the collector's configuration parses and wires OTLP in -> spanmetrics and count -> the
Prometheus exporter on the Service's scrape port, traces to a trace sink; the count
connector's conditions pick out exactly the business events of the JSON log lines; the
NetworkPolicies let the app pods reach the collector on 4318 and nothing broader; the
telemetry pods follow the house's conventions; dev's optional Jaeger and Prometheus
components render, validate and are wired; the Grafana dashboard parses and every metric
its PromQL names is one the collector produces or the docs list."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import tempfile
from urllib.parse import urlsplit

import pytest
import yaml

from manifests import (COLLECTOR_METRICS_PORT, COLLECTOR_ROLE, COLLECTOR_SERVICE, DOCS, ENVS, EXECUTOR, OBSERVABILITY,
                       OTLP_GRPC_PORT, OTLP_HTTP_PORT, POSTGRES_PORT, SPINKUBE, APP_PORT, Ctx, api_group, find_obj,
                       generated_base, kustomize, mutated, namespace_of, no_errors, otel_endpoint, pod_groups,
                       selects, spinapps)
from test_network import reachable
from validators import core_groups, validate_core

DASHBOARD = os.path.join(OBSERVABILITY, "grafana", "pizza-red.json")
DEV_KUSTOMIZATION = os.path.join(SPINKUBE, "overlays", "dev", "kustomization.yaml")
OPTIONAL = ("jaeger", "prometheus")          # dev's optional components (observability/<name>)
TELEMETRY_ROLES = (COLLECTOR_ROLE, "jaeger", "prometheus")
# What the components' JSON log lines can list in "events" (docs/deploy.md): the count
# connector needs one counter for each.
BUSINESS_EVENTS = ("order.placed", "order.accepted", "order.baking", "order.ready", "order.completed",
                   "order.cancelled", "payment.succeeded", "payment.failed", "refund.succeeded",
                   "login.succeeded", "login.failed", "login.throttled", "relay.dead_lettered")
# The request span's attributes RED per route needs as spanmetrics dimensions.
RED_DIMENSIONS = ("http.route", "http.request.method", "http.response.status_code")
# Prometheus exporter naming (add_metric_suffixes, the default): units as words.
UNIT_WORDS = {"ms": "milliseconds", "s": "seconds"}
HOST_ONLY = re.compile(r"^(http_server_request_duration_seconds|db_client_connection_|spin_host_)")


# =========================================================================== helpers
def collector_pod_labels(ctx: Ctx, env: str) -> dict:
    d = find_collector(ctx, env)
    return ((d or {}).get("spec", {}).get("template", {}).get("metadata") or {}).get("labels") or {}


def find_collector(ctx: Ctx, env: str) -> dict | None:
    return next((d for d in ctx.objs(env, "Deployment")
                 if ((d["spec"]["template"].get("metadata") or {}).get("labels") or {}).get("pizza.shop/role")
                 == COLLECTOR_ROLE), None)


def deep_merge(base: dict, over: dict) -> dict:
    """The collector's merge of its --config files: maps merge key by key, anything else
    (lists included) is replaced by the later file's value."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def collector_config(ctx: Ctx, env: str) -> tuple[dict | None, list[str]]:
    """The configuration the collector Deployment runs: its --config=/conf/<key> args read
    from the ConfigMap mounted at /conf, merged in order; (None, problems) if it cannot."""
    d = find_collector(ctx, env)
    if d is None:
        return None, [f"{env}: no Deployment runs pods labelled pizza.shop/role={COLLECTOR_ROLE}"]
    pod = d["spec"]["template"]["spec"]
    c = pod["containers"][0]
    mounts = {m["mountPath"].rstrip("/"): m["name"] for m in c.get("volumeMounts") or []}
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    errs, merged = [], {}
    files = [a.split("=", 1)[1] for a in c.get("args") or [] if a.startswith("--config=")]
    if not files:
        return None, [f"{env}: Deployment/{d['metadata']['name']} has no --config=<file> argument"]
    for f in files:
        folder, key = os.path.split(f)
        cm_name = ((vols.get(mounts.get(folder, "")) or {}).get("configMap") or {}).get("name")
        cm = ctx.find(env, "ConfigMap", cm_name) if cm_name else None
        text = ((cm or {}).get("data") or {}).get(key)
        if text is None:
            errs.append(f"{env}: --config={f}: no rendered ConfigMap key {key!r} mounted at {folder}")
            continue
        try:
            merged = deep_merge(merged, yaml.safe_load(text) or {})
        except yaml.YAMLError as exc:
            errs.append(f"{env}: --config={f}: not YAML: {str(exc).splitlines()[0]}")
    return (merged if not errs else None), errs


def _port(endpoint: str | None) -> int | None:
    m = re.search(r":(\d+)$", str(endpoint or ""))
    return int(m.group(1)) if m else None


def service_port_to(ctx: Ctx, env: str, svc: dict, port: int, pod: dict) -> int | None:
    """The container port a Service's `port` leads to (a number or the pod's named port)."""
    for p in svc["spec"].get("ports") or []:
        if p.get("port") != port:
            continue
        target = p.get("targetPort", port)
        if isinstance(target, int):
            return target
        for c in pod["spec"]["template"]["spec"]["containers"]:
            for cp in c.get("ports") or []:
                if cp.get("name") == target:
                    return cp.get("containerPort")
    return None


# =========================================================================== the checks
def check_executor_otel(ctx: Ctx, envs=ENVS) -> list[str]:
    """Each overlay's SpinAppExecutor sets deploymentConfig.otel.exporter_otlp_endpoint to
    http://<Service>.<namespace>.svc.cluster.local:<port> (no path: the SDK appends /v1/traces,
    /v1/metrics, /v1/logs), where the Service exists in that namespace, selects the collector's
    pods, and its port leads to the container port of the collector's OTLP/HTTP receiver."""
    errs = []
    for env in envs:
        x = ctx.find(env, "SpinAppExecutor", EXECUTOR)
        url = otel_endpoint(ctx, env)
        if not x or not url:
            errs.append(f"{env}: SpinAppExecutor {EXECUTOR} has no deploymentConfig.otel.exporter_otlp_endpoint")
            continue
        ns = namespace_of(x)
        u = urlsplit(url)
        host, port = u.hostname or "", u.port
        m = re.match(rf"^([a-z0-9-]+)\.{re.escape(ns)}\.svc\.cluster\.local$", host)
        if u.scheme != "http" or not m or u.path not in ("", "/") or port is None:
            errs.append(f"{env}: otel endpoint {url!r} must be http://<Service>.{ns}.svc.cluster.local:<port>, no path")
            continue
        svc = next((s for s in ctx.objs(env, "Service") if s["metadata"]["name"] == m.group(1)
                    and namespace_of(s) == ns), None)
        d = find_collector(ctx, env)
        if svc is None or d is None:
            errs.append(f"{env}: otel endpoint {url!r}: no Service {m.group(1)} in {ns}, or no collector Deployment")
            continue
        if not selects({"matchLabels": svc["spec"].get("selector") or {"-": "-"}}, collector_pod_labels(ctx, env)):
            errs.append(f"{env}: Service/{svc['metadata']['name']} does not select the collector's pods")
            continue
        cfg, problems = collector_config(ctx, env)
        errs += problems
        want = _port((((((cfg or {}).get("receivers") or {}).get("otlp") or {}).get("protocols") or {})
                      .get("http") or {}).get("endpoint"))
        got = service_port_to(ctx, env, svc, port, d)
        if cfg is not None and (got is None or got != want or want != OTLP_HTTP_PORT):
            errs.append(f"{env}: otel endpoint {url!r} leads to container port {got}, but the collector's OTLP/HTTP "
                        f"receiver listens on {want} (expected {OTLP_HTTP_PORT})")
    return errs


def _components(pipeline: dict, kind: str) -> list[str]:
    return list(pipeline.get(kind) or [])


def check_collector_config(cfg: dict, where: str) -> list[str]:
    """The wiring: the otlp receiver (OTLP/HTTP on 4318) feeds traces, logs and metrics;
    traces export to spanmetrics (with the RED dimensions) and to a trace sink (debug or an
    OTLP exporter such as Jaeger's); logs to count, with a counter per business event;
    metrics receive otlp, spanmetrics and count and export to prometheus on 8889; every
    named component is defined, every defined one used, each connector both exported to
    and received from; memory_limiter first in every pipeline."""
    errs = []
    pipes = ((cfg.get("service") or {}).get("pipelines")) or {}
    defined = {k: set((cfg.get(k) or {}).keys()) for k in ("receivers", "processors", "exporters", "connectors", "extensions")}
    used = {k: set() for k in defined}
    for name, p in pipes.items():
        for kind in ("receivers", "processors", "exporters"):
            for comp in _components(p, kind):
                section = "connectors" if comp in defined["connectors"] and kind != "processors" else kind
                if comp not in defined[section]:
                    errs.append(f"{where}: pipeline {name} names {kind[:-1]} {comp!r}, which is not defined")
                used[section].add(comp)
        if (p.get("processors") or [None])[0] != "memory_limiter":
            errs.append(f"{where}: pipeline {name}: memory_limiter must be its first processor")
    for ext in (cfg.get("service") or {}).get("extensions") or []:
        used["extensions"].add(ext)
    for k in defined:
        for comp in sorted(defined[k] - used[k]):
            errs.append(f"{where}: {k[:-1]} {comp!r} is defined but no pipeline uses it")
    for conn in defined["connectors"]:
        exp = [n for n, p in pipes.items() if conn in (p.get("exporters") or [])]
        rec = [n for n, p in pipes.items() if conn in (p.get("receivers") or [])]
        if not exp or not rec:
            errs.append(f"{where}: connector {conn!r} must be an exporter of one pipeline and a receiver of another")

    def pipe(kind):
        return [p for n, p in pipes.items() if n.split("/")[0] == kind]

    def has(kind, role, comp):
        return any(comp in (p.get(role) or []) for p in pipe(kind))

    http = ((((cfg.get("receivers") or {}).get("otlp") or {}).get("protocols") or {}).get("http") or {})
    if _port(http.get("endpoint")) != OTLP_HTTP_PORT:
        errs.append(f"{where}: the otlp receiver must take OTLP/HTTP on {OTLP_HTTP_PORT} (Spin's http/protobuf)")
    for kind in ("traces", "logs", "metrics"):
        if not has(kind, "receivers", "otlp"):
            errs.append(f"{where}: no {kind} pipeline receives from otlp")
    if not has("traces", "exporters", "spanmetrics"):
        errs.append(f"{where}: no traces pipeline exports to spanmetrics (RED per route)")
    if not any(e == "debug" or e.split("/")[0] in ("otlp", "otlphttp")
               for p in pipe("traces") for e in p.get("exporters") or []):
        errs.append(f"{where}: the traces go nowhere but spanmetrics: export them to debug or an OTLP backend")
    if not has("logs", "exporters", "count"):
        errs.append(f"{where}: no logs pipeline exports to count (business events)")
    for r in ("otlp", "spanmetrics", "count"):
        if not has("metrics", "receivers", r):
            errs.append(f"{where}: no metrics pipeline receives from {r}")
    if not has("metrics", "exporters", "prometheus"):
        errs.append(f"{where}: no metrics pipeline exports to prometheus (the scrape path)")
    prom = (cfg.get("exporters") or {}).get("prometheus") or {}
    if _port(prom.get("endpoint")) != COLLECTOR_METRICS_PORT:
        errs.append(f"{where}: the prometheus exporter must serve on {COLLECTOR_METRICS_PORT}, has {prom.get('endpoint')!r}")
    sm = (cfg.get("connectors") or {}).get("spanmetrics") or {}
    dims = {d.get("name") for d in sm.get("dimensions") or []}
    for d in RED_DIMENSIONS:
        if d not in dims:
            errs.append(f"{where}: spanmetrics lacks the dimension {d}")
    counted = ((cfg.get("connectors") or {}).get("count") or {}).get("logs") or {}
    for e in BUSINESS_EVENTS:
        if f"pizza.events.{e}" not in counted:
            errs.append(f"{where}: count has no log metric pizza.events.{e}")
    return errs


def check_collector_configs(ctx: Ctx, envs=ENVS) -> list[str]:
    errs = []
    for env in envs:
        cfg, problems = collector_config(ctx, env)
        errs += problems
        if cfg is not None:
            errs += check_collector_config(cfg, f"{env}: collector")
            d = find_collector(ctx, env)
            health = _port((((cfg.get("extensions") or {}).get("health_check")) or {}).get("endpoint"))
            probe = ((d["spec"]["template"]["spec"]["containers"][0].get("readinessProbe") or {}).get("httpGet") or {})
            named = {p.get("name"): p.get("containerPort") for p in d["spec"]["template"]["spec"]["containers"][0].get("ports") or []}
            if named.get(probe.get("port"), probe.get("port")) != health:
                errs.append(f"{env}: the collector's readinessProbe port {probe.get('port')} is not health_check's {health}")
            svc = ctx.find(env, "Service", COLLECTOR_SERVICE)
            ann = ((svc or {}).get("metadata") or {}).get("annotations") or {}
            if (ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/port") != str(COLLECTOR_METRICS_PORT)
                    or service_port_to(ctx, env, svc, COLLECTOR_METRICS_PORT, d) != COLLECTOR_METRICS_PORT):
                errs.append(f"{env}: Service/{COLLECTOR_SERVICE} must expose and annotate the scrape path "
                            f"(prometheus.io/scrape \"true\", prometheus.io/port \"{COLLECTOR_METRICS_PORT}\")")
    return errs


OTTL_ISMATCH = re.compile(r'^IsMatch\(body,\s*("(?:\\.|[^\\"])*")\)$')


def event_condition_regexes(cfg: dict) -> dict[str, list[str]]:
    """event -> the regular expressions of its counter's conditions, as OTTL reads them
    (a Go string literal: \\" and \\\\ are escapes, an unknown escape such as \\s is an error)."""
    out = {}
    for name, metric in (((cfg.get("connectors") or {}).get("count") or {}).get("logs") or {}).items():
        rx = []
        for cond in metric.get("conditions") or []:
            m = OTTL_ISMATCH.match(cond.strip())
            if not m:
                raise ValueError(f"{name}: condition {cond!r} is not IsMatch(body, \"...\")")
            rx.append(json.loads(m.group(1)))          # Go's literal escapes, as far as these use them
        out[name.removeprefix("pizza.events.")] = rx
    return out


def _line(events: list[str], route: str = "/api/order/", member: str | None = "alice") -> str:
    return json.dumps({"type": "request", "request_id": "r-1", "trace_id": "0af7651916cd43dd8448eb211c80319c",
                       "method": "POST", "route": route, "member": member, "status": 201, "outcome": "ok",
                       "duration_ms": 1.2, "events": events}, separators=(",", ":"))


def check_event_conditions(cfg: dict) -> list[str]:
    """Each business event's counter matches a log line listing it (alone, among others,
    with a space after the colon) and no line that does not list it, not even one naming it
    elsewhere (the route or the member)."""
    errs = []
    try:
        rxs = event_condition_regexes(cfg)
    except (ValueError, json.JSONDecodeError) as exc:
        return [f"count connector: {exc}"]
    for e in BUSINESS_EVENTS:
        pats = rxs.get(e)
        if not pats:
            errs.append(f"count connector: no condition for {e}")
            continue
        others = [o for o in BUSINESS_EVENTS if o != e]
        yes = [_line([e]), _line(["order.placed", e]), _line([e, "payment.succeeded"]),
               _line([e]).replace('"events":', '"events": ')]
        no = [_line([]), _line(others), _line(others[:2], route=f"/api/{e}/", member=e),
              _line([e + "x"]), _line([e.replace(".", "_")])]
        for text in yes:
            if not any(re.search(p, text) for p in pats):
                errs.append(f"count connector: {e} does not count {text}")
        for text in no:
            if any(re.search(p, text) for p in pats):
                errs.append(f"count connector: {e} counts {text}, which does not list it")
    return errs


def check_collector_networkpolicies(ctx: Ctx, envs=ENVS) -> list[str]:
    """Both ends of every policy considered: each SpinApp's pods reach the collector on
    OTLP/HTTP (4318) and on no other of its ports; no other pod of the overlay (migration,
    housekeeping, the relay ticker, the database) reaches it; the collector reaches no app
    or database pod. And nothing broader is written: every ingress rule of a policy
    selecting the collector admits either the app pods on 4318 only or Prometheus' pods
    (one namespace by name or this one, pods by labels) on 8889 only."""
    errs = []
    for env in envs:
        coll = collector_pod_labels(ctx, env)
        if not coll:
            errs.append(f"{env}: no collector pods")
            continue
        for a in spinapps(ctx, env):
            labels, n = a["spec"].get("podLabels") or {}, a["metadata"]["name"]
            if not reachable(ctx, env, labels, coll, OTLP_HTTP_PORT):
                errs.append(f"{env}: SpinApp/{n} pods cannot reach the collector on {OTLP_HTTP_PORT}")
            for port in (OTLP_GRPC_PORT, COLLECTOR_METRICS_PORT, 13133):
                if reachable(ctx, env, labels, coll, port):
                    errs.append(f"{env}: SpinApp/{n} pods can reach the collector on {port} (only {OTLP_HTTP_PORT})")
            if reachable(ctx, env, coll, labels, APP_PORT):
                errs.append(f"{env}: the collector can reach SpinApp/{n} pods")
        for what, labels, kind in pod_groups(ctx, env):
            if kind != "app" and reachable(ctx, env, labels, coll, OTLP_HTTP_PORT):
                errs.append(f"{env}: {what} pods can reach the collector (only the SpinApps send telemetry)")
        for st in ctx.objs(env, "StatefulSet"):
            if reachable(ctx, env, coll, st["spec"]["template"]["metadata"].get("labels") or {}, POSTGRES_PORT):
                errs.append(f"{env}: the collector can reach StatefulSet/{st['metadata']['name']}")
        for np in ctx.objs(env, "NetworkPolicy"):
            if not np["spec"].get("podSelector") or not selects(np["spec"]["podSelector"], coll):
                continue
            name = f"{env}: NetworkPolicy/{np['metadata']['name']}"
            for rule in np["spec"].get("ingress") or []:
                ports = {p.get("port") for p in rule.get("ports") or []}
                peers = rule.get("from") or []
                if not peers or not ports:
                    errs.append(f"{name}: collector ingress without peers or ports admits too much")
                elif ports == {OTLP_HTTP_PORT}:
                    if any(p != {"podSelector": {"matchLabels": {"pizza.shop/role": "app"}}} for p in peers):
                        errs.append(f"{name}: OTLP ingress must admit the app pods (pizza.shop/role app) only: {peers}")
                elif ports == {COLLECTOR_METRICS_PORT}:
                    for p in peers:
                        pod = (p.get("podSelector") or {}).get("matchLabels") or {}
                        ns = (p.get("namespaceSelector") or {}).get("matchLabels") or {}
                        if not (pod and "prometheus" in pod.values()) or ("namespaceSelector" in p
                                                                          and set(ns) != {"kubernetes.io/metadata.name"}):
                            errs.append(f"{name}: scrape ingress peer {p} is not Prometheus' pods")
                else:
                    errs.append(f"{name}: collector ingress on {sorted(map(str, ports))}: only {OTLP_HTTP_PORT} "
                                f"(app pods) and {COLLECTOR_METRICS_PORT} (Prometheus)")
    return errs


def check_telemetry_pods(ctx: Ctx, envs=ENVS) -> list[str]:
    """The collector (and dev's Jaeger and Prometheus) follow the house's conventions: a
    pinned image (a version tag or a digest), no service account token, runAsNonRoot with a
    numeric non-zero user, seccomp RuntimeDefault, no privilege escalation, a read-only root
    filesystem, all capabilities dropped, CPU and memory requests and limits, a readiness
    probe, the part-of label; no pizza.shop/rollout label (applied before the SpinApps)."""
    errs = []
    for env in envs:
        for d in ctx.objs(env, "Deployment"):
            role = ((d["spec"]["template"].get("metadata") or {}).get("labels") or {}).get("pizza.shop/role")
            if role not in TELEMETRY_ROLES:
                continue
            where = f"{env}: Deployment/{d['metadata']['name']}"
            pod = d["spec"]["template"]["spec"]
            psc = pod.get("securityContext") or {}
            if pod.get("automountServiceAccountToken") is not False:
                errs.append(f"{where}: automountServiceAccountToken must be false")
            if not (psc.get("runAsNonRoot") and isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0
                    and (psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault"):
                errs.append(f"{where}: the pod needs runAsNonRoot, a numeric non-zero runAsUser and seccomp RuntimeDefault")
            for c in pod["containers"]:
                image = str(c.get("image", ""))
                tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
                if "@sha256:" not in image and (not re.match(r"^v?\d+\.\d+\.\d+$", tag)):
                    errs.append(f"{where}: image {image!r} must be pinned to a release (x.y.z) or a digest")
                csc = c.get("securityContext") or {}
                if not (csc.get("allowPrivilegeEscalation") is False and csc.get("readOnlyRootFilesystem") is True
                        and (csc.get("capabilities") or {}).get("drop") == ["ALL"]):
                    errs.append(f"{where}: {c['name']} needs allowPrivilegeEscalation false, readOnlyRootFilesystem "
                                "true and capabilities drop ALL")
                res = c.get("resources") or {}
                for part in ("requests", "limits"):
                    for r in ("cpu", "memory"):
                        if r not in (res.get(part) or {}):
                            errs.append(f"{where}: {c['name']}: resources.{part}.{r} missing")
                if not c.get("readinessProbe"):
                    errs.append(f"{where}: {c['name']} has no readinessProbe")
            labels = d["metadata"].get("labels") or {}
            if labels.get("app.kubernetes.io/part-of") != "pizza-shop" or "pizza.shop/rollout" in labels:
                errs.append(f"{where}: needs app.kubernetes.io/part-of pizza-shop and no pizza.shop/rollout")
    return errs


# --------------------------------------------------------------------------- the optional components
def render_with(components: tuple[str, ...]) -> list[dict]:
    """The dev overlay as a user enables `components` (uncommenting their lines in
    overlays/dev/kustomization.yaml, as docs/deploy.md says), rendered from a copy of
    spinkube/ (nothing in the tree is written)."""
    with open(DEV_KUSTOMIZATION, encoding="utf-8") as fh:
        text = fh.read()
    for comp in components:
        line = f"  # - ../../observability/{comp}\n"
        if line not in text:
            raise LookupError(f"overlays/dev/kustomization.yaml has no line {line.strip()!r} to uncomment")
        text = text.replace(line, f"  - ../../observability/{comp}\n")
    tmp = tempfile.mkdtemp(prefix="spinkube-observability-")
    try:
        dst = os.path.join(tmp, "spinkube")
        shutil.copytree(SPINKUBE, dst, ignore=shutil.ignore_patterns(".venv", "__pycache__", "node_modules", "ci"))
        with open(os.path.join(dst, "overlays", "dev", "kustomization.yaml"), "w", encoding="utf-8") as fh:
            fh.write(text)
        return kustomize(os.path.join(dst, "overlays", "dev"))
    finally:
        shutil.rmtree(tmp)


@pytest.fixture(scope="session")
def optional_renders(rendered) -> dict:
    """component name (or "both") -> a Ctx whose "dev" is dev with it enabled, or the error."""
    out = {}
    for name, comps in (("jaeger", ("jaeger",)), ("prometheus", ("prometheus",)), ("both", OPTIONAL)):
        c = Ctx(rendered.spin)
        try:
            c.rendered["dev"] = render_with(comps)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            c.render_errors["dev"] = str(exc)
        out[name] = c
    return out


def check_jaeger(c: Ctx) -> list[str]:
    """dev + jaeger: the collector runs the Jaeger layer and exports traces by OTLP to the
    Jaeger Service's OTLP port, which leads to Jaeger's OTLP gRPC port; the collector
    reaches Jaeger there, and nothing else (no app pod) does."""
    errs = []
    cfg, problems = collector_config(c, "dev")
    if cfg is None:
        return problems
    errs += check_collector_config(cfg, "dev+jaeger: collector")
    exporters = [e for p in (cfg["service"]["pipelines"]).values() if "otlp" in (p.get("receivers") or [])
                 for e in p.get("exporters") or [] if e.startswith("otlp/")]
    jd = next((d for d in c.objs("dev", "Deployment") if d["spec"]["template"]["metadata"]["labels"].get("pizza.shop/role") == "jaeger"), None)
    if not exporters or jd is None:
        return errs + ["dev+jaeger: no OTLP trace exporter in the collector's configuration, or no Jaeger Deployment"]
    endpoint = (cfg["exporters"].get(exporters[0]) or {}).get("endpoint", "")
    host, _, port = endpoint.rpartition(":")
    svc = c.find("dev", "Service", host.split(".")[0])
    jpod = jd["spec"]["template"]["metadata"]["labels"]
    if svc is None or not selects({"matchLabels": svc["spec"].get("selector") or {"-": "-"}}, jpod):
        errs.append(f"dev+jaeger: {exporters[0]} endpoint {endpoint!r} names no Service of Jaeger's pods")
    elif service_port_to(c, "dev", svc, int(port or 0), jd) != OTLP_GRPC_PORT:
        errs.append(f"dev+jaeger: {exporters[0]} endpoint {endpoint!r} does not lead to Jaeger's OTLP gRPC port")
    coll = collector_pod_labels(c, "dev")
    if not reachable(c, "dev", coll, jpod, OTLP_GRPC_PORT):
        errs.append("dev+jaeger: the collector cannot reach Jaeger on 4317")
    for a in spinapps(c, "dev"):
        if reachable(c, "dev", a["spec"].get("podLabels") or {}, jpod, OTLP_GRPC_PORT):
            errs.append(f"dev+jaeger: SpinApp/{a['metadata']['name']} pods can reach Jaeger")
    return errs


def check_prometheus(c: Ctx) -> list[str]:
    """dev + prometheus: Prometheus scrapes the collector's Service on the scrape port,
    which leads to the prometheus exporter's port, and may reach it there."""
    errs = []
    pd = next((d for d in c.objs("dev", "Deployment") if d["spec"]["template"]["metadata"]["labels"].get("pizza.shop/role") == "prometheus"), None)
    cm = next((o for o in c.objs("dev", "ConfigMap") if generated_base(o["metadata"]["name"]) == "prometheus-config"), None)
    if pd is None or cm is None:
        return ["dev+prometheus: no Prometheus Deployment or prometheus-config ConfigMap"]
    scrape = yaml.safe_load(cm["data"]["prometheus.yml"]) or {}
    targets = [t for j in scrape.get("scrape_configs") or [] for s in j.get("static_configs") or [] for t in s.get("targets") or []]
    coll, cd = collector_pod_labels(c, "dev"), find_collector(c, "dev")
    cfg, problems = collector_config(c, "dev")
    errs += problems
    exporter_port = _port(((cfg or {}).get("exporters") or {}).get("prometheus", {}).get("endpoint"))
    ok = False
    for t in targets:
        host, _, port = t.rpartition(":")
        svc = c.find("dev", "Service", host.split(".")[0])
        if svc and selects({"matchLabels": svc["spec"].get("selector") or {"-": "-"}}, coll) \
                and service_port_to(c, "dev", svc, int(port or 0), cd) == exporter_port:
            ok = True
    if not ok:
        errs.append(f"dev+prometheus: no scrape target {targets} leads to the collector's prometheus exporter ({exporter_port})")
    if not reachable(c, "dev", pd["spec"]["template"]["metadata"]["labels"], coll, COLLECTOR_METRICS_PORT):
        errs.append(f"dev+prometheus: Prometheus cannot reach the collector on {COLLECTOR_METRICS_PORT}")
    return errs


def check_optional_render(c: Ctx, what: str) -> list[str]:
    if "dev" in c.render_errors:
        return [f"dev+{what}: {c.render_errors['dev']}"]
    objs = c.objs("dev")
    errs = validate_core([(f"dev+{what}: {o['kind']}/{o['metadata']['name']}", o) for o in objs if api_group(o) in core_groups()])
    errs += check_telemetry_pods(c, ["dev"])
    errs += check_collector_networkpolicies(c, ["dev"])
    errs += check_executor_otel(c, ["dev"])
    wrong_ns = [f"{o['kind']}/{o['metadata']['name']}" for o in objs
                if o["kind"] not in ("Namespace", "ReferenceGrant") and namespace_of(o) != "pizza-dev"]
    if wrong_ns:
        errs.append(f"dev+{what}: objects outside pizza-dev: {wrong_ns}")
    return errs


# --------------------------------------------------------------------------- the dashboard
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                "offset", "le", "inf", "nan"}


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (function names, label matchers,
    grouping labels, strings, durations and Grafana variables left out)."""
    e = re.sub(r'"(?:\\.|[^\\"])*"', '""', expr)
    e = re.sub(r"\blabel_values\(([^,()]+(?:\{[^}]*\})?)\s*,\s*\w+\s*\)", r"\1", e)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\{?[A-Za-z_]\w*\}?", "", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or m.group(0).lower() in PROMQL_WORDS:
            continue
        if re.match(r"^\d", m.group(0)) or (m.start() and (e[m.start() - 1].isdigit() or e[m.start() - 1] == ".")):
            continue
        names.add(m.group(0))
    return names


def collector_metrics(cfg: dict) -> set[str]:
    """The Prometheus names of what the collector's connectors make (the prometheus
    exporter's naming: dots to underscores, the unit as a word, _total on counters)."""
    conn = cfg.get("connectors") or {}
    sm = conn.get("spanmetrics") or {}
    ns = (sm.get("namespace") or "traces.span.metrics").replace(".", "_")
    unit = UNIT_WORDS[((sm.get("histogram") or {}).get("unit") or "ms")]
    out = {f"{ns}_calls_total"} | {f"{ns}_duration_{unit}_{s}" for s in ("bucket", "sum", "count")}
    for name in ((conn.get("count") or {}).get("logs") or {}):
        out.add(re.sub(r"[^A-Za-z0-9_]", "_", name) + "_total")
    return out


def documented_metrics(docs_text: str) -> set[str]:
    """The Prometheus metric names docs/deploy.md's Observability section lists (in backticks)."""
    m = re.search(r"^## \d*\.?\s*Observability.*?(?=^## |\Z)", docs_text, re.S | re.M)
    return set(re.findall(r"`([a-z_:][a-z0-9_:]*)`", m.group(0))) if m else set()


def _targets(dash: dict):
    for p in dash.get("panels") or []:
        for q in [p] + list(p.get("panels") or []):
            for t in q.get("targets") or []:
                yield q, t.get("expr", "")
    for v in (dash.get("templating") or {}).get("list") or []:
        if v.get("type") == "query":
            q = v.get("query")
            yield v, (q.get("query") if isinstance(q, dict) else q) or ""


def check_dashboard(text: str, known: set[str]) -> list[str]:
    """The dashboard is JSON with a Prometheus datasource variable that every panel and
    query uses; each query names only metrics in `known`; panels of our host's metrics
    say so in their description."""
    try:
        dash = json.loads(text)
    except json.JSONDecodeError as exc:
        return [f"pizza-red.json: not JSON: {exc}"]
    errs = []
    var = next((v for v in (dash.get("templating") or {}).get("list") or []
                if v.get("type") == "datasource" and v.get("query") == "prometheus"), None)
    if var is None:
        return ["pizza-red.json: no datasource variable of type prometheus"]
    ref = "${%s}" % var["name"]
    if not dash.get("uid") or not dash.get("title") or not isinstance(dash.get("schemaVersion"), int):
        errs.append("pizza-red.json: needs uid, title and schemaVersion")
    seen = 0
    for owner, expr in _targets(dash):
        title = owner.get("title") or owner.get("name")
        if (owner.get("datasource") or {}).get("uid") != ref:
            errs.append(f"pizza-red.json: {title!r} does not use the datasource variable {ref}")
        names = promql_metrics(expr)
        if not names:
            errs.append(f"pizza-red.json: {title!r}: {expr!r} selects no metric")
        for n in sorted(names - known):
            errs.append(f"pizza-red.json: {title!r} queries {n}, which neither the collector makes nor "
                        "docs/deploy.md (Observability) lists")
        if any(HOST_ONLY.match(n) for n in names) and "make up" not in (owner.get("description") or ""):
            errs.append(f"pizza-red.json: {title!r} shows our host's metrics: its description must say so (make up)")
        seen += 1
    if not seen:
        errs.append("pizza-red.json: no query")
    return errs


def dashboard_known_metrics(ctx: Ctx) -> set[str]:
    cfg, _ = collector_config(ctx, "dev")
    with open(DOCS, encoding="utf-8") as fh:
        return collector_metrics(cfg or {}) | documented_metrics(fh.read())


# =========================================================================== tests
@pytest.mark.parametrize("env", ENVS)
def test_the_executor_sends_telemetry_to_the_collector_service_by_its_dns_name_and_otlp_http_port(ctx, env):
    no_errors(check_executor_otel(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_the_collector_config_wires_otlp_to_spanmetrics_count_and_the_prometheus_scrape_path(ctx, env):
    no_errors(check_collector_configs(ctx, [env]))


def test_the_count_connector_counts_exactly_the_lines_that_list_each_business_event(ctx):
    cfg, problems = collector_config(ctx, "dev")
    no_errors(problems or check_event_conditions(cfg))


@pytest.mark.parametrize("env", ENVS)
def test_app_pods_reach_the_collector_on_otlp_http_only_and_nothing_broader_is_allowed(ctx, env):
    no_errors(check_collector_networkpolicies(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_telemetry_pods_are_pinned_locked_down_and_bounded(ctx, env):
    no_errors(check_telemetry_pods(ctx, [env]))


@pytest.mark.parametrize("what", ["jaeger", "prometheus", "both"])
def test_dev_renders_and_validates_with_the_optional_components(optional_renders, what):
    c = optional_renders[what]
    errs = check_optional_render(c, what)
    if not errs and what in ("jaeger", "both"):
        errs += check_jaeger(c)
    if not errs and what in ("prometheus", "both"):
        errs += check_prometheus(c)
    no_errors(errs)


def test_the_dashboard_parses_and_queries_only_metrics_the_collector_makes_or_the_docs_list(ctx):
    with open(DASHBOARD, encoding="utf-8") as fh:
        no_errors(check_dashboard(fh.read(), dashboard_known_metrics(ctx)))


def test_the_docs_list_the_metrics_and_how_to_follow_one_slow_order():
    """docs/deploy.md's Observability section lists Spin's metrics, our host's, the scrape
    path, the dashboard's file, and the way from a request_id to its trace."""
    with open(DOCS, encoding="utf-8") as fh:
        text = fh.read()
    m = re.search(r"^## \d*\.?\s*Observability.*?(?=^## |\Z)", text, re.S | re.M)
    errs = [] if m else ["docs/deploy.md has no '## Observability' section"]
    section = m.group(0) if m else ""
    for needle in ("spin_request_count_total", "http_server_request_duration_seconds", "db_client_connection_count",
                   "spin_host_instances_active", ":8889/metrics", "observability/grafana/pizza-red.json",
                   "request_id", "trace_id", "port-forward", "POST /api/order/", "exporter_otlp_endpoint"):
        if needle not in section:
            errs.append(f"docs/deploy.md, Observability: does not mention {needle}")
    no_errors(errs)


# =========================================================================== planted faults
def test_executor_check_catches_a_wrong_namespace_the_grpc_port_a_path_and_no_otel_block(ctx):
    def f(c):
        find_obj(c, "dev", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"]["otel"][
            "exporter_otlp_endpoint"] = "http://otel-collector.pizza-stg.svc.cluster.local:4318"
        find_obj(c, "stg", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"]["otel"][
            "exporter_otlp_endpoint"] = "http://otel-collector.pizza-stg.svc.cluster.local:4317"
        find_obj(c, "prod", "SpinAppExecutor", EXECUTOR)["spec"]["deploymentConfig"].pop("otel")
    errs = check_executor_otel(mutated(ctx, f))
    assert (any(e.startswith("dev: otel endpoint") for e in errs) and any(e.startswith("stg:") and "4317" in e for e in errs)
            and any(e.startswith("prod:") and "no deploymentConfig.otel" in e for e in errs)), errs


def _config_cm(c: Ctx, env: str) -> dict:
    return next(o for o in c.rendered[env] if o["kind"] == "ConfigMap"
                and generated_base(o["metadata"]["name"]) == "otel-collector-config")


def test_config_check_catches_a_missing_count_exporter_a_wrong_scrape_port_and_an_undefined_exporter(ctx):
    def f(c):
        cm = _config_cm(c, "stg")
        cfg = yaml.safe_load(cm["data"]["collector.yaml"])
        cfg["service"]["pipelines"]["logs"]["exporters"] = ["debug"]
        cfg["exporters"]["prometheus"]["endpoint"] = "0.0.0.0:9999"
        cfg["service"]["pipelines"]["traces"]["exporters"].append("otlp/nowhere")
        cfg["connectors"]["spanmetrics"]["dimensions"] = [{"name": "http.method"}]
        cm["data"]["collector.yaml"] = yaml.safe_dump(cfg)
    errs = check_collector_configs(mutated(ctx, f), ["stg"])
    want = ("no logs pipeline exports to count", "serve on 8889", "'otlp/nowhere', which is not defined",
            "must be an exporter of one pipeline", "lacks the dimension http.route")
    assert all(any(w in e for e in errs) for w in want), errs


def test_config_check_catches_args_naming_a_key_the_configmap_lacks(ctx):
    def f(c):
        find_collector(c, "prod")["spec"]["template"]["spec"]["containers"][0]["args"].append("--config=/conf/jaeger.yaml")
    errs = check_collector_configs(mutated(ctx, f), ["prod"])
    assert any("jaeger.yaml" in e for e in errs), errs


def test_event_check_catches_a_condition_that_matches_the_event_anywhere_and_a_bad_escape(ctx):
    cfg, _ = collector_config(ctx, "dev")
    loose = copy.deepcopy(cfg)
    loose["connectors"]["count"]["logs"]["pizza.events.order.placed"]["conditions"] = ['IsMatch(body, "order\\\\.placed")']
    errs = check_event_conditions(loose)
    assert any("order.placed counts" in e for e in errs), errs
    bad = copy.deepcopy(cfg)
    bad["connectors"]["count"]["logs"]["pizza.events.login.failed"]["conditions"] = ['IsMatch(body, "\\s*login")']
    assert check_event_conditions(bad)


def test_collector_policy_check_catches_otlp_open_to_every_pod_and_the_collector_closed_to_the_app(ctx):
    def f(c):
        np = find_obj(c, "stg", "NetworkPolicy", "pizza-otel-collector")
        np["spec"]["ingress"][0]["from"] = [{"podSelector": {}}]
        c.rendered["prod"] = [o for o in c.rendered["prod"] if not (
            o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "pizza-app-to-otel-collector")]
        dev = find_obj(c, "dev", "NetworkPolicy", "pizza-otel-collector")
        dev["spec"]["ingress"][0]["ports"].append({"port": 4317})
        dev["spec"]["ingress"].append({"from": [{"podSelector": {"matchLabels": {"pizza.shop/role": "relay-ticker"}}}],
                                       "ports": [{"port": 4318}]})
        c.rendered["dev"].append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                  "metadata": {"name": "oops"}, "spec": {
                                      "podSelector": {"matchLabels": {"pizza.shop/role": "relay-ticker"}},
                                      "policyTypes": ["Egress"],
                                      "egress": [{"to": [{"podSelector": {"matchLabels": {
                                          "pizza.shop/role": "otel-collector"}}}], "ports": [{"port": 4318}]}]}})
    errs = check_collector_networkpolicies(mutated(ctx, f))
    assert (any(e.startswith("dev: CronJob/") and "can reach the collector" in e for e in errs)
            and any(e.startswith("stg: NetworkPolicy/pizza-otel-collector") and "app pods" in e for e in errs)
            and any(e.startswith("prod: SpinApp/") and "cannot reach the collector" in e for e in errs)
            and any(e.startswith("dev: NetworkPolicy/pizza-otel-collector") and "4317" in e for e in errs)), errs


def test_app_policy_check_catches_otlp_egress_to_every_pod(ctx):
    from test_network import check_networkpolicies
    def f(c):
        np = find_obj(c, "dev", "NetworkPolicy", "pizza-app-to-otel-collector")
        np["spec"]["egress"][0]["to"] = [{"podSelector": {}}]
    errs = check_networkpolicies(mutated(ctx, f), ["dev"])
    assert any("OTLP egress must go to the collector's pods" in e for e in errs), errs


def test_pod_check_catches_a_latest_image_a_writable_root_and_no_limits(ctx):
    def f(c):
        pod = find_collector(c, "prod")["spec"]["template"]["spec"]
        pod["containers"][0]["image"] = "otel/opentelemetry-collector-contrib:latest"
        pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
        pod["containers"][0]["resources"].pop("limits")
        pod["securityContext"].pop("runAsUser")
    errs = check_telemetry_pods(mutated(ctx, f), ["prod"])
    assert len(errs) >= 5, errs


def test_optional_checks_catch_jaeger_unreachable_and_prometheus_scraping_the_wrong_port(optional_renders):
    c = copy.deepcopy(optional_renders["both"])
    c.rendered["dev"] = [o for o in c.rendered["dev"] if not (
        o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "pizza-otel-collector-to-jaeger")]
    cm = next(o for o in c.rendered["dev"] if o["kind"] == "ConfigMap"
              and generated_base(o["metadata"]["name"]) == "prometheus-config")
    cm["data"]["prometheus.yml"] = cm["data"]["prometheus.yml"].replace("otel-collector:8889", "otel-collector:4318")
    assert any("cannot reach Jaeger" in e for e in check_jaeger(c))
    assert any("no scrape target" in e for e in check_prometheus(c))


def test_optional_render_reports_a_component_line_the_dev_overlay_lacks():
    with pytest.raises(LookupError):
        render_with(("grafana",))


def test_dashboard_check_catches_an_unknown_metric_a_host_panel_without_a_word_and_no_datasource_variable(ctx):
    with open(DASHBOARD, encoding="utf-8") as fh:
        dash = json.load(fh)
    known = dashboard_known_metrics(ctx)
    bad = copy.deepcopy(dash)
    p = next(p for p in bad["panels"] if p.get("targets"))
    p["targets"][0]["expr"] = "sum(rate(traces_spanmetrics_calls_total[5m]))"
    host = next(p for p in bad["panels"] if any("db_client_connection_count" in t.get("expr", "") for t in p.get("targets") or []))
    host["description"] = "connections"
    errs = check_dashboard(json.dumps(bad), known)
    assert any("traces_spanmetrics_calls_total" in e for e in errs) and any("must say so" in e for e in errs), errs
    nods = copy.deepcopy(dash)
    nods["templating"]["list"] = [v for v in nods["templating"]["list"] if v.get("type") != "datasource"]
    assert check_dashboard(json.dumps(nods), known)
    assert check_dashboard("{not json", known)


def test_promql_metric_extraction():
    assert promql_metrics('histogram_quantile(0.95, sum by (le, http_route) (rate(x_bucket{a="b", c=~"5.."}[$__rate_interval])))') == {"x_bucket"}
    assert promql_metrics("sum(increase(a_total[$__range])) / (sum(b) + 1e3)") == {"a_total", "b"}
    assert promql_metrics('label_values(y{span_kind="SPAN_KIND_SERVER"}, http_route)') == {"y"}

"""Gateway API routing as the rendered HTTPRoutes define it: the rule table of an overlay,
Gateway API's precedence (an Exact match, else the longest whole-element PathPrefix), the
backend each rule reaches (through the KEDA interceptor in dev), and ReferenceGrants.
Used by test_routes.py and test_rollout.py; test_network.py asks whether dev routes
through the interceptor."""
from __future__ import annotations

from dataclasses import dataclass

from manifests import (APP_PORT, GATEWAY_GROUP, KEDA_INTERCEPTOR_SERVICE, Ctx, api_group, namespace_of,
                       spinapps)


def route_path(route: str) -> str:
    return route[:-4] + "/probe" if route.endswith("/...") else route


def route_probes(route: str) -> list[str]:
    """The paths a spin.toml route answers that routing must get right: the route itself,
    or for a wildcard `/prefix/...` the prefix, `/prefix/` and a path below it (Spin's
    wildcard answers all three: /console, /console/, /console/app.js)."""
    if not route.endswith("/..."):
        return [route]
    base = route[:-4]
    return list(dict.fromkeys([base or "/", base + "/", route_path(route)]))


def path_match(path: str, ptype: str, value: str) -> bool:
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
    prefixes = [t for t in table if t.type == "PathPrefix" and path_match(path, t.type, t.value)]
    return max(prefixes, key=lambda t: len(t.value.rstrip("/")), default=None)


def via_interceptor(ctx: Ctx, env: str) -> bool:
    return any(_is_interceptor(ref, namespace_of(r)) for r in ctx.objs(env, "HTTPRoute")
               for rule in r["spec"].get("rules") or [] for ref in rule.get("backendRefs") or [])

"""Gateway API routing, on the rendered HTTPRoutes of every overlay: each route is attached
to a Gateway listener for named hosts; every public route of spin.toml reaches, by Gateway
API's precedence, the SpinApp that runs its component (in dev through the KEDA
interceptor); no private component, nor an internal route (the payment relay), is
reachable; trusted_proxy_hops counts the proxies."""
from __future__ import annotations

import json

import pytest

from gateway import best_rule, gateway_rules, path_match, route_path, route_probes, via_interceptor
from manifests import (CONSOLE_COMPONENT, CONSOLE_PATHS, ENVS, GATEWAY_GROUP, INTERNAL_ROUTES, NOT_DEPLOYED, Ctx,
                       app_variable, as_int, config_data, find_obj, mutated, no_errors, runs_component, spinapp,
                       spinapps)


def check_routes(ctx: Ctx, envs=ENVS) -> list[str]:
    """Gateway API routing, on the rendered HTTPRoutes of every overlay:
    - every HTTPRoute is attached to a Gateway listener (parentRefs with namespace and
      sectionName) for named hosts, the same for all routes of an overlay;
    - every public route of a deployed component reaches, by Gateway API's precedence, the
      SpinApp that runs that component, at every backend with a weight (dev: through the
      KEDA interceptor, resolved by the HTTPScaledObject of the host and path, with a
      ReferenceGrant for the cross-namespace backend); private and undeployed components
      are not reachable, nor the routes of INTERNAL_ROUTES' components (the payment relay,
      which only the relay ticker calls, inside the cluster); no rule leads somewhere that
      serves nothing under it;
    - dev's HTTPScaledObjects answer for exactly the routes' hosts;
    - trusted_proxy_hops counts at least the proxies in front of the app (the Gateway, plus
      the interceptor where it sits in the path; a load balancer in front adds one)."""
    errs = []
    for env in envs:
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
            for path in route_probes(route):      # a wildcard: its prefix, prefix/ and below
                shown = route if path == route else f"{route} at {path}"
                best = best_rule(table, path)
                if ctx.spin.is_private(comp):
                    if best:
                        errs.append(f"{env}: private component {comp} is reachable through HTTPRoute/{best.route} at {route}")
                    continue
                if comp in INTERNAL_ROUTES:
                    if best:
                        errs.append(f"{env}: internal route {route} ({comp}: {INTERNAL_ROUTES[comp]}) is reachable through "
                                    f"HTTPRoute/{best.route} ({best.type} {best.value})")
                    continue
                targets = {tg for tg, w in (best.backends if best else []) if w > 0}
                if any(tg.startswith("?") for tg in targets):
                    continue                 # reported with its rule above
                if best is None:
                    errs.append(f"{env}: public route {shown} ({comp}) is not routed by any HTTPRoute")
                elif targets != {runs.get(comp)}:
                    errs.append(f"{env}: {shown} ({comp}) goes to {sorted(targets)} (HTTPRoute/{best.route}), "
                                f"but {comp} runs in {runs.get(comp)!r}")
        for t in table:
            for target, w in t.backends:
                app = ctx.find(env, "SpinApp", target) if w > 0 and not target.startswith("?") else None
                served = [r for c in (app["spec"].get("components") or []) for r in ctx.spin.public_routes(c)] if app else []
                if app and not any(path_match(route_path(r), t.type, t.value) for r in served):
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
            if hops is not None and (as_int(hops) or 0) < want:
                errs.append(f"{env}: SpinApp/{a['metadata']['name']}: trusted_proxy_hops {hops}, but at least {want} proxies "
                            "append to X-Forwarded-For before the app (the Gateway" + (", the KEDA interceptor)" if through_keda else ")")
                            + ": every client would share the address of the nearest one")
    return list(dict.fromkeys(errs))


def check_console_route(ctx: Ctx, envs=ENVS) -> list[str]:
    """The staff web console (spin.toml `/console/...`, component `console`): it runs in
    exactly one SpinApp, and /console, /console/ and the files under it all reach, by
    Gateway API's precedence, that SpinApp alone at every weighted backend (in dev through
    the KEDA interceptor, whose HTTPScaledObject must list the prefix): a /console without
    its slash, or a file below it, never falls to another route or to nothing."""
    errs = []
    if (f"{CONSOLE_PATHS[1]}...", CONSOLE_COMPONENT) not in ctx.spin.routes:
        errs.append(f"spin.toml: {CONSOLE_COMPONENT} is not routed at {CONSOLE_PATHS[1]}... (docs/deploy.md names "
                    f"https://<host>{CONSOLE_PATHS[1]})")
    for env in envs:
        apps = runs_component(ctx, env, CONSOLE_COMPONENT)
        if len(apps) != 1:
            errs.append(f"{env}: {CONSOLE_COMPONENT} runs in {apps}; expected exactly one SpinApp")
            continue
        table = gateway_rules(ctx, env)
        for path in CONSOLE_PATHS:
            best = best_rule(table, path)
            if best is None:
                errs.append(f"{env}: the console's {path} is not routed by any HTTPRoute (its SpinApp: {apps[0]})")
                continue
            targets = sorted(tg for tg, w in best.backends if w > 0)
            if targets != apps:
                errs.append(f"{env}: the console's {path} goes to {targets} (HTTPRoute/{best.route} {best.type} "
                            f"{best.value}), but {CONSOLE_COMPONENT} runs in {apps[0]}")
    return errs


@pytest.mark.parametrize("env", ENVS)
def test_httproutes_take_each_public_route_to_its_spinapp_and_private_ones_nowhere(ctx, env):
    no_errors(check_routes(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_the_console_and_everything_under_it_reach_the_spinapp_that_runs_it(ctx, env):
    no_errors(check_console_route(ctx, [env]))


# =========================================================================== planted faults
def test_route_check_catches_a_private_component_exposed(ctx):
    def f(c):
        c.spin.routes.append(("/api/login/int/auth/verify", "login-verify"))
    errs = check_routes(mutated(ctx, f))
    assert any("private component login-verify is reachable" in e for e in errs), errs


def test_route_check_catches_the_relay_exposed_by_a_catch_all_rule(ctx):
    def f(c):
        find_obj(c, "stg", "HTTPRoute", "order")["spec"]["rules"][0]["matches"].append(
            {"path": {"type": "PathPrefix", "value": "/internal"}})
        find_obj(c, "dev", "HTTPRoute", "order")["spec"]["rules"][0]["matches"].append(
            {"path": {"type": "PathPrefix", "value": "/"}})
    errs = check_routes(mutated(ctx, f))
    assert (any(e.startswith("stg: internal route /internal/relay/ (order-relay") for e in errs)
            and any(e.startswith("dev: internal route /internal/relay/ (order-relay") for e in errs)), errs


def test_route_check_catches_a_public_route_no_httproute_matches(ctx):
    def f(c):
        menu = find_obj(c, "prod", "HTTPRoute", "menu")
        menu["spec"]["rules"][0]["matches"].pop()                         # /api/openapi.json
    errs = check_routes(mutated(ctx, f))
    assert any("/api/openapi.json" in e and "not routed" in e for e in errs), errs


def test_route_check_catches_a_weighted_backend_at_the_wrong_spinapp_and_a_wrong_port(ctx):
    def f(c):
        find_obj(c, "stg", "HTTPRoute", "order")["spec"]["rules"][0]["backendRefs"] = [
            {"name": "order", "port": 80, "weight": 90}, {"name": "menu", "port": 80, "weight": 10}]
        find_obj(c, "prod", "HTTPRoute", "login")["spec"]["rules"][0]["backendRefs"][0]["port"] = 8080
    errs = check_routes(mutated(ctx, f))
    assert (any("stg: /api/order/ (order-create) goes to ['menu', 'order']" in e for e in errs)
            and any("prod" in e and "port 8080" in e for e in errs)), errs


def test_route_check_catches_a_parent_ref_without_its_listener_and_a_route_without_hostnames(ctx):
    def f(c):
        find_obj(c, "stg", "HTTPRoute", "menu")["spec"]["parentRefs"][0].pop("sectionName")
        find_obj(c, "prod", "HTTPRoute", "order")["spec"].pop("hostnames")
    errs = check_routes(mutated(ctx, f))
    assert any("sectionName" in e for e in errs) and any("no hostnames" in e for e in errs), errs


def test_route_check_catches_dev_without_its_reference_grant_keda_hosts_apart_and_too_few_proxy_hops(ctx):
    def f(c):
        c.rendered["dev"] = [o for o in c.rendered["dev"] if o["kind"] != "ReferenceGrant"]
        find_obj(c, "dev", "HTTPScaledObject", "order")["spec"]["hosts"] = ["elsewhere.example.com"]
        config_data(c, "dev")["trusted_proxy_hops"] = "1"
    errs = check_routes(mutated(ctx, f))
    assert (any("ReferenceGrant" in e for e in errs) and any("HTTPScaledObject/order hosts" in e for e in errs)
            and any("trusted_proxy_hops" in e for e in errs)), errs


def _drop_console_match(c, env: str) -> None:
    rule = find_obj(c, env, "HTTPRoute", "admin")["spec"]["rules"][0]
    rule["matches"] = [m for m in rule["matches"] if m["path"]["value"] != "/console"]


def test_console_checks_catch_the_console_unrouted_routed_exactly_and_left_out_of_keda(ctx):
    def f(c):
        _drop_console_match(c, "stg")                                             # no route at all
        for m in find_obj(c, "prod", "HTTPRoute", "admin")["spec"]["rules"][0]["matches"]:
            if m["path"]["value"] == "/console":
                m["path"] = {"type": "Exact", "value": "/console/"}                # only the index
        keda = find_obj(c, "dev", "HTTPScaledObject", "admin")["spec"]
        keda["pathPrefixes"] = [p for p in keda["pathPrefixes"] if p != "/console"]  # the interceptor 404s it
    mc = mutated(ctx, f)
    errs = check_routes(mc)
    assert (any(e.startswith("stg: public route /console/... at /console (console) is not routed") for e in errs)
            and any(e.startswith("prod: public route /console/... at /console/probe (console) is not routed")
                    for e in errs)
            and any(e.startswith("dev: HTTPRoute/admin PathPrefix /console: 0 HTTPScaledObjects match") for e in errs)), errs
    errs = check_console_route(mc)
    assert (any(e.startswith("stg: the console's /console is not routed") for e in errs)
            and any(e.startswith("prod: the console's /console/assets/app.js is not routed") for e in errs)
            and not any(e.startswith("prod: the console's /console/ ") for e in errs)), errs


def test_console_checks_catch_the_console_moved_away_from_its_route_and_run_twice(ctx):
    def f(c):
        spinapp(c, "prod", "admin")["spec"]["components"].remove("console")
        spinapp(c, "prod", "login")["spec"]["components"].append("console")       # /console still goes to admin
        spinapp(c, "stg", "menu")["spec"]["components"].append("console")         # admin and menu
        _drop_console_match(c, "dev")
        find_obj(c, "dev", "HTTPRoute", "login")["spec"]["rules"][0]["matches"].append(
            {"path": {"type": "PathPrefix", "value": "/console"}})                 # KEDA still sends it to admin
    mc = mutated(ctx, f)
    errs = check_routes(mc)
    assert any(e.startswith("prod: /console/... at /console (console) goes to ['admin']") and "runs in 'login'" in e
               for e in errs), errs
    errs = check_console_route(mc)
    assert (any(e.startswith("prod: the console's /console/ goes to ['admin']") and "runs in login" in e for e in errs)
            and any(e.startswith("stg: console runs in ['menu', 'admin']") or e.startswith("stg: console runs in ['admin', 'menu']")
                    for e in errs)
            and not any(e.startswith("dev:") for e in errs)), errs

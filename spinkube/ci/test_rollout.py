"""The Django-to-Spin cutover (docs/deploy.md section 9): spinkube/rollout/, rendered with
`kubectl kustomize`, splits each of Django's paths between Django's Service and the SpinApp
prod routes it to, with Spin's weight 0 as committed, and sends every path only Spin serves
to the SpinApp alone, by Gateway API's precedence; and the kubectl weight steps of the
checked runbook block, run with a stand-in kubectl against those routes, apply."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile

from gateway import RouteRule, best_rule, gateway_rules, grant_allows, path_match, route_path, route_probes
from manifests import (APP_PORT, DOCS, INTERNAL_ROUTES, NOT_DEPLOYED, SPINKUBE, Ctx, api_group, kustomize,
                       namespace_of, no_errors, spinapps)
from validators import core_groups, model_packages, validate_core, validate_models

# The prefixes the Django services' ingress routed: the rollout moves them one service at a time.
DJANGO_PREFIXES = ("/api/login", "/api/menu", "/api/order")
# The endpoints the Django services serve under them (the peer's API contract: 3 login, 1
# "internal" token check its ingress exposes, 3 menu, 3 order; `/`, /healthz and /livez are
# in-cluster only). Django answers the slash-less form of a slashed one itself (APPEND_SLASH:
# a 301, or a 500 for a POST with DEBUG on), and everything else under the prefixes 404.
DJANGO_ENDPOINTS = (
    "/api/login/", "/api/login/register/", "/api/login/logout/", "/api/login/int/auth/verify",
    "/api/menu/", "/api/menu/types/", "/api/menu/get_pizza_id/",
    "/api/order/", "/api/order/myorder/", "/api/order/branch/",
)
ROLLOUT_DIR = os.path.join(SPINKUBE, "rollout")


def django_paths() -> list[str]:
    """Every path Django answers under its prefixes: each endpoint, and a slashed one's
    slash-less form (its APPEND_SLASH answer)."""
    out = []
    for p in DJANGO_ENDPOINTS:
        out += [p.rstrip("/"), p] if p.endswith("/") else [p]
    return out


def probe_path(route: str) -> str:
    """A concrete path a spin.toml route answers: each `:param` segment as 1 (an order id),
    a trailing `/...` as /probe."""
    return "/".join("1" if seg.startswith(":") else seg for seg in route_path(route).split("/"))


def spin_only_paths(ctx: Ctx) -> list[tuple[str, str, str]]:
    """(path, spin.toml route, component) for every public route of a deployed component
    that is not one of Django's paths, and its slash-less form (a wildcard `/x/...`: /x, /x/
    and /x/probe): the paths only Spin serves."""
    django, out = set(django_paths()), []
    for route, comp in ctx.spin.routes:
        if route is None or comp in NOT_DEPLOYED:
            continue
        for probe in route_probes(route):
            path = probe_path(probe)
            for p in dict.fromkeys([path, path.rstrip("/") or "/"]):
                if p not in django and (p, route, comp) not in out:
                    out.append((p, route, comp))
    return out


def render_rollout(directory: str = ROLLOUT_DIR) -> list[dict]:
    return kustomize(directory)


def rollout_rules(objs: list[dict], prod_ns: str, apps: set) -> list[RouteRule]:
    """One RouteRule per path match of the rollout's HTTPRoutes, named "ROUTE rules[i]", each
    backend labelled "spin:APP" (a SpinApp's Service in prod's namespace) or "django:NAME"
    (anything else: the Django Service next to the route)."""
    out = []
    for r in (o for o in objs if o["kind"] == "HTTPRoute"):
        ns, spec = namespace_of(r), r.get("spec") or {}
        for i, rule in enumerate(spec.get("rules") or []):
            backends = []
            for ref in rule.get("backendRefs") or []:
                spin = ref.get("namespace", ns) == prod_ns and ref.get("name") in apps
                backends.append((f"{'spin' if spin else 'django'}:{ref.get('name')}", ref.get("weight", 1)))
            for m in rule.get("matches") or [{}]:
                path = m.get("path") or {}
                out.append(RouteRule(f"{r['metadata']['name']} rules[{i}]", ns, spec.get("hostnames") or [],
                                     path.get("type", "PathPrefix"), path.get("value", "/"), backends,
                                     [k for k in ("headers", "queryParams", "method") if m.get(k)]))
    return out


def _grouped(problems: dict) -> list[str]:
    return [f"{msg}: {', '.join(paths)}" for msg, paths in problems.items()]


def check_rollout(ctx: Ctx, directory: str = ROLLOUT_DIR, objs: list[dict] | None = None) -> list[str]:
    """spinkube/rollout/ (the Django-to-Spin cutover), rendered: it validates (core kinds and
    the Gateway API package); every object names its namespace; one HTTPRoute per Django
    service (its matches all under one of DJANGO_PREFIXES), on prod's Gateway listener, with
    - rules[0] the weighted rule, exactly two backendRefs: [0] the Django Service next to the
      route, [1] a SpinApp's Service in prod's namespace, port 80, granted by a
      ReferenceGrant there; committed with Spin's weight 0 and Django's above 0, so
      applying it moves none of Django's traffic;
    - every other rule one backendRef, a SpinApp's Service (granted, weight above 0): no
      rule but rules[0] names Django;
    - only Exact and PathPrefix path matches (PathPrefix without a trailing `/`), no match
      twice.
    Then, by Gateway API's precedence over all the rollout's rules: each of Django's paths
    (django_paths) reaches a weighted rule whose backendRefs[1] is the SpinApp prod routes
    that path to; each path only Spin serves (spin_only_paths) under a Django prefix
    reaches a rule that sends it to that SpinApp alone, and no path only Spin serves,
    anywhere, reaches a rule that names Django (a share of it would get Django's 404); the
    payment relay reaches no rule; and every weighted match covers one of Django's paths."""
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
    apps = {a["metadata"]["name"] for a in prod_apps}
    prod_ns = namespace_of(prod_apps[0]) if prod_apps else "pizza-prod"
    prod_table = gateway_rules(ctx, "prod")
    prod_parents = {json.dumps(r["spec"].get("parentRefs"), sort_keys=True) for r in ctx.objs("prod", "HTTPRoute")}

    def spin_ref_problem(ref: dict, ns: str) -> str | None:
        if (ref.get("namespace"), ref.get("port")) != (prod_ns, APP_PORT) or ref.get("name") not in apps:
            return (f"is {ref.get('namespace')}/{ref.get('name')}:{ref.get('port')}, not a SpinApp's Service "
                    f"({sorted(apps)}) in {prod_ns} on {APP_PORT}")
        if not grant_allows(objs, ns, prod_ns, ref["name"]):
            return f"is Service {ref['name']}, but no ReferenceGrant in {prod_ns} lets HTTPRoutes of {ns} use it"
        return None

    services: dict = {}
    for r in (o for o in objs if o["kind"] == "HTTPRoute"):
        where, spec, ns = f"rollout HTTPRoute/{r['metadata']['name']}", r.get("spec") or {}, namespace_of(r)
        if json.dumps(spec.get("parentRefs"), sort_keys=True) not in prod_parents:
            errs.append(f"{where}: parentRefs {spec.get('parentRefs')} are not prod's Gateway listener")
        if not spec.get("hostnames"):
            errs.append(f"{where}: no hostnames (the live host)")
        rules = spec.get("rules") or []
        prefixes = set()
        for i, rule in enumerate(rules):
            for m in rule.get("matches") or [{}]:
                path = m.get("path") or {}
                ptype, value = path.get("type", "PathPrefix"), path.get("value", "/")
                extra = [k for k in ("headers", "queryParams", "method") if m.get(k)]
                if ptype not in ("Exact", "PathPrefix") or extra:
                    errs.append(f"{where} rules[{i}]: {ptype} {value} {'/'.join(extra)}: only Exact and PathPrefix path "
                                "matches (no headers, queryParams, method), the portable ones whose precedence is checked")
                if ptype == "PathPrefix" and value.endswith("/"):
                    errs.append(f"{where} rules[{i}]: PathPrefix {value}: no trailing `/` (matching ignores it, "
                                "the precedence by length counts it)")
                under = [p for p in DJANGO_PREFIXES if path_match(value, "PathPrefix", p)]
                if not under:
                    errs.append(f"{where} rules[{i}]: {ptype} {value} is outside the Django prefixes {list(DJANGO_PREFIXES)}")
                prefixes.update(under)
        if len(prefixes) != 1:
            errs.append(f"{where}: one HTTPRoute per Django service: its matches must lie under one of "
                        f"{list(DJANGO_PREFIXES)} (they lie under {sorted(prefixes)})")
        for prefix in prefixes:
            if prefix in services:
                errs.append(f"{where}: {prefix} is split twice (also HTTPRoute/{services[prefix]})")
            services.setdefault(prefix, r["metadata"]["name"])
        refs = (rules[0].get("backendRefs") or []) if rules else []
        if len(refs) != 2:
            errs.append(f"{where}: rules[0] needs exactly two backendRefs, [0] Django and [1] Spin "
                        "(the runbook patches rules[0] by index)")
        else:
            django, spin = refs
            if django.get("namespace", ns) != ns or not django.get("name") or not django.get("port"):
                errs.append(f"{where}: rules[0] backendRefs[0] must be the Django Service next to the route, with its port")
            elif django.get("name") in apps:
                errs.append(f"{where}: rules[0] backendRefs[0] {django['name']} is a SpinApp's Service name, not Django's")
            problem = spin_ref_problem(spin, ns)
            if problem:
                errs.append(f"{where}: rules[0] backendRefs[1] {problem}")
            if spin.get("weight", 1) != 0 or django.get("weight", 1) <= 0:
                errs.append(f"{where}: rules[0] committed weights must be Django > 0, Spin 0 (got {django.get('weight', 1)}/"
                            f"{spin.get('weight', 1)}): applying the rollout must move none of Django's traffic")
        for i, rule in enumerate(rules[1:], 1):
            refs = rule.get("backendRefs") or []
            if len(refs) != 1:
                errs.append(f"{where}: rules[{i}] needs exactly one backendRef, the SpinApp's Service: only rules[0] "
                            f"is split with Django (the one the runbook patches); it has {len(refs)}")
                continue
            problem = spin_ref_problem(refs[0], ns)
            if problem:
                errs.append(f"{where}: rules[{i}] backendRefs[0] {problem}")
            elif refs[0].get("weight", 1) <= 0:
                errs.append(f"{where}: rules[{i}] has its only backend at weight 0 (the Gateway answers 500)")
    if set(services) != set(DJANGO_PREFIXES):
        errs.append(f"rollout splits {sorted(services)}, the Django prefixes are {list(DJANGO_PREFIXES)}")

    # Gateway API's precedence over every rule of the rollout, path by path.
    table = rollout_rules(objs, prod_ns, apps)
    seen: dict = {}
    for t in table:
        if (t.type, t.value) in seen:
            errs.append(f"rollout HTTPRoute/{t.route}: {t.type} {t.value} is also matched by HTTPRoute/"
                        f"{seen[(t.type, t.value)]} (the older route, or the first rule, wins: keep one)")
        seen.setdefault((t.type, t.value), t.route)

    def prod_app(path: str) -> str | None:
        best = best_rule(prod_table, path)
        targets = {tg for tg, w in best.backends if w > 0} if best else set()
        return targets.pop() if len(targets) == 1 else None

    problems: dict = {}
    for path in django_paths():
        best, app = best_rule(table, path), prod_app(path)
        labels = [b for b, _ in best.backends] if best else []
        if best is None:
            problems.setdefault("rollout: Django's paths reach no rule (the live host would not split them)", []).append(path)
        elif len(labels) != 2 or not labels[0].startswith("django:") or labels[1] != f"spin:{app}":
            problems.setdefault(f"rollout HTTPRoute/{best.route} takes Django's paths to {labels}, not split between "
                                f"Django (backendRefs[0]) and {app} (backendRefs[1]: the SpinApp prod routes them to)",
                                []).append(f"{path} ({best.type} {best.value})")
    django = set(django_paths())
    for path, route, comp in spin_only_paths(ctx):
        best = best_rule(table, path)
        under = next((p for p in DJANGO_PREFIXES if path_match(path, "PathPrefix", p)), None)
        if comp in INTERNAL_ROUTES:
            if best is not None:
                errs.append(f"rollout HTTPRoute/{best.route} ({best.type} {best.value}) exposes the internal route {route} "
                            f"({comp}: {INTERNAL_ROUTES[comp]})")
            continue
        if best is None:
            if under:
                problems.setdefault(f"rollout: only Spin serves these paths under {under}, but no rule routes them "
                                    "(the live host keeps them where Django answers 404)", []).append(f"{path} ({comp})")
            continue
        app = prod_app(path)
        if any(b.startswith("django:") for b, _ in best.backends):
            problems.setdefault(f"rollout HTTPRoute/{best.route} ({best.type} {best.value}) splits paths only Spin serves "
                                "with Django: below Spin's 100 % a share of them gets Django's 404", []).append(f"{path} ({comp})")
        elif {b for b, w in best.backends if w > 0} != {f"spin:{app}"}:
            problems.setdefault(f"rollout HTTPRoute/{best.route} ({best.type} {best.value}) sends paths only Spin serves to "
                                f"{[b for b, w in best.backends if w > 0]}, but prod routes them to {app}",
                                []).append(f"{path} ({comp})")
    errs += _grouped(problems)
    for t in table:
        if any(b.startswith("django:") for b, _ in t.backends) and not any(
                path_match(p, t.type, t.value) for p in django):
            errs.append(f"rollout HTTPRoute/{t.route}: {t.type} {t.value} is split with Django but covers none of "
                        "Django's paths (Django answers 404 there)")
    return list(dict.fromkeys(errs))


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
    arguments; each function the block defines is also called for every Django service at
    50 %, so the block works for all three."""
    i = docs_text.find(RUNBOOK_MARK)
    if i < 0:
        raise RuntimeError(f"docs/deploy.md has no {RUNBOOK_MARK} block")
    m = re.search(r"```sh\n(.*?)```", docs_text[i:], re.S)
    if not m:
        raise RuntimeError(f"no ```sh block after {RUNBOOK_MARK}")
    block = m.group(1)
    funcs = re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\(\)\s*\{", block, re.M)
    extra = "".join(f"{f} {p.rsplit('/', 1)[-1]} 50\n" for f in funcs for p in DJANGO_PREFIXES)
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


def _weights_aside(route: dict) -> dict:
    """The route without the weights of rules[0]'s backendRefs: what a weight step keeps."""
    r = copy.deepcopy(route)
    for ref in r["spec"]["rules"][0].get("backendRefs") or []:
        ref.pop("weight", None)
    return r


def check_rollout_runbook(ctx: Ctx, docs_text: str | None = None, objs: list[dict] | None = None) -> list[str]:
    """The weight steps docs/deploy.md gives (its checked block), run against the rendered
    rollout routes: each is `kubectl -n NS patch httproute NAME --type=json -p JSON` on a
    rollout route, every patch applies (its `test`s hold), changes only the weights of the
    route's rules[0] (the weighted rule), Django's and Spin's weights there stay in 0..100
    and add up to 100, and the block walks one path 10 -> 50 -> 100 and
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
        before = copy.deepcopy(route)
        fail = _json_patch(route, ops)
        if fail:
            errs.append(f"docs: kubectl would refuse the patch of {m.group(2)}: {fail}")
            continue
        if _weights_aside(route) != _weights_aside(before):
            errs.append(f"docs: the patch of {m.group(2)} changes more than the weights of rules[0] (the weighted rule): "
                        "the other rules send the paths only Spin serves to Spin alone")
        refs = route["spec"]["rules"][0]["backendRefs"]
        w = [ref.get("weight", 1) for ref in refs]
        if len(w) != 2 or not all(0 <= x <= 100 for x in w) or sum(w) != 100:
            errs.append(f"docs: after the patch {m.group(2)} has weights {w} (Django, Spin): each 0..100, together 100")
        history.setdefault(m.group(2), []).append(w[-1])
    walked = [n for n, h in history.items() if h[:4] == [10, 50, 100, 0]]
    if not errs and not walked:
        errs.append(f"docs: the checked block should walk one path 10 -> 50 -> 100 -> 0 (rollback); Spin weights: {history}")
    return list(dict.fromkeys(errs))


def test_rollout_splits_each_django_path_with_prods_spinapp_at_weight_zero(ctx):
    no_errors(check_rollout(ctx))


def test_rollout_sends_every_path_only_spin_serves_to_spin_alone_and_none_to_django(ctx):
    """The premise of the check above, spelled out on the committed routes: the paths only
    Spin serves under the Django prefixes are there (order's cart, webhook, order detail...),
    and each reaches a rule with no Django backend."""
    paths = {p for p, _, _ in spin_only_paths(ctx)}
    for want in ("/api/order/cart/", "/api/order/cart/checkout/", "/api/order/payments/webhook/", "/api/order/queue/",
                 "/api/order/1/", "/api/order/1/cancel/", "/api/order/1/transition/", "/api/order/1/pay/",
                 "/api/order/healthz", "/api/login/healthz", "/api/menu/healthz",
                 "/console", "/console/", "/console/probe", "/api/admin/menu/", "/api/admin/audit/",
                 "/api/admin/roles/", "/api/admin/sales/"):
        assert want in paths, f"{want} is not among the paths only Spin serves: {sorted(paths)}"
    objs = render_rollout()
    apps = {a["metadata"]["name"] for a in spinapps(ctx, "prod")}
    table = rollout_rules(objs, namespace_of(spinapps(ctx, "prod")[0]), apps)
    for path in sorted(paths):
        best = best_rule(table, path)
        if best and any(b.startswith("django:") for b, _ in best.backends):
            raise AssertionError(f"{path} reaches HTTPRoute/{best.route} ({best.type} {best.value}), which names Django")
    for path in django_paths():
        best = best_rule(table, path)
        assert best and best.route.endswith("rules[0]"), f"{path} does not reach a weighted rules[0]: {best}"


def test_the_runbooks_kubectl_weight_steps_apply_to_the_rollout_routes(ctx):
    no_errors(check_rollout_runbook(ctx))


# =========================================================================== planted faults
def test_rollout_check_catches_a_path_split_to_the_wrong_spinapp_spin_weight_above_zero_and_a_missing_grant(ctx):
    objs = render_rollout()
    menu = next(o for o in objs if o["kind"] == "HTTPRoute" and o["metadata"]["name"].endswith("-menu"))
    menu["spec"]["rules"][0]["backendRefs"][1]["name"] = "order"                # menu's path to order
    order = next(o for o in objs if o["kind"] == "HTTPRoute" and o["metadata"]["name"].endswith("-order"))
    order["spec"]["rules"][0]["backendRefs"][1]["weight"] = 10                  # live traffic on apply
    grant = next(o for o in objs if o["kind"] == "ReferenceGrant")
    grant["spec"]["to"] = [t for t in grant["spec"]["to"] if t.get("name") != "login"]
    errs = check_rollout(ctx, objs=objs)
    assert (any("-menu" in e and "backendRefs[1]" in e for e in errs) and any("weights" in e for e in errs)
            and any("-login" in e and "ReferenceGrant" in e for e in errs)), errs


def _route(objs: list[dict], service: str) -> dict:
    return next(o for o in objs if o["kind"] == "HTTPRoute" and o["metadata"]["name"].endswith(f"-{service}"))


def test_rollout_check_catches_spin_only_paths_split_with_django_a_django_path_not_split_and_spin_paths_unrouted(ctx):
    objs = render_rollout()
    order = _route(objs, "order")["spec"]["rules"]
    order[0]["matches"].append({"path": {"type": "PathPrefix", "value": "/api/order/cart"}})   # cart split with Django
    order[1]["backendRefs"].insert(0, copy.deepcopy(order[0]["backendRefs"][0]))              # catch-all names Django
    menu = _route(objs, "menu")["spec"]["rules"]
    menu[0]["matches"] = [m for m in menu[0]["matches"] if m["path"]["value"] != "/api/menu/types/"]
    login = _route(objs, "login")["spec"]["rules"]
    del login[1:]                                                                              # healthz unrouted
    errs = check_rollout(ctx, objs=objs)
    assert (any("splits paths only Spin serves with Django" in e and "/api/order/cart/checkout/" in e for e in errs)
            and any("covers none of Django's paths" in e and "/api/order/cart" in e for e in errs)
            and any("-order: rules[1] needs exactly one backendRef" in e for e in errs)
            and any("/api/order/payments/webhook/" in e and "Django" in e for e in errs)
            and any("-menu rules[1]" in e and "/api/menu/types/ (PathPrefix /api/menu)" in e and "not split" in e
                    for e in errs)
            and any("no rule routes them" in e and "/api/login/healthz" in e for e in errs)), errs


def test_rollout_check_catches_a_catch_all_split_with_django_admin_paths_and_a_trailing_slash_prefix(ctx):
    objs = render_rollout()
    order = _route(objs, "order")["spec"]["rules"]
    order[0]["matches"] = [{"path": {"type": "PathPrefix", "value": "/api/order"}}]    # the old single weighted rule
    del order[1:]
    login = _route(objs, "login")["spec"]["rules"]
    login[0]["matches"].append({"path": {"type": "PathPrefix", "value": "/api/admin"}})
    login[1]["matches"][0]["path"]["value"] = "/api/login/"
    errs = check_rollout(ctx, objs=objs)
    assert (any("-order rules[0] (PathPrefix /api/order) splits paths only Spin serves" in e
                and "/api/order/1/pay/" in e for e in errs)
            and any("/api/admin is outside the Django prefixes" in e for e in errs)
            and any("/api/admin/branches/" in e and "Django" in e for e in errs)
            and any("PathPrefix /api/login/: no trailing" in e for e in errs)), errs


def test_runbook_check_catches_a_patch_testing_the_wrong_index_and_weights_not_adding_up_to_100(ctx):
    with open(DOCS, encoding="utf-8") as fh:
        text = fh.read()
    no_errors(check_rollout_runbook(ctx, text))      # the real block passes, or this proves nothing
    wrong_index = text.replace("/spec/rules/0/backendRefs/1/name", "/spec/rules/0/backendRefs/0/name", 1)
    wrong_sum = text.replace("$((100 - $2))", "100", 1)
    wrong_rule = text.replace("/spec/rules/0/", "/spec/rules/1/")       # the Spin-only rule, not the weighted one
    assert wrong_index != text and wrong_sum != text and wrong_rule != text, "the runbook block changed: plant the faults anew"
    assert check_rollout_runbook(ctx, wrong_index)
    assert check_rollout_runbook(ctx, wrong_sum)
    assert any("refuse" in e for e in check_rollout_runbook(ctx, wrong_rule))
    catch_all = text.replace("/spec/rules/0/backendRefs/0/weight", "/spec/rules/1/backendRefs/0/weight", 1)
    django_port = text.replace("/spec/rules/0/backendRefs/0/weight", "/spec/rules/0/backendRefs/0/port", 1)
    assert catch_all != text and django_port != text, "the runbook block changed: plant the faults anew"
    assert any("refuse" in e for e in check_rollout_runbook(ctx, catch_all))     # rules[1]'s one ref has no weight to replace
    assert any("changes more than the weights of rules[0]" in e for e in check_rollout_runbook(ctx, django_port))


def test_rollout_check_catches_the_console_and_the_new_admin_paths_split_with_django(ctx):
    """The web console and the admin API are Spin only (Django never served them): no
    rollout rule may name them, let alone split them with Django at some weight."""
    objs = render_rollout()
    login = _route(objs, "login")["spec"]["rules"]
    login[0]["matches"].append({"path": {"type": "PathPrefix", "value": "/console"}})
    order = _route(objs, "order")["spec"]["rules"]
    order[0]["matches"].append({"path": {"type": "Exact", "value": "/api/admin/sales/"}})
    menu = _route(objs, "menu")["spec"]["rules"]
    menu[0]["matches"] = [{"path": {"type": "PathPrefix", "value": "/"}}]        # a catch-all split with Django
    errs = check_rollout(ctx, objs=objs)
    console = next((e for e in errs if "-login rules[0] (PathPrefix /console) splits paths only Spin serves" in e), "")
    assert (all(f"{p} (console)" in console for p in ("/console", "/console/", "/console/probe"))
            and any("PathPrefix /console is outside the Django prefixes" in e for e in errs)
            and any("-order rules[0] (Exact /api/admin/sales/) splits paths only Spin serves" in e
                    and "/api/admin/sales/ (admin-sales)" in e for e in errs)
            and any("-menu rules[0] (PathPrefix /) splits paths only Spin serves" in e and "/api/admin/audit/ (admin-audit)" in e
                    and "/api/admin/menu/ (admin-catalogue)" in e and "/api/admin/roles/ (admin-staff)" in e
                    for e in errs)), errs

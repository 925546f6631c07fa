"""The Django-to-Spin cutover (docs/deploy.md section 9): spinkube/rollout/, rendered with
`kubectl kustomize`, splits each Django path between Django's Service and the SpinApp prod
routes it to, with Spin's weight 0 as committed; and the kubectl weight steps of the
checked runbook block, run with a stand-in kubectl against those routes, apply."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile

from gateway import best_rule, gateway_rules, grant_allows
from manifests import APP_PORT, DOCS, SPINKUBE, Ctx, api_group, kustomize, namespace_of, no_errors, spinapps
from validators import core_groups, model_packages, validate_core, validate_models

# The paths the Django services' ingress routed: the rollout moves these, one at a time.
DJANGO_PATHS = ("/api/login", "/api/menu", "/api/order")
ROLLOUT_DIR = os.path.join(SPINKUBE, "rollout")


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


def test_rollout_splits_each_django_path_with_prods_spinapp_at_weight_zero(ctx):
    no_errors(check_rollout(ctx))


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


def test_runbook_check_catches_a_patch_testing_the_wrong_index_and_weights_not_adding_up_to_100(ctx):
    with open(DOCS, encoding="utf-8") as fh:
        text = fh.read()
    no_errors(check_rollout_runbook(ctx, text))      # the real block passes, or this proves nothing
    wrong_index = text.replace("/spec/rules/0/backendRefs/1/name", "/spec/rules/0/backendRefs/0/name", 1)
    wrong_sum = text.replace("$((100 - $2))", "100", 1)
    assert wrong_index != text and wrong_sum != text, "the runbook block changed: plant the faults anew"
    assert check_rollout_runbook(ctx, wrong_index)
    assert check_rollout_runbook(ctx, wrong_sum)

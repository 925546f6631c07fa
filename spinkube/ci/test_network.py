"""NetworkPolicies (docs/deploy.md section 8), evaluated through both ends of every policy:
the app pods admit only the pods in front of them (the Gateway's, or in dev the KEDA
interceptor's) on port 80, and the relay's SpinApp also the relay ticker's; they reach only
DNS, PostgreSQL and the OpenTelemetry Collector's OTLP port (where the executor sends
telemetry there), and the provider's SpinApp HTTPS outside the cluster where its provider
is external; the ticker reaches only DNS and the relay's SpinApp; each SpinApp reaches its
own pooler and nothing else of the database tier; poolers and admin pods reach the server."""
from __future__ import annotations

import copy
import json

import pytest

from gateway import via_interceptor
from manifests import (APP_PORT, COLLECTOR_ROLE, ENVS, HTTPS_PORT, KEDA_INTERCEPTOR, OTLP_HTTP_PORT, POSTGRES_PORT,
                       RELAY_COMPONENT, TICKER_ROLE, Ctx, app_variable, otel_endpoint, cluster_pod_labels, cnpg_objs, db_server_pods, find_obj, mutated,
                       no_errors, pod_groups, pooler_for_host, pooler_pod_labels, provider_is_external,
                       runs_component, selects, spinapps)

DNS_PORT = 53
CNPG_OPERATOR = ("cnpg-system", "app.kubernetes.io/name", "cloudnative-pg")   # Helm defaults


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


PRIVATE_RANGES = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}


def _ticker_peer(peer: dict) -> bool:
    """A peer that names the relay ticker's pods, in the policy's own namespace."""
    return set(peer) == {"podSelector"} and peer["podSelector"] == {"matchLabels": {"pizza.shop/role": TICKER_ROLE}}


def _relay_app_peer(ctx: Ctx, env: str, peer: dict) -> bool:
    """A peer that names exactly the pods of the SpinApp(s) running the relay, in the
    policy's own namespace."""
    if set(peer) != {"podSelector"}:
        return False
    apps = {a["metadata"]["name"]: a["spec"].get("podLabels") or {} for a in spinapps(ctx, env)}
    relay = set(runs_component(ctx, env, RELAY_COMPONENT))
    picked = {n for n, labels in apps.items() if selects(peer["podSelector"], labels)}
    return bool(relay) and picked == relay and bool(peer["podSelector"])


def check_networkpolicies(ctx: Ctx, envs=ENVS) -> list[str]:
    """App pods: in only on 80, and only from the pods in front of them: the Gateway's
    data-plane pods (a namespace and pod labels set per overlay) where the HTTPRoutes lead
    to the SpinApps' Services, the KEDA interceptor alone where they lead to it (dev); and
    that front door does reach every SpinApp. The relay's SpinApp (order) also admits the
    relay ticker's pods, and no other SpinApp does.
    App, migration and housekeeping pods: out only to DNS (53) and PostgreSQL (5432) -
    for the app the poolers where the overlay has any (else the server), for the admin
    pods the server itself (never a transaction pooler); the provider's SpinApp also to
    HTTPS (443) outside the cluster's private ranges where its payment_provider_url is an
    external host (stg/prod), and no other pod there; app pods also to the collector's pods
    (pizza.shop/role otel-collector, this namespace) on OTLP/HTTP (4318) where the executor
    names an OTLP endpoint, and only then. Relay ticker pods: no ingress, out only to DNS
    and the relay's SpinApp on 80."""
    errs = []
    for env in envs:
        nps = ctx.objs(env, "NetworkPolicy")
        if not any(np["spec"].get("podSelector") == {} and set(np["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
                   and not np["spec"].get("ingress") and not np["spec"].get("egress") for np in nps):
            errs.append(f"{env}: no default-deny NetworkPolicy (podSelector {{}}, Ingress+Egress)")
        ns = f"pizza-{env}"
        through_keda = via_interceptor(ctx, env)
        front: list = []                  # (namespace, pod labels) allowed in
        servers = db_server_pods(ctx, env)
        poolers = [pooler_pod_labels(p) for p in cnpg_objs(ctx, env, "Pooler")]
        relay_apps = set(runs_component(ctx, env, RELAY_COMPONENT))
        otlp = {OTLP_HTTP_PORT} if otel_endpoint(ctx, env) else set()
        for what, labels, kind in pod_groups(ctx, env):
            targets = poolers if kind == "app" and poolers else servers
            others = [t for t in servers + poolers if t not in targets]
            sel = [np for np in nps if selects(np["spec"].get("podSelector") or {}, labels)]
            app = labels.get("pizza.shop/service", "") if kind == "app" else ""
            https = kind == "app" and provider_is_external(ctx, env, app)
            want = {"app": {DNS_PORT, POSTGRES_PORT} | ({HTTPS_PORT} if https else set()) | otlp,
                    "admin": {DNS_PORT, POSTGRES_PORT}, "ticker": {DNS_PORT, APP_PORT}}[kind]
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
                        if _ticker_peer(p):
                            if app not in relay_apps:
                                errs.append(f"{name}: admits the relay ticker, but {app} does not run the relay")
                        elif _peer_ok(p, [KEDA_INTERCEPTOR]):
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
                                        "by name, pods by labels), the KEDA interceptor, nor the relay ticker")
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
                    elif ports == {APP_PORT} and kind == "ticker":
                        if not all(_relay_app_peer(ctx, env, p) for p in peers):
                            errs.append(f"{name}: the relay ticker's egress on {APP_PORT} must go to the pods of "
                                        f"{sorted(relay_apps)} (which run {RELAY_COMPONENT}) only")
                    elif ports == {HTTPS_PORT} and https:
                        for p in peers:
                            block = p.get("ipBlock") or {}
                            if set(p) != {"ipBlock"} or not PRIVATE_RANGES <= set(block.get("except") or []):
                                errs.append(f"{name}: the payment provider egress peer {p} must be an ipBlock that "
                                            f"excludes the cluster's private ranges {sorted(PRIVATE_RANGES)}")
                    elif ports == {OTLP_HTTP_PORT} and kind == "app" and otlp:
                        if not all(p == {"podSelector": {"matchLabels": {"pizza.shop/role": COLLECTOR_ROLE}}}
                                   for p in peers):
                            errs.append(f"{name}: OTLP egress must go to the collector's pods (pizza.shop/role "
                                        f"{COLLECTOR_ROLE}, this namespace) only, not {peers}")
                    elif ports == {POSTGRES_PORT} and kind != "ticker":
                        for p in peers:
                            cidr = (p.get("ipBlock") or {}).get("cidr", "")
                            if cidr:
                                if cidr.endswith("/0") or (p["ipBlock"].get("except")):
                                    errs.append(f"{name}: PostgreSQL egress to {cidr} is too wide")
                                continue
                            picked = [t for t in targets if selects(p.get("podSelector") or {"matchLabels": {"x": "y"}}, t)]
                            wrong = [t for t in others if selects(p.get("podSelector") or {}, t)]
                            if "namespaceSelector" in p or not picked:
                                errs.append(f"{name}: PostgreSQL egress peer {p} is not the "
                                            + ("pooler" if targets is poolers else "database"))
                            elif wrong:
                                errs.append(f"{name}: PostgreSQL egress peer {p} also reaches "
                                            + ("the server past the pooler" if kind == "app" else "a pooler (admin work needs a session)"))
                    else:
                        errs.append(f"{name}: egress ports {sorted(map(str, ports))} are not among {kind} pods' "
                                    f"{sorted(want)}")
                    egress_ports |= ports
            if egress_ports != want:
                errs.append(f"{env}: {what} pods may reach ports {sorted(egress_ports)}; they need exactly {sorted(want)}"
                            + (" (DNS, PostgreSQL, the payment provider's HTTPS)" if https else ""))
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
           and selects(np["spec"].get("podSelector") or {}, pod)]
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
                ns_ok = peer_ns == ns if nsel is None else selects(nsel, {"kubernetes.io/metadata.name": peer_ns})
                if ns_ok and selects(p.get("podSelector") or {}, peer):
                    return True
    return False


def reachable(ctx: Ctx, env: str, src: dict, dst: dict, port: int, src_ns: str | None = None) -> bool:
    """src pod (labels; in the overlay's namespace unless src_ns) -> dst pod (labels) on port."""
    nps = ctx.objs(env, "NetworkPolicy")
    ns = f"pizza-{env}"
    src_ns = src_ns or ns
    out = src_ns != ns or _policy_allows(nps, ns, "Egress", src, ns, dst, port)
    return out and _policy_allows(nps, ns, "Ingress", dst, src_ns, src, port)


def check_db_paths(ctx: Ctx, envs=ENVS) -> list[str]:
    """The database paths, both ends of every NetworkPolicy considered: each SpinApp reaches
    its pooler and nothing else of the database tier; poolers, the migration Job and
    housekeeping reach the server; the admin pods never a pooler; the instances reach each
    other and the operator reaches them."""
    errs = []
    for env in envs:
        servers = db_server_pods(ctx, env)
        poolers = cnpg_objs(ctx, env, "Pooler")
        for what, labels, kind in pod_groups(ctx, env):
            if kind == "ticker":
                continue                     # below: the relay's SpinApp and nothing else
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
        for what, labels, kind in pod_groups(ctx, env):
            if kind != "ticker":
                continue
            for a in spinapps(ctx, env):
                ok = reachable(ctx, env, labels, a["spec"].get("podLabels") or {}, APP_PORT)
                relay = RELAY_COMPONENT in (a["spec"].get("components") or [])
                if ok != relay:
                    errs.append(f"{env}: {what} {'can' if ok else 'cannot'} reach SpinApp/{a['metadata']['name']} on "
                                f"{APP_PORT}" + (f" (it POSTs its {RELAY_COMPONENT})" if relay else " (only the relay's)"))
            for srv in servers + [pooler_pod_labels(p) for p in poolers]:
                if reachable(ctx, env, labels, srv, POSTGRES_PORT):
                    errs.append(f"{env}: {what} can reach the database {srv}")
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


@pytest.mark.parametrize("env", ENVS)
def test_app_pods_admit_only_their_front_door_and_reach_only_dns_postgresql_and_the_collector(ctx, env):
    no_errors(check_networkpolicies(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_each_spinapp_reaches_its_pooler_only_admin_pods_the_server_and_the_ticker_the_relay_only(ctx, env):
    no_errors(check_db_paths(ctx, [env]))


# =========================================================================== planted faults
def test_networkpolicy_check_catches_open_ingress_and_egress(ctx):
    def f(c):
        c.rendered["prod"].append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                   "metadata": {"name": "oops"}, "spec": {
                                       "podSelector": {"matchLabels": {"pizza.shop/role": "app"}},
                                       "policyTypes": ["Ingress", "Egress"],
                                       "ingress": [{"from": [{"podSelector": {}}]}],
                                       "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}]}})
    errs = check_networkpolicies(mutated(ctx, f))
    assert any("prod: NetworkPolicy/oops" in e for e in errs), errs


def test_networkpolicy_check_catches_a_gateway_peer_of_any_pod_the_gateway_in_dev_and_an_unreachable_spinapp(ctx):
    def f(c):
        pol = copy.deepcopy(find_obj(c, "stg", "NetworkPolicy", "pizza-app-from-gateway"))
        c.rendered["dev"].append(pol)                                  # dev: only the interceptor
        find_obj(c, "stg", "NetworkPolicy", "pizza-app-from-gateway")["spec"]["ingress"][0]["from"][0]["podSelector"] = {}
        prod = find_obj(c, "prod", "NetworkPolicy", "pizza-app-from-gateway")
        prod["spec"]["podSelector"] = {"matchLabels": {"pizza.shop/service": "login"}}   # menu, order unreachable
    errs = check_networkpolicies(mutated(ctx, f))
    assert (any(e.startswith("stg") and "neither the Gateway" in e for e in errs)
            and any(e.startswith("dev") and "send everything to the KEDA interceptor" in e for e in errs)
            and any(e.startswith("prod") and "cannot reach SpinApp/menu" in e for e in errs)), errs


def test_networkpolicy_check_catches_the_migration_job_allowed_to_a_pooler(ctx):
    def f(c):
        np = find_obj(c, "prod", "NetworkPolicy", "pizza-admin-to-db")
        np["spec"]["egress"][0]["to"] = [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "pizza-db"}}}]
    errs = check_networkpolicies(mutated(ctx, f))
    assert any("prod: NetworkPolicy/pizza-admin-to-db" in e for e in errs), errs


def test_db_path_check_catches_an_app_past_its_pooler_and_a_pooler_closed_to_its_app(ctx):
    def f(c):
        c.rendered["prod"] = [o for o in c.rendered["prod"] if not (
            o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "pizza-db-pooler-ro-ingress")]
        c.rendered["stg"].append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                  "metadata": {"name": "oops"}, "spec": {
                                      "podSelector": {"matchLabels": {"app.kubernetes.io/component": "database"}},
                                      "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]}})
        find_obj(c, "stg", "NetworkPolicy", "pizza-app-to-poolers")["spec"]["egress"].append(
            {"to": [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "pizza-db"}}}], "ports": [{"port": 5432}]})
        find_obj(c, "stg", "NetworkPolicy", "pizza-db-instances")["spec"]["ingress"].append(
            {"from": [{"podSelector": {"matchLabels": {"pizza.shop/role": "app"}}}]})
    errs = check_db_paths(mutated(ctx, f))
    assert len(errs) >= 2, errs


def test_networkpolicy_check_catches_the_ticker_admitted_by_menu_https_for_menu_and_none_for_the_provider(ctx):
    def f(c):
        c.rendered["stg"].append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                  "metadata": {"name": "oops"}, "spec": {
                                      "podSelector": {"matchLabels": {"pizza.shop/role": "app",
                                                                      "pizza.shop/service": "menu"}},
                                      "policyTypes": ["Ingress", "Egress"],
                                      "ingress": [{"from": [{"podSelector": {"matchLabels": {
                                          "pizza.shop/role": TICKER_ROLE}}}], "ports": [{"port": 80}]}],
                                      "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                                  "ports": [{"port": 443}]}]}})
        c.rendered["prod"] = [o for o in c.rendered["prod"] if not (
            o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "pizza-order-to-payment-provider")]
    errs = check_networkpolicies(mutated(ctx, f))
    assert (any("stg: NetworkPolicy/oops (SpinApp/menu): admits the relay ticker" in e for e in errs)
            and any("stg: NetworkPolicy/oops (SpinApp/menu): egress ports ['443']" in e for e in errs)
            and any(e.startswith("prod: SpinApp/order pods may reach ports [53, 4318, 5432]") for e in errs)), errs


def test_networkpolicy_check_catches_provider_egress_into_the_cluster_and_in_dev(ctx):
    def f(c):
        np = find_obj(c, "stg", "NetworkPolicy", "pizza-order-to-payment-provider")
        np["spec"]["egress"][0]["to"][0]["ipBlock"]["except"] = []
        prod = find_obj(c, "prod", "NetworkPolicy", "pizza-order-to-payment-provider")
        c.rendered["dev"].append(copy.deepcopy(prod))              # dev's provider is in the pod
    errs = check_networkpolicies(mutated(ctx, f))
    assert (any(e.startswith("stg: NetworkPolicy/pizza-order-to-payment-provider") and "private ranges" in e
                for e in errs)
            and any(e.startswith("dev: NetworkPolicy/pizza-order-to-payment-provider") for e in errs)), errs


def test_networkpolicy_check_catches_the_ticker_open_to_every_app_pod(ctx):
    def f(c):
        np = find_obj(c, "prod", "NetworkPolicy", "pizza-relay-ticker-to-order")
        np["spec"]["egress"][0]["to"][0]["podSelector"] = {"matchLabels": {"pizza.shop/role": "app"}}
    errs = check_networkpolicies(mutated(ctx, f))
    assert any(e.startswith("prod: NetworkPolicy/pizza-relay-ticker-to-order") and "relay ticker's egress" in e
               for e in errs), errs


def test_db_path_check_catches_the_ticker_cut_off_from_the_relay_and_let_into_the_database(ctx):
    def f(c):
        find_obj(c, "dev", "NetworkPolicy", "pizza-order-from-relay-ticker")["spec"]["ingress"][0]["from"] = [
            {"podSelector": {"matchLabels": {"pizza.shop/role": "nobody"}}}]
        np = find_obj(c, "stg", "NetworkPolicy", "pizza-relay-ticker-to-order")
        np["spec"]["egress"].append({"to": [{"podSelector": {"matchLabels": {"pizza.shop/role": "pooler"}}}],
                                     "ports": [{"port": 5432}]})
        find_obj(c, "stg", "NetworkPolicy", "pizza-db-pooler-rw-ingress")["spec"]["ingress"][0]["from"].append(
            {"podSelector": {"matchLabels": {"pizza.shop/role": TICKER_ROLE}}})
    errs = check_db_paths(mutated(ctx, f))
    assert (any(e.startswith("dev: CronJob/pizza-relay-ticker cannot reach SpinApp/order") for e in errs)
            and any(e.startswith("stg: CronJob/pizza-relay-ticker can reach the database") for e in errs)), errs

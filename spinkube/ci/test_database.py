"""The database tier (docs/deploy.md section 6): stg/prod's CloudNativePG Cluster, backups
and transaction-mode Poolers (shared ones named for their type, a service's own named for
it) with the SpinApps' db_host on them; the connection budget (printed after the results);
dev's generated URLs against each SpinApp's db_host."""
from __future__ import annotations

import os
import re
import shutil

import pytest

from manifests import (ENVS, EXTERNAL_SECRETS, LIMIT_KEY, RESERVE_KEY, ROLES, ROOT, SERVICES, Ctx, app_variable,
                       as_int, cnpg_objs, config_data, find_obj, generated_base, mutated, no_errors, pizza_config,
                       pooler_for_host, tmp_tree)

BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
# Spin 3.6 keeps up to 64 pooled connections per connection string in every pod, and
# each SpinApp uses one connection string (its service's role).
SPIN_POOL_PER_POD = 64
# PostgreSQL/PgBouncer defaults for settings an object leaves out.
PG_DEFAULTS = {"max_connections": 100, "superuser_reserved_connections": 3}
PGBOUNCER_DEFAULTS = {"max_client_conn": 100, "default_pool_size": 20, "reserve_pool_size": 0}


def check_database(ctx: Ctx, envs=ENVS, root: str = ROOT) -> list[str]:
    """stg/prod run the CloudNativePG tier of docs/deploy.md: a Cluster of three in UTC, on
    a pinned PostgreSQL major, bootstrapped with the owner Secret, archiving
    WAL through the Barman Cloud plugin with a nightly plugin backup; transaction-mode
    Poolers (two or more PgBouncers, tracking prepared statements), each named
    <cluster>-pooler-<type> (shared) or <cluster>-pooler-<service> (one service's own, which
    no other SpinApp uses), with scripts/create-secrets.sh --cnpg building URLs on its
    Service; and the SpinApps' db_host on a Pooler's Service (writers on an rw one)."""
    errs = []
    with open(os.path.join(root, "spinkube", "scripts", "create-secrets.sh"), encoding="utf-8") as fh:
        script = fh.read()
    for env in envs:
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
            if (as_int(params.get("max_prepared_statements")) or 0) <= 0:
                errs.append(f"{where}: max_prepared_statements must be set: tokio-postgres names every statement")
            if (sp.get("instances") or 1) < 2:
                errs.append(f"{where}: needs 2 or more instances")
            prefix = f"{sp['cluster']['name']}-pooler-"
            suffix = p["metadata"]["name"][len(prefix):] if p["metadata"]["name"].startswith(prefix) else None
            if suffix not in (sp.get("type", "rw"), *SERVICES):
                errs.append(f"{where}: name it <cluster>-pooler-<type>, or <cluster>-pooler-<service> for one "
                            "service's own, as scripts/create-secrets.sh --cnpg does")
            elif f'"$CLUSTER-pooler-{suffix}.$NS.svc.cluster.local:5432"' not in script:
                errs.append(f"{where}: scripts/create-secrets.sh --cnpg builds no URL on its Service "
                            f"($CLUSTER-pooler-{suffix}.$NS.svc.cluster.local:5432)")
            if suffix in SERVICES:
                users = [svc for svc in SERVICES
                         if pooler_for_host(ctx, env, app_variable(ctx, env, svc, "db_host")) is p]
                if users != [suffix]:
                    errs.append(f"{where}: is the {suffix} service's own pooler, but serves {users}")
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
        out.append((f"Cluster/{c['metadata']['name']}", {k: as_int(params.get(k, d)) for k, d in PG_DEFAULTS.items()}))
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
                        settings[k] = as_int(v)
        out.append((f"StatefulSet/{o['metadata']['name']}", settings))
    return out


def check_db_budget(ctx: Ctx, envs=ENVS, notes: list | None = None) -> list[str]:
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
    for env in envs:
        cfg = pizza_config(ctx, env)
        limits, bad = {}, False
        for key in [LIMIT_KEY.format(svc) for svc in SERVICES] + [RESERVE_KEY]:
            v = as_int(cfg.get(key))
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
            mcc, inst = as_int(params["max_client_conn"]), p["spec"].get("instances") or 1
            clients = sum(reps[s][0] * SPIN_POOL_PER_POD for s in svcs)
            notes.append(f"{env}:   Pooler/{pname}: " + " + ".join(f"{s} {reps[s][0]} pods ({reps[s][1]}) x {SPIN_POOL_PER_POD}" for s in svcs)
                         + f" = {clients} clients {_le(clients, mcc)} max_client_conn {mcc} per PgBouncer")
            if clients > mcc:
                errs.append(f"{env}: Pooler/{pname}: {clients} client connections at the HPA maxima > max_client_conn {mcc}: "
                            "raise max_client_conn with the HPA maximum")
            per_user = as_int(params.get("max_user_connections"))
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
        if u.username != ROLES[svc] or u.password != data.get("password"):
            errs.append(f"dev: pizza-{svc}-db url must use role {ROLES[svc]} and the Secret's password")
    return errs


def schema_owners(ctx: Ctx, env: str) -> dict:
    """The roles that own the schema and run the migration Job and housekeeping, and where
    the overlay names them: the CloudNativePG Clusters' bootstrap owner, the dev
    StatefulSet's POSTGRES_USER, the user of a rendered pizza-db-admin URL."""
    import base64
    from urllib.parse import urlsplit
    owners: dict = {}
    for c in cnpg_objs(ctx, env, "Cluster"):
        owner = ((c["spec"].get("bootstrap") or {}).get("initdb") or {}).get("owner")
        if owner:
            owners.setdefault(owner, []).append(f"Cluster/{c['metadata']['name']} owner")
    for st in ctx.objs(env, "StatefulSet"):
        for cont in st["spec"]["template"]["spec"].get("containers") or []:
            for e in cont.get("env") or []:
                if e.get("name") == "POSTGRES_USER" and e.get("value"):
                    owners.setdefault(e["value"], []).append(f"StatefulSet/{st['metadata']['name']} POSTGRES_USER")
    for sec in ctx.objs(env, "Secret"):
        if generated_base(sec["metadata"]["name"]) == "pizza-db-admin" and "url" in (sec.get("data") or {}):
            user = urlsplit(base64.b64decode(sec["data"]["url"]).decode()).username
            if user:
                owners.setdefault(user, []).append("Secret pizza-db-admin url")
    return owners


def check_service_roles_apart_from_the_owner(ctx: Ctx, envs=ENVS) -> list[str]:
    """No service role is the schema owner: the migration Job would hand the owner the
    service's password and CONNECTION LIMIT (and the migrations' per-role settings), locking
    the next Job and housekeeping out, and the service would run with the owner's rights (a
    superuser in dev) instead of its grants."""
    errs = []
    for env in envs:
        owners = schema_owners(ctx, env)
        for svc, role in ROLES.items():
            if role in owners:
                errs.append(f"{env}: the {svc} service's role {role} is also the schema owner "
                            f"({', '.join(owners[role])})")
    return errs


@pytest.mark.parametrize("env", ENVS)
def test_cloudnativepg_tier_backups_and_transaction_poolers(ctx, env):
    no_errors(check_database(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_connection_budget(ctx, env, budget_notes):
    """Role limits + reserve <= max_connections; HPA maxima x 64 within each pooler. The
    numbers are printed after the results."""
    no_errors(check_db_budget(ctx, [env], budget_notes))


def test_dev_urls_match_db_host_and_roles(ctx):
    no_errors(check_dev_database(ctx))


# The schema owner (CloudNativePG's bootstrap owner, dev's POSTGRES_USER, pizza-db-admin)
# must never be a service role: deploy would give it a service's password, limit and
# timeouts, and a service would run as the owner.
@pytest.mark.parametrize("env", ENVS)
def test_no_service_role_is_the_schema_owner(ctx, env):
    no_errors(check_service_roles_apart_from_the_owner(ctx, [env]))


# =========================================================================== planted faults
def test_database_check_catches_a_session_pooler_a_db_host_past_the_pooler_and_no_wal_archiving(ctx):
    def f(c):
        find_obj(c, "prod", "Pooler", "pizza-db-pooler-rw")["spec"]["pgbouncer"]["poolMode"] = "session"
        config_data(c, "stg")["db_host"] = "pizza-db-rw:5432"
        find_obj(c, "stg", "Cluster", "pizza-db")["spec"]["plugins"] = []
    errs = check_database(mutated(ctx, f))
    assert len(errs) >= 3, errs


def test_database_check_catches_a_pooler_named_for_nothing_one_without_urls_and_a_services_pooler_shared(ctx):
    def f(c):
        find_obj(c, "stg", "Pooler", "pizza-db-pooler-admin")["metadata"]["name"] = "pizza-db-pooler-owner"
        config_data(c, "prod")["db_host"] = "pizza-db-pooler-admin.pizza-prod.svc.cluster.local:5432"
    errs = check_database(mutated(ctx, f))
    assert (any("stg: Pooler/pizza-db-pooler-owner: name it" in e for e in errs)
            and any("prod: Pooler/pizza-db-pooler-admin" in e and "admin service's own pooler, but serves" in e
                    for e in errs)), errs
    # create-secrets.sh --cnpg that builds no URL on the admin pooler's Service
    with open(os.path.join(ROOT, "spinkube", "scripts", "create-secrets.sh"), encoding="utf-8") as fh:
        script = fh.read()
    with open(os.path.join(ROOT, "spinkube", "database", "cnpg", "pgbouncer.env"), encoding="utf-8") as fh:
        env_text = fh.read()
    broken = script.replace('"$CLUSTER-pooler-admin.$NS.svc.cluster.local:5432"',
                            '"$CLUSTER-pooler-rw.$NS.svc.cluster.local:5432"')
    assert broken != script, "create-secrets.sh changed: plant the fault anew"
    d = tmp_tree({"spinkube/scripts/create-secrets.sh": broken, "spinkube/database/cnpg/pgbouncer.env": env_text})
    try:
        errs = check_database(ctx, ["prod"], root=d)
    finally:
        shutil.rmtree(d)
    assert any("Pooler/pizza-db-pooler-admin: scripts/create-secrets.sh --cnpg builds no URL" in e for e in errs), errs


def test_budget_check_catches_admin_on_the_shared_rw_pooler(ctx):
    """admin's small limit (8) cannot take the rw pooler's 2 x 30 server connections."""
    def f(c):
        config_data(c, "stg")["admin_db_host"] = config_data(c, "stg")["db_host"]
    errs = check_db_budget(mutated(ctx, f))
    assert any(e.startswith("stg: Pooler/pizza-db-pooler-rw") and "admin's connection limit 8" in e for e in errs), errs


def test_budget_check_catches_an_hpa_raised_past_the_budget(ctx):
    """prod's order HPA raised from 8 to 20 pods, nothing else: (8 + 20) x 64 = 1792
    clients on the rw pooler, past its max_client_conn."""
    errs = check_db_budget(mutated(ctx, lambda c: find_obj(c, "prod", "HorizontalPodAutoscaler", "order")["spec"]
                                   .__setitem__("maxReplicas", 20)))
    assert any(e.startswith("prod: Pooler/pizza-db-pooler-rw") and "max_client_conn" in e for e in errs), errs


def test_budget_check_catches_role_limits_over_max_connections_no_limit_and_a_pooler_over_a_limit(ctx):
    def f(c):
        config_data(c, "dev")["login_db_connection_limit"] = "200"          # 200 + 64 + 64 + 8 + 18 > 274
        config_data(c, "stg")["order_db_connection_limit"] = "-1"           # no limit
        config_data(c, "prod")["admin_db_connection_limit"] = "40"          # 96 + 64 + 96 + 40 + 34 > 300
        find_obj(c, "prod", "Pooler", "pizza-db-pooler-rw")["spec"]["instances"] = 5   # 5 x 30 > 96
    errs = check_db_budget(mutated(ctx, f))
    assert len(errs) >= 4 and any(e.startswith("prod: role limits") for e in errs), errs


def test_owner_check_catches_a_service_role_named_like_the_owner(ctx):
    def f(c):
        for st in c.rendered["dev"]:
            if st["kind"] == "StatefulSet":
                for e in st["spec"]["template"]["spec"]["containers"][0]["env"]:
                    if e["name"] == "POSTGRES_USER":
                        e["value"] = "pizza_login"
        find_obj(c, "stg", "Cluster", "pizza-db")["spec"]["bootstrap"]["initdb"]["owner"] = "pizza_menu"
    errs = check_service_roles_apart_from_the_owner(mutated(ctx, f))
    assert (any(e.startswith("dev: the login service's role pizza_login") and "POSTGRES_USER" in e for e in errs)
            and any(e.startswith("stg: the menu service's role pizza_menu") and "Cluster/pizza-db" in e
                    for e in errs)), errs


def test_dev_database_check_catches_db_host_and_url_apart(ctx):
    def f(c):
        config_data(c, "dev")["db_host"] = "elsewhere:5432"
    errs = check_dev_database(mutated(ctx, f))
    assert any("elsewhere:5432" in e for e in errs), errs

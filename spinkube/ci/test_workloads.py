"""Scaling and disruption: dev scales to zero through KEDA's HTTP add-on, stg/prod run an
HPA (minimum 2) per SpinApp, or fixed replicas (2 or more) for FIXED_REPLICAS (admin), and a
PodDisruptionBudget per SpinApp; every PDB lets drains evict unready pods; every
StatefulSet's serviceName is a headless Service selecting its pods."""
from __future__ import annotations

import copy

import pytest

from manifests import (APP_PORT, ENVS, FIXED_REPLICAS, Ctx, cnpg_objs, find_obj, mutated, namespace_of, no_errors,
                       pooler_pod_labels, selects, spinapp, spinapps)


def check_scaling(ctx: Ctx, envs=ENVS) -> list[str]:
    errs = []
    for env in envs:
        for a in spinapps(ctx, env):
            n = a["metadata"]["name"]
            labels = a["spec"].get("podLabels") or {}
            hsos = [h for h in ctx.objs(env, "HTTPScaledObject") if h["spec"]["scaleTargetRef"].get("name") == n]
            hpas = [h for h in ctx.objs(env, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"].get("name") == n]
            pdbs = [p for p in ctx.objs(env, "PodDisruptionBudget") if selects(p["spec"].get("selector") or {}, labels)]
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
            elif n in FIXED_REPLICAS:
                # The shop owner's screens: fixed replicas, nothing scales them; two or more,
                # so that a drain (the PDB keeps one) or a lost node leaves one serving.
                if hpas or hsos:
                    errs.append(f"{where}: {env} runs it at fixed replicas: no HPA or HTTPScaledObject")
                if a["spec"].get("enableAutoscaling") or (a["spec"].get("replicas") or 0) < 2:
                    errs.append(f"{where}: {env} needs enableAutoscaling false and replicas 2 or more "
                                f"(has {a['spec'].get('enableAutoscaling')}, {a['spec'].get('replicas')})")
                if len(pdbs) != 1:
                    errs.append(f"{where}: needs exactly one PodDisruptionBudget selecting its pods, found {len(pdbs)}")
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


def check_pdbs(ctx: Ctx, envs=ENVS) -> list[str]:
    """Every PodDisruptionBudget (the SpinApps' and the poolers') lets a drain evict pods that
    run but are not Ready (unhealthyPodEvictionPolicy AlwaysAllow, GA in Kubernetes 1.31):
    such a pod serves nothing, and under the default IfHealthyBudget a service whose pods
    are all unready would hold every node drain. Each Pooler has one."""
    errs = []
    for env in envs:
        pdbs = ctx.objs(env, "PodDisruptionBudget")
        for p in pdbs:
            policy = p["spec"].get("unhealthyPodEvictionPolicy")
            if policy != "AlwaysAllow":
                errs.append(f"{env}: PodDisruptionBudget/{p['metadata']['name']}: unhealthyPodEvictionPolicy is "
                            f"{policy or 'unset (IfHealthyBudget)'}, not AlwaysAllow: unready pods would block drains")
        for pooler in cnpg_objs(ctx, env, "Pooler"):
            labels = pooler_pod_labels(pooler)
            if not any(selects(p["spec"].get("selector") or {}, labels) for p in pdbs):
                errs.append(f"{env}: Pooler/{pooler['metadata']['name']} has no PodDisruptionBudget")
    return errs


def check_statefulsets(ctx: Ctx, envs=ENVS) -> list[str]:
    """A StatefulSet's serviceName names its governing Service: a headless one (clusterIP
    None) in the same namespace that selects its pods, as Kubernetes requires for the pods'
    DNS names."""
    errs = []
    for env in envs:
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
            elif not svc["spec"].get("selector") or not selects({"matchLabels": svc["spec"]["selector"]}, labels):
                errs.append(f"{where}: Service {name} does not select the StatefulSet's pods")
    return errs


@pytest.mark.parametrize("env", ENVS)
def test_dev_scales_to_zero_and_stg_prod_run_an_hpa_of_two_or_more_or_fixed_replicas_with_a_pdb(ctx, env):
    no_errors(check_scaling(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_every_pdb_evicts_unready_pods_and_each_pooler_has_one(ctx, env):
    no_errors(check_pdbs(ctx, [env]))


@pytest.mark.parametrize("env", ENVS)
def test_statefulsets_are_governed_by_a_headless_service(ctx, env):
    no_errors(check_statefulsets(ctx, [env]))


# =========================================================================== planted faults
def test_scaling_check_catches_dev_min_above_zero_and_an_hpa_min_below_two(ctx):
    def f(c):
        next(o for o in c.rendered["dev"] if o["kind"] == "HTTPScaledObject")["spec"]["replicas"]["min"] = 1
        next(o for o in c.rendered["stg"] if o["kind"] == "HorizontalPodAutoscaler")["spec"]["minReplicas"] = 1
    errs = check_scaling(mutated(ctx, f))
    assert len(errs) >= 2, errs


def test_scaling_check_catches_admin_with_one_replica_an_hpa_no_pdb_and_no_keda_in_dev(ctx):
    def f(c):
        spinapp(c, "stg", "admin")["spec"]["replicas"] = 1
        hpa = copy.deepcopy(find_obj(c, "prod", "HorizontalPodAutoscaler", "order"))
        hpa["metadata"]["name"] = hpa["spec"]["scaleTargetRef"]["name"] = "admin"
        c.rendered["prod"].append(hpa)
        c.rendered["stg"] = [o for o in c.rendered["stg"]
                             if not (o["kind"] == "PodDisruptionBudget" and o["metadata"]["name"] == "admin")]
        c.rendered["dev"] = [o for o in c.rendered["dev"]
                             if not (o["kind"] == "HTTPScaledObject" and o["metadata"]["name"] == "admin")]
    errs = check_scaling(mutated(ctx, f))
    assert (any("stg: SpinApp/admin" in e and "replicas 2 or more" in e for e in errs)
            and any("prod: SpinApp/admin" in e and "no HPA" in e for e in errs)
            and any("stg: SpinApp/admin" in e and "PodDisruptionBudget" in e for e in errs)
            and any("dev: SpinApp/admin" in e and "HTTPScaledObject" in e for e in errs)), errs


def test_pdb_check_catches_if_healthy_budget_twice_and_a_pooler_without_a_pdb(ctx):
    def f(c):
        find_obj(c, "stg", "PodDisruptionBudget", "order")["spec"].pop("unhealthyPodEvictionPolicy")
        find_obj(c, "prod", "PodDisruptionBudget", "pizza-db-pooler-ro")["spec"]["unhealthyPodEvictionPolicy"] = "IfHealthyBudget"
        c.rendered["prod"] = [o for o in c.rendered["prod"] if not (
            o["kind"] == "PodDisruptionBudget" and o["metadata"]["name"] == "pizza-db-pooler-rw")]
    errs = check_pdbs(mutated(ctx, f))
    assert len(errs) >= 3, errs


def test_statefulset_check_catches_a_service_name_that_is_not_headless(ctx):
    def f(c):
        find_obj(c, "dev", "StatefulSet", "postgres")["spec"]["serviceName"] = "postgres"
    errs = check_statefulsets(mutated(ctx, f))
    assert any("StatefulSet/postgres" in e and "not headless" in e for e in errs), errs

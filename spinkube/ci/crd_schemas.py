"""Field/type schemas for the custom resources spinkube/ uses, written from the CRDs'
documented fields (spin-operator core.spinkube.dev/v1alpha1 SpinApp; KEDA keda.sh/v1alpha1
ScaledObject; KEDA HTTP add-on http.keda.sh/v1alpha1 HTTPScaledObject).

Stricter than the API server on purpose: an unknown field is an error here, while a
structural CRD would silently prune it (a typo like `enableAutoScaling` would vanish).
Only the parts that matter are typed in depth; rarely used subtrees are `ANY`.
"""
from __future__ import annotations

import re

QUANTITY_RE = re.compile(
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")

ANY = {"type": "any"}
STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
QUANTITY = {"type": "quantity"}


def obj(props: dict, required: tuple = (), open_: bool = False) -> dict:
    return {"type": "object", "properties": props, "required": list(required), "open": open_}


def arr(items: dict, min_items: int = 0) -> dict:
    return {"type": "array", "items": items, "minItems": min_items}


def map_of(values: dict) -> dict:
    return {"type": "map", "values": values}


METADATA = obj({}, open_=True)

PROBE = obj({
    "httpGet": obj({
        "path": STR,
        "httpHeaders": arr(obj({"name": STR, "value": STR}, required=("name", "value"))),
    }, required=("path",)),
    "initialDelaySeconds": INT, "periodSeconds": INT, "timeoutSeconds": INT,
    "successThreshold": INT, "failureThreshold": INT,
})
KEY_REF = obj({"key": STR, "name": STR, "optional": BOOL}, required=("key",))

SPINAPP = obj({
    "apiVersion": STR, "kind": STR, "metadata": METADATA,
    "spec": obj({
        "checks": obj({"liveness": PROBE, "readiness": PROBE}),
        "components": arr(STR, min_items=1),
        "deploymentAnnotations": map_of(STR),
        "enableAutoscaling": BOOL,
        "executor": STR,
        "image": STR,
        "imagePullSecrets": arr(obj({"name": STR})),
        "invocationLimits": map_of(STR),
        "podAnnotations": map_of(STR),
        "podLabels": map_of(STR),
        "replicas": INT,
        "resources": obj({"limits": map_of(QUANTITY), "requests": map_of(QUANTITY)}),
        "runtimeConfig": obj({
            "loadFromSecret": STR, "keyValueStores": arr(ANY), "sqliteDatabases": arr(ANY),
            "llmCompute": ANY,
        }),
        "serviceAccountName": STR,
        "serviceAnnotations": map_of(STR),
        "variables": arr(obj({
            "name": STR,
            "value": STR,
            "valueFrom": obj({
                "configMapKeyRef": KEY_REF,
                "secretKeyRef": KEY_REF,
                "fieldRef": obj({"apiVersion": STR, "fieldPath": STR}, required=("fieldPath",)),
                "resourceFieldRef": ANY,
            }),
        }, required=("name",))),
        "volumeMounts": arr(ANY),
        "volumes": arr(ANY),
    }, required=("executor", "image")),
    "status": ANY,
}, required=("apiVersion", "kind", "metadata", "spec"))

HTTP_SCALED_OBJECT = obj({
    "apiVersion": STR, "kind": STR, "metadata": METADATA,
    "spec": obj({
        "hosts": arr(STR),
        "pathPrefixes": arr(STR),
        "headers": arr(ANY),
        "scaleTargetRef": obj({
            "name": STR, "kind": STR, "apiVersion": STR,
            "service": STR, "port": INT, "portName": STR,
        }, required=("name", "service")),
        "replicas": obj({"min": INT, "max": INT}),
        "scaledownPeriod": INT,
        "initialCooldownPeriod": INT,
        "targetPendingRequests": INT,
        "scalingMetric": obj({
            "concurrency": obj({"targetValue": INT}),
            "requestRate": obj({"granularity": STR, "targetValue": INT, "window": STR}),
        }),
        "timeouts": ANY,
        "coldStartTimeoutFailoverRef": ANY,
    }, required=("scaleTargetRef",)),
    "status": ANY,
}, required=("apiVersion", "kind", "metadata", "spec"))

SCALED_OBJECT = obj({
    "apiVersion": STR, "kind": STR, "metadata": METADATA,
    "spec": obj({
        "scaleTargetRef": obj({"name": STR, "kind": STR, "apiVersion": STR,
                               "envSourceContainerName": STR}, required=("name",)),
        "pollingInterval": INT, "cooldownPeriod": INT, "initialCooldownPeriod": INT,
        "idleReplicaCount": INT, "minReplicaCount": INT, "maxReplicaCount": INT,
        "fallback": obj({"failureThreshold": INT, "replicas": INT, "behavior": STR}),
        "advanced": ANY,
        "triggers": arr(obj({
            "type": STR, "name": STR, "metadata": map_of(STR), "metricType": STR,
            "useCachedMetrics": BOOL,
            "authenticationRef": obj({"name": STR, "kind": STR}, required=("name",)),
        }, required=("type", "metadata")), min_items=1),
    }, required=("scaleTargetRef", "triggers")),
    "status": ANY,
}, required=("apiVersion", "kind", "metadata", "spec"))

# (apiVersion, kind) -> schema
SCHEMAS = {
    ("core.spinkube.dev/v1alpha1", "SpinApp"): SPINAPP,
    ("http.keda.sh/v1alpha1", "HTTPScaledObject"): HTTP_SCALED_OBJECT,
    ("keda.sh/v1alpha1", "ScaledObject"): SCALED_OBJECT,
}


def validate(value, schema: dict, path: str = "") -> list[str]:
    t = schema["type"]
    where = path or "/"
    if t == "any":
        return []
    if t == "string":
        return [] if isinstance(value, str) else [f"{where}: expected string, got {value!r}"]
    if t == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected integer, got {value!r}"]
    if t == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected boolean, got {value!r}"]
    if t == "quantity":
        if isinstance(value, int) and not isinstance(value, bool):
            return []
        if isinstance(value, str) and QUANTITY_RE.match(value):
            return []
        return [f"{where}: expected a quantity, got {value!r}"]
    if t == "array":
        if not isinstance(value, list):
            return [f"{where}: expected array, got {value!r}"]
        errs = [] if len(value) >= schema["minItems"] else [f"{where}: needs at least {schema['minItems']} item(s)"]
        for i, item in enumerate(value):
            errs += validate(item, schema["items"], f"{path}/{i}")
        return errs
    if t == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected map, got {value!r}"]
        errs = []
        for k, v in value.items():
            errs += validate(v, schema["values"], f"{path}/{k}")
        return errs
    if t == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected object, got {value!r}"]
        errs = [f"{where}: missing required field {r!r}" for r in schema["required"] if r not in value]
        for k, v in value.items():
            if k in schema["properties"]:
                errs += validate(v, schema["properties"][k], f"{path}/{k}")
            elif not schema["open"]:
                errs.append(f"{where}: unknown field {k!r}")
        return errs
    raise ValueError(f"bad schema type {t}")

"""Field/type schemas for the custom resources spinkube/ renders that no maintained schema
package carries, written from each project's documented fields:

- spin-operator core.spinkube.dev/v1alpha1 SpinApp and SpinAppExecutor, from its Go API
  types (api/v1alpha1/); the rules its validating webhooks add are in checks.py
  (check_operator_webhooks) and, for the executor's one rule, here (exactlyOne);
- the KEDA HTTP add-on's http.keda.sh/v1alpha1 HTTPScaledObject (@kubernetes-models/keda
  carries only keda.sh and eventing.keda.sh);
- the Barman Cloud plugin 0.14's barmancloud.cnpg.io/v1 ObjectStore, from
  api/v1/objectstore_types.go and barman-cloud's BarmanObjectStoreConfiguration
  (@kubernetes-models/cloudnative-pg carries only postgresql.cnpg.io).

Every other custom resource validates against its maintained package (ci/models/:
CloudNativePG, Gateway API, KEDA). Stricter than the API server on purpose: an unknown field
is an error here, while a structural CRD would silently prune it (a typo like
`enableAutoScaling` would vanish). Only the parts that matter are typed in depth; rarely
used subtrees are `ANY`.
"""
from __future__ import annotations

import re
from decimal import Decimal

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


ANY = {"type": "any"}
STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
QUANTITY = {"type": "quantity"}


def obj(props: dict, required: tuple = (), open_: bool = False, exactly_one: tuple = ()) -> dict:
    """exactly_one: groups of fields of which exactly one must be set (a webhook rule)."""
    return {"type": "object", "properties": props, "required": list(required), "open": open_,
            "exactlyOne": [tuple(g) for g in exactly_one]}


def arr(items: dict, min_items: int = 0) -> dict:
    return {"type": "array", "items": items, "minItems": min_items}


def map_of(values: dict) -> dict:
    return {"type": "map", "values": values}


def enum(*values: str) -> dict:
    return {"type": "enum", "values": list(values)}


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

# spin-operator api/v1alpha1/spinappexecutor_types.go (CRD: Namespaced; spec.createDeployment
# required). Its validating webhook (internal/webhook/spinappexecutor_validating.go) wants a
# deploymentConfig to set exactly one of runtimeClassName and spinImage.
SPINAPP_EXECUTOR = obj({
    "apiVersion": STR, "kind": STR, "metadata": METADATA,
    "spec": obj({
        "createDeployment": BOOL,
        "deploymentConfig": obj({
            "runtimeClassName": STR,
            "spinImage": STR,
            "caCertSecret": STR,
            "installDefaultCACerts": BOOL,
            "otel": obj({
                "exporter_otlp_endpoint": STR, "exporter_otlp_traces_endpoint": STR,
                "exporter_otlp_metrics_endpoint": STR, "exporter_otlp_logs_endpoint": STR,
            }),
        }, exactly_one=(("runtimeClassName", "spinImage"),)),
    }, required=("createDeployment",)),
    "status": ANY,
}, required=("apiVersion", "kind", "metadata", "spec"))

# KEDA HTTP add-on http.keda.sh/v1alpha1 (operator/apis/http/v1alpha1/httpscaledobject_types.go).
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

# ---- Barman Cloud plugin ObjectStore
SECRET_KEY_REF = obj({"name": STR, "key": STR}, required=("name", "key"))
RESOURCES = obj({"limits": map_of(QUANTITY), "requests": map_of(QUANTITY),
                 "claims": arr(ANY)})

BARMAN_OBJECT_STORE = obj({
    "apiVersion": STR, "kind": STR, "metadata": METADATA,
    "spec": obj({
        "configuration": obj({
            "destinationPath": STR,
            "endpointURL": STR,
            "endpointCA": SECRET_KEY_REF,
            "s3Credentials": obj({
                "accessKeyId": SECRET_KEY_REF, "secretAccessKey": SECRET_KEY_REF,
                "region": SECRET_KEY_REF, "sessionToken": SECRET_KEY_REF,
                "inheritFromIAMRole": BOOL,
            }),
            "azureCredentials": ANY, "googleCredentials": ANY,
            "wal": obj({
                "compression": enum("bzip2", "gzip", "lz4", "snappy", "xz", "zstd"),
                "encryption": enum("AES256", "aws:kms"),
                "maxParallel": INT,
                "archiveAdditionalCommandArgs": arr(STR),
                "restoreAdditionalCommandArgs": arr(STR),
            }),
            "data": obj({
                "compression": enum("bzip2", "gzip", "lz4", "snappy"),
                "encryption": enum("AES256", "aws:kms"),
                "immediateCheckpoint": BOOL, "jobs": INT,
                "additionalCommandArgs": arr(STR), "restoreAdditionalCommandArgs": arr(STR),
            }),
            "tags": map_of(STR), "historyTags": map_of(STR),
            # serverName is refused here by the plugin's CRD: set it on the Cluster's
            # plugin parameters instead.
        }, required=("destinationPath",)),
        "retentionPolicy": {"type": "pattern", "pattern": r"^[1-9][0-9]*[dwm]$"},
        "instanceSidecarConfiguration": obj({
            "env": arr(ANY), "retentionPolicyIntervalSeconds": INT, "resources": RESOURCES,
            "additionalContainerArgs": arr(STR),
            "logLevel": enum("error", "warning", "info", "debug", "trace"),
        }),
    }, required=("configuration",)),
    "status": ANY,
}, required=("apiVersion", "kind", "metadata", "spec"))

# (apiVersion, kind) -> schema
SCHEMAS = {
    ("core.spinkube.dev/v1alpha1", "SpinApp"): SPINAPP,
    ("core.spinkube.dev/v1alpha1", "SpinAppExecutor"): SPINAPP_EXECUTOR,
    ("http.keda.sh/v1alpha1", "HTTPScaledObject"): HTTP_SCALED_OBJECT,
    ("barmancloud.cnpg.io/v1", "ObjectStore"): BARMAN_OBJECT_STORE,
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
    if t == "enum":
        return [] if value in schema["values"] else [f"{where}: {value!r} is not one of {schema['values']}"]
    if t == "pattern":
        ok = isinstance(value, str) and re.match(schema["pattern"], value)
        return [] if ok else [f"{where}: {value!r} does not match {schema['pattern']}"]
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
        for group in schema.get("exactlyOne", []):
            present = [k for k in group if value.get(k) is not None]
            if len(present) != 1:
                errs.append(f"{where}: needs exactly one of {list(group)}, has {present or 'none'}")
        for k, v in value.items():
            if k in schema["properties"]:
                errs += validate(v, schema["properties"][k], f"{path}/{k}")
            elif not schema["open"]:
                errs.append(f"{where}: unknown field {k!r}")
        return errs
    raise ValueError(f"bad schema type {t}")

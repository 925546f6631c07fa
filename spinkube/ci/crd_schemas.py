"""Field/type schemas for the custom resources spinkube/ uses, written from the CRDs'
documented fields (spin-operator core.spinkube.dev/v1alpha1 SpinApp and SpinAppExecutor,
from its Go API types in api/v1alpha1/; KEDA keda.sh/v1alpha1
ScaledObject; KEDA HTTP add-on http.keda.sh/v1alpha1 HTTPScaledObject; CloudNativePG 1.30
postgresql.cnpg.io/v1 Cluster, Pooler, ScheduledBackup, from its Go API types in api/v1/;
Barman Cloud plugin 0.14 barmancloud.cnpg.io/v1 ObjectStore, from api/v1/objectstore_types.go
and barman-cloud's BarmanObjectStoreConfiguration).

The CloudNativePG kinds are also validated against the maintained npm package
@kubernetes-models/cloudnative-pg (ci/cnpg/; types and enums of the whole API, but it
accepts unknown fields and has no ObjectStore); the entries here add the strictness.

Stricter than the API server on purpose: an unknown field is an error here, while a
structural CRD would silently prune it (a typo like `enableAutoScaling` would vanish).
Only the parts that matter are typed in depth; rarely used subtrees are `ANY`.
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

# ---- CloudNativePG: the fields this repository uses (and a few neighbours), typed.
LOCAL_REF = obj({"name": STR}, required=("name",))
SECRET_KEY_REF = obj({"name": STR, "key": STR}, required=("name", "key"))
RESOURCES = obj({"limits": map_of(QUANTITY), "requests": map_of(QUANTITY),
                 "claims": arr(ANY)})
PARAMS = map_of(STR)                     # PostgreSQL and PgBouncer settings are strings

CNPG_CLUSTER = obj({
    "apiVersion": STR, "kind": STR, "metadata": METADATA,
    "spec": obj({
        "description": STR,
        "instances": INT,
        "imageName": STR,
        "imageCatalogRef": ANY,
        "imagePullPolicy": enum("Always", "Never", "IfNotPresent"),
        "primaryUpdateStrategy": enum("unsupervised", "supervised"),
        "primaryUpdateMethod": enum("switchover", "restart"),
        "minSyncReplicas": INT, "maxSyncReplicas": INT,
        "postgresql": obj({
            "parameters": PARAMS,
            "synchronous": obj({
                "method": enum("any", "first"),
                "number": INT,
                "maxStandbyNamesFromCluster": INT,
                "standbyNamesPre": arr(STR), "standbyNamesPost": arr(STR),
                "dataDurability": enum("required", "preferred"),
                "failoverQuorum": BOOL,
            }, required=("method", "number")),
            "pg_hba": arr(STR), "pg_ident": arr(STR),
            "shared_preload_libraries": arr(STR),
            "syncReplicaElectionConstraint": ANY, "ldap": ANY,
            "promotionTimeout": INT, "enableAlterSystem": BOOL, "extensions": arr(ANY),
        }),
        "bootstrap": obj({
            "initdb": obj({
                "database": STR, "owner": STR, "secret": LOCAL_REF,
                "options": arr(STR), "dataChecksums": BOOL, "encoding": STR,
                "localeCollate": STR, "localeCType": STR, "locale": STR,
                "localeProvider": STR, "icuLocale": STR, "builtinLocale": STR,
                "walSegmentSize": INT,
                "postInitSQL": arr(STR), "postInitApplicationSQL": arr(STR),
                "postInitTemplateSQL": arr(STR), "import": ANY,
                "postInitSQLRefs": ANY, "postInitApplicationSQLRefs": ANY,
                "postInitTemplateSQLRefs": ANY,
            }),
            "recovery": obj({
                "source": STR, "backup": ANY, "volumeSnapshots": ANY,
                "recoveryTarget": obj({
                    "backupID": STR, "targetTLI": STR, "targetXID": STR, "targetName": STR,
                    "targetLSN": STR, "targetTime": STR, "targetImmediate": BOOL,
                    "exclusive": BOOL,
                }),
                "database": STR, "owner": STR, "secret": LOCAL_REF,
            }),
            "pg_basebackup": ANY,
        }),
        "externalClusters": arr(obj({
            "name": STR,
            "plugin": obj({"name": STR, "enabled": BOOL, "isWALArchiver": BOOL,
                           "parameters": map_of(STR)}, required=("name",)),
            "connectionParameters": map_of(STR), "password": SECRET_KEY_REF,
            "sslCert": SECRET_KEY_REF, "sslKey": SECRET_KEY_REF, "sslRootCert": SECRET_KEY_REF,
            "barmanObjectStore": ANY,
        }, required=("name",))),
        "superuserSecret": LOCAL_REF,
        "enableSuperuserAccess": BOOL,
        "certificates": ANY,
        "imagePullSecrets": arr(LOCAL_REF),
        "storage": obj({"storageClass": STR, "size": QUANTITY, "resizeInUseVolumes": BOOL,
                        "pvcTemplate": ANY}),
        "walStorage": obj({"storageClass": STR, "size": QUANTITY, "resizeInUseVolumes": BOOL,
                           "pvcTemplate": ANY}),
        "startDelay": INT, "stopDelay": INT, "smartShutdownTimeout": INT,
        "switchoverDelay": INT, "failoverDelay": INT, "livenessProbeTimeout": INT,
        "affinity": obj({
            "enablePodAntiAffinity": BOOL, "topologyKey": STR, "nodeSelector": map_of(STR),
            "nodeAffinity": ANY, "tolerations": arr(ANY),
            "podAntiAffinityType": enum("preferred", "required"),
            "additionalPodAntiAffinity": ANY, "additionalPodAffinity": ANY,
        }),
        "topologySpreadConstraints": arr(ANY),
        "resources": RESOURCES,
        "priorityClassName": STR,
        "backup": ANY,                    # the deprecated in-tree barmanObjectStore lives here
        "plugins": arr(obj({
            "name": STR, "enabled": BOOL, "isWALArchiver": BOOL, "parameters": map_of(STR),
        }, required=("name",))),
        "monitoring": ANY,
        "managed": ANY,
        "enablePDB": BOOL,
        "inheritedMetadata": obj({"labels": map_of(STR), "annotations": map_of(STR)}),
        "logLevel": enum("error", "warning", "info", "debug", "trace"),
        "env": arr(ANY), "envFrom": arr(ANY),
        "seccompProfile": ANY, "podSecurityContext": ANY, "securityContext": ANY,
        "probes": ANY,
        "replicationSlots": ANY,
        "replica": ANY,
        "nodeMaintenanceWindow": obj({"inProgress": BOOL, "reusePVC": BOOL}),
    }, required=("instances",)),
    "status": ANY,
}, required=("apiVersion", "kind", "metadata", "spec"))

CNPG_POOLER = obj({
    "apiVersion": STR, "kind": STR, "metadata": METADATA,
    "spec": obj({
        "cluster": LOCAL_REF,
        "type": enum("rw", "ro", "r"),
        "instances": INT,
        "template": obj({
            "metadata": obj({"name": STR, "labels": map_of(STR), "annotations": map_of(STR)}),
            "spec": obj({"containers": arr(ANY)}, required=("containers",), open_=True),
        }),
        "pgbouncer": obj({
            "poolMode": enum("session", "transaction"),
            "parameters": PARAMS,
            "pg_hba": arr(STR),
            "paused": BOOL,
            "image": STR,
            "authQuery": STR, "authQuerySecret": LOCAL_REF,
            "serverTLSSecret": LOCAL_REF, "serverCASecret": LOCAL_REF,
            "clientTLSSecret": LOCAL_REF, "clientCASecret": LOCAL_REF,
        }),
        "deploymentStrategy": ANY,
        "monitoring": ANY,
        "serviceTemplate": ANY,
        "serviceAccountName": STR,
    }, required=("cluster", "pgbouncer")),
    "status": ANY,
}, required=("apiVersion", "kind", "metadata", "spec"))

CNPG_SCHEDULED_BACKUP = obj({
    "apiVersion": STR, "kind": STR, "metadata": METADATA,
    "spec": obj({
        "suspend": BOOL, "immediate": BOOL,
        "schedule": STR,                  # six fields: seconds first
        "cluster": LOCAL_REF,
        "backupOwnerReference": enum("none", "self", "cluster"),
        "target": enum("primary", "prefer-standby"),
        "method": enum("barmanObjectStore", "volumeSnapshot", "plugin"),
        "pluginConfiguration": obj({"name": STR, "parameters": map_of(STR)}, required=("name",)),
        "online": BOOL, "onlineConfiguration": ANY,
    }, required=("schedule", "cluster")),
    "status": ANY,
}, required=("apiVersion", "kind", "metadata", "spec"))

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
    ("keda.sh/v1alpha1", "ScaledObject"): SCALED_OBJECT,
    ("postgresql.cnpg.io/v1", "Cluster"): CNPG_CLUSTER,
    ("postgresql.cnpg.io/v1", "Pooler"): CNPG_POOLER,
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): CNPG_SCHEDULED_BACKUP,
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

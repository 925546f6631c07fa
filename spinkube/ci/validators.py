"""The maintained validators the schema tests use, and the repository's JSON Schemas.

- Kubernetes' built-in kinds: kubernetes-validate (PyPI, pinned in requirements.txt), strict.
- CloudNativePG, Gateway API and KEDA kinds: the @kubernetes-models packages (npm, pinned by
  models/package-lock.json), run by models/validate.mjs.
- The kinds no package carries (spin-operator's SpinApp and SpinAppExecutor, the KEDA HTTP
  add-on's HTTPScaledObject, the Barman Cloud plugin's ObjectStore): the JSON Schema files
  in schemas/, validated with the jsonschema package (Draft 2020-12). Each file names
  the (group, version, kind) it describes in x-kubernetes-group-version-kind, as
  Kubernetes' own OpenAPI definitions do.
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess

import jsonschema

from manifests import HERE, K8S_VERSION, SPINKUBE

MODELS_DIR = os.path.join(HERE, "models")    # the pinned npm schema packages and validate.mjs
SCHEMAS_DIR = os.path.join(HERE, "schemas")  # JSON Schemas of the kinds no package carries

_CORE_GROUPS: set[str] = set()


def core_groups() -> set[str]:
    """The API groups of Kubernetes' built-in kinds (at K8S_VERSION), from kubernetes-validate's
    schema definitions (x-kubernetes-group-version-kind); "" is the core group. Objects of
    these groups validate against those schemas; the others against a package of models/
    or a JSON Schema of schemas/."""
    if not _CORE_GROUPS:
        import importlib_resources     # a dependency of kubernetes-validate
        ref = importlib_resources.files("kubernetes_validate").joinpath(
            f"kubernetes-json-schema/v{K8S_VERSION}-local-strict/_definitions.json")
        with ref.open(encoding="utf-8") as fh:
            defs = json.load(fh)["$defs"]
        _CORE_GROUPS.update(gvk["group"] for d in defs.values() for gvk in d.get("x-kubernetes-group-version-kind", []))
        if "" not in _CORE_GROUPS or "apps" not in _CORE_GROUPS:
            raise RuntimeError("kubernetes-validate's schema definitions list no core groups")
    return _CORE_GROUPS


def newest_k8s_version() -> str:
    """The newest Kubernetes version kubernetes-validate carries schemas for."""
    import importlib_resources     # a dependency of kubernetes-validate
    names = [p.name for p in importlib_resources.files("kubernetes_validate").joinpath("kubernetes-json-schema").iterdir()]
    versions = {m.group(1) for n in names for m in [re.match(r"^v(\d+\.\d+\.\d+)-local-strict$", n)] if m}
    return max(versions, key=lambda v: tuple(map(int, v.split("."))))


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def validate_core(objs: list[tuple[str, dict]]) -> list[str]:
    """(label, object) pairs of core kinds against the Kubernetes schemas of the supported
    minimum (K8S_MIN) and of the newest release kubernetes-validate has (strict: unknown
    fields are errors): a field newer than the minimum, or an API a later release removed,
    fails."""
    import kubernetes_validate  # installed by check.sh
    errs = []
    for version in dict.fromkeys((K8S_VERSION, newest_k8s_version())):
        for label, o in objs:
            try:
                kubernetes_validate.validate(o, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = "/".join(str(p) for p in exc.path)
                errs.append(f"{label}: Kubernetes {version}: {path}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError:
                errs.append(f"{label}: no Kubernetes {version} schema for {o.get('apiVersion')} {o.get('kind')}")
    return errs


def model_packages() -> dict[str, str]:
    """API group -> npm package that validates it, as ci/models/validate.mjs maps them (its
    PACKAGES table is the one place that says which groups a maintained package covers)."""
    with open(os.path.join(MODELS_DIR, "validate.mjs"), encoding="utf-8") as fh:
        text = fh.read()
    table = text[text.index("export const PACKAGES = {"):]
    table = table[:table.index("};")]
    return dict(re.findall(r'"([a-z0-9.-]+)":\s*"(@kubernetes-models/[a-z0-9-]+)"', table))


def model_package_versions() -> str:
    with open(os.path.join(MODELS_DIR, "package.json"), encoding="utf-8") as fh:
        deps = json.load(fh)["dependencies"]
    return ", ".join(f"{n}@{v}" for n, v in sorted(deps.items()))


def validate_models(items: list[tuple[str, dict]]) -> list[str]:
    """(label, object) pairs against the pinned @kubernetes-models packages (ci/models/
    validate.mjs, run with the Node.js that check.sh found; packages in .venv/node)."""
    modules = os.environ.get("SPINKUBE_NODE_MODULES") or os.path.join(SPINKUBE, ".venv", "node", "node_modules")
    if not shutil.which("node"):
        return [f"node not found: {model_package_versions()} need Node.js (and npm for check.sh to install them)"]
    missing = sorted({p for p in model_packages().values() if not os.path.isdir(os.path.join(modules, p))})
    if missing:
        return [f"{', '.join(missing)} not installed in {modules}: check.sh installs ci/models with npm ci "
                "(npm missing or offline?)"]
    r = subprocess.run(["node", os.path.join(MODELS_DIR, "validate.mjs"), modules],
                       input=json.dumps([{"id": label, "obj": o} for label, o in items]),
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        return [f"ci/models/validate.mjs failed: {r.stderr.strip()[:300]}"]
    return [f"{p['id']}: {p['error']}" for p in json.loads(r.stdout)]


_SCHEMAS: dict = {}


def json_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the JSON Schema in schemas/ that describes it. Each file must
    itself be a valid Draft 2020-12 schema (jsonschema.SchemaError otherwise)."""
    if not _SCHEMAS:
        for path in sorted(glob.glob(os.path.join(SCHEMAS_DIR, "*.json"))):
            with open(path, encoding="utf-8") as fh:
                schema = json.load(fh)
            jsonschema.Draft202012Validator.check_schema(schema)
            for gvk in schema.get("x-kubernetes-group-version-kind") or []:
                _SCHEMAS[(f"{gvk['group']}/{gvk['version']}", gvk["kind"])] = schema
    return _SCHEMAS


def _message(err: jsonschema.ValidationError) -> str:
    """jsonschema's message, shorter where it would print the whole object: an
    exactly-one-of rule (oneOf of `required` branches) names its fields, and an anyOf or
    oneOf with a description says what was expected."""
    branches = err.schema.get(err.validator) if err.validator in ("oneOf", "anyOf") else None
    if err.validator == "oneOf" and all(set(b) == {"required"} for b in branches):
        fields = [f for b in branches for f in b["required"]]
        present = [f for f in fields if isinstance(err.instance, dict) and f in err.instance]
        return f"needs exactly one of {fields}, has {present or 'none'}"
    if branches is not None and err.schema.get("description"):
        return f"{err.instance!r} is not {err.schema['description']}"
    return err.message


def validate_json_schema(obj: dict, schema: dict) -> list[str]:
    """Every way `obj` breaks `schema`, as "/json/path: message", in document order."""
    validator = jsonschema.Draft202012Validator(schema)
    errs = sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {_message(e)}" for e in errs]

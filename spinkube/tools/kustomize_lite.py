#!/usr/bin/env python3
"""A small kustomize subset, so `make render` works where kubectl/kustomize are missing.

Only what spinkube/ uses is implemented, and anything else is an error (never silently
ignored), so an overlay that real kustomize would render differently cannot slip through:

  resources            files (inside the kustomization root, as kustomize's default load
                       restrictor demands) and directories (other kustomizations, anywhere)
  namespace            set on every namespaced object
  labels               pairs (+ includeTemplates); includeSelectors is refused
  images               name / newName / newTag / digest, on pod containers and on fields
                       declared in `configurations` (SpinApp spec/image)
  configMapGenerator   literals / files / envs, behavior create|merge|replace, options
  secretGenerator      same, type
  generatorOptions     labels / annotations / disableNameSuffixHash
  patches              path or inline patch; JSON6902 (needs target) or strategic merge
                       (maps merge, null deletes; lists only for custom resources, because
                       kustomize merges lists of built-in kinds by key)
  configurations       nameReference and images field specs

Generated ConfigMaps/Secrets get kustomize's content hash suffix, and references to them
(pod specs, plus the nameReference field specs) are rewritten. Output order follows
kustomize's legacy sort. Usage: kustomize_lite.py DIR  (prints the manifests)
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field

import yaml

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = {
    "apiVersion", "kind", "resources", "namespace", "labels", "images",
    "configMapGenerator", "secretGenerator", "generatorOptions", "patches", "configurations",
}
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "PriorityClass", "RuntimeClass", "IngressClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ClusterIssuer",
    "SpinAppExecutor", "APIService",
}
# Groups whose kinds kustomize knows (strategic merge uses list merge keys for them).
BUILTIN_GROUPS = {
    "", "apps", "batch", "networking.k8s.io", "policy", "autoscaling", "rbac.authorization.k8s.io",
    "storage.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "scheduling.k8s.io",
    "node.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
}
LEGACY_ORDER_FIRST = [
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap",
    "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
    "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
]
LEGACY_ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]
WORKLOAD_TEMPLATE_PATHS = {
    "Deployment": ["spec", "template"], "StatefulSet": ["spec", "template"],
    "DaemonSet": ["spec", "template"], "ReplicaSet": ["spec", "template"],
    "Job": ["spec", "template"], "CronJob": ["spec", "jobTemplate", "spec", "template"],
}


class KustomizeError(Exception):
    pass


@dataclass
class Config:
    """Transformer configuration from `configurations:` files (merged upwards like kustomize)."""
    name_refs: list = field(default_factory=list)   # (referenced kind, referrer kind, path list)
    images: list = field(default_factory=list)      # (kind, path list)

    def merge(self, other: "Config") -> None:
        for ref in other.name_refs:
            if ref not in self.name_refs:
                self.name_refs.append(ref)
        for img in other.images:
            if img not in self.images:
                self.images.append(img)


@dataclass
class Res:
    obj: dict
    generated: bool = False    # from a generator: gets the hash suffix
    hash_suffix: bool = True
    original_name: str = ""

    @property
    def kind(self) -> str:
        return self.obj.get("kind", "")

    @property
    def name(self) -> str:
        return self.obj.get("metadata", {}).get("name", "")

    @property
    def group(self) -> str:
        api = self.obj.get("apiVersion", "")
        return api.split("/")[0] if "/" in api else ""


def _load_yaml_docs(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d is not None]
    for d in docs:
        if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
            raise KustomizeError(f"{path}: every document needs apiVersion and kind")
        if d.get("kind", "").endswith("List") and "items" in d:
            raise KustomizeError(f"{path}: List documents are not supported")
    return docs


def find_kustomization(directory: str) -> str:
    for name in KUSTOMIZATION_NAMES:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    raise KustomizeError(f"no kustomization file in {directory}")


def _inside(root: str, path: str) -> bool:
    root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == root or real.startswith(root + os.sep)


def _file_in_root(root: str, rel: str, what: str) -> str:
    path = os.path.normpath(os.path.join(root, rel))
    if not _inside(root, path):
        raise KustomizeError(
            f"security; file '{rel}' ({what}) is not in or below '{root}' "
            "(kustomize's default load restrictor forbids it)")
    if not os.path.isfile(path):
        raise KustomizeError(f"{what} '{rel}' referenced from {root} does not exist")
    return path


# --------------------------------------------------------------------------- hashing
def _go_json(obj) -> str:
    # Go's json.Marshal: sorted map keys, no spaces, HTML-escaped <, >, &.
    s = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def kustomize_hash(obj: dict) -> str:
    """The suffix kustomize appends to generated ConfigMaps/Secrets (api/hasher)."""
    if obj["kind"] == "ConfigMap":
        # kustomize v5 hashes with an empty name (checked against kubectl kustomize 5.5).
        m = {"kind": "ConfigMap", "name": "", "data": obj.get("data") or {}}
        if obj.get("binaryData"):
            m["binaryData"] = obj["binaryData"]
    else:
        m = {"kind": "Secret", "type": obj.get("type", "Opaque"),
             "name": "", "data": obj.get("data") or {}}
    digest = hashlib.sha256(_go_json(m).encode()).hexdigest()
    enc = {"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"}
    return "".join(enc.get(c, c) for c in digest[:10])


# --------------------------------------------------------------------------- generators
def _parse_env_file(path: str) -> dict:
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                raise KustomizeError(f"{path}: line without '=': {line}")
            k, v = line.split("=", 1)
            out[k] = v
    return out


def _generator_data(root: str, spec: dict, what: str) -> dict:
    data: dict[str, str] = {}
    for lit in spec.get("literals", []) or []:
        if "=" not in lit:
            raise KustomizeError(f"{what}: literal without '=': {lit}")
        k, v = lit.split("=", 1)
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            v = v[1:-1]
        data[k] = v
    for entry in spec.get("files", []) or []:
        key, rel = entry.split("=", 1) if "=" in entry else (os.path.basename(entry), entry)
        path = _file_in_root(root, rel, f"{what} file")
        with open(path, encoding="utf-8") as fh:
            data[key] = fh.read()
    for rel in spec.get("envs", []) or []:
        data.update(_parse_env_file(_file_in_root(root, rel, f"{what} env file")))
    for k in data:
        if not re.fullmatch(r"[-._a-zA-Z0-9]+", k):
            raise KustomizeError(f"{what}: invalid key {k!r}")
    return data


def _kustomize_b64(value: str) -> str:
    """Base64 as kustomize (kyaml) writes it: wrapped every 70 characters, each line
    newline-terminated once it needs more than one line (the hash depends on this)."""
    enc = base64.b64encode(value.encode()).decode()
    line = 70
    if len(enc) // line + 1 == 1:
        return enc
    return "".join(enc[i:i + line] + "\n" for i in range(0, len(enc), line))


def _generate(root: str, kz: dict, kind: str, key: str) -> list[tuple[str, Res]]:
    out = []
    opts = kz.get("generatorOptions", {}) or {}
    for spec in kz.get(key, []) or []:
        unknown = set(spec) - {"name", "namespace", "behavior", "literals", "files", "envs",
                               "options", "type"}
        if unknown:
            raise KustomizeError(f"{root}: {key} fields not supported: {sorted(unknown)}")
        name = spec["name"]
        data = _generator_data(root, spec, f"{key} {name}")
        meta: dict = {"name": name}
        if spec.get("namespace"):
            meta["namespace"] = spec["namespace"]
        o = dict(opts)
        o.update(spec.get("options", {}) or {})
        if o.get("labels"):
            meta["labels"] = dict(o["labels"])
        if o.get("annotations"):
            meta["annotations"] = dict(o["annotations"])
        obj = {"apiVersion": "v1", "kind": kind, "metadata": meta}
        if kind == "Secret":
            obj["type"] = spec.get("type", "Opaque")
            obj["data"] = {k: _kustomize_b64(v) for k, v in data.items()}
        else:
            obj["data"] = data
        res = Res(obj, generated=True, hash_suffix=not o.get("disableNameSuffixHash", False),
                  original_name=name)
        out.append((spec.get("behavior", "create"), res))
    return out


# --------------------------------------------------------------------------- patches
def _split_pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer must start with '/': {path}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _json6902(doc: dict, ops: list) -> dict:
    doc = copy.deepcopy(doc)
    for op in ops:
        kind = op.get("op")
        parts = _split_pointer(op.get("path", ""))
        if kind not in {"add", "replace", "remove", "test"}:
            raise KustomizeError(f"JSON6902 op {kind!r} not supported")
        if not parts:
            raise KustomizeError("JSON6902 on the document root is not supported")
        parent = doc
        for p in parts[:-1]:
            if isinstance(parent, list):
                parent = parent[int(p)]
            elif isinstance(parent, dict) and p in parent:
                parent = parent[p]
            else:
                raise KustomizeError(f"JSON6902 {kind} {op['path']}: path does not exist")
        last = parts[-1]
        if isinstance(parent, list):
            idx = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(idx, copy.deepcopy(op["value"]))
            elif idx >= len(parent):
                raise KustomizeError(f"JSON6902 {kind} {op['path']}: index out of range")
            elif kind == "replace":
                parent[idx] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del parent[idx]
            elif parent[idx] != op["value"]:
                raise KustomizeError(f"JSON6902 test {op['path']} failed")
        elif isinstance(parent, dict):
            if kind == "add":
                parent[last] = copy.deepcopy(op["value"])
            elif last not in parent:
                raise KustomizeError(f"JSON6902 {kind} {op['path']}: path does not exist")
            elif kind == "replace":
                parent[last] = copy.deepcopy(op["value"])
            elif kind == "remove":
                del parent[last]
            elif parent[last] != op["value"]:
                raise KustomizeError(f"JSON6902 test {op['path']} failed")
        else:
            raise KustomizeError(f"JSON6902 {kind} {op['path']}: parent is not a container")
    return doc


def _smp(target: dict, patch: dict, builtin: bool, where: str = "") -> dict:
    out = copy.deepcopy(target)
    for k, v in patch.items():
        if k.startswith("$"):
            raise KustomizeError(f"strategic-merge directive {k} not supported")
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _smp(out[k], v, builtin, f"{where}/{k}")
        elif isinstance(v, list) and builtin:
            raise KustomizeError(
                f"strategic-merge patch sets list {where}/{k} on a built-in kind: kustomize "
                "would merge it by key; use a JSON6902 patch instead")
        else:
            out[k] = copy.deepcopy(v)
    return out


def _matches(res: Res, target: dict) -> bool:
    unknown = set(target) - {"kind", "name", "group", "version", "namespace"}
    if unknown:
        raise KustomizeError(f"patch target selectors not supported: {sorted(unknown)}")
    if "kind" in target and target["kind"] != res.kind:
        return False
    if "name" in target and not re.fullmatch(target["name"], res.name):
        return False
    if "group" in target and target["group"] != res.group:
        return False
    if "version" in target:
        api = res.obj.get("apiVersion", "")
        if target["version"] != api.split("/")[-1]:
            return False
    if "namespace" in target and target["namespace"] != res.obj["metadata"].get("namespace"):
        return False
    return True


def _apply_patches(root: str, kz: dict, resources: list[Res]) -> None:
    for p in kz.get("patches", []) or []:
        unknown = set(p) - {"path", "patch", "target"}
        if unknown:
            raise KustomizeError(f"{root}: patch fields not supported: {sorted(unknown)}")
        if "path" in p:
            with open(_file_in_root(root, p["path"], "patch"), encoding="utf-8") as fh:
                body = yaml.safe_load(fh)
        else:
            body = yaml.safe_load(p["patch"])
        target = p.get("target")
        if isinstance(body, list):
            if not target:
                raise KustomizeError(f"{root}: a JSON6902 patch needs a target")
            hits = [r for r in resources if _matches(r, target)]
            for r in hits:
                r.obj = _json6902(r.obj, body)
        else:
            if not isinstance(body, dict) or "kind" not in body:
                raise KustomizeError(f"{root}: strategic-merge patch needs apiVersion/kind/metadata")
            target = target or {"kind": body["kind"], "name": body["metadata"]["name"]}
            hits = [r for r in resources if _matches(r, target)]
            for r in hits:
                patch = {k: v for k, v in body.items() if k not in ("apiVersion", "kind")}
                patch["metadata"] = {k: v for k, v in patch.get("metadata", {}).items()
                                     if k != "name"}
                if not patch["metadata"]:
                    del patch["metadata"]
                r.obj = _smp(r.obj, patch, r.group in BUILTIN_GROUPS)
        if not hits:
            raise KustomizeError(f"{root}: patch {p.get('path', '(inline)')} matched no resource")


# --------------------------------------------------------------------------- transformers
def _pod_specs(obj: dict) -> list[dict]:
    kind = obj.get("kind")
    if kind == "Pod":
        return [obj.get("spec", {})]
    path = WORKLOAD_TEMPLATE_PATHS.get(kind)
    if not path:
        return []
    node = obj
    for p in path:
        node = node.get(p, {}) if isinstance(node, dict) else {}
    return [node.get("spec", {})] if isinstance(node, dict) else []


def _walk(node, path: list[str], fn, create: bool = False):
    """Apply fn(parent, key) at `path`, descending into every list element on the way."""
    if isinstance(node, list):
        for item in node:
            _walk(item, path, fn, create)
        return
    if not isinstance(node, dict) or not path:
        return
    head = path[0]
    if len(path) == 1:
        if head in node or create:
            fn(node, head)
        return
    if head not in node:
        if not create:
            return
        node[head] = {}
    _walk(node[head], path[1:], fn, create)


def _set_image(image: str, rule: dict) -> str:
    name, tag, digest = image, None, None
    if "@" in name:
        name, digest = name.split("@", 1)
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    if name != rule["name"]:
        return image
    new_name = rule.get("newName", name)
    if rule.get("digest"):
        return f"{new_name}@{rule['digest']}"
    if rule.get("newTag"):
        return f"{new_name}:{rule['newTag']}"
    if digest:
        return f"{new_name}@{digest}"
    return f"{new_name}:{tag}" if tag else new_name


def _apply_images(kz: dict, resources: list[Res], cfg: Config) -> None:
    rules = kz.get("images", []) or []
    for rule in rules:
        unknown = set(rule) - {"name", "newName", "newTag", "digest"}
        if unknown:
            raise KustomizeError(f"images fields not supported: {sorted(unknown)}")
        for r in resources:
            for spec in _pod_specs(r.obj):
                for key in ("containers", "initContainers"):
                    for c in spec.get(key, []) or []:
                        if "image" in c:
                            c["image"] = _set_image(c["image"], rule)
            for kind, path in cfg.images:
                if r.kind == kind:
                    def fix(parent, k, rule=rule):
                        if isinstance(parent.get(k), str):
                            parent[k] = _set_image(parent[k], rule)
                    _walk(r.obj, path, fix)


def _apply_namespace(kz: dict, resources: list[Res]) -> None:
    ns = kz.get("namespace")
    if not ns:
        return
    for r in resources:
        if r.kind not in CLUSTER_SCOPED:
            r.obj["metadata"]["namespace"] = ns


def _apply_labels(kz: dict, resources: list[Res]) -> None:
    for entry in kz.get("labels", []) or []:
        unknown = set(entry) - {"pairs", "includeSelectors", "includeTemplates"}
        if unknown or entry.get("includeSelectors"):
            raise KustomizeError("labels: only pairs (+ includeTemplates) are supported")
        pairs = entry.get("pairs", {}) or {}
        for r in resources:
            r.obj["metadata"].setdefault("labels", {}).update(pairs)
            if entry.get("includeTemplates") and r.kind in WORKLOAD_TEMPLATE_PATHS:
                node = r.obj
                for p in WORKLOAD_TEMPLATE_PATHS[r.kind]:
                    node = node.setdefault(p, {})
                node.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _load_config(root: str, kz: dict) -> Config:
    cfg = Config()
    for rel in kz.get("configurations", []) or []:
        with open(_file_in_root(root, rel, "configuration"), encoding="utf-8") as fh:
            c = yaml.safe_load(fh) or {}
        unknown = set(c) - {"nameReference", "images"}
        if unknown:
            raise KustomizeError(f"{rel}: configuration keys not supported: {sorted(unknown)}")
        for ref in c.get("nameReference", []) or []:
            for fs in ref.get("fieldSpecs", []) or []:
                cfg.name_refs.append((ref["kind"], fs["kind"], fs["path"].split("/")))
        for fs in c.get("images", []) or []:
            cfg.images.append((fs["kind"], fs["path"].split("/")))
    return cfg


# --------------------------------------------------------------------------- build
def _build(directory: str, stack: tuple) -> tuple[list[Res], Config]:
    directory = os.path.realpath(directory)
    if directory in stack:
        raise KustomizeError(f"cycle through {directory}")
    kpath = find_kustomization(directory)
    with open(kpath, encoding="utf-8") as fh:
        kz = yaml.safe_load(fh) or {}
    unknown = set(kz) - SUPPORTED_KEYS
    if unknown:
        raise KustomizeError(f"{kpath}: fields not supported by this renderer: {sorted(unknown)}")
    cfg = _load_config(directory, kz)
    resources: list[Res] = []
    for entry in kz.get("resources", []) or []:
        path = os.path.normpath(os.path.join(directory, entry))
        if os.path.isdir(path):
            sub, sub_cfg = _build(path, stack + (directory,))
            resources.extend(sub)
            cfg.merge(sub_cfg)
        elif os.path.isfile(path):
            _file_in_root(directory, entry, "resource")
            resources.extend(Res(d) for d in _load_yaml_docs(path))
        else:
            raise KustomizeError(f"resource '{entry}' referenced from {kpath} does not exist")
    for kind, key in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
        for behavior, res in _generate(directory, kz, kind, key):
            existing = [r for r in resources if r.kind == kind and r.name == res.name]
            if behavior == "create":
                if existing:
                    raise KustomizeError(f"{kpath}: {kind} {res.name} already exists (use behavior)")
                resources.append(res)
            elif behavior in ("merge", "replace"):
                if not existing:
                    raise KustomizeError(f"{kpath}: {kind} {res.name} to {behavior} not found")
                old = existing[0]
                if behavior == "merge":
                    old.obj.setdefault("data", {}).update(res.obj["data"])
                    for m in ("labels", "annotations"):
                        if res.obj["metadata"].get(m):
                            old.obj["metadata"].setdefault(m, {}).update(res.obj["metadata"][m])
                else:
                    old.obj = res.obj
                old.hash_suffix = old.hash_suffix and res.hash_suffix
            else:
                raise KustomizeError(f"{kpath}: unknown generator behavior {behavior}")
    seen = set()
    for r in resources:
        key = (r.kind, r.obj["metadata"].get("namespace"), r.name)
        if key in seen:
            raise KustomizeError(f"{kpath}: duplicate resource {key}")
        seen.add(key)
    _apply_patches(directory, kz, resources)
    _apply_namespace(kz, resources)
    _apply_labels(kz, resources)
    _apply_images(kz, resources, cfg)
    return resources, cfg


def _rename_refs(resources: list[Res], cfg: Config, renames: dict) -> None:
    """renames: (kind, namespace, old) -> new."""
    def lookup(kind, ns, old):
        return renames.get((kind, ns, old))

    for r in resources:
        ns = r.obj["metadata"].get("namespace")
        for spec in _pod_specs(r.obj):
            containers = (spec.get("containers", []) or []) + (spec.get("initContainers", []) or [])
            for c in containers:
                for env in c.get("env", []) or []:
                    vf = env.get("valueFrom", {}) or {}
                    for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                        if key in vf and lookup(kind, ns, vf[key].get("name")):
                            vf[key]["name"] = lookup(kind, ns, vf[key]["name"])
                for ef in c.get("envFrom", []) or []:
                    for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                        if key in ef and lookup(kind, ns, ef[key].get("name")):
                            ef[key]["name"] = lookup(kind, ns, ef[key]["name"])
            for vol in spec.get("volumes", []) or []:
                if "configMap" in vol and lookup("ConfigMap", ns, vol["configMap"].get("name")):
                    vol["configMap"]["name"] = lookup("ConfigMap", ns, vol["configMap"]["name"])
                if "secret" in vol and lookup("Secret", ns, vol["secret"].get("secretName")):
                    vol["secret"]["secretName"] = lookup("Secret", ns, vol["secret"]["secretName"])
                for src in (vol.get("projected", {}) or {}).get("sources", []) or []:
                    for key, kind in (("configMap", "ConfigMap"), ("secret", "Secret")):
                        if key in src and lookup(kind, ns, src[key].get("name")):
                            src[key]["name"] = lookup(kind, ns, src[key]["name"])
        for ref_kind, referrer, path in cfg.name_refs:
            if r.kind != referrer:
                continue

            def fix(parent, k, ref_kind=ref_kind, ns=ns):
                new = lookup(ref_kind, ns, parent.get(k))
                if new:
                    parent[k] = new
            _walk(r.obj, path, fix)


def _sort_key(res: Res):
    kind = res.kind
    if kind in LEGACY_ORDER_FIRST:
        rank = (0, LEGACY_ORDER_FIRST.index(kind), "")
    elif kind in LEGACY_ORDER_LAST:
        rank = (2, LEGACY_ORDER_LAST.index(kind), "")
    else:
        rank = (1, 0, f"{res.obj.get('apiVersion', '')}/{kind}")
    return rank + (res.obj["metadata"].get("namespace", ""), res.name)


def build(directory: str) -> list[dict]:
    """Render a kustomization directory to a list of objects."""
    resources, cfg = _build(directory, ())
    renames = {}
    for r in resources:
        if r.generated and r.hash_suffix:
            old = r.name
            new = f"{old}-{kustomize_hash(r.obj)}"
            r.obj["metadata"]["name"] = new
            renames[(r.kind, r.obj["metadata"].get("namespace"), old)] = new
    _rename_refs(resources, cfg, renames)
    resources.sort(key=_sort_key)
    return [r.obj for r in resources]


def _ordered(obj: dict) -> dict:
    head = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
    head.update({k: v for k, v in obj.items() if k not in head})
    return head


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump(objs: list[dict]) -> str:
    return "---\n".join(
        yaml.dump(_ordered(o), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                  allow_unicode=True, width=100)
        for o in objs)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} KUSTOMIZATION_DIR", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(dump(build(argv[1])))
    except (KustomizeError, OSError, yaml.YAMLError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

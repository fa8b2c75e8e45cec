#!/usr/bin/env bash
# Validates everything under deploy/ offline, in well under a minute, and exits non-zero on any
# problem. It prints one line per check and ends with "check-deploy: N passed, N failed".
#
#   scripts/check-deploy.sh
#
# What it needs on Debian 12 (CI installs these; nothing else is fetched at run time):
#   apt:  systemd (systemd-analyze), prometheus (promtool), python3, python3-venv
#   pip:  kubernetes-validate (bundles the Kubernetes JSON schemas), pyyaml
# Point CHECK_DEPLOY_PYTHON at the interpreter that has them (default: python3), e.g. a venv:
#   python3 -m venv /opt/herald-ci && /opt/herald-ci/bin/pip install kubernetes-validate pyyaml
#   CHECK_DEPLOY_PYTHON=/opt/herald-ci/bin/python scripts/check-deploy.sh
#
# Checks: systemd-analyze verify on every unit (stub binaries in a temp root), the worker
# template's port arithmetic, stop timeouts against HERALD_SHUTDOWN_GRACE; Kubernetes documents
# against the bundled schemas (strict) plus structural checks of the CRDs (RabbitmqCluster,
# ScaledObject, TriggerAuthentication) and of every cross-reference (selectors, ConfigMaps,
# Secrets, volumes, probes); compose services, volumes and bind mounts; the Dockerfile's images
# and runtime libraries; the Grafana dashboard's panels and the PromQL of every query (through
# promtool); the alert rules (promtool check rules, promtool test rules) and scrape config; and
# that every HERALD_* setting the deploy files set is one the code reads. With
# CHECK_DEPLOY_BIN=<dir of built binaries> it also starts each service with each deployment's
# environment and fails if one rejects a setting (exit code 2) or crashes.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deploy="$repo/deploy"
python="${CHECK_DEPLOY_PYTHON:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
note() { printf '      %s\n' "$*"; }

# --- tools ---------------------------------------------------------------------------------
missing=()
command -v systemd-analyze >/dev/null || missing+=("systemd-analyze (apt: systemd)")
command -v promtool >/dev/null || missing+=("promtool (apt: prometheus)")
"$python" -c 'import yaml, kubernetes_validate' 2>/dev/null \
    || missing+=("$python with yaml and kubernetes_validate (pip: pyyaml kubernetes-validate)")
if ((${#missing[@]})); then
    for tool in "${missing[@]}"; do fail "tool missing: $tool"; done
    echo "check-deploy: $passed passed, $failed failed"
    exit 1
fi
pass "tools: systemd-analyze, promtool, $python with yaml + kubernetes_validate"

# --- systemd --------------------------------------------------------------------------------
units="$deploy/systemd"
root="$work/systemd"
mkdir -p "$root/bin" "$root/units"
# Stub executables stand in for the real binaries, which only a release build produces. The
# worker stub prints the ops port it was given so the template's arithmetic can be checked.
for binary in herald-ingest herald-signer herald-worker heraldctl; do
    printf '#!/bin/sh\necho "HERALD_OPS_PORT=$HERALD_OPS_PORT"\n' >"$root/bin/$binary"
    chmod +x "$root/bin/$binary"
done
cp "$units/herald.env" "$root/herald.env"
for unit in "$units"/*.service "$units"/*.target; do
    sed -e "s#/usr/local/bin/#$root/bin/#g" -e "s#/etc/herald/herald.env#$root/herald.env#g" \
        "$unit" >"$root/units/$(basename "$unit")"
done
for required in herald-ingest.service herald-signer.service herald-worker@.service herald.target herald.env; do
    [ -f "$units/$required" ] && pass "systemd: $required exists" || fail "systemd: $required is missing"
done

# verify prints warnings (unknown keys, bad values) but still exits 0, so any output fails.
# The template is verified through an instance, as systemd would load it.
(
    cd "$root/units" || exit 1
    cp herald-worker@.service herald-worker@3.service
    systemd-analyze verify --man=no ./herald-ingest.service ./herald-signer.service \
        ./herald-worker@3.service ./herald.target
) >"$work/verify.out" 2>&1
verify_rc=$?
if [ $verify_rc -eq 0 ] && [ ! -s "$work/verify.out" ]; then
    pass "systemd: systemd-analyze verify herald-ingest, herald-signer, herald-worker@3, herald.target (no warnings)"
else
    fail "systemd: systemd-analyze verify (rc=$verify_rc):"
    sed 's/^/      /' "$work/verify.out"
fi

# The worker template derives its ops port from the instance number in a shell; run that exact
# command line (with systemd's own substitutions applied) against the stub.
execstart="$(sed -n 's/^ExecStart=//p' "$root/units/herald-worker@.service")"
case "$execstart" in
    "/bin/sh -c '"*"'")
        script="${execstart#/bin/sh -c \'}"
        script="${script%\'}"
        script="${script//\$\$/\$}"
        script="${script//%i/3}"
        got="$(/bin/sh -c "$script" 2>&1)"
        [ "$got" = "HERALD_OPS_PORT=9203" ] \
            && pass "systemd: herald-worker@3 gets HERALD_OPS_PORT=9203" \
            || fail "systemd: herald-worker@3 ops port: expected HERALD_OPS_PORT=9203, got '$got'"
        ;;
    *) fail "systemd: herald-worker@.service ExecStart is not the expected /bin/sh -c '…' form: $execstart" ;;
esac

seconds() { # 30s, 2m, 45, 1min30s → seconds (the forms these files use)
    "$python" - "$1" <<'EOF'
import re, sys
text = sys.argv[1].strip()
units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
total = 0
for number, unit in re.findall(r"(\d+)\s*([a-z]*)", text):
    total += int(number) * units[unit]
print(total)
EOF
}
grace_text="$(sed -n 's/^HERALD_SHUTDOWN_GRACE=//p' "$units/herald.env")"
grace="$(seconds "${grace_text:-30s}")"
for unit in herald-ingest.service herald-signer.service herald-worker@.service; do
    file="$units/$unit"
    stop="$(sed -n 's/^TimeoutStopSec=//p' "$file")"
    if [ -n "$stop" ] && [ "$(seconds "$stop")" -ge "$grace" ]; then
        pass "systemd: $unit TimeoutStopSec=$stop >= HERALD_SHUTDOWN_GRACE=${grace}s"
    else
        fail "systemd: $unit TimeoutStopSec='$stop' must be >= HERALD_SHUTDOWN_GRACE (${grace}s)"
    fi
    absent=()
    for directive in Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
        RestrictAddressFamilies= MemoryMax= PartOf=herald.target WantedBy=herald.target; do
        grep -q "^$directive" "$file" || absent+=("$directive")
    done
    case "$unit" in
        herald-worker@.service) grep -q '^DynamicUser=yes' "$file" || absent+=("DynamicUser=yes") ;;
        *) grep -q '^StateDirectory=herald' "$file" || absent+=("StateDirectory=herald") ;;
    esac
    ((${#absent[@]})) && fail "systemd: $unit lacks ${absent[*]}" || pass "systemd: $unit hardening and restart policy present"
done

# --- Prometheus -------------------------------------------------------------------------------
prom="$deploy/prometheus"
if promtool check rules "$prom/alerts.yaml" >"$work/rules.out" 2>&1; then
    pass "prometheus: promtool check rules alerts.yaml ($(grep -o '[0-9]* rules found' "$work/rules.out"))"
else
    fail "prometheus: promtool check rules alerts.yaml"; sed 's/^/      /' "$work/rules.out"
fi
if (cd "$prom" && promtool test rules alerts.test.yaml) >"$work/rtest.out" 2>&1; then
    pass "prometheus: promtool test rules alerts.test.yaml (alerts fire on failure, stay quiet when healthy)"
else
    fail "prometheus: promtool test rules alerts.test.yaml"; sed 's/^/      /' "$work/rtest.out"
fi
if (cd "$prom" && promtool check config prometheus.yml) >"$work/config.out" 2>&1; then
    pass "prometheus: promtool check config prometheus.yml"
else
    fail "prometheus: promtool check config prometheus.yml"; sed 's/^/      /' "$work/config.out"
fi

# --- YAML, JSON, Kubernetes, compose, Grafana (Python) -----------------------------------------
"$python" - "$repo" "$work" >"$work/py.out" 2>&1 <<'PYTHON'
import json, os, re, subprocess, sys
import yaml
import kubernetes_validate

repo, work = sys.argv[1], sys.argv[2]
deploy = os.path.join(repo, "deploy")
K8S_VERSION = "1.30.0"  # oldest Kubernetes this deployment targets; schemas ship in the wheel

def ok(message): print("ok    " + message)
def bad(message): print("FAIL  " + message)
def warn(message): print("WARN  " + message)

def code_text():
    text = []
    for base, _, files in os.walk(os.path.join(repo, "Sources")):
        for name in files:
            if name.endswith(".swift"):
                with open(os.path.join(base, name), encoding="utf-8") as handle:
                    text.append(handle.read())
    return "\n".join(text)
CODE = code_text()

def check_settings(where, keys):
    """Every HERALD_* key a deploy file sets must be read somewhere in Sources/."""
    unknown = sorted(k for k in keys if k.startswith("HERALD_") and f'"{k}"' not in CODE)
    if unknown:
        bad(f"{where}: settings no code reads: {', '.join(unknown)}")
    else:
        ok(f"{where}: all {len([k for k in keys if k.startswith('HERALD_')])} HERALD_* settings are read by the code")

# systemd EnvironmentFile
env_keys = []
with open(os.path.join(deploy, "systemd", "herald.env")) as handle:
    for line in handle:
        line = line.strip()
        if line and not line.startswith("#"):
            env_keys.append(line.split("=", 1)[0])
for unit in ("herald-signer.service", "herald-worker@.service"):
    with open(os.path.join(deploy, "systemd", unit)) as handle:
        env_keys += re.findall(r"\b(HERALD_[A-Z_]+)=", handle.read())
check_settings("systemd herald.env + units", set(env_keys))

# Containers are probed and scraped on the pod address, so each service must honour its bind
# address setting (herald-ingest: HERALD_INGEST_HOST; signer and worker: HERALD_OPS_HOST).
for service, key in (("HeraldIngest", "HERALD_INGEST_HOST"), ("HeraldSigner", "HERALD_OPS_HOST"), ("HeraldWorker", "HERALD_OPS_HOST")):
    folder = os.path.join(repo, "Sources", service)
    text = "".join(open(os.path.join(b, n), encoding="utf-8").read() for b, _, fs in os.walk(folder) for n in fs if n.endswith(".swift"))
    if f'"{key}"' in text:
        ok(f"settings: {service} reads {key} (containers bind 0.0.0.0)")
    else:
        warn(f"settings: {service} does not read {key}: in containers its ops server binds 127.0.0.1 and probes fail")

# ---- Kubernetes ----
kdir = os.path.join(deploy, "kubernetes")
docs = []  # (file, document)
for name in sorted(os.listdir(kdir)):
    if not name.endswith((".yaml", ".yml")):
        continue
    path = os.path.join(kdir, name)
    try:
        with open(path) as handle:
            loaded = [d for d in yaml.safe_load_all(handle) if d is not None]
    except yaml.YAMLError as error:
        bad(f"kubernetes: {name} does not parse: {error}")
        continue
    ok(f"kubernetes: {name} parses ({len(loaded)} document{'s' if len(loaded) != 1 else ''})")
    docs += [(name, d) for d in loaded]

def named(kind):
    return {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == kind}

kustomization = next((d for f, d in docs if d.get("kind") == "Kustomization"), None)
manifests = [(f, d) for f, d in docs if d.get("kind") != "Kustomization"]
if kustomization is None:
    bad("kubernetes: kustomization.yaml missing")
else:
    listed = set(kustomization.get("resources", []))
    files = {f for f, _ in manifests}
    if listed == files and all(os.path.exists(os.path.join(kdir, r)) for r in listed):
        ok(f"kubernetes: kustomization lists exactly the {len(files)} manifest files")
    else:
        bad(f"kubernetes: kustomization resources {sorted(listed)} differ from files {sorted(files)}")

CRD_KINDS = {("rabbitmq.com/v1beta1", "RabbitmqCluster"), ("keda.sh/v1alpha1", "ScaledObject"),
             ("keda.sh/v1alpha1", "TriggerAuthentication")}
for name, doc in manifests:
    kind, api = doc.get("kind"), doc.get("apiVersion")
    label = f"{kind}/{doc.get('metadata', {}).get('name')}"
    if (api, kind) in CRD_KINDS:
        continue
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        ok(f"kubernetes: {name} {label} valid against the Kubernetes {K8S_VERSION} schema (strict)")
    except kubernetes_validate.ValidationError as error:
        bad(f"kubernetes: {name} {label}: {error.message} at {'.'.join(map(str, error.path))}")
    except kubernetes_validate.SchemaNotFoundError:
        bad(f"kubernetes: {name} {label}: no bundled schema for {api} {kind} and no structural check written")

def dig(doc, path, default=None):
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return default
        doc = doc[key]
    return doc

def require(label, condition, message):
    if condition:
        return True
    bad(f"kubernetes: {label}: {message}")
    return False

# CRDs: structural checks of the fields their operators require and Herald relies on.
for name, cluster in named("RabbitmqCluster").items():
    label = f"RabbitmqCluster/{name}"
    good = all([
        require(label, cluster.get("apiVersion") == "rabbitmq.com/v1beta1", "apiVersion must be rabbitmq.com/v1beta1"),
        require(label, dig(cluster, "spec.replicas") == 3, f"spec.replicas must be 3 for quorum queues, got {dig(cluster, 'spec.replicas')!r}"),
        require(label, isinstance(dig(cluster, "spec.image"), str) and dig(cluster, "spec.image").startswith("rabbitmq:3."),
                "spec.image must be a rabbitmq:3.x image"),
        require(label, all(isinstance(p, str) for p in dig(cluster, "spec.rabbitmq.additionalPlugins", [])),
                "spec.rabbitmq.additionalPlugins must be a list of plugin names"),
        require(label, isinstance(dig(cluster, "spec.rabbitmq.additionalConfig", ""), str),
                "spec.rabbitmq.additionalConfig must be a string (rabbitmq.conf lines)"),
        require(label, set(dig(cluster, "spec", {})) <= {"replicas", "image", "resources", "persistence", "rabbitmq",
                                                          "affinity", "tolerations", "service", "override", "tls",
                                                          "secretBackend", "imagePullSecrets", "terminationGracePeriodSeconds",
                                                          "skipPostDeploySteps", "delayStartSeconds", "autoEnableAllFeatureFlags"},
                f"unknown spec fields {sorted(set(dig(cluster, 'spec', {})))}"),
    ])
    if good:
        ok(f"kubernetes: {label} structure (3 replicas, image, plugins, config)")
if not named("RabbitmqCluster"):
    bad("kubernetes: no RabbitmqCluster")

cluster_secrets = {f"{n}-default-user" for n in named("RabbitmqCluster")}
deployments = named("Deployment")
trigger_auths = named("TriggerAuthentication")
for name, auth in trigger_auths.items():
    label = f"TriggerAuthentication/{name}"
    refs = dig(auth, "spec.secretTargetRef", [])
    good = require(label, isinstance(refs, list) and refs, "spec.secretTargetRef must be a non-empty list")
    for ref in refs or []:
        good &= require(label, {"parameter", "name", "key"} <= set(ref), f"secretTargetRef entry {ref} needs parameter, name, key")
        good &= require(label, ref.get("name") in named("Secret") or ref.get("name") in cluster_secrets,
                        f"secret {ref.get('name')!r} is neither in the manifests nor made by a RabbitmqCluster")
    if good:
        ok(f"kubernetes: {label} structure and secret references")

for name, scaled in named("ScaledObject").items():
    label = f"ScaledObject/{name}"
    target = dig(scaled, "spec.scaleTargetRef.name")
    triggers = dig(scaled, "spec.triggers", [])
    good = all([
        require(label, scaled.get("apiVersion") == "keda.sh/v1alpha1", "apiVersion must be keda.sh/v1alpha1"),
        require(label, target in deployments, f"scaleTargetRef.name {target!r} is not a Deployment here"),
        require(label, isinstance(triggers, list) and triggers, "spec.triggers must be a non-empty list"),
        require(label, int(dig(scaled, "spec.minReplicaCount", 0)) <= int(dig(scaled, "spec.maxReplicaCount", 100)),
                "minReplicaCount > maxReplicaCount"),
    ])
    for trigger in triggers or []:
        meta = trigger.get("metadata", {})
        good &= require(label, trigger.get("type") == "rabbitmq", f"trigger type {trigger.get('type')!r} is not rabbitmq")
        good &= require(label, meta.get("queueName") == "herald.deliver", f"queueName must be herald.deliver, got {meta.get('queueName')!r}")
        good &= require(label, meta.get("mode") in ("QueueLength", "MessageRate"), f"mode {meta.get('mode')!r}")
        good &= require(label, meta.get("protocol", "auto") in ("auto", "amqp", "http"), f"protocol {meta.get('protocol')!r}")
        good &= require(label, isinstance(meta.get("value"), str) and re.fullmatch(r"\d+(\.\d+)?", meta["value"] or ""),
                        f"value must be a quoted number, got {meta.get('value')!r}")
        good &= require(label, all(isinstance(v, str) for v in meta.values()), "trigger metadata values must all be strings")
        good &= require(label, "host" in meta or "hostFromEnv" in meta or trigger.get("authenticationRef"),
                        "trigger needs host, hostFromEnv or an authenticationRef")
        ref = dig(trigger, "authenticationRef.name")
        good &= require(label, ref is None or ref in trigger_auths, f"authenticationRef {ref!r} is not a TriggerAuthentication here")
    if good:
        ok(f"kubernetes: {label} scales {target} on herald.deliver")
if not named("ScaledObject"):
    bad("kubernetes: no KEDA ScaledObject")

# Cross-references: selectors, ConfigMaps, Secrets, PVCs, probes, grace periods.
config_maps, secrets, claims = named("ConfigMap"), named("Secret"), named("PersistentVolumeClaim")
config = next(iter(config_maps.values()), {}).get("data", {})
check_settings("kubernetes ConfigMap + env", set(config) | {e["name"] for d in deployments.values()
               for c in dig(d, "spec.template.spec.containers", []) for e in c.get("env", [])})
grace = 30
match = re.fullmatch(r"(\d+)s", str(config.get("HERALD_SHUTDOWN_GRACE", "30s")))
if match:
    grace = int(match.group(1))
pod_labels = {}
for name, deployment in deployments.items():
    label = f"Deployment/{name}"
    labels = dig(deployment, "spec.template.metadata.labels", {})
    pod_labels[name] = labels
    selector = dig(deployment, "spec.selector.matchLabels", {})
    good = require(label, selector.items() <= labels.items(), "spec.selector does not match the pod labels")
    spec = dig(deployment, "spec.template.spec", {})
    good &= require(label, spec.get("terminationGracePeriodSeconds", 30) > grace,
                    f"terminationGracePeriodSeconds {spec.get('terminationGracePeriodSeconds', 30)} must exceed HERALD_SHUTDOWN_GRACE {grace}s")
    for container in spec.get("containers", []):
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            good &= require(label, dig(container, f"{probe}.httpGet.path") == path, f"{container['name']} {probe} must GET {path}")
            port = dig(container, f"{probe}.httpGet.port")
            good &= require(label, port in [p.get("name") for p in container.get("ports", [])] + [p.get("containerPort") for p in container.get("ports", [])],
                            f"{container['name']} {probe} port {port!r} is not a container port")
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                good &= require(label, source["configMapRef"]["name"] in config_maps, f"ConfigMap {source['configMapRef']['name']!r} missing")
            if "secretRef" in source:
                good &= require(label, source["secretRef"]["name"] in secrets, f"Secret {source['secretRef']['name']!r} missing")
        for env in container.get("env", []):
            ref = dig(env, "valueFrom.secretKeyRef.name")
            if ref:
                good &= require(label, ref in secrets or ref in cluster_secrets, f"Secret {ref!r} missing")
    for volume in spec.get("volumes", []):
        claim = dig(volume, "persistentVolumeClaim.claimName")
        if claim:
            good &= require(label, claim in claims, f"PersistentVolumeClaim {claim!r} missing")
    if good:
        ok(f"kubernetes: {label} selector, probes (/readyz, /healthz), config, secrets, volumes, grace period")
for expected in ("herald-ingest", "herald-signer", "herald-worker"):
    if expected not in deployments:
        bad(f"kubernetes: Deployment {expected} missing")
for kind in ("Service", "PodDisruptionBudget"):
    for name, doc in named(kind).items():
        selector = dig(doc, "spec.selector", {}) if kind == "Service" else dig(doc, "spec.selector.matchLabels", {})
        targets = [d for d, labels in pod_labels.items() if selector.items() <= labels.items()]
        if targets:
            ok(f"kubernetes: {kind}/{name} selects Deployment {', '.join(targets)}")
        else:
            bad(f"kubernetes: {kind}/{name} selector {selector} matches no Deployment")
for expected in deployments:
    if not any(dig(d, "spec.selector.matchLabels", {}).items() <= pod_labels[expected].items() for d in named("PodDisruptionBudget").values()):
        bad(f"kubernetes: Deployment {expected} has no PodDisruptionBudget")
job_found = any(d.get("kind") == "Job" and "definitions.json" in json.dumps(d) for _, d in docs)
(ok if job_found else bad)("kubernetes: a Job imports topology definitions.json")

# ---- compose ----
cdir = os.path.join(deploy, "compose")
try:
    with open(os.path.join(cdir, "compose.yaml")) as handle:
        compose = yaml.safe_load(handle)
    ok("compose: compose.yaml parses")
except (OSError, yaml.YAMLError) as error:
    bad(f"compose: compose.yaml: {error}")
    compose = {"services": {}}
services = compose.get("services", {})
volumes = set((compose.get("volumes") or {}).keys())
problems = []
used_volumes = set()
for name, service in services.items():
    if not (service.get("image") or service.get("build")):
        problems.append(f"{name} has neither image nor build")
    depends = service.get("depends_on", {})
    for dependency in (depends if isinstance(depends, (list, dict)) else []):
        if dependency not in services:
            problems.append(f"{name} depends on unknown service {dependency}")
    for mount in service.get("volumes", []):
        source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source")
        if source.startswith((".", "/")):
            if not os.path.exists(os.path.join(cdir, source)):
                if source.endswith("topology/definitions.json"):
                    warn(f"compose: {name} mounts {source}, which does not exist yet (generated by `heraldctl topology export`)")
                else:
                    problems.append(f"{name} bind-mounts missing {source}")
        else:
            used_volumes.add(source)
            if source not in volumes:
                problems.append(f"{name} uses undeclared volume {source}")
    build = service.get("build")
    if isinstance(build, dict):
        context = os.path.join(cdir, build.get("context", "."))
        if not os.path.exists(os.path.join(context, build.get("dockerfile", "Dockerfile"))):
            problems.append(f"{name} build dockerfile {build.get('dockerfile')} not found from {build.get('context')}")
for volume in volumes - used_volumes:
    problems.append(f"volume {volume} is declared but unused")
for required in ("rabbitmq", "ingest", "signer", "worker"):
    if required not in services:
        problems.append(f"service {required} missing")
if dig(services.get("worker", {}), "deploy.replicas", 1) < 2:
    problems.append("worker should run 2 replicas")
shared = set(services.get("ingest", {}).get("volumes", [])) & set(services.get("signer", {}).get("volumes", []))
if not shared:
    problems.append("ingest and signer do not share the SQLite volume")
if problems:
    for problem in problems:
        bad(f"compose: {problem}")
else:
    ok(f"compose: {len(services)} services, volumes and dependencies consistent; ingest and signer share {', '.join(sorted(shared))}")
compose_keys = set()
for service in services.values():
    env = service.get("environment", {})
    compose_keys |= set(env if isinstance(env, dict) else [e.split("=")[0] for e in env])
check_settings("compose environment", compose_keys)

with open(os.path.join(cdir, "Dockerfile")) as handle:
    dockerfile = handle.read()
args = dict(re.findall(r"^ARG (\w+)=(\S+)", dockerfile, re.M))
stages = [args.get(m.strip("${}"), m) if m.startswith("$") else m for m in re.findall(r"^FROM (\S+)", dockerfile, re.M)]
swift = re.fullmatch(r"swift:(\d+)\.(\d+)(-\w+)?", stages[0]) if stages else None
problems = []
if len(stages) < 2:
    problems.append("not multi-stage")
if not swift or int(swift.group(1)) < 6:
    problems.append(f"build stage {stages[:1]} is not an official swift:6.x image")
if stages[-1:] != ["debian:bookworm-slim"]:
    problems.append(f"runtime stage {stages[-1:]} is not debian:bookworm-slim")
runtime = dockerfile.split("FROM ")[-1]
for package in ("librabbitmq4", "libcurl4", "libssl3", "libsqlite3-0"):
    if not re.search(rf"\b{re.escape(package)}\b", runtime):
        problems.append(f"runtime stage does not install {package}")
for source in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.M):
    if not os.path.exists(os.path.join(repo, source)):
        (warn if source == "topology/definitions.json" else problems.append)(
            f"compose: Dockerfile copies {source}, which does not exist yet" if source == "topology/definitions.json" else f"Dockerfile copies missing {source}")
if problems:
    for problem in problems:
        bad(f"compose: Dockerfile: {problem}")
else:
    ok(f"compose: Dockerfile stages {' -> '.join(stages)}; runtime installs librabbitmq4 libcurl4 libssl3 libsqlite3-0")

# ---- Grafana ----
try:
    with open(os.path.join(deploy, "grafana", "herald-dashboard.json")) as handle:
        dashboard = json.load(handle)
    ok("grafana: herald-dashboard.json parses")
except (OSError, ValueError) as error:
    bad(f"grafana: herald-dashboard.json: {error}")
    dashboard = {"panels": []}
panels = [p for p in dashboard.get("panels", []) if p.get("type") != "row"]
problems, exprs = [], []
ids = [p.get("id") for p in dashboard.get("panels", [])]
if len(ids) != len(set(ids)):
    problems.append("panel ids are not unique")
for panel in panels:
    title = panel.get("title", "?")
    if not dig(panel, "datasource.uid") and not isinstance(panel.get("datasource"), str):
        problems.append(f"panel {title!r} has no datasource")
    if not panel.get("targets"):
        problems.append(f"panel {title!r} has no targets")
    if not panel.get("gridPos"):
        problems.append(f"panel {title!r} has no gridPos")
    for target in panel.get("targets", []):
        if not target.get("expr"):
            problems.append(f"panel {title!r} target {target.get('refId')} has no expr")
        else:
            exprs.append((title, target["expr"]))
if problems:
    for problem in problems:
        bad(f"grafana: {problem}")
else:
    ok(f"grafana: {len(panels)} panels, each with a datasource and targets ({len(exprs)} queries)")
# PromQL syntax: promtool parses each query as a recording rule (Grafana's interval variables replaced).
rules = {"groups": [{"name": "dashboard", "rules": [
    {"record": f"dashboard:query_{i}", "expr": expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")}
    for i, (_, expr) in enumerate(exprs)]}]}
rules_path = os.path.join(work, "dashboard-rules.yaml")
with open(rules_path, "w") as handle:
    yaml.safe_dump(rules, handle)
result = subprocess.run(["promtool", "check", "rules", rules_path], capture_output=True, text=True)
if result.returncode == 0:
    ok(f"grafana: all {len(exprs)} queries are valid PromQL (promtool)")
else:
    bad("grafana: invalid PromQL:\n" + result.stdout + result.stderr)
# Reconcile metric names with what the code registers (warn: the services are still changing).
used = set()
for _, expr in exprs:
    used |= set(re.findall(r"\b(herald_[a-z_]+?)(?:_bucket|_sum|_count)?\b(?=[\[{(\s)]|$)", expr))
for source in (os.path.join(deploy, "prometheus", "alerts.yaml"),):
    with open(source) as handle:
        used |= set(re.findall(r"\b(herald_[a-z_]+?)(?:_bucket|_sum|_count)?\b(?=[\[{(\s)])", handle.read()))
emitted = set(re.findall(r'label: "(herald_[a-z_]+)"', CODE))
missing = sorted(used - emitted)
if missing:
    warn(f"metrics used by the dashboard/alerts that no code registers yet: {', '.join(missing)}")
else:
    ok(f"metrics: all {len(used)} herald_* metrics in the dashboard and alerts are registered by the code")
unused = sorted(emitted - used)
if unused:
    print(f"      (registered but not on the dashboard: {', '.join(unused)})")
PYTHON
py_rc=$?
cat "$work/py.out"
passed=$((passed + $(grep -c '^ok ' "$work/py.out")))
failed=$((failed + $(grep -c '^FAIL' "$work/py.out")))
if [ $py_rc -ne 0 ]; then
    fail "python checks crashed (rc=$py_rc)"
fi

# --- the settings, as the services parse them (optional: needs built binaries) -----------------
# With CHECK_DEPLOY_BIN=<dir holding herald-ingest, herald-signer, herald-worker> (e.g. after
# `swift build -c release`: .build/release), each service is started with the environment each
# deployment gives it; exit code 2 within 3 s means the service rejected a setting, and a crash
# (killed by a signal, a crash report) fails too. Brokers and DNS names are unreachable from
# here, so a service that got past its configuration keeps retrying its connection (or waits for
# its store) and is stopped, or exits 1 saying so. Ports are set to 0 and the SQLite path to a
# temp dir. A relative CHECK_DEPLOY_BIN is taken from the current directory.
if [ -n "${CHECK_DEPLOY_BIN:-}" ] && ! bindir="$(cd "$CHECK_DEPLOY_BIN" 2>/dev/null && pwd)"; then
    fail "settings: CHECK_DEPLOY_BIN=$CHECK_DEPLOY_BIN is not a directory (from $PWD)"
elif [ -n "${CHECK_DEPLOY_BIN:-}" ]; then
    # bindir is absolute, so it still names the binaries from the services' working directory.
    "$python" - "$repo" "$work" "$bindir" >"$work/bin.out" 2>&1 <<'PYTHON'
import os, re, signal, subprocess, sys, time
import yaml
repo, work, bindir = sys.argv[1:4]
deploy = os.path.join(repo, "deploy")
def ok(message): print("ok    " + message)
def bad(message): print("FAIL  " + message)
envs = {}
# systemd: herald.env plus what each unit sets itself
base = {}
for line in open(os.path.join(deploy, "systemd", "herald.env")):
    line = line.strip()
    if line and not line.startswith("#"):
        key, _, value = line.partition("=")
        base[key] = value
for service in ("ingest", "signer", "worker"):
    envs[("systemd", service)] = dict(base)
# kubernetes: ConfigMap + Secret + the container's env ($(VAR) expanded, operator secrets stubbed)
docs = [d for name in os.listdir(os.path.join(deploy, "kubernetes")) if name.endswith(".yaml")
        for d in yaml.safe_load_all(open(os.path.join(deploy, "kubernetes", name))) if d]
config = next(d["data"] for d in docs if d.get("kind") == "ConfigMap")
secret = next(d.get("stringData", {}) for d in docs if d.get("kind") == "Secret")
for d in docs:
    if d.get("kind") != "Deployment":
        continue
    service = d["metadata"]["name"].removeprefix("herald-")
    container = d["spec"]["template"]["spec"]["containers"][0]
    env = dict(config)
    if any("secretRef" in s for s in container.get("envFrom", [])):
        env.update(secret)
    for item in container.get("env", []):
        value = item.get("value", "stub")
        env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), ""), value)
    envs[("kubernetes", service)] = env
# compose: each service's environment with ${X:-default} / ${X:?…} resolved to defaults
compose = yaml.safe_load(open(os.path.join(deploy, "compose", "compose.yaml")))
def resolve(value):
    value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
    return re.sub(r"\$\{\w+:\?[^}]*\}", "a-long-random-admin-key-for-checks", value)
for service in ("ingest", "signer", "worker"):
    envs[("compose", service)] = {k: resolve(v) for k, v in compose["services"][service]["environment"].items()}
running = []
for (where, service), env in sorted(envs.items()):
    env = {k: v for k, v in env.items()}
    env.update({"HERALD_OPS_PORT": "0", "HERALD_INGEST_PORT": "0",
                "HERALD_DATABASE_PATH": os.path.join(work, f"{where}-{service}.sqlite")})
    # Never reach a real local broker: keep the URL's form, point it at a closed port.
    env["HERALD_AMQP_URL"] = re.sub(r"@127\.0\.0\.1:5672/", "@127.0.0.1:1/", env.get("HERALD_AMQP_URL", ""))
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    binary = os.path.join(bindir, f"herald-{service}")
    if not os.access(binary, os.X_OK):
        bad(f"settings: {binary} is missing or not executable")
        continue
    log = open(os.path.join(work, f"{where}-{service}.log"), "w+")
    try:
        process = subprocess.Popen([binary], env=full, stdout=log, stderr=log,
                                   cwd=work, start_new_session=True)
    except OSError as error:
        bad(f"settings: cannot start {binary} with the {where} environment: {error}")
        continue
    running.append((where, service, process, log, len(env)))
time.sleep(3)
for where, service, process, log, count in running:
    code = process.poll()
    if code is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.seek(0)
    output = log.read().strip().splitlines()
    message = next((l for l in output if "configuration" in l.lower()), output[-1] if output else "")
    crash = next((l for l in output if re.search(r"fatal error|crash", l, re.I)), None)
    if code == 2:
        bad(f"settings: herald-{service} rejects the {where} environment: {message}")
    elif (code is not None and (code < 0 or code >= 128)) or crash:
        # Killed by a signal (a trap is SIGILL, 132) or a crash report: a defect, not a setting.
        bad(f"settings: herald-{service} crashed with the {where} environment (status {code}): {crash or message}")
    else:
        ok(f"settings: herald-{service} accepts the {where} environment ({count} variables; "
           + ("still running after 3 s" if code is None else f"exited {code} past configuration: {message[:80]}") + ")")
PYTHON
    bin_rc=$?
    cat "$work/bin.out"
    passed=$((passed + $(grep -c '^ok ' "$work/bin.out")))
    failed=$((failed + $(grep -c '^FAIL' "$work/bin.out")))
    if [ $bin_rc -ne 0 ]; then
        fail "settings checks crashed (rc=$bin_rc)"
    fi
else
    note "settings as parsed by the services: not run (set CHECK_DEPLOY_BIN to a directory of built binaries)"
fi

echo "check-deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

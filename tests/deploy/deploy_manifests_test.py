"""The deployment examples under deploy/ against the real sopd and etcd: the
Kubernetes manifests parse and name themselves, the probes hit sopd's
/readyz and /healthz on a port the container has, every flag the manifests,
the systemd drop-in and the guides pass to sopd is one `sopd --help` lists
(and every ETCD_ variable one `etcd --help` lists), every Secret and
ConfigMap a pod uses is defined, and every file a flag names is in a volume
the container mounts.

What counts as "passed to sopd": the args of a container whose image is
sopd's; the keys of a ConfigMap's sopd.yaml (sopd --config, keys are flags);
in deploy/systemd/*.conf and in the Markdown code blocks under deploy/, the
--flags after a word that is sopd or ends in /sopd, up to the end of the
command; and the keys of a ```yaml block whose first line is a comment naming
sopd.yaml.

Environment (set by ctest, or by run_python_test.sh under Bazel): SOPD (the
sopd binary), SOP_DEPLOY_DIR (the deploy/ directory).
"""

import copy
import ipaddress
import os
import re
import shlex
import shutil
import subprocess
import unittest

import yaml

DEPLOY = os.environ["SOP_DEPLOY_DIR"]
SOPD = os.environ["SOPD"]
TIMEOUT = 30
# Kinds whose pods the checks read: those with a pod template (spec.template).
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# Words that end a shell command in a guide's code block.
COMMAND_ENDS = {"|", "||", "&&", ";", "&"}
# sopd flags whose value starts with / but names no file: an etcd key prefix.
NOT_FILES = {"etcd-prefix"}
# Words that run the command after them.
COMMAND_WRAPPERS = {"sudo", "runuser", "env", "exec", "--"}


def deploy_files(suffixes):
    """Paths under DEPLOY ending in one of `suffixes`, sorted."""
    found = []
    for path, dirs, files in os.walk(DEPLOY):
        dirs.sort()
        found += [os.path.join(path, f) for f in sorted(files) if f.endswith(suffixes)]
    return found


def relative(path):
    return os.path.relpath(path, DEPLOY)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def yaml_documents():
    """(file, index, document) of every non-empty YAML document under deploy/."""
    documents = []
    for path in deploy_files((".yaml", ".yml")):
        for index, doc in enumerate(yaml.safe_load_all(read(path))):
            if doc is not None:
                documents.append((relative(path), index, doc))
    return documents


def kubernetes_objects():
    """The objects (not the Kustomization) of deploy/kubernetes."""
    return [(f, i, d) for f, i, d in yaml_documents()
            if f.startswith("kubernetes/") and d.get("kind") != "Kustomization"]


def kustomization():
    return yaml.safe_load(read(os.path.join(DEPLOY, "kubernetes", "kustomization.yaml")))


def pod_specs(objects):
    """(object name, pod template labels, pod spec) of every workload; a
    StatefulSet's volumeClaimTemplates are among its pod spec's volumes."""
    specs = []
    for _, _, obj in objects:
        if obj.get("kind") in WORKLOADS:
            template = obj["spec"]["template"]
            spec = copy.deepcopy(template["spec"])
            for claim in obj["spec"].get("volumeClaimTemplates", []):
                spec.setdefault("volumes", []).append(
                    {"name": claim["metadata"]["name"], "persistentVolumeClaim": {}})
            specs.append((obj["metadata"]["name"], template.get("metadata", {}).get("labels", {}),
                          spec))
        elif obj.get("kind") == "Pod":
            specs.append((obj["metadata"]["name"], obj["metadata"].get("labels", {}), obj["spec"]))
    return specs


def containers(spec):
    return spec.get("initContainers", []) + spec.get("containers", [])


def is_sopd_image(image):
    return re.search(r"(^|/)sopd([:@]|$)", image or "") is not None


def is_etcd_image(image):
    return re.search(r"(^|/)etcd([:@]|$)", image or "") is not None


def parse_flags(words):
    """[(name, value or None)] of the --flags in `words` (--name=value, or
    --name value when the next word is not a flag)."""
    flags = []
    for i, word in enumerate(words):
        if not word.startswith("--") or word == "--":
            continue
        name, eq, value = word[2:].partition("=")
        if not eq:
            following = words[i + 1] if i + 1 < len(words) else None
            value = following if following is not None and not following.startswith("-") else None
        flags.append((name, value))
    return flags


def sopd_command_words(text):
    """The words after sopd of every sopd command in shell-like `text` (lines
    joined at a trailing backslash; an ExecStart= prefix is dropped)."""
    commands = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = re.sub(r"^\s*ExecStart=", "", line)
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        i = command_start(words)
        if i is not None:
            rest = []
            for following in words[i + 1:]:
                if following in COMMAND_ENDS or following.startswith((">", "2>")):
                    break
                rest.append(following)
            commands.append(rest)
    return commands


def command_start(words):
    """The index of sopd in `words` when sopd is the command run (alone, or
    after sudo, runuser, env and their options, or VAR=value), else None:
    `systemctl restart sopd` and `journalctl -u sopd` do not run it."""
    option_value = False
    for i, word in enumerate(words):
        if option_value:
            option_value = False
        elif word == "sopd" or word.endswith("/sopd"):
            return i
        elif word in ("-u", "-g", "--user", "--group"):
            option_value = True
        elif not (word in COMMAND_WRAPPERS or word.startswith("-")
                  or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word)):
            return None
    return None


def markdown_code_blocks(text):
    """(info string, body) of every fenced code block."""
    return re.findall(r"^```([^\n`]*)\n(.*?)^```", text, re.M | re.S)


def config_keys_as_flags(config_text):
    """sopd --config keys of a sopd.yaml text, as flags (dashes)."""
    config = yaml.safe_load(config_text) or {}
    return [(key.replace("_", "-"), value) for key, value in config.items()]


def flags_passed_to_sopd():
    """[(where, flag name, value)] of everything deploy/ passes to sopd."""
    passed = []
    for name, _, spec in pod_specs(kubernetes_objects()):
        for c in containers(spec):
            if is_sopd_image(c.get("image")):
                words = [str(w) for w in c.get("command", []) + c.get("args", [])]
                passed += [("%s/%s args" % (name, c["name"]), f, v) for f, v in parse_flags(words)]
    for file, _, obj in kubernetes_objects():
        if obj.get("kind") == "ConfigMap":
            for key, text in (obj.get("data") or {}).items():
                if key == "sopd.yaml":
                    where = "%s ConfigMap %s %s" % (file, obj["metadata"]["name"], key)
                    passed += [(where, f, v) for f, v in config_keys_as_flags(text)]
    for path in deploy_files((".conf",)) + deploy_files((".md",)):
        text = read(path)
        blocks = ([("", text)] if path.endswith(".conf") else markdown_code_blocks(text))
        for info, body in blocks:
            if info.strip() == "yaml" and re.match(r"#.*sopd\.yaml", body):
                passed += [(relative(path), f, v) for f, v in config_keys_as_flags(body)]
                continue
            for words in sopd_command_words(body):
                passed += [(relative(path), f, v) for f, v in parse_flags(words)]
    return passed


def help_flags(binary, pattern):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    found = set(re.findall(pattern, out.stdout + out.stderr, re.M))
    if len(found) < 10:
        raise AssertionError("too few flags in %s --help (exit %d): %s\n%s%s"
                             % (binary, out.returncode, sorted(found), out.stdout, out.stderr))
    return found


def sopd_flags():
    """The flags `sopd --help` lists (dashes), and those every program has."""
    return help_flags(SOPD, r"^  --([a-z][a-z0-9-]*)") | {"help", "helpfull", "version"}


def unknown_flags(passed, known):
    """The lines naming each flag of `passed` that `known` lacks (a flag may
    be written with underscores, as Abseil takes it)."""
    return ["%s: --%s" % (where, flag) for where, flag, _ in passed
            if flag.replace("_", "-") not in known]


def defined_names(kind):
    """Names of the Secrets (or ConfigMaps) deploy/kubernetes defines: as
    objects, or by the kustomization's generators. → {name: set of keys}."""
    names = {}
    for _, _, obj in kubernetes_objects():
        if obj.get("kind") == kind:
            names[obj["metadata"]["name"]] = set(obj.get("data") or {}) | set(
                obj.get("stringData") or {})
    generator = {"Secret": "secretGenerator", "ConfigMap": "configMapGenerator"}[kind]
    for entry in kustomization().get(generator, []):
        keys = set()
        for item in entry.get("files", []):
            keys.add(item.split("=", 1)[0] if "=" in item else os.path.basename(item))
        for literal in entry.get("literals", []):
            keys.add(literal.split("=", 1)[0])
        names[entry["name"]] = keys
    return names


def volume_sources(volume):
    """[(kind, name, items)] of the Secrets and ConfigMaps a volume holds."""
    sources = []
    if "secret" in volume:
        sources.append(("Secret", volume["secret"].get("secretName"),
                        volume["secret"].get("items")))
    if "configMap" in volume:
        sources.append(("ConfigMap", volume["configMap"].get("name"),
                        volume["configMap"].get("items")))
    for source in volume.get("projected", {}).get("sources", []):
        if "secret" in source:
            sources.append(("Secret", source["secret"].get("name"), source["secret"].get("items")))
        if "configMap" in source:
            sources.append(("ConfigMap", source["configMap"].get("name"),
                            source["configMap"].get("items")))
    return sources


def under(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def mount_problems(where, container, spec, path):
    """Why `path` is not a file or directory the container has from a
    volume, or None. A file straight inside a Secret or ConfigMap mount must
    be one of its keys."""
    mounts = [m for m in container.get("volumeMounts", []) if under(path, m["mountPath"])]
    if not mounts:
        return "%s: %s is under no volumeMount of container %s (%s)" % (
            where, path, container["name"],
            ", ".join(m["mountPath"] for m in container.get("volumeMounts", [])) or "none")
    mount = max(mounts, key=lambda m: len(m["mountPath"]))
    volume = next((v for v in spec.get("volumes", []) if v["name"] == mount["name"]), None)
    if volume is None:
        return "%s: volumeMount %s names no volume of the pod" % (where, mount["name"])
    inside = os.path.relpath(path, mount["mountPath"])
    if inside == "." or "/" in inside:
        return None
    for kind, name, items in volume_sources(volume):
        keys = ({item.get("path") for item in items} if items
                else defined_names(kind).get(name, set()))
        if inside in keys:
            return None
    if volume_sources(volume):
        return "%s: %s: volume %s has no file %s" % (where, path, mount["name"], inside)
    return None


def listen_host(address):
    """The host of HOST:PORT, without an IPv6 address's brackets."""
    return address.rsplit(":", 1)[0].strip("[]")


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sopd_containers():
    """(workload name, pod spec, container, {flag: value}) of every sopd
    container in the manifests."""
    found = []
    for name, _, spec in pod_specs(kubernetes_objects()):
        for c in containers(spec):
            if is_sopd_image(c.get("image")):
                words = [str(w) for w in c.get("command", []) + c.get("args", [])]
                found.append((name, spec, c, dict(parse_flags(words))))
    return found


def probe_port(container, probe):
    """The containerPort (number) an httpGet probe's port names, or None."""
    port = probe["httpGet"]["port"]
    for p in container.get("ports", []):
        if port in (p.get("name"), p["containerPort"]):
            return p["containerPort"]
    return None


class DeployManifestsTest(unittest.TestCase):

    def test_every_yaml_document_has_api_version_kind_and_name(self):
        documents = yaml_documents()
        self.assertGreaterEqual(len(documents), 8, [(f, i) for f, i, _ in documents])
        for file, index, doc in documents:
            with self.subTest(file=file, document=index):
                self.assertIsInstance(doc, dict)
                self.assertTrue(doc.get("apiVersion"), "no apiVersion")
                self.assertTrue(doc.get("kind"), "no kind")
                self.assertTrue((doc.get("metadata") or {}).get("name"), "no metadata.name")

    def test_kustomization_lists_every_manifest_and_only_existing_ones(self):
        base = os.path.join(DEPLOY, "kubernetes")
        resources = kustomization()["resources"]
        for resource in resources:
            self.assertTrue(os.path.isfile(os.path.join(base, resource)), resource)
        manifests = {relative(p)[len("kubernetes/"):]
                     for p in deploy_files((".yaml", ".yml")) if relative(p).startswith("kubernetes/")}
        self.assertEqual(manifests - {"kustomization.yaml"}, set(resources))

    def test_sopd_runs_as_several_nodes_over_etcd(self):
        found = sopd_containers()
        self.assertEqual(len(found), 1, [n for n, *_ in found])
        name, _, _, flags = found[0]
        deployment = next(o for _, _, o in kubernetes_objects()
                          if o["kind"] == "Deployment" and o["metadata"]["name"] == name)
        self.assertGreaterEqual(deployment["spec"]["replicas"], 3)
        self.assertEqual(flags.get("store"), "etcd")
        endpoints = flags.get("etcd-endpoints", "").split(",")
        self.assertEqual(len(endpoints), 3, endpoints)
        for endpoint in endpoints:
            self.assertRegex(endpoint, r"^https://[a-z0-9.-]+:2379$")

    def test_readiness_probe_is_readyz_on_the_gateway_port(self):
        for name, _, container, flags in sopd_containers():
            with self.subTest(workload=name):
                probe = container.get("readinessProbe")
                self.assertIsNotNone(probe, "no readinessProbe")
                self.assertEqual(probe["httpGet"]["path"], "/readyz")
                port = probe_port(container, probe)
                self.assertIsNotNone(port, "probe port %s is no containerPort"
                                     % probe["httpGet"]["port"])
                self.assertIn("http-listen", flags)
                self.assertEqual(int(flags["http-listen"].rsplit(":", 1)[1]), port,
                                 "the probe's port is not --http-listen's")
                # The gateway speaks TLS when sopd has a certificate.
                scheme = "HTTPS" if flags.get("tls-cert") else "HTTP"
                self.assertEqual(probe["httpGet"].get("scheme", "HTTP"), scheme)
                for other in ("livenessProbe", "startupProbe"):
                    if other in container:
                        self.assertEqual(container[other]["httpGet"]["path"], "/healthz", other)
                        self.assertEqual(probe_port(container, container[other]), port, other)
                        self.assertEqual(container[other]["httpGet"].get("scheme", "HTTP"), scheme)

    def test_grpc_port_is_a_container_port(self):
        for name, _, container, flags in sopd_containers():
            with self.subTest(workload=name):
                port = int(flags["grpc-listen"].rsplit(":", 1)[1])
                self.assertIn(port, [p["containerPort"] for p in container["ports"]])

    def test_listening_beyond_loopback_has_tls(self):
        # sopd's own rule: plaintext only on loopback unless --insecure-listen-any.
        for name, _, _, flags in sopd_containers():
            for listen in ("grpc-listen", "http-listen"):
                with self.subTest(workload=name, flag=listen):
                    if is_loopback(listen_host(flags.get(listen, "127.0.0.1:0"))):
                        continue
                    self.assertTrue(("tls-cert" in flags and "tls-key" in flags)
                                    or "insecure-listen-any" in flags)

    def test_every_flag_passed_to_sopd_exists(self):
        passed = flags_passed_to_sopd()
        places = {where.split(" ")[0].split("/")[0] for where, _, _ in passed}
        # The manifests, the drop-in and the guide are all read.
        self.assertGreaterEqual(len(passed), 20, passed)
        self.assertTrue({"sopd", "systemd"} <= places, places)
        self.assertEqual(unknown_flags(passed, sopd_flags()), [])

    def test_a_flag_sopd_lacks_is_caught(self):
        objects = kubernetes_objects()
        spec = next(s for _, _, s in pod_specs(objects)
                    if any(is_sopd_image(c.get("image")) for c in containers(s)))
        container = next(c for c in containers(spec) if is_sopd_image(c.get("image")))
        changed = copy.deepcopy(container["args"]) + ["--no-such-flag=1"]
        passed = [("args", f, v) for f, v in parse_flags(changed)]
        self.assertIn("args: --no-such-flag", unknown_flags(passed, sopd_flags()))
        from_guide = sopd_command_words("ExecStart=/usr/bin/sopd --data-dir /x \\\n"
                                        "    --no-such-flag=1 | tee log\n")
        self.assertEqual(parse_flags(from_guide[0]), [("data-dir", "/x"), ("no-such-flag", "1")])

    def test_every_etcd_variable_is_an_etcd_flag(self):
        etcd = shutil.which("etcd") or "/usr/bin/etcd"
        self.assertTrue(os.path.exists(etcd), "etcd is missing: scripts/setup installs etcd-server")
        known = help_flags(etcd, r"^\s+--([a-z][a-z0-9-]*)")
        variables = []
        for name, _, spec in pod_specs(kubernetes_objects()):
            for c in containers(spec):
                if is_etcd_image(c.get("image")):
                    variables += [("%s env" % name, e["name"]) for e in c.get("env", [])]
        # systemd's EnvironmentFile syntax: KEY=value lines, # comments.
        for path in deploy_files(("etcd.default",)):
            for line in read(path).splitlines():
                if re.match(r"^[A-Z_]+=", line):
                    variables.append((relative(path), line.split("=", 1)[0]))
        self.assertGreaterEqual(len(variables), 20, variables)
        unknown = ["%s: %s" % (where, v) for where, v in variables
                   if v.startswith("ETCD_") and v[5:].lower().replace("_", "-") not in known]
        self.assertEqual(unknown, [])

    def test_every_secret_and_config_map_used_is_defined(self):
        defined = {kind: defined_names(kind) for kind in ("Secret", "ConfigMap")}
        used = 0
        for name, _, spec in pod_specs(kubernetes_objects()):
            references = []
            for volume in spec.get("volumes", []):
                references += [(k, n, "volume " + volume["name"])
                               for k, n, _ in volume_sources(volume)]
            for c in containers(spec):
                for env in c.get("env", []):
                    ref = env.get("valueFrom", {})
                    if "secretKeyRef" in ref:
                        references.append(("Secret", ref["secretKeyRef"]["name"], env["name"]))
                    if "configMapKeyRef" in ref:
                        references.append(("ConfigMap", ref["configMapKeyRef"]["name"],
                                           env["name"]))
                for source in c.get("envFrom", []):
                    for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                        if key in source:
                            references.append((kind, source[key]["name"], "envFrom"))
            for kind, ref_name, where in references:
                used += 1
                with self.subTest(workload=name, reference=where):
                    self.assertIn(ref_name, defined[kind], "%s %s is not defined" % (kind, ref_name))
        self.assertGreaterEqual(used, 5)

    def test_every_file_a_flag_names_is_in_a_mounted_volume(self):
        checked, problems = 0, []
        for name, spec, container, flags in sopd_containers():
            for flag, value in flags.items():
                if value and value.startswith("/") and flag not in NOT_FILES:
                    checked += 1
                    problem = mount_problems("%s --%s" % (name, flag), container, spec, value)
                    if problem:
                        problems.append(problem)
        for name, _, spec in pod_specs(kubernetes_objects()):
            for c in containers(spec):
                for env in c.get("env", []):
                    value = env.get("value", "")
                    if env["name"].endswith(("_FILE", "_DIR")) and value.startswith("/"):
                        checked += 1
                        problem = mount_problems("%s %s" % (name, env["name"]), c, spec, value)
                        if problem:
                            problems.append(problem)
        self.assertGreaterEqual(checked, 10)
        self.assertEqual(problems, [])

    def test_services_target_ports_the_pods_have(self):
        objects = kubernetes_objects()
        services = [o for _, _, o in objects if o["kind"] == "Service"]
        self.assertGreaterEqual(len(services), 3)
        for service in services:
            selector = service["spec"]["selector"]
            pods = [spec for _, labels, spec in pod_specs(objects)
                    if all(labels.get(k) == v for k, v in selector.items())]
            with self.subTest(service=service["metadata"]["name"]):
                self.assertTrue(pods, "selects no pod")
                names = {p.get("name") for spec in pods for c in containers(spec)
                         for p in c.get("ports", [])}
                numbers = {p["containerPort"] for spec in pods for c in containers(spec)
                           for p in c.get("ports", [])}
                for port in service["spec"]["ports"]:
                    target = port.get("targetPort", port["port"])
                    self.assertIn(target, names | numbers, port)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/python3
"""Fails when the CMake and the Bazel build drift apart.

Both builds must declare the same targets, in the same directories, built
from the same .cc files: every add_library / add_executable /
sopsidebar_test / add_test in a CMakeLists.txt has a cc_library / cc_binary /
cc_test / sh_test / py_test of the same name in the BUILD.bazel beside it, and
back. The exceptions are the allowlists below and the kinds of target only
CMake builds (CMAKE_ONLY_KINDS: the fuzzers), each with its reason.

Usage: cmake_bazel_drift_test.py [REPO_ROOT]. Without an argument the root is
found from this file's real path, which also works from Bazel's runfiles.
"""

import ast
import os
import re
import sys

# Targets only one build has, and why. Keys are "directory:name".
CMAKE_ONLY = {
    # Runs scripts/demo, which builds with CMake, and npm ci for the Node
    # client examples; Bazel's sandbox has neither the build tree nor network.
    "tests:doc_examples_test":
        "runs the documented commands against scripts/demo's CMake build",
    # The include-level layering check; Bazel checks the same layering on its
    # target graph (server:layering_test, below).
    "tests:layering_test":
        "Bazel has //server:layering_test (genquery)",
    # Node.js and headless Chromium tests of the web parts, on the npm
    # packages scripts/web installs from their lockfiles; Bazel 4 offline has
    # no Node rules and its sandbox no node_modules.
    "tests:connect_node_test":
        "a Node client (npm @connectrpc/connect-node) against sopd",
    "tests:web_panel_test":
        "the panel in headless Chromium (npm playwright-core)",
    "tests:web_panel_e2e":
        "the demo page on a real sopd in headless Chromium",
    "tests:web_console_test":
        "the review console in headless Chromium (npm playwright-core)",
    "tests:web_console_e2e":
        "the review console on a real sopd in headless Chromium",
    "tests:web_analytics_e2e":
        "the panel's events and the Analytics view on a real sopd in headless Chromium",
    "tests:web_editor_test":
        "the SOP editor and the swimlanes in headless Chromium (npm playwright-core)",
    "tests:web_editor_e2e":
        "the SOP editor and the panel's swimlane on a real sopd in headless Chromium",
    "tests:salesforce_plugin_test":
        "the Lightning component under npm sfdx-lwc-jest",
    "tests:hubspot_plugin_test":
        "the HubSpot card under npm vitest",
    # What cmake --install and cpack make from the CMake build tree, and the
    # shipped configuration with that tree's sopd; Bazel builds no package.
    "tests/packaging:config_file_e2e":
        "sopd --config and the shipped default configuration (CMake's sopd)",
    "tests/packaging:install_layout":
        "cmake --install's layout and the systemd unit",
    "tests/packaging:deb_install":
        "cpack's .deb installed in a debootstrapped Debian 12 (root, network once)",
}
BAZEL_ONLY = {
    # A test-only header library; CMake finds the header on the include path.
    "server/domain/matching:test_sops":
        "Bazel declares every header a target uses; CMake needs no target",
    "tests/reliability:sopd_process":
        "Bazel declares every header a target uses; CMake needs no target",
    # Checks the transitive dependency graph with genquery, which CMake has
    # no equivalent of (tests:layering_test checks the includes instead).
    "server:layering_test":
        "Bazel's dependency graph check (genquery)",
}

# Kinds of CMake target that Bazel never builds, and why: every target of
# such a kind is CMake-only without an entry above, and one in a BUILD.bazel
# is drift.
CMAKE_ONLY_KINDS = {
    # sopsidebar_fuzzer() in tests/fuzz: libFuzzer binaries, which need clang
    # with -fsanitize=fuzzer; only the CMake sanitizer build (SOP_FUZZ=ON,
    # scripts/build with SOP_BUILD_FLAVOR=asan) has that toolchain, the Bazel
    # build is the gcc one.
    "fuzzer": "libFuzzer targets, built only by CMake's clang sanitizer build",
}

SKIP_DIRS = {".git", "node_modules", "var", "bazel"}
BAZEL_RULES = {
    "cc_library": "library",
    "cc_binary": "binary",
    "cc_test": "test",
    "sh_test": "test",
    "py_test": "test",
}


def skipped(name):
    return name in SKIP_DIRS or name.startswith(("build", "bazel-", "."))


def build_dirs(root):
    """Yields (relative directory, file names) below root."""
    for path, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not skipped(d))
        yield os.path.relpath(path, root).replace(os.sep, "/").lstrip("."), files


def cmake_commands(text):
    """Yields (command, [arguments]) of a CMakeLists.txt."""
    text = re.sub(r"#[^\n]*", "", text)
    for match in re.finditer(r"\b(\w+)\s*\(", text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        args = re.findall(r'"[^"]*"|[^\s()]+', text[match.end():i - 1])
        yield match.group(1), [a.strip('"') for a in args]


def cmake_targets(directory, text):
    """{"dir:name": (kind, sorted .cc paths)} declared in one CMakeLists.txt."""
    targets = {}
    for command, args in cmake_commands(text):
        if not args or "${" in args[0]:
            continue  # a function's body, e.g. sopsidebar_test() itself
        if command in ("add_library", "add_executable"):
            kind = "library" if command == "add_library" else "binary"
            name, sources = args[0], args[1:]
        elif command == "sopsidebar_test":
            name, kind = args[0], "test"
            section, sources = None, []
            for arg in args[1:]:
                if arg in ("SOURCES", "LIBS"):
                    section = arg
                elif section == "SOURCES":
                    sources.append(arg)
        elif command == "sopsidebar_fuzzer":
            # sopsidebar_fuzzer(NAME ...) builds NAME.cc and quiet_protobuf_logs.cc
            # (tests/fuzz).
            name, kind, sources = args[0], "fuzzer", [args[0] + ".cc", "quiet_protobuf_logs.cc"]
        elif command == "add_test" and args[:1] == ["NAME"] and len(args) > 1:
            if "${" in args[1]:
                continue  # a function's body, e.g. sopsidebar_fuzzer()'s tests
            name, kind, sources = args[1], "test", []
        elif command == "target_sources":
            key = "%s:%s" % (directory, args[0])
            extra = [a for a in args[1:] if a.endswith(".cc")]
            kind, old = targets[key]
            targets[key] = (kind, sorted(old + [join(directory, s) for s in extra]))
            continue
        else:
            continue
        sources = sorted(join(directory, s) for s in sources if s.endswith(".cc"))
        targets["%s:%s" % (directory, name)] = (kind, sources)
    return targets


def bazel_targets(directory, text, path):
    """{"dir:name": (kind, sorted .cc paths)} declared in one BUILD.bazel."""
    targets = {}
    for node in ast.walk(ast.parse(text, path)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in BAZEL_RULES):
            continue
        attrs = {k.arg: k.value for k in node.keywords}
        name = ast.literal_eval(attrs["name"])
        sources = []
        if isinstance(attrs.get("srcs"), ast.List):
            sources = [e.value for e in attrs["srcs"].elts
                       if isinstance(e, ast.Constant) and e.value.endswith(".cc")]
        targets["%s:%s" % (directory, name)] = (
            BAZEL_RULES[node.func.id], sorted(join(directory, s) for s in sources))
    return targets


def join(directory, source):
    return "%s/%s" % (directory, source) if directory else source


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.realpath(__file__)), "..")
    cmake, bazel = {}, {}
    for directory, files in build_dirs(root):
        base = os.path.join(root, directory)
        if "CMakeLists.txt" in files:
            cmake.update(cmake_targets(directory, read(os.path.join(base, "CMakeLists.txt"))))
        for build_file in ("BUILD.bazel", "BUILD"):
            if build_file in files:
                path = os.path.join(base, build_file)
                bazel.update(bazel_targets(directory, read(path), path))

    problems = []
    for target in sorted(set(cmake) | set(bazel)):
        if target in cmake and cmake[target][0] in CMAKE_ONLY_KINDS:
            if target in bazel:
                problems.append("%s %s is in Bazel, but %s are CMake-only: %s"
                                % (cmake[target][0], target, cmake[target][0] + "s",
                                   CMAKE_ONLY_KINDS[cmake[target][0]]))
            continue
        if target not in bazel:
            if target not in CMAKE_ONLY:
                problems.append("%s %s is in CMake but not in Bazel" % (cmake[target][0], target))
        elif target not in cmake:
            if target not in BAZEL_ONLY:
                problems.append("%s %s is in Bazel but not in CMake" % (bazel[target][0], target))
        else:
            (cmake_kind, cmake_srcs), (bazel_kind, bazel_srcs) = cmake[target], bazel[target]
            if cmake_kind != bazel_kind:
                problems.append("%s is a %s in CMake but a %s in Bazel"
                                % (target, cmake_kind, bazel_kind))
            for source in sorted(set(cmake_srcs) - set(bazel_srcs)):
                problems.append("%s: %s is built by CMake but not by Bazel" % (target, source))
            for source in sorted(set(bazel_srcs) - set(cmake_srcs)):
                problems.append("%s: %s is built by Bazel but not by CMake" % (target, source))
    for allowed, builds, label in ((CMAKE_ONLY, (cmake, bazel), "CMake-only"),
                                   (BAZEL_ONLY, (bazel, cmake), "Bazel-only")):
        for target in sorted(allowed):
            if target not in builds[0] or target in builds[1]:
                problems.append("allowlisted %s target %s is not %s any more: update the "
                                "allowlist" % (label, target, label))

    tests = sorted(t for t, (kind, _) in cmake.items() if kind == "test")
    if not tests:
        problems.append("no tests found in the CMake files under %s" % root)
    for problem in problems:
        print("DRIFT: " + problem)
    if problems:
        print("Keep the BUILD.bazel files in step with the CMakeLists.txt files "
              "(docs/BUILDING.md), or allowlist the difference with its reason in "
              "tests/cmake_bazel_drift_test.py.")
        return 1
    cmake_only_kinds = sorted(t for t, (kind, _) in cmake.items() if kind in CMAKE_ONLY_KINDS)
    print("CMake and Bazel agree on %d targets, %d of them tests; %d CMake-only by kind (%s)."
          % (len(set(cmake) & set(bazel)), len(tests), len(cmake_only_kinds),
             ", ".join(cmake_only_kinds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

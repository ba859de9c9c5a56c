"""The documentation's console examples, run as written against scripts/demo.

Every ```console block of the documents below is a shell session: `$ ` starts
a command (a line ending in `\\` continues it), the lines up to the next `$ `
are what it prints (stdout and stderr). The test starts the real scripts/demo
in a scratch project root (symlinks to this checkout's scripts, proto and
plugins and to the build, a copy of its examples), runs each document's blocks in one bash session
there, in order, and compares what every command printed with the document.

Only two things are not taken literally:
- the demo's addresses: sopd listens on free ports, which replace
  127.0.0.1:50051 (gRPC) and 127.0.0.1:8080 (the Connect gateway) in the
  commands (a user's own demo may hold those ports);
- parts that differ from run to run: times (2026-11-26 17:30:04 UTC), and a
  line `...` in a block, which stands for any number of lines.
A command must exit 0 unless the document shows it failing (its output has a
line starting with a status code such as `NOT_FOUND:`, with `sopctl:`, or
with a file and line, `lead.yaml:14: `); then it must exit non-zero.

Environment (set by ctest): SOP_SOURCE_DIR (the checkout), SOP_BUILD_DIR (its
CMake build).
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

SOURCE = os.environ["SOP_SOURCE_DIR"]
BUILD = os.environ["SOP_BUILD_DIR"]
DOCUMENTS = ["README.md", "docs/API.md", "docs/HTTP.md"]
DOCUMENTED_ADDRESS = "127.0.0.1:50051"
DOCUMENTED_HTTP_ADDRESS = "127.0.0.1:8080"
DEMO_START_TIMEOUT = 120
COMMAND_TIMEOUT = 120

TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( UTC|Z)?")
FAILURE_LINE = re.compile(r"^(([A-Z][A-Z_]+|sopctl|Error): |\S+:\d+: )")
ANY_LINES = "..."


class Command:
    def __init__(self, document, line, text):
        self.document = document
        self.line = line
        self.text = text
        self.expected = []


def console_commands(document):
    """The commands of the ```console blocks of `document`, in order."""
    commands = []
    in_console = False
    command = None
    with open(os.path.join(SOURCE, document)) as f:
        lines = f.read().splitlines()
    indent = 0
    i = 0
    while i < len(lines):
        # A block inside a list item is indented like the item's text.
        line = lines[i][indent:] if in_console else lines[i]
        if line.lstrip().startswith("```"):
            in_console = not in_console and line.strip() == "```console"
            indent = len(line) - len(line.lstrip()) if in_console else 0
            command = None
        elif in_console and line.startswith("$ "):
            start = i
            text = line[2:]
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text += "\n" + lines[i][indent:]
            command = Command(document, start + 1, text)
            commands.append(command)
        elif in_console and command is not None:
            command.expected.append(line)
        i += 1
    return commands


def normalized(lines):
    lines = [TIME.sub("<time>", line).rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def matches(expected, actual):
    """Whether `actual` lines match `expected`, where a line `...` stands for
    any number of lines."""
    if not expected:
        return not actual
    if expected[0] == ANY_LINES:
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


class DocExamplesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="sop-doc-")
        cls.root = cls.tmp.name
        for entry in ("scripts", "proto", "plugins"):
            os.symlink(os.path.join(SOURCE, entry), os.path.join(cls.root, entry))
        # A copy: the commands install into it (npm ci), and npm does not
        # take a package whose folder is reached through a symlink.
        shutil.copytree(os.path.join(SOURCE, "examples"), os.path.join(cls.root, "examples"),
                        ignore=shutil.ignore_patterns("node_modules"))
        os.symlink(BUILD, os.path.join(cls.root, "build"))
        cls.env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("SOPCTL_", "SOP_", "SOPD"))}
        cls.env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        cls.env["HOME"] = os.environ.get("HOME", cls.root)
        demo_env = dict(cls.env, SOPD_ADDR="127.0.0.1:0", SOPD_HTTP_ADDR="127.0.0.1:0")
        cls.demo = subprocess.Popen(
            ["scripts/demo"], cwd=cls.root, env=demo_env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        cls.demo_output = []
        cls.address = None
        cls.http_address = None
        for line in cls.demo.stdout:
            cls.demo_output.append(line)
            found = re.match(r"sopd is serving gRPC on (\S+) ", line)
            if found:
                cls.address = found.group(1)
            found = re.match(r"The demo CRM page with the panel: http://([^/]+)/demo/", line)
            if found:
                cls.http_address = found.group(1)
            if line.startswith("Press Ctrl-C to stop."):
                break
        if cls.address is None or cls.http_address is None:
            cls.stop_demo()
            raise RuntimeError("scripts/demo did not start:\n" + "".join(cls.demo_output))

    @classmethod
    def tearDownClass(cls):
        cls.stop_demo()
        cls.tmp.cleanup()

    @classmethod
    def stop_demo(cls):
        if cls.demo.poll() is None:
            os.killpg(cls.demo.pid, signal.SIGINT)
            try:
                cls.demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(cls.demo.pid, signal.SIGKILL)
                cls.demo.wait()
        cls.demo.stdout.close()

    def run_session(self, commands):
        """Runs `commands` in one bash session in the scratch root; returns
        (output lines, exit status) per command."""
        script = ["exec 2>&1"]
        for n, command in enumerate(commands):
            text = command.text.replace(DOCUMENTED_ADDRESS, self.address).replace(
                DOCUMENTED_HTTP_ADDRESS, self.http_address)
            script.append("printf '\\n@@doc-start %d@@\\n'" % n)
            script.append(text)
            script.append("printf '\\n@@doc-end %d %%d@@\\n' $?" % n)
        result = subprocess.run(
            ["bash", "-c", "\n".join(script)], cwd=self.root, env=self.env,
            stdout=subprocess.PIPE, text=True, timeout=COMMAND_TIMEOUT * len(commands))
        outputs = {}
        for found in re.finditer(r"@@doc-start (\d+)@@\n(.*?)\n@@doc-end \1 (\d+)@@",
                                 result.stdout, re.S):
            outputs[int(found.group(1))] = (found.group(2).split("\n"), int(found.group(3)))
        return outputs

    def check_document(self, document):
        commands = console_commands(document)
        self.assertTrue(commands, "%s has no console examples" % document)
        outputs = self.run_session(commands)
        for n, command in enumerate(commands):
            where = "%s:%d: $ %s" % (document, command.line, command.text)
            with self.subTest(where):
                self.assertIn(n, outputs, "the session stopped before this command")
                actual, status = outputs[n]
                expected = normalized(command.expected)
                got = normalized(actual)
                self.assertTrue(
                    matches(expected, got),
                    "%s\n--- documented\n%s\n--- printed\n%s" % (
                        where, "\n".join(expected), "\n".join(got)))
                if any(FAILURE_LINE.match(line) for line in expected):
                    self.assertNotEqual(status, 0, "%s shows a failure but exited 0" % where)
                else:
                    self.assertEqual(status, 0, "%s exited %d" % (where, status))

    def test_readme_console_examples_run_as_written(self):
        self.check_document("README.md")

    def test_api_console_examples_run_as_written(self):
        self.check_document("docs/API.md")

    def test_http_console_examples_run_as_written(self):
        self.check_document("docs/HTTP.md")

    def test_console_example_parser_reads_commands_continuations_and_outputs(self):
        path = os.path.join(self.root, "parser-sample.md")
        with open(path, "w") as f:
            f.write("```sh\n$ not run\n```\n```console\n$ a \\\n    --b\nout 1\n\n"
                    "$ c\n```\n- item:\n\n  ```console\n  $ d\n  out 2\n  ```\n")
        commands = console_commands(path)
        self.assertEqual([c.text for c in commands], ["a \\\n    --b", "c", "d"])
        self.assertEqual(commands[0].expected, ["out 1", ""])
        self.assertEqual(commands[1].expected, [])
        self.assertEqual(commands[2].expected, ["out 2"])

    def test_output_matching_takes_times_and_ellipses_but_nothing_else(self):
        self.assertTrue(matches(normalized(["at 2026-11-26 17:30:04 UTC", "..."]),
                                normalized(["at 2027-01-02 03:04:05 UTC", "x", "y"])))
        self.assertTrue(matches(["a", "...", "b"], ["a", "b"]))
        self.assertFalse(matches(["a", "...", "b"], ["a", "c"]))
        self.assertFalse(matches(["rev 2"], ["rev 3"]))
        self.assertFalse(matches([], ["unexpected output"]))


if __name__ == "__main__":
    unittest.main()

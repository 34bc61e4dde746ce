"""Gantry's Python Lambda runtime client (runtime/python/bootstrap.py) against a fake Runtime API.

No Gantry server: each test starts a small Runtime API on loopback with a queue of invocations,
runs bootstrap.py in a subprocess with a temporary LAMBDA_TASK_ROOT holding handler modules
written by the test, and checks what the runtime posted back and printed. Standard library only.
"""
import http.server
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.normpath(os.path.join(HERE, "..", "..", "runtime", "python", "bootstrap.py"))
API = "/2018-06-01/runtime"
WAIT_S = 10  # upper bound for anything a test waits for; normally it takes milliseconds


def sentinel(request_id):
    return b"\x1egantry-invocation-end " + request_id.encode() + b"\n"


INIT_END = b"\x1egantry-init-end\n"


class FakeRuntimeAPI:
    """The Runtime API side: /next hands out queued invocations, POSTs are recorded in order."""

    def __init__(self):
        self.invocations = queue.Queue()
        self.posts = queue.Queue()  # (path, headers, parsed body or raw bytes)
        self.next_calls = 0
        self.release_posts = threading.Event()  # cleared: POSTs are held unanswered
        self.release_posts.set()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the test killed the runtime as soon as it saw what it was waiting for

            def do_GET(self):
                if self.path != API + "/invocation/next":
                    return self.reply(404)
                api.next_calls += 1
                try:
                    # Bounded so that a test that went wrong never hangs on a blocked thread.
                    item = api.invocations.get(timeout=WAIT_S)
                except queue.Empty:
                    item = None
                if item is None:
                    return self.reply(500, b'{"errorMessage":"no invocation"}')
                body, headers = item
                self.reply(200, body, headers)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = body
                api.posts.put((self.path, self.headers, parsed))
                api.release_posts.wait(WAIT_S)
                self.reply(202, b'{"status":"OK"}')

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def invoke(self, request_id, event=None, body=None, deadline_ms=None, **extra_headers):
        """Queue one invocation; event is JSON-encoded unless a raw body is given."""
        if body is None:
            body = json.dumps(event if event is not None else {}).encode()
        deadline = deadline_ms if deadline_ms is not None else int(time.time() * 1000) + 30000
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline),
            "Lambda-Runtime-Invoked-Function-Arn":
                "arn:aws:lambda:us-east-1:000000000000:function:fn",
        }
        headers.update({k.replace("_", "-"): v for k, v in extra_headers.items()})
        self.invocations.put((body, headers))

    def next_post(self):
        try:
            return self.posts.get(timeout=WAIT_S)
        except queue.Empty:
            raise AssertionError("the runtime posted nothing within %ds" % WAIT_S)

    def stop(self):
        self.release_posts.set()
        for _ in range(4):  # wake any /next still waiting
            self.invocations.put(None)
        self.server.shutdown()
        self.server.server_close()


class BootstrapTestCase(unittest.TestCase):
    def setUp(self):
        self.task_root = tempfile.mkdtemp(prefix="gantry-task-")
        self.addCleanup(shutil.rmtree, self.task_root, ignore_errors=True)
        self.api = FakeRuntimeAPI()
        self.addCleanup(self.api.stop)
        self.proc = None
        self.output_changed = threading.Condition()

    def write(self, relpath, text, root=None):
        path = os.path.join(root or self.task_root, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def start(self, handler, **env_overrides):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": self.task_root,
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]abc",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        env.update(env_overrides)
        self.output = bytearray()
        self.stopped = False
        self.proc = subprocess.Popen([sys.executable, BOOTSTRAP], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.stop)
        self.reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.reader.start()

    def _read_stdout(self):
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            with self.output_changed:
                if chunk:
                    self.output += chunk
                self.output_changed.notify_all()
            if not chunk:
                return

    def wait_output(self, needle):
        """Wait until stdout contains needle (bytes)."""
        with self.output_changed:
            if not self.output_changed.wait_for(lambda: needle in self.output, WAIT_S):
                self.fail("stdout never showed %r; it has %r" % (needle, bytes(self.output)))

    def stop(self):
        """Kill the runtime (it would wait on /next forever) and return all it printed."""
        if self.stopped:
            return bytes(self.output)
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(WAIT_S)
        self.reader.join(WAIT_S)
        self.stderr = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return bytes(self.output)

    def wait_exit(self):
        self.assertEqual(self.proc.wait(WAIT_S), 1)
        return self.stop()

    def assert_response(self, request_id):
        path, headers, body = self.api.next_post()
        self.assertEqual(path, API + "/invocation/%s/response" % request_id, body)
        self.assertEqual(headers["Content-Type"], "application/json")
        return body

    def assert_error(self, request_id):
        path, headers, body = self.api.next_post()
        self.assertEqual(path, API + "/invocation/%s/error" % request_id, body)
        self.assertEqual(headers["Lambda-Runtime-Function-Error-Type"], "Unhandled")
        self.assertEqual(body["requestId"], request_id)
        return body

    def assert_init_error(self, error_type, message):
        path, headers, body = self.api.next_post()
        self.assertEqual(path, API + "/init/error")
        self.assertEqual(headers["Lambda-Runtime-Function-Error-Type"], error_type)
        self.assertEqual(body["errorType"], error_type)
        self.assertEqual(body["errorMessage"], message)
        self.assertEqual(body["requestId"], "")
        self.assertIsInstance(body["stackTrace"], list)
        out = self.wait_exit()
        self.assertIn(("[ERROR] %s: %s\nTraceback (most recent call last):\n"
                       % (error_type, message)).encode(), out)
        self.assertNotIn(INIT_END, out)
        self.assertEqual(self.api.next_calls, 0)
        return body, out

    # --- Invocations -------------------------------------------------------------------------

    def test_warm_state_and_context(self):
        self.write("app.py", """
            import os
            calls = 0

            def handler(event, context):
                global calls
                calls += 1
                cc = context.client_context
                return {
                    "calls": calls, "event": event,
                    "request_id": context.aws_request_id,
                    "function_name": context.function_name,
                    "function_version": context.function_version,
                    "memory": context.memory_limit_in_mb,
                    "arn": context.invoked_function_arn,
                    "log_group": context.log_group_name,
                    "log_stream": context.log_stream_name,
                    "remaining": context.get_remaining_time_in_millis(),
                    "trace": os.environ.get("_X_AMZN_TRACE_ID"),
                    "custom": cc.custom if cc else None,
                    "app_title": cc.client.app_title if cc else None,
                    "identity": context.identity.cognito_identity_id,
                    "pool": context.identity.cognito_identity_pool_id,
                }
            """)
        self.start("app.handler")
        self.api.invoke(
            "req-1", {"a": 1},
            Lambda_Runtime_Trace_Id="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            Lambda_Runtime_Client_Context=json.dumps(
                {"custom": {"k": "v"}, "env": {}, "client": {"app_title": "t"}}),
            Lambda_Runtime_Cognito_Identity=json.dumps(
                {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}))
        first = self.assert_response("req-1")
        self.assertEqual(first["calls"], 1)
        self.assertEqual(first["event"], {"a": 1})
        self.assertEqual(first["request_id"], "req-1")
        self.assertEqual(first["function_name"], "fn")
        self.assertEqual(first["function_version"], "$LATEST")
        self.assertEqual(first["memory"], 256)  # an int, not "256"
        self.assertEqual(first["arn"], "arn:aws:lambda:us-east-1:000000000000:function:fn")
        self.assertEqual(first["log_group"], "/aws/lambda/fn")
        self.assertEqual(first["log_stream"], "2024/01/01/[$LATEST]abc")
        self.assertTrue(0 < first["remaining"] <= 30000, first["remaining"])
        self.assertEqual(first["trace"], "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
        self.assertEqual(first["custom"], {"k": "v"})
        self.assertEqual(first["app_title"], "t")
        self.assertEqual((first["identity"], first["pool"]), ("id-1", "pool-1"))

        # Same process, so module state carries over; optional headers gone; an empty body is {}.
        self.api.invoke("req-2", body=b"", deadline_ms=int(time.time() * 1000) - 1000)
        second = self.assert_response("req-2")
        self.assertEqual(second["calls"], 2)
        self.assertEqual(second["event"], {})
        self.assertEqual(second["remaining"], 0)  # past deadline: 0, never negative
        self.assertIsNone(second["trace"])
        self.assertIsNone(second["custom"])
        self.assertIsNone(second["identity"])

    def test_handler_paths(self):
        self.write("pkg/sub/mod.py", "def fn(event, context):\n    return 'nested'\n")
        for handler in ("pkg/sub/mod.fn", "pkg.sub.mod.fn"):
            with self.subTest(handler=handler):
                self.api = FakeRuntimeAPI()
                self.addCleanup(self.api.stop)
                self.start(handler)
                self.api.invoke("req-" + handler)
                self.assertEqual(self.assert_response("req-" + handler), "nested")
                self.stop()

    def test_handler_exception(self):
        path = self.write("app.py", """
            def handler(event, context):
                print("before the error")
                raise ValueError("boom")
            """)
        self.start("app.handler")
        self.api.invoke("req-err")
        error = self.assert_error("req-err")
        self.assertEqual(error["errorType"], "ValueError")
        self.assertEqual(error["errorMessage"], "boom")
        self.assertEqual(error["stackTrace"],
                         ['  File "%s", line 4, in handler\n    raise ValueError("boom")\n' % path])

        # The runtime survives a failed invocation.
        self.api.invoke("req-after")
        self.assert_error("req-after")
        out = self.stop()
        expected = ('before the error\n[ERROR] ValueError: boom\nTraceback (most recent call last):\n'
                    '  File "%s", line 4, in handler\n    raise ValueError("boom")\n' % path).encode()
        self.assertIn(expected + sentinel("req-err"), out)

    def test_marshal_error_and_decimal(self):
        self.write("app.py", """
            from decimal import Decimal

            def handler(event, context):
                if event.get("kind") == "set":
                    return {"s": {1, 2}}
                if event.get("kind") == "bytes":
                    return b"raw\\xff"
                return {"d": Decimal("1.5"), "i": Decimal("3"), "none": None}
            """)
        self.start("app.handler")
        self.api.invoke("req-set", {"kind": "set"})
        error = self.assert_error("req-set")
        self.assertEqual(error["errorType"], "Runtime.MarshalError")
        self.assertEqual(error["errorMessage"],
                         "Unable to marshal response: Object of type set is not JSON serializable")
        self.assertEqual(error["stackTrace"], [])

        self.api.invoke("req-dec", {})
        self.assertEqual(self.assert_response("req-dec"), {"d": 1.5, "i": 3, "none": None})

        self.api.invoke("req-bytes", {"kind": "bytes"})
        path, headers, body = self.api.next_post()
        self.assertEqual((path, headers["Content-Type"], body),
                         (API + "/invocation/req-bytes/response", "application/unknown", b"raw\xff"))
        out = self.stop()
        self.assertIn(b"[ERROR] Runtime.MarshalError: Unable to marshal response: ", out)

    def test_none_result_and_bad_event(self):
        self.write("app.py", "def handler(event, context):\n    return None\n")
        self.start("app.handler")
        self.api.invoke("req-none")
        path, _, body = self.api.next_post()
        self.assertEqual((path, body), (API + "/invocation/req-none/response", None))  # "null"
        self.api.invoke("req-bad", body=b"{not json")
        error = self.assert_error("req-bad")
        self.assertEqual(error["errorType"], "Runtime.UnmarshalError")
        self.assertTrue(error["errorMessage"].startswith("Unable to unmarshal input: "))

    def test_output_order_and_sentinels(self):
        self.write("app.py", """
            import logging, sys
            print("module imported")
            logger = logging.getLogger()
            logger.setLevel(logging.INFO)

            def handler(event, context):
                print("out 1", event["n"])
                sys.stderr.write("err %d\\n" % event["n"])
                print("partial", end="")
                logger.info("logged %d", event["n"])
                return event["n"]
            """)
        self.start("app.handler")
        self.wait_output(INIT_END)
        # Hold each POST unanswered: the sentinel must already be in the pipe by then.
        self.api.release_posts.clear()
        for n in (1, 2):
            self.api.invoke("req-%d" % n, {"n": n})
            self.assertEqual(self.assert_response("req-%d" % n), n)
            self.wait_output(sentinel("req-%d" % n))
            self.api.release_posts.set()
            self.api.release_posts.clear()
        self.api.release_posts.set()
        out = self.stop()
        self.assertEqual(self.stderr, b"")  # stderr goes to stdout

        self.assertTrue(out.startswith(b"module imported\n" + INIT_END), out)
        rest = out[len(b"module imported\n" + INIT_END):]
        for n in (1, 2):
            before, marker, rest = rest.partition(sentinel("req-%d" % n))
            self.assertTrue(marker, out)
            lines = before.decode().split("\n")
            self.assertEqual(lines[:2], ["out 1 %d" % n, "err %d" % n])
            self.assertTrue(lines[2].startswith("partial[INFO]\t"), lines)
            self.assertTrue(lines[2].endswith("\treq-%d\tlogged %d" % (n, n)), lines)
            self.assertEqual(lines[3:], [""])
        self.assertEqual(rest, b"")
        self.assertEqual(out.count(b"\x1e"), 3)

    def test_bundled_module_shadows_installed_one(self):
        elsewhere = tempfile.mkdtemp(prefix="gantry-site-")
        self.addCleanup(shutil.rmtree, elsewhere, ignore_errors=True)
        self.write("boto3/__init__.py", "__version__ = '9.9-elsewhere'\n", root=elsewhere)
        self.write("only_elsewhere.py", "WHERE = 'elsewhere'\n", root=elsewhere)
        self.write("boto3/__init__.py", "__version__ = '0.0-bundled'\n")
        self.write("app.py", """
            import boto3, only_elsewhere

            def handler(event, context):
                return [boto3.__version__, only_elsewhere.WHERE]
            """)
        self.start("app.handler", PYTHONPATH=elsewhere)
        self.api.invoke("req-1")
        self.assertEqual(self.assert_response("req-1"), ["0.0-bundled", "elsewhere"])

    # --- Init errors ---------------------------------------------------------------------------

    def test_import_error(self):
        self.write("app.py", "import nope_not_installed\n\ndef handler(e, c):\n    return 1\n")
        self.start("app.handler")
        body, _ = self.assert_init_error(
            "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'nope_not_installed'")
        self.assertEqual(body["stackTrace"], [])

    def test_missing_module(self):
        self.start("nothere.handler")
        self.assert_init_error("Runtime.ImportModuleError",
                               "Unable to import module 'nothere': No module named 'nothere'")

    def test_handler_not_found(self):
        self.write("app.py", "def other(event, context):\n    return 1\n")
        self.start("app.handler")
        self.assert_init_error("Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'")

    def test_malformed_handler(self):
        self.start("apphandler")
        self.assert_init_error("Runtime.MalformedHandlerName",
                               "Bad handler 'apphandler': not enough values to unpack (expected 2, got 1)")

    def test_syntax_error(self):
        path = self.write("app.py", "def handler(event, context)\n    return 1\n")
        self.start("app.handler")
        path_, headers, body = self.api.next_post()
        self.assertEqual(path_, API + "/init/error")
        self.assertEqual(body["errorType"], "Runtime.UserCodeSyntaxError")
        self.assertTrue(body["errorMessage"].startswith("Syntax error in module 'app': "), body)
        self.assertEqual(len(body["stackTrace"]), 1)
        self.assertTrue(body["stackTrace"][0].startswith('  File "%s" Line 1\n' % path), body)
        self.assertIn(b"[ERROR] Runtime.UserCodeSyntaxError: Syntax error in module 'app': ",
                      self.wait_exit())

    def test_exception_at_import(self):
        path = self.write("app.py", "raise RuntimeError('no config')\n")
        self.start("app.handler")
        path_, headers, body = self.api.next_post()
        self.assertEqual(path_, API + "/init/error")
        self.assertEqual(headers["Lambda-Runtime-Function-Error-Type"], "RuntimeError")
        self.assertEqual(body["errorMessage"], "no config")
        self.assertTrue(body["stackTrace"][-1].startswith('  File "%s", line 1, in <module>\n' % path),
                        body)
        self.assertFalse(any("bootstrap.py" in frame for frame in body["stackTrace"]), body)
        self.assertIn(b"[ERROR] RuntimeError: no config\nTraceback (most recent call last):\n",
                      self.wait_exit())


if __name__ == "__main__":
    unittest.main()

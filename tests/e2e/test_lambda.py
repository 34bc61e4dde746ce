"""Lambda end to end: functions created from zip packages with boto3 really run in sandboxes under runc on
the machine's Python, behind Gantry's Runtime API. Covers the API (create, get, list, update, delete,
versions, aliases, concurrency, permissions), Invoke (RequestResponse with the log tail, Event with
retries, DryRun), errors as Lambda reports them (handler exceptions, init errors, timeouts, memory
exhaustion), warm reuse, concurrent sandboxes, CloudWatch Logs, and bad packages.
Needs root and runc, otherwise skipped with GANTRY_E2E_SKIPPED."""
import base64
import io
import json
import os
import shutil
import tempfile
import sys
import threading
import time
import unittest
import urllib.request
import zipfile
from importlib.machinery import SourceFileLoader

from botocore.config import Config

from harness import ACCOUNT, REPO, GantryServer, ServerTestCase, skip_unless_containers_run
import oci_helpers
from test_ecs_tasks import force_cleanup, layout_image, push_test_image

RUNTIME = "python%d.%d" % sys.version_info[:2]  # the server runs functions on the Python that runs the tests
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def setUpModule():
    skip_unless_containers_run("Lambda sandboxes")


DEBS = os.path.join(REPO, "build", "debs")  # Debian's boto3 1.26 and its dependencies (scripts/install-deps)
# scripts/seed-workflow lays out that boto3 as the seed bundles its own.
SEED = SourceFileLoader("seed_workflow", os.path.join(REPO, "scripts", "seed-workflow")).load_module()


def package(files):
    """A deployment package (zip bytes) of {name: source text}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


ECHO = """
import os, uuid
SANDBOX = uuid.uuid4().hex
CALLS = 0

def handler(event, context):
    global CALLS
    CALLS += 1
    print("got event", event)
    return {"event": event, "calls": CALLS, "sandbox": SANDBOX,
            "request_id": context.aws_request_id, "function_name": context.function_name,
            "version": context.function_version, "arn": context.invoked_function_arn,
            "memory": context.memory_limit_in_mb, "remaining": context.get_remaining_time_in_millis(),
            "log_group": context.log_group_name, "log_stream": context.log_stream_name,
            "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LAMBDA_", "_HANDLER", "MY_"))},
            "uid": os.getuid(), "cwd": os.getcwd()}
"""


class LambdaTest(ServerTestCase):
    server_args = ("--lambda-retry-seconds", "1", "--lambda-idle-seconds", "60")

    def setUp(self):
        super().setUp()
        self.iam = self.server.client("iam")
        self.lam = self.server.client("lambda", config=Config(read_timeout=60))
        self.logs = self.server.client("logs")
        role = self.iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]
        self.iam.attach_role_policy(RoleName="fn-role",
                                    PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        self.role = role["Arn"]

    def tearDown(self):
        super().tearDown()
        self.server.reset()
        self.assertEqual(force_cleanup(self.server.data_dir), [], "a sandbox left containers or mounts behind")

    def create(self, name="echo", code=ECHO, handler="app.handler", files=None, **kwargs):
        args = dict(FunctionName=name, Runtime=RUNTIME, Role=self.role, Handler=handler,
                    Code={"ZipFile": package(files or {"app.py": code})})
        args.update(kwargs)
        return self.lam.create_function(**args)

    def invoke(self, name="echo", payload=None, **kwargs):
        r = self.lam.invoke(FunctionName=name, Payload=json.dumps(payload if payload is not None else {}), **kwargs)
        r["Body"] = r["Payload"].read()
        return r

    def log_messages(self, name, expect, timeout=10):
        """Every message of /aws/lambda/<name> once all of `expect` appear in them."""
        deadline = time.time() + timeout
        while True:
            try:
                events = self.logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
            except self.logs.exceptions.ResourceNotFoundException:
                events = []
            messages = [e["message"] for e in events]
            if all(any(x in m for m in messages) for x in expect) or time.time() > deadline:
                return messages
            time.sleep(0.2)

    # --- the API -----------------------------------------------------------------------------------------
    def test_create_get_list_update_delete(self):
        created = self.create(Description="echoes", Timeout=5, MemorySize=256, SnapStart={"ApplyOn": "None"},
                              Environment={"Variables": {"MY_SETTING": "on"}}, Tags={"team": "batch"})
        self.assertEqual(created["FunctionArn"], f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo")
        self.assertEqual((created["Runtime"], created["Handler"], created["Role"]), (RUNTIME, "app.handler", self.role))
        self.assertEqual((created["Timeout"], created["MemorySize"], created["Version"]), (5, 256, "$LATEST"))
        self.assertEqual(created["State"], "Active")
        self.assertEqual(created["PackageType"], "Zip")
        zip_bytes = package({"app.py": ECHO})
        self.assertGreater(created["CodeSize"], 100)
        got = self.lam.get_function(FunctionName="echo")
        self.assertEqual(got["Configuration"]["CodeSha256"], created["CodeSha256"])
        self.assertEqual(got["Tags"], {"team": "batch"})
        with urllib.request.urlopen(got["Code"]["Location"], timeout=10) as r:
            downloaded = r.read()
        self.assertEqual(zipfile.ZipFile(io.BytesIO(downloaded)).read("app.py").decode(), ECHO)
        self.assertNotEqual(len(zip_bytes), 0)
        names = [f["FunctionName"] for f in self.lam.list_functions()["Functions"]]
        self.assertEqual(names, ["echo"])
        self.assertAwsError("ResourceConflictException", self.create, status=409)
        updated = self.lam.update_function_configuration(FunctionName="echo", MemorySize=512, Description="new")
        self.assertEqual((updated["MemorySize"], updated["Description"]), (512, "new"))
        self.assertNotEqual(updated["RevisionId"], created["RevisionId"])
        self.assertAwsError("PreconditionFailedException", self.lam.update_function_configuration,
                            FunctionName="echo", Timeout=9, RevisionId=created["RevisionId"], status=412)
        self.lam.delete_function(FunctionName="echo")
        self.assertAwsError("ResourceNotFoundException", self.lam.get_function, FunctionName="echo", status=404)
        self.assertEqual(self.lam.list_functions()["Functions"], [])

    def test_packages_up_to_lambdas_limit_are_accepted(self):
        # 20 MB that do not compress: a request body of ~27 MB (base64 in JSON), past the 16 MB other APIs
        # accept, within Lambda's 50 MB package limit.
        created = self.create(files={"app.py": ECHO, "blob.bin": os.urandom(20 * 1024 * 1024)})
        self.assertGreater(created["CodeSize"], 20 * 1024 * 1024)
        self.assertEqual(json.loads(self.invoke(payload={"a": 1})["Body"])["event"], {"a": 1})

    def test_bad_requests_are_refused_and_change_nothing(self):
        # A runtime AWS has but this host does not provide (Gantry runs functions on the machine's Python).
        other = "python3.9" if RUNTIME != "python3.9" else "python3.10"
        msg = self.assertAwsError("InvalidParameterValueException", self.create, Runtime=other)
        self.assertIn(RUNTIME, msg)
        self.assertAwsError("ValidationException", self.create, Runtime="python3.1")
        self.assertAwsError("InvalidParameterValueException", self.create, Runtime="nodejs20.x")
        self.assertAwsError("InvalidParameterValueException", self.create,
                            Environment={"Variables": {"AWS_REGION": "eu-west-1"}})
        self.assertAwsError("ValidationException", self.create, Timeout=901)
        self.assertAwsError("InvalidParameterValueException", self.lam.create_function, FunctionName="s3",
                            Runtime=RUNTIME, Role=self.role, Handler="app.handler",
                            Code={"S3Bucket": "my-bucket", "S3Key": "k.zip"})
        # Packages: not a zip, a path escape, a zip bomb past 250 MB unzipped.
        msg = self.assertAwsError("InvalidParameterValueException", self.lam.create_function, FunctionName="junk",
                                  Runtime=RUNTIME, Role=self.role, Handler="app.handler",
                                  Code={"ZipFile": b"this is not a zip"})
        self.assertIn("Could not unzip uploaded file", msg)
        msg = self.assertAwsError("InvalidParameterValueException", self.create, name="escape",
                                  files={"app.py": ECHO, "../../evil.py": "x = 1"})
        self.assertIn("outside", msg)
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("app.py", ECHO)
            z.writestr("big.bin", b"\0" * (251 * 1024 * 1024))
        msg = self.assertAwsError("InvalidParameterValueException", self.lam.create_function, FunctionName="bomb",
                                  Runtime=RUNTIME, Role=self.role, Handler="app.handler",
                                  Code={"ZipFile": bomb.getvalue()})
        self.assertIn("Unzipped size must be smaller than 262144000 bytes", msg)
        self.assertEqual(self.lam.list_functions()["Functions"], [])
        self.assertAwsError("InvalidParameterValueException", self.create, LoggingConfig={"LogFormat": "JSON"})
        self.assertAwsError("InvalidParameterValueException", self.create, SnapStart={"ApplyOn": "PublishedVersions"})
        self.assertAwsError("ValidationException", self.create, MemorySize=10241)
        self.assertAwsError("ValidationException", self.create, Environment={"Variables": {"1BAD": "x"}})
        self.create(name="ok")
        self.assertAwsError("InvalidParameterValueException", self.lam.invoke, FunctionName="ok",
                            ClientContext=base64.b64encode(b"not json").decode())
        self.lam.delete_function(FunctionName="ok")
        code_dir = os.path.join(self.server.data_dir, "lambda", "code")
        self.assertEqual(os.listdir(code_dir) if os.path.isdir(code_dir) else [], [])
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "..", "evil.py")))

    # --- invoking ------------------------------------------------------------------------------------------
    def test_invoke_runs_the_handler_with_lambdas_context_environment_and_logs(self):
        self.create(Environment={"Variables": {"MY_SETTING": "on"}}, MemorySize=256)
        r = self.invoke(payload={"hello": "world"}, LogType="Tail")
        self.assertEqual(r["StatusCode"], 200)
        self.assertNotIn("FunctionError", r)
        self.assertEqual(r["ExecutedVersion"], "$LATEST")
        out = json.loads(r["Body"])
        self.assertEqual(out["event"], {"hello": "world"})
        self.assertEqual(out["function_name"], "echo")
        self.assertEqual(out["version"], "$LATEST")
        self.assertEqual(out["arn"], f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo")
        self.assertEqual(out["memory"], 256)
        self.assertTrue(0 < out["remaining"] <= 3000, out["remaining"])
        self.assertEqual(out["log_group"], "/aws/lambda/echo")
        self.assertRegex(out["log_stream"], r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
        self.assertEqual(out["uid"], 993)
        self.assertEqual(out["cwd"], "/var/task")
        env = out["env"]
        self.assertEqual(env["MY_SETTING"], "on")
        self.assertEqual(env["AWS_REGION"], "us-east-1")
        self.assertEqual(env["AWS_LAMBDA_FUNCTION_NAME"], "echo")
        self.assertEqual(env["_HANDLER"], "app.handler")
        self.assertEqual(env["LAMBDA_TASK_ROOT"], "/var/task")
        self.assertEqual(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566")
        self.assertTrue(env["AWS_ACCESS_KEY_ID"].startswith("ASIA"), env["AWS_ACCESS_KEY_ID"])
        self.assertTrue(env["AWS_SESSION_TOKEN"])
        tail = base64.b64decode(r["LogResult"]).decode()
        self.assertIn(f"START RequestId: {out['request_id']} Version: $LATEST", tail)
        self.assertIn("got event {'hello': 'world'}", tail)
        self.assertIn(f"END RequestId: {out['request_id']}", tail)
        self.assertRegex(tail, r"REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
                               r"Memory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms")
        messages = self.log_messages("echo", ["START", "got event", "END", "REPORT"])
        kinds = [m.split(" ")[0] for m in messages]
        self.assertEqual(kinds, ["START", "got", "END", "REPORT"], messages)
        streams = self.logs.describe_log_streams(logGroupName="/aws/lambda/echo")["logStreams"]
        self.assertEqual([s["logStreamName"] for s in streams], [out["log_stream"]])

    def test_warm_sandbox_keeps_module_state_and_concurrent_calls_get_their_own(self):
        self.create(code=ECHO.replace("def handler", "import time\ndef handler").replace(
            "    CALLS += 1", "    CALLS += 1\n    time.sleep(event.get('sleep', 0))"))
        first = json.loads(self.invoke()["Body"])
        second = json.loads(self.invoke()["Body"])
        self.assertEqual((first["calls"], second["calls"]), (1, 2))
        self.assertEqual(first["sandbox"], second["sandbox"], "the warm sandbox serves the second call")
        results = []

        def call():
            results.append(json.loads(self.invoke(payload={"sleep": 1.5})["Body"]))

        threads = [threading.Thread(target=call) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 2)
        self.assertNotEqual(results[0]["sandbox"], results[1]["sandbox"], "concurrent calls share no sandbox")

    def test_handler_exception_is_a_function_error(self):
        self.create(code="def handler(event, context):\n    raise ValueError('boom: ' + event['x'])\n")
        r = self.invoke(payload={"x": "bad input"}, LogType="Tail")
        self.assertEqual(r["StatusCode"], 200)
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["Body"])
        self.assertEqual((err["errorType"], err["errorMessage"]), ("ValueError", "boom: bad input"))
        self.assertTrue(any("app.py" in line for line in err["stackTrace"]), err)
        self.assertIn("[ERROR] ValueError: boom: bad input", base64.b64decode(r["LogResult"]).decode())

    def test_an_answer_over_6_mb_fails_the_invocation(self):
        self.create(code="def handler(event, context):\n    return 'x' * (7 * 1024 * 1024)\n")
        r = self.invoke()
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertEqual(json.loads(r["Body"])["errorType"], "Function.ResponseSizeTooLarge")

    def test_init_error_names_the_missing_module(self):
        self.create(code="import not_installed_anywhere\n\ndef handler(event, context):\n    return 1\n")
        r = self.invoke()
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["Body"])
        self.assertEqual(err["errorType"], "Runtime.ImportModuleError")
        self.assertIn("Unable to import module 'app': No module named 'not_installed_anywhere'", err["errorMessage"])

    def test_timeout_kills_the_sandbox(self):
        self.create(code="import time\n\ndef handler(event, context):\n    time.sleep(30)\n", Timeout=1)
        started = time.time()
        r = self.invoke(LogType="Tail")
        self.assertLess(time.time() - started, 10)
        self.assertEqual(r["FunctionError"], "Unhandled")
        self.assertIn("Task timed out after 1.00 seconds", json.loads(r["Body"])["errorMessage"])
        self.assertIn("Task timed out after 1.00 seconds", base64.b64decode(r["LogResult"]).decode())

    def test_memory_exhaustion_ends_the_invocation(self):
        self.create(code="def handler(event, context):\n    blocks = []\n    while True:\n"
                         "        blocks.append(bytearray(16 * 1024 * 1024))\n", MemorySize=128, Timeout=20)
        r = self.invoke()
        self.assertEqual(r["FunctionError"], "Unhandled")
        err = json.loads(r["Body"])
        self.assertIn(err["errorType"], ("Runtime.OutOfMemory", "MemoryError"), err)

    def test_dry_run_and_reserved_concurrency(self):
        self.create()
        r = self.lam.invoke(FunctionName="echo", InvocationType="DryRun")
        self.assertEqual(r["StatusCode"], 204)
        self.assertEqual(self.invoke()["StatusCode"], 200)  # a warm sandbox now waits: it must not serve either
        self.lam.put_function_concurrency(FunctionName="echo", ReservedConcurrentExecutions=0)
        self.assertEqual(self.lam.get_function_concurrency(FunctionName="echo")["ReservedConcurrentExecutions"], 0)
        self.assertAwsError("TooManyRequestsException", self.invoke, status=429)
        self.lam.delete_function_concurrency(FunctionName="echo")
        self.assertEqual(self.invoke()["StatusCode"], 200)
        settings = self.lam.get_account_settings()
        self.assertEqual(settings["AccountUsage"]["FunctionCount"], 1)
        self.assertEqual(settings["AccountLimit"]["CodeSizeUnzipped"], 262144000)

    def test_versions_and_aliases_invoke_the_right_code(self):
        self.create(code="def handler(event, context):\n    return 'one'\n")
        v1 = self.lam.publish_version(FunctionName="echo")
        self.assertEqual(v1["Version"], "1")
        self.assertEqual(v1["FunctionArn"], f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo:1")
        self.assertEqual(self.lam.publish_version(FunctionName="echo")["Version"], "1", "nothing changed")
        self.lam.update_function_code(FunctionName="echo",
                                      ZipFile=package({"app.py": "def handler(event, context):\n    return 'two'\n"}))
        alias = self.lam.create_alias(FunctionName="echo", Name="live", FunctionVersion="1")
        self.assertEqual(alias["AliasArn"], f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo:live")
        self.assertEqual(json.loads(self.invoke()["Body"]), "two")
        r = self.invoke(Qualifier="1")
        self.assertEqual((json.loads(r["Body"]), r["ExecutedVersion"]), ("one", "1"))
        r = self.invoke(name="echo:live")
        self.assertEqual((json.loads(r["Body"]), r["ExecutedVersion"]), ("one", "1"))
        versions = [v["Version"] for v in self.lam.list_versions_by_function(FunctionName="echo")["Versions"]]
        self.assertEqual(versions, ["$LATEST", "1"])
        everything = self.lam.list_functions(FunctionVersion="ALL")["Functions"]
        self.assertEqual(sorted(f["Version"] for f in everything), ["$LATEST", "1"])
        self.assertAwsError("InvalidParameterValueException", self.lam.list_versions_by_function,
                            FunctionName="echo", Marker="bm90IGEgbnVtYmVy")
        self.assertEqual([a["Name"] for a in self.lam.list_aliases(FunctionName="echo")["Aliases"]], ["live"])
        self.assertAwsError("ResourceConflictException", self.lam.delete_function, FunctionName="echo",
                            Qualifier="1", status=409)
        self.lam.delete_alias(FunctionName="echo", Name="live")
        self.lam.delete_function(FunctionName="echo", Qualifier="1")
        self.assertAwsError("ResourceNotFoundException", self.invoke, Qualifier="1", status=404)

    def test_event_invocations_are_retried_twice(self):
        self.create(code="def handler(event, context):\n    print('attempt for', event['n'])\n"
                         "    raise RuntimeError('always fails')\n")
        r = self.lam.invoke(FunctionName="echo", InvocationType="Event", Payload=json.dumps({"n": 7}))
        self.assertEqual(r["StatusCode"], 202)
        # Retries after 1 s and 2 s more (--lambda-retry-seconds 1).
        deadline = time.time() + 15
        while time.time() < deadline:
            attempts = [m for m in self.log_messages("echo", [], timeout=0) if m.startswith("attempt for 7")]
            if len(attempts) >= 3:
                break
            time.sleep(0.3)
        self.assertEqual(len(attempts), 3, self.log_messages("echo", []))
        time.sleep(2.5)
        self.assertEqual(len([m for m in self.log_messages("echo", [], timeout=0) if m.startswith("attempt")]), 3)

    def test_an_sdk_that_ignores_aws_endpoint_url_reaches_gantry_over_tls(self):
        # boto3 1.26 bundled in the package, as the seed bundles its own: it calls https://ecs.us-east-1.
        # amazonaws.com, which inside the sandbox is Gantry, with a certificate of Gantry's own CA.
        self.iam.put_role_policy(RoleName="fn-role", PolicyName="ecs", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"}]}))
        self.server.client("ecs").create_cluster(clusterName="from-old-sdk")
        files = SEED.bundled_boto3(DEBS)
        files["app.py"] = ("import boto3, botocore\n"
                           "def handler(event, context):\n"
                           "    ecs = boto3.client('ecs')\n"
                           "    return {'boto3': boto3.__version__, 'where': botocore.__file__,\n"
                           "            'endpoint': ecs.meta.endpoint_url, 'clusters': ecs.list_clusters()['clusterArns']}\n")
        self.create(files=files, Timeout=30)
        r = self.invoke(LogType="Tail")
        self.assertNotIn("FunctionError", r, r["Body"][:2000])
        out = json.loads(r["Body"])
        self.assertTrue(out["boto3"].startswith("1.26."), out)
        self.assertTrue(out["where"].startswith("/var/task/botocore"), out)
        self.assertEqual(out["endpoint"], "https://ecs.us-east-1.amazonaws.com")
        self.assertEqual(out["clusters"], [f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/from-old-sdk"])
        # The CA's key stays on the host; sandboxes get its certificate only.
        ca_dir = os.path.join(self.server.data_dir, "tls")
        self.assertEqual(os.stat(os.path.join(ca_dir, "ca.key")).st_mode & 0o777, 0o600)

    def test_container_image_function_runs_the_images_runtime(self):
        # An image in Gantry's registry: the python test image plus the handler and a runtime client (Gantry's
        # own, copied in as a user would copy awslambdaric), ENTRYPOINT the client, CMD the handler.
        with open(os.path.join(REPO, "runtime", "python", "bootstrap.py"), "rb") as f:
            client = f.read()
        push_test_image(self.server, "python", "fn-image", tag="base")
        manifest, media_type, blobs = layout_image("python")
        base = json.loads(manifest)
        config = json.loads(blobs[0])
        layer, tar = oci_helpers.layer_tar_gz({
            "var/task/app.py": b"import os\ndef handler(event, context):\n"
                               b"    return {'in_image': os.path.exists('/var/task/app.py'), 'event': event,\n"
                               b"            'cwd': os.getcwd(), 'mode': os.environ.get('MODE')}\n",
            "var/runtime/client.py": client})
        config["config"].update({"Entrypoint": ["python3", "/var/runtime/client.py"], "Cmd": ["app.handler"],
                                 "WorkingDir": "/var/task", "Env": config["config"]["Env"] + ["MODE=from-image"]})
        config["rootfs"]["diff_ids"].append(oci_helpers.sha256(tar))
        config_bytes = json.dumps(config).encode()
        base["config"] = dict(base["config"], digest=oci_helpers.sha256(config_bytes), size=len(config_bytes))
        base["layers"].append({"mediaType": oci_helpers.OCI_LAYER_GZIP, "digest": oci_helpers.sha256(layer),
                               "size": len(layer)})
        reg = oci_helpers.Registry(self.server, oci_helpers.registry_password(self.server))
        for data in (config_bytes, layer):
            reg.push_blob("fn-image", data)
        status, _, body = reg.put_manifest("fn-image", "v1", json.dumps(base).encode(), media_type)
        self.assertEqual(status, 201, body)
        uri = f"{ACCOUNT}.dkr.ecr.us-east-1.localhost:{self.server.port}/fn-image:v1"
        created = self.lam.create_function(FunctionName="img", Role=self.role, PackageType="Image",
                                           Code={"ImageUri": uri})
        self.assertEqual(created["PackageType"], "Image")
        self.assertNotIn("Runtime", created)
        # Pending while Gantry unpacks the image's layers, then Active, as AWS's waiter expects.
        self.assertEqual((created["State"], created["StateReasonCode"]), ("Pending", "Creating"))
        self.lam.get_waiter("function_active_v2").wait(FunctionName="img", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        active = self.lam.get_function_configuration(FunctionName="img")
        self.assertEqual((active["State"], active["LastUpdateStatus"]), ("Active", "Successful"))
        self.assertNotIn("StateReason", active)
        got = self.lam.get_function(FunctionName="img")
        self.assertEqual(got["Code"]["RepositoryType"], "ECR")
        self.assertIn("@sha256:" + created["CodeSha256"], got["Code"]["ResolvedImageUri"])
        r = self.invoke(name="img", payload={"k": "v"})
        self.assertNotIn("FunctionError", r, r["Body"])
        self.assertEqual(json.loads(r["Body"]), {"in_image": True, "event": {"k": "v"}, "cwd": "/var/task",
                                                 "mode": "from-image"})
        self.assertAwsError("InvalidParameterValueException", self.lam.create_function, FunctionName="nope",
                            Role=self.role, PackageType="Image",
                            Code={"ImageUri": f"127.0.0.1:{self.server.port}/no-such-repo:latest"})
        self.assertAwsError("InvalidParameterValueException", self.lam.create_function, FunctionName="hub",
                            Role=self.role, PackageType="Image", Code={"ImageUri": "python:3.11"})
        # Whoever makes the function must be allowed to pull its image.
        self.iam.create_user(UserName="no-ecr")
        self.iam.put_user_policy(UserName="no-ecr", PolicyName="lambda", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["lambda:CreateFunction", "iam:PassRole"], "Resource": "*"}]}))
        dev = self.client_as("lambda", self.iam.create_access_key(UserName="no-ecr")["AccessKey"])
        self.assertDenied(lambda: dev.create_function(FunctionName="img2", Role=self.role, PackageType="Image",
                                                      Code={"ImageUri": uri}),
                          "AccessDeniedException", "ecr:BatchGetImage")

    def test_permissions_policy(self):
        self.create()
        r = self.lam.add_permission(FunctionName="echo", StatementId="events", Action="lambda:InvokeFunction",
                                    Principal="events.amazonaws.com",
                                    SourceArn=f"arn:aws:events:us-east-1:{ACCOUNT}:rule/every-5-minutes")
        statement = json.loads(r["Statement"])
        self.assertEqual(statement["Principal"], {"Service": "events.amazonaws.com"})
        policy = json.loads(self.lam.get_policy(FunctionName="echo")["Policy"])
        self.assertEqual([s["Sid"] for s in policy["Statement"]], ["events"])
        self.assertAwsError("ResourceConflictException", self.lam.add_permission, FunctionName="echo",
                            StatementId="events", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                            status=409)
        self.lam.remove_permission(FunctionName="echo", StatementId="events")
        self.assertAwsError("ResourceNotFoundException", self.lam.get_policy, FunctionName="echo", status=404)

    def test_invoking_needs_permission_and_passing_a_role_needs_pass_role(self):
        self.create()
        iam = self.iam
        iam.create_user(UserName="dev")
        iam.put_user_policy(UserName="dev", PolicyName="lambda", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:CreateFunction",
                                                    "Resource": "*"}]}))
        creds = iam.create_access_key(UserName="dev")["AccessKey"]
        dev = self.client_as("lambda", creds)
        self.assertDenied(lambda: dev.invoke(FunctionName="echo"), "AccessDeniedException", "lambda:InvokeFunction")
        self.assertDenied(lambda: dev.create_function(FunctionName="mine", Runtime=RUNTIME, Role=self.role,
                                                      Handler="app.handler",
                                                      Code={"ZipFile": package({"app.py": ECHO})}),
                          "AccessDeniedException", "iam:PassRole")


class RelativeDataDirTest(ServerTestCase):
    """`gantry server --data-dir ./gantry-data` (the default is relative too): sandboxes still start."""

    @classmethod
    def setUpClass(cls):
        cls.parent = tempfile.mkdtemp(prefix="gantry-e2e-rel-")
        os.makedirs(os.path.join(cls.parent, "data"))
        cls.server = GantryServer(data_dir=os.path.join(cls.parent, "data"), cwd=cls.parent).start()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.parent, ignore_errors=True)

    def test_functions_run_with_a_relative_data_dir(self):
        iam = self.server.client("iam")
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        lam = self.server.client("lambda", config=Config(read_timeout=60))
        lam.create_function(FunctionName="rel", Runtime=RUNTIME, Role=role, Handler="app.handler",
                            Code={"ZipFile": package({"app.py": "def handler(e, c):\n    return 'ran'\n"})})
        r = lam.invoke(FunctionName="rel")
        self.assertNotIn("FunctionError", r)
        self.assertEqual(json.loads(r["Payload"].read()), "ran")
        self.server.reset()
        self.assertEqual(force_cleanup(self.server.data_dir), [])


if __name__ == "__main__":
    unittest.main()

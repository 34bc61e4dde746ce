"""Starts real `gantry server` processes for end-to-end tests and gives signed clients for them.

Every test talks to a real server over HTTP on loopback with real clients (boto3, the aws CLI).
Requests are signed with credentials made for this run; once IAM enforcement lands the server is
handed the same credentials at start, so the suite keeps passing with enforcement on.
"""
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("GANTRY_BIN") or os.path.join(REPO, "build", "src", "gantry")
REGION = "us-east-1"
ACCOUNT = "000000000000"
ACCESS_KEY = "AKIA" + secrets.token_hex(8).upper()
SECRET_KEY = secrets.token_urlsafe(30)

_LISTEN_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
_SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: ")


class GantryServer:
    """One server process on a free loopback port with its own data dir."""

    def __init__(self, data_dir=None, extra_args=(), enable_reset=True, root_credentials=True, cwd=None):
        self.enable_reset = enable_reset  # False: start without --enable-reset (POST /_gantry/reset is 404)
        # False: no --root-credentials; the server uses (or makes) <data-dir>/credentials.
        self.root_credentials = root_credentials
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="gantry-e2e-")
        self.extra_args = list(extra_args)
        self.cwd = cwd  # set: the server runs there, given its data dir relative to it (as `--data-dir ./x`)
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.data_dir, "server.log")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=15):
        self.log = open(self.log_path, "a")
        data_dir = os.path.relpath(self.data_dir, self.cwd) if self.cwd else self.data_dir
        self.proc = subprocess.Popen(
            [BINARY, "server", "--listen", "127.0.0.1:0", "--data-dir", data_dir,
             *(["--root-credentials", f"{ACCESS_KEY}:{SECRET_KEY}"] if self.root_credentials else []),
             *(["--enable-reset"] if self.enable_reset else []), "--log-level", "info", *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.cwd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gantry exited with {self.proc.returncode}: {self.read_log()[-2000:]}")
            m = None
            for m in _LISTEN_RE.finditer(self.read_log()):
                pass
            if m and self.proc.poll() is None:
                self.port = int(m.group(1))
                if self.healthy():
                    return self
            time.sleep(0.02)
        raise RuntimeError("gantry did not start in time: " + self.read_log()[-2000:])

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def healthy(self):
        try:
            with urllib.request.urlopen(self.endpoint + "/_gantry/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        code = self.proc.returncode
        self.proc = None
        log = self.read_log()
        # The log is read again by the next start(): keep only lines of the next run.
        os.replace(self.log_path, self.log_path + ".prev")
        # A sanitizer build reports memory errors, leaks and undefined behaviour in the server's log.
        m = _SANITIZER_RE.search(log)
        if m:
            raise AssertionError(f"the server's sanitizer reported a problem:\n{log[max(0, m.start() - 200):][:6000]}")
        return code

    def kill9(self):
        return self.stop(sig=signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def reset(self):
        req = urllib.request.Request(self.endpoint + "/_gantry/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200

    def cleanup(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # Clients ---------------------------------------------------------------------------------------
    def client(self, service, region=REGION, config=None, **kwargs):
        base = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, config=base.merge(config) if config else base, **kwargs)

    def cli_env(self):
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION,
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="")
        env.pop("AWS_PROFILE", None)
        return env

    def aws(self, *args, check=True):
        """Runs the aws CLI against this server; returns the CompletedProcess (text)."""
        cmd = [shutil.which("aws") or "aws", "--endpoint-url", self.endpoint, "--output", "json", *args]
        p = subprocess.run(cmd, env=self.cli_env(), capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p


# Target prefixes and JSON versions of the json-protocol services, for signed_request().
_JSON_TARGETS = {"ecs": ("AmazonEC2ContainerServiceV20141113", "1.1")}


EXECUTION_ROLE_NAME = "ecsTaskExecutionRole"


def ensure_execution_role(server):
    """Makes the seed's ecsTaskExecutionRole (trusting ecs-tasks.amazonaws.com, with AWS's
    AmazonECSTaskExecutionRolePolicy), as the ECS console does on first use: with IAM enforced, Gantry pulls
    a task's images and writes its logs with that role. Idempotent. Returns its ARN."""
    import json
    iam = server.client("iam")
    try:
        iam.create_role(RoleName=EXECUTION_ROLE_NAME, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}))
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    iam.attach_role_policy(RoleName=EXECUTION_ROLE_NAME,
                           PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
    # The task tests' definitions use awslogs-create-group, which needs logs:CreateLogGroup (as in ECS).
    iam.put_role_policy(RoleName=EXECUTION_ROLE_NAME, PolicyName="create-log-groups", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"}]}))
    return f"arn:aws:iam::{ACCOUNT}:role/{EXECUTION_ROLE_NAME}"


def signed_request(server, service, target, body_bytes, headers=None, region=REGION):
    """POSTs `body_bytes` as a SigV4-signed json-protocol call of `target` (e.g. "RegisterTaskDefinition" or a
    full "Prefix.Operation") and returns (status, headers, body bytes), error statuses included.

    For what boto3 would refuse to send: wrong JSON types, missing required members, malformed JSON."""
    prefix, version = _JSON_TARGETS.get(service, ("", "1.1"))
    full_target = target if "." in target or not prefix else f"{prefix}.{target}"
    hdrs = {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": full_target}
    hdrs.update(headers or {})
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body_bytes, headers=hdrs)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, region).add_auth(req)
    prepared = req.prepare()
    http_req = urllib.request.Request(prepared.url, data=body_bytes, method="POST", headers=dict(prepared.headers.items()))
    try:
        with urllib.request.urlopen(http_req, timeout=30) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers.items()), e.read()


def skip_unless_containers_run(what):
    """Skips the calling test module (printing GANTRY_E2E_SKIPPED for CTest) unless containers can run here:
    as root, with runc installed. `what` says what runs under runc, for the message."""
    reason = None
    if os.geteuid() != 0:
        reason = f"not root ({what} run under runc, with namespaces and cgroups, only as root)"
    elif shutil.which("runc") is None:
        reason = "runc is not installed (scripts/install-deps installs it)"
    if reason:
        print(f"GANTRY_E2E_SKIPPED: {reason}", flush=True)
        raise unittest.SkipTest(reason)


class ServerTestCase(unittest.TestCase):
    """One server for the whole class; state is wiped before each test with POST /_gantry/reset."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = GantryServer(extra_args=cls.server_args).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def setUp(self):
        self.server.reset()

    def assertAwsError(self, code, fn, *args, status=400, **kwargs):
        """Calls fn and checks it fails with the AWS error `code` and HTTP `status`; returns the message."""
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kwargs)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err.get("Message"))
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        self.assertTrue(err.get("Message"), "an AWS error carries a message")
        return err["Message"]

    def assertDenied(self, call, code, action):
        """Calls `call` and checks IAM denied `action` with the AWS error `code`; returns the message."""
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as cm:
            call()
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        self.assertIn(f"is not authorized to perform: {action}", err["Message"])
        return err["Message"]

    def client_as(self, service, creds, region=REGION, config=None):
        """A boto3 client signing with `creds` (AccessKeyId, SecretAccessKey and, for STS credentials,
        SessionToken), as IAM's and STS's answers give them."""
        base = Config(retries={"max_attempts": 1})
        return boto3.client(service, endpoint_url=self.server.endpoint, region_name=region,
                            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds.get("SessionToken"),
                            config=base.merge(config) if config else base)

    def tearDown(self):
        self.assertTrue(self.server.alive(), "the server died during the test:\n" + self.server.read_log()[-3000:])


def raw_signed(server, service, target, body_bytes, headers=None, method="POST", path="/", region=REGION,
               timeout=30):
    """Sends one SigV4-signed request over plain http.client, bypassing botocore's serializers.

    `target` is the X-Amz-Target value (None to send none); `headers` are added before signing and
    may override the default Content-Type. Returns (status, headers_dict_lowercase, body_bytes).
    """
    import http.client

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    hdrs = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        hdrs["X-Amz-Target"] = target
    hdrs.update(headers or {})
    request = AWSRequest(method=method, url=server.endpoint + path, data=body_bytes, headers=hdrs)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, region).add_auth(request)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body_bytes, headers=dict(request.headers.items()))
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()

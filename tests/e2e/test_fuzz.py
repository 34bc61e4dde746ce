"""Fuzz-style test of the edge: thousands of random and mutated requests on loopback.

Every answer must be well-formed HTTP with a status below 600; an error from the AWS routes must name
an error code in the protocol's shape (JSON __type / x-amzn-ErrorType, or XML <Code>) and carry a
request id. A 500 is a server bug and fails the test. At the end the server must still answer health
checks and a normal boto3 call.

The seed is fixed (GANTRY_FUZZ_SEED overrides it) and printed; each case draws from its own
random.Random(seed, case), so GANTRY_FUZZ_CASES=17,342 replays just those cases.
"""
import copy
import json
import os
import random
import re
import signal
import socket
import time
import unittest

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import harness
from harness import GantryServer

SEED = int(os.environ.get("GANTRY_FUZZ_SEED", "20261127"))
TARGET_CASES = int(os.environ.get("GANTRY_FUZZ_COUNT", "10000"))
TIME_BUDGET = float(os.environ.get("GANTRY_FUZZ_SECONDS", "55"))
MIN_CASES = 3000
MAX_BODY = 4 * 1024 * 1024  # mutated bodies beyond this are cut (the limit itself is tested separately)
ECS_PREFIX = "AmazonEC2ContainerServiceV20141113"
FORM = "application/x-www-form-urlencoded; charset=utf-8"

_CREDS = Credentials(harness.ACCESS_KEY, harness.SECRET_KEY)

# Valid bodies the mutations start from.
SEED_TASK_DEFINITION = {
    "family": "fargate-seed",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": ".25 vcpu",
    "memory": "0.5 GB",
    "executionRoleArn": "arn:aws:iam::000000000000:role/ecsTaskExecutionRole",
    "containerDefinitions": [{
        "name": "web", "image": "public.ecr.aws/docker/library/nginx:latest", "memory": 128, "cpu": 64,
        "essential": True, "command": ["nginx", "-g", "daemon off;"], "entryPoint": ["/docker-entrypoint.sh"],
        "environment": [{"name": "MODE", "value": "fuzz"}],
        "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/seed",
                                                                  "awslogs-region": "us-east-1"}},
        "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 30, "timeout": 5, "retries": 3},
        "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
        "dependsOn": [], "stopTimeout": 30, "readonlyRootFilesystem": False,
        "linuxParameters": {"initProcessEnabled": True},
    }],
    "volumes": [{"name": "data"}],
    "ephemeralStorage": {"sizeInGiB": 21},
    "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
    "tags": [{"key": "seed", "value": "yes"}],
}
BASES = [
    ("RegisterTaskDefinition", SEED_TASK_DEFINITION),
    ("CreateCluster", {"clusterName": "fuzz", "tags": [{"key": "a", "value": "b"}],
                       "settings": [{"name": "containerInsights", "value": "enabled"}],
                       "capacityProviders": ["FARGATE", "FARGATE_SPOT"],
                       "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]}),
    ("DescribeClusters", {"clusters": ["fuzz", "default", "arn:aws:ecs:us-east-1:000000000000:cluster/fuzz"],
                          "include": ["TAGS", "SETTINGS", "STATISTICS"]}),
    ("ListClusters", {"maxResults": 10, "nextToken": "abc"}),
    ("DescribeTaskDefinition", {"taskDefinition": "fargate-seed:1", "include": ["TAGS"]}),
    ("ListTaskDefinitions", {"familyPrefix": "fargate", "status": "ACTIVE", "sort": "DESC", "maxResults": 5}),
    ("ListTaskDefinitionFamilies", {"familyPrefix": "f", "status": "ALL"}),
    ("DeregisterTaskDefinition", {"taskDefinition": "fargate-seed:1"}),
    ("DeleteTaskDefinitions", {"taskDefinitions": ["fargate-seed:1", "other:2"]}),
    ("TagResource", {"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/fuzz",
                     "tags": [{"key": "k", "value": "v"}]}),
    ("UntagResource", {"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/fuzz", "tagKeys": ["k"]}),
    ("ListTagsForResource", {"resourceArn": "arn:aws:ecs:us-east-1:000000000000:task-definition/fargate-seed:1"}),
    ("UpdateClusterSettings", {"cluster": "fuzz", "settings": [{"name": "containerInsights", "value": "disabled"}]}),
    ("UpdateCluster", {"cluster": "fuzz", "settings": [{"name": "containerInsights", "value": "enhanced"}],
                       "configuration": {"executeCommandConfiguration": {"logging": "DEFAULT"}}}),
    ("DeleteCluster", {"cluster": "fuzz"}),
]
# Number literals Python's json cannot produce, spliced into the text in place of a marker string.
NUMBER_LITERALS = [b"1e400", b"-1e400", b"1e-400", b"1180591620717411303424", b"-1180591620717411303424",
                   b"9223372036854775808", b"18446744073709551616", b"-9223372036854775809", b"2147483648",
                   b"-2147483649", b"1.5", b"-0", b"0.0", b"1E+999999999", b"123456789012345678901234567890.5",
                   b"4294967296", b"-1", b"1e19", b"9.999999999999999e22", b"0e0"]
BAD_LITERALS = [b"NaN", b"Infinity", b"-Infinity", b"0x10", b"01", b"+1", b"1.", b".5", b"1e", b"--1", b"tru",
                b"nul", b"'str'", b"undefined"]
INVALID_UTF8 = [b"\xff", b"\xfe", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xf0\x28\x8c\xbc", b"\xc0\xaf",
                b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]
MARK = "\u2603MARK\u2603"


def random_scalar(rng):
    return rng.choice([0, 1, -1, 2 ** 31, 2 ** 63 - 1, -2 ** 63, 2 ** 70, 1.5, -0.0, 1e308, True, False, None, "",
                       "x", "FARGATE", "a" * 300, "\u00e9\u4e2d\U0001f600", "\x00", "256", ".25 vcpu", "arn:aws:ecs:::",
                       MARK])


def random_value(rng, depth=0):
    r = rng.random()
    if depth > 3 or r < 0.6:
        return random_scalar(rng)
    if r < 0.8:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["name", "key", "value", "x", "", "family", "image", "\x00"]): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


def paths_of(value, prefix=()):
    """Every path (tuple of keys/indexes) into a JSON value, the root included."""
    out = [prefix]
    if len(prefix) > 80:  # already nested past the server's limit: no need to go deeper
        return out
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(paths_of(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(paths_of(v, prefix + (i,)))
    return out


def set_at(root, path, new):
    if not path:
        return new
    node = root
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = new
    return root


def get_at(root, path):
    for p in path:
        root = root[p]
    return root


def mutate_tree(rng, doc):
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = paths_of(doc)
        path = rng.choice(paths[1:] or paths)
        kind = rng.randrange(9)
        if kind == 0:      # type swap
            doc = set_at(doc, path, random_value(rng))
        elif kind == 1:    # deep nesting around a value
            depth = rng.choice([10, 40, 63, 64, 65, 100, 300])
            v = get_at(doc, path)
            for _ in range(depth):
                v = [v] if rng.random() < 0.5 else {"n": v}
            doc = set_at(doc, path, v)
        elif kind == 2:    # huge string
            n = rng.choice([256, 1025, 70000, 1 << 20])
            doc = set_at(doc, path, rng.choice(["a", "\u00e9", "\U0001f600", "\\", "\""]) * n)
        elif kind == 3:    # number out of range (spliced in later)
            doc = set_at(doc, path, MARK)
        elif kind == 4 and path and isinstance(get_at(doc, path[:-1]), dict):   # drop a member
            del get_at(doc, path[:-1])[path[-1]]
        elif kind == 5:    # add an unknown member somewhere
            parent = get_at(doc, path[:-1]) if path else doc
            if isinstance(parent, dict):
                parent[rng.choice(["unknown", "Family", "__type", "", "\u00e9"])] = random_value(rng)
        elif kind == 6:    # long list (of small items: bodies stay within a few MiB)
            item = get_at(doc, path)
            count = rng.choice([2, 51, 101, 1000]) if len(json.dumps(item)) < 2000 else 2
            doc = set_at(doc, path, [copy.deepcopy(item) for _ in range(count)])
        elif kind == 7:    # empty containers / null
            doc = set_at(doc, path, rng.choice([[], {}, None, ""]))
        else:              # random scalar
            doc = set_at(doc, path, random_scalar(rng))
    return doc


def mutate_bytes(rng, body):
    body = bytearray(body)
    kind = rng.randrange(8)
    if kind == 0 and b'"' in body:      # invalid UTF-8 inside a string
        quotes = [i for i, c in enumerate(body) if c == 0x22]
        at = rng.choice(quotes) + 1
        body[at:at] = rng.choice(INVALID_UTF8)
    elif kind == 1:                      # raw NUL / control bytes
        at = rng.randrange(len(body) + 1)
        body[at:at] = rng.choice([b"\x00", b"\x01", b"\x1f", b"\x7f", b"\x00" * 10])
    elif kind == 2 and body.startswith(b"{"):   # duplicate keys
        key = rng.choice([b'"family"', b'"clusterName"', b'"containerDefinitions"', b'"tags"', b'"clusters"'])
        dup = key + b":" + rng.choice([b"5", b'"dup"', b"null", b"[]", b"{}"]) + b","
        body[1:1] = dup + dup
    elif kind == 3:                      # truncate (Content-Length stays honest)
        body = body[:rng.randrange(len(body) + 1)]
    elif kind == 4:                      # flip bytes
        for _ in range(rng.randint(1, 5)):
            if body:
                body[rng.randrange(len(body))] = rng.randrange(256)
    elif kind == 5:                      # bad number literals
        body = body.replace(b"128", rng.choice(BAD_LITERALS + NUMBER_LITERALS), 1)
    elif kind == 6:                      # whitespace and trailing garbage
        body = bytearray(rng.choice([b" \n\t", b"\xef\xbb\xbf", b""])) + body + rng.choice([b" ", b"}", b"]", b"{}", b"\x00"])
    else:                                # escapes
        body = body.replace(b'"web"', rng.choice([b'"\\u0000"', b'"\\ud800"', b'"\\udc00\\ud800"', b'"\\uZZZZ"',
                                                  b'"\\x41"', b'"w\\/e\\b"']), 1)
    return bytes(body)


def encode(rng, doc):
    try:
        text = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    except RecursionError:  # nesting deeper than Python's json goes: write it by hand
        depth = rng.choice([1000, 5000])
        return b'{"family":' + b'{"n":' * depth + b"1" + b"}" * depth + b"}"
    while MARK.encode() in text or json.dumps(MARK).encode() in text:
        marker = json.dumps(MARK, ensure_ascii=False).encode()
        if marker not in text:
            marker = json.dumps(MARK).encode()
        text = text.replace(marker, rng.choice(NUMBER_LITERALS), 1)
    return text


def sign(method, path, service, body, headers, region="us-east-1"):
    """Headers of a SigV4-signed request; falls back to a well-formed unsigned Authorization when
    botocore cannot sign a path this odd (the server reads the scope; it does not verify yet)."""
    try:
        req = AWSRequest(method=method, url=f"http://127.0.0.1{path}", data=body, headers=dict(headers))
        SigV4Auth(_CREDS, service or "ecs", region).add_auth(req)
        return {k: v for k, v in req.headers.items()}
    except Exception:
        out = dict(headers)
        out["X-Amz-Date"] = "20261127T000000Z"
        out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={harness.ACCESS_KEY}/20261127/{region}/{service}/"
                                "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
        return out


def build_request(method, path, headers, body, host=True, content_length=True):
    lines = [method.encode("latin-1") if isinstance(method, str) else method]
    lines[0] += b" " + (path.encode("utf-8", "surrogateescape") if isinstance(path, str) else path) + b" HTTP/1.1"
    if host:
        lines.append(b"Host: 127.0.0.1")
    for k, v in headers.items() if isinstance(headers, dict) else headers:
        kb = k.encode("latin-1") if isinstance(k, str) else k
        vb = v.encode("utf-8") if isinstance(v, str) else v
        lines.append(kb + b": " + vb)
    if content_length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


_STATUS_RE = re.compile(rb"^HTTP/1\.[01] (\d{3}) [^\r\n]*$")


class Malformed(Exception):
    pass


def parse_one(buf, head=False):
    """Parses one response at the start of buf: ((status, headers, body), rest) or None if incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > 65536:
            raise Malformed("no end of headers in 64 KiB")
        return None
    lines = buf[:end].split(b"\r\n")
    m = _STATUS_RE.match(lines[0])
    if not m:
        raise Malformed(f"bad status line {lines[0][:100]!r}")
    headers = {}
    for line in lines[1:]:
        if b":" not in line:
            raise Malformed(f"bad header line {line[:100]!r}")
        k, v = line.split(b":", 1)
        headers[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
    if "content-length" not in headers:
        raise Malformed("response without Content-Length")
    n = 0 if head else int(headers["content-length"])
    start = end + 4
    if len(buf) < start + n:
        return None
    return (int(m.group(1)), headers, bytes(buf[start:start + n])), buf[start + n:]


class RawConnection:
    """A keep-alive connection that sends bytes and reads responses with a strict parser."""

    def __init__(self, port):
        self.port = port
        self.sock = None
        self.buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf = b""

    def _connect(self, timeout):
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
            self.buf = b""
        self.sock.settimeout(timeout)

    def exchange(self, data, head=False, timeout=20):
        """Sends one request and returns its response; raises Malformed/TimeoutError/ConnectionError."""
        for attempt in (0, 1):
            self._connect(timeout)
            try:
                self.sock.sendall(data)
                break
            except (BrokenPipeError, ConnectionResetError):
                # The server may close a keep-alive connection it answered with Connection: close.
                self.close()
                if attempt:
                    raise
        return self.read_response(head)

    def read_response(self, head=False):
        while True:
            parsed = parse_one(self.buf, head)
            if parsed:
                resp, self.buf = parsed
                if resp[1].get("connection", "").lower() == "close":
                    self.close()
                return resp
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                got = self.buf
                self.close()
                raise ConnectionError(f"connection closed without a complete response (had {got[:200]!r})")
            self.buf += chunk


def one_shot(port, data, shutdown_write=True, timeout=3.0):
    """Sends raw bytes on a fresh connection and returns every response the server sends before it
    closes (or stops talking); a server that answers nothing is fine here, a malformed answer is not."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        try:
            s.sendall(data)
            if shutdown_write:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(1 << 20)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    responses = []
    while out:
        parsed = parse_one(out)
        if parsed is None:
            raise Malformed(f"truncated response {out[:200]!r}")
        resp, out = parsed
        responses.append(resp)
    return responses


class FuzzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = GantryServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    # Checking answers -------------------------------------------------------------------------------
    def check(self, case, desc, resp, path="/", head=False):
        status, headers, body = resp
        problems = []
        if not 100 <= status < 600:
            problems.append(f"status {status}")
        if status == 500 or status >= 502:
            problems.append(f"HTTP {status} (a server bug): {body[:300]!r}")
        gantry_route = path.startswith("/_gantry/") if isinstance(path, str) else path.startswith(b"/_gantry/")
        if status >= 400 and not head:
            code = self.error_code(headers, body)
            if code is None:
                problems.append(f"{status} without an error code: {headers} {body[:300]!r}")
            if not gantry_route and not headers.get("x-amzn-requestid"):
                problems.append(f"{status} without x-amzn-RequestId")
        if status == 200 and not head and not gantry_route:
            try:
                json.loads(body)
            except ValueError:
                if not body.lstrip().startswith(b"<"):
                    problems.append(f"200 with an unparsable body {body[:200]!r}")
        for p in problems:
            self.failures_seen.append(f"case {case} [{desc}]: {p}")
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @staticmethod
    def error_code(headers, body):
        if headers.get("x-amzn-errortype"):
            return headers["x-amzn-errortype"]
        text = body.lstrip()
        if text.startswith(b"<"):
            m = re.search(rb"<Code>([^<]+)</Code>", text)
            return m.group(1).decode() if m else None
        try:
            doc = json.loads(body)
        except ValueError:
            return None
        if isinstance(doc, dict):
            return doc.get("__type") or doc.get("code") or doc.get("error")
        return None

    # Case generators ---------------------------------------------------------------------------------
    def case_mutated_body(self, rng, conn, case):
        op, base = rng.choice(BASES)
        if rng.random() < 0.85:
            body = encode(rng, mutate_tree(rng, base))
        else:
            body = encode(rng, base)
        if len(body) > MAX_BODY:
            body = body[:MAX_BODY]
        if rng.random() < 0.5:
            body = mutate_bytes(rng, body)
        if rng.random() < 0.003:
            # Just over the 16 MiB limit: 413, and the keep-alive connection is replaced.
            body = b'{"family":"' + b"x" * (16 * 1024 * 1024) + b'"}'
        headers = sign("POST", "/", "ecs", body, {"Content-Type": "application/x-amz-json-1.1",
                                                   "X-Amz-Target": f"{ECS_PREFIX}.{op}"})
        desc = f"{op} body {body[:120]!r}... ({len(body)} bytes)"
        self.check(case, desc, conn.exchange(build_request("POST", "/", headers, body)))

    def case_headers(self, rng, conn, case):
        op, base = rng.choice(BASES)
        body = encode(rng, base)
        headers = sign("POST", "/", rng.choice(["ecs", "ecr", "logs", "iam", "sts", "lambda", "nosuch", "e"]), body,
                       {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"{ECS_PREFIX}.{op}"})
        items = list(headers.items())
        for _ in range(rng.randint(1, 3)):
            kind = rng.randrange(8)
            if kind == 0:
                target = rng.choice([
                    "", ".", "..", f"{ECS_PREFIX}.", f".{op}", f"{ECS_PREFIX}..{op}", f"{ECS_PREFIX}.{op}.x",
                    "AmazonEC2ContainerRegistry_V20150921.CreateRepository", "Logs_20140328.CreateLogGroup",
                    "AWSEvents.PutRule", "x" * rng.choice([100, 5000, 60000]), f"{ECS_PREFIX}.{op}\x00",
                    f"{ECS_PREFIX}.{op.lower()}", "\u00e9\u00e9.\u00e9", f" {ECS_PREFIX}.{op} ",
                    "".join(chr(rng.randrange(33, 127)) for _ in range(rng.randint(1, 40)))])
                items = [(k, v) for k, v in items if k.lower() != "x-amz-target"] + [("X-Amz-Target", target)]
            elif kind == 1:
                ct = rng.choice(["", "text/plain", FORM, "application/json", "application/x-amz-json-1.0",
                                 "application/xml", "multipart/form-data; boundary=x", "\x01", "a" * 3000,
                                 "application/x-amz-json-1.1; charset=\u00e9"])
                items = [(k, v) for k, v in items if k.lower() != "content-type"] + [("Content-Type", ct)]
            elif kind == 2:
                auth = dict(items).get("Authorization", "")
                choices = [
                    auth[:rng.randrange(len(auth) + 1)], "", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ",
                    "AWS4-HMAC-SHA256 Credential=", "AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=, Signature=",
                    "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g/h, SignedHeaders=host, Signature=1",
                    "AWS4-HMAC-SHA256 Credential=" + "/" * 5000 + ", SignedHeaders=h, Signature=s",
                    "AWS4-HMAC-SHA256 ,,,,,,=,=,==,", "AWS4-HMAC-SHA256 Credential==x=/20260101/r/s/aws4_request",
                    auth.replace("aws4_request", "aws4_request/extra"), auth.replace("us-east-1", ""),
                    auth.replace("/ecs/", "/\u00e9/"), auth + ", Credential=dup/20260101/x/y/aws4_request",
                    "Basic " + "A" * rng.randint(0, 200), "AWS4-HMAC-SHA256 Credential=K/20260101/" + "r" * 10000 +
                    "/ecs/aws4_request, SignedHeaders=host, Signature=0"]
                items = [(k, v) for k, v in items if k.lower() != "authorization"] + [
                    ("Authorization", rng.choice(choices))]
            elif kind == 3:
                items = [(k, v) for k, v in items if k.lower() != "x-amz-date"]
                if rng.random() < 0.5:
                    items.append(("X-Amz-Date", rng.choice(["", "garbage", "99999999T999999Z", "\u00e9"])))
            elif kind == 4:   # duplicated headers
                k, v = rng.choice(items)
                items.append((k, v if rng.random() < 0.5 else "other"))
            elif kind == 5:   # many headers
                items += [(f"X-Junk-{i}", "v" * rng.randint(0, 50)) for i in range(rng.choice([50, 500, 3000]))]
            elif kind == 6:   # odd header names and values
                items.append((rng.choice(["X-Amz-Target ", "x-amz-target", "X-AMZ-TARGET", "Content-Length",
                                          "Transfer-Encoding", "Expect", "Connection", "Upgrade"]),
                              rng.choice(["", "chunked", "100-continue", "close", "keep-alive", "h2c", "0", "-1",
                                          "99999999999999999999", f"{ECS_PREFIX}.ListClusters"])))
            else:             # X-Amz-Security-Token and presign-looking query junk
                items.append(("X-Amz-Security-Token", "t" * rng.randint(0, 2000)))
        raw_items = [(k, v) for k, v in items if k.lower() != "content-length"]
        explicit_length = [v for k, v in items if k.lower() == "content-length"]
        data = build_request("POST", "/", raw_items + [("Content-Length", v) for v in explicit_length], body,
                             content_length=not explicit_length)
        desc = f"headers {[(k, v[:80]) for k, v in raw_items if not k.startswith('X-Junk')][:12]}"
        if explicit_length or any(k.lower() in ("transfer-encoding", "expect", "upgrade") for k, _ in raw_items):
            # Framing is up to the headers we sent: read whatever comes back on a fresh connection.
            for resp in one_shot(self.server.port, data):
                self.check(case, desc, resp)
            return
        self.check(case, desc, conn.exchange(data))

    def case_method_path(self, rng, conn, case):
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT",
                             "PROPFIND", "FOO", "get", "M" * 100])
        path = rng.choice([
            "/", "/../", "/..", "/%00", "/%2e%2e/%2e%2e/etc/passwd", "/_gantry/health/../reset",
            "/_gantry/%2e%2e/health", "/_gantry/health?x=1", "/_gantry/", "/_gantry", "//", "///_gantry/health",
            "/?Action=ListUsers&Version=2010-05-08", "/?Action=", "/?Action=%00", "/?%zz=%", "/?&&&==&",
            "/?Action=DescribeSubnets&Version=2016-11-15", "/2015-03-31/functions/", "/2015-03-31/functions/f/invocations",
            "/schedules", "/schedules/x?groupName=%FF", "/?X-Amz-Credential=a%2F20260101%2Fus-east-1%2Fecs%2Faws4_request"
            "&X-Amz-Signature=00", "/?X-Amz-Signature=1", "/?X-Amz-Credential=x", "*", "http://127.0.0.1/",
            "/" + "a" * rng.choice([1000, 8000, 70000]), "/" + "%41" * 2000, "/%", "/%%", "/\u00e9\u4e2d",
            "/" + "../" * 200, "/a/./b/../../c"])
        service = rng.choice(["ecs", "iam", "sts", "ec2", "lambda", "scheduler", "events", "logs", "nosuch", None])
        body = rng.choice([b"", b"{}", b"Action=ListUsers&Version=2010-05-08", b"Action=GetCallerIdentity",
                           b"<xml/>", bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))])
        headers = {}
        r = rng.random()
        if r < 0.3:
            headers["Content-Type"] = FORM
        elif r < 0.5:
            headers["Content-Type"] = "application/x-amz-json-1.1"
            if rng.random() < 0.5:
                headers["X-Amz-Target"] = f"{ECS_PREFIX}.ListClusters"
        if service:
            headers = sign(method, path, service, body, headers, region=rng.choice(["us-east-1", "eu-west-1", "x"]))
        data = build_request(method, path, headers, body)
        desc = f"{method[:20]} {path[:100]} service={service} body={body[:60]!r}"
        head = method == "HEAD"
        self.check(case, desc, conn.exchange(data, head=head), path=path, head=head)

    def case_raw(self, rng, conn, case):
        kind = rng.randrange(10)
        port = self.server.port
        body = encode(rng, rng.choice(BASES)[1])
        headers = sign("POST", "/", "ecs", body, {"Content-Type": "application/x-amz-json-1.1",
                                                   "X-Amz-Target": f"{ECS_PREFIX}.CreateCluster"})
        if kind == 0:     # Content-Length larger than the body, then the client stops sending
            data = build_request("POST", "/", headers, b"", content_length=False)
            data = data[:-2] + b"Content-Length: " + str(len(body) + rng.randint(1, 10000)).encode() + b"\r\n\r\n"
            data += body[:rng.randrange(len(body) + 1)]
            desc = "Content-Length larger than the body, EOF"
            responses = one_shot(port, data)
        elif kind == 1:   # Content-Length smaller than the body: the rest reads as the next request
            full = build_request("POST", "/", headers, body, content_length=False)
            data = full[:-(len(body) + 2)] + b"Content-Length: " + str(rng.randrange(len(body))).encode() + \
                b"\r\n\r\n" + body
            desc = "Content-Length smaller than the body"
            responses = one_shot(port, data)
        elif kind == 2:   # random garbage instead of HTTP
            data = bytes(rng.randrange(256) for _ in range(rng.choice([1, 10, 100, 5000])))
            if rng.random() < 0.5:
                data += b"\r\n\r\n"
            desc = f"garbage {data[:60]!r}"
            responses = one_shot(port, data)
        elif kind == 3:   # HTTP-looking garbage
            data = rng.choice([
                b"GET / HTTP/9.9\r\n\r\n", b"GET /\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nx\r\n",
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
                b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", b"GET / HTTP/1.1\r\nX: a\r\n  continued\r\n\r\n",
                b"GET /\x00 HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nX: \x00\x01\x7f\r\n\r\n",
                b"\r\n\r\n\r\n", b"GET / HTTP/1.1\n\n", b"GET / HTTP/1.0\r\n\r\n", b" GET / HTTP/1.1\r\n\r\n",
                b"GET  /  HTTP/1.1\r\n\r\n", b"G\x00T / HTTP/1.1\r\n\r\n",
                b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
                b"GET /_gantry/health HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 70000 + b"\r\n\r\n",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"])
            desc = f"HTTP-like garbage {data[:80]!r}"
            responses = one_shot(port, data)
        elif kind == 4:   # pipelined requests in one write
            n = rng.randint(2, 5)
            one = build_request("POST", "/", headers, body)
            data = one * n
            desc = f"{n} pipelined requests"
            responses = one_shot(port, data)
            if len(responses) != n:
                self.failures_seen.append(f"case {case} [{desc}]: {len(responses)} responses to {n} requests")
        elif kind == 5:   # chunked body, well-formed or not
            chunks = [body[i:i + 7] for i in range(0, len(body), 7)]
            enc = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
            if rng.random() < 0.5:
                enc = enc[:rng.randrange(len(enc))]
            hdrs = dict(headers)
            hdrs["Transfer-Encoding"] = "chunked"
            data = build_request("POST", "/", hdrs, b"", content_length=False) + enc
            desc = f"chunked body ({len(enc)} bytes)"
            responses = one_shot(port, data)
        elif kind == 6:   # client goes silent mid-request: no answer expected, nothing may break
            data = build_request("POST", "/", headers, body, content_length=False)
            data = data[:-2] + b"Content-Length: " + str(len(body) + 50).encode() + b"\r\n\r\n" + body
            desc = "lying Content-Length, client silent"
            responses = one_shot(port, data, shutdown_write=False, timeout=0.15)
        elif kind == 7:   # headers cut off at a random point
            data = build_request("POST", "/", headers, body)
            data = data[:rng.randrange(len(data))]
            desc = f"request cut at {len(data)}"
            responses = one_shot(port, data)
        elif kind == 8:   # invalid UTF-8 / control characters in the request line
            path = b"/" + rng.choice(INVALID_UTF8) + b"?Action=" + rng.choice(INVALID_UTF8)
            data = build_request(b"POST", path, headers, body)
            desc = f"request line bytes {path!r}"
            responses = one_shot(port, data)
        else:             # body with invalid UTF-8 in every string
            bad = body.replace(b'"', b'"' + rng.choice(INVALID_UTF8), 3)
            data = build_request("POST", "/", headers, bad)
            desc = "invalid UTF-8 strings"
            responses = one_shot(port, data)
        for resp in responses:
            self.check(case, desc, resp)

    # The run -------------------------------------------------------------------------------------------
    def test_fuzz(self):
        print(f"\n  fuzz seed {SEED} (GANTRY_FUZZ_SEED to change), up to {TARGET_CASES} cases or {TIME_BUDGET:.0f} s")
        self.failures_seen = []
        self.statuses = {}
        only = os.environ.get("GANTRY_FUZZ_CASES")
        cases = [int(c) for c in only.split(",")] if only else range(TARGET_CASES)
        generators = [(0.55, self.case_mutated_body), (0.17, self.case_headers), (0.13, self.case_method_path),
                      (0.15, self.case_raw)]
        conn = RawConnection(self.server.port)
        start = time.monotonic()
        done = 0
        spent = {}
        for case in cases:
            if time.monotonic() - start > TIME_BUDGET:
                break
            rng = random.Random(SEED * 1_000_003 + case)
            x = rng.random()
            for weight, gen in generators:
                if x < weight:
                    break
                x -= weight
            t0 = time.monotonic()
            try:
                gen(rng, conn, case)
            except (Malformed, TimeoutError, socket.timeout, ConnectionError, OSError) as e:
                conn.close()
                self.failures_seen.append(f"case {case} [{gen.__name__}]: {type(e).__name__}: {str(e)[:300]}")
            done += 1
            spent[gen.__name__] = spent.get(gen.__name__, 0.0) + time.monotonic() - t0
            if case % 250 == 0 and not self.server.alive():
                break
            if len(self.failures_seen) > 200:
                break
        conn.close()
        elapsed = time.monotonic() - start
        print(f"  {done} cases in {elapsed:.1f} s; statuses {dict(sorted(self.statuses.items()))}")
        print("  seconds per generator: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(spent.items())))
        log = self.server.read_log()
        self.assertTrue(self.server.alive(), "the server died:\n" + log[-4000:])
        for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer", "unhandled exception"):
            self.assertNotIn(marker, log, log[log.find(marker) - 2000:log.find(marker) + 3000])
        if self.failures_seen:
            self.fail(f"{len(self.failures_seen)} bad answers (seed {SEED}); first ones:\n" +
                      "\n".join(self.failures_seen[:25]))
        if not only:
            self.assertGreaterEqual(done, MIN_CASES, "too few cases ran in the time budget")
        # Still serving: health, and a normal boto3 call.
        self.assertTrue(self.server.healthy())
        ecs = self.server.client("ecs")
        arn = ecs.create_cluster(clusterName="after-fuzz")["cluster"]["clusterArn"]
        self.assertEqual(ecs.describe_clusters(clusters=["after-fuzz"])["clusters"][0]["clusterArn"], arn)
        td = ecs.register_task_definition(family="after-fuzz", containerDefinitions=[
            {"name": "c", "image": "busybox", "memory": 128}])
        self.assertEqual(td["taskDefinition"]["status"], "ACTIVE")
        # And it shuts down cleanly (under ASan this is also where leaks are reported).
        proc = self.server.proc
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        log = self.server.read_log()
        self.assertEqual(code, 0, log[-4000:])
        self.assertNotIn("LeakSanitizer", log)


if __name__ == "__main__":
    unittest.main()

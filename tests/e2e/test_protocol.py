"""The edge and the protocol layer: routing, AWS-shaped errors in every protocol, request limits,
the /_gantry endpoints and graceful shutdown. Raw requests go through harness.raw_signed so the
server sees exactly the bytes a test means to send; boto3 checks that real clients parse our errors."""
import http.client
import json
import re
import signal
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError

import harness
from harness import ACCESS_KEY, GantryServer, ServerTestCase, raw_signed

ECS_PREFIX = "AmazonEC2ContainerServiceV20141113"
ECS_JSON = "application/x-amz-json-1.1"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def ecs(server, operation, body=b"{}", headers=None):
    return raw_signed(server, "ecs", f"{ECS_PREFIX}.{operation}", body, headers=headers)


def unsigned(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def xml_code(body):
    """The error code of a query (<ErrorResponse>) or EC2 (<Response><Errors>) error body."""
    root = ET.fromstring(body)
    for el in root.iter():
        if el.tag.split("}")[-1] == "Code":
            return el.text
    return None


class JsonProtocolTest(ServerTestCase):
    """json 1.1 (ECS) routing by X-Amz-Target and its errors."""

    def assertJsonError(self, result, status, code):
        st, headers, body = result
        self.assertEqual(st, status, body)
        doc = json.loads(body)
        self.assertEqual(doc["__type"], code, doc)
        self.assertTrue(doc.get("message"), doc)
        self.assertTrue(headers.get("x-amzn-requestid"), headers)
        self.assertEqual(headers.get("content-type"), ECS_JSON)
        return doc

    def test_unknown_target_prefix(self):
        doc = self.assertJsonError(raw_signed(self.server, "ecs", "NoSuchService_20200101.ListThings", b"{}"), 400,
                                   "UnknownOperationException")
        self.assertIn("NoSuchService_20200101", doc["message"])

    def test_target_without_dot(self):
        self.assertJsonError(raw_signed(self.server, "ecs", "ListClusters", b"{}"), 400, "UnknownOperationException")

    def test_known_service_unknown_operation(self):
        doc = self.assertJsonError(ecs(self.server, "ListFlyingSaucers"), 400, "UnknownOperationException")
        self.assertIn("ListFlyingSaucers", doc["message"])

    def test_real_operation_not_implemented_raw(self):
        doc = self.assertJsonError(ecs(self.server, "CreateService", b'{"serviceName":"x"}'), 501,
                                   "UnsupportedOperation")
        self.assertIn("CreateService", doc["message"])

    def test_unimplemented_operations_through_boto3(self):
        calls = [
            ("ecs", lambda c: c.create_service(serviceName="web", taskDefinition="web:1"), "CreateService"),
            ("ecr", lambda c: c.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"}), "StartImageScan"),
            ("logs", lambda c: c.describe_metric_filters(logGroupName="/ecs/app"), "DescribeMetricFilters"),
        ]
        for service, call, op in calls:
            with self.subTest(service=service):
                with self.assertRaises(ClientError) as cm:
                    call(self.server.client(service))
                err = cm.exception.response
                self.assertEqual(err["Error"]["Code"], "UnsupportedOperation")
                self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 501)
                self.assertIn(op, err["Error"]["Message"])
                self.assertTrue(err["ResponseMetadata"]["RequestId"])

    def test_malformed_json(self):
        for body in (b"{not json", b'{"clusterName": "a"', b"\xff\xfe{}", b'{"a":1}}', b"nul"):
            with self.subTest(body=body):
                self.assertJsonError(ecs(self.server, "CreateCluster", body), 400, "SerializationException")

    def test_body_not_an_object(self):
        for body in (b"[]", b'[{"clusterName":"a"}]', b'"text"', b"42", b"null", b"true"):
            with self.subTest(body=body):
                self.assertJsonError(ecs(self.server, "ListClusters", body), 400, "SerializationException")
        self.assertEqual(self.server.client("ecs").list_clusters()["clusterArns"], [])

    def test_wrong_member_type(self):
        doc = self.assertJsonError(ecs(self.server, "CreateCluster", b'{"clusterName": 5}'), 400,
                                   "SerializationException")
        self.assertIn("clusterName", doc["message"])

    def test_empty_body_list_clusters(self):
        for body in (b"", b"  \n"):
            with self.subTest(body=body):
                status, headers, out = ecs(self.server, "ListClusters", body)
                self.assertEqual(status, 200, out)
                self.assertEqual(json.loads(out), {"clusterArns": []})
                self.assertEqual(headers["content-type"], ECS_JSON)

    def test_no_authorization(self):
        status, headers, body = unsigned(self.server, "POST", "/", b"{}", {
            "Content-Type": ECS_JSON, "X-Amz-Target": f"{ECS_PREFIX}.ListClusters"})
        self.assertEqual(status, 403, body)
        self.assertEqual(json.loads(body)["__type"], "MissingAuthenticationTokenException")
        self.assertTrue(headers.get("x-amzn-requestid"))

    def test_no_authorization_query_protocol(self):
        status, headers, body = unsigned(self.server, "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15",
                                         {"Content-Type": FORM})
        self.assertEqual(status, 403, body)
        self.assertEqual(xml_code(body), "MissingAuthenticationTokenException")

    def _with_authorization(self, authorization, date="20240101T000000Z"):
        headers = {"Content-Type": ECS_JSON, "X-Amz-Target": f"{ECS_PREFIX}.ListClusters",
                   "Authorization": authorization}
        if date:
            headers["X-Amz-Date"] = date
        return unsigned(self.server, "POST", "/", b"{}", headers)

    def test_authorization_not_sigv4(self):
        for auth in ("Basic dXNlcjpwYXNz", "Bearer abc", "AWS " + ACCESS_KEY + ":c2lnbmF0dXJl", "AWS4-HMAC-SHA1 x"):
            with self.subTest(auth=auth):
                self.assertJsonError(self._with_authorization(auth), 400, "IncompleteSignatureException")

    def test_authorization_missing_parts(self):
        cred = f"Credential={ACCESS_KEY}/20240101/us-east-1/ecs/aws4_request"
        cases = {
            "Credential": f"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abcdef",
            "SignedHeaders": f"AWS4-HMAC-SHA256 {cred}, Signature=abcdef",
            "Signature": f"AWS4-HMAC-SHA256 {cred}, SignedHeaders=host;x-amz-date",
        }
        for missing, auth in cases.items():
            with self.subTest(missing=missing):
                doc = self.assertJsonError(self._with_authorization(auth), 400, "IncompleteSignatureException")
                self.assertIn(missing, doc["message"])
        doc = self.assertJsonError(
            self._with_authorization(f"AWS4-HMAC-SHA256 {cred}, SignedHeaders=host, Signature=ab", date=None), 400,
            "IncompleteSignatureException")
        self.assertIn("Date", doc["message"])

    def test_bad_credential_scope(self):
        for scope in (f"{ACCESS_KEY}/2024-1-1/us-east-1/ecs/aws4_request",
                      f"{ACCESS_KEY}/2024010x/us-east-1/ecs/aws4_request",
                      f"{ACCESS_KEY}/20241301/us-east-1/ecs/aws4_request",
                      f"{ACCESS_KEY}/20240101/us-east-1/ecs",
                      f"{ACCESS_KEY}/20240101/us-east-1/ecs/aws5_request",
                      f"{ACCESS_KEY}/20240101//ecs/aws4_request",
                      f"/20240101/us-east-1/ecs/aws4_request",
                      "garbage"):
            with self.subTest(scope=scope):
                auth = f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host;x-amz-date, Signature=abcdef"
                self.assertJsonError(self._with_authorization(auth), 400, "IncompleteSignatureException")

    def test_request_ids_unique(self):
        ids = []
        for i in range(20):
            op = ("ListClusters", "NoSuchOp", "CreateService")[i % 3]
            _, headers, _ = ecs(self.server, op)
            ids.append(headers.get("x-amzn-requestid"))
        _, headers, _ = unsigned(self.server, "POST", "/", b"{}", {"X-Amz-Target": f"{ECS_PREFIX}.ListClusters"})
        ids.append(headers.get("x-amzn-requestid"))
        for rid in ids:
            self.assertTrue(rid)
            uuid.UUID(rid)
        self.assertEqual(len(set(ids)), len(ids))

    def test_boto3_error_code_and_status(self):
        client = self.server.client("ecs")
        with self.assertRaises(ClientError) as cm:
            client.delete_cluster(cluster="never-created")
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "ClusterNotFoundException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertTrue(err["ResponseMetadata"]["RequestId"])
        with self.assertRaises(client.exceptions.ClusterNotFoundException):
            client.delete_cluster(cluster="never-created")
        with self.assertRaises(ClientError) as cm:
            client.describe_task_definition(taskDefinition="missing:1")
        self.assertEqual(cm.exception.response["Error"]["Code"], "ClientException")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_nesting_limit(self):
        def nested(depth):
            return ('{"clusterName":"n","tags":[' + '{"key":' * depth + '"x"' + "}" * depth + "]}").encode()
        doc = self.assertJsonError(ecs(self.server, "CreateCluster", nested(100)), 400, "SerializationException")
        self.assertIn("JSON", doc["message"])
        self.assertJsonError(ecs(self.server, "CreateCluster", b"[" * 5000 + b"]" * 5000), 400,
                             "SerializationException")
        self.assertJsonError(ecs(self.server, "CreateCluster", b'{"a":' * 100000), 400, "SerializationException")
        # Below the limit the body parses; the model then says what is wrong with it.
        status, _, body = ecs(self.server, "CreateCluster", nested(10))
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["__type"], "SerializationException")
        self.assertIn("tags", json.loads(body)["message"])

    def test_body_too_large(self):
        big = b'{"clusterName":"' + b"a" * (16 * 1024 * 1024 + 16) + b'"}'
        try:
            status, headers, body = ecs(self.server, "CreateCluster", big)
        except (ConnectionResetError, BrokenPipeError) as e:
            self.fail(f"the server dropped the connection instead of answering 413: {e!r}")
        self.assertEqual(status, 413, body[:200])
        self.assertEqual(json.loads(body)["__type"], "RequestEntityTooLargeException")
        self.assertTrue(headers.get("x-amzn-requestid"))
        self.assertTrue(self.server.healthy())
        # Exactly at the limit the body is read (and then judged by the protocol layer).
        at_limit = b'{"clusterName":"' + b"a" * (16 * 1024 * 1024 - 18) + b'"}'
        self.assertEqual(len(at_limit), 16 * 1024 * 1024)
        status, _, body = ecs(self.server, "CreateCluster", at_limit)
        self.assertEqual(status, 400, body[:300])
        self.assertEqual(self.server.client("ecs").list_clusters()["clusterArns"], [])

    def test_body_too_large_chunked(self):
        # No Content-Length: the limit must hold for a chunked body as it streams in.
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        chunk = b"x" * (1024 * 1024)

        def chunks():
            for _ in range(20):
                yield chunk
        try:
            conn.request("POST", "/", body=chunks(), encode_chunked=True, headers={
                "Content-Type": ECS_JSON, "X-Amz-Target": f"{ECS_PREFIX}.CreateCluster"})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 413)
        except (ConnectionResetError, BrokenPipeError) as e:
            self.fail(f"the server dropped the connection instead of answering 413: {e!r}")
        finally:
            conn.close()
        self.assertTrue(self.server.healthy())

    def test_keep_alive_many_requests(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            for i in range(50):
                conn.request("GET", "/_gantry/health")
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                json.loads(resp.read())
                # HEAD must not send a body, or the next response on the connection is garbled.
                conn.request("HEAD", "/_gantry/health")
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.read(), b"")
        finally:
            conn.close()


    def test_error_after_head_on_same_connection_has_body(self):
        # The edge's own 400 after a HEAD on a keep-alive connection must carry its body again.
        import socket
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        try:
            s.sendall(b"HEAD /_gantry/health HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET / HTTP/1.1\r\nHost: x\r\nBad\x01Header: y\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        head, rest = data.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), data)
        self.assertTrue(rest.startswith(b"HTTP/1.1 400"), data)
        headers, body = rest.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"Content-Length: (\d+)", headers).group(1))
        self.assertEqual(len(body), length, data)
        self.assertEqual(json.loads(body)["__type"], "BadRequest")
        self.assertIn(b"x-amzn-RequestId", headers)

    def test_invalid_utf8_quoted_in_errors(self):
        # Error messages quote the client's bytes; the bodies must stay valid UTF-8 JSON/XML.
        import socket
        # Raw bytes no signer would send: on a server that reads signatures without verifying them.
        plain = GantryServer(extra_args=["--auth", "off"]).start()
        self.addCleanup(plain.cleanup)
        for target, service in ((b"\xff\xfe.Op", b"ecs"), (ECS_PREFIX.encode() + b".\xc3\x28Op", b"ecs")):
            req = (b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: " + target +
                   b"\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AK/20260101/"
                   b"us-east-1/" + service + b"/aws4_request, SignedHeaders=host, Signature=00\r\n"
                   b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
            s = socket.create_connection(("127.0.0.1", plain.port), timeout=10)
            data = b""
            try:
                s.sendall(req)
                while chunk := s.recv(65536):
                    data += chunk
            finally:
                s.close()
            body = data.split(b"\r\n\r\n", 1)[1]
            doc = json.loads(body.decode("utf-8"))
            self.assertEqual(doc["__type"], "UnknownOperationException", doc)
        status, _, body = raw_signed(self.server, "ecs", f"{ECS_PREFIX}.ListClusters",
                                     b'{"nextToken": ["' + "\u00e9".encode() * 100 + b'"]}')
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body.decode("utf-8"))["__type"], "SerializationException")
        status, _, body = raw_signed(self.server, "iam", None, b"Action=\xff\xfe\x01Bad&Version=2010-05-08",
                                     headers={"Content-Type": FORM})
        self.assertEqual(status, 400)
        self.assertEqual(xml_code(body), "InvalidAction")


class QueryAndRestProtocolTest(ServerTestCase):
    """IAM/STS (query), EC2 beyond the default VPC, Lambda and Scheduler (rest-json): what is not implemented, said
    in each dialect."""

    def assertUnsupported(self, call, op=None):
        with self.assertRaises(ClientError) as cm:
            call()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "UnsupportedOperation", err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 501)
        self.assertTrue(err["ResponseMetadata"]["RequestId"], err)
        if op:
            self.assertIn(op, err["Error"]["Message"])

    def test_sts_and_iam(self):
        self.assertUnsupported(lambda: self.server.client("sts").get_federation_token(Name="fed"),
                               "GetFederationToken")
        self.assertUnsupported(lambda: self.server.client("iam").list_instance_profiles(), "ListInstanceProfiles")
        self.assertUnsupported(lambda: self.server.client("iam").create_instance_profile(
            InstanceProfileName="r"), "CreateInstanceProfile")

    def test_query_error_shape(self):
        status, headers, body = raw_signed(self.server, "sts", None, b"Action=GetFederationToken&Name=fed&Version=2011-06-15",
                                           headers={"Content-Type": FORM})
        self.assertEqual(status, 501)
        self.assertTrue(headers["content-type"].startswith("text/xml"))
        root = ET.fromstring(body)
        self.assertEqual(root.tag.split("}")[-1], "ErrorResponse")
        self.assertEqual(xml_code(body), "UnsupportedOperation")
        rid = [el.text for el in root.iter() if el.tag.split("}")[-1] == "RequestId"]
        self.assertEqual(rid, [headers["x-amzn-requestid"]])

    def test_query_action_in_url(self):
        status, _, body = raw_signed(self.server, "iam", None, b"", method="GET",
                                     path="/?Action=ListInstanceProfiles&Version=2010-05-08",
                                     headers={"Content-Type": FORM})
        self.assertEqual(status, 501, body)
        self.assertEqual(xml_code(body), "UnsupportedOperation")

    def test_query_unknown_action(self):
        for service, version in (("iam", "2010-05-08"), ("sts", "2011-06-15"), ("ec2", "2016-11-15")):
            with self.subTest(service=service):
                status, _, body = raw_signed(self.server, service, None,
                                             f"Action=ConjureUnicorn&Version={version}".encode(),
                                             headers={"Content-Type": FORM})
                self.assertEqual(status, 400, body)
                self.assertEqual(xml_code(body), "InvalidAction")
                self.assertIn(b"ConjureUnicorn", body)
        status, _, body = raw_signed(self.server, "iam", None, b"Version=2010-05-08", headers={"Content-Type": FORM})
        self.assertEqual(status, 400, body)
        self.assertEqual(xml_code(body), "InvalidAction")

    def test_query_unknown_action_through_botocore_parser(self):
        # botocore must read our InvalidAction like AWS's: a ClientError with that code.
        client = self.server.client("iam")
        client.meta.events.register("before-sign.iam.ListUsers",
                                    lambda request, **kw: setattr(request, "data", b"Action=ListUsersX&Version=2010-05-08"))
        with self.assertRaises(ClientError) as cm:
            client.list_users()
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidAction")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_ec2(self):
        self.assertUnsupported(lambda: self.server.client("ec2").run_instances(
            ImageId="ami-12345678", MinCount=1, MaxCount=1), "RunInstances")
        status, _, body = raw_signed(self.server, "ec2", None,
                                     b"Action=RunInstances&Version=2016-11-15&ImageId=ami-1&MinCount=1&MaxCount=1",
                                     headers={"Content-Type": FORM})
        self.assertEqual(status, 501)
        root = ET.fromstring(body)
        self.assertEqual(root.tag, "Response")
        self.assertIsNotNone(root.find("Errors/Error/Code"))
        self.assertEqual(root.find("Errors/Error/Code").text, "UnsupportedOperation")
        self.assertTrue(root.find("RequestID").text)

    def test_rest_json(self):
        # Lambda and Scheduler speak rest-json (routes from the models' request URIs); what Gantry does not
        # implement of them answers UnsupportedOperation in rest-json's shape.
        self.assertEqual(self.server.client("lambda").list_functions()["Functions"], [])
        self.assertEqual(self.server.client("scheduler").list_schedules()["Schedules"], [])
        self.assertUnsupported(lambda: self.server.client("lambda").get_runtime_management_config(FunctionName="f"),
                               "GetRuntimeManagementConfig")
        status, headers, body = raw_signed(self.server, "lambda", None, b"", method="GET",
                                           path="/2015-03-31/functions/")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"Functions": []})
        self.assertTrue(headers["x-amzn-requestid"])
        status, headers, body = raw_signed(self.server, "lambda", None, b"", method="GET",
                                           path="/2015-03-31/no-such-thing")
        self.assertEqual(status, 404, body)
        self.assertEqual(headers["x-amzn-errortype"], "UnknownOperationException")
        status, headers, body = raw_signed(self.server, "lambda", None, b"", method="GET",
                                           path="/2015-03-31/functions/?MaxItems=abc")
        self.assertEqual(status, 400, body)
        self.assertIn(b"MaxItems", body)
        status, headers, body = raw_signed(self.server, "lambda", None, b"{not json", method="POST",
                                           path="/2015-03-31/functions",
                                           headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400, body)
        self.assertEqual(headers["x-amzn-errortype"], "SerializationException")

    def test_unknown_signing_service(self):
        status, headers, body = raw_signed(self.server, "nosuchservice", None, b"", method="GET", path="/things")
        self.assertEqual(status, 400, body)
        self.assertTrue(headers["x-amzn-requestid"])
        self.assertIn(b"nosuchservice", body)


class GantryEndpointsTest(ServerTestCase):
    def test_health(self):
        with urllib.request.urlopen(self.server.endpoint + "/_gantry/health", timeout=5) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
            doc = json.load(r)
        self.assertEqual(doc["status"], "ok")
        self.assertRegex(doc["version"], r"^\d+\.\d+\.\d+")
        self.assertIsInstance(doc["uptime_seconds"], (int, float))
        time.sleep(0.05)
        with urllib.request.urlopen(self.server.endpoint + "/_gantry/health", timeout=5) as r:
            self.assertGreater(json.load(r)["uptime_seconds"], doc["uptime_seconds"])

    def test_unknown_gantry_path(self):
        for method, path in (("GET", "/_gantry/nope"), ("GET", "/_gantry/reset"), ("POST", "/_gantry/health")):
            with self.subTest(path=path, method=method):
                status, _, body = unsigned(self.server, method, path)
                self.assertEqual(status, 404, body)
                self.assertIn("error", json.loads(body))

    def test_reset_wipes_every_region(self):
        east = self.server.client("ecs", region="us-east-1")
        west = self.server.client("ecs", region="eu-west-1")
        east.create_cluster(clusterName="a", tags=[{"key": "k", "value": "v"}])
        west.create_cluster(clusterName="b")
        west.register_task_definition(family="f", containerDefinitions=[{"name": "c", "image": "busybox",
                                                                           "memory": 128}])
        self.assertEqual(len(east.list_clusters()["clusterArns"]), 1)
        self.assertEqual(len(west.list_clusters()["clusterArns"]), 1)
        self.server.reset()
        self.assertEqual(east.list_clusters()["clusterArns"], [])
        self.assertEqual(west.list_clusters()["clusterArns"], [])
        self.assertEqual(west.list_task_definitions()["taskDefinitionArns"], [])
        self.assertEqual(west.list_task_definition_families()["families"], [])
        # Revisions start again at 1 after a reset.
        td = west.register_task_definition(family="f", containerDefinitions=[{"name": "c", "image": "busybox",
                                                                                "memory": 128}])
        self.assertEqual(td["taskDefinition"]["revision"], 1)

    def test_reset_time_with_many_resources(self):
        n = 2000
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        signer = SigV4Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "ecs", harness.REGION)

        def call(op, doc):
            body = json.dumps(doc).encode()
            req = AWSRequest(method="POST", url=self.server.endpoint + "/", data=body,
                             headers={"Content-Type": ECS_JSON, "X-Amz-Target": f"{ECS_PREFIX}.{op}"})
            signer.add_auth(req)
            conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
            resp = conn.getresponse()
            out = resp.read()
            self.assertEqual(resp.status, 200, out)

        try:
            for i in range(n):
                call("CreateCluster", {"clusterName": f"c{i}", "tags": [{"key": "i", "value": str(i)}]})
                call("RegisterTaskDefinition", {"family": f"fam{i % 200}", "containerDefinitions": [
                    {"name": "app", "image": "busybox", "memory": 128}]})
        finally:
            conn.close()
        client = self.server.client("ecs")
        self.assertEqual(len(client.list_clusters(maxResults=100)["clusterArns"]), 100)
        start = time.perf_counter()
        self.server.reset()
        elapsed_ms = (time.perf_counter() - start) * 1000
        print(f"\n  reset of {n} clusters + {n} task definitions took {elapsed_ms:.1f} ms (round trip)")
        self.assertEqual(client.list_clusters()["clusterArns"], [])
        self.assertEqual(client.list_task_definitions()["taskDefinitionArns"], [])
        self.assertEqual(client.list_task_definition_families()["families"], [])


class ServerWithoutResetTest(unittest.TestCase):
    def test_reset_is_404_without_flag(self):
        server = GantryServer(enable_reset=False).start()
        try:
            client = server.client("ecs")
            client.create_cluster(clusterName="keep")
            with self.assertRaises(urllib.error.HTTPError) as cm:
                server.reset()
            self.assertEqual(cm.exception.code, 404)
            self.assertEqual(len(client.list_clusters()["clusterArns"]), 1)
            self.assertTrue(server.alive())
        finally:
            server.cleanup()


class ShutdownTest(unittest.TestCase):
    def _check_signal(self, sig):
        server = GantryServer().start()
        try:
            server.client("ecs").create_cluster(clusterName="before-shutdown")
            # An idle keep-alive connection and one mid-request must not hold the process up.
            idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            idle.request("GET", "/_gantry/health")
            idle.getresponse().read()
            import socket
            partial = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            partial.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            time.sleep(0.1)
            started = time.monotonic()
            proc = server.proc
            proc.send_signal(sig)
            try:
                code = proc.wait(timeout=5)
            except Exception:
                self.fail(f"the server did not exit within 5 s of {sig!r}:\n{server.read_log()[-2000:]}")
            elapsed = time.monotonic() - started
            print(f"\n  {signal.Signals(sig).name}: exit {code} after {elapsed * 1000:.0f} ms")
            self.assertEqual(code, 0, server.read_log()[-2000:])
            self.assertIn("shutting down", server.read_log())
            idle.close()
            partial.close()
            server.stop()
            # What was written before the signal is there after a restart.
            server.start()
            self.assertEqual(len(server.client("ecs").list_clusters()["clusterArns"]), 1)
        finally:
            server.cleanup()

    def test_sigterm(self):
        self._check_signal(signal.SIGTERM)

    def test_sigint(self):
        self._check_signal(signal.SIGINT)

    def test_sigterm_during_load(self):
        server = GantryServer().start()
        stop = threading.Event()
        errors = []

        def load():
            client = server.client("ecs")
            i = 0
            while not stop.is_set():
                try:
                    client.list_clusters()
                    client.create_cluster(clusterName=f"load{threading.get_ident() % 1000}-{i}")
                except Exception as e:  # connection errors once the server is gone
                    errors.append(e)
                    return
                i += 1
        threads = [threading.Thread(target=load) for _ in range(4)]
        try:
            for t in threads:
                t.start()
            time.sleep(0.5)
            proc = server.proc
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=5)
            except Exception:
                self.fail("the server did not exit within 5 s of SIGTERM under load")
            self.assertEqual(code, 0, server.read_log()[-2000:])
        finally:
            stop.set()
            for t in threads:
                t.join()
            server.cleanup()


if __name__ == "__main__":
    unittest.main()

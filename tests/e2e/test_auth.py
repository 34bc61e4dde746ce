"""Signature Version 4 on every request: the root key pair handed to the server works; a wrong secret,
an unknown key, a skewed clock, a changed body and an expired presigned URL are each refused with the
error AWS sends in that service's protocol; the first start writes the root credentials (0600) in the
AWS shared-credentials format and keeps them across restarts; `--auth off` accepts any signer."""
import datetime
import json
import os
import stat
import time
import unittest
from unittest import mock

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import harness
from harness import ACCESS_KEY, REGION, SECRET_KEY, GantryServer, ServerTestCase

ECS_TARGET = "AmazonEC2ContainerServiceV20141113.ListClusters"


def send(server, service, body, headers, access_key=ACCESS_KEY, secret=SECRET_KEY, when=None, tamper=None,
         path="/", with_headers=False):
    """Signs a POST with the given key pair (at time `when`, default now) and sends it; returns
    (status, body bytes), and the response headers too when asked."""
    import http.client

    request = AWSRequest(method="POST", url=server.endpoint + path, data=body, headers=dict(headers))
    signer = SigV4Auth(Credentials(access_key, secret), service, REGION)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    if tamper:
        body = tamper(body)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=dict(request.headers.items()))
        resp = conn.getresponse()
        body = resp.read()
        if with_headers:
            return resp.status, body, {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, body
    finally:
        conn.close()


def json_error(body):
    return json.loads(body)["__type"], json.loads(body).get("message", "")


def xml_code(body):
    text = body.decode()
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]


class SignatureTest(ServerTestCase):
    json_headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": ECS_TARGET}
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def test_root_credentials_sign_every_protocol(self):
        self.assertEqual(send(self.server, "ecs", b"{}", self.json_headers)[0], 200)
        status, body = send(self.server, "ec2", b"Action=DescribeVpcs&Version=2016-11-15", self.form)
        self.assertEqual(status, 200, body)
        status, body = send(self.server, "iam", b"Action=ListRoles&Version=2010-05-08", self.form)
        self.assertEqual(status, 200, body)
        # An IAM operation Gantry lacks: past authentication it is UnsupportedOperation, not an auth error.
        status, body = send(self.server, "iam", b"Action=ListInstanceProfiles&Version=2010-05-08", self.form)
        self.assertEqual((status, xml_code(body)), (501, "UnsupportedOperation"), body)

    def test_get_caller_identity_names_the_signer(self):
        who = self.server.client("sts").get_caller_identity()
        self.assertEqual((who["Account"], who["Arn"], who["UserId"]),
                         (harness.ACCOUNT, f"arn:aws:iam::{harness.ACCOUNT}:root", harness.ACCOUNT))
        p = self.server.aws("sts", "get-caller-identity")
        self.assertEqual(json.loads(p.stdout)["Arn"], f"arn:aws:iam::{harness.ACCOUNT}:root")

    def test_wrong_secret_is_refused_in_each_dialect(self):
        wrong = "x" * 40
        status, body = send(self.server, "ecs", b"{}", self.json_headers, secret=wrong)
        self.assertEqual((status, json_error(body)[0]), (400, "InvalidSignatureException"), body)
        self.assertIn("does not match the signature you provided", json_error(body)[1])
        self.assertNotIn(SECRET_KEY, body.decode())
        status, body = send(self.server, "ec2", b"Action=DescribeVpcs&Version=2016-11-15", self.form, secret=wrong)
        self.assertEqual((status, xml_code(body)), (401, "AuthFailure"), body)
        status, body = send(self.server, "iam", b"Action=ListRoles&Version=2010-05-08", self.form, secret=wrong)
        self.assertEqual((status, xml_code(body)), (403, "SignatureDoesNotMatch"), body)
        status, body, headers = send(self.server, "lambda", b"", {}, secret=wrong, path="/2015-03-31/functions/",
                                     with_headers=True)
        self.assertEqual(status, 403, body)
        self.assertEqual(headers.get("x-amzn-errortype", "").split(":")[0], "InvalidSignatureException", headers)

    def test_unknown_access_key_is_refused(self):
        other = "AKIA" + "Z" * 16
        status, body = send(self.server, "ecs", b"{}", self.json_headers, access_key=other)
        self.assertEqual((status, json_error(body)[0]), (400, "UnrecognizedClientException"), body)
        self.assertEqual(json_error(body)[1], "The security token included in the request is invalid.")
        status, body = send(self.server, "iam", b"Action=ListRoles&Version=2010-05-08", self.form, access_key=other)
        self.assertEqual((status, xml_code(body)), (403, "InvalidClientTokenId"), body)
        status, body = send(self.server, "ec2", b"Action=DescribeVpcs&Version=2016-11-15", self.form, access_key=other)
        self.assertEqual((status, xml_code(body)), (401, "AuthFailure"), body)
        # boto3 surfaces it as the same ClientError an AWS endpoint would give.
        ecs = boto3.client("ecs", endpoint_url=self.server.endpoint, region_name=REGION, aws_access_key_id=other,
                           aws_secret_access_key=SECRET_KEY, config=Config(retries={"max_attempts": 1}))
        with self.assertRaises(ClientError) as cm:
            ecs.list_clusters()
        self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")

    def test_changed_body_is_refused(self):
        status, body = send(self.server, "ecs", b'{"maxResults": 5}', self.json_headers,
                            tamper=lambda b: b'{"maxResults": 6}')
        self.assertEqual((status, json_error(body)[0]), (400, "InvalidSignatureException"), body)

    def test_a_credential_scope_changed_after_signing_is_refused(self):
        # The scope (date/region/service) is part of what is signed: moving a signature to another region or
        # service breaks it, as in AWS.
        import http.client
        for old, new in (("/us-east-1/", "/eu-west-1/"), ("/ecs/aws4_request", "/sts/aws4_request")):
            req = AWSRequest(method="POST", url=f"{self.server.endpoint}/", data=b"{}", headers=self.json_headers)
            SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "ecs", REGION).add_auth(req)
            headers = dict(req.headers.items())
            self.assertIn(old, headers["Authorization"])
            headers["Authorization"] = headers["Authorization"].replace(old, new)
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
            try:
                conn.request("POST", "/", body=b"{}", headers=headers)
                resp = conn.getresponse()
                status, body = resp.status, resp.read()
            finally:
                conn.close()
            self.assertEqual((status, json_error(body)[0]), (400, "InvalidSignatureException"), (old, body))

    def test_skewed_clock_is_refused(self):
        past = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
        status, body = send(self.server, "ecs", b"{}", self.json_headers, when=past)
        self.assertEqual((status, json_error(body)[0]), (400, "InvalidSignatureException"), body)
        self.assertIn("Signature expired", json_error(body)[1])
        status, body = send(self.server, "ec2", b"Action=DescribeVpcs&Version=2016-11-15", self.form, when=past)
        self.assertEqual((status, xml_code(body)), (400, "RequestExpired"), body)
        future = past + datetime.timedelta(minutes=40)
        status, body = send(self.server, "ecs", b"{}", self.json_headers, when=future)
        self.assertIn("Signature not yet current", json_error(body)[1])
        # Within 15 minutes is fine, as in AWS.
        near = past + datetime.timedelta(minutes=10)
        self.assertEqual(send(self.server, "ecs", b"{}", self.json_headers, when=near)[0], 200)

    def test_presigned_url_works_until_it_expires(self):
        import urllib.error
        import urllib.request
        ec2 = self.server.client("ec2")
        # botocore presigns query-protocol calls for POST (with an empty body), so that is how they are sent.
        post = lambda u: urllib.request.Request(u, data=b"", method="POST")  # noqa: E731
        url = ec2.generate_presigned_url("describe_vpcs", ExpiresIn=2)
        with urllib.request.urlopen(post(url), timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"<vpcSet>", r.read())
        time.sleep(3)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(post(url), timeout=10)
        self.assertEqual(cm.exception.code, 400)
        self.assertEqual(xml_code(cm.exception.read()), "RequestExpired")
        # A presigned URL whose query was changed no longer verifies.
        url = ec2.generate_presigned_url("describe_vpcs", Params={"VpcIds": ["vpc-1"]}, ExpiresIn=60)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(post(url.replace("vpc-1", "vpc-2")), timeout=10)
        self.assertEqual((cm.exception.code, xml_code(cm.exception.read())), (401, "AuthFailure"))


class CredentialsFileTest(unittest.TestCase):
    def test_first_start_writes_root_credentials_that_work_and_last(self):
        server = GantryServer(root_credentials=False).start()
        try:
            path = os.path.join(server.data_dir, "credentials")
            self.assertTrue(os.path.exists(path), server.read_log()[-2000:])
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            self.assertIn(f"AWS_SHARED_CREDENTIALS_FILE={path}", server.read_log())
            with open(path) as f:
                text = f.read()
            self.assertIn("[default]", text)
            env = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=path, AWS_CONFIG_FILE="/dev/null")
            for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
                env.pop(k, None)
            with mock.patch.dict(os.environ, env, clear=True):
                ecs = boto3.session.Session(region_name=REGION).client("ecs", endpoint_url=server.endpoint)
                ecs.create_cluster(clusterName="from-file")
            self.assertNotIn(text.split("aws_secret_access_key = ")[1].strip(), server.read_log())
            # The harness's keys are not the root's here.
            with self.assertRaises(ClientError) as cm:
                server.client("ecs").list_clusters()
            self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")
            server.restart()
            with open(path) as f:
                self.assertEqual(f.read(), text, "a restart keeps the root credentials")
            with mock.patch.dict(os.environ, env, clear=True):
                ecs = boto3.session.Session(region_name=REGION).client("ecs", endpoint_url=server.endpoint)
                self.assertEqual(len(ecs.list_clusters()["clusterArns"]), 1)
        finally:
            server.cleanup()

    def test_auth_off_accepts_any_signer_and_says_so(self):
        server = GantryServer(extra_args=["--auth", "off"]).start()
        try:
            self.assertIn("--auth off", server.read_log())
            ecs = boto3.client("ecs", endpoint_url=server.endpoint, region_name=REGION,
                               aws_access_key_id="AKIAANYTHING0000", aws_secret_access_key="whatever")
            ecs.create_cluster(clusterName="anyone")
        finally:
            server.cleanup()

    def test_bad_root_credentials_flag_is_refused_at_start(self):
        server = GantryServer(root_credentials=False, extra_args=["--root-credentials", "not-a-pair"])
        with self.assertRaises(RuntimeError) as cm:
            server.start()
        self.assertIn("ACCESS_KEY_ID:SECRET_ACCESS_KEY", str(cm.exception))
        server.cleanup()


if __name__ == "__main__":
    unittest.main()

"""ECR under IAM: repository policies (Set/Get/DeleteRepositoryPolicy) weighed with the caller's identity
policies, and the registry under /v2/ authorizing every call as the caller its token was issued to
(ecr:BatchGetImage to pull a manifest, ecr:PutImage to push one, ...), with OCI's DENIED."""
import base64
import json
import unittest

import oci_helpers
from harness import ACCOUNT, REGION, ServerTestCase

READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"


class EcrIamTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.iam, self.ecr = self.server.client("iam"), self.server.client("ecr")

    def new_user(self, name, *managed):
        self.iam.create_user(UserName=name)
        for arn in managed:
            self.iam.attach_user_policy(UserName=name, PolicyArn=arn)
        return self.iam.create_access_key(UserName=name)["AccessKey"]

    def password_of(self, key):
        token = self.client_as("ecr", key).get_authorization_token()["authorizationData"][0]["authorizationToken"]
        return base64.b64decode(token).decode().split(":", 1)[1]

    def test_repository_policy_api(self):
        self.ecr.create_repository(repositoryName="app")
        self.assertAwsError("RepositoryPolicyNotFoundException", self.ecr.get_repository_policy, repositoryName="app")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]})
        out = self.ecr.set_repository_policy(repositoryName="app", policyText=policy)
        self.assertEqual((out["repositoryName"], out["registryId"]), ("app", ACCOUNT))
        self.assertEqual(json.loads(self.ecr.get_repository_policy(repositoryName="app")["policyText"]),
                         json.loads(policy))
        msg = self.assertAwsError("InvalidParameterException", self.ecr.set_repository_policy, repositoryName="app",
                                  policyText='{"Statement": [{"Effect": "Allow"}]}')
        self.assertIn("Invalid repository policy", msg)
        self.assertAwsError("RepositoryNotFoundException", self.ecr.set_repository_policy, repositoryName="nope",
                            policyText=policy)
        self.ecr.delete_repository_policy(repositoryName="app")
        self.assertAwsError("RepositoryPolicyNotFoundException", self.ecr.delete_repository_policy,
                            repositoryName="app")

    def test_a_repository_policy_grants_and_denies(self):
        for name in ("shared", "private"):
            self.ecr.create_repository(repositoryName=name)
        reader = self.new_user("reader")
        ecr = self.client_as("ecr", reader)
        self.assertDenied(lambda: ecr.list_images(repositoryName="shared"), "AccessDeniedException",
                          "ecr:ListImages")
        self.ecr.set_repository_policy(repositoryName="shared", policyText=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/reader"},
                "Action": ["ecr:ListImages", "ecr:DescribeImages"]}]}))
        self.assertEqual(ecr.list_images(repositoryName="shared")["imageIds"], [])  # the policy alone allows
        msg = self.assertDenied(lambda: ecr.list_images(repositoryName="private"), "AccessDeniedException",
                                "ecr:ListImages")
        self.assertIn(f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/private", msg)
        # An explicit Deny in the repository's policy beats an administrator's identity policy.
        admin = self.new_user("admin", "arn:aws:iam::aws:policy/AdministratorAccess")
        self.client_as("ecr", admin).list_images(repositoryName="private")
        self.ecr.set_repository_policy(repositoryName="private", policyText=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
                                                    "Condition": {"StringNotEquals": {"aws:username": "nobody"}}}]}))
        msg = self.assertDenied(lambda: self.client_as("ecr", admin).list_images(repositoryName="private"),
                                "AccessDeniedException", "ecr:ListImages")
        self.assertIn("explicit deny in a resource-based policy", msg)

    def test_the_registry_authorizes_as_the_token_owner(self):
        self.ecr.create_repository(repositoryName="app")
        root = oci_helpers.Registry(self.server, oci_helpers.registry_password(self.server))
        manifest, _, _ = root.push_image("app", "v1", {"hello.txt": b"hi"})

        key = self.new_user("ci")
        self.iam.put_user_policy(UserName="ci", PolicyName="token", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]}))
        reg = oci_helpers.Registry(self.server, self.password_of(key))
        status, _, body = reg.request("GET", "/v2/app/manifests/v1",
                                      headers={"Accept": oci_helpers.OCI_MANIFEST})
        self.assertEqual((status, oci_helpers.oci_error_code(body)), (403, "DENIED"), body)
        self.assertIn("is not authorized to perform: ecr:BatchGetImage", json.loads(body)["errors"][0]["message"])

        self.iam.attach_user_policy(UserName="ci", PolicyArn=READ_ONLY)
        status, _, body = reg.request("GET", "/v2/app/manifests/v1", headers={"Accept": oci_helpers.OCI_MANIFEST})
        self.assertEqual((status, body), (200, manifest))
        status, _, body = reg.put_manifest("app", "v2", manifest)
        self.assertEqual((status, oci_helpers.oci_error_code(body)), (403, "DENIED"), body)
        self.assertIn("ecr:PutImage", json.loads(body)["errors"][0]["message"])

        self.iam.attach_user_policy(UserName="ci", PolicyArn=POWER_USER)
        status, _, body = reg.put_manifest("app", "v2", manifest)
        self.assertEqual(status, 201, body)
        # A deleted user's token stops working for everything but the token check itself.
        self.iam.detach_user_policy(UserName="ci", PolicyArn=READ_ONLY)
        self.iam.detach_user_policy(UserName="ci", PolicyArn=POWER_USER)
        status, _, body = reg.request("GET", "/v2/app/manifests/v2", headers={"Accept": oci_helpers.OCI_MANIFEST})
        self.assertEqual(status, 403, body)

    def test_a_cross_repository_mount_needs_pull_rights_on_the_source(self):
        for name in ("secret", "mine"):
            self.ecr.create_repository(repositoryName=name)
        root = oci_helpers.Registry(self.server, oci_helpers.registry_password(self.server))
        _, _, layer = root.push_image("secret", "v1", {"key.txt": b"do not copy"})
        key = self.new_user("pusher")
        self.iam.put_user_policy(UserName="pusher", PolicyName="push-mine", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {"Effect": "Allow", "Action": "ecr:*", "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/mine"}]}))
        reg = oci_helpers.Registry(self.server, self.password_of(key))
        digest = oci_helpers.sha256(layer)
        status, headers, _ = reg.request("POST", f"/v2/mine/blobs/uploads/?mount={digest}&from=secret")
        self.assertEqual(status, 202, "the mount must not happen: an ordinary upload starts instead")
        status, _, _ = reg.request("HEAD", f"/v2/mine/blobs/{digest}")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()

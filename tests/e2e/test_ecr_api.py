"""The ECR API (json 1.1) through boto3: repositories, images, tags, authorization tokens and their
errors. Blobs are uploaded through the registry (/v2/), as docker or skopeo would, so PutImage and
the image listings see real layers."""
import base64
import datetime
import json
import unittest

import oci_helpers
from harness import ACCOUNT, REGION, ServerTestCase
from oci_helpers import DOCKER_MANIFEST, OCI_MANIFEST, Registry, sha256


class EcrApiTest(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.ecr = self.server.client("ecr")

    def registry(self):
        return Registry(self.server, oci_helpers.registry_password(self.server))

    def blobs_for(self, repo, files, manifest_type=OCI_MANIFEST):
        """Uploads config and layer of a one-layer image; returns its manifest bytes."""
        manifest, config, layer = oci_helpers.image(files, manifest_type=manifest_type)
        reg = self.registry()
        reg.push_blob(repo, config)
        reg.push_blob(repo, layer)
        return manifest, config, layer

    # --- repositories --------------------------------------------------------------------------------
    def test_create_repository(self):
        repo = self.ecr.create_repository(
            repositoryName="team/app", imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
            encryptionConfiguration={"encryptionType": "KMS"},
            tags=[{"Key": "env", "Value": "dev"}])["repository"]
        self.assertEqual(repo["repositoryArn"], f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team/app")
        self.assertEqual(repo["registryId"], ACCOUNT)
        self.assertEqual(repo["repositoryUri"], f"{ACCOUNT}.dkr.ecr.{REGION}.localhost:{self.server.port}/team/app")
        self.assertEqual(repo["imageTagMutability"], "IMMUTABLE")
        self.assertEqual(repo["imageScanningConfiguration"], {"scanOnPush": True})
        self.assertEqual(repo["encryptionConfiguration"]["encryptionType"], "KMS")
        self.assertTrue(repo["encryptionConfiguration"]["kmsKey"].startswith("arn:aws:kms:"))
        self.assertIsInstance(repo["createdAt"], datetime.datetime)
        tags = self.ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
        self.assertEqual(tags, [{"Key": "env", "Value": "dev"}])
        described = self.ecr.describe_repositories(repositoryNames=["team/app"])["repositories"]
        self.assertEqual(described[0]["repositoryUri"], repo["repositoryUri"])
        self.assertEqual(described[0]["imageScanningConfiguration"], {"scanOnPush": True})

    def test_create_repository_errors(self):
        self.ecr.create_repository(repositoryName="app")
        self.assertAwsError("RepositoryAlreadyExistsException", self.ecr.create_repository, repositoryName="app")
        for bad in ("UPPER", "a//b", "-ab", "ab-", "a..b", "x/"):
            with self.subTest(name=bad):
                self.assertAwsError("InvalidParameterException", self.ecr.create_repository, repositoryName=bad)
        self.assertAwsError("InvalidParameterException", self.ecr.create_repository, repositoryName="other",
                            registryId="111111111111")
        self.assertAwsError("InvalidTagParameterException", self.ecr.create_repository, repositoryName="tagged",
                            tags=[{"Key": "aws:x", "Value": "v"}])
        self.assertAwsError("TooManyTagsException", self.ecr.create_repository, repositoryName="tagged",
                            tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])

    def test_describe_repositories_paging(self):
        names = [f"repo-{i:02d}" for i in range(7)]
        for n in reversed(names):
            self.ecr.create_repository(repositoryName=n)
        seen, token = [], None
        while True:
            kwargs = {"maxResults": 3, **({"nextToken": token} if token else {})}
            page = self.ecr.describe_repositories(**kwargs)
            self.assertLessEqual(len(page["repositories"]), 3)
            seen += [r["repositoryName"] for r in page["repositories"]]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(seen, names)
        paginated = [r["repositoryName"] for p in self.ecr.get_paginator("describe_repositories").paginate(
            PaginationConfig={"PageSize": 2}) for r in p["repositories"]]
        self.assertEqual(paginated, names)
        self.assertAwsError("InvalidParameterException", self.ecr.describe_repositories, nextToken="garbage")

    def test_describe_missing_repository(self):
        msg = self.assertAwsError("RepositoryNotFoundException", self.ecr.describe_repositories,
                                  repositoryNames=["nope"])
        self.assertIn("nope", msg)
        self.assertAwsError("RepositoryNotFoundException", self.ecr.list_images, repositoryName="nope")
        self.assertAwsError("RepositoryNotFoundException", self.ecr.delete_repository, repositoryName="nope")

    def test_delete_repository(self):
        self.ecr.create_repository(repositoryName="app")
        manifest, _, _ = self.blobs_for("app", {"a": b"1"})
        self.ecr.put_image(repositoryName="app", imageManifest=manifest.decode(), imageTag="v1")
        self.assertAwsError("RepositoryNotEmptyException", self.ecr.delete_repository, repositoryName="app")
        deleted = self.ecr.delete_repository(repositoryName="app", force=True)["repository"]
        self.assertEqual(deleted["repositoryName"], "app")
        self.assertEqual(self.ecr.describe_repositories()["repositories"], [])
        self.ecr.create_repository(repositoryName="empty")
        self.ecr.delete_repository(repositoryName="empty")

    def test_put_image_tag_mutability(self):
        self.ecr.create_repository(repositoryName="app")
        out = self.ecr.put_image_tag_mutability(repositoryName="app", imageTagMutability="IMMUTABLE")
        self.assertEqual(out["imageTagMutability"], "IMMUTABLE")
        self.assertEqual(out["registryId"], ACCOUNT)
        repo = self.ecr.describe_repositories(repositoryNames=["app"])["repositories"][0]
        self.assertEqual(repo["imageTagMutability"], "IMMUTABLE")
        self.assertAwsError("RepositoryNotFoundException", self.ecr.put_image_tag_mutability,
                            repositoryName="nope", imageTagMutability="MUTABLE")

    # --- images --------------------------------------------------------------------------------------
    def test_put_image_and_describe(self):
        self.ecr.create_repository(repositoryName="app")
        manifest, config, layer = self.blobs_for("app", {"hello.txt": b"hi\n"})
        digest = sha256(manifest)
        image = self.ecr.put_image(repositoryName="app", imageManifest=manifest.decode(), imageTag="v1")["image"]
        self.assertEqual(image["imageId"], {"imageDigest": digest, "imageTag": "v1"})
        self.assertEqual(image["imageManifestMediaType"], OCI_MANIFEST)
        self.assertEqual(image["imageManifest"], manifest.decode())
        self.assertAwsError("ImageAlreadyExistsException", self.ecr.put_image, repositoryName="app",
                            imageManifest=manifest.decode(), imageTag="v1")
        self.ecr.put_image(repositoryName="app", imageManifest=manifest.decode(), imageTag="latest")
        detail = self.ecr.describe_images(repositoryName="app")["imageDetails"]
        self.assertEqual(len(detail), 1)
        d = detail[0]
        self.assertEqual(d["imageDigest"], digest)
        self.assertEqual(sorted(d["imageTags"]), ["latest", "v1"])
        self.assertEqual(d["imageSizeInBytes"], len(config) + len(layer))
        self.assertEqual(d["imageManifestMediaType"], OCI_MANIFEST)
        self.assertEqual(d["artifactMediaType"], "application/vnd.oci.image.config.v1+json")
        self.assertEqual(d["registryId"], ACCOUNT)
        self.assertIsInstance(d["imagePushedAt"], datetime.datetime)
        by_tag = self.ecr.describe_images(repositoryName="app", imageIds=[{"imageTag": "latest"}])["imageDetails"]
        self.assertEqual(by_tag[0]["imageDigest"], digest)
        self.assertAwsError("ImageNotFoundException", self.ecr.describe_images, repositoryName="app",
                            imageIds=[{"imageTag": "missing"}])

    def test_put_image_errors(self):
        self.ecr.create_repository(repositoryName="app")
        manifest, _, _ = oci_helpers.image({"x": b"never uploaded"})
        msg = self.assertAwsError("LayersNotFoundException", self.ecr.put_image, repositoryName="app",
                                  imageManifest=manifest.decode(), imageTag="v1")
        self.assertIn("sha256:", msg)
        manifest, _, _ = self.blobs_for("app", {"y": b"1"})
        self.assertAwsError("ImageDigestDoesNotMatchException", self.ecr.put_image, repositoryName="app",
                            imageManifest=manifest.decode(), imageDigest="sha256:" + "0" * 64)
        self.assertAwsError("InvalidParameterException", self.ecr.put_image, repositoryName="app",
                            imageManifest='{"schemaVersion": 1}')
        self.assertAwsError("InvalidParameterException", self.ecr.put_image, repositoryName="app",
                            imageManifest=manifest.decode(), imageManifestMediaType=DOCKER_MANIFEST)
        self.assertAwsError("RepositoryNotFoundException", self.ecr.put_image, repositoryName="nope",
                            imageManifest=manifest.decode())
        index = json.dumps({"schemaVersion": 2, "mediaType": oci_helpers.OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "1" * 64, "size": 10,
             "platform": {"os": "linux", "architecture": "amd64"}}]})
        self.assertAwsError("ReferencedImagesNotFoundException", self.ecr.put_image, repositoryName="app",
                            imageManifest=index)

    def test_images_an_index_lists_cannot_be_deleted_before_it(self):
        self.ecr.create_repository(repositoryName="multi")
        child, _, _ = self.blobs_for("multi", {"arch": b"amd64"})
        self.ecr.put_image(repositoryName="multi", imageManifest=child.decode(), imageTag="amd64")
        index = json.dumps({"schemaVersion": 2, "mediaType": oci_helpers.OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sha256(child), "size": len(child),
             "platform": {"os": "linux", "architecture": "amd64"}}]})
        self.ecr.put_image(repositoryName="multi", imageManifest=index, imageTag="latest")
        index_digest = sha256(index.encode())

        out = self.ecr.batch_delete_image(repositoryName="multi", imageIds=[{"imageDigest": sha256(child)}])
        self.assertEqual(out["imageIds"], [])
        self.assertEqual(out["failures"][0]["failureCode"], "ImageReferencedByManifestList")
        self.assertIn(index_digest, out["failures"][0]["failureReason"])
        # By tag: the tag goes, the image the index needs stays.
        out = self.ecr.batch_delete_image(repositoryName="multi", imageIds=[{"imageTag": "amd64"}])
        self.assertEqual(out["failures"], [])
        kept = self.ecr.describe_images(repositoryName="multi", imageIds=[{"imageDigest": sha256(child)}])
        self.assertEqual(kept["imageDetails"][0].get("imageTags", []), [])
        # The registry's DELETE by digest refuses the same way.
        status, _, body = self.registry().request("DELETE", f"/v2/multi/manifests/{sha256(child)}")
        self.assertEqual(status, 403, body)
        self.assertIn(b"DENIED", body)
        # Once the index is gone, so can the image be.
        self.ecr.batch_delete_image(repositoryName="multi", imageIds=[{"imageDigest": index_digest}])
        out = self.ecr.batch_delete_image(repositoryName="multi", imageIds=[{"imageDigest": sha256(child)}])
        self.assertEqual(out["failures"], [])
        self.assertEqual(self.ecr.list_images(repositoryName="multi")["imageIds"], [])

    def test_immutable_tags(self):
        self.ecr.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE")
        first, _, _ = self.blobs_for("app", {"a": b"1"})
        second, _, _ = self.blobs_for("app", {"a": b"2"})
        self.ecr.put_image(repositoryName="app", imageManifest=first.decode(), imageTag="v1")
        msg = self.assertAwsError("ImageTagAlreadyExistsException", self.ecr.put_image, repositoryName="app",
                                  imageManifest=second.decode(), imageTag="v1")
        self.assertIn("immutable", msg)
        self.ecr.put_image_tag_mutability(repositoryName="app", imageTagMutability="MUTABLE")
        self.ecr.put_image(repositoryName="app", imageManifest=second.decode(), imageTag="v1")
        tagged = self.ecr.describe_images(repositoryName="app", imageIds=[{"imageTag": "v1"}])["imageDetails"]
        self.assertEqual(tagged[0]["imageDigest"], sha256(second))

    def test_list_images_filter_and_paging(self):
        self.ecr.create_repository(repositoryName="app")
        digests = []
        for i in range(5):
            manifest, _, _ = self.blobs_for("app", {"f": str(i).encode()})
            self.ecr.put_image(repositoryName="app", imageManifest=manifest.decode(), **({"imageTag": f"t{i}"} if i < 3 else {}))
            digests.append(sha256(manifest))
        ids = [i for p in self.ecr.get_paginator("list_images").paginate(
            repositoryName="app", PaginationConfig={"PageSize": 2}) for i in p["imageIds"]]
        self.assertEqual(len(ids), 5)
        self.assertEqual(sorted(i["imageDigest"] for i in ids), sorted(digests))
        tagged = self.ecr.list_images(repositoryName="app", filter={"tagStatus": "TAGGED"})["imageIds"]
        self.assertEqual(sorted(i["imageTag"] for i in tagged), ["t0", "t1", "t2"])
        untagged = self.ecr.list_images(repositoryName="app", filter={"tagStatus": "UNTAGGED"})["imageIds"]
        self.assertEqual(sorted(i["imageDigest"] for i in untagged), sorted(digests[3:]))
        self.assertTrue(all("imageTag" not in i for i in untagged))
        described = self.ecr.describe_images(repositoryName="app", filter={"tagStatus": "UNTAGGED"})["imageDetails"]
        self.assertEqual(len(described), 2)
        pages = list(self.ecr.get_paginator("describe_images").paginate(repositoryName="app",
                                                                       PaginationConfig={"PageSize": 2}))
        self.assertEqual(sum(len(p["imageDetails"]) for p in pages), 5)
        self.assertEqual(len(pages), 3)

    def test_batch_get_image(self):
        self.ecr.create_repository(repositoryName="app")
        manifest, _, _ = self.blobs_for("app", {"a": b"1"})
        self.ecr.put_image(repositoryName="app", imageManifest=manifest.decode(), imageTag="v1")
        out = self.ecr.batch_get_image(repositoryName="app", imageIds=[
            {"imageTag": "v1"}, {"imageDigest": sha256(manifest)}, {"imageTag": "missing"},
            {"imageDigest": sha256(manifest), "imageTag": "other"}])
        self.assertEqual(len(out["images"]), 2)
        for img in out["images"]:
            self.assertEqual(img["imageManifest"], manifest.decode())
            self.assertEqual(img["imageManifestMediaType"], OCI_MANIFEST)
            self.assertEqual(img["imageId"]["imageDigest"], sha256(manifest))
        codes = sorted(f["failureCode"] for f in out["failures"])
        self.assertEqual(codes, ["ImageNotFound", "ImageNotFound"])
        refused = self.ecr.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}],
                                           acceptedMediaTypes=[DOCKER_MANIFEST])
        self.assertEqual(refused["images"], [])
        self.assertEqual(refused["failures"][0]["failureCode"], "ImageNotFound")
        self.assertIn(OCI_MANIFEST, refused["failures"][0]["failureReason"])

    def test_batch_delete_image(self):
        self.ecr.create_repository(repositoryName="app")
        first, _, _ = self.blobs_for("app", {"a": b"1"})
        second, _, _ = self.blobs_for("app", {"a": b"2"})
        self.ecr.put_image(repositoryName="app", imageManifest=first.decode(), imageTag="a")
        self.ecr.put_image(repositoryName="app", imageManifest=first.decode(), imageTag="b")
        self.ecr.put_image(repositoryName="app", imageManifest=second.decode(), imageTag="c")
        out = self.ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageTag": "a"}, {"imageTag": "zzz"}])
        self.assertEqual(out["imageIds"], [{"imageDigest": sha256(first), "imageTag": "a"}])
        self.assertEqual(out["failures"][0]["failureCode"], "ImageNotFound")
        self.assertEqual(out["failures"][0]["imageId"], {"imageTag": "zzz"})
        # The image keeps its other tag; removing the last tag removes the image.
        self.assertEqual(len(self.ecr.describe_images(repositoryName="app")["imageDetails"]), 2)
        self.ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageTag": "b"}])
        remaining = self.ecr.describe_images(repositoryName="app")["imageDetails"]
        self.assertEqual([d["imageDigest"] for d in remaining], [sha256(second)])
        out = self.ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": sha256(second)}])
        self.assertEqual(out["imageIds"], [{"imageDigest": sha256(second), "imageTag": "c"}])
        self.assertEqual(self.ecr.list_images(repositoryName="app")["imageIds"], [])
        bad = self.ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": "sha256:nothex"}])
        self.assertEqual(bad["failures"][0]["failureCode"], "InvalidImageDigest")

    # --- authorization and tags ----------------------------------------------------------------------
    def test_get_authorization_token(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        data = self.ecr.get_authorization_token()["authorizationData"]
        self.assertEqual(len(data), 1)
        user, password = base64.b64decode(data[0]["authorizationToken"]).decode().split(":", 1)
        self.assertEqual(user, "AWS")
        self.assertGreaterEqual(len(password), 32)
        lifetime = data[0]["expiresAt"] - before
        self.assertTrue(datetime.timedelta(hours=11, minutes=59) < lifetime < datetime.timedelta(hours=12, minutes=1))
        self.assertEqual(data[0]["proxyEndpoint"], f"http://{ACCOUNT}.dkr.ecr.{REGION}.localhost:{self.server.port}")
        other = self.ecr.get_authorization_token(registryIds=[ACCOUNT])["authorizationData"][0]
        self.assertNotEqual(other["authorizationToken"], data[0]["authorizationToken"])
        self.assertAwsError("InvalidParameterException", self.ecr.get_authorization_token,
                            registryIds=["111111111111"])

    def test_resource_tags(self):
        arn = self.ecr.create_repository(repositoryName="app")["repository"]["repositoryArn"]
        self.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
        self.ecr.tag_resource(resourceArn=arn, tags=[{"Key": "a", "Value": "3"}])
        self.assertEqual(self.ecr.list_tags_for_resource(resourceArn=arn)["tags"],
                         [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}])
        self.ecr.untag_resource(resourceArn=arn, tagKeys=["a", "missing"])
        self.assertEqual(self.ecr.list_tags_for_resource(resourceArn=arn)["tags"], [{"Key": "b", "Value": "2"}])
        self.assertAwsError("InvalidTagParameterException", self.ecr.tag_resource, resourceArn=arn,
                            tags=[{"Key": "aws:reserved", "Value": "x"}])
        self.assertAwsError("TooManyTagsException", self.ecr.tag_resource, resourceArn=arn,
                            tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
        self.assertAwsError("InvalidParameterException", self.ecr.list_tags_for_resource, resourceArn="not-an-arn")
        self.assertAwsError("RepositoryNotFoundException", self.ecr.list_tags_for_resource,
                            resourceArn=f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/missing")
        self.ecr.delete_repository(repositoryName="app")
        self.ecr.create_repository(repositoryName="app")
        self.assertEqual(self.ecr.list_tags_for_resource(resourceArn=arn)["tags"], [])

    def test_regions_are_separate(self):
        self.ecr.create_repository(repositoryName="app")
        west = self.server.client("ecr", region="us-west-2")
        self.assertEqual(west.describe_repositories()["repositories"], [])
        uri = west.create_repository(repositoryName="app")["repository"]["repositoryUri"]
        self.assertTrue(uri.startswith(f"{ACCOUNT}.dkr.ecr.us-west-2.localhost:"))


if __name__ == "__main__":
    unittest.main()

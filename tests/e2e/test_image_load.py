"""`gantry image load`: the test images (scripts/make-test-images) imported offline into an ECR
repository of a data directory, then served by a server started on that directory — described by the
ECR API and pulled back through the registry."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import oci_helpers
from harness import BINARY, REPO, GantryServer

IMAGES = os.environ.get("GANTRY_TEST_IMAGES_DIR") or os.path.join(REPO, "build", "test-images")
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def setUpModule():
    if not os.path.exists(os.path.join(IMAGES, "images.json")):
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "make-test-images"), "--out", IMAGES,
                        "--quiet"], check=True, capture_output=True, timeout=300)


def load(data_dir, *args):
    return subprocess.run([BINARY, "image", "load", *args, "--data-dir", data_dir], capture_output=True, text=True,
                          timeout=300)


class ImageLoadTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="gantry-load-")
        with open(os.path.join(IMAGES, "images.json")) as f:
            self.expected = json.load(f)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.cleanup()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def start(self):
        self.server = GantryServer(data_dir=self.data_dir).start()
        return self.server

    def test_docker_archive_into_new_repository(self):
        p = load(self.data_dir, os.path.join(IMAGES, "busybox.docker.tar"), "--repository", "busybox",
                 "--create-repository")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("loaded busybox@sha256:", p.stdout)
        self.assertIn("tags: latest", p.stdout)
        server = self.start()
        ecr = server.client("ecr")
        images = ecr.describe_images(repositoryName="busybox")["imageDetails"]
        self.assertEqual(len(images), 1)
        self.assertEqual(images[0]["imageTags"], ["latest"])
        self.assertEqual(images[0]["imageManifestMediaType"], DOCKER_V2)
        self.assertGreater(images[0]["imageSizeInBytes"], 500_000)
        # The registry serves it: the manifest by tag, and every blob it names with the right digest.
        reg = oci_helpers.Registry(server, oci_helpers.registry_password(server))
        status, headers, body = reg.request("GET", "/v2/busybox/manifests/latest", headers={"Accept": DOCKER_V2})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["docker-content-digest"], images[0]["imageDigest"])
        manifest = json.loads(body)
        for desc in [manifest["config"], *manifest["layers"]]:
            status, _, blob = reg.request("GET", f"/v2/busybox/blobs/{desc['digest']}")
            self.assertEqual(status, 200)
            self.assertEqual(oci_helpers.sha256(blob), desc["digest"])
            self.assertEqual(len(blob), desc["size"])

    def test_oci_archive_with_tag_override(self):
        p = load(self.data_dir, os.path.join(IMAGES, "python.oci.tar"), "--repository", "python-batch-job",
                 "--tag", "v1", "--create-repository")
        self.assertEqual(p.returncode, 0, p.stderr)
        server = self.start()
        images = server.client("ecr").describe_images(repositoryName="python-batch-job")["imageDetails"]
        self.assertEqual([i["imageTags"] for i in images], [["v1"]])
        self.assertEqual(images[0]["imageDigest"], self.expected["images"]["python"]["oci"]["manifest_digest"])
        self.assertEqual(images[0]["imageManifestMediaType"], OCI_MANIFEST)

    def test_multi_arch_index_resolves_to_amd64(self):
        p = load(self.data_dir, os.path.join(IMAGES, "busybox-multi.oci.tar"), "--repository", "multi",
                 "--create-repository")
        self.assertEqual(p.returncode, 0, p.stderr)
        server = self.start()
        reg = oci_helpers.Registry(server, oci_helpers.registry_password(server))
        status, headers, body = reg.request("GET", "/v2/multi/manifests/latest", headers={"Accept": OCI_MANIFEST})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["mediaType"], OCI_MANIFEST)
        listed = server.client("ecr").list_images(repositoryName="multi")["imageIds"]
        self.assertEqual(len(listed), 3, listed)  # the index and its two images

    def test_refuses_a_missing_repository_and_a_running_server(self):
        p = load(self.data_dir, os.path.join(IMAGES, "busybox.docker.tar"), "--repository", "nope")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--create-repository", p.stderr)
        self.start()
        p = load(self.data_dir, os.path.join(IMAGES, "busybox.docker.tar"), "--repository", "busybox",
                 "--create-repository")
        self.assertEqual(p.returncode, 1)
        self.assertIn("in use by another gantry process", p.stderr)
        self.assertEqual(self.server.client("ecr").describe_repositories()["repositories"], [])

    def test_refuses_garbage_and_changes_nothing(self):
        bad = os.path.join(self.data_dir, "bad.tar")
        with open(bad, "wb") as f:
            f.write(b"this is not a tar archive" * 100)
        p = load(self.data_dir, bad, "--repository", "busybox", "--create-repository")
        self.assertEqual(p.returncode, 1)
        self.assertIn("import", p.stderr)
        server = self.start()
        self.assertEqual(server.client("ecr").list_images(repositoryName="busybox")["imageIds"], [])

    def test_second_server_on_the_same_data_dir_is_refused(self):
        self.start()
        p = subprocess.run([BINARY, "server", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("in use by another gantry process", p.stderr)


if __name__ == "__main__":
    unittest.main()

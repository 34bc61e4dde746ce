"""The test images of scripts/make-test-images (busybox, python, busybox-multi) pushed to Gantry's registry
with skopeo from both sources — the OCI layout and the `docker save` archive — pulled back and compared
byte for byte with what was pushed, and described through the ECR API.

skopeo only ever talks to 127.0.0.1: it runs with an empty environment (no proxy variables), its own
HOME/XDG_RUNTIME_DIR/auth file and an empty registries.conf, and every address is 127.0.0.1:PORT."""
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

import oci_helpers
from harness import REPO, ServerTestCase
from oci_helpers import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, sha256

SKOPEO = shutil.which("skopeo")
IMAGES = os.environ.get("GANTRY_TEST_IMAGES_DIR") or os.path.join(REPO, "build", "test-images")
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"


def setUpModule():
    if SKOPEO and not os.path.exists(os.path.join(IMAGES, "images.json")):
        p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "make-test-images"), "--out", IMAGES,
                            "--quiet"], capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"scripts/make-test-images failed ({p.returncode}): {p.stderr[-3000:]}")


def file_digest(path, decompress=False):
    """sha256 of a file's bytes (of its gzip-decompressed bytes with decompress=True and a gzip file)."""
    h = hashlib.sha256()
    with open(path, "rb") as raw:
        gz = decompress and raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        f = gzip.GzipFile(fileobj=raw) if gz else raw
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


@unittest.skipUnless(SKOPEO, "skopeo is not installed")
class TestImagesTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        with open(os.path.join(IMAGES, "images.json")) as f:
            cls.images = json.load(f)["images"]
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.ecr = self.server.client("ecr")
        self.password = oci_helpers.registry_password(self.server)
        self.creds = f"AWS:{self.password}"
        self.reg = oci_helpers.Registry(self.server, self.password)
        self.tmp = tempfile.mkdtemp(prefix="gantry-test-images-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    # --- helpers -------------------------------------------------------------------------------------
    def skopeo(self, *args):
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        conf = os.path.join(home, "registries.conf")
        if not os.path.exists(conf):
            with open(conf, "w") as f:
                f.write("# empty: no search registries, no mirrors\n")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "XDG_RUNTIME_DIR": home,
               "REGISTRY_AUTH_FILE": os.path.join(home, "auth.json"), "CONTAINERS_REGISTRIES_CONF": conf}
        p = subprocess.run([SKOPEO, "--insecure-policy", *args], env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, f"skopeo {' '.join(args)} failed: {p.stderr[-3000:]}")
        return p.stdout

    def address(self, repo, tag):
        return f"docker://127.0.0.1:{self.server.port}/{repo}:{tag}"

    def push(self, source, repo, tag, *flags):
        self.skopeo("copy", *flags, "--dest-tls-verify=false", "--dest-creds", self.creds, source,
                    self.address(repo, tag))

    def pull(self, repo, tag, *flags):
        """Pulls repo:tag into a fresh OCI layout with --preserve-digests; returns the layout dir."""
        dst = tempfile.mkdtemp(prefix="pulled-", dir=self.tmp)
        self.skopeo("copy", "--preserve-digests", *flags, "--src-tls-verify=false", "--src-creds", self.creds,
                    self.address(repo, tag), f"oci:{dst}:{tag}")
        return dst

    @staticmethod
    def blob_path(layout, digest):
        return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])

    def blob(self, layout, digest):
        with open(self.blob_path(layout, digest), "rb") as f:
            data = f.read()
        self.assertEqual(sha256(data), digest, f"{layout}: blob {digest} does not hash to its name")
        return data

    def blob_names(self, layout):
        return sorted(os.listdir(os.path.join(layout, "blobs", "sha256")))

    def top_descriptor(self, layout, ref):
        with open(os.path.join(layout, "index.json")) as f:
            index = json.load(f)
        found = [d for d in index["manifests"]
                 if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref]
        self.assertEqual(len(found), 1, f"{layout}/index.json names {ref!r} {len(found)} times: {index}")
        return found[0]

    def assert_same_blobs(self, source, pulled):
        """Every blob of `pulled` is in `source` with the same bytes, and nothing is missing."""
        self.assertEqual(self.blob_names(pulled), self.blob_names(source))
        for name in self.blob_names(source):
            with open(os.path.join(source, "blobs", "sha256", name), "rb") as a, \
                    open(os.path.join(pulled, "blobs", "sha256", name), "rb") as b:
                self.assertTrue(a.read() == b.read(), f"blob sha256:{name} differs after the round trip")

    def describe(self, repo, tag):
        details = self.ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": tag}])["imageDetails"]
        self.assertEqual(len(details), 1)
        return details[0]

    def docker_archive_members(self, name):
        """(config bytes, [layer.tar digest]) read from the docker archive itself."""
        with tarfile.open(os.path.join(IMAGES, f"{name}.docker.tar")) as tf:
            manifest = json.load(tf.extractfile("manifest.json"))
            self.assertEqual(len(manifest), 1)
            config = tf.extractfile(manifest[0]["Config"]).read()
            layers = []
            for member in manifest[0]["Layers"]:
                h = hashlib.sha256()
                f = tf.extractfile(member)
                while chunk := f.read(1 << 20):
                    h.update(chunk)
                layers.append("sha256:" + h.hexdigest())
        return config, layers

    # --- round trips ---------------------------------------------------------------------------------
    def round_trip_oci_layout(self, name, repo, tag):
        """Pushes oci:IMAGES/name:latest to repo:tag; the registry must hold and return it unchanged."""
        expected = self.images[name]["oci"]
        source = os.path.join(IMAGES, expected["layout"])
        descriptor = self.top_descriptor(source, expected["ref"])
        self.assertEqual(descriptor["digest"], expected["manifest_digest"])
        manifest = self.blob(source, expected["manifest_digest"])
        self.push(f"oci:{source}:{expected['ref']}", repo, tag)

        detail = self.describe(repo, tag)
        self.assertEqual(detail["imageTags"], [tag])
        self.assertEqual(detail["imageDigest"], expected["manifest_digest"])
        self.assertEqual(detail["imageManifestMediaType"], OCI_MANIFEST)
        self.assertEqual(detail["imageSizeInBytes"],
                         expected["config_size"] + sum(l["size"] for l in expected["layers"]))
        status, headers, body = self.reg.request("GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_MANIFEST})
        self.assertEqual(status, 200)
        self.assertEqual(body, manifest)
        self.assertEqual(headers["docker-content-digest"], expected["manifest_digest"])

        pulled = self.pull(repo, tag)
        self.assertEqual(self.top_descriptor(pulled, tag)["digest"], expected["manifest_digest"])
        self.assertEqual(self.blob(pulled, expected["manifest_digest"]), manifest)
        self.assertEqual(self.blob(pulled, expected["config_digest"]), self.blob(source, expected["config_digest"]))
        for layer in expected["layers"]:
            self.assertEqual(file_digest(self.blob_path(pulled, layer["digest"])), layer["digest"])
            self.assertEqual(os.path.getsize(self.blob_path(pulled, layer["digest"])), layer["size"])
        self.assert_same_blobs(source, pulled)

    def round_trip_docker_archive(self, name, repo, tag):
        """Pushes docker-archive:IMAGES/name.docker.tar to repo:tag. skopeo compresses the archive's plain
        layers as it pushes, so the manifest and layer blobs are new; the config and the diff IDs are not."""
        expected = self.images[name]["docker"]
        config, archive_layers = self.docker_archive_members(name)
        self.assertEqual(sha256(config), expected["config_digest"])
        self.assertEqual(archive_layers, [l["digest"] for l in expected["layers"]])
        self.push(f"docker-archive:{os.path.join(IMAGES, expected['archive'])}", repo, tag)

        status, headers, manifest = self.reg.request("GET", f"/v2/{repo}/manifests/{tag}",
                                                     headers={"Accept": DOCKER_MANIFEST})
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], DOCKER_MANIFEST)
        parsed = json.loads(manifest)
        self.assertEqual(parsed["config"]["digest"], expected["config_digest"])
        self.assertEqual(parsed["config"]["mediaType"], DOCKER_CONFIG)
        self.assertEqual(len(parsed["layers"]), len(archive_layers))
        detail = self.describe(repo, tag)
        self.assertEqual(detail["imageTags"], [tag])
        self.assertEqual(detail["imageDigest"], sha256(manifest))
        self.assertEqual(detail["imageManifestMediaType"], DOCKER_MANIFEST)
        self.assertEqual(detail["imageSizeInBytes"],
                         parsed["config"]["size"] + sum(l["size"] for l in parsed["layers"]))

        pulled = self.pull(repo, tag)
        self.assertEqual(self.top_descriptor(pulled, tag)["digest"], sha256(manifest))
        self.assertEqual(self.blob(pulled, sha256(manifest)), manifest)
        pulled_config = self.blob(pulled, parsed["config"]["digest"])
        self.assertEqual(pulled_config, config)
        self.assertEqual(json.loads(pulled_config)["rootfs"]["diff_ids"], archive_layers)
        diff_ids = []
        for layer in parsed["layers"]:
            path = self.blob_path(pulled, layer["digest"])
            self.assertEqual(file_digest(path), layer["digest"])
            self.assertEqual(os.path.getsize(path), layer["size"])
            diff_ids.append(file_digest(path, decompress=True))
        self.assertEqual(diff_ids, archive_layers)
        return sha256(manifest)

    # --- tests ---------------------------------------------------------------------------------------
    def test_busybox_from_oci_layout(self):
        self.ecr.create_repository(repositoryName="busybox")
        self.round_trip_oci_layout("busybox", "busybox", "latest")

    def test_python_from_oci_layout(self):
        self.ecr.create_repository(repositoryName="team/python")
        self.round_trip_oci_layout("python", "team/python", "3.11")

    def test_busybox_from_docker_archive(self):
        self.ecr.create_repository(repositoryName="busybox")
        self.round_trip_docker_archive("busybox", "busybox", "latest")

    def test_python_from_docker_archive(self):
        self.ecr.create_repository(repositoryName="python-batch-job")
        self.round_trip_docker_archive("python", "python-batch-job", "latest")

    def test_both_sources_side_by_side(self):
        """All four pushes in two repositories: ECR lists every tag with its size; the layers the python
        image shares with busybox are the same blobs."""
        for repo in ("busybox", "python"):
            self.ecr.create_repository(repositoryName=repo)
        digests = {}
        for name in ("busybox", "python"):
            self.round_trip_oci_layout(name, name, "oci")
            digests[name] = self.round_trip_docker_archive(name, name, "docker")
        for name in ("busybox", "python"):
            details = sorted(self.ecr.describe_images(repositoryName=name)["imageDetails"],
                             key=lambda d: d["imageTags"])
            oci = self.images[name]["oci"]
            self.assertEqual([d["imageTags"] for d in details], [["docker"], ["oci"]])
            self.assertEqual([d["imageDigest"] for d in details], [digests[name], oci["manifest_digest"]])
            self.assertEqual(details[1]["imageSizeInBytes"],
                             oci["config_size"] + sum(l["size"] for l in oci["layers"]))
            self.assertTrue(all(d["imageSizeInBytes"] > 0 for d in details))
            listed = self.ecr.list_images(repositoryName=name)["imageIds"]
            self.assertEqual(sorted((i["imageTag"], i["imageDigest"]) for i in listed),
                             [("docker", digests[name]), ("oci", oci["manifest_digest"])])
        # python's first layer is busybox's: the same bytes from either source.
        self.assertEqual(self.images["python"]["oci"]["layers"][0]["digest"],
                         self.images["busybox"]["oci"]["layers"][0]["digest"])
        tags = json.loads(self.reg.request("GET", "/v2/python/tags/list")[2])
        self.assertEqual(tags, {"name": "python", "tags": ["docker", "oci"]})

    def test_busybox_multi_index_resolves_to_linux_amd64(self):
        expected = self.images["busybox-multi"]["oci"]
        source = os.path.join(IMAGES, expected["layout"])
        index = self.blob(source, expected["index_digest"])
        amd64 = [m["digest"] for m in expected["manifests"] if m["platform"]["architecture"] == "amd64"]
        self.assertEqual(len(amd64), 1)
        amd64 = amd64[0]
        self.ecr.create_repository(repositoryName="busybox-multi")
        self.push(f"oci:{source}:{expected['ref']}", "busybox-multi", "latest", "--all")

        # A client that does not take an index gets the linux/amd64 image.
        status, headers, body = self.reg.request(
            "GET", "/v2/busybox-multi/manifests/latest", headers={"Accept": f"{OCI_MANIFEST}, {DOCKER_MANIFEST}"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["docker-content-digest"], amd64)
        self.assertEqual(headers["content-type"], OCI_MANIFEST)
        self.assertEqual(body, self.blob(source, amd64))
        self.assertEqual(json.loads(body)["config"]["digest"], self.images["busybox"]["oci"]["config_digest"])
        # One that does gets the index exactly as pushed.
        status, headers, body = self.reg.request(
            "GET", "/v2/busybox-multi/manifests/latest", headers={"Accept": f"{OCI_MANIFEST}, {OCI_INDEX}"})
        self.assertEqual((status, body), (200, index))
        self.assertEqual(headers["content-type"], OCI_INDEX)
        self.assertEqual(headers["docker-content-digest"], expected["index_digest"])

        detail = self.describe("busybox-multi", "latest")
        self.assertEqual(detail["imageDigest"], expected["index_digest"])
        self.assertEqual(detail["imageManifestMediaType"], OCI_INDEX)
        self.assertEqual(detail["imageSizeInBytes"], sum(m["size"] for m in json.loads(index)["manifests"]))
        children = self.ecr.describe_images(repositoryName="busybox-multi",
                                            imageIds=[{"imageDigest": m["digest"]} for m in expected["manifests"]])
        self.assertEqual(sorted(d["imageDigest"] for d in children["imageDetails"]),
                         sorted(m["digest"] for m in expected["manifests"]))

        # Pulled back with every platform: the same index, manifests, configs and layers.
        pulled = self.pull("busybox-multi", "latest", "--all")
        self.assertEqual(self.top_descriptor(pulled, "latest")["digest"], expected["index_digest"])
        self.assert_same_blobs(source, pulled)


if __name__ == "__main__":
    unittest.main()

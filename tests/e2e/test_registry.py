"""The OCI registry (/v2/) on Gantry's port: real skopeo pushes and pulls, chunked and resumed uploads
over raw HTTP, digests, immutable tags, manifest lists, authentication, restarts.

skopeo only ever talks to 127.0.0.1: the ECR-style host names (ACCOUNT.dkr.ecr.REGION.localhost) do
not resolve here, so tests that need them send them as Host headers over a connection to 127.0.0.1."""
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import oci_helpers
from harness import ACCOUNT, REGION, ServerTestCase
from oci_helpers import DOCKER_LIST, DOCKER_MANIFEST, OCI_MANIFEST, Registry, oci_error_code, sha256

SKOPEO = shutil.which("skopeo")


class RegistryTest(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.ecr = self.server.client("ecr")
        self.password = oci_helpers.registry_password(self.server)
        self.reg = Registry(self.server, self.password)
        self.tmp = tempfile.mkdtemp(prefix="gantry-registry-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    def skopeo(self, *args):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp,
               "XDG_RUNTIME_DIR": self.tmp, "REGISTRY_AUTH_FILE": os.path.join(self.tmp, "auth.json")}
        p = subprocess.run([SKOPEO, "--insecure-policy", *args], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, f"skopeo {' '.join(args)} failed: {p.stderr[-3000:]}")
        return p.stdout

    def address(self, repo, tag):
        return f"docker://127.0.0.1:{self.server.port}/{repo}:{tag}"

    # --- authentication ------------------------------------------------------------------------------
    def test_base_requires_token(self):
        status, headers, body = self.reg.request("GET", "/v2/", auth=False)
        self.assertEqual(status, 401)
        self.assertEqual(headers["www-authenticate"], 'Basic realm="Gantry"')
        self.assertEqual(oci_error_code(body), "UNAUTHORIZED")
        self.assertEqual(headers["docker-distribution-api-version"], "registry/2.0")
        for auth in (oci_helpers.basic("wrong-password"), oci_helpers.basic(self.password, user="admin"),
                     "Bearer " + self.password, "Basic !!!"):
            with self.subTest(auth=auth[:20]):
                status, _, body = self.reg.request("GET", "/v2/", headers={"Authorization": auth}, auth=False)
                self.assertEqual(status, 401)
                self.assertEqual(oci_error_code(body), "UNAUTHORIZED")
        status, headers, body = self.reg.request("GET", "/v2/")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["docker-distribution-api-version"], "registry/2.0")
        self.assertEqual(self.reg.request("GET", "/v2")[0], 200)
        self.assertEqual(self.reg.request("HEAD", "/v2/")[0], 200)
        # Every route is behind authentication, not only the base.
        self.ecr.create_repository(repositoryName="app")
        for method, path in (("GET", "/v2/app/tags/list"), ("GET", "/v2/_catalog"),
                             ("POST", "/v2/app/blobs/uploads/"), ("GET", "/v2/app/manifests/latest")):
            self.assertEqual(self.reg.request(method, path, auth=False)[0], 401, path)

    def test_host_header_selects_account_and_region(self):
        self.ecr.create_repository(repositoryName="app")
        host = f"{ACCOUNT}.dkr.ecr.{REGION}.localhost:{self.server.port}"
        status, _, body = Registry(self.server, self.password, host=host).request("GET", "/v2/_catalog")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["repositories"], ["app"])
        west = Registry(self.server, self.password, host=f"{ACCOUNT}.dkr.ecr.us-west-2.localhost")
        self.assertEqual(json.loads(west.request("GET", "/v2/_catalog")[2])["repositories"], [])
        # The token authorizes its own account only.
        other = Registry(self.server, self.password, host=f"111111111111.dkr.ecr.{REGION}.localhost")
        self.assertEqual(other.request("GET", "/v2/")[0], 401)

    # --- skopeo --------------------------------------------------------------------------------------
    @unittest.skipUnless(SKOPEO, "skopeo is not installed")
    def test_skopeo_push_pull_round_trip(self):
        self.ecr.create_repository(repositoryName="team/app")
        src = os.path.join(self.tmp, "src")
        manifest, config, layer = oci_helpers.write_oci_layout(src, {"hello.txt": b"hello from gantry\n",
                                                                     "etc/os-release": b"ID=test\n"})
        creds = f"AWS:{self.password}"
        self.skopeo("copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", creds,
                    f"oci:{src}:latest", self.address("team/app", "v1"))
        detail = self.ecr.describe_images(repositoryName="team/app")["imageDetails"]
        self.assertEqual(len(detail), 1)
        self.assertEqual(detail[0]["imageTags"], ["v1"])
        self.assertEqual(detail[0]["imageDigest"], sha256(manifest))
        self.assertEqual(detail[0]["imageSizeInBytes"], len(config) + len(layer))

        dst = os.path.join(self.tmp, "dst")
        self.skopeo("copy", "--preserve-digests", "--src-tls-verify=false", "--src-creds", creds,
                    self.address("team/app", "v1"), f"oci:{dst}:pulled")
        for blob in (manifest, config, layer):
            with open(os.path.join(dst, "blobs", "sha256", sha256(blob)[7:]), "rb") as f:
                self.assertEqual(f.read(), blob)
        inspect = json.loads(self.skopeo("inspect", "--tls-verify=false", "--creds", creds,
                                         self.address("team/app", "v1")))
        self.assertEqual(inspect["Digest"], sha256(manifest))
        self.assertEqual(inspect["Architecture"], "amd64")
        tags = json.loads(self.skopeo("list-tags", "--tls-verify=false", "--creds", creds,
                                      f"docker://127.0.0.1:{self.server.port}/team/app"))
        self.assertEqual(tags["Tags"], ["v1"])

    @unittest.skipUnless(SKOPEO, "skopeo is not installed")
    def test_skopeo_push_from_docker_archive(self):
        self.ecr.create_repository(repositoryName="from-archive")
        src = os.path.join(self.tmp, "src")
        oci_helpers.write_oci_layout(src, {"bin/hello": b"#!/bin/sh\necho hello\n"})
        archive = os.path.join(self.tmp, "image.tar")
        self.skopeo("copy", f"oci:{src}:latest", f"docker-archive:{archive}:from-archive:v1")
        creds = f"AWS:{self.password}"
        self.skopeo("copy", "--dest-tls-verify=false", "--dest-creds", creds, f"docker-archive:{archive}",
                    self.address("from-archive", "v1"))
        detail = self.ecr.describe_images(repositoryName="from-archive")["imageDetails"][0]
        self.assertEqual(detail["imageTags"], ["v1"])
        self.assertEqual(detail["imageManifestMediaType"], DOCKER_MANIFEST)
        status, _, body = self.reg.request("GET", "/v2/from-archive/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
        manifest = json.loads(body)
        self.assertEqual(detail["imageSizeInBytes"],
                         manifest["config"]["size"] + sum(l["size"] for l in manifest["layers"]))
        dst = os.path.join(self.tmp, "dst")
        self.skopeo("copy", "--src-tls-verify=false", "--src-creds", creds, self.address("from-archive", "v1"),
                    f"dir:{dst}")
        with open(os.path.join(dst, "manifest.json"), "rb") as f:
            self.assertEqual(f.read(), body)

    @unittest.skipUnless(SKOPEO, "skopeo is not installed")
    def test_skopeo_push_to_missing_repository_fails(self):
        src = os.path.join(self.tmp, "src")
        oci_helpers.write_oci_layout(src, {"a": b"1"})
        env = {"PATH": os.environ.get("PATH", ""), "HOME": self.tmp, "XDG_RUNTIME_DIR": self.tmp}
        p = subprocess.run([SKOPEO, "--insecure-policy", "copy", "--dest-tls-verify=false", "--dest-creds",
                            f"AWS:{self.password}", f"oci:{src}:latest", self.address("never/created", "v1")],
                           env=env, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(p.returncode, 0)
        status, _, body = self.reg.request("POST", "/v2/never/created/blobs/uploads/")
        self.assertEqual(status, 404)
        self.assertEqual(oci_error_code(body), "NAME_UNKNOWN")
        self.assertEqual(self.ecr.describe_repositories()["repositories"], [])

    # --- uploads -------------------------------------------------------------------------------------
    def upload_status(self, location):
        return self.reg.request("GET", location)

    def test_chunked_resumable_upload(self):
        self.ecr.create_repository(repositoryName="app")
        data = os.urandom(300_000)
        status, headers, body = self.reg.request("POST", "/v2/app/blobs/uploads/")
        self.assertEqual(status, 202, body)
        location, uuid = headers["location"], headers["docker-upload-uuid"]
        self.assertEqual(location, f"/v2/app/blobs/uploads/{uuid}")
        self.assertEqual(headers["range"], "0-0")
        status, headers, _ = self.reg.request("PATCH", location, body=data[:100_000],
                                              headers={"Content-Range": "0-99999",
                                                       "Content-Type": "application/octet-stream"})
        self.assertEqual(status, 202)
        self.assertEqual(headers["range"], "0-99999")
        self.assertEqual(headers["location"], location)
        # A chunk that does not follow on is refused with the current range; nothing is written.
        status, headers, body = self.reg.request("PATCH", location, body=data[200_000:],
                                                 headers={"Content-Range": "200000-299999"})
        self.assertEqual(status, 416, body)
        self.assertEqual(headers["range"], "0-99999")
        status, headers, _ = self.upload_status(location)
        self.assertEqual(status, 204)
        self.assertEqual(headers["range"], "0-99999")
        # Resume; a PATCH without Content-Range appends (streamed upload).
        status, headers, _ = self.reg.request("PATCH", location, body=data[100_000:250_000],
                                              headers={"Content-Range": "bytes 100000-249999/*"})
        self.assertEqual(status, 202)
        status, headers, _ = self.reg.request("PATCH", location, body=data[250_000:290_000])
        self.assertEqual(headers["range"], "0-289999")
        status, headers, body = self.reg.request("PUT", f"{location}?digest={sha256(data)}", body=data[290_000:])
        self.assertEqual(status, 201, body)
        self.assertEqual(headers["docker-content-digest"], sha256(data))
        self.assertEqual(headers["location"], f"/v2/app/blobs/{sha256(data)}")
        self.assertEqual(self.upload_status(location)[0], 404)

        status, headers, body = self.reg.request("HEAD", f"/v2/app/blobs/{sha256(data)}")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["content-length"]), len(data))
        self.assertEqual(headers["docker-content-digest"], sha256(data))
        self.assertEqual(body, b"")
        status, _, body = self.reg.request("GET", f"/v2/app/blobs/{sha256(data)}")
        self.assertEqual((status, body), (200, data))
        status, headers, body = self.reg.request("GET", f"/v2/app/blobs/{sha256(data)}",
                                                 headers={"Range": "bytes=1000-1999"})
        self.assertEqual(status, 206)
        self.assertEqual(body, data[1000:2000])
        self.assertEqual(headers["content-range"], f"bytes 1000-1999/{len(data)}")
        status, _, body = self.reg.request("GET", f"/v2/app/blobs/{sha256(data)}",
                                           headers={"Range": f"bytes={len(data)}-"})
        self.assertEqual(status, 416)
        # The blob belongs to "app" only; another repository mounts it or uploads it itself.
        self.ecr.create_repository(repositoryName="other")
        self.assertEqual(self.reg.request("HEAD", f"/v2/other/blobs/{sha256(data)}")[0], 404)
        status, headers, _ = self.reg.request("POST", f"/v2/other/blobs/uploads/?mount={sha256(data)}&from=app")
        self.assertEqual(status, 201)
        self.assertEqual(headers["docker-content-digest"], sha256(data))
        self.assertEqual(self.reg.request("HEAD", f"/v2/other/blobs/{sha256(data)}")[0], 200)

    def test_concurrent_pushes_of_the_same_layer(self):
        for name in ("one", "two"):
            self.ecr.create_repository(repositoryName=name)
        data = os.urandom(2_000_000)
        results = []

        def monolithic(repo):
            results.append(self.reg.request("POST", f"/v2/{repo}/blobs/uploads/?digest={sha256(data)}", body=data)[0])

        def chunked(repo):
            _, headers, _ = self.reg.request("POST", f"/v2/{repo}/blobs/uploads/")
            location = headers["location"]
            for start in range(0, len(data), 500_000):
                chunk = data[start:start + 500_000]
                self.reg.request("PATCH", location, body=chunk,
                                 headers={"Content-Range": f"{start}-{start + len(chunk) - 1}"})
            results.append(self.reg.request("PUT", f"{location}?digest={sha256(data)}")[0])

        threads = [threading.Thread(target=fn, args=(repo,)) for fn, repo in
                   ((monolithic, "one"), (chunked, "two"), (monolithic, "two"), (chunked, "one"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [201] * 4)
        for repo in ("one", "two"):
            self.assertEqual(self.reg.request("GET", f"/v2/{repo}/blobs/{sha256(data)}")[2], data)
        stored = [f for f in self.blob_files() if "/sha256/" in f]
        self.assertEqual(len(stored), 1)

    def test_upload_resumes_after_restart(self):
        self.ecr.create_repository(repositoryName="app")
        data = os.urandom(200_000)
        _, headers, _ = self.reg.request("POST", "/v2/app/blobs/uploads/")
        location = headers["location"]
        self.reg.request("PATCH", location, body=data[:120_000], headers={"Content-Range": "0-119999"})
        self.server.restart()
        status, headers, _ = self.upload_status(location)
        self.assertEqual(status, 204)
        self.assertEqual(headers["range"], "0-119999")
        status, _, _ = self.reg.request("PATCH", location, body=data[120_000:], headers={"Content-Range": "120000-199999"})
        self.assertEqual(status, 202)
        status, _, body = self.reg.request("PUT", f"{location}?digest={sha256(data)}")
        self.assertEqual(status, 201, body)
        self.assertEqual(self.reg.request("GET", f"/v2/app/blobs/{sha256(data)}")[2], data)

    def test_interrupted_patch_keeps_what_arrived(self):
        self.ecr.create_repository(repositoryName="app")
        data = os.urandom(100_000)
        _, headers, _ = self.reg.request("POST", "/v2/app/blobs/uploads/")
        location = headers["location"]
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        try:
            sock.sendall((f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Authorization: {oci_helpers.basic(self.password)}\r\n"
                          f"Content-Length: {len(data)}\r\nExpect: 100-continue\r\n\r\n").encode())
            # A streamed upload honours Expect: 100-continue before the body is sent.
            self.assertTrue(sock.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n"))
            sock.sendall(data[:60_000])
        finally:
            sock.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, headers, _ = self.upload_status(location)
            if headers.get("range") == "0-59999":
                break
            time.sleep(0.02)
        self.assertEqual((status, headers.get("range")), (204, "0-59999"))
        status, _, _ = self.reg.request("PATCH", location, body=data[60_000:], headers={"Content-Range": "60000-99999"})
        self.assertEqual(status, 202)
        status, _, body = self.reg.request("PUT", f"{location}?digest={sha256(data)}")
        self.assertEqual(status, 201, body)

    def blob_files(self):
        root = os.path.join(self.server.data_dir, "blobs")
        found = []
        for sub in ("sha256", "uploads", "tmp"):
            for dirpath, _, files in os.walk(os.path.join(root, sub)):
                found += [os.path.join(dirpath, f) for f in files]
        return found

    def test_wrong_digest_is_refused_and_leaves_nothing(self):
        self.ecr.create_repository(repositoryName="app")
        data = b"some layer bytes" * 1000
        wrong = sha256(b"something else")
        status, _, body = self.reg.request("POST", f"/v2/app/blobs/uploads/?digest={wrong}", body=data)
        self.assertEqual(status, 400)
        self.assertEqual(oci_error_code(body), "DIGEST_INVALID")
        _, headers, _ = self.reg.request("POST", "/v2/app/blobs/uploads/")
        location = headers["location"]
        self.reg.request("PATCH", location, body=data)
        status, _, body = self.reg.request("PUT", f"{location}?digest={wrong}")
        self.assertEqual(status, 400)
        self.assertEqual(oci_error_code(body), "DIGEST_INVALID")
        self.assertEqual(self.upload_status(location)[0], 404)
        for digest in (wrong, sha256(data)):
            self.assertEqual(self.reg.request("HEAD", f"/v2/app/blobs/{digest}")[0], 404)
        self.assertEqual(self.blob_files(), [])
        status, _, body = self.reg.request("POST", "/v2/app/blobs/uploads/?digest=sha256:short", body=data)
        self.assertEqual((status, oci_error_code(body)), (400, "DIGEST_INVALID"))

    def test_large_streamed_upload_keeps_memory_bounded(self):
        """A 1 GiB blob streams in (one PATCH) and out (GET) of the server: its peak RSS stays under 40 MB."""
        with open(f"/proc/{self.server.proc.pid}/maps") as f:
            if "libasan" in f.read():
                self.skipTest("a sanitizer build's memory use says nothing about the release build's")
        self.ecr.create_repository(repositoryName="big")
        _, headers, _ = self.reg.request("POST", "/v2/big/blobs/uploads/")
        location = headers["location"]
        block = os.urandom(1 << 20)
        total = 1 << 30
        digest = hashlib.sha256()

        def body():
            for _ in range(total // len(block)):
                digest.update(block)
                yield block

        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        try:
            conn.request("PATCH", location, body=body(), headers={
                "Authorization": oci_helpers.basic(self.password), "Content-Length": str(total)})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 202)
            self.assertEqual(resp.getheader("Range"), f"0-{total - 1}")
        finally:
            conn.close()
        status, _, body_bytes = self.reg.request("PUT", f"{location}?digest=sha256:{digest.hexdigest()}")
        self.assertEqual(status, 201, body_bytes)
        with open(f"/proc/{self.server.proc.pid}/status") as f:
            peak_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        self.assertLess(peak_kb, 40 * 1024, f"server peak RSS {peak_kb} kB during a 1 GiB upload")
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        try:
            conn.request("GET", f"/v2/big/blobs/sha256:{digest.hexdigest()}",
                         headers={"Authorization": oci_helpers.basic(self.password)})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            self.assertEqual(int(resp.getheader("Content-Length")), total)
            pulled, received = hashlib.sha256(), 0
            while chunk := resp.read(1 << 20):
                pulled.update(chunk)
                received += len(chunk)
            self.assertEqual((received, pulled.hexdigest()), (total, digest.hexdigest()))
        finally:
            conn.close()
        with open(f"/proc/{self.server.proc.pid}/status") as f:
            peak_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        self.assertLess(peak_kb, 40 * 1024, f"server peak RSS {peak_kb} kB after a 1 GiB download")
        self.server.reset()  # frees the gigabyte now

    # --- manifests -----------------------------------------------------------------------------------
    def test_manifest_by_tag_and_digest(self):
        self.ecr.create_repository(repositoryName="app")
        manifest, _, _ = self.reg.push_image("app", "v1", {"a": b"1"})
        digest = sha256(manifest)
        for ref in ("v1", digest):
            status, headers, body = self.reg.request("GET", f"/v2/app/manifests/{ref}",
                                                     headers={"Accept": OCI_MANIFEST})
            self.assertEqual(status, 200)
            self.assertEqual(body, manifest)
            self.assertEqual(headers["content-type"], OCI_MANIFEST)
            self.assertEqual(headers["docker-content-digest"], digest)
            status, headers, body = self.reg.request("HEAD", f"/v2/app/manifests/{ref}")
            self.assertEqual((status, body), (200, b""))
            self.assertEqual(int(headers["content-length"]), len(manifest))
        status, _, body = self.reg.request("GET", "/v2/app/manifests/missing")
        self.assertEqual((status, oci_error_code(body)), (404, "MANIFEST_UNKNOWN"))
        status, _, body = self.reg.put_manifest("app", "sha256:" + "0" * 64, manifest)
        self.assertEqual((status, oci_error_code(body)), (400, "DIGEST_INVALID"))
        status, _, body = self.reg.put_manifest("app", "v2", b'{"schemaVersion": 2, "config": 5}')
        self.assertEqual((status, oci_error_code(body)), (400, "MANIFEST_INVALID"))
        missing, _, _ = oci_helpers.image({"never": b"uploaded"})
        status, _, body = self.reg.put_manifest("app", "v3", missing)
        self.assertEqual((status, oci_error_code(body)), (400, "MANIFEST_BLOB_UNKNOWN"))
        # Pushing the same manifest again is fine (registries are idempotent), unlike ECR PutImage.
        self.assertEqual(self.reg.put_manifest("app", "v1", manifest)[0], 201)
        self.assertEqual(self.reg.request("DELETE", "/v2/app/manifests/v1")[0], 202)
        self.assertEqual(self.reg.request("GET", f"/v2/app/manifests/{digest}")[0], 404)

    def test_immutable_tag_refuses_overwrite(self):
        self.ecr.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE")
        first, _, _ = self.reg.push_image("app", "v1", {"a": b"1"})
        second, config, layer = oci_helpers.image({"a": b"2"})
        self.reg.push_blob("app", config)
        self.reg.push_blob("app", layer)
        status, _, body = self.reg.put_manifest("app", "v1", second)
        self.assertEqual(status, 400)
        err = json.loads(body)["errors"][0]
        self.assertEqual(err["code"], "TAG_INVALID")
        self.assertIn("cannot be overwritten because the repository is immutable", err["message"])
        self.assertEqual(self.reg.request("GET", "/v2/app/manifests/v1")[2], first)
        self.assertEqual(self.reg.put_manifest("app", "v2", second)[0], 201)

    def test_manifest_list_resolves_to_linux_amd64(self):
        self.ecr.create_repository(repositoryName="multi")
        amd64, _, _ = self.reg.push_image("multi", None, {"arch": b"amd64"}, arch="amd64",
                                          manifest_type=DOCKER_MANIFEST)
        arm64, _, _ = self.reg.push_image("multi", None, {"arch": b"arm64"}, arch="arm64",
                                          manifest_type=DOCKER_MANIFEST)
        listing = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [
            {"mediaType": DOCKER_MANIFEST, "digest": sha256(arm64), "size": len(arm64),
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": DOCKER_MANIFEST, "digest": sha256(amd64), "size": len(amd64),
             "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
        status, _, body = self.reg.put_manifest("multi", "latest", listing, DOCKER_LIST)
        self.assertEqual(status, 201, body)
        status, headers, body = self.reg.request("GET", "/v2/multi/manifests/latest",
                                                 headers={"Accept": DOCKER_MANIFEST})
        self.assertEqual(status, 200)
        self.assertEqual(body, amd64)
        self.assertEqual(headers["docker-content-digest"], sha256(amd64))
        self.assertEqual(headers["content-type"], DOCKER_MANIFEST)
        status, headers, body = self.reg.request("GET", "/v2/multi/manifests/latest",
                                                 headers={"Accept": f"{DOCKER_MANIFEST}, {DOCKER_LIST}"})
        self.assertEqual((status, body, headers["content-type"]), (200, listing, DOCKER_LIST))
        images = self.ecr.batch_get_image(repositoryName="multi", imageIds=[{"imageTag": "latest"}],
                                          acceptedMediaTypes=[DOCKER_MANIFEST])["images"]
        self.assertEqual(images[0]["imageId"]["imageDigest"], sha256(amd64))
        detail = self.ecr.describe_images(repositoryName="multi", imageIds=[{"imageTag": "latest"}])["imageDetails"]
        self.assertEqual(detail[0]["imageManifestMediaType"], DOCKER_LIST)

    def test_tags_list_and_catalog_paging(self):
        for name in ("b-repo", "a-repo", "c/nested"):
            self.ecr.create_repository(repositoryName=name)
        manifest, _, _ = self.reg.push_image("a-repo", "t1", {"x": b"1"})
        for tag in ("t3", "t2", "t0"):
            self.assertEqual(self.reg.put_manifest("a-repo", tag, manifest)[0], 201)
        status, _, body = self.reg.request("GET", "/v2/a-repo/tags/list")
        self.assertEqual(json.loads(body), {"name": "a-repo", "tags": ["t0", "t1", "t2", "t3"]})
        status, headers, body = self.reg.request("GET", "/v2/a-repo/tags/list?n=2")
        self.assertEqual(json.loads(body)["tags"], ["t0", "t1"])
        self.assertEqual(headers["link"], '</v2/a-repo/tags/list?last=t1&n=2>; rel="next"')
        status, headers, body = self.reg.request("GET", "/v2/a-repo/tags/list?n=2&last=t1")
        self.assertEqual(json.loads(body)["tags"], ["t2", "t3"])
        self.assertNotIn("link", headers)
        status, _, body = self.reg.request("GET", "/v2/_catalog")
        self.assertEqual(json.loads(body)["repositories"], ["a-repo", "b-repo", "c/nested"])
        status, headers, body = self.reg.request("GET", "/v2/_catalog?n=1&last=a-repo")
        self.assertEqual(json.loads(body)["repositories"], ["b-repo"])
        self.assertIn("last=b-repo", headers["link"])
        status, _, body = self.reg.request("GET", "/v2/_catalog?n=-1")
        self.assertEqual((status, oci_error_code(body)), (400, "PAGINATION_NUMBER_INVALID"))
        status, _, body = self.reg.request("GET", "/v2/missing/tags/list")
        self.assertEqual((status, oci_error_code(body)), (404, "NAME_UNKNOWN"))
        status, _, body = self.reg.request("GET", "/v2/Bad_Name/tags/list")
        self.assertEqual((status, oci_error_code(body)), (400, "NAME_INVALID"))

    def test_restart_keeps_everything(self):
        self.ecr.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE")
        manifest, config, layer = self.reg.push_image("app", "v1", {"keep": b"me"})
        self.server.restart()
        reg = Registry(self.server, self.password)  # the token outlives the restart
        status, _, body = reg.request("GET", "/v2/app/manifests/v1")
        self.assertEqual((status, body), (200, manifest))
        self.assertEqual(reg.request("GET", f"/v2/app/blobs/{sha256(layer)}")[2], layer)
        ecr = self.server.client("ecr")
        detail = ecr.describe_images(repositoryName="app")["imageDetails"][0]
        self.assertEqual(detail["imageTags"], ["v1"])
        self.assertEqual(detail["imageSizeInBytes"], len(config) + len(layer))
        self.assertEqual(ecr.describe_repositories()["repositories"][0]["imageTagMutability"], "IMMUTABLE")

    def test_reset_wipes_blobs(self):
        self.ecr.create_repository(repositoryName="app")
        self.reg.push_image("app", "v1", {"a": b"1"})
        self.reg.request("POST", "/v2/app/blobs/uploads/")
        self.assertNotEqual(self.blob_files(), [])
        self.server.reset()
        self.assertEqual(self.blob_files(), [])


if __name__ == "__main__":
    unittest.main()

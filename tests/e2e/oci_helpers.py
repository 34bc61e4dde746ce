"""Building small OCI images by hand and talking to Gantry's registry (/v2/) over raw HTTP.

Only 127.0.0.1 is ever contacted: the registry's ECR-style host names are sent as Host headers, never
resolved."""
import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar_gz(files):
    """A gzip-compressed rootfs tar of {path: bytes}, byte-for-byte reproducible."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tf.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0), raw.getvalue()


def image(files, arch="amd64", manifest_type=OCI_MANIFEST):
    """(manifest bytes, config bytes, layer bytes) of a one-layer linux image."""
    layer, tar = layer_tar_gz(files)
    config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha256(tar)]}}, sort_keys=True).encode()
    docker = manifest_type == DOCKER_MANIFEST
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": manifest_type,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json" if docker else OCI_CONFIG,
                   "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip" if docker else OCI_LAYER_GZIP,
                    "digest": sha256(layer), "size": len(layer)}],
    }, sort_keys=True).encode()
    return manifest, config, layer


def write_oci_layout(root, files, tag="latest"):
    """An OCI image layout directory (oci-layout, index.json, blobs/sha256/...) holding one image.
    Returns (manifest, config, layer) bytes."""
    manifest, config, layer = image(files)
    for blob in (manifest, config, layer):
        path = os.path.join(root, "blobs", "sha256", sha256(blob)[7:])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(blob)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest),
            "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
    return manifest, config, layer


def registry_password(server):
    """The password of a fresh ECR authorization token (the token is base64("AWS:" + password))."""
    token = server.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, password = base64.b64decode(token).decode().split(":", 1)
    assert user == "AWS"
    return password


def basic(password, user="AWS"):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Registry:
    """Raw HTTP to the registry on 127.0.0.1, authenticated with one token's password."""

    def __init__(self, server, password, host=None):
        self.server, self.password, self.host = server, password, host

    def request(self, method, path, body=None, headers=None, auth=True):
        hdrs = dict(headers or {})
        if auth and self.password is not None:
            hdrs.setdefault("Authorization", basic(self.password))
        if self.host:
            hdrs["Host"] = self.host
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def push_blob(self, repo, data):
        """Monolithic upload (POST ?digest=); returns the response status."""
        status, headers, body = self.request("POST", f"/v2/{repo}/blobs/uploads/?digest={sha256(data)}", body=data)
        assert status == 201, (status, body)
        return headers

    def put_manifest(self, repo, ref, manifest, media_type=OCI_MANIFEST):
        return self.request("PUT", f"/v2/{repo}/manifests/{ref}", body=manifest, headers={"Content-Type": media_type})

    def push_image(self, repo, tag, files, arch="amd64", manifest_type=OCI_MANIFEST):
        manifest, config, layer = image(files, arch=arch, manifest_type=manifest_type)
        self.push_blob(repo, config)
        self.push_blob(repo, layer)
        status, _, body = self.put_manifest(repo, tag or sha256(manifest), manifest, manifest_type)
        assert status == 201, (status, body)
        return manifest, config, layer


def oci_error_code(body):
    return json.loads(body)["errors"][0]["code"]

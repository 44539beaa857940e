#!/usr/bin/env python3
"""Builds a small two-layer image from the host's busybox-static, for the image import test.

usage: make_busybox_image.py OUT_DIR
writes OUT_DIR/oci (an OCI image layout, tag "latest"; first layer gzip, second plain tar)
and OUT_DIR/busybox.tar (the same image as `docker save` writes it).

Layer 1: /bin/busybox and its applets, /tmp, /etc/greeting, /etc/gone, /opt/old/a,
         /home/user/file (owned by uid 1000).
Layer 2: a whiteout of /etc/gone, /opt/old made opaque with /opt/old/b in it.
Config: Env PATH=/bin and IMAGE_VAR=from-image, WorkingDir /opt, and a Cmd that writes
"$(pwd) $IMAGE_VAR" to /tmp/entrypoint.txt, then sleeps.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

APPLETS = ["sh", "ls", "cat", "echo", "id", "test", "stat", "sleep", "pwd", "rm", "mkdir", "touch", "wc"]


def add_file(tar, name, data, mode=0o644, uid=0):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.uid = info.gid = uid
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def add_dir(tar, name, mode=0o755):
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    info.mtime = 0
    tar.addfile(info)


def add_link(tar, name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    info.mtime = 0
    tar.addfile(info)


def layer(build):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        build(tar)
    return out.getvalue()


def first_layer(tar):
    for d in ["bin", "etc", "opt", "opt/old", "home", "home/user"]:
        add_dir(tar, d)
    add_dir(tar, "tmp", 0o1777)
    with open("/bin/busybox", "rb") as f:
        add_file(tar, "bin/busybox", f.read(), 0o755)
    for applet in APPLETS:
        add_link(tar, "bin/" + applet, "busybox")
    add_file(tar, "etc/greeting", b"hello from the image\n")
    add_file(tar, "etc/gone", b"deleted by the second layer\n")
    add_file(tar, "opt/old/a", b"a\n")
    add_file(tar, "home/user/file", b"owned by 1000\n", uid=1000)


def second_layer(tar):
    add_dir(tar, "etc")
    add_dir(tar, "opt")
    add_dir(tar, "opt/old")
    add_file(tar, "etc/.wh.gone", b"")
    add_file(tar, "opt/old/.wh..wh..opq", b"")
    add_file(tar, "opt/old/b", b"b\n")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def main(out_dir):
    tars = [layer(first_layer), layer(second_layer)]
    diff_ids = ["sha256:" + sha256(t) for t in tars]
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/bin", "IMAGE_VAR=from-image"],
            "WorkingDir": "/opt",
            "Cmd": ["/bin/sh", "-c", "echo $(pwd) $IMAGE_VAR > /tmp/entrypoint.txt; exec sleep 100000"],
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()

    # OCI layout: the first layer gzip-compressed, the second not.
    oci = os.path.join(out_dir, "oci")
    blobs = os.path.join(oci, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def blob(data):
        digest = sha256(data)
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return "sha256:" + digest, len(data)

    gz = gzip.compress(tars[0], mtime=0)
    layers = [("application/vnd.oci.image.layer.v1.tar+gzip",) + blob(gz),
              ("application/vnd.oci.image.layer.v1.tar",) + blob(tars[1])]
    config_digest, config_size = blob(config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": config_size},
        "layers": [{"mediaType": m, "digest": d, "size": s} for m, d, s in layers],
    }).encode()
    manifest_digest, manifest_size = blob(manifest)
    with open(os.path.join(oci, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(oci, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
            "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, f)

    # docker save: manifest.json, the config, and each layer as <id>/layer.tar.
    with tarfile.open(os.path.join(out_dir, "busybox.tar"), "w") as archive:
        names = []
        for t in tars:
            name = sha256(t) + "/layer.tar"
            add_file(archive, name, t)
            names.append(name)
        config_name = sha256(config) + ".json"
        add_file(archive, config_name, config)
        add_file(archive, "manifest.json", json.dumps(
            [{"Config": config_name, "RepoTags": ["busybox-test:latest"], "Layers": names}]).encode())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

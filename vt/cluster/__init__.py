"""Clusters and faults: the processes vt starts to test a cluster (a NATS server, the nodes, a
Toxiproxy in front of each), and the controls a scenario's `fault`, `kill_node` and
`restart_node` steps use (specs/cluster.md §C7, specs/scenario-format.md)."""

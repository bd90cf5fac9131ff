"""The DNS cutover: snapshots (AXFR), batched TSIG dynamic updates, zone moves, the
octoDNS-style safety threshold and exact rollback to a snapshot."""

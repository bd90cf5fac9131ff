"""The lab twin: LXC containers on a host-only bridge, reached over SSH like real hosts."""

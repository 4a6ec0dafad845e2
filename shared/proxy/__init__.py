"""What the gateway shares through `shared/`: the port to partners (the adapter is chosen by the bootstrap) and its
unit of work (the billing one plus the gateway's jobs, replays and rate windows)."""

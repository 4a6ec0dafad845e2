"""Comfy nodes and jobs: the node classes each version provides, and the scheduled endpoints."""

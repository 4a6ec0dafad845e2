"""Publishing: users, publishers and their tokens, nodes, and the versions comfy-cli publishes."""

"""Publishing's use cases, a module per subject: publishers (and users), tokens, nodes, versions (the publish call),
scans (what the checks judged); commands.py holds what they take."""

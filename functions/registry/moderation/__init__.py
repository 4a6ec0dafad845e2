"""Moderation and admin: bans and unbans, admin edits of nodes and versions, the audit log."""

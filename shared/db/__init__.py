"""Relational storage: models, engine, migrations."""

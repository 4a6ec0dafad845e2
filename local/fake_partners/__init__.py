"""Loopback fake partners for the gateway: one server that plays every seed partner under `/<partner>/...` with the
partner's own job protocol, answer shapes and credential check, serves the result files it points to, records every
request it received, and can be told to fail (`FakePartners.fail`). `python -m local fake-partners` runs it and
prints the PARTNER_BASE_URLS and PARTNER_CREDENTIALS that plug it into the local stack."""

from local.fake_partners.server import CREDENTIALS, FakePartners

__all__ = ["CREDENTIALS", "FakePartners"]

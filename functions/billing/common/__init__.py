"""What every billing area shares: who is calling (a Firebase login or an API key, an admin, the admin secret),
`/billing/health` and `/billing/openapi`."""

"""The prepaid credit ledger that billing and the gateway both move: double-entry, append-only, integer micro-USD.

- `accounts`: the chart of accounts (a customer's `available` and `held`, the system accounts).
- `book`: `Ledger`, the one place that writes the ledger, inside a unit of work: credit in and out, on top of
  `holds` (place, capture, release, expire) and `postings` (accounts, balances, entries once per key).
- `audit`: recomputes every balance from the postings and checks that each entry sums to zero.

Every movement is an entry with a unique idempotency key: posting a key twice writes nothing the second time and
returns the first entry. A hold moves credit from `available` to `held` with one conditional UPDATE (refused when
available cannot cover it); its capture, release or expiry moves its status once, by a conditional UPDATE, so a
settlement runs once however many callers race for it."""

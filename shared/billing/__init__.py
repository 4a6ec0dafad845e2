"""What billing and the gateway share besides the ledger: the billing unit of work and repositories, API keys, how a
customer is recognised from a request, and the ports to Stripe, Metronome and the task queue."""

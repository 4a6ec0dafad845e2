"""The library every function ships with: settings, storage, auth, errors, ports and adapters."""

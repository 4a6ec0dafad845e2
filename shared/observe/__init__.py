"""What operators see of a request or a background run: one structured log line each (Cloud Logging's format), the
trace it belongs to, and the request id its answer carries."""

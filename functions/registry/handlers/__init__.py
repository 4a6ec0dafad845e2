"""Wire in, wire out: parse the request, call one use case, shape the result."""

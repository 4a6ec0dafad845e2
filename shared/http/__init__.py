"""The HTTP edge every function shares: dispatch by routing rules, parsing, and the one error mapping."""

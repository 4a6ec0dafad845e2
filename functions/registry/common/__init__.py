"""What the registry's areas share: who may do what (access), publish limits, nodes as a command, request guards,
the read cache, pages, the shared wire shapes, and `/health` and `/openapi` (meta). Areas import from here, never
from each other."""

"""Deployment tools: packaging each function's source and the deploy-time migration step."""

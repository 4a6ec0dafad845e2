"""The public reads and install: node listings and pages, versions, installs, search, the bulk lookup."""

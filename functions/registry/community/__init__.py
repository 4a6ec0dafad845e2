"""Community: star reviews and translations of a node."""

"""Who is calling: Firebase ID tokens for people, hashed personal access tokens for publishing."""

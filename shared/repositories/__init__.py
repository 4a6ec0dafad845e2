"""Where the SQL lives: one repository per aggregate, each bound to the unit of work's session."""

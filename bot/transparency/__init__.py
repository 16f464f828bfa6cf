"""The public transparency site, open data, and the programme's funded initiatives."""

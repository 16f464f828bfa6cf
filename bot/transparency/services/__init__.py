"""Services of the public transparency site: its figures, built from the database."""

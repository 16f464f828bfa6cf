"""Right to information: the guide, the request builder, my requests, letters, the directory."""

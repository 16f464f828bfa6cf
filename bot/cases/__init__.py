"""Complaints and corruption reports: reporting, my cases, evidence, notices about cases."""

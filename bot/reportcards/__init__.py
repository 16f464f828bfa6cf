"""Citizen Report Cards: rounds defined by staff, answered by citizens, results and cards."""

"""Staff work: the case workspace, staff admin, exports and statistics, the scorecard."""

"""Shared tools for features: buttons and replies, the wizard kernel, pickers, typed moments."""

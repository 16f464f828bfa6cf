"""Gettext catalogs (messages.pot, sq and en); shipped as package data."""

"""Campaigns: subscriptions, the broadcast composer and list, polls and public hearings."""

"""A person's account: onboarding, menu, help, language, privacy, cancel, fallbacks."""

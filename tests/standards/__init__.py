"""The standards' own checks, as their specifications publish them (see each module)."""

"""The HTTP edge: auth, validation, problem+json. No business rules live here."""

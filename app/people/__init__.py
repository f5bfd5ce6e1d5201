"""People: passwords, TOTP and the sign-in lock (the parts with no database), and the
accounts service that records account events and keeps credentials outside the log."""

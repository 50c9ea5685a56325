"""Second factors and passwordless sign-in: TOTP, recovery codes, passkeys (issue 16)."""

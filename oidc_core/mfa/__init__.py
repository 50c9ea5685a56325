"""Second factors and passwordless sign-in: TOTP codes (:mod:`.totp`), recovery codes
(:mod:`.recovery`), passkeys (:mod:`.passkeys`, :mod:`.relying_party`), who must use a
second factor (:mod:`.policy`), checking a code with the brute-force counters
(:mod:`.codes`), and the second step of every sign-in (:mod:`.step`)."""

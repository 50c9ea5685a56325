"""Second factors: TOTP codes (:mod:`.totp`), recovery codes (:mod:`.recovery`), who must
use one (:mod:`.policy`), checking one with the brute-force counters (:mod:`.codes`), and
the second step of every sign-in (:mod:`.step`, :mod:`.enrol`)."""

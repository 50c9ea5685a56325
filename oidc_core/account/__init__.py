"""The user's own account pages under ``/account/`` (``docs/account.md``): the apps they
authorized, their sessions, their profile and password."""

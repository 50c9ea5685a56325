"""Administration: managing clients from the console, the management API and the CLI."""

"""One module per group of `newsmon` subcommands; monitor.cli wires them up."""

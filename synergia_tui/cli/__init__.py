"""The `synergia` command line: argument parsing and plain output, over the services."""

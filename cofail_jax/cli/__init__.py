"""The ``cofail`` command line: one module per command, all calling the library."""

class Fatal(Exception):
    """A problem the user must fix (bad token, unknown endpoint): one line, exit 2."""

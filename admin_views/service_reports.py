"""placeholder"""


def views() -> list:
    return []

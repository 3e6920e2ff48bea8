"""Argon2id for the tests at the algorithm's smallest costs (tests/conftest.py puts it first when
production's first hasher is Argon2). Production's costs (100 MB, two passes) take half a second
a password; the suite sets or checks one several hundred times. The hashes keep production's form
(argon2$argon2id$..., with their costs written in them), so anything that reads or verifies them
works as it does in production."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class QuickArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 8  # KiB: argon2's least for one lane
    parallelism = 1

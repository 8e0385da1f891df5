"""The local stack that ``make run``, the tests and the benches share: Prosody, Redis, the Procfile's processes.

``python -m devstack`` is ``make run`` (``devstack.stack`` says what it does);
``devstack.prosody.LocalProsody`` is a private Prosody for tests and ``make run``.
"""

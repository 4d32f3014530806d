"""Signals the sessions app sends to the layers above it (which subscribe in AppConfig.ready).

`recording_stored` is how a stored recording sets off its analysis without this app importing the
analysis app: it is sent inside the transaction that creates the Recording row, so a receiver's own
writes (the analysis job row) commit or roll back with it, and a receiver that queues work does so
with `transaction.on_commit`.
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: recording (the new Recording, saved in the current transaction)
recording_stored = Signal()

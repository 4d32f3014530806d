"""Shared by the dashboard and report benches: a throw-away database (test_<name>_bench) holding one
therapist and a patient with N analysed sessions of plus_large-sized (1024-d) embeddings."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def bench_patient(sessions: int, *, vary_speech: bool = False) -> Iterator[tuple[Any, Any]]:
    """(user, patient) in a fresh database that is dropped afterwards. Call after django.setup()."""
    import numpy as np
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import setup_test_environment

    from patients.services import patient_create
    from tests.factories import analysed_session

    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user = get_user_model().objects.create_user(username="bench", password="x" * 16)
        patient = patient_create(owner=user, display_name="Bench Patient", external_id="BENCH-1")
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        # No pre-rendering tasks for the bench's own rows (autocommit here: they would go to the broker).
        settings.PLOT_PRERENDER = False
        for n in range(1, sessions + 1):
            analysed_session(
                patient,
                n,
                scores=rng.dirichlet(np.ones(9)),
                embedding=rng.normal(size=1024),
                speech_s=float(rng.uniform(30, 900)) if vary_speech else 300.0,
                variant="emotion2vec_plus_large",
                with_file=False,
            )
        print(f"[bench] {sessions} sessions created in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        yield user, patient
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

"""Patients: records owned by one therapist, and (later) their trajectories and reports."""

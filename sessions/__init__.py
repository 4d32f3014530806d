"""Therapy sessions and their recordings (app label `therapy_sessions`: the folder name collides
with django.contrib.sessions)."""

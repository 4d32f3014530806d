"""Create (or reset) the demo therapist account and print how to log in."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo therapist (username/password from DEMO_USERNAME/DEMO_PASSWORD)."

    def handle(self, *args: Any, **opts: Any) -> None:
        username = os.environ.get("DEMO_USERNAME", "demo.therapist")
        password = os.environ.get("DEMO_PASSWORD", "demo-session-tracker")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        user.save()
        verb = "Created" if created else "Reset"
        self.stdout.write(f"{verb} demo therapist — username: {username}  password: {password}")

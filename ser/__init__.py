"""Speech-emotion recognition: the engine (Django-free), the analysis rows, the task and service."""

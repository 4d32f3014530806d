"""Django-free speech-emotion engine: audio in, emotion2vec+ through FunASR, plain dataclasses out.

Nothing in this package may import Django; the web app and the batch tools both call it.
"""

from django import template

from ser.emotions import emotion_name

register = template.Library()


@register.filter
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key, "")


@register.filter
def emotion(key: str) -> str:
    """`{{ "sad"|emotion }}`: the emotion's name in the page's language (ser.emotions)."""
    return emotion_name(str(key))

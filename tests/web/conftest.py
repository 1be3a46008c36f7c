import pytest
from django.contrib.auth import get_user_model


def user_for(member, password: str = "pw-zhenggai"):
    """A login for a story member."""
    if member.user_id:
        return member.user
    user = get_user_model().objects.create_user(f"u{member.pk}", password=password)
    member.user = user
    member.save(update_fields=["user"])
    return user


@pytest.fixture
def as_member(client):
    def login(member):
        client.force_login(user_for(member))
        return client
    return login

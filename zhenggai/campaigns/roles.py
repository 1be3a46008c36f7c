"""Who may do what: the one place role membership is read."""

from .models import Campaign, CampaignRole, Role


def roles_of(member, campaign: Campaign) -> set[str]:
    if member is None:
        return set()
    cache = getattr(member, "_role_cache", None)
    if cache is None:
        cache = member._role_cache = {}
    if campaign.pk not in cache:
        cache[campaign.pk] = set(
            CampaignRole.objects.filter(member=member, campaign=campaign).values_list(
                "role", flat=True
            )
        )
    return cache[campaign.pk]


def has_role(member, campaign: Campaign, *roles: str) -> bool:
    held = roles_of(member, campaign)
    # Every member of the organisation is a worker; admins may act as any role.
    if Role.WORKER in roles and member is not None:
        return True
    return bool(held & set(roles)) or Role.ADMIN in held


def grant(member, campaign: Campaign, *roles: str) -> None:
    for role in roles:
        CampaignRole.objects.get_or_create(member=member, campaign=campaign, role=role)
    if hasattr(member, "_role_cache"):
        member._role_cache.pop(campaign.pk, None)

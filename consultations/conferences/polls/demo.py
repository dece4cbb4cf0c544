"""Demo data: a closed poll with results on the conference's first agenda item."""

from __future__ import annotations

from consultations.conferences.models import Conference, Registration
from consultations.conferences.polls import services
from consultations.conferences.polls.models import Poll
from deliberation.models import Member


def seed_polls(conference: Conference) -> Poll | None:
    """A closed, secret yes/no/abstain poll on item 1, voted by the registered members, with a
    hall count. Idempotent: does nothing if item 1 has a poll already. Needs a staff member."""
    item = conference.agenda.order_by("position").first()
    staff = Member.objects.filter(is_staff=True, is_active=True).order_by("pk").first()
    if item is None or staff is None or item.polls.exists():
        return None
    poll = services.poll_open(
        actor=staff,
        conference=conference,
        item=item,
        question="Soll die Basiskonferenz eine Mietenkampagne empfehlen?",
        kind=Poll.Kind.YES_NO,
        secret=True,
    )
    poll.conference = conference
    options = list(poll.options.order_by("position"))
    voters = Member.objects.filter(
        pk__in=Registration.objects.filter(conference=conference).values("member")
    ).order_by("pk")
    for index, member in enumerate(voters):
        choice = options[0] if index % 3 != 2 else options[index % 2 + 1]
        services.poll_vote(actor=member, poll=poll, option_ids=[choice.pk])
    services.poll_hall_count(
        actor=staff, poll=poll, counts={options[0].pk: 23, options[1].pk: 4, options[2].pk: 2}
    )
    return services.poll_close(actor=staff, poll=poll)

import pytest
from django.db import IntegrityError

from tests.factories import make_member


@pytest.mark.django_db
def test_berlin_has_twelve_district_associations():
    from deliberation.models import District

    assert District.objects.count() == 12


@pytest.mark.django_db
def test_display_names_are_unique_regardless_of_case(alice):
    with pytest.raises(IntegrityError):
        make_member(display_name="ALICE")


@pytest.mark.django_db
def test_guests_carry_a_visible_badge(gina):
    assert gina.is_guest
    assert gina.badge == "Initiative"

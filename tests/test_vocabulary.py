"""The unified vocabulary is in every fresh database, and codes map per fellowship."""

import pytest
from django.core.management import call_command

from recoverybridge.directory.models import Approach, Attribute, AttributeMapping, Fellowship


@pytest.mark.django_db
def test_every_kind_of_group_is_known():
    approaches = set(Fellowship.objects.values_list("approach", flat=True))
    assert approaches == {choice.value for choice in Approach}
    assert Fellowship.objects.filter(family_focused=True).count() >= 3


@pytest.mark.django_db
def test_meeting_guide_a_is_secular_for_aa_but_age_restricted_for_aca():
    default = AttributeMapping.objects.get(source_system="meeting-guide", fellowship=None, code="A")
    aca = AttributeMapping.objects.get(source_system="meeting-guide", fellowship__slug="aca", code="A")
    assert default.attribute.slug == "secular"
    assert aca.attribute.slug == "age-restricted"


@pytest.mark.django_db
def test_attribute_names_come_in_spanish():
    women = Attribute.objects.get(slug="women")
    assert women.name_in("es") == "Mujeres"
    assert women.name_in("en") == "Women"
    assert Attribute.objects.get(slug="language-es").language_code == "es"


@pytest.mark.django_db
def test_loading_the_vocabulary_again_changes_nothing():
    before = (Fellowship.objects.count(), Attribute.objects.count(), AttributeMapping.objects.count())
    call_command("load_vocabulary", verbosity=0)
    after = (Fellowship.objects.count(), Attribute.objects.count(), AttributeMapping.objects.count())
    assert before == after

import pytest


@pytest.fixture
def english(settings):
    """For tests that read the scoring run's messages in English (the catalogue also ships them in Chinese)."""
    settings.LANGUAGE_CODE = "en"

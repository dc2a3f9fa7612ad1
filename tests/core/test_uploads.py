"""The upload cap holds while the body is received: an upload over GUANXI_IMPORT_MAX_BYTES is refused with a
clear message naming the file, in the pages and the API, and nothing is stored — whether the body announces
its size (refused unread) or the file only turns out too large while it streams in."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.core.services import issue_token
from guanxi.customers.import_models import Import


@pytest.fixture(autouse=True)
def small_limit(settings, tmp_path):
    settings.HOME = tmp_path
    settings.IMPORT_MAX_BYTES = 2000


def csv_of(size: int) -> SimpleUploadedFile:
    data = "姓名,手机\n".encode()
    i = 0
    while len(data) < size - 30:
        data += f"张三{i},1380013{i % 10000:04d}\n".encode()
        i += 1
    return SimpleUploadedFile("big.csv", data, content_type="text/csv")


def stored_files(tmp_path) -> list[str]:
    return [name for _root, _dirs, files in os.walk(tmp_path) for name in files]


@pytest.mark.parametrize("size", [5_000, 3_000_000], ids=["stops-while-streaming", "refused-unread"])
def test_the_page_says_the_file_is_too_large_and_keeps_nothing(users, size, tmp_path):
    client = Client()
    client.force_login(users["rep_a"])
    response = client.post("/imports/new/", {"target": "contact", "file": csv_of(size)})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="file-error"' in text and "2.0 KB" in text
    assert not Import.objects.exists() and stored_files(tmp_path) == []


@pytest.mark.parametrize("size", [5_000, 3_000_000], ids=["stops-while-streaming", "refused-unread"])
def test_the_api_answers_413_naming_the_file(users, size, tmp_path):
    client = Client(headers={"Authorization": f"Bearer {issue_token(users['rep_a'])}"})
    response = client.post("/api/v1/imports", {"target": "contact", "file": csv_of(size)})
    assert response.status_code == 413, response.content
    assert "2.0 KB" in response.json()["errors"]["file"][0]
    assert not Import.objects.exists() and stored_files(tmp_path) == []


def test_a_file_under_the_limit_still_uploads(users):
    client = Client()
    client.force_login(users["rep_a"])
    response = client.post("/imports/new/", {"target": "contact", "file": csv_of(1_500)})
    assert response.status_code == 302
    assert Import.objects.count() == 1

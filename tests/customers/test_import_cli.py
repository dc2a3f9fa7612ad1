"""`guanxi import` on files: counts, the rejected-rows file, exit code 2 on a bad file."""

import json

import pytest

from guanxi.cli import main
from guanxi.customers.models import Contact


@pytest.fixture(autouse=True)
def home(settings, tmp_path):
    settings.HOME = tmp_path


def test_cli_imports_dry_runs_and_refuses_bad_files(users, tmp_path, capsys):
    data = tmp_path / "c.csv"
    data.write_bytes("姓名,电话号码,Mail\n张伟,138 0013 8000,z@x.cn\n坏,12,\n".encode("gb18030"))
    assert main(["import", str(data), "--user", "rep_a", "--dry-run"]) == 0
    assert "1 new" in capsys.readouterr().out and not Contact.objects.exists()
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"电话号码": "mobile"}))
    assert main(["import", str(data), "--user", "rep_a", "--mapping", str(mapping), "--match", "email"]) == 0
    out = capsys.readouterr().out
    assert "1 created" in out and "1 rejected" in out and "rejected.csv" in out
    assert Contact.objects.get().phone == "+8613800138000"
    bad = tmp_path / "bad.vcf"
    bad.write_bytes(b"BEGIN:VCARD\r\n\x00\x01\x02")
    assert main(["import", str(bad), "--user", "rep_a"]) == 2
    assert "file:" in capsys.readouterr().err
    assert main(["import", str(data), "--user", "viewer"]) == 2
    assert Contact.objects.count() == 1

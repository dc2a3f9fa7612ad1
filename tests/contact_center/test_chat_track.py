"""Visitor tracking over HTTP: /cc/track records page views (CORS for the site's origins, a rate limit per visitor,
field-named 400s) and /cc/widget.js serves the script."""

import json

import pytest

from guanxi.contact_center.chat_models import PageView, Visitor

from .conftest import ORIGIN

pytestmark = pytest.mark.django_db


def post(client, data, origin=ORIGIN, raw=None):
    return client.post("/cc/track", raw if raw is not None else json.dumps(data), content_type="application/json",
                       HTTP_ORIGIN=origin, HTTP_USER_AGENT="Mozilla/5.0 test")


def test_page_views_are_recorded_for_one_visitor(client, site):
    first = post(client, {"site": site.public_key, "url": "https://shop.example.cn/", "title": "首页 Home",
                          "referrer": "https://www.baidu.com/s?wd=x"})
    assert first.status_code == 200
    assert first["Access-Control-Allow-Origin"] == ORIGIN
    key = first.json()["visitor"]
    second = post(client, {"site": site.public_key, "visitor": key, "url": "https://shop.example.cn/p/1",
                           "title": "产品 " + "长" * 400})
    assert second.json()["visitor"] == key
    visitor = Visitor.objects.get(key=key)
    assert (visitor.page_count, visitor.current_url, visitor.user_agent) == (
        2, "https://shop.example.cn/p/1", "Mozilla/5.0 test")
    views = list(PageView.objects.filter(visitor=visitor).order_by("at", "id"))
    assert [v.url for v in views] == ["https://shop.example.cn/", "https://shop.example.cn/p/1"]
    assert views[0].referrer == "https://www.baidu.com/s?wd=x" and len(views[1].title) == 300  # capped


def test_preflight_and_widget_script(client, site):
    preflight = client.options("/cc/track", HTTP_ORIGIN=ORIGIN)
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    script = client.get("/cc/widget.js")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    body = script.content.decode()
    assert "textContent" in body and "innerHTML" not in body and "在线咨询" in body and "Chat with us" in body


@pytest.mark.parametrize(("data", "field"), [
    ({"url": "https://shop.example.cn/"}, "site"),
    ({"site": "x" * 20, "url": "https://shop.example.cn/"}, "site"),
    ({"site": None}, "url"),
    ({"site": None, "url": "javascript:alert(1)"}, "url"),
    ({"site": None, "url": "https://shop.example.cn/" + "a" * 2000}, "url"),
    ({"site": None, "url": 42}, "url"),
    ({"site": None, "url": "https://shop.example.cn/", "visitor": "not a key!"}, "visitor"),
    ({"site": None, "url": "https://shop.example.cn/", "referrer": ["x"]}, "referrer"),
    ({"site": None, "url": "https://shop.example.cn/", "title": {"a": 1}}, "title"),
])
def test_bad_input_is_a_400_naming_the_field(client, site, data, field):
    data = {**data, "site": site.public_key} if "site" in data and data["site"] is None else data
    response = post(client, data)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not PageView.objects.exists()


def test_malformed_bodies_and_methods(client, site):
    assert post(client, None, raw="{not json").json()["errors"].keys() == {"body"}
    assert post(client, None, raw="[1, 2]").status_code == 400
    assert post(client, None, raw=json.dumps({"site": site.public_key, "url": "https://a.cn/" + "x" * 20000})
                ).status_code == 413
    assert client.get("/cc/track").status_code == 405


def test_other_origins_are_refused(client, site):
    response = post(client, {"site": site.public_key, "url": "https://evil.example.com/"},
                    origin="https://evil.example.com")
    assert response.status_code == 403 and "origin" in response.json()["errors"]
    assert "Access-Control-Allow-Origin" not in response


def test_rate_limit_per_visitor(client, site, settings):
    settings.CC_TRACK_PER_MINUTE = 3
    key = post(client, {"site": site.public_key, "url": "https://shop.example.cn/"}).json()["visitor"]
    codes = [post(client, {"site": site.public_key, "visitor": key, "url": f"https://shop.example.cn/{i}"}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]  # the first view was counted by address, before the visitor had a key
    assert Visitor.objects.get(key=key).page_count == 4
    other = post(client, {"site": site.public_key, "url": "https://shop.example.cn/"})
    assert other.status_code == 200  # another visitor (here: a first view, counted by address) is not held up

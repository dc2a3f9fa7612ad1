"""The phone system's settings (administrators only: PBX connections with encrypted passwords, agents'
extensions) and click-to-call, which asks the scripted AMI peer to originate from the agent's extension."""

import pytest

from guanxi.contact_center.call_models import AgentPhone, PbxConnection

from .amipeer import AmiPeer

pytestmark = pytest.mark.django_db


def test_only_administrators_set_up_the_phone_system(client, users):
    client.force_login(users["manager_a"])
    assert client.get("/settings/phone/").status_code == 403
    assert client.post("/settings/phone/pbx/new/", {"name": "x"}).status_code == 403
    client.force_login(users["admin"])
    page = client.get("/settings/phone/")
    assert page.status_code == 200 and 'id="nav-phone"' in page.content.decode()


def test_ami_connection_form_keeps_the_password_encrypted(client, users):
    client.force_login(users["admin"])
    bad = client.post("/settings/phone/pbx/new/", {"name": "", "kind": "ami", "ami_port": "99999"})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert html.count("invalid-feedback") == 4  # name, host, port, user
    done = client.post("/settings/phone/pbx/new/", {"name": "总机", "kind": "ami", "ami_host": "10.0.0.5",
                                                    "ami_port": "5038", "ami_username": "guanxi",
                                                    "ami_password": "pa55", "active": "on",
                                                    "originate_context": "from-internal",
                                                    "channel_technology": "PJSIP"})
    source = PbxConnection.objects.get()
    assert done.status_code == 302 and source.ami_password == "pa55" and "pa55" not in source.ami_password_enc
    assert len(source.secret) >= 32  # every connection gets a webhook secret
    client.post(f"/settings/phone/pbx/{source.pk}/", {"name": "总机", "kind": "ami", "ami_host": "10.0.0.6",
                                                      "ami_port": "5038", "ami_username": "guanxi", "active": "on"})
    source.refresh_from_db()
    assert source.ami_host == "10.0.0.6" and source.ami_password == "pa55"  # blank keeps the password
    page = client.get(f"/settings/phone/pbx/{source.pk}/").content.decode()
    assert "pa55" not in page and f"/cc/cti/webhook/{source.key}" in page


def test_extensions_belong_to_one_agent(client, users, agent):
    client.force_login(users["admin"])
    client.post("/settings/phone/", {"user_id": agent.pk, "extension": "1001"})
    client.post("/settings/phone/", {"user_id": users["rep_a"].pk, "extension": "1001"})
    refused = client.post("/settings/phone/", {"user_id": users["rep_a"].pk, "extension": "abc"}, follow=True)
    assert "An extension is up to 20 digits." in refused.content.decode()
    assert list(AgentPhone.objects.values_list("user__username", "extension")) == [("agent_li", "1001")]
    client.post("/settings/phone/", {"user_id": agent.pk, "extension": "1005"})
    assert AgentPhone.objects.get().extension == "1005"
    page = client.get("/settings/phone/").content.decode()
    assert 'data-extension="1005"' in page


def test_click_to_call_originates_from_the_agents_extension(client, users, agent, agent_phone):
    client.force_login(agent)
    # No PBX yet: a 400 (the page's script then opens the tel: link)
    assert client.post("/cc/cti/call/", {"number": "13800138000"}).status_code == 400
    with AmiPeer() as peer:
        from guanxi.contact_center.call_services import save_connection

        save_connection(users["admin"], None, {"name": "Asterisk", "kind": "ami", "ami_host": "127.0.0.1",
                                               "ami_port": peer.port, "ami_username": "guanxi",
                                               "ami_password": "s3cret", "originate_context": "outbound",
                                               "channel_technology": "SIP", "active": True})
        response = client.post("/cc/cti/call/", {"number": "138 0013 8000"})
        assert client.post("/cc/cti/call/", {"number": "call me"}).json()["errors"].keys() == {"number"}
    assert response.status_code == 200 and response.json()["number"] == "+8613800138000"
    originate = next(a for a in peer.actions if a.get("Action") == "Originate")
    assert (originate["Channel"], originate["Exten"], originate["Context"]) == ("SIP/1001", "+8613800138000",
                                                                              "outbound")
    # The PBX gone: a 502 saying so, never a 500
    failed = client.post("/cc/cti/call/", {"number": "13800138000"})
    assert failed.status_code == 502 and "did not take the call" in failed.json()["detail"]


def test_pages_carry_the_phone_script_for_agents_not_viewers(client, users, zhang):
    _account, contact = zhang
    client.force_login(users["rep_a"])
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'id="gx-phone"' in page and "contact_center/phone.js" in page and 'href="tel:+8613800138000"' in page
    client.force_login(users["viewer"])
    assert 'id="gx-phone"' not in client.get("/").content.decode()

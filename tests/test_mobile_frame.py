"""手机版 (/m/): the frame every mobile page shares."""
from __future__ import annotations


def test_the_mobile_workspace_needs_a_login_and_opens_on_today(client, make_user):
    make_user("li")
    anonymous = client.get("/m/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    client.login("li")
    page = client.get("/m/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="viewport"' in html and "kechi-mobile.css" in html
    assert "m-tab-on" in html and "今日" in html  # the tab bar lights the page one is on
    assert "bootstrap" not in html.lower()  # a phone on 4G does not download the admin's framework


def test_only_mobile_pages_may_ask_for_the_position_and_the_camera(client, make_user):
    make_user("li")
    client.login("li")
    assert "geolocation=(self)" in client.get("/m/").headers["Permissions-Policy"]
    assert "geolocation=()" in client.get("/admin/").headers["Permissions-Policy"]

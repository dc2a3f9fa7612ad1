import pytest

from guanxi.knowledge import services


@pytest.fixture
def kb(users):
    """Published articles in both languages (one internal), a draft, and an article where 密码 is only in the body."""
    admin = users["admin"]
    make = services.create_article
    return {
        "reset_zh": make(admin, {"title": "如何重置密码", "body": "打开**设置**，点击“忘记密码”，按短信验证码重置。",
                                 "visibility": "public", "status": "published", "tags": ["账号"]}),
        "reset_en": make(admin, {"title": "How to reset a password", "language": "en", "visibility": "public",
                                 "body": "Open *Settings* and choose **Forgot password**.", "status": "published"}),
        "vpn": make(admin, {"title": "VPN 连接失败的排查", "body": "先检查网络，再确认账号密码是否过期。",
                            "visibility": "internal", "status": "published"}),
        "invoice": make(admin, {"title": "发票开具流程", "body": "开票信息需与合同一致。", "visibility": "public",
                                "status": "published"}),
        "draft": make(admin, {"title": "退款政策（草稿）", "body": "退款需在七天内申请。", "visibility": "public"}),
    }

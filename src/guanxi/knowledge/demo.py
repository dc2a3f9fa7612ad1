"""Demo knowledge base: a few bilingual articles in two categories, one earlier version, some votes and portal
searches (so the FAQ page has numbers), and a pinned bulletin with a comment. Written through the services
(a handful of rows, so audited like real ones); added once, when the knowledge base is empty.

Called by `guanxi.core.demo.load` inside its transaction, after the opportunities.
"""

from __future__ import annotations

from guanxi.core.models import Team, User

from . import services
from .models import Article, SearchSource

CATEGORIES = ("账号与登录", "发票与付款")
# (category index, title, language, visibility, body)
ARTICLES = (
    (0, "如何重置密码", "zh-hans", "public",
     "1. 打开登录页，点击 **忘记密码**。\n2. 输入手机号，收到短信验证码后设置新密码。\n\n"
     "新密码至少 8 位，包含字母和数字。"),
    (0, "How to reset a password", "en", "public",
     "1. On the sign-in page choose **Forgot password**.\n2. Enter your mobile number, then the SMS code, "
     "and choose a new password.\n\nPasswords have at least 8 characters, letters and digits."),
    (0, "账号被锁定怎么办", "zh-hans", "public",
     "连续 5 次输错密码后账号锁定 15 分钟。等待后重试，或联系客服解锁。"),
    (1, "发票开具流程", "zh-hans", "public",
     "付款后 3 个工作日内开具增值税发票。开票信息需与合同一致：\n\n- 公司名称\n- 纳税人识别号\n- 开户行及账号"),
    (1, "How to request an invoice", "en", "public",
     "Invoices (fapiao) are issued within 3 working days of payment. The company name and tax number must "
     "match the contract."),
    (1, "退款审批（内部）", "zh-hans", "internal",
     "退款金额超过 1 万元需客服经理审批，在工单中 @孙敏。"),
)
SEARCHES = (("如何重置密码", True), ("忘记密码", True), ("重置密码", False), ("发票", True), ("开发票", None),
            ("reset password", True), ("账号锁定", None))


def create_demo_knowledge() -> None:
    if Article.objects.exists():
        return
    author = (User.objects.filter(username="service").first()
              or User.objects.filter(is_active=True, role="admin").first())
    if author is None or not author.can_edit:
        return
    categories = [services.create_category(author, {"name": name}) for name in CATEGORIES]
    articles = [
        services.create_article(author, {"title": title, "body": body, "language": language,
                                         "visibility": visibility, "category_id": categories[cat].pk,
                                         "status": "published"})
        for cat, title, language, visibility, body in ARTICLES
    ]
    first = articles[0]
    services.update_article(author, first, {"body": first.body + "\n\n仍无法登录？请联系客服 400-800-8888。"},
                            first.version)  # an earlier version to look at and restore
    for i, article in enumerate(articles[:4]):
        services.rate_article(article, helpful=i != 2, visitor_key=f"demo-visitor-{i}")
    for i, (query, deflected) in enumerate(SEARCHES):
        log = services.record_search(query, results_count=1, visitor_key=f"demo-visitor-{i}",
                                     source=SearchSource.PORTAL)
        if log is not None and deflected is not None:
            services.mark_search(log, ended_without_ticket=deflected)
    team = Team.objects.filter(name="客服部").first()
    bulletin = services.post_bulletin(author, {
        "title": "本周常见问题：密码重置 / This week: password resets",
        "body": "最近很多客户问到密码重置，请直接发送知识库文章链接。\n\n"
                "Many customers ask about password resets: send them the knowledge-base article.",
        "team_id": team.pk if team and author.team_id == team.pk else None, "pinned": True})
    agent = User.objects.filter(username="agent1").first()
    if agent is not None:
        services.comment_bulletin(agent, bulletin, "收到，已整理成快捷回复。")

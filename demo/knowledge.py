"""Demo 知识库: categories and about twenty articles and Q&As an after-sales desk of the demo tea
firm would keep (tea storage and brewing, teaware care, orders, delivery, returns, invoices),
most published, one draft and one archived, with helpful votes and reads, so the list, the
search and the ticket reply picker have something true to show."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Role, User
from models.knowledge import ArticleKind, KbArticle, KbCategory
from rules import knowledge
from rules.actor import Actor

CATEGORIES = ["茶叶储存与冲泡", "茶具使用与保养", "订单与配送", "退换货与售后", "发票与付款"]

# (category, kind, title, question or None, answer or body, tags)
ARTICLES: list[tuple[str, ArticleKind, str, str | None, str, tuple[str, ...]]] = [
    ("茶叶储存与冲泡", ArticleKind.QA, "龙井买回来怎么保存？", "客户问：明前龙井开封后放冰箱可以吗？",
     "未开封的龙井放冰箱冷藏（0–5℃）可保存 12 个月；开封后请把袋口压紧、夹好，放在密封罐里，避免和有气味的食物同放，"
     "建议 2 个月内喝完。从冰箱取出后先放到室温再开罐，防止受潮。", ("龙井", "储存", "绿茶")),
    ("茶叶储存与冲泡", ArticleKind.QA, "绿茶用多少度的水泡？", "客户反映：龙井泡出来发苦、汤色发黄。",
     "绿茶娇嫩，用 80–85℃ 的水冲泡，先注水再投茶（上投法）；3 克茶配 150 毫升水，第一泡 1 分钟即可出汤。"
     "发苦多是水温太高或泡得太久。", ("绿茶", "冲泡", "龙井")),
    ("茶叶储存与冲泡", ArticleKind.QA, "普洱茶饼怎么撬开？", "客户问：357克的普洱茶饼太硬，怎么拆？",
     "用茶针从茶饼侧面顺着条索斜插进去，轻轻撬起一层一层剥开，不要从中间硬戳，以免碎茶太多。"
     "拆开的茶叶放在透气的纸袋或陶罐中，远离异味。", ("普洱", "冲泡")),
    ("茶叶储存与冲泡", ArticleKind.QA, "红茶能放多久？保质期是多少？", "客户问：祁门红茶的保质期到什么时候？",
     "包装上标注的保质期为 36 个月。红茶属于全发酵茶，常温避光、干燥、密封保存即可，不需要放冰箱。"
     "超过保质期的茶叶如无异味、无霉变仍可饮用，但香气会减弱。", ("红茶", "保质期", "储存")),
    ("茶叶储存与冲泡", ArticleKind.ARTICLE, "咖啡豆研磨度与冲煮方式对照", None,
     "<p>云南小粒咖啡豆建议现磨现喝：</p><ul><li>手冲：中细研磨，像砂糖颗粒；</li><li>法压壶：粗研磨，像海盐；</li>"
     "<li>意式咖啡机：细研磨，像面粉。</li></ul><p>开封后请用单向排气阀袋密封，两周内喝完风味最佳。</p>",
     ("咖啡", "研磨")),
    ("茶具使用与保养", ArticleKind.QA, "新紫砂壶第一次怎么用？", "客户问：宜兴紫砂壶买回来要开壶吗？",
     "新壶先用清水冲洗内外，再放入干净无油的锅中，加清水没过壶身，小火煮 30 分钟；"
     "之后用准备长期泡的茶叶再煮 10 分钟，取出自然晾干即可使用。请勿使用洗洁精清洗紫砂壶。", ("紫砂壶", "开壶")),
    ("茶具使用与保养", ArticleKind.QA, "紫砂壶壶盖和壶身不严怎么办？", "客户投诉：紫砂壶的盖子有点晃，倒茶时漏水。",
     "手工紫砂壶盖与壶身存在轻微间隙属正常工艺特点；如出水时从壶盖处明显漏水，请拍摄视频发给客服，"
     "经确认属质量问题的，签收 30 天内可免费换新。", ("紫砂壶", "漏水", "质量问题")),
    ("茶具使用与保养", ArticleKind.QA, "玻璃煮茶壶可以直接放在燃气灶上吗？", "客户问：玻璃煮茶壶能明火加热吗？",
     "可以。本款为高硼硅耐热玻璃，可用于燃气灶、电陶炉，不可用于电磁炉。使用时请先小火预热，"
     "不要干烧，也不要在高温时直接接触冷水，以免炸裂。", ("煮茶壶", "玻璃", "安全")),
    ("茶具使用与保养", ArticleKind.QA, "品茗杯有茶垢怎么清洗？", "客户问：青瓷杯子里有茶渍洗不掉。",
     "用小苏打或柠檬片加少量温水浸泡 15 分钟，再用软布擦拭即可；不要用钢丝球，以免划伤釉面。", ("茶垢", "清洁", "青瓷")),
    ("订单与配送", ArticleKind.QA, "下单后多久发货？", "客户问：今天下单什么时候能发出？",
     "工作日 16:00 前付款的订单当天发出，之后的次日发出；节假日顺延。华东地区由上海仓发货，华南地区由广州仓发货，"
     "一般 1–3 天送达。", ("发货", "时效")),
    ("订单与配送", ArticleKind.QA, "怎么查快递到哪了？", "客户来电：订单显示已发货，但一直没收到。",
     "在订单详情中可以看到承运商和运单号（顺丰、中通、京东物流等），请到对应快递官网查询；"
     "如物流 3 天未更新，客服会联系快递公司核实，必要时补发。", ("快递", "物流查询")),
    ("订单与配送", ArticleKind.QA, "可以修改收货地址吗？", "客户问：下单后地址写错了能改吗？",
     "订单尚未发货时可以直接修改，请提供订单号和新地址；已发货的订单需联系快递改派，可能产生改派费用。", ("地址", "修改订单")),
    ("订单与配送", ArticleKind.ARTICLE, "企业团购与礼盒定制流程", None,
     "<p>企业采购龙井礼盒、茶具礼盒 50 套以上可享受团购价：</p><ol><li>业务员确认数量、规格和交期；</li>"
     "<li>出具报价单并签订合同；</li><li>支付 30% 定金后安排生产（定制印刷约 7 个工作日）；</li>"
     "<li>验收付清尾款后统一发货或按名单分发。</li></ol>", ("礼盒", "团购", "定制")),
    ("退换货与售后", ArticleKind.QA, "收到的茶具破损了怎么办？", "客户投诉：快递送到时紫砂壶壶嘴碎了。",
     "非常抱歉。请在签收 48 小时内拍照（外箱、内包装和破损处）发给客服，我们核实后免费补发，无需退回破损商品。",
     ("破损", "补发", "投诉")),
    ("退换货与售后", ArticleKind.QA, "茶叶可以退货吗？", "客户问：茶叶喝不惯，能退吗？",
     "茶叶属于食品，未拆封且签收 7 天内可以退货，运费由客户承担；已拆封的茶叶如无质量问题不支持退货。"
     "如有受潮、异味等质量问题，请拍照反馈，我们免费退换。", ("退货", "茶叶", "政策")),
    ("退换货与售后", ArticleKind.QA, "发错规格怎么处理？", "客户反映：订的是 500g 碧螺春，收到的是 250g。",
     "确认为我方发错后，我们安排快递上门取件并补发正确规格，往返运费由我方承担，一般 3 个工作日内完成。",
     ("发错货", "换货")),
    ("退换货与售后", ArticleKind.ARTICLE, "客服处理投诉的五个步骤", None,
     "<p>1. 倾听并复述客户的问题，先道歉安抚情绪；2. 在工单里记录订单号、产品和照片；3. 判断责任：物流、质量还是使用不当；"
     "4. 给出方案（补发、换货、退款或上门）并告知时限；5. 处理完成后回访，请客户评价满意度。</p>",
     ("投诉", "流程", "回访")),
    ("发票与付款", ArticleKind.QA, "怎么开增值税专用发票？", "客户问：公司采购需要开专票。",
     "请提供公司全称、税号、开户行及账号、注册地址和电话；专票在订单完成、款项到账后 5 个工作日内开具并邮寄。",
     ("发票", "专票")),
    ("发票与付款", ArticleKind.QA, "支持哪些付款方式？", "客户问：可以月结吗？",
     "支持银行转账、微信和支付宝。合作满半年、信用良好的企业客户可申请月结，账期 30 天，由销售经理审批。",
     ("付款", "月结")),
    ("发票与付款", ArticleKind.QA, "发票抬头开错了能重开吗？", "客户反映：发票抬头少了“有限公司”。",
     "可以。普通电子发票直接作废重开；纸质专票需先寄回原发票（跨月的需客户开具红字信息表），收到后 3 个工作日内重开。",
     ("发票", "重开")),
]
DRAFT = ("退换货与售后", ArticleKind.QA, "茶具礼盒少了杯子怎么办？（待确认）", "客户反映：茶具礼盒里只有 3 个杯子。",
         "请客户拍照开箱视频，我们核实后补发缺少的杯子。（补发流程待仓库确认）", ("礼盒", "缺件"))
ARCHIVED = ("订单与配送", ArticleKind.QA, "春节期间发货安排（去年）", "客户问：春节放假还发货吗？",
            "腊月廿五至正月初七暂停发货，期间订单节后按付款顺序发出。", ("春节", "发货"))


def _author(session: Session) -> User | None:
    """A knowledge editor of the demo (客服主管, else the administrator)."""
    for role in ("客服主管", "客服", "系统管理员"):
        user = session.scalar(select(User).join(Role, User.role_id == Role.id).where(Role.name == role, User.active.is_(True))
                              .order_by(User.id).limit(1))
        if user is not None:
            return user
    return None


def seed_knowledge(session: Session, users: dict[str, User], *, now: datetime) -> None:
    """Idempotent: does nothing once any article exists."""
    if session.scalar(select(func.count(KbArticle.id))):
        return
    author = _author(session)
    if author is None:
        return
    actor = Actor.from_user(author, has_shares=False)
    categories = {}
    for order, name in enumerate(CATEGORIES):
        categories[name] = KbCategory(name=name, sort_order=order * 10)
        session.add(categories[name])
    readers = [u for u in users.values() if u.id != author.id]
    for n, (category, kind, title, question, text_, tags) in enumerate([*ARTICLES, DRAFT, ARCHIVED]):
        article = KbArticle(kind=kind, title=title, category=categories[category], question=question,
                            answer=text_ if kind == ArticleKind.QA else None,
                            body=text_ if kind == ArticleKind.ARTICLE else None)
        knowledge.save(session, article, actor=actor, tags=list(tags), created=True)
        when = now - timedelta(days=60 - 2 * n)
        if title == DRAFT[2]:
            continue
        knowledge.move(session, article.id, "publish", actor=actor, now=when)
        if title == ARCHIVED[2]:
            knowledge.move(session, article.id, "archive", actor=actor, now=when)
        for i, reader in enumerate(readers[: n % 6]):
            knowledge.vote(session, article, actor=Actor.from_user(reader, has_shares=False), helpful=i % 4 != 3,
                           now=when)
        session.execute(update(KbArticle).where(KbArticle.id == article.id)
                        .values(views=(n * 7) % 40 + 3, updated_at=KbArticle.updated_at))

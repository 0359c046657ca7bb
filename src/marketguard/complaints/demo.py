"""Demo complaints: about 90 cases over the last 90 days, made through the services (so every rule
applies) at the times they would have happened.

Called by `marketguard demo` once the catalog and the demo accounts exist. Deterministic per seed
(for the same catalog and the same current time), and done once: nothing is made when cases exist.

- Each case gets a creation time in the last 90 days (a few more in recent weeks, mostly in the day
  and evening, China time) and an order delivered before it, usually days before. Its text is
  picked for the category of the order's product (the product a case is filed against is the
  order's first item) and for what can have happened by then: a wrong item is reported within
  days of delivery, a sole coming unglued after weeks; a late parcel only when the shipment was
  late; a 7-day no-reason return only within the window and for an eligible category. Personal
  safety texts are kept for two or three products where they are plausible (a power bank, a
  charger, a pan, a toy with small parts).
- Each case follows a scenario (a refund agreed within hours, a return that waits for the goods,
  a slow merchant, a silent merchant, a dispute ruled by the platform ...): later steps, each at a
  plausible time (agents work 8:00-23:00, merchants 9:00-22:00, a safety case is answered around
  the clock). Steps after the current time are not taken, so recent cases are still open at
  whatever stage they had reached.
- All steps of all cases run in time order, each inside `time_machine.travel(at, tick=False)`, so
  every time the services write (case fields, timeline, SLA deadlines, audit trail, alerts) is
  the step's time and the audit trail stays in time order. Between steps the SLA sweep runs at
  the minutes deadlines pass, as the worker would have (warnings, breaches, automatic approval,
  returns never sent back, resolved cases nobody rated being closed); a last sweep runs at the
  current time.
- Evidence, through `services.add_evidence` by the side that has it, at the moment in the story
  it would be sent: photos with the intake form on some cases a consumer files, photos before the
  consumer writes that they sent them (after a request for materials or a merchant's question),
  photos before asking the platform in; the shop's chat log with a partial offer now and then,
  and its records (a chat log, a dispatch or quality check form as PDF) once the platform is
  asked in. Each photo is tagged with the checklist item it shows, so the materials list ticks.
  The pictures are drawn with Pillow (no text, no fonts, nothing downloaded), a few variants of
  each, reused (a file is stored once by its content).
- The buyers of the cases get consumer logins without a usable password (so they can accept
  proposals and rate the service), and every merchant in a case gets a staff login. The demo
  `consumer` files a handful of cases against the demo `merchant`'s shop, left at different
  stages: closed and rated, resolved, under platform review, negotiating.
"""

from __future__ import annotations

import functools
import io
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from marketguard.catalog.models import Buyer, Merchant, Order
from marketguard.complaints import materials, services, workflow
from marketguard.complaints import postage as postage_rules
from marketguard.complaints.models import Case, MaterialRequest, Proposal, Rating, Remedy
from marketguard.core import services as core_services
from marketguard.core.context import acting
from marketguard.core.errors import DomainError
from marketguard.core.models import Role, User

WINDOW_DAYS = 90
#: How far back an order may lie when the catalog has nothing more recent (it was loaded long ago).
ANY_AGE = 3650
DELIVERED = ("delivered", "completed")


# --- texts, per product category -----------------------------------------------------------------


@dataclass(frozen=True)
class DemoText:
    """A complaint text and what it fits: category codes (any level of the catalog's category tree,
    or "*" for every category); `needs`: words of which the product's title must hold one, when
    the text names a kind of product its category has among others (a non-stick pan, a pot);
    `items`: the pieces the order must hold (a text about a missing one). `when`: "early" =
    reported within days of delivery, "late" = about a parcel that came later than promised,
    "any" = also weeks later."""

    codes: tuple[str, ...]
    kind: str
    problem_type: str
    text: str
    when: str = "any"
    needs: tuple[str, ...] = ()
    items: int = 1

    @property
    def english(self) -> bool:
        return self.text.isascii()

    def fits(self, category_codes, title: str | None = None, items: int | None = None) -> bool:
        """Whether the text fits a product whose category path holds these codes (and, when
        given, with this title, in an order of this many pieces)."""
        if "*" not in self.codes and not set(self.codes) & set(category_codes):
            return False
        if title is not None and self.needs and not any(word in title for word in self.needs):
            return False
        return items is None or items >= self.items


def _t(codes: str, kind: str, problem_type: str, text: str, when="any", *, needs="", items=1) -> DemoText:
    return DemoText(tuple(codes.split()), kind, problem_type, text, when, tuple(needs.split()), items)


# Codes: C01 clothing (C0101 menswear: C010101 T-shirts; C0102 womenswear: C010201 dresses,
# C010202 underwear; C0103 children's wear: C010301 kids' tops, C010302 infant wear; C0104
# footwear), C02 food (C0201 prepackaged: C020101 snacks, C020102 health food; C0202 fresh: C020201
# fruit, C020202 meat and eggs), C03 beauty (C030101 skincare, C030102 sunscreen), C04 mother and
# baby (C040101 bottles and teats, C040102 tableware, C0402 strollers), C05 electronics (C0501 phone
# accessories: C050101 power banks, C050102 chargers; C0502 headphones), C06 home (C060101 pots and
# pans, C0602 bedding), C07 toys (C0701 plastic, C0702 plush), C08 books and media (C0801 books,
# C0802 music and video, C0803 software), C09 made to order (C0901 apparel, C0902 engraved gifts).
# fmt: off
TEXTS: tuple[DemoText, ...] = (
    # every category
    _t("*", "complaint", "service_attitude", "问商家能不能补发或者换货，客服一直用机器人自动回复，转人工也没人理，已经三天了。"),
    _t("*", "complaint", "service_attitude", "申请售后之后商家一直不处理，消息已读不回，打店铺电话也没人接。"),
    _t("*", "complaint", "service_attitude", "The seller's customer service ignored my messages for four days and then told me to stop bothering them."),
    # clothing and shoes
    _t("C01", "complaint", "logistics_delay", "页面承诺48小时内发货，结果拖了五天才发，物流信息也好几天不更新，到手比承诺晚了一个星期。", "late"),
    _t("C01", "exchange", "wrong_or_missing_item", "我买的是黑色，发来的是灰色，包装袋上的标签写的也是灰色，麻烦给我换成黑色。", "early"),
    _t("C01", "return_refund", "no_reason_return_7day", "收到后试了一下不太喜欢，没有穿过，吊牌都还在，申请七天无理由退货。", "early"),
    _t("C01", "complaint", "service_attitude", "问客服能不能开发票，先是已读不回，后来回了一句“爱买不买”，态度太差了。"),
    _t("C01", "complaint", "logistics_delay", "Paid for express shipping but the parcel sat at the depot for four days with no update and arrived a week late.", "late"),
    _t("C0101 C0102 C0103", "return_refund", "quality", "衣服洗了一次就严重掉色，还把同一缸洗的白衬衫染了，申请退货退款。"),
    _t("C0101 C0102 C0103", "complaint", "false_advertising", "详情页写的是100%纯棉，收到后看吊牌成分是65%聚酯纤维，这属于虚假宣传。", needs="纯棉 全棉"),
    _t("C0101 C010201", "exchange", "size_mismatch", "按尺码表选的L码，实际衣长比标注短了5厘米，想换大一码。", "early"),
    _t("C01", "refund_only", "wrong_or_missing_item", "包裹里少了一件，订单上的另一件没发，申请退这一件的钱。", "early", items=2),
    _t("C0101 C010201 C0103", "compensation", "quality", "只穿了两次腋下就开线了，袖口也起球，做工太粗糙，要求商家给个说法。"),
    _t("C0101 C010201 C0103", "return_refund", "quality", "The seams on the sleeve came apart after the first wash. Poor stitching, I want to return it."),
    _t("C0101 C0102", "complaint", "counterfeit", "吊牌上的防伪码在品牌官网查不到，领标的字体也和专柜的不一样，怀疑不是正品。"),
    _t("C010101", "refund_only", "quality", "T恤领口洗了两次就变形松垮了，下摆也开线，申请退款。"),
    _t("C010201", "return_refund", "quality", "连衣裙洗一次就起球，裙摆还有几处脱线，质量太差了。"),
    _t("C010201", "return_refund", "false_advertising", "连衣裙实物颜色和主图差别很大，主图是雾霾蓝，收到的明显偏灰绿，色差太大。", "early"),
    _t("C010201", "return_refund", "false_advertising", "The dress is described as silk but the care label says 100% polyester. Not as described.", needs="真丝"),
    _t("C010202", "return_refund", "false_advertising", "页面写的是无钢圈，收到的文胸里面有钢圈，和描述不符。", "early", needs="文胸"),
    _t("C010202", "refund_only", "wrong_or_missing_item", "内裤买的三条装只收到两条，包装袋还是拆开过的。", "early", needs="3条装"),
    _t("C010301", "complaint", "false_advertising", "详情页写着无绳带设计，收到的衣服帽子上有抽绳，和宣传不一样。", needs="卫衣 外套"),
    _t("C0103", "return_refund", "quality", "童装洗了一次就缩水了一个码，袖子短了一截，没法再穿。"),
    _t("C010302", "return_refund", "quality", "婴儿连体衣的按扣用了几次就松了，有两颗已经脱落，线头也很多。", needs="连体衣 爬服"),
    _t("C010302", "complaint", "false_advertising", "宝宝衣服页面写的是A类，收到的吊牌上没有安全类别，也没有执行标准。"),
    _t("C010302", "exchange", "wrong_or_missing_item", "收到的尺码和下单选的月龄不一样，小了一档，麻烦换一下。", "early"),
    _t("C0104", "return_refund", "quality", "鞋子穿了不到一个月鞋底就开胶了，下雨天直接进水。"),
    _t("C0104", "exchange", "size_mismatch", "平时穿40码，这双40码明显偏小，前面顶得很紧，想换41码。", "early"),
    _t("C0104", "complaint", "counterfeit", "鞋标和鞋盒上的货号对不上，鞋垫上的logo也是歪的，怀疑是假货。"),
    _t("C0104", "exchange", "quality", "两只鞋颜色深浅不一样，鞋面还有胶水印，明显是瑕疵品。", "early"),
    _t("C0104", "exchange", "size_mismatch", "Ordered size 42 but these run at least one size small. I'd like to exchange them for a 43.", "early"),
    _t("C0104", "return_refund", "quality", "The sole started peeling off after two weeks of normal walking."),
    _t("C0104", "compensation", "quality", "鞋子穿了一个多月鞋面就开裂了，要求商家补偿。"),
    # food
    _t("C02", "complaint", "logistics_delay", "说好的次日达，结果路上走了四天，物流一直显示在中转站，到手已经过了最佳食用期。", "late"),
    _t("C02", "refund_only", "wrong_or_missing_item", "买了两份只到了一份，物流却显示全部签收了。", "early", items=2),
    _t("C020101", "refund_only", "false_advertising", "收到的零食生产日期是去年的，离过期只剩半个月，详情页写的是新鲜日期。", "early"),
    _t("C020101", "refund_only", "quality", "坚果有一股哈喇味，打开好几袋都是这样，应该是放太久变质了。", "early", needs="坚果"),
    _t("C020101", "refund_only", "quality", "零食包装袋漏气，打开里面的东西都受潮变软了。", "early"),
    _t("C020102", "complaint", "false_advertising", "保健品详情页说能降血压、调理身体，包装上根本没有这个功效说明，这是虚假宣传。"),
    _t("C020102", "refund_only", "false_advertising", "页面写的是一瓶120粒，收到的只有60粒，规格和宣传的不一样。", "early"),
    _t("C020201", "refund_only", "quality", "The fruit arrived bruised and almost half of it was already rotten.", "early"),
    _t("C020201", "refund_only", "quality", "水果到手有三分之一是烂的，还有好几个压坏了，申请部分退款。", "early"),
    _t("C020201", "refund_only", "false_advertising", "称了一下比标的重量少了将近一斤，缺斤少两。", "early"),
    _t("C020202", "refund_only", "quality", "冷鲜肉送到的时候已经有异味了，包装也胀袋了，不敢吃。", "early", needs="肉 牛排"),
    _t("C020202", "refund_only", "false_advertising", "牛排说是原切，解冻后明显是拼接的合成肉，和宣传不符。", "early", needs="牛排"),
    _t("C020202", "refund_only", "quality", "土鸡蛋收到碎了七八个，蛋液流得整箱都是。", "early", needs="鸡蛋"),
    _t("C020202", "complaint", "logistics_delay", "说好的冷链配送，快递在路上多走了三天，送到时冰袋早就化了。", "late"),
    # beauty
    _t("C03", "complaint", "counterfeit", "产品批号在品牌官网查不到，瓶身的字体也和专柜的不一样，怀疑是假货。"),
    _t("C03", "refund_only", "false_advertising", "保质期只剩三个月，页面上完全没有说明是临期品。", "early"),
    _t("C03", "refund_only", "quality", "The seal under the cap was already broken and the product looks used. I want a refund.", "early"),
    _t("C030101", "refund_only", "quality", "收到时瓶盖是松的，漏了小半瓶，外包装都湿了。", "early"),
    _t("C030101", "exchange", "wrong_or_missing_item", "收到的和下单的不是同一款，包装上的品名都不一样，发错货了。", "early"),
    _t("C030101", "refund_only", "false_advertising", "页面写的是正装，收到的是小规格的旅行装，容量差了一大半。", "early"),
    _t("C030102", "return_refund", "false_advertising", "页面宣传的防晒指数和包装上标的不一样，包装上的要低很多，货不对板。", "early"),
    _t("C030102", "return_refund", "quality", "防晒喷雾按了几下就喷不出来了，喷头堵塞，基本没法用。", needs="喷雾"),
    _t("C030102", "refund_only", "quality", "防晒乳挤出来是水油分离的，摇匀了也一样，像是放坏了。", needs="防晒乳 防晒霜"),
    # mother and baby
    _t("C04", "complaint", "service_attitude", "问商家配件能不能单独买，客服回复很不耐烦，说让我自己去找，态度很差。"),
    _t("C040101", "return_refund", "quality", "奶瓶的刻度印得不清楚，洗了两次刻度就掉了，没法准确冲奶粉。", needs="奶瓶"),
    _t("C040101", "return_refund", "quality", "奶嘴和瓶身拧不紧，一倒过来就漏奶。", needs="奶瓶"),
    _t("C040101", "return_refund", "false_advertising", "页面写的是PPSU材质，收到的包装上写的是PP，材质不符。", "early", needs="PPSU"),
    _t("C040101", "return_refund", "quality", "奶嘴有一股很重的橡胶味，煮了好几遍还有。", "early", needs="奶嘴"),
    _t("C040102", "return_refund", "quality", "餐具边缘有很多毛边，做工粗糙，和详情页图片完全不一样。", "early"),
    _t("C040102", "exchange", "wrong_or_missing_item", "买的是碗勺套装，盒子里只有碗，勺子没有发。", "early", needs="套装"),
    _t("C0402", "return_refund", "quality", "推车的刹车踩下去还会往前溜，轮子也有异响。"),
    _t("C0402", "exchange", "wrong_or_missing_item", "推车收到时车架有一处掉漆，车篮的螺丝包也没给。", "early"),
    _t("C0402", "return_refund", "false_advertising", "宣传的是单手收车，实际要折腾半天才能收起来，和宣传视频不一样。", "early", needs="收车 折叠"),
    _t("C0402", "return_refund", "quality", "One of the front wheels wobbles and squeaks, and the stroller keeps pulling to the left."),
    _t("C0402", "complaint", "logistics_delay", "推车这么大的件，快递没有送货上门，放在小区门口就走了，也没打电话。", "early"),
    # electronics
    _t("C05", "repair", "quality", "用了一个多月就坏了，还在保修期内，申请维修。"),
    _t("C05", "complaint", "service_attitude", "下单时备注了要发票，商家一直拖着不开，问了三次客服都说在处理。"),
    _t("C0501", "exchange", "wrong_or_missing_item", "收到的接口型号和下单选的不一样，我的手机插不上，型号发错了。", "early"),
    _t("C050101", "return_refund", "false_advertising", "充电宝标称的容量实测连一半都不到，给手机充一次就没电了，容量严重虚标。"),
    _t("C050101", "refund_only", "quality", "充电宝用了一周就充不进电了，指示灯一直闪。"),
    _t("C050101", "return_refund", "false_advertising", "The power bank only charges my phone once. It is nowhere near the capacity on the listing."),
    _t("C050102", "return_refund", "false_advertising", "充电器标称的快充功率，用原装线实测只有18W，跟宣传不符。"),
    _t("C050102", "exchange", "quality", "充电器用了不到半个月就接触不良，插上线时有时无。"),
    _t("C0502", "exchange", "quality", "左边耳机没声音，重新配对也没用，另一边正常。", "early"),
    _t("C0502", "return_refund", "false_advertising", "降噪耳机几乎没有降噪效果，和详情页说的“深度降噪”差距太大。", "early", needs="降噪"),
    _t("C0502", "complaint", "counterfeit", "耳机序列号在官网查询不到，包装盒也很粗糙，怀疑是翻新机。"),
    _t("C0502", "exchange", "quality", "Right earbud keeps disconnecting every few minutes. I tried resetting it, still the same.", needs="真无线"),
    # home and kitchen
    _t("C06", "complaint", "logistics_delay", "下单后三天才发货，物流又在中转站停了四天，到手比承诺晚了一周。", "late"),
    _t("C060101", "return_refund", "quality", "不粘锅用了两周就开始掉涂层，炒菜时能看到黑色碎屑。", needs="不粘 麦饭石"),
    _t("C060101", "exchange", "quality", "锅收到时锅盖有磕碰，锅身还有一处凹陷。", "early"),
    _t("C060101", "complaint", "false_advertising", "页面写的是304不锈钢，用磁铁一吸就吸住了，怀疑材质虚标。", needs="不锈钢"),
    _t("C060101", "return_refund", "quality", "The non-stick coating is already coming off after two weeks of normal use.", needs="不粘 麦饭石"),
    _t("C0602", "return_refund", "quality", "四件套洗了一次就严重缩水，被套比被子小了一大截。", needs="四件套"),
    _t("C0602", "exchange", "false_advertising", "床单颜色和图片差很多，图片是浅灰色，收到的是米黄色。", "early"),
    _t("C0602", "return_refund", "quality", "床品有一股很冲的刺鼻味道，洗了两遍还有。", "early"),
    _t("C0602", "exchange", "size_mismatch", "The duvet cover is much smaller than the size on the listing and doesn't fit our duvet.", "early", needs="四件套 三件套 被套"),
    # toys
    _t("C07", "complaint", "false_advertising", "包装盒上没有3C认证标志，也没有中文标签和厂家信息，和页面说的不一样。"),
    _t("C0701", "exchange", "wrong_or_missing_item", "积木少了好几块，按说明书拼到一半就拼不下去了。", "early", needs="积木"),
    _t("C0701", "return_refund", "quality", "积木颗粒大小不一，很多拼不上，一拼就掉，做工太差。", needs="积木"),
    _t("C0701", "return_refund", "quality", "玩具有很重的塑料味，放阳台晾了几天还有。", "early"),
    _t("C0701", "exchange", "wrong_or_missing_item", "Several pieces were missing from the set and there was no manual in the box.", "early", needs="积木"),
    _t("C0701", "return_refund", "quality", "遥控车开了不到十分钟就不动了，换了新电池也一样。", needs="遥控"),
    _t("C0701", "exchange", "quality", "回力车的轮子一推就掉了，孩子还没玩就坏了。", "early", needs="回力"),
    _t("C0702", "return_refund", "quality", "毛绒玩具掉毛严重，洗了一次就变形了。"),
    _t("C0702", "return_refund", "false_advertising", "毛绒公仔实际量了比页面标的尺寸小了快三分之一。", "early"),
    # books and media
    _t("C0801", "complaint", "logistics_delay", "买的书承诺两天到，结果一直卡在中转仓库，拖了一周才送到。", "late"),
    _t("C0801", "exchange", "quality", "书有好几页印刷重影，还有十几页是空白的。", "early"),
    _t("C0801", "return_refund", "counterfeit", "收到的书明显是盗版，纸张很薄，字迹模糊，和正版差太多。"),
    _t("C0801", "exchange", "quality", "书角被压坏了，封面也有折痕，包装只套了一个塑料袋。", "early"),
    _t("C0801", "exchange", "false_advertising", "The book I received is a different edition from the one shown on the product page.", "early"),
    _t("C0802", "exchange", "quality", "光盘放不出来，电脑和影碟机都读不了盘。", "early", needs="CD 蓝光"),
    _t("C0802", "exchange", "quality", "黑胶唱片收到时就是弯的，放上去唱针一直跳。", "early", needs="黑胶"),
    _t("C0803", "refund_only", "quality", "软件激活码提示已被使用，根本激活不了，联系商家也没人回复。", "early"),
    # made to order
    _t("C09", "complaint", "logistics_delay", "定制商品说好7天发货，拖了半个月才发出来，节日都过了。", "late"),
    _t("C0901", "compensation", "quality", "定制衣服上的印花图案位置歪了，和我提供的设计稿不一致。"),
    _t("C0901", "exchange", "quality", "定制衣服上印的字有错别字，我提交的文字是对的，是商家排版弄错了。", "early"),
    _t("C0901", "exchange", "wrong_or_missing_item", "定制的衣服我选的是藏青色，收到的是黑色，和订单上的颜色不一样。", "early"),
    _t("C0902", "complaint", "false_advertising", "定制相框页面写的是实木相框，收到一看是贴皮的密度板。", needs="相框"),
    _t("C0902", "exchange", "quality", "刻的名字错了一个字，是要送人的生日礼物。", "early"),
    _t("C0902", "exchange", "quality", "定制相框收到时面板裂了，包装只有一层薄膜。", "early", needs="相框"),
    _t("C0902", "exchange", "quality", "The engraving on the pen is crooked and the name is misspelled.", "early", needs="钢笔"),
)

#: Personal-safety texts: only on products where this is plausible, and only two or three per demo.
SAFETY_TEXTS: tuple[DemoText, ...] = (
    _t("C050101", "return_refund", "safety", "充电宝晚上充电时突然鼓包冒烟，还有一股焦味，幸好人在旁边及时拔了，差点起火。"),
    _t("C050101", "return_refund", "safety", "The power bank got extremely hot while charging overnight and started to smoke. It could have caused a fire."),
    _t("C050102", "return_refund", "safety", "充电器插上插座的时候冒出火花，手被电了一下，到现在还发麻。"),
    _t("C060101", "return_refund", "safety", "锅把手用了不到一个月就松了，炒菜时突然断开，热油溅出来把手背烫伤了。", needs="炒锅 煎锅"),
    _t("C0701", "return_refund", "safety", "积木的小零件一掰就掉，孩子差点误吞，幸好被我及时发现。", needs="积木"),
)
# fmt: on
SAFETY_CATEGORIES = ("C050101", "C050102", "C060101", "C0701")


def demo_texts() -> tuple[DemoText, ...]:
    """Every text the demo may file."""
    return TEXTS + SAFETY_TEXTS


def text_for(description: str) -> DemoText | None:
    """The demo text a case was filed with."""
    return next((t for t in demo_texts() if t.text == description), None)


# --- what the parties write ------------------------------------------------------------------------

# fmt: off
AGENT_FORWARD = ["已核实订单信息，已转交商家处理，请商家在24小时内回复。", "您好，您的问题已记录并转交商家，我们会跟进处理进度。"]
AGENT_ACK = ["您好，已收到您的反馈，我们正在核实，请耐心等待。", "您好，客服已受理，会尽快联系快递公司和商家核实情况。"]
AGENT_URGENT = ["您好，已收到您的申请，已督促商家尽快处理。", "您好，平台已关注此单，如商家24小时内未回复可申请平台介入。"]
AGENT_LOGGED = ["您好，已为您登记申请，商家会在24小时内处理，处理进度会短信通知您。", "已记录您反映的问题，我们会跟进到底。"]
AGENT_SAFETY = "您好，此单已升级为安全类工单，请立即停止使用该商品并妥善保存，我们已通知质检部门。"
AGENT_RESOLVE = {
    "logistics_delay": ["已联系快递公司核实延误原因，向消费者致歉并发放10元无门槛券，消费者表示认可。"],
    "service_attitude": ["已约谈商家客服主管，商家已向消费者道歉并承诺整改，消费者同意结案。"],
    "*": ["已与消费者电话沟通并说明处理方案，商家补发配件，消费者确认问题已解决。"],
}
AGENT_MATERIALS_REASON = "照片看不清问题部位，请补充一张近景照片，便于商家核实。"
MERCHANT_ASK = ["您好，麻烦提供一下商品问题部位的照片，我们核实后尽快处理。", "亲，能拍一下外包装和商品标签吗？我们需要核对批次。"]
MERCHANT_ASK_EN = ["Hello, could you send a photo of the problem? We will check it right away."]
MERCHANT_NOTE = {
    "refund": ["非常抱歉给您带来不便，同意全额退款。", "核实属实，给您办理退款。"],
    "return_refund": ["抱歉，同意退货退款，请按售后地址寄回，运费我们承担。", "同意退货，收到商品后马上退款。"],
    "exchange": ["抱歉，给您换新，请把原商品寄回，新的我们今天就安排发出。", "同意换货，运费由我们承担。"],
    "repair": ["在保修期内，免费维修，请寄回售后点，预计7天内修好寄回。"],
    "compensation": ["非常抱歉，给您补偿一部分金额，您看可以吗？", "给您补偿一些，希望谅解。"],
}
MERCHANT_NO_RETURN = "商品金额不高，不用寄回了，直接给您全额退款。"
MERCHANT_SAFETY = "非常抱歉，全额退货退款，请把商品寄回，我们送检查明原因。"
MERCHANT_PARTIAL = ["商品不影响正常使用，我们最多补偿这个金额。", "经核实不属于质量问题，可以给您一点补偿。"]
CONSUMER_REPLY = ["照片已经补充了，请尽快处理。", "已上传照片，麻烦看一下。"]
CONSUMER_REPLY_EN = ["I've added the photos, please take a look."]
CONSUMER_REJECT = ["这个补偿不能接受，要求退货退款。", "只补偿这么点不合理，商品确实有问题。"]
CONSUMER_INTERVENE = ["协商未果，请平台介入。", "商家不认可问题，申请平台介入处理。"]
CONSUMER_SILENT = "商家超过24小时没有回复，申请平台介入。"
CONSUMER_WITHDRAW = ["已经和商家沟通好了，撤销申请。", "问题已经自己解决了，撤回申请。"]
RATING_COMMENTS = {
    5: ["处理很快，满意", "客服和商家都很负责，点赞", "退款很及时，谢谢"],
    4: ["处理还可以，就是等得有点久", "问题解决了，态度不错"],
    3: ["解决了，但是过程太慢", "一般吧，沟通了好几次"],
    2: ["拖了好几天才处理，不太满意", "商家一开始不认，很麻烦"],
    1: ["非常失望，不会再买这家了", "处理结果不合理"],
}
RATING_COMMENTS_EN = {
    5: ["Quick and easy, thank you."], 4: ["Sorted out, took a bit long."],
    3: ["Resolved, but it took several messages."], 2: ["Far too slow."], 1: ["Very disappointed."],
}
RULING_REASONS = {
    "consumer_upheld": "根据消费者提供的照片和双方的陈述，商品存在所述问题，支持消费者的诉求。",
    "partially_upheld": "商品存在轻微问题但不影响主要功能，支持部分补偿。",
    "merchant_upheld": "现有证据不能证明商品存在所述问题，商家已按页面描述履约，不支持消费者的诉求。",
}
CARRIERS = (("顺丰速运", "SF", 13), ("中通快递", "78", 13), ("京东物流", "JDV", 12), ("圆通速递", "YT", 13))
# fmt: on

#: Hours (China time) at which each side acts; a step that falls outside waits for the next opening.
HOURS = {"agent": (8, 23), "merchant": (9, 22), "arbitrator": (9, 19), "consumer": (7, 24), "oncall": (0, 24)}
#: Relative weight of the hour of day (China time) at which cases are filed.
FILING_HOURS = (1, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 2, 4, 6, 7, 7, 6, 6, 7, 7, 6, 6, 6, 7, 8, 8, 7, 3)
#: Scenario weights by kind of request.
SCENARIOS = {
    "refund_only": {"fast": 62, "slow": 12, "dispute": 8, "silent_refund": 7, "withdraw": 5, "materials": 6},
    "return_refund": {"fast": 60, "slow": 12, "dispute": 10, "silent": 7, "withdraw": 5, "materials": 6},
    "exchange": {"fast": 75, "slow": 20, "withdraw": 5},
    "repair": {"fast": 85, "slow": 15},
    "compensation": {"fast": 62, "dispute": 26, "slow": 12},
}
#: Problems a merchant may well contest (the others are plain facts: a wrong item, a late parcel).
CONTESTABLE = ("quality", "false_advertising", "counterfeit")


# --- the plan ------------------------------------------------------------------------------------------


@dataclass
class _Order:
    order: Order
    delivered_at: datetime
    signed_at: datetime
    late: bool
    category_codes: tuple[str, ...]
    no_reason_rule: str
    paid_fen: int
    title: str  # of the product the case is about
    pieces: int  # in the whole order
    item: str  # external id of the item the case is about (the first)


@dataclass
class _Plan:
    at: datetime
    order: _Order
    text: DemoText
    channel: str
    filed_by: str  # consumer | agent
    scenario: str
    steps: list[tuple[datetime, str, dict]] = field(default_factory=list)
    index: int = 0
    number: str | None = None


@dataclass
class _Cast:
    agent: User
    arbitrator: User | None
    consumer: User | None
    merchant: User
    staff: dict[int, User] = field(default_factory=dict)  # merchant id -> a staff login


def seed_demo_cases(*, count: int = 90, seed: int = 1) -> int:
    """Create demo cases unless there are some already. Returns how many were made."""
    if Case.objects.exists():
        return 0
    cast = _demo_cast()
    if cast is None:
        return 0
    now = timezone.now()
    plans = _Planner(now=now, count=count, seed=seed, cast=cast).plan()
    with transaction.atomic():  # all or nothing: a failed run leaves no case, so the next one starts over
        return _Runner(now=now, seed=seed, cast=cast, plans=plans).run()


def plan_demo_cases(*, count: int = 90, seed: int = 1) -> list[dict]:
    """What `seed_demo_cases` would make now, without making it: per case its time, order, text,
    scenario and steps (those after the current time are not taken)."""
    cast = _demo_cast()
    if cast is None:
        return []
    plans = _Planner(now=timezone.now(), count=count, seed=seed, cast=cast).plan()
    return [
        {
            "at": p.at,
            "order": p.order.order.external_id,
            "description": p.text.text,
            "kind": p.text.kind,
            "channel": p.channel,
            "scenario": p.scenario,
            "steps": [(at, action) for at, action, _params in p.steps],
        }
        for p in plans
    ]


def _demo_cast() -> _Cast | None:
    agent = User.objects.filter(role=Role.AGENT, is_active=True).order_by("pk").first()
    arbitrator = User.objects.filter(role=Role.ARBITRATOR, is_active=True).order_by("pk").first()
    consumer = User.objects.filter(role=Role.CONSUMER, username="consumer").first()
    merchant_staff = User.objects.filter(role=Role.MERCHANT_STAFF, is_active=True).order_by("pk").first()
    if agent is None or merchant_staff is None:
        return None
    cast = _Cast(agent=agent, arbitrator=arbitrator, consumer=consumer, merchant=merchant_staff)
    cast.staff[merchant_staff.merchant_id] = merchant_staff
    return cast


class _Planner:
    """Decides every case and its steps (reads the catalog, writes nothing)."""

    def __init__(self, *, now: datetime, count: int, seed: int, cast: _Cast):
        self.now = now
        self.count = count
        self.rng = random.Random(seed)
        self.files = random.Random(seed * 104_729 + 5)  # who sends which files (leaves the rest as it was)
        self.cast = cast
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.demo_merchant = cast.merchant.merchant_id
        self.consumer_buyer = Buyer.objects.filter(user=cast.consumer).first() if cast.consumer else None
        self.used_orders: set[int] = set()
        self.used_texts: dict[str, int] = defaultdict(int)

    # -- orders
    def _load(self, qs) -> list[_Order]:
        out = []
        qs = qs.select_related("buyer", "merchant").prefetch_related("shipments", "items__product__category")
        for order in qs:
            items = sorted(order.items.all(), key=lambda i: i.pk)  # a case is about the first item
            shipments = [s for s in order.shipments.all() if s.delivered_at or s.signed_at]
            if not items or not shipments or order.pk in self.used_orders:
                continue
            # in the buyer's hands: delivered, and signed for when that came later
            delivered = max(max(t for t in (sh.delivered_at, sh.signed_at) if t) for sh in shipments)
            ship = max(shipments, key=lambda sh: sh.delivered_at or sh.signed_at)
            category = items[0].product.category
            out.append(
                _Order(
                    order=order,
                    delivered_at=delivered,
                    signed_at=max((sh.signed_at for sh in shipments if sh.signed_at), default=delivered),
                    late=bool(
                        ship.promised_at
                        and (ship.delivered_at or delivered) > ship.promised_at + timedelta(hours=6)
                    ),
                    category_codes=tuple(c for c in category.path.split("/") if c),
                    no_reason_rule=category.no_reason_return,
                    paid_fen=items[0].paid_amount_fen,
                    title=items[0].product.title,
                    pieces=sum(i.quantity for i in items),
                    item=items[0].external_id,
                )
            )
        out.sort(key=lambda o: o.order.pk)
        return out

    def _pick(
        self, at: datetime, *, demo_merchant: bool, max_days: float, safety: list[DemoText] | None = None
    ) -> _Order | None:
        """An unused order delivered between `max_days` days and two hours before `at` (with
        `safety`: one of whose product one of these texts fits)."""
        qs = Order.objects.filter(
            status__in=DELIVERED, placed_at__lt=at, placed_at__gte=at - timedelta(days=max_days + 8)
        )
        if self.consumer_buyer is not None:
            qs = qs.exclude(buyer=self.consumer_buyer)  # the demo consumer has cases of their own
        if demo_merchant:
            qs = qs.filter(merchant_id=self.demo_merchant)
        else:
            qs = qs.exclude(merchant_id=self.demo_merchant)
        if safety is not None:
            qs = qs.filter(items__product__category__external_id__in=SAFETY_CATEGORIES).distinct()

        def usable(o: _Order) -> bool:
            if not at - timedelta(days=max_days) <= o.delivered_at <= at - timedelta(hours=2):
                return False
            return safety is None or any(t.fits(o.category_codes, o.title, o.pieces) for t in safety)

        if not demo_merchant and safety is None:
            # a large marketplace: look at the orders placed around a random moment, not at all of them
            for _ in range(4):
                anchor = at - timedelta(days=self.rng.uniform(0.5, max_days + 2))
                near = qs.filter(
                    placed_at__gte=anchor - timedelta(hours=12), placed_at__lt=anchor + timedelta(hours=12)
                )
                found = [o for o in self._load(near.order_by("placed_at")[:60]) if usable(o)]
                if found:
                    return self.rng.choice(found)
        found = [o for o in self._load(qs.order_by("-placed_at")[:300]) if usable(o)]
        return self.rng.choice(found) if found else None

    # -- texts
    def _texts(self, o: _Order, at: datetime, *, kinds=None) -> list[DemoText]:
        gap = at - o.delivered_at
        out = []
        for text in TEXTS:
            if not text.fits(o.category_codes, o.title, o.pieces) or (
                kinds is not None and text.kind not in kinds
            ):
                continue
            if text.when == "early" and gap > timedelta(days=8):
                continue
            if text.when == "late" and (not o.late or gap > timedelta(days=5)):
                continue
            if text.problem_type == "no_reason_return_7day" and (
                o.no_reason_rule != "eligible" or at - o.signed_at > timedelta(days=5)
            ):
                continue
            out.append(text)
        return out

    def _choose_text(self, o: _Order, at: datetime, *, kinds=None) -> DemoText | None:
        options = self._texts(o, at, kinds=kinds)
        # the category's own texts; now and then one that fits every category
        specific = [t for t in options if "*" not in t.codes]
        if specific and self.rng.random() < 0.93:
            options = specific
        if not options:
            return None
        least = min(self.used_texts[t.text] for t in options)
        text = self.rng.choice([t for t in options if self.used_texts[t.text] == least])
        self.used_texts[text.text] += 1
        return text

    # -- times
    def working(self, at: datetime, who: str) -> datetime:
        """`at`, or the next opening of `who`'s working hours (plus a few minutes)."""
        lo, hi = HOURS[who]
        local = at.astimezone(self.tz)
        if lo <= local.hour < hi:
            return at
        day = local.date() if local.hour < lo else local.date() + timedelta(days=1)
        opening = datetime.combine(day, time(lo), self.tz) + timedelta(minutes=self.rng.randint(3, 80))
        return opening.astimezone(UTC)

    def _daytime_before(self, latest: datetime) -> datetime:
        """A time between 10:00 and 16:00 (China time) at or before `latest`."""
        local = latest.astimezone(self.tz)
        at = datetime.combine(local.date(), time(self.rng.randint(10, 15), self.rng.randint(0, 59)), self.tz)
        if at > latest:
            at -= timedelta(days=1)
        return at.astimezone(UTC)

    def _filing_times(self, n: int) -> list[datetime]:
        """n times over the window, a few more in recent weeks, mostly in the day and evening."""
        today = self.now.astimezone(self.tz).date()
        out = []
        for i in range(n):
            u = (i + self.rng.random()) / n
            x = (-0.6 + (0.36 + 1.6 * u) ** 0.5) / 0.8  # density rising from 0.6 to 1.4 over the window
            day = today - timedelta(days=WINDOW_DAYS - 1 - min(int(x * WINDOW_DAYS), WINDOW_DAYS - 1))
            hour = self.rng.choices(range(24), weights=FILING_HOURS)[0]
            at = datetime.combine(day, time(hour, self.rng.randint(0, 59), self.rng.randint(0, 59)), self.tz)
            at = at.astimezone(UTC)
            if at > self.now - timedelta(minutes=30):
                at = self.now - timedelta(minutes=self.rng.randint(30, 240))
            out.append(at)
        return sorted(out)

    # -- the whole plan
    def plan(self) -> list[_Plan]:
        plans = self._consumer_cases()
        fresh = self._fresh_case() if self.count >= 10 else None
        plans += [fresh] if fresh is not None else []
        regular = max(0, self.count - len(plans))
        n_safety = 0 if regular < 10 else (2 if regular < 60 else 3)
        safety_at = set(self.rng.sample(range(regular // 5, regular - regular // 10), n_safety))
        safety_texts = list(SAFETY_TEXTS)
        self.rng.shuffle(safety_texts)
        for i, at in enumerate(self._filing_times(regular)):
            plan = self._safety_case(at, safety_texts) if i in safety_at else None
            plan = plan or self._regular_case(at)
            if plan is not None:
                plans.append(plan)
        plans.sort(key=lambda p: p.at)
        for index, plan in enumerate(plans):
            plan.index = index
        return plans

    def _consumer_cases(self) -> list[_Plan]:
        """The demo consumer's cases against the demo merchant's shop, left at different stages,
        and an older one with another shop."""
        buyer = self.consumer_buyer
        if buyer is None or self.count < 10:
            return []
        own = self._load(
            Order.objects.filter(
                buyer=buyer, status__in=DELIVERED, merchant_id=self.demo_merchant, placed_at__lt=self.now
            ).order_by("-placed_at")[:20]
        )
        own.sort(key=lambda o: o.delivered_at, reverse=True)
        after_sales = ("refund_only", "return_refund", "compensation", "exchange")
        # (filed at the latest this long ago, scenario, kinds of request, rating): newest first
        stages = [
            (timedelta(hours=6), "consumer_negotiating", after_sales, None),
            (timedelta(days=4), "consumer_resolved", ("refund_only", "compensation"), None),
            (timedelta(days=6), "consumer_dispute", ("return_refund", "refund_only", "compensation"), None),
            (timedelta(days=12), "fast", after_sales, 5),
        ]
        out = []
        for age, scenario, kinds, score in stages:
            at = self._daytime_before(self.now - age)
            order = next(
                (
                    o
                    for o in own
                    if o.delivered_at < at - timedelta(hours=2) and self._texts(o, at, kinds=kinds)
                ),
                None,
            )
            if order is not None:
                own.remove(order)
                out.append(
                    self._make(
                        at, order, scenario, kinds=kinds, filed_by="consumer", channel="web", score=score
                    )
                )
        at = self._daytime_before(self.now - timedelta(days=self.rng.uniform(35, 60)))
        older = self._load(
            Order.objects.filter(buyer=buyer, status__in=DELIVERED, placed_at__lt=at - timedelta(days=1))
            .exclude(merchant_id=self.demo_merchant)
            .order_by("-placed_at")[:10]
        )
        older = [
            o
            for o in older
            if o.delivered_at < at - timedelta(hours=2) and self._texts(o, at, kinds=after_sales)
        ]
        if older:
            out.append(
                self._make(
                    at, older[0], "fast", kinds=after_sales, filed_by="consumer", channel="app", score=4
                )
            )
        return [p for p in out if p is not None]

    def _fresh_case(self) -> _Plan | None:
        """A request filed a moment ago that the demo merchant has still to answer."""
        at = self.now - timedelta(minutes=self.rng.randint(40, 150))
        order = self._pick(at, demo_merchant=True, max_days=10) or self._pick(
            at, demo_merchant=True, max_days=ANY_AGE
        )
        kinds = ("refund_only", "return_refund", "exchange", "compensation")
        return order and self._make(at, order, "awaiting", kinds=kinds, filed_by="consumer", channel="app")

    def _safety_case(self, at: datetime, texts: list[DemoText]) -> _Plan | None:
        # filed in the day: the merchant answers within the 12 hours a P1 case gives it
        local = at.astimezone(self.tz)
        at = datetime.combine(local.date(), time(self.rng.randint(9, 15), self.rng.randint(0, 59)), self.tz)
        at = at.astimezone(UTC)
        if at > self.now - timedelta(hours=1):
            at -= timedelta(days=1)
        order = self._pick(at, demo_merchant=False, max_days=25, safety=texts) or self._pick(
            at, demo_merchant=False, max_days=ANY_AGE, safety=texts
        )
        text = next(
            (t for t in texts if order and t.fits(order.category_codes, order.title, order.pieces)), None
        )
        if text is None:
            return None
        texts.remove(text)
        return self._make(
            at, order, "safety", text=text, filed_by="consumer", channel=self.rng.choice(["app", "hotline"])
        )

    def _regular_case(self, at: datetime) -> _Plan | None:
        demo = self.rng.random() < 0.22  # the demo merchant's shop gets a good share
        max_days = 45 if self.rng.random() < 0.2 else 10
        order = (
            self._pick(at, demo_merchant=demo, max_days=max_days)
            or self._pick(at, demo_merchant=not demo, max_days=max_days)
            or self._pick(at, demo_merchant=False, max_days=ANY_AGE)  # a catalog older than the window
        )
        if order is None:
            return None
        filed_by = "consumer" if self.rng.random() < 0.65 else "agent"
        channel = self.rng.choice(
            ["app", "app", "web"] if filed_by == "consumer" else ["hotline", "hotline", "chat", "email"]
        )
        return self._make(at, order, None, filed_by=filed_by, channel=channel)

    def _make(
        self, at, order: _Order, scenario, *, kinds=None, text=None, filed_by, channel, score=None
    ) -> _Plan | None:
        text = text or self._choose_text(order, at, kinds=kinds)
        if text is None:
            return None
        self.used_orders.add(order.order.pk)
        scenario = scenario or self._scenario(text)
        plan = _Plan(at=at, order=order, text=text, channel=channel, filed_by=filed_by, scenario=scenario)
        plan.steps = _Script(self, plan, score).steps()
        return plan

    def _scenario(self, text: DemoText) -> str:
        weights = dict(SCENARIOS.get(text.kind, {}))
        if not weights:  # a complaint
            if text.problem_type in ("logistics_delay", "service_attitude"):
                weights = {"agent_resolve": 70, "forward": 25, "withdraw": 5}
            elif text.problem_type in ("counterfeit", "false_advertising"):
                weights = {"forward": 55, "forward_dispute": 35, "agent_resolve": 10}
            else:
                weights = {"forward": 80, "agent_resolve": 10, "withdraw": 10}
        if text.problem_type not in CONTESTABLE:
            weights.pop("dispute", None)
            weights.pop("forward_dispute", None)
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]


class _Script:
    """The steps of one case, each at a plausible time after the one before."""

    def __init__(self, planner: _Planner, plan: _Plan, score: int | None):
        self.planner = planner
        self.rng = planner.rng
        self.plan = plan
        self.t = plan.at
        self.score = score
        self.english = plan.text.english
        self.out: list[tuple[datetime, str, dict]] = [(plan.at, "submit", {})]

    def then(self, action: str, lo: float, hi: float, who: str, **params) -> None:
        """A step between `lo` and `hi` hours after the previous one, in `who`'s working hours."""
        self.t = self.planner.working(self.t + timedelta(hours=self.rng.uniform(lo, hi)), who)
        self.out.append((self.t, action, params))

    def pick(self, zh: list[str], en: list[str] | None = None) -> str:
        return self.rng.choice(en if en and self.english else zh)

    def steps(self) -> list[tuple[datetime, str, dict]]:
        text, paid, scenario = self.plan.text, self.plan.order.paid_fen, self.plan.scenario
        remedy = {"refund_only": "refund", "return_refund": "return_refund"}.get(text.kind, text.kind)
        if self.plan.filed_by == "agent":  # the agent who takes the call or the mail answers at once
            self.then("agent_note", 0.02, 0.15, "oncall", body=self.pick(AGENT_LOGGED))
        if text.kind == "complaint":  # a product problem: a refund; anything else: a goodwill payment
            remedy = "refund" if text.problem_type in ("counterfeit", "quality") else "compensation"
        if remedy == "return_refund" and paid <= 30_000 and self.rng.random() < 0.6:
            remedy = "refund"  # cheap goods: the merchant refunds without asking for them back
        if scenario == "safety":
            self.then("agent_note", 0.1, 0.6, "oncall", body=AGENT_SAFETY)
            self.then(
                "merchant_propose", 0.5, 4, "merchant", remedy="return_refund", fen=paid, note=MERCHANT_SAFETY
            )
            self.then("consumer_accept", 0.3, 5, "consumer")
            self._remedy_done("return_refund", fast=True)
            self._rating(fast=True)
        elif scenario == "awaiting":  # the merchant answers in the afternoon, after "now"
            self.then("agent_urgent", 0.1, 2.5, "agent", body=self.pick(AGENT_URGENT))
            self._propose(remedy, paid, 4, 12)
        elif scenario == "consumer_negotiating":
            self.then("merchant_ask", 1, 4, "merchant", body=MERCHANT_ASK[0])
        elif scenario == "consumer_resolved":
            self._propose(remedy, paid, 1, 5)
            self.then("consumer_accept", 0.5, 3, "consumer")
            self._remedy_done(remedy, fast=True)
        elif scenario == "consumer_dispute":
            self.then(
                "merchant_propose",
                2,
                8,
                "merchant",
                remedy="compensation",
                fen=_round_yuan(paid * 0.1),
                note=MERCHANT_PARTIAL[0],
            )
            self.then("consumer_reject", 0.5, 4, "consumer", note=CONSUMER_REJECT[0])
            self.then("consumer_intervene", 0.2, 2, "consumer", reason=CONSUMER_INTERVENE[1])
            self.then("arb_review", 14, 30, "arbitrator")
        elif text.kind == "complaint":
            self._complaint(scenario, remedy, paid)
        else:
            self._after_sales(scenario, remedy, paid)
        self._files()
        return self.out

    def _files(self) -> None:
        """The evidence, each upload a step just before the move it goes with (decided with a
        generator of its own, so each case's story is the one it had without files): photos with
        the form (now and then), photos before the consumer writes that they sent them, photos
        before asking the platform in when none were sent; the shop's chat log with a partial
        offer (now and then), and its dispatch records once the platform is asked in."""
        rng, plan, scenario = self.planner.files, self.plan, self.plan.scenario
        out: list[tuple[datetime, str, dict]] = [self.out[0]]
        sent = chat = False
        if (
            plan.filed_by == "consumer"
            and scenario != "consumer_negotiating"  # left for the demo consumer to send
            and (scenario.startswith("consumer_") or rng.random() < INTAKE_PHOTOS)
        ):
            at = plan.at + timedelta(minutes=rng.uniform(1, 4))
            if len(self.out) > 1:
                at = min(at, plan.at + (self.out[1][0] - plan.at) / 2)
            out.append((at, "consumer_files", {"count": 1 + (rng.random() < 0.4), "intake": True}))
            sent = True
        for n, step in enumerate(self.out[1:], start=1):
            at, action, params = step
            before = self.out[n - 1][0]
            if action == "consumer_reply" or action == "consumer_intervene" and not sent:
                count = 1 if action == "consumer_reply" else 2
                out.append((_shortly_before(before, at, rng), "consumer_files", {"count": count}))
                sent = True
            elif action == "merchant_propose" and params["note"] in MERCHANT_PARTIAL and rng.random() < 0.5:
                out.append((_shortly_before(before, at, rng), "merchant_files", {"what": "chat"}))
                chat = True
            elif action == "arb_review" and self.out[n - 1][1] == "consumer_intervene":
                what = "chat" if not chat and rng.random() < 0.3 else rng.choice(["qc", "dispatch"])
                out.append((self._within(before, at, "merchant"), "merchant_files", {"what": what}))
            out.append(step)
        self.out = out

    def _within(self, lo: datetime, hi: datetime, who: str) -> datetime:
        """A time between `lo` and `hi`, in `who`'s working hours if one of a few tries is."""
        first, last = HOURS[who]
        for _ in range(6):
            at = lo + (hi - lo) * self.planner.files.uniform(0.1, 0.9)
            if first <= at.astimezone(self.planner.tz).hour < last:
                return at
        return lo + (hi - lo) / 2

    def _after_sales(self, scenario: str, remedy: str, paid: int) -> None:
        # high priority: an agent answers first and chases the merchant (skipped for the others)
        self.then("agent_urgent", 0.1, 2.5, "agent", body=self.pick(AGENT_URGENT))
        if scenario == "withdraw":
            self.then("consumer_withdraw", 1, 20, "consumer", reason=self.pick(CONSUMER_WITHDRAW))
            return
        if scenario == "silent":  # the merchant does not answer: the consumer asks the platform
            self.then("consumer_intervene", 26, 60, "consumer", reason=CONSUMER_SILENT)
            self._ruling(paid, outcome="consumer_upheld", remedy=remedy)
            return
        if scenario == "silent_refund":  # refund only, merchant silent: approved after 72 h, paid late
            self.t += timedelta(hours=72)
            self.then("merchant_execute", 2, 30, "merchant")
            self._rating(fast=False)
            return
        fast = scenario in ("fast", "materials")
        if scenario == "materials":
            self.then("agent_materials", 0.5, 5, "agent")
            self.then("consumer_reply", 3, 30, "consumer", body=self.pick(CONSUMER_REPLY, CONSUMER_REPLY_EN))
        if scenario == "slow":
            self.then("merchant_ask", 10, 30, "merchant", body=self.pick(MERCHANT_ASK, MERCHANT_ASK_EN))
            self.then("consumer_reply", 2, 20, "consumer", body=self.pick(CONSUMER_REPLY, CONSUMER_REPLY_EN))
        if scenario == "dispute":
            self._dispute(paid, remedy)
            return
        self._propose(remedy, paid, *((0.3, 8) if fast else (6, 30)))
        self.then("consumer_accept", 0.1, 4 if fast else 24, "consumer")
        self._remedy_done(remedy, fast=fast)
        self._rating(fast=fast)

    def _complaint(self, scenario: str, remedy: str, paid: int) -> None:
        if scenario == "withdraw":
            self.then("agent_ack", 0.2, 6, "agent", message=self.pick(AGENT_ACK))
            self.then("consumer_withdraw", 2, 30, "consumer", reason=self.pick(CONSUMER_WITHDRAW))
            return
        # most are answered within hours, now and then one waits more than a day (not one an agent took)
        lo, hi = (0.2, 5) if self.rng.random() < 0.85 else (20, 40)
        if self.plan.filed_by == "agent":
            lo, hi = 0.05, 1
        if scenario == "agent_resolve":
            self.then("agent_ack", lo, hi, "agent", message=self.pick(AGENT_ACK))
            reason = self.pick(AGENT_RESOLVE.get(self.plan.text.problem_type, AGENT_RESOLVE["*"]))
            self.then("agent_resolve", 1, 24, "agent", reason=reason)
            self._rating(fast=True)
            return
        self.then("agent_forward", lo, hi, "agent", message=self.pick(AGENT_FORWARD))
        if scenario == "forward_dispute":
            self._dispute(paid, remedy)
            return
        self._propose(remedy, paid, 0.5, 12)
        self.then("consumer_accept", 0.1, 6, "consumer")
        self._remedy_done(remedy, fast=True)
        self._rating(fast=True)

    def _propose(self, remedy: str, paid: int, lo: float, hi: float) -> None:
        fen = {"refund": paid, "return_refund": paid}.get(remedy)
        if remedy == "compensation":
            fen = _round_yuan(paid * self.rng.uniform(0.1, 0.3))
        note = self.pick(MERCHANT_NOTE[remedy])
        if remedy == "refund" and self.plan.text.kind == "return_refund":
            note = MERCHANT_NO_RETURN
        self.then("merchant_propose", lo, hi, "merchant", remedy=remedy, fen=fen, note=note)

    def _dispute(self, paid: int, remedy: str) -> None:
        fen = _round_yuan(paid * self.rng.uniform(0.05, 0.2))
        self.then(
            "merchant_propose",
            2,
            20,
            "merchant",
            remedy="compensation",
            fen=fen,
            note=self.pick(MERCHANT_PARTIAL),
        )
        self.then("consumer_reject", 0.5, 10, "consumer", note=self.pick(CONSUMER_REJECT))
        self.then("consumer_intervene", 0.2, 12, "consumer", reason=self.pick(CONSUMER_INTERVENE))
        outcome = self.rng.choices(
            ["consumer_upheld", "partially_upheld", "merchant_upheld"], weights=[55, 30, 15]
        )[0]
        self._ruling(paid, outcome=outcome, remedy=remedy)

    def _ruling(self, paid: int, *, outcome: str, remedy: str) -> None:
        self.then("arb_review", 2, 24, "arbitrator")
        if outcome == "consumer_upheld":
            remedy, fen = (
                ("refund", paid) if remedy in ("refund", "return_refund", "compensation") else (remedy, None)
            )
        elif outcome == "partially_upheld":
            remedy, fen = "compensation", _round_yuan(paid * 0.5)
        else:
            remedy, fen = "", None
        self.then(
            "arb_rule",
            4,
            30,
            "arbitrator",
            outcome=outcome,
            remedy=remedy,
            fen=fen,
            reasons=RULING_REASONS[outcome],
        )
        if remedy:
            # a ruling is carried out within 24 hours; now and then a merchant is late
            self.then("merchant_execute", *((26, 40) if self.rng.random() < 0.2 else (1, 18)), "merchant")
        scores = {"consumer_upheld": [5, 4, 4], "partially_upheld": [3, 4, 2], "merchant_upheld": [1, 2]}[
            outcome
        ]
        if self.rng.random() < 0.75:
            self.then("consumer_rate", 1, 48, "consumer", score=self.rng.choice(scores))

    def _remedy_done(self, remedy: str, *, fast: bool) -> None:
        if remedy == "return_refund":
            carrier, prefix, digits = self.rng.choice(CARRIERS)
            tracking = prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(digits))
            # a courier picks the parcel up, it travels a day or two, the merchant refunds on receipt
            self.then("consumer_ship", 1, 12 if fast else 60, "consumer", carrier=carrier, tracking=tracking)
            self.then("merchant_received", 12, 40, "merchant")
            self.then("merchant_execute", 0.05, 2 if fast else 40, "merchant")
        elif remedy == "exchange":  # the new one is sent
            self.then("merchant_execute", 1, 12 if fast else 48, "merchant")
        elif remedy == "repair":
            self.then("merchant_execute", 30, 90, "merchant")
        else:
            self.then("merchant_execute", 0.05, 3 if fast else 36, "merchant")

    def _rating(self, *, fast: bool) -> None:
        if self.score is None and self.rng.random() > 0.68:
            return  # not everyone rates
        weights = [50, 32, 11, 5, 2] if fast else [15, 30, 30, 15, 10]
        score = self.score or self.rng.choices([5, 4, 3, 2, 1], weights=weights)[0]
        self.then("consumer_rate", 0.5, 60, "consumer", score=score)


def _shortly_before(before: datetime, at: datetime, rng: random.Random) -> datetime:
    """A few minutes before `at`, and after `before`."""
    shortly = at - timedelta(minutes=rng.uniform(2, 12))
    return shortly if shortly > before else before + (at - before) / 2


def _next_minute(at: datetime) -> datetime:
    """The first whole minute after `at` (when the worker, running every minute, sees it due)."""
    return at.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _round_yuan(fen: float) -> int:
    """A round amount of at least 5 yuan, in fen."""
    return max(500, int(fen // 500) * 500)


# --- evidence files ------------------------------------------------------------------------------------
# Drawn with Pillow at demo time (nothing downloaded, no fonts: captions are grey bars), a few of each
# and reused: a file is stored once by its content, so the same picture on two cases is one blob.

#: What the consumer photographs (or screenshots) for each checklist item that takes an image.
PHOTO_OF = {
    "defect_photos": "defect",
    "actual_item_photos": "defect",
    "hazard_photos": "scorch",
    "product_packaging_photos": "package",
    "packaging_photos": "package",
    "goods_intact_photos": "package",
    "label_serial_photos": "label",
    "size_tag_photos": "label",
    "shipping_label_photo": "label",
    "received_items_photos": "items",
    "measurement_photos": "measure",
    "loss_proof": "receipt",
    "listing_screenshot": "listing",
    "size_chart_screenshot": "listing",
    "verification_screenshot": "listing",
    "tracking_screenshot": "tracking",
    "chat_screenshots": "chat",
}
SCREENSHOTS = ("listing", "tracking", "chat")
#: Variants of each picture (the table, the colour of the goods).
VARIANTS = 3
#: Share of the cases a consumer files themselves that come with photos on the form.
INTAKE_PHOTOS = 0.42
_TABLES = ((196, 160, 116), (208, 210, 212), (232, 224, 208))
_GOODS = ((58, 64, 78), (196, 70, 64), (72, 124, 186))
_INK = (92, 96, 104)
_RED = (226, 38, 38)


def _shade(rgb: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, round(c * f))) for c in rgb)  # type: ignore[return-value]


def _lit(size: tuple[int, int], top, bottom) -> Image.Image:
    """A background lit from above: a vertical gradient from `top` to `bottom`."""
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _bars(d: ImageDraw.ImageDraw, x: int, y: int, widths, *, h: int = 10, gap: int = 10, fill=_INK) -> None:
    """Lines of writing, drawn as bars."""
    for n, w in enumerate(widths):
        d.rounded_rectangle((x, y + n * (h + gap), x + w, y + n * (h + gap) + h), h // 2, fill=fill)


def _caption(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    """The note a phone's markup tool adds: a white label with two lines."""
    x0, y0, x1, y1 = box
    d.rounded_rectangle(box, 12, fill=(255, 255, 255), outline=_RED, width=3)
    _bars(d, x0 + 16, y0 + 16, (x1 - x0 - 40, (x1 - x0) // 2), h=9, gap=10, fill=(120, 120, 126))


def _arrow(d: ImageDraw.ImageDraw, start, end) -> None:
    (x0, y0), (x1, y1) = start, end
    d.line((x0, y0, x1, y1), fill=_RED, width=6)
    dx, dy = x1 - x0, y1 - y0
    length = max(1.0, (dx * dx + dy * dy) ** 0.5)
    ux, uy = dx / length, dy / length
    d.polygon(
        [
            (x1, y1),
            (x1 - 22 * ux + 11 * uy, y1 - 22 * uy - 11 * ux),
            (x1 - 22 * ux - 11 * uy, y1 - 22 * uy + 11 * ux),
        ],
        fill=_RED,
    )


def _barcode(d: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, seed: int) -> None:
    widths = random.Random(seed)
    while w > 0:
        bar = widths.choice((2, 2, 3, 5))
        d.rectangle((x, y, x + bar - 1, y + h), fill=(20, 20, 24))
        step = bar + widths.choice((2, 3, 4))
        x, w = x + step, w - step


def _blot(img: Image.Image, spots, rgba) -> Image.Image:
    """Translucent spots (a stain, scorch marks, smoke)."""
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    for box in spots:
        d.ellipse(box, fill=rgba)
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


def _garment(d: ImageDraw.ImageDraw, color, dx: int = 0, dy: int = 0) -> None:
    outline = [(250, 130), (330, 100), (470, 100), (550, 130), (650, 220), (590, 285), (545, 250), (545, 500),
               (255, 500), (255, 250), (210, 285), (150, 220)]  # fmt: skip
    d.polygon([(x + dx, y + dy) for x, y in outline], fill=color, outline=_shade(color, 0.7))
    d.arc((345 + dx, 70 + dy, 455 + dx, 150 + dy), 10, 170, fill=_shade(color, 0.6), width=8)


@functools.cache
def _picture(kind: str, variant: int) -> tuple[bytes, str]:
    """A demo photo (JPEG) or phone screenshot (PNG) and its extension."""
    if kind in SCREENSHOTS:
        return _screenshot(kind, variant), "png"
    table, goods = _TABLES[variant % len(_TABLES)], _GOODS[variant % len(_GOODS)]
    w, h = 800, 600
    img = _lit((w, h), _shade(table, 1.12), _shade(table, 0.8))
    d = ImageDraw.Draw(img)
    d.ellipse((170, 430, 650, 500), fill=_shade(table, 0.62))  # the shadow of what lies on the table
    if kind == "stain":  # a garment with a stain
        _garment(d, _shade(goods, 1.6))
        img = _blot(
            img, [(360, 300, 450, 360), (395, 330, 470, 395), (350, 340, 400, 380)], (120, 84, 40, 150)
        )
        d = ImageDraw.Draw(img)
        d.ellipse((320, 270, 500, 420), outline=_RED, width=6)
        _caption(d, (520, 420, 760, 480))
    elif kind == "defect":  # a product with a crack
        d.rounded_rectangle((200, 150, 600, 440), 44, fill=goods, outline=_shade(goods, 0.6), width=3)
        d.rounded_rectangle((220, 165, 580, 215), 20, fill=_shade(goods, 1.35))
        d.ellipse((250, 330, 300, 380), fill=_shade(goods, 0.7))
        crack = [(430, 160), (445, 205), (428, 240), (462, 280), (450, 320), (486, 362)]
        d.line(crack, fill=(18, 18, 20), width=5, joint="curve")
        d.line([(445, 205), (478, 222), (492, 250)], fill=(18, 18, 20), width=3)
        d.ellipse((385, 140, 540, 390), outline=_RED, width=6)
        _arrow(d, (680, 120), (548, 230))
        _caption(d, (540, 470, 770, 530))
    elif kind == "scorch":  # a swollen power bank with burn marks
        d.rounded_rectangle((230, 170, 570, 430), 36, fill=(64, 66, 72), outline=(30, 30, 34), width=3)
        d.ellipse((300, 210, 520, 390), fill=(84, 86, 92))
        d.rectangle((560, 270, 590, 320), fill=(40, 40, 44))
        img = _blot(img, [(470, 230, 590, 360), (500, 260, 600, 330)], (30, 16, 8, 190))
        img = _blot(img, [(430, 60, 560, 170), (480, 20, 620, 130), (520, 70, 640, 160)], (200, 200, 206, 90))
        d = ImageDraw.Draw(img)
        d.ellipse((440, 200, 630, 390), outline=_RED, width=6)
        _caption(d, (80, 470, 320, 530))
    elif kind == "package":  # a parcel, its label and a dented corner
        box = (150, 210, 520, 470)
        d.polygon([(150, 210), (260, 130), (630, 130), (520, 210)], fill=(216, 176, 122))
        d.polygon([(520, 210), (630, 130), (630, 390), (520, 470)], fill=(168, 128, 80))
        d.rectangle(box, fill=(196, 154, 100))
        d.polygon([(300, 210), (410, 130), (470, 130), (360, 210)], fill=(226, 214, 170))  # tape
        d.rectangle((190, 250, 380, 400), fill=(250, 250, 248), outline=(150, 150, 150))
        _barcode(d, 205, 330, 160, 50, variant)
        _bars(d, 205, 265, (150, 110, 130), h=8, gap=9)
        d.polygon([(520, 210), (560, 240), (540, 290), (520, 300)], fill=(120, 88, 52))  # the dent
        d.ellipse((470, 170, 620, 330), outline=_RED, width=6)
    elif kind == "label":  # a tag: brand, size, serial number, barcode
        d.line((380, 40, 400, 130), fill=(40, 40, 40), width=3)
        d.rounded_rectangle((250, 110, 560, 500), 18, fill=(252, 252, 250), outline=(170, 170, 170), width=2)
        d.ellipse((392, 128, 418, 154), fill=_shade(table, 0.9), outline=(170, 170, 170))
        d.rectangle((290, 180, 520, 215), fill=goods)
        _bars(d, 290, 240, (200, 150, 180, 120), h=10, gap=12)
        _barcode(d, 290, 370, 150, 70, variant + 7)
        cells = random.Random(variant + 11)
        for i in range(7):
            for j in range(7):
                if i in (0, 6) or j in (0, 6) or cells.random() < 0.45:
                    d.rectangle((460 + i * 9, 372 + j * 9, 468 + i * 9, 380 + j * 9), fill=(20, 20, 24))
        d.rectangle((280, 360, 530, 450), outline=_RED, width=5)
        _arrow(d, (700, 520), (540, 440))
    elif kind == "measure":  # the item laid flat with a tape measure
        _garment(d, _shade(goods, 1.5), dy=-40)
        d.rectangle((120, 490, 700, 530), fill=(246, 210, 60), outline=(150, 120, 20))
        for n, x in enumerate(range(130, 700, 12)):
            d.line((x, 490, x, 500 if n % 5 else 512), fill=(30, 30, 30), width=2)
        _arrow(d, (400, 478), (255, 478))
        _arrow(d, (400, 478), (545, 478))
        _caption(d, (560, 40, 770, 100))
    elif kind == "items":  # what came in the box, with the missing piece's place marked
        d.rounded_rectangle((140, 190, 330, 420), 20, fill=goods)
        d.ellipse((360, 230, 470, 340), fill=_shade(goods, 1.5))
        d.rectangle((380, 360, 470, 430), fill=(240, 240, 236), outline=(160, 160, 160))
        for x in range(500, 680, 18):  # the empty place, dashed
            d.line((x, 200, x + 9, 200), fill=_INK, width=3)
            d.line((x, 400, x + 9, 400), fill=_INK, width=3)
        for y in range(200, 400, 18):
            d.line((500, y, 500, y + 9), fill=_INK, width=3)
            d.line((680, y, 680, y + 9), fill=_INK, width=3)
        d.ellipse((470, 160, 710, 440), outline=_RED, width=6)
        _caption(d, (60, 470, 290, 530))
    else:  # receipt: a bill for what the loss cost
        paper = Image.new("RGB", (300, 460), (250, 250, 246))
        p = ImageDraw.Draw(paper)
        p.rectangle((30, 30, 270, 60), fill=_INK)
        _bars(p, 30, 90, (200, 160, 220, 140, 190, 170, 210), h=9, gap=14)
        p.rectangle((30, 280, 270, 284), fill=_INK)
        p.rectangle((150, 300, 270, 324), fill=(20, 20, 24))
        p.ellipse((160, 350, 260, 450), outline=_RED, width=5)
        img.paste(paper.rotate(-6, expand=True, fillcolor=_shade(table, 0.95)), (240, 70))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=84)
    return out.getvalue(), "jpg"


def _screenshot(kind: str, variant: int) -> bytes:
    """A phone screenshot: a product page, a chat, a parcel's tracking."""
    w, h = 390, 800
    img = Image.new("RGB", (w, h), (244, 244, 246))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w, 28), fill=(255, 255, 255))
    _bars(d, 16, 10, (34,), h=8, fill=(30, 30, 30))
    d.rectangle((340, 10, 370, 18), fill=(30, 30, 30))
    goods = _GOODS[variant % len(_GOODS)]
    if kind == "listing":
        img.paste(_lit((w, 340), (250, 250, 250), (222, 222, 226)), (0, 28))
        d.rounded_rectangle((110, 110, 280, 320), 24, fill=goods)
        d.rectangle((0, 368, w, 430), fill=(255, 80, 40))
        d.rectangle((16, 384, 120, 414), fill=(255, 255, 255))
        d.rectangle((0, 430, w, 640), fill=(255, 255, 255))
        _bars(d, 16, 450, (340, 280, 300, 220, 320, 180), h=10, gap=16)
        d.rectangle((8, 470, 300, 500), outline=_RED, width=3)  # the claim in question
        d.rectangle((0, 740, w, h), fill=(255, 255, 255))
        d.rounded_rectangle((190, 752, 280, 788), 18, fill=(255, 170, 0))
        d.rounded_rectangle((288, 752, 378, 788), 18, fill=(255, 60, 40))
    elif kind == "chat":
        d.rectangle((0, 28, w, 80), fill=(255, 255, 255))
        _bars(d, 150, 48, (90,), h=12, fill=(30, 30, 30))
        y = 100
        for n, width in enumerate((220, 150, 260, 120, 240, 180, 90)):
            mine = n % 2 == 1
            lines = 2 if width > 200 else 1
            bh = 24 + lines * 22
            x0 = w - 70 - width if mine else 62
            d.ellipse((w - 52, y, w - 14, y + 38) if mine else (14, y, 52, y + 38), fill=goods)
            d.rounded_rectangle(
                (x0, y, x0 + width + 24, y + bh), 10, fill=(149, 236, 105) if mine else (255, 255, 255)
            )
            _bars(d, x0 + 12, y + 14, (width, width * 2 // 3)[:lines], h=9, gap=13, fill=(70, 70, 76))
            y += bh + 24
        d.rectangle((0, 740, w, h), fill=(250, 250, 250))
        d.rounded_rectangle((16, 752, 320, 788), 8, fill=(255, 255, 255))
    else:  # tracking
        img.paste(_lit((w, 220), (214, 232, 220), (190, 214, 200)), (0, 28))
        d.line([(60, 200), (130, 120), (230, 160), (320, 80)], fill=(40, 150, 90), width=5)
        for x, y in ((60, 200), (320, 80)):
            d.ellipse((x - 9, y - 9, x + 9, y + 9), fill=(255, 120, 0))
        d.rectangle((0, 248, w, h), fill=(255, 255, 255))
        for n in range(7):
            y = 280 + n * 70
            d.line((40, y, 40, y + 70), fill=(210, 210, 214), width=2)
            d.ellipse((32, y - 8, 48, y + 8), fill=(255, 120, 0) if n == 0 else (190, 190, 196))
            _bars(d, 70, y - 8, (260 - 20 * (n % 3), 120), h=9, gap=12)
        d.rectangle((58, 340, 370, 400), outline=_RED, width=3)  # days without an update
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@functools.cache
def _document(kind: str) -> Image.Image:
    """A scanned form from the shop: a quality check before dispatch, or the dispatch record."""
    img = Image.new("RGB", (595, 842), (255, 255, 255))
    d = ImageDraw.Draw(img)
    d.rectangle((40, 40, 555, 100), fill=(36, 84, 150) if kind == "qc" else (40, 120, 90))
    d.rectangle((56, 52, 92, 88), fill=(255, 255, 255))
    _bars(d, 110, 60, (220, 140), h=10, gap=8, fill=(255, 255, 255))
    _bars(d, 40, 130, (300, 240), h=9, gap=12)
    rows, top = (9, 190) if kind == "qc" else (6, 190)
    for r in range(rows + 1):
        d.line((40, top + r * 44, 555, top + r * 44), fill=(120, 120, 120), width=1)
    for x in (40, 200, 400, 555):
        d.line((x, top, x, top + rows * 44), fill=(120, 120, 120), width=1)
    for r in range(rows):
        y = top + r * 44 + 17
        _bars(d, 52, y, (110 - 12 * (r % 3),), h=9)
        _bars(d, 212, y, (150 - 20 * (r % 4),), h=9)
        d.line([(460, y + 4), (472, y + 14), (494, y - 6)], fill=(30, 150, 60), width=4)  # checked
    _barcode(d, 40, 640, 200, 60, 3 if kind == "qc" else 5)
    d.ellipse((400, 620, 530, 750), outline=(214, 40, 40), width=6)  # the shop's seal
    d.polygon([(465, 650), (478, 690), (520, 690), (486, 712), (498, 750), (465, 726), (432, 750),
               (444, 712), (410, 690), (452, 690)], fill=(214, 40, 40))  # fmt: skip
    d.line([(300, 760), (330, 740), (350, 770), (380, 735), (395, 760)], fill=(30, 30, 60), width=3)
    return img


def _pdf(kind: str) -> bytes:
    out = io.BytesIO()
    now = timezone.now().utctimetuple()  # the time of the step (Pillow would take the real clock's)
    _document(kind).save(out, "PDF", resolution=72, creationDate=now, modDate=now)
    return out.getvalue()


#: The shop's chat with the buyer before the case was filed: (minutes before filing, who, text).
# fmt: off
CHAT_LOG = (
    (105, "buyer", "你好，我买的东西有问题。"),
    (102, "shop", "亲，您好，请问是哪里有问题呢？麻烦拍一下照片哦。"),
    (84, "buyer", None),  # the complaint itself
    (63, "shop", "亲，我们出库前都有质检的，这个情况可能是使用造成的，可以给您补偿一部分。"),
    (51, "buyer", "不接受，商品本身就有问题。"),
    (47, "shop", "那您可以申请售后，我们按平台规则处理。"),
)
CHAT_LOG_EN = (
    (105, "buyer", "Hi, there is a problem with my order."),
    (102, "shop", "Hello! What seems to be the problem? Could you send a photo please?"),
    (84, "buyer", None),
    (63, "shop", "Every item is checked before dispatch. This may be from use; we can offer partial compensation."),
    (51, "buyer", "No, the item was faulty when it arrived."),
    (47, "shop", "Then please open an after-sales request and we will follow the platform's rules."),
)
# fmt: on


def _chat_log(case: Case, tz: ZoneInfo) -> bytes:
    english = case.description.isascii()
    names = {"buyer": "Buyer" if english else "买家", "shop": "Shop" if english else "客服"}
    order = case.order.external_id if case.order_id else ""
    lines = [f"{'Order' if english else '订单号'}: {order}", ""]
    for minutes, who, text in CHAT_LOG_EN if english else CHAT_LOG:
        at = (case.created_at - timedelta(minutes=minutes)).astimezone(tz)
        lines.append(f"{at:%Y-%m-%d %H:%M:%S} {names[who]}: {text or case.description}")
    return ("\n".join(lines) + "\n").encode()


# --- running the plan -------------------------------------------------------------------------------

_DUE = (
    ("first_response", "first_response_due", "first_responded_at"),
    ("merchant_response", "merchant_response_due", "merchant_responded_at"),
    ("resolution", "resolution_due", "resolved_at"),
)


class _Runner:
    """Runs every step of every case in time order, with the worker's sweeps in between."""

    def __init__(self, *, now: datetime, seed: int, cast: _Cast, plans: list[_Plan]):
        self.now = now
        self.cast = cast
        self.plans = plans
        self.ids = random.Random(seed * 7919 + 17)  # correlation ids, tracking numbers, comments
        self.pictures = random.Random(seed * 6271 + 3)  # which of the drawn pictures a file is
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.triggers: dict[str, list[tuple[datetime, datetime]]] = {}  # case -> when the sweep has work
        self.swept = datetime.min.replace(tzinfo=UTC)  # the last sweep
        self.clock = datetime.min.replace(tzinfo=UTC)  # the last step or sweep: time never goes back
        self.auto_close = timedelta(days=services.rules().auto_close_days)
        self.receipt_window = services.timeouts().return_receipt_window
        self.made = 0

    def run(self) -> int:
        steps: list[tuple[datetime, int, int, str, _Plan, dict]] = []
        setup = (self.plans[0].at if self.plans else self.now) - timedelta(days=1)
        merchants: set[int] = set()
        for plan in self.plans:
            order = plan.order.order
            if order.merchant_id not in merchants:
                merchants.add(order.merchant_id)
                steps.append((setup, -1, len(merchants), "merchant_login", plan, {}))
            if order.buyer.user_id is None:  # the buyer signed up some time before filing
                signup = max(setup, plan.at - timedelta(hours=plan.index % 7 * 30 + 1))
                steps.append((signup, plan.index, -1, "consumer_login", plan, {}))
            steps += [
                (at, plan.index, n, a, plan, params)
                for n, (at, a, params) in enumerate(plan.steps)
                if at <= self.now
            ]
        steps.sort(key=lambda s: s[:3])
        for at, _index, _n, action, plan, params in steps:
            self._sweep_until(at)
            self.clock = max(self.clock, at)
            with time_machine.travel(self.clock, tick=False):
                self._step(action, plan, params)
        self._sweep_until(self.now)
        with acting(None, via="task", correlation=self._correlation()):
            services.sweep()  # and the worker's sweep at the current time
        return self.made

    def _correlation(self) -> str:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4).hex

    # -- the worker's sweeps, when something falls due
    def _sweep_until(self, until: datetime) -> None:
        """Run the sweep before `until` wherever the worker would have found work: within half
        an hour after each deadline (the worker runs every minute; nobody sees the difference)
        and somewhere between each SLA warning and its deadline, with as few sweeps as that takes."""
        while True:
            pending = [
                (lo, hi) for windows in self.triggers.values() for lo, hi in windows if lo > self.swept
            ]
            if not pending or min(lo for lo, _hi in pending) >= until:
                return
            at = max(min(min(hi for _lo, hi in pending), until), self.clock)
            with (
                time_machine.travel(at, tick=False),
                acting(None, via="task", correlation=self._correlation()),
            ):
                services.sweep()
            self.swept = self.clock = at
            self._refresh(list(self.triggers))

    def _refresh(self, numbers: list[str]) -> None:
        """When the sweep next has something to do on these cases, as (earliest, latest) windows:
        SLA warnings and deadlines, automatic approval, a remedy due, a return not sent back or
        not confirmed, a resolved case to close."""
        executing, windows = {}, {}
        for case in Case.objects.filter(number__in=numbers):
            times: list[datetime | None] = []
            warnings: list[tuple[datetime, datetime]] = []
            if case.status in workflow.OPEN:
                if case.waiting_on_consumer_since is None:
                    policy = services.policy_for(case)
                    for target, due_field, met_field in _DUE:
                        due, length = getattr(case, due_field), policy.target(target)
                        if due is None or length is None or getattr(case, met_field) is not None:
                            continue
                        if target == "merchant_response" and case.status != workflow.AWAITING_MERCHANT:
                            continue
                        times.append(due)
                        if not policy.business_hours:
                            warn = policy.warn_before
                            warn = min(warn if isinstance(warn, timedelta) else length * warn, length)
                            warnings.append((_next_minute(due - warn), due - timedelta(minutes=1)))
                if case.status == workflow.AWAITING_MERCHANT:
                    times.append(case.auto_approve_at)
                if case.status == workflow.EXECUTING:
                    times.append(case.execution_due)
                    executing[case.pk] = case.number
            elif case.status == workflow.RESOLVED and case.resolved_at:
                times.append(case.resolved_at + self.auto_close)
            windows[case.number] = [
                (_next_minute(t), _next_minute(t) + timedelta(minutes=29)) for t in times if t
            ]
            windows[case.number] += [(lo, hi) for lo, hi in warnings if lo <= hi]
        returns = Remedy.objects.filter(
            case_id__in=list(executing), status=Remedy.Status.PENDING, kind="return_refund", received_at=None
        )
        for case_id, shipped, ship_by in returns.values_list(
            "case_id", "return_shipped_at", "return_ship_by"
        ):
            when = ship_by if shipped is None else shipped + self.receipt_window
            if when is not None:
                windows[executing[case_id]].append(
                    (_next_minute(when), _next_minute(when) + timedelta(minutes=29))
                )
        for number, found in windows.items():
            if found:
                self.triggers[number] = found
            else:
                self.triggers.pop(number, None)

    # -- one step
    def _step(self, action: str, plan: _Plan, params: dict) -> None:
        if action == "merchant_login":
            self._merchant_login(plan.order.order.merchant)
            return
        if action == "consumer_login":
            self._consumer_login(plan.order.order.buyer)
            return
        if action == "submit":
            self._submit(plan)
        elif plan.number is not None:
            case = Case.objects.select_related("buyer__user", "consumer").get(number=plan.number)
            actor = {
                "agent": self.cast.agent,
                "merchant": self.cast.staff.get(case.merchant_id),
                "consumer": case.consumer or (case.buyer.user if case.buyer_id else None),
                "arb": self.cast.arbitrator,
            }[action.split("_")[0]]
            if actor is None:
                return
            with acting(actor, via="web", correlation=self._correlation()):
                try:
                    with transaction.atomic():
                        getattr(self, f"_{action}")(case, actor, **params)
                except DomainError:
                    pass  # the case took another turn (approved automatically, escalated ...): skip
        if plan.number is not None:
            self._refresh([plan.number])

    def _merchant_login(self, merchant: Merchant) -> None:
        if merchant.pk in self.cast.staff:
            return
        staff = (
            User.objects.filter(role=Role.MERCHANT_STAFF, merchant=merchant, is_active=True)
            .order_by("pk")
            .first()
        )
        username = f"shop_{merchant.external_id}"
        if staff is None and not User.objects.filter(username=username).exists():
            with acting(None, via="cli", correlation=self._correlation()):
                staff = core_services.create_user(
                    actor=None,
                    username=username,
                    password=None,
                    role=Role.MERCHANT_STAFF,
                    merchant=merchant,
                    display_name=f"{merchant.name} 客服"[:100],
                )
        if staff is not None:
            self.cast.staff[merchant.pk] = staff

    def _consumer_login(self, buyer: Buyer) -> None:
        buyer.refresh_from_db(fields=["user"])
        username = f"buyer_{buyer.external_id}"
        if buyer.user_id is not None or User.objects.filter(username=username).exists():
            return
        with acting(None, via="web", correlation=self._correlation()):
            user = core_services.create_user(
                actor=None,
                username=username,
                password=None,
                role=Role.CONSUMER,
                display_name=buyer.name[:100],
            )
        # the marketplace links the login to its buyer record (as marketguard.demo does for "consumer")
        Buyer.objects.filter(pk=buyer.pk, user__isnull=True).update(user=user)

    def _submit(self, plan: _Plan) -> None:
        order, text = plan.order.order, plan.text
        order.buyer.refresh_from_db(fields=["user"])
        amount = None
        if text.kind in ("refund_only", "return_refund"):
            amount = plan.order.paid_fen
        elif text.kind == "compensation":
            amount = _round_yuan(plan.order.paid_fen * 0.5)
        user = order.buyer.user
        by_consumer = plan.filed_by == "consumer" and user is not None
        with acting(user if by_consumer else self.cast.agent, via="web", correlation=self._correlation()):
            try:
                with transaction.atomic():
                    intake = services.submit_case(
                        actor=user if by_consumer else self.cast.agent,
                        channel=plan.channel
                        if by_consumer or plan.channel not in ("app", "web")
                        else "hotline",
                        kind=text.kind,
                        description=text.text,
                        problem_type=text.problem_type,
                        order_external_id=order.external_id,
                        item_external_id=plan.order.item,
                        buyer_external_id=None if by_consumer else order.buyer.external_id,
                        amount_claimed=None if amount is None else f"{amount / 100:.2f}",
                    )
            except DomainError:
                return
        plan.number = intake.case.number
        self.made += 1

    # -- the moves (each in its own savepoint: a DomainError means the case went another way)
    def _agent_note(self, case, actor, *, body):
        services.post_message(actor=actor, number=case.number, body=body)

    def _agent_urgent(self, case, actor, *, body):
        if (
            case.priority in ("P1", "P2")
            and case.first_responded_at is None
            and case.owner_id in (None, actor.pk)
        ):
            services.post_message(actor=actor, number=case.number, body=body)

    def _agent_ack(self, case, actor, *, message):
        services.acknowledge_case(actor=actor, number=case.number, message=message)

    def _agent_forward(self, case, actor, *, message):
        services.forward_to_merchant(actor=actor, number=case.number, message=message)

    def _agent_resolve(self, case, actor, *, reason):
        services.resolve_case(actor=actor, number=case.number, reason=reason)

    def _agent_materials(self, case, actor):
        checklist = materials.checklist(case.problem_type, case.kind)
        photos = [i.code for i in checklist if i.required and i.code in PHOTO_OF]  # "a close-up photo"
        items = photos[:1] or [i.code for i in checklist if i.required][:1] or [i.code for i in checklist][:1]
        services.request_materials(
            actor=actor, number=case.number, items=items, reason=AGENT_MATERIALS_REASON
        )

    def _merchant_ask(self, case, actor, *, body):
        services.post_message(actor=actor, number=case.number, body=body)

    def _merchant_propose(self, case, actor, *, remedy, fen, note):
        if fen is not None and remedy in ("refund", "return_refund") and case.paid_amount_fen is not None:
            fen = min(fen, case.paid_amount_fen)
        amount = None if fen is None else f"{fen / 100:.2f}"
        services.make_proposal(actor=actor, number=case.number, remedy=remedy, amount=amount, note=note)

    def _open_proposal(self, case) -> Proposal | None:
        return (
            case.proposals.filter(status=Proposal.Status.OPEN)
            .exclude(party="consumer")
            .order_by("-pk")
            .first()
        )

    def _consumer_accept(self, case, actor):
        proposal = self._open_proposal(case)
        if proposal is not None:
            services.decide_proposal(actor=actor, number=case.number, proposal_id=proposal.pk, accept=True)

    def _consumer_reject(self, case, actor, *, note):
        proposal = self._open_proposal(case)
        if proposal is not None:
            services.decide_proposal(
                actor=actor, number=case.number, proposal_id=proposal.pk, accept=False, note=note
            )

    def _consumer_reply(self, case, actor, *, body):
        services.post_message(actor=actor, number=case.number, body=body)

    def _consumer_intervene(self, case, actor, *, reason):
        services.request_intervention(actor=actor, number=case.number, reason=reason)

    def _consumer_withdraw(self, case, actor, *, reason):
        services.withdraw_case(actor=actor, number=case.number, reason=reason)

    def _consumer_ship(self, case, actor, *, carrier, tracking):
        for remedy in case.remedies.filter(
            status=Remedy.Status.PENDING, kind="return_refund", received_at=None
        ):
            services.record_return_shipped(
                actor=actor,
                number=case.number,
                remedy_id=remedy.pk,
                carrier=carrier,
                tracking_number=tracking,
                # what the parcel cost, when the merchant refunds it (the problem is the merchant's)
                postage=("8.00", "10.00", "12.00", "15.00")[int(case.number[-1]) % 4]
                if postage_rules.merchant_pays(case.problem_type)
                else None,
            )

    def _consumer_rate(self, case, actor, *, score):
        if not Rating.objects.filter(case=case).exists():
            comment = self.ids.choice(
                (RATING_COMMENTS_EN if case.description.isascii() else RATING_COMMENTS)[score]
            )
            services.rate_case(actor=actor, number=case.number, score=score, comment=comment)

    def _consumer_files(self, case, actor, *, count, intake=False):
        """Photos of what the checklist asks for: what an agent asked for last, else the items
        not sent yet (the required ones first), else another shot of the first."""
        checklist = [i for i in materials.checklist(case.problem_type, case.kind) if i.code in PHOTO_OF]
        asked = MaterialRequest.objects.filter(case=case).order_by("-pk").first()
        sent = set(case.evidence.values_list("material_code", flat=True))
        codes = [item["code"] for item in (asked.items if asked else []) if item["code"] in PHOTO_OF]
        codes += [i.code for i in sorted(checklist, key=lambda i: not i.required) if i.code not in sent]
        codes += [i.code for i in checklist]
        garment = "C01" in case.category.path.split("/") if case.category_id else False
        local = timezone.now().astimezone(self.tz)
        for n, code in enumerate(dict.fromkeys(codes).keys()):
            if n >= count:
                break
            kind = "stain" if PHOTO_OF[code] == "defect" and garment else PHOTO_OF[code]
            data, ext = _picture(kind, self.pictures.randrange(VARIANTS))
            at = local + timedelta(seconds=n * 7 - self.pictures.randint(20, 600))
            name = f"Screenshot_{at:%Y-%m-%d-%H-%M-%S}.png" if ext == "png" else f"IMG_{at:%Y%m%d_%H%M%S}.jpg"
            services.add_evidence(
                actor=actor,
                number=case.number,
                filename=name,
                data=data,
                material_code=code,
                with_intake=intake,
            )

    def _merchant_files(self, case, actor, *, what):
        """The shop's side: its chat with the buyer, or its records of the goods it sent."""
        order = case.order.external_id if case.order_id else case.number
        english = case.description.isascii()
        if what == "chat":
            name, data = f"{'chat_log' if english else '聊天记录'}_{order}.txt", _chat_log(case, self.tz)
        else:
            name = {"qc": ("出库质检单", "QC_record"), "dispatch": ("发货记录", "dispatch_record")}[what][
                english
            ]
            name, data = f"{name}_{order}.pdf", _pdf(what)
        services.add_evidence(actor=actor, number=case.number, filename=name, data=data)

    def _arb_review(self, case, actor):
        services.start_review(actor=actor, number=case.number)

    def _arb_rule(self, case, actor, *, outcome, remedy, fen, reasons):
        amount = None if fen is None else f"{fen / 100:.2f}"
        services.record_ruling(
            actor=actor,
            number=case.number,
            outcome=outcome,
            reasons=reasons,
            remedy=remedy,
            amount=amount,
            compensation_basis="goodwill" if remedy == "compensation" else "",
        )

    def _merchant_received(self, case, actor):
        for remedy in case.remedies.filter(
            status=Remedy.Status.PENDING, kind="return_refund", received_at=None
        ):
            services.record_return_received(actor=actor, number=case.number, remedy_id=remedy.pk)

    def _merchant_execute(self, case, actor):
        for remedy in case.remedies.filter(status=Remedy.Status.PENDING).order_by("pk"):
            extra = {}
            if remedy.kind == "return_refund" and remedy.received_at is None:
                if remedy.return_shipped_at is None:
                    continue  # nothing to refund before the goods are on their way back
                services.record_return_received(actor=actor, number=case.number, remedy_id=remedy.pk)
            if remedy.kind in ("refund", "return_refund", "compensation"):
                extra["payment_reference"] = f"RF{case.number[2:]}{remedy.pk % 100:02d}"
            elif remedy.kind in ("exchange", "reshipment"):
                carrier, prefix, digits = self.ids.choice(CARRIERS)
                extra["carrier"] = carrier
                extra["tracking_number"] = prefix + "".join(
                    str(self.ids.randint(0, 9)) for _ in range(digits)
                )
            elif remedy.kind == "repair":
                extra["repair_due"] = timezone.localdate() + timedelta(days=7)
            services.execute_remedy(actor=actor, number=case.number, remedy_id=remedy.pk, **extra)
            if remedy.kind == "repair":  # scheduled above; the repaired goods go back
                services.execute_remedy(actor=actor, number=case.number, remedy_id=remedy.pk)

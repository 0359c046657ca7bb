"""Deterministic, realistic, bilingual demo marketplace: categories, merchants, stores, products,
buyers, orders with items and shipments.

Pure module: no Django import. `generate(scale, seed, today=...)` returns a `Demo` whose attributes
are iterables of plain dicts, in dependency order (categories, merchants, stores, products, buyers,
then `order_chunks()`); the database loader and the CSV / Parquet importer consume them as they are.

Determinism: every row comes from `random.Random` instances seeded from (seed, stream name), never the
global generator or the clock, and sets are never iterated to produce output. The same (scale, seed,
today) gives the same rows in any process. Each kind has its own stream, so iterating products twice,
or orders with another chunk size, gives the same rows.

Scale: orders are produced lazily in chunks (a million orders never sit in memory at once); products
and buyers are produced lazily from a compact plan. Money is integer fen inside and a 2-decimal yuan
string outside. Times are ISO 8601 UTC strings ending in "Z".

Planted signal for later stages (complaint seeding, risk detectors, the listing scanner):
- `problem_merchants`: complaint-heavy merchants; about 40 % of their products are in
  `problem_products` (plus about 1 % of everyone else's). About half of the problem products carry a
  claim the Advertising Law forbids (absolute terms, medical claims) in their description.
- `late_merchants`: merchants whose deliveries are late far more often (overall late share ~6-8 %).
- A few merchants are "suspended"; most of them are problem merchants.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from marketguard.catalog.attributes import CATEGORY_TREE, effective_template, leaf_codes
from marketguard.catalog.codes import gtin_check_digit, make_gtin, make_uscc

__all__ = [
    "SCALES",
    "DEFAULT_TODAY",
    "CATEGORY_KEYS",
    "MERCHANT_KEYS",
    "STORE_KEYS",
    "PRODUCT_KEYS",
    "BUYER_KEYS",
    "ORDER_KEYS",
    "ORDER_ITEM_KEYS",
    "SHIPMENT_KEYS",
    "ORDER_STATUSES",
    "CARRIERS",
    "Demo",
    "generate",
]

#: scale -> (merchants, products, buyers, orders)
SCALES: dict[str, tuple[int, int, int, int]] = {
    "small": (20, 300, 500, 5_000),
    "medium": (200, 5_000, 20_000, 100_000),
    "large": (2_000, 50_000, 300_000, 1_000_000),
}
DEFAULT_TODAY = date(2026, 11, 22)
WINDOW_DAYS = 183  # orders are placed within the 6 months before `today`

CATEGORY_KEYS = (
    "external_id", "parent_external_id", "name_zh", "name_en", "risk_level", "attribute_template",
    "no_reason_return",
)  # fmt: skip
MERCHANT_KEYS = ("external_id", "name", "uscc", "status", "contact_phone", "registered_at")
STORE_KEYS = ("external_id", "merchant_external_id", "name", "return_address")
PRODUCT_KEYS = (
    "external_id", "store_external_id", "category_external_id", "title", "description", "brand",
    "attributes", "price", "status",
)  # fmt: skip
BUYER_KEYS = ("external_id", "name", "phone", "address", "email")
ORDER_KEYS = (
    "external_id", "buyer_external_id", "store_external_id", "placed_at", "paid_at", "payment_reference",
    "paid_amount", "status",
)  # fmt: skip
ORDER_ITEM_KEYS = (
    "external_id",
    "order_external_id",
    "product_external_id",
    "quantity",
    "unit_price",
    "paid_amount",
)
SHIPMENT_KEYS = (
    "external_id", "order_external_id", "carrier", "tracking_number", "shipped_at", "promised_at",
    "delivered_at", "signed_at",
)  # fmt: skip

#: Order statuses the generator uses (a subset of catalog.models.OrderStatus):
#: paid (not shipped yet), shipped (in transit), delivered (not yet signed for), completed (signed
#: for), cancelled (refunded before shipment; no shipment row).
ORDER_STATUSES = ("paid", "shipped", "delivered", "completed", "cancelled")

# carrier, share, tracking number format, number of random digits
CARRIERS: tuple[tuple[str, float, str, int], ...] = (
    ("中通快递", 0.25, "78%013d", 13),
    ("韵达快递", 0.19, "43%011d", 11),
    ("圆通速递", 0.19, "YT%013d", 13),
    ("顺丰速运", 0.17, "SF%013d", 13),
    ("京东物流", 0.13, "JDV%012d", 12),
    ("EMS", 0.07, "11%011d", 11),
)

# ---------------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# city, province ("" for municipalities), division code, English name, districts, weight (buyers)
CITIES: tuple[tuple[str, str, str, str, tuple[str, ...], float], ...] = (
    ("杭州市", "浙江省", "330100", "Hangzhou", ("西湖区", "余杭区", "滨江区", "拱墅区", "上城区"), 5),
    ("宁波市", "浙江省", "330200", "Ningbo", ("鄞州区", "海曙区", "江北区"), 2),
    ("温州市", "浙江省", "330300", "Wenzhou", ("鹿城区", "瓯海区", "龙湾区"), 2),
    ("义乌市", "浙江省", "330782", "Yiwu", ("稠城街道", "北苑街道", "福田街道"), 1),
    ("上海市", "", "310000", "Shanghai", ("浦东新区", "徐汇区", "闵行区", "静安区", "长宁区"), 8),
    ("北京市", "", "110000", "Beijing", ("朝阳区", "海淀区", "东城区", "丰台区"), 8),
    ("天津市", "", "120000", "Tianjin", ("和平区", "南开区", "滨海新区"), 3),
    ("重庆市", "", "500000", "Chongqing", ("渝中区", "江北区", "渝北区"), 4),
    ("广州市", "广东省", "440100", "Guangzhou", ("天河区", "白云区", "越秀区", "番禺区"), 6),
    ("深圳市", "广东省", "440300", "Shenzhen", ("南山区", "福田区", "宝安区", "龙华区"), 6),
    ("东莞市", "广东省", "441900", "Dongguan", ("南城街道", "虎门镇", "长安镇"), 2),
    ("佛山市", "广东省", "440600", "Foshan", ("禅城区", "顺德区", "南海区"), 2),
    ("汕头市", "广东省", "440500", "Shantou", ("澄海区", "金平区", "龙湖区"), 1),
    ("苏州市", "江苏省", "320500", "Suzhou", ("姑苏区", "吴中区", "吴江区"), 4),
    ("南京市", "江苏省", "320100", "Nanjing", ("鼓楼区", "玄武区", "江宁区"), 4),
    ("泉州市", "福建省", "350500", "Quanzhou", ("丰泽区", "鲤城区", "晋江市"), 2),
    ("厦门市", "福建省", "350200", "Xiamen", ("思明区", "湖里区", "集美区"), 2),
    ("成都市", "四川省", "510100", "Chengdu", ("武侯区", "锦江区", "成华区"), 5),
    ("武汉市", "湖北省", "420100", "Wuhan", ("江汉区", "武昌区", "洪山区"), 4),
    ("长沙市", "湖南省", "430100", "Changsha", ("岳麓区", "芙蓉区", "雨花区"), 3),
    ("郑州市", "河南省", "410100", "Zhengzhou", ("金水区", "中原区", "二七区"), 3),
    ("青岛市", "山东省", "370200", "Qingdao", ("市南区", "崂山区", "黄岛区"), 3),
    ("西安市", "陕西省", "610100", "Xi'an", ("雁塔区", "碑林区", "未央区"), 3),
    ("合肥市", "安徽省", "340100", "Hefei", ("蜀山区", "包河区", "庐阳区"), 2),
    ("沈阳市", "辽宁省", "210100", "Shenyang", ("和平区", "沈河区", "浑南区"), 2),
    ("昆明市", "云南省", "530100", "Kunming", ("五华区", "盘龙区", "官渡区"), 2),
    ("南宁市", "广西壮族自治区", "450100", "Nanning", ("青秀区", "西乡塘区"), 2),
    ("乌鲁木齐市", "新疆维吾尔自治区", "650100", "Urumqi", ("天山区", "沙依巴克区"), 1),
    ("哈尔滨市", "黑龙江省", "230100", "Harbin", ("南岗区", "道里区"), 2),
)
_CITY_BY_NAME = {c[0]: c for c in CITIES}

# Where merchants of a root category tend to be registered.
_MERCHANT_CITIES: dict[str, tuple[str, ...]] = {
    "C01": ("杭州市", "杭州市", "广州市", "广州市", "温州市", "苏州市", "上海市", "深圳市", "义乌市"),
    "C02": ("上海市", "成都市", "长沙市", "郑州市", "杭州市", "厦门市", "武汉市", "沈阳市"),
    "C03": ("广州市", "广州市", "上海市", "上海市", "杭州市", "深圳市"),
    "C04": ("宁波市", "杭州市", "上海市", "广州市", "苏州市"),
    "C05": ("深圳市", "深圳市", "深圳市", "东莞市", "广州市", "杭州市"),
    "C06": ("佛山市", "宁波市", "义乌市", "杭州市", "南京市"),
    "C07": ("汕头市", "汕头市", "义乌市", "东莞市"),
    "C08": ("北京市", "北京市", "上海市", "南京市", "西安市"),
    "C09": ("义乌市", "杭州市", "泉州市", "厦门市"),
}
_ROOT_WEIGHTS = (
    ("C01", 26), ("C02", 14), ("C03", 12), ("C04", 10), ("C05", 12), ("C06", 10), ("C07", 7), ("C08", 5),
    ("C09", 4),
)  # fmt: skip
_INDUSTRY = {
    "C01": (("服饰", "Apparel"), ("服装", "Garment"), ("制衣", "Clothing"), ("鞋业", "Footwear")),
    "C02": (("食品", "Foods"), ("农业科技", "Agritech")),
    "C03": (("化妆品", "Cosmetics"), ("生物科技", "Biotech")),
    "C04": (("母婴用品", "Baby Products"), ("婴童用品", "Kids Products")),
    "C05": (("电子科技", "Electronics"), ("数码科技", "Digital Technology")),
    "C06": (("家居用品", "Homeware"), ("厨具", "Kitchenware")),
    "C07": (("玩具", "Toys"), ("玩具实业", "Toy Industries")),
    "C08": (("文化传媒", "Media"), ("图书", "Books")),
    "C09": (("工艺品", "Crafts"), ("文化创意", "Creative")),
}
_BRANDS_ZH = _words(
    "织云 悦享 禾木 星辰 乐途 云端 锦绣 青柠 朗悦 森屿 初见 拾光 暖阳 山野 海蓝 优品 嘉禾 鹿鸣 橙心 麦田 "
    "晨曦 墨染 竹语 兰亭 木槿 新禾 知味 良品 百草 蓝鲸 稻香 绿源 北辰 南风 天目 金穗 惠康 安贝 小象 童趣 "
    "贝乐 萌兔 智联 极客 速能 聚能 迅捷 酷玩 魔方 书香 墨香 匠心 臻品 雅居 康宁 美厨 净颜 花语 水漾 肌本 "
    "素言 溪谷 泊岸 清禾 春山 月白 九州 万象 宜家乐 半亩 一叶 三只鹿 小野 壹品 东篱 西风 听雨 观澜"
)
_BRANDS_EN = (
    "URBAN PEAK",
    "Bluepeak",
    "Mossa",
    "Nordwin",
    "Kidsy",
    "Voltix",
    "Lumina",
    "Oakhaus",
    "PureLeaf",
    "Aurora Lab",
    "Tidewave",
    "Zenith",
    "Maplewood",
    "Coralis",
    "Brightbay",
    "Nestly",
    "Kindle & Co",
)
_STORE_SUFFIXES = (("官方旗舰店", 4), ("旗舰店", 4), ("专营店", 2), ("专卖店", 1), ("企业店", 1), ("小店", 1))

# Farmers' cooperatives and village collectives selling fresh produce: county, province, code, produce.
_COUNTIES = (
    ("信丰县", "江西省", "360722", "赣南脐橙", "江西赣州"),
    ("栖霞市", "山东省", "370686", "烟台红富士苹果", "山东烟台"),
    ("阿克苏市", "新疆维吾尔自治区", "652901", "阿克苏冰糖心苹果", "新疆阿克苏"),
    ("丹棱县", "四川省", "511424", "丹棱不知火丑橘", "四川眉山"),
    ("徐闻县", "广东省", "440825", "徐闻菠萝", "广东湛江"),
    ("永胜县", "云南省", "530722", "云南软籽石榴", "云南丽江"),
)

_SURNAMES = _words(
    "王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu 孙sun 马ma 朱zhu 胡hu 郭guo "
    "何he 高gao 林lin 罗luo 郑zheng 梁liang 谢xie 宋song 唐tang 许xu 韩han 冯feng 邓deng 曹cao 彭peng "
    "曾zeng 肖xiao 田tian 董dong 袁yuan 潘pan 于yu 蒋jiang 蔡cai 余yu 杜du 叶ye 程cheng 苏su 魏wei 吕lv "
    "丁ding 任ren 沈shen 姚yao 卢lu 姜jiang 崔cui 钟zhong 谭tan 陆lu 汪wang 范fan 金jin 石shi 廖liao "
    "贾jia 夏xia 韦wei 方fang 白bai 邹zou 孟meng 熊xiong 秦qin 邱qiu 江jiang 尹yin 薛xue 段duan 雷lei "
    "侯hou 龙long 史shi 陶tao 黎li 贺he 顾gu 毛mao 郝hao 龚gong 邵shao 万wan 钱qian 严yan 武wu 戴dai "
    "欧阳ouyang 上官shangguan 司马sima 诸葛zhuge"
)
_GIVEN = _words(
    "伟wei 芳fang 娜na 敏min 静jing 丽li 强qiang 磊lei 军jun 洋yang 勇yong 艳yan 杰jie 娟juan 涛tao "
    "明ming 超chao 秀xiu 霞xia 平ping 刚gang 英ying 华hua 玉yu 萍ping 红hong 建jian 文wen 辉hui 宇yu "
    "浩hao 婷ting 欣xin 怡yi 梓zi 涵han 轩xuan 子zi 晨chen 睿rui 博bo 雨yu 嘉jia 思si 佳jia 悦yue "
    "琳lin 雪xue 晓xiao 海hai 志zhi 春chun 宁ning 梅mei 鑫xin 斌bin 凯kai 鹏peng 飞fei 俊jun 一yi "
    "诺nuo 可ke 安an 然ran 泽ze 铭ming 昊hao 航hang 天tian 乐le 晴qing 瑶yao 颖ying 丹dan 慧hui "
    "云yun 峰feng 亮liang 成cheng 欢huan 璐lu 薇wei 倩qian 洁jie 帆fan 阳yang 东dong 昕xin 彤tong"
)
_EN_FIRST = ("Emily", "James", "Olivia", "Lucas", "Sophia", "Daniel", "Mia", "Ethan", "Grace", "Leo", "Chloe")
_EN_LAST = ("Chen", "Wang", "Smith", "Li", "Zhang", "Brown", "Lin", "Johnson", "Wong", "Lee", "Garcia")
_MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 175 176 177 "
    "178 180 181 182 183 184 185 186 187 188 189 191 198 199"
)
# Made-up people get addresses under the reserved ".example" top-level domain (RFC 2606), shaped
# like the providers buyers use, so that a demo with real SMTP configured mails nobody.
_EMAIL_DOMAINS = (
    ("163.example", 4),
    ("126.example", 2),
    ("sina.example", 1),
    ("foxmail.example", 1),
    ("gmail.example", 1),
    ("outlook.example", 1),
)
_STREETS = _words(
    "文三路 中山路 人民路 解放路 建设路 长江路 黄河路 和平路 新华路 科技路 滨江大道 学院路 东风路 延安路 "
    "华山路 青年路 江南大道 花园路 振兴路 光明路 幸福路 体育路 湖滨路 望江路"
)
_COMPOUNDS = _words(
    "阳光花园 翠苑 锦绣华庭 金色家园 城市之光 紫金苑 绿洲小区 翰林院 湖畔名邸 书香门第 滨江花园 和园"
)
_AREA_CODES = {
    "杭州市": "0571", "宁波市": "0574", "温州市": "0577", "义乌市": "0579", "上海市": "021", "北京市": "010",
    "天津市": "022", "重庆市": "023", "广州市": "020", "深圳市": "0755", "东莞市": "0769", "佛山市": "0757",
    "汕头市": "0754", "苏州市": "0512", "南京市": "025", "泉州市": "0595", "厦门市": "0592", "成都市": "028",
    "武汉市": "027", "长沙市": "0731", "郑州市": "0371", "青岛市": "0532", "西安市": "029", "合肥市": "0551",
    "沈阳市": "024", "昆明市": "0871", "南宁市": "0771", "乌鲁木齐市": "0991", "哈尔滨市": "0451",
    "信丰县": "0797", "栖霞市": "0535", "阿克苏市": "0997", "丹棱县": "028", "徐闻县": "0759", "永胜县": "0888",
}  # fmt: skip

# Claims the Advertising Law forbids, planted in some problem products' descriptions.
_BAD_CLAIMS_GENERAL = (
    "全网销量第一",
    "国家级品质",
    "史无前例的低价",
    "行业顶级工艺",
    "最好用的一款",
    "全球首款",
)
_BAD_CLAIMS_HEALTH = {
    "C02": ("降血压降血脂", "治愈失眠", "可替代药物调理身体", "预防癌症"),
    "C03": ("7天祛斑", "治疗痘痘", "医用级修复烂脸", "根治湿疹"),
    "C04": ("100%无菌", "预防婴儿腹泻"),
}

_EN_NOUNS = {
    "C01": ("Basic Tee", "Oversize", "Slim Fit", "Classic"),
    "C05": ("Pro", "Max", "Mini", "Plus"),
    "C07": ("STEM", "Kids Fun", "Play Set"),
}

# Per leaf category: price range in yuan, title nouns, title specs, selling points, attribute hints.
_LEAVES: dict[str, dict] = {
    "C010101": {
        "price": (39, 199),
        "nouns": ("男士纯棉短袖T恤", "圆领印花T恤", "冰丝速干T恤", "重磅纯棉T恤", "宽松落肩T恤"),
        "specs": ("白色", "黑色", "藏青", "灰色", "M-3XL"),
        "points": ("精梳棉面料，亲肤透气", "领口罗纹加固，多次洗涤不变形", "宽松版型，日常百搭"),
        "attrs": {
            "fibre_composition": ("100%棉", "95%棉 5%氨纶", "60%棉 40%聚酯纤维"),
            "safety_class": ("B",),
            "executive_standard": ("GB/T 22849-2014",),
            "size": ("M", "L", "XL", "170/92A", "175/96A"),
        },
    },
    "C010201": {
        "price": (89, 599),
        "nouns": ("法式碎花连衣裙", "收腰雪纺连衣裙", "针织长款连衣裙", "真丝印花连衣裙"),
        "specs": ("夏季", "秋冬", "S-XL", "显瘦"),
        "points": ("垂感面料，行走飘逸", "收腰设计，修饰身形", "内衬柔软不透"),
        "attrs": {
            "fibre_composition": ("100%聚酯纤维", "100%桑蚕丝", "70%粘纤 30%锦纶", "95%棉 5%氨纶"),
            "safety_class": ("B", "C"),
            "executive_standard": ("FZ/T 81004-2012",),
            "size": ("S", "M", "L", "160/84A", "165/88A"),
        },
    },
    "C010202": {
        "price": (49, 299),
        "nouns": ("无痕文胸", "莫代尔内裤 3条装", "蕾丝文胸套装", "纯棉保暖内衣套装"),
        "specs": ("无钢圈", "舒适透气", "M-XXL"),
        "points": ("贴身面料经抗菌处理", "无钢圈设计，舒适无束缚", "本品为贴身衣物，拆封后不支持无理由退货"),
        "attrs": {
            "fibre_composition": ("92%莫代尔 8%氨纶", "95%棉 5%氨纶", "85%锦纶 15%氨纶"),
            "safety_class": ("A", "B"),
            "executive_standard": ("FZ/T 73012-2017",),
            "size": ("M", "L", "XL", "75B", "80B"),
        },
    },
    "C010301": {
        "price": (49, 299),
        "nouns": ("儿童纯棉卫衣", "男童长袖T恤", "女童针织开衫", "儿童防晒外套"),
        "specs": ("110-160cm", "春秋款", "卡通印花"),
        "points": ("A类面料，宝宝贴身穿更安心", "无绳带设计，玩耍更安全", "宽松版型，活动自如"),
        "attrs": {
            "fibre_composition": ("100%棉", "95%棉 5%氨纶", "80%棉 20%聚酯纤维"),
            "safety_class": ("A", "B"),
            "executive_standard": ("FZ/T 73045-2013",),
            "size": ("110cm", "120cm", "130cm", "140cm", "150cm"),
        },
    },
    "C010302": {
        "price": (39, 259),
        "nouns": ("婴儿纯棉连体衣", "新生儿和尚服套装", "宝宝爬服", "婴儿睡袋"),
        "specs": ("0-3个月", "3-6个月", "6-12个月", "四季款"),
        "points": ("A类婴幼儿用品，无荧光剂", "前开扣设计，穿脱方便", "平缝工艺，不磨宝宝肌肤"),
        "attrs": {
            "fibre_composition": ("100%棉", "100%精梳棉", "95%竹纤维 5%氨纶"),
            "safety_class": ("A",),
            "executive_standard": ("FZ/T 73025-2019", "GB 31701-2015"),
            "size": ("59cm", "66cm", "73cm", "80cm", "90cm"),
        },
    },
    "C0104": {
        "price": (199, 999),
        "nouns": ("男子跑步鞋", "女子休闲运动鞋", "轻便透气网面鞋", "复古老爹鞋"),
        "specs": ("缓震", "防滑耐磨", "36-45码"),
        "points": ("飞织鞋面，透气轻盈", "EVA 中底回弹缓震", "橡胶大底防滑耐磨"),
        "attrs": {
            "upper_material": ("飞织", "网布", "头层牛皮", "合成革"),
            "sole_material": ("橡胶", "EVA", "橡胶+EVA"),
            "executive_standard": ("GB/T 15107-2013",),
            "size": ("38", "39", "40", "41", "42", "43"),
        },
    },
    "C020101": {
        "price": (10, 89),
        "nouns": ("每日坚果", "手撕面包", "芝士夹心饼干", "香辣牛肉干", "蛋黄酥"),
        "specs": ("750g", "30包装", "整箱", "办公室零食"),
        "points": ("独立小包装，随时随地享用", "当季新货，新鲜发出", "无添加蔗糖"),
        "attrs": {
            "ingredients": (
                "小麦粉、白砂糖、植物油、鸡蛋、食用盐、食品添加剂（碳酸氢铵）",
                "腰果仁、巴旦木仁、核桃仁、蔓越莓干、蓝莓干",
                "牛肉、白砂糖、食用盐、辣椒、花椒、香辛料",
            ),
            "net_content": ("500g", "750g", "250g×2袋", "1kg", "26g×30袋"),
            "shelf_life_days": (90, 180, 240, 270, 365),
            "storage_conditions": ("常温、阴凉干燥处保存，避免阳光直射", "开封后请尽快食用"),
            "product_standard_code": ("GB/T 20977-2007", "GB 19300-2014", "GB 2726-2016", "SB/T 10377"),
        },
    },
    "C020102": {
        "price": (99, 599),
        "nouns": ("维生素C咀嚼片", "鱼油软胶囊", "钙维生素D软胶囊", "蛋白粉"),
        "specs": ("60粒", "120粒", "礼盒装", "成人中老年"),
        "points": ("蓝帽子保健食品", "本品不能代替药物", "每日一粒，方便补充"),
        "attrs": {
            "ingredients": (
                "鱼油、明胶、甘油、纯化水",
                "碳酸钙、维生素D3、大豆油、明胶",
                "维生素C、甘露醇、柠檬酸",
            ),
            "net_content": ("500mg×120粒", "1000mg×60粒", "400g", "1.2g×60片"),
            "shelf_life_days": (720, 730, 1095),
            "storage_conditions": ("密封，置阴凉干燥处",),
            "product_standard_code": ("GB 16740-2014",),
        },
    },
    "C020201": {
        "price": (19, 199),
        "nouns": (
            "赣南脐橙",
            "烟台红富士苹果",
            "阿克苏冰糖心苹果",
            "丹棱不知火丑橘",
            "徐闻菠萝",
            "云南软籽石榴",
        ),
        "specs": ("5斤装", "10斤整箱", "单果200g+", "现摘现发"),
        "points": ("产地直发，坏果包赔", "鲜活易腐商品，不支持七日无理由退货", "冷链运输"),
        "attrs": {
            "net_content": ("2.5kg", "5kg", "3kg", "500g×4盒"),
            "storage_conditions": ("0–4℃冷藏保存", "阴凉通风处保存"),
            "shelf_life_days": (7, 10, 15, 30),
        },
        # title noun -> (origin, variety)
        "fruits": {
            "赣南脐橙": ("江西赣州", "脐橙"),
            "烟台红富士苹果": ("山东烟台", "红富士"),
            "阿克苏冰糖心苹果": ("新疆阿克苏", "冰糖心"),
            "丹棱不知火丑橘": ("四川眉山", "不知火"),
            "徐闻菠萝": ("广东湛江", "巴厘菠萝"),
            "云南软籽石榴": ("云南丽江", "软籽石榴"),
        },
    },
    "C020202": {
        "price": (39, 299),
        "nouns": ("内蒙古原切牛排", "散养土鸡蛋", "宁夏滩羊肉卷", "冷鲜黑猪五花肉"),
        "specs": ("1kg", "30枚", "冷链直发", "家庭装"),
        "points": ("检疫合格，来源可追溯", "全程冷链配送", "鲜活易腐商品，不支持七日无理由退货"),
        "attrs": {
            "origin": ("内蒙古锡林郭勒", "宁夏盐池", "黑龙江五常", "山东潍坊", "江西赣州"),
            "net_content": ("1kg", "500g×2袋", "1.5kg", "2kg"),
            "storage_conditions": ("0–4℃冷藏保存", "-18℃以下冷冻保存"),
            "shelf_life_days": (3, 5, 7, 180),
        },
    },
    "C030101": {
        "price": (59, 899),
        "nouns": ("玻尿酸补水面霜", "烟酰胺精华液", "氨基酸洁面乳", "修护保湿乳液", "舒缓爽肤水"),
        "specs": ("50mL", "30mL", "120g", "敏感肌适用"),
        "points": ("温和配方，适合敏感肌", "经人体斑贴试验", "质地清爽不油腻"),
        "attrs": {
            "ingredients": (
                "水、甘油、丁二醇、烟酰胺、透明质酸钠、苯氧乙醇",
                "水、甘油、椰油酰甘氨酸钾、月桂酰谷氨酸钠、乙基己基甘油",
                "水、角鲨烷、神经酰胺NP、泛醇、卡波姆、苯氧乙醇",
            ),
            "net_content": ("50mL", "30mL", "120g", "100ml", "200mL"),
            "period_of_use_months": (24, 36),
            "executive_standard": ("QB/T 1857-2013", "GB/T 29665-2013", "QB/T 2660-2004"),
        },
    },
    "C030102": {
        "price": (49, 299),
        "nouns": ("清爽防晒乳", "物理防晒霜", "户外防晒喷雾", "儿童防晒乳"),
        "specs": ("SPF50+ PA++++", "SPF30", "50mL", "防水防汗"),
        "points": ("轻薄不假白", "需卸妆清洁", "出门前15分钟涂抹"),
        "attrs": {
            "ingredients": (
                "水、二氧化钛、氧化锌、甘油、环五聚硅氧烷",
                "水、胡莫柳酯、奥克立林、丁二醇、乙醇",
            ),
            "net_content": ("50mL", "40g", "150ml"),
            "period_of_use_months": (24, 36),
            "executive_standard": ("GB/T 29665-2013", "QB/T 1857-2013"),
        },
    },
    "C040101": {
        "price": (39, 299),
        "nouns": ("宽口径PPSU奶瓶", "玻璃防胀气奶瓶", "硅胶仿母乳奶嘴", "新生儿奶瓶套装"),
        "specs": ("160mL", "240mL", "0-6个月", "防呛奶"),
        "points": ("耐高温可蒸煮消毒", "防胀气阀设计", "不含双酚A"),
        "attrs": {"capacity_ml": (150, 160, 180, 240, 300), "bpa_free": (True,)},
        # material, food-contact standard, word in the title that implies it
        "materials": (
            ("PPSU", "GB 4806.7-2023", "PPSU"),
            ("高硼硅玻璃", "GB 4806.5-2016", "玻璃"),
            ("硅胶", "GB 4806.11-2023", "硅胶"),
        ),
    },
    "C040102": {
        "price": (19, 129),
        "nouns": ("儿童吸盘碗", "宝宝辅食碗勺套装", "儿童不锈钢餐盘", "学饮杯"),
        "specs": ("防摔", "分格", "卡通款"),
        "points": ("食品级材质", "吸盘防打翻", "可用洗碗机清洗"),
        "materials": (
            ("PP", "GB 4806.7-2023", "碗"),
            ("316不锈钢", "GB 4806.9-2023", "不锈钢"),
            ("硅胶", "GB 4806.11-2023", "杯"),
        ),
    },
    "C0402": {
        "price": (399, 3999),
        "nouns": ("高景观婴儿推车", "轻便折叠伞车", "双向婴儿推车", "一键收车遛娃神器"),
        "specs": ("可坐可躺", "0-3岁", "避震"),
        "points": ("五点式安全带", "一键折叠，可登机", "四轮避震"),
        "attrs": {"executive_standard": ("GB 14748-2006",), "max_load_kg": ("15", "22", "25", "22.5")},
        "ccc": "2203",
    },
    "C050101": {
        "price": (59, 299),
        "nouns": ("22.5W超级快充移动电源", "自带线充电宝", "磁吸无线充电宝", "迷你便携充电宝"),
        "specs": ("10000mAh", "20000mAh", "可上飞机", "PD快充"),
        "points": ("支持 PD/QC 多协议快充", "多重安全保护", "额定能量低于100Wh，可随身登机"),
        "attrs": {
            "executive_standard": ("GB/T 35590-2017", "GB 4943.1-2022", "GB 31241-2022"),
            "battery_type": ("锂离子", "锂聚合物"),
        },
        "ccc": "0911",
    },
    "C050102": {
        "price": (29, 199),
        "nouns": ("氮化镓快充充电器", "多口充电头", "65W笔记本充电器"),
        "specs": ("20W", "65W", "Type-C", "折叠插脚"),
        "points": ("氮化镓方案，小体积大功率", "过压过流保护", "兼容多种设备"),
        "attrs": {"executive_standard": ("GB 4943.1-2022",), "output_power_w": (20, 30, 45, 65, 100)},
        "ccc": "0907",
    },
    "C0502": {
        "price": (69, 1599),
        "nouns": ("真无线蓝牙耳机", "主动降噪头戴耳机", "运动挂耳耳机", "有线入耳式耳机"),
        "specs": ("降噪", "长续航", "低延迟"),
        "points": ("蓝牙5.3 稳定连接", "单次续航8小时", "IPX5 防水"),
    },
    "C060101": {
        "price": (59, 699),
        "nouns": ("不粘炒锅", "铸铁珐琅锅", "304不锈钢汤锅", "麦饭石煎锅"),
        "specs": ("28cm", "32cm", "燃气电磁炉通用", "少油烟"),
        "points": ("复合底导热均匀", "燃气灶、电磁炉通用", "食品级材质"),
        "attrs": {"diameter_cm": (20, 24, 26, 28, 30, 32)},
        "materials": (
            ("铸铁", "GB 4806.9-2023", "铸铁"),
            ("304不锈钢", "GB 4806.9-2023", "不锈钢"),
            ("铝合金（不粘涂层）", "GB 4806.10-2016", "不粘"),
            ("复合麦饭石涂层", "GB 4806.10-2016", "麦饭石"),
        ),
    },
    "C0602": {
        "price": (129, 999),
        "nouns": ("全棉四件套", "天丝凉感四件套", "水洗棉床单被套", "儿童纯棉三件套"),
        "specs": ("1.5m床", "1.8m床", "简约条纹", "北欧风"),
        "points": ("60支长绒棉", "活性印染不褪色", "A类标准，可贴身"),
        "attrs": {
            "fibre_composition": ("100%棉", "100%莱赛尔纤维", "60%棉 40%聚酯纤维"),
            "safety_class": ("A", "B"),
            "executive_standard": ("GB/T 22844-2009",),
            "size": ("1.5m床", "1.8m床", "1.2m床"),
        },
    },
    "C0701": {
        "price": (19, 399),
        "nouns": ("儿童益智拼装积木", "惯性回力工程车", "过家家厨房玩具", "遥控越野车"),
        "specs": ("3-6岁", "大颗粒", "生日礼物"),
        "points": ("ABS 环保材质", "圆角设计不伤手", "锻炼动手能力"),
        "attrs": {
            "executive_standard": ("GB 6675.1-2014", "GB 6675.2-2014", "GB 6675.1-2014; GB 19865-2005")
        },
        "ccc": "2201",
    },
    "C0702": {
        "price": (29, 299),
        "nouns": ("毛绒公仔抱枕", "安抚玩偶", "卡通毛绒挂件"),
        "specs": ("40cm", "60cm", "可机洗"),
        "points": ("高品质短毛绒面料", "PP棉填充，蓬松回弹", "可机洗"),
        "attrs": {
            "executive_standard": ("GB 6675.1-2014", "GB 6675.2-2014"),
            "filling_material": ("PP棉", "珍珠棉", "羽丝绒"),
        },
        "ccc": "2202",
    },
    "C0801": {
        "price": (19, 129),
        "nouns": (
            "小王子",
            "西游记（青少版）",
            "昆虫记",
            "海底两万里",
            "城南旧事",
            "骆驼祥子",
            "十万个为什么",
        ),
        "specs": ("精装", "彩绘版", "注音版", "全译本"),
        "points": ("正版图书", "大字护眼排版", "名家翻译"),
        "attrs": {
            "publisher": (
                "人民文学出版社",
                "译林出版社",
                "接力出版社",
                "二十一世纪出版社",
                "中信出版社",
                "商务印书馆",
            ),
        },
    },
    "C0802": {
        "price": (39, 299),
        "nouns": ("经典老歌精选 黑胶唱片", "古典音乐名曲 CD", "纪录片典藏 蓝光", "民谣合集 CD"),
        "specs": ("2碟装", "LP", "首版"),
        "points": ("正版音像制品", "塑封完好；拆封后不支持无理由退货", "附歌词本"),
        "attrs": {
            "medium": ("CD", "黑胶", "DVD", "蓝光"),
            "publisher": ("中国唱片总公司", "上海音像出版社", "广东音像出版社", "九洲音像出版公司"),
        },
    },
    "C0803": {
        "price": (69, 1299),
        "nouns": ("办公软件 永久授权", "杀毒软件 一年版", "PDF编辑器 激活码", "思维导图软件"),
        "specs": ("电子版", "1台设备", "3台设备"),
        "points": ("激活码即时发货", "数字商品一经发货不支持无理由退货", "官方授权"),
        "attrs": {
            "delivery": ("激活码", "在线下载"),
            "platform": ("Windows", "macOS", "Windows/macOS", "Android/iOS"),
        },
    },
    "C0901": {
        "price": (49, 199),
        "nouns": ("定制印花T恤", "班服定制", "情侣装定制卫衣", "文化衫来图定制"),
        "specs": ("来图印制", "可印Logo", "一件起定"),
        "points": ("支持上传图片和文字", "定制商品不支持七日无理由退货", "热转印工艺"),
        "attrs": {
            "fibre_composition": ("100%棉", "65%聚酯纤维 35%棉"),
            "safety_class": ("B",),
            "executive_standard": ("GB/T 22849-2014",),
            "customization_spec": (
                "支持上传图片印制，正反面各一处",
                "可印姓名和数字，限10个字符",
                "来图定制Logo",
            ),
        },
    },
    "C0902": {
        "price": (29, 399),
        "nouns": ("刻字保温杯", "定制木质相框", "激光刻字钢笔", "定制水晶奖杯"),
        "specs": ("免费刻字", "生日礼物", "礼盒装"),
        "points": ("激光刻字，永不褪色", "定制商品不支持七日无理由退货", "精美礼盒包装"),
        "attrs": {
            "material": ("不锈钢", "黄铜", "实木", "K9水晶"),
            "customization_spec": ("激光刻字，最多20个字符", "可刻姓名和日期", "支持上传照片"),
        },
    },
}

_FORMALDEHYDE_MAX = {"A": 20, "B": 75, "C": 300}
_PROVINCE_ABBR = {
    "浙江省": "浙", "广东省": "粤", "江苏省": "苏", "福建省": "闽", "四川省": "川", "湖北省": "鄂", "湖南省": "湘",
    "河南省": "豫", "山东省": "鲁", "陕西省": "陕", "安徽省": "皖", "辽宁省": "辽", "云南省": "云",
    "广西壮族自治区": "桂", "新疆维吾尔自治区": "新", "黑龙江省": "黑", "江西省": "赣",
}  # fmt: skip
_MUNICIPALITY_ABBR = {"上海市": "沪", "北京市": "京", "天津市": "津", "重庆市": "渝"}


def _coupon(line_fen: int) -> int:
    """A store coupon: 5, 10 or 20 yuan off, never more than half the line."""
    off = 2000 if line_fen >= 20000 else 1000 if line_fen >= 6000 else 500
    return min(off, line_fen // 2)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _weighted(rng: random.Random, pairs) -> object:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _abbr(city: tuple) -> str:
    return _MUNICIPALITY_ABBR.get(city[0]) or _PROVINCE_ABBR.get(city[1], "沪")


def _address(rng: random.Random, city: tuple) -> str:
    district = rng.choice(city[4])
    street = rng.choice(_STREETS)
    head = f"{city[1]}{city[0]}" if city[1] else city[0]
    tail = f"{rng.choice(_COMPOUNDS)}{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
    return f"{head}{district}{street}{rng.randint(1, 999)}号{tail}"


def _title_spec(leaf: str, attrs: dict) -> str:
    """The part of a title that must agree with the attributes (capacity, power, net content ...)."""
    if leaf == "C050101":
        return f"{attrs['capacity_mah']}mAh"
    if leaf == "C050102":
        return f"{attrs['output_power_w']}W"
    if leaf == "C040101":
        return f"{attrs['capacity_ml']}mL"
    if leaf == "C030102":
        return f"SPF{attrs['spf']}" + (f" {attrs['pa']}" if "pa" in attrs else "")
    if leaf == "C060101" and "diameter_cm" in attrs:
        return f"{attrs['diameter_cm']}cm"
    if "net_content" in attrs:
        return attrs["net_content"]
    if leaf == "C0602" and "size" in attrs:
        return attrs["size"]
    return ""


def _merchant_name(
    rng: random.Random, form: str, brand: str, city: tuple, industry_zh: str, industry_en: str
) -> str:
    short_city = city[0].removesuffix("市")
    zh_brand = brand if brand in _BRANDS_ZH else rng.choice(_BRANDS_ZH)
    if form == "coop":
        county = next(c for c in _COUNTIES if c[0] == city[0])
        return f"{county[0]}{zh_brand}{county[3][-2:]}种植专业合作社"
    if form == "village":
        return f"{city[0]}{rng.choice('东西南北上下')}{rng.choice('湾岭塘坪庄')}村股份经济合作社"
    if form == "individual":
        return f"{city[0]}{zh_brand}{industry_zh}商行"
    if form == "institution":
        return f"{short_city}{rng.choice(('市博物馆', '市图书馆', '市美术馆', '市文化馆'))}"
    if form == "non_profit":
        return f"{short_city}{zh_brand}公益服务中心"
    if form == "other":
        return f"{short_city}{zh_brand}{industry_zh}服务中心"
    if form == "english":
        suffix = rng.choice(("Trading Co., Ltd.", "Co., Ltd.", f"{industry_en} Co., Ltd."))
        return f"{city[3]} {brand} {suffix}"
    roll = rng.random()
    if roll < 0.75:
        return f"{short_city}{brand}{industry_zh}有限公司"
    if roll < 0.9:
        return f"{brand}（{short_city}）{industry_zh}有限公司"
    return f"{short_city}{brand}{industry_zh}股份有限公司"


def _coprime_multiplier(modulus: int, salt: int) -> int:
    """A large multiplier coprime to `modulus` (a power of ten), so i -> (i * m + c) % modulus is a
    bijection: numbers derived from a row index are unique and look random."""
    m = ((0x9E3779B97F4A7C15 * (salt + 1)) >> 7) % modulus | 1
    while m % 5 == 0:
        m += 2
    return m


def _scramble(i: int, modulus: int, salt: int, offset: int) -> int:
    """Bijection of range(modulus): unique, random-looking numbers from a row index."""
    return (i * _coprime_multiplier(modulus, salt) + offset) % modulus


# ---------------------------------------------------------------------------------------------------
# Attribute values
# ---------------------------------------------------------------------------------------------------


def _company(rng: random.Random, industry: str) -> str:
    city = rng.choice(CITIES)
    return f"{city[0].removesuffix('市')}{rng.choice(_BRANDS_ZH)}{industry}有限公司"


def _product_attributes(
    leaf: str, rng: random.Random, today: date, template: list[dict] | None = None, noun: str = ""
) -> dict:
    """Raw (JSON-safe) attribute values for a product of `leaf` that pass its effective template;
    `noun` (the product's title noun) keeps material, origin and variety consistent with the title."""
    profile = _LEAVES[leaf]
    hints = profile.get("attrs", {})
    template = template if template is not None else effective_template(leaf)
    out: dict = {}
    if noun in profile.get("fruits", {}):
        out["origin"], variety = profile["fruits"][noun]
        if rng.random() < 0.8:
            out["variety"] = variety
    shelf_life = None
    for spec in template:
        key = spec["key"]
        if key in out or (not spec["required"] and rng.random() < 0.3):
            continue
        if key in hints:
            value = rng.choice(hints[key])
        elif key == "gtin":
            value = make_gtin(rng, "69" + str(rng.randint(0, 9)))
        elif key == "safety_class":
            value = rng.choice(spec["choices"])
        elif key == "formaldehyde_mg_per_kg":
            limit = _FORMALDEHYDE_MAX.get(out.get("safety_class", "C"), 20)
            limit = min(limit, int(spec.get("max", limit)))
            value = f"{rng.randint(0, limit * 10 - 1) / 10:.1f}"
        elif key == "care_instructions":
            value = rng.choice(
                ("30℃以下水洗，不可漂白，低温熨烫", "建议手洗，不可翻转干燥", "可机洗，深浅色分开洗涤")
            )
        elif key == "cord_safety":
            value = True
        elif key == "infant_label":
            value = "婴幼儿用品"
        elif key == "variety":
            continue
        elif key == "origin":
            value = rng.choice([c[4] for c in _COUNTIES])
        elif key == "executive_standard":
            value = f"Q/{rng.choice('HZSZGZNB')}{rng.choice('ABCDJKLMSTXY')}{rng.choice('ABCDJKLMSTXY')} {rng.randint(1, 99):04d}S-{rng.randint(2019, 2025)}"
        elif key == "size":
            value = "均码"
        elif key == "fibre_composition":
            value = "100%棉"
        elif key == "producer":
            value = _company(rng, "食品" if leaf.startswith("C02") else "实业")
        elif key == "producer_address":
            value = _address(rng, rng.choice(CITIES))
        elif key == "producer_contact":
            value = f"400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        elif key == "shelf_life_days":
            value = rng.choice((90, 180, 365))
        elif key == "production_date":
            value = None  # filled once shelf life is known
        elif key == "storage_conditions":
            value = "常温、阴凉干燥处保存"
        elif key == "sc_licence_no":
            value = f"SC1{rng.randint(1, 32):02d}{rng.choice(CITIES)[2]}{rng.randint(0, 9999):04d}{rng.randint(0, 9)}"
        elif key == "product_standard_code":
            value = "GB 7718-2011"
        elif key == "nutrition_label":
            value = True
        elif key == "health_food_approval":
            value = (
                f"国食健注G{rng.randint(2012, 2024)}{rng.randint(0, 9999):04d}"
                if rng.random() < 0.5
                else f"食健备G{rng.randint(2017, 2025)}{rng.choice(CITIES)[2][:2]}{rng.randint(0, 999999):06d}"
            )
        elif key == "warning_statement":
            value = "本品不能代替药物"
        elif key == "quarantine_certificate_no":
            value = f"{rng.randint(1, 65):02d}{rng.randint(0, 99_999_999):08d}"
        elif key == "cosmetic_registration_no":
            if "pattern" in spec:  # special cosmetic
                value = f"国妆特{'进' if rng.random() < 0.2 else ''}字{'J' if rng.random() < 0.2 else 'G'}{rng.randint(2019, 2025)}{rng.randint(0, 9999):04d}"
            else:
                city = rng.choice(CITIES)
                value = f"{_abbr(city)}G妆网备字{rng.randint(2019, 2025)}{rng.randint(0, 999999):06d}"
        elif key == "registrant":
            value = _company(rng, "生物科技")
        elif key == "manufacturer":
            value = _company(rng, "化妆品")
        elif key == "manufacturer_licence_no":
            value = f"{rng.choice('粤浙沪苏鲁')}妆{rng.randint(2016, 2023)}{rng.randint(0, 9999):04d}"
        elif key == "safety_warnings":
            value = "避免接触眼睛，如有不适请立即停止使用"
        elif key == "spf":
            value = rng.choice((15, 30, 50))
        elif key == "pa":
            value = rng.choice(("PA+++", "PA++++"))
        elif key in ("material", "food_contact_standard") and "materials" in profile:
            matching = [m for m in profile["materials"] if m[2] in noun] or list(profile["materials"])
            material, standard, _ = rng.choice(matching)
            out["material"], out["food_contact_standard"] = material, standard
            continue
        elif key == "food_contact_label":
            value = True
        elif key == "ccc_certificate_no":
            value = f"{rng.randint(2019, 2025)}01{profile.get('ccc', '0911')}{rng.randint(0, 999999):06d}"
        elif key == "capacity_mah":
            value = rng.choice((5000, 10000, 20000))
        elif key == "rated_energy_wh":
            value = f"{out.get('capacity_mah', 10000) * 37 / 10000:.2f}"
        elif key == "wireless":
            value = rng.random() < 0.7
        elif key == "cmiit_id":
            if out.get("wireless") is not True:
                continue
            value = f"{rng.randint(2019, 2025)}{rng.choice('ABCDEFGHJKLMNPR')}{rng.choice('ABCDEFGHJKLMNPR')}{rng.randint(0, 9999):04d}"
        elif key == "age_grade":
            value = "0岁以上" if leaf == "C0702" else rng.choice(("3岁以上", "6岁以上", "3-6岁"))
        elif key == "warning":
            value = "含小零件，不适合3岁以下儿童" if leaf != "C0702" else "请在成人监护下使用"
        elif key == "battery_powered":
            value = True
        elif key == "isbn":
            body = f"9787{rng.randint(0, 99_999_999):08d}"
            value = body + gtin_check_digit(body)
        elif key == "publisher":
            value = f"{rng.choice(_BRANDS_ZH)}软件有限公司"
        elif key == "publication_date":
            value = (today - timedelta(days=rng.randint(30, 365 * 12))).isoformat()
        elif key == "production_days":
            value = rng.choice((3, 5, 7, 10))
        elif spec["type"] == "enum":
            value = rng.choice(spec["choices"])
        elif spec["type"] == "bool":
            value = rng.random() < 0.5
        elif spec["type"] == "int":
            value = rng.randint(int(spec.get("min", 0)), int(spec.get("max", 100)))
        else:  # pragma: no cover - every key above has a generator; a new template key lands here
            raise KeyError(f"no demo value generator for attribute {key!r} of {leaf}")
        if key == "shelf_life_days":
            shelf_life = value
        if value is not None:
            out[key] = value
    if any(spec["key"] == "production_date" for spec in template):
        life = shelf_life or 180
        out["production_date"] = (
            today - timedelta(days=rng.randint(1, max(2, min(life // 2, 180))))
        ).isoformat()
    order = {spec["key"]: i for i, spec in enumerate(template)}
    return dict(sorted(out.items(), key=lambda kv: order[kv[0]]))


# ---------------------------------------------------------------------------------------------------
# The plan and the Demo
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    merchants: list[dict] = field(default_factory=list)
    stores: list[dict] = field(default_factory=list)
    merchant_root: list[str] = field(default_factory=list)
    merchant_brand: list[str] = field(default_factory=list)
    merchant_city: list[tuple] = field(default_factory=list)
    store_merchant: list[int] = field(default_factory=list)
    store_brand: list[str] = field(default_factory=list)
    store_weight: list[float] = field(default_factory=list)
    # products (parallel arrays; index = product number - 1)
    prod_store: list[int] = field(default_factory=list)
    prod_leaf: list[str] = field(default_factory=list)
    prod_price: list[int] = field(default_factory=list)
    prod_brand: list[str] = field(default_factory=list)
    prod_problem: list[bool] = field(default_factory=list)


class Demo:
    """A generated demo marketplace. Row iterables are re-iterable and yield identical rows each time.

    `categories`, `merchants`, `stores` are lists; `products` and `buyers` are generators created on
    each access (no large list kept); `order_chunks(chunk_size)` yields (orders, items, shipments).
    """

    def __init__(self, scale: str, seed: int, today: date):
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
        if not isinstance(today, date) or isinstance(today, datetime):
            raise TypeError("today must be a datetime.date")
        self.scale = scale
        self.seed = seed
        self.today = today
        self.n_merchants, self.n_products, self.n_buyers, self.n_orders = SCALES[scale]
        self.now = datetime(today.year, today.month, today.day, tzinfo=UTC)
        self.window_start = self.now - timedelta(days=WINDOW_DAYS)
        self.problem_merchants: set[str] = set()
        self.problem_products: set[str] = set()
        self.late_merchants: set[str] = set()
        self.suspended_merchants: set[str] = set()
        self._leaf_codes = leaf_codes()
        self._templates = {code: effective_template(code) for code in self._leaf_codes}
        self._plan = _Plan()
        self._plan_merchants()
        self._plan_products()

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"marketguard-demo:{self.seed}:{stream}")

    @property
    def counts(self) -> dict[str, int]:
        return {
            "categories": len(CATEGORY_TREE),
            "merchants": self.n_merchants,
            "stores": len(self._plan.stores),
            "products": self.n_products,
            "buyers": self.n_buyers,
            "orders": self.n_orders,
        }

    # -- categories ---------------------------------------------------------------------------------

    @property
    def categories(self) -> list[dict]:
        """One row per node of CATEGORY_TREE; attribute_template is the node's own template."""
        return [
            {
                "external_id": node["code"],
                "parent_external_id": node["parent"],
                "name_zh": node["name_zh"],
                "name_en": node["name_en"],
                "risk_level": node["risk_level"],
                "attribute_template": copy.deepcopy(node["template"]),
                "no_reason_return": node["no_reason_return"],
            }
            for node in CATEGORY_TREE
        ]

    # -- merchants and stores -----------------------------------------------------------------------

    def _plan_merchants(self) -> None:
        rng = self._rng("merchants")
        plan = self._plan
        n = self.n_merchants
        names: set[str] = set()
        store_names: set[str] = set()
        usccs: set[str] = set()
        registered_latest = self.window_start - timedelta(days=30)
        registered_earliest = datetime(2016, 1, 1, tzinfo=UTC)
        span = int((registered_latest - registered_earliest).total_seconds())
        # A few merchants registered outside market regulation at fixed positions, so every scale has
        # USCCs starting with N, 1, 5 and Y (validators that reject them get caught by the demo).
        forced = {n // 5: ("C02", 0.0, 0.99), 2 * n // 5: ("C08", 0.15, 0.5), 3 * n // 5: ("C06", 0.08, 0.5),
                  4 * n // 5: ("C05", 0.10, 0.5)}  # fmt: skip
        for i in range(n):
            root = _weighted(rng, _ROOT_WEIGHTS)
            kind_roll = rng.random()
            village_roll = rng.random()
            if i in forced:
                root, kind_roll, village_roll = forced[i]
            city = _CITY_BY_NAME[rng.choice(_MERCHANT_CITIES[root])]
            brand = rng.choice(_BRANDS_EN) if rng.random() < 0.12 else rng.choice(_BRANDS_ZH)
            authority, kind, region = "9", "1", city[2]
            industry_zh, industry_en = rng.choice(_INDUSTRY[root])
            if root == "C02" and kind_roll < 0.35:
                county = rng.choice(_COUNTIES)
                region = county[2]
                city = (county[0], county[1], county[2], "", ("城关镇",), 1)
                if village_roll < 0.6:  # a growers' cooperative sells its own fruit
                    root, authority, kind, form = "C02:coop", "9", "3", "coop"
                else:  # a village collective sells fruit and meat
                    root, authority, kind, form = "C02:fresh", "N", "2", "village"
            elif kind_roll < 0.07:
                authority, kind, form = "9", "2", "individual"
            elif root in ("C08", "C09") and kind_roll < 0.2:
                authority, kind, form = "1", "2", "institution"
            elif kind_roll < 0.09:
                authority, kind, form = "5", "2", "non_profit"
            elif kind_roll < 0.11:
                authority, kind, form = "Y", "1", "other"
            else:
                form = "english" if brand in _BRANDS_EN else "company"
            name = _merchant_name(rng, form, brand, city, industry_zh, industry_en)
            for _ in range(50):
                if name not in names:
                    break
                if form != "english":
                    brand = rng.choice(_BRANDS_ZH)
                name = _merchant_name(rng, form, brand, city, industry_zh, industry_en)
            else:
                name = f"{name}（{i + 1}）"
            names.add(name)
            if form == "institution":
                brand = name
            uscc = make_uscc(rng, authority, kind, region)
            while uscc in usccs:
                uscc = make_uscc(rng, authority, kind, region)
            usccs.add(uscc)
            phone = (
                f"{_AREA_CODES[city[0]]}-{rng.randint(5_000_0000, 8_999_9999)}"
                if rng.random() < 0.3
                else f"{rng.choice(_MOBILE_PREFIXES)}{_scramble(i, 10**8, 1, 7_654_321):08d}"
            )
            registered = registered_earliest + timedelta(seconds=rng.randrange(span))
            plan.merchants.append(
                {
                    "external_id": f"M{i + 1:06d}",
                    "name": name,
                    "uscc": uscc,
                    "status": "active",
                    "contact_phone": phone,
                    "registered_at": _iso(registered),
                }
            )
            plan.merchant_root.append(root)
            plan.merchant_brand.append(brand)
            plan.merchant_city.append(city)
            n_stores = 2 if rng.random() < 0.12 else 1
            for s in range(n_stores):
                store_no = len(plan.stores) + 1
                if authority == "1":
                    store_name = f"{name}文创{'旗舰店' if s == 0 else '专营店'}"
                elif form in ("coop", "village"):
                    short = name.removesuffix("股份经济合作社").removesuffix("专业合作社")
                    store_name = f"{short}{'原产地直营店' if s == 0 else '鲜果铺'}"
                else:
                    store_name = f"{brand}{_weighted(rng, _STORE_SUFFIXES) if s == 0 else '专营店'}"
                if store_name in store_names:
                    store_name = f"{brand}{city[0].removesuffix('市')}{store_name.removeprefix(brand)}"
                if store_name in store_names:
                    store_name = f"{store_name}{store_no}"
                store_names.add(store_name)
                plan.stores.append(
                    {
                        "external_id": f"S{store_no:06d}",
                        "merchant_external_id": f"M{i + 1:06d}",
                        "name": store_name,
                        # derived, not drawn: the generator's random sequence stays as it was
                        "return_address": f"{city[1]}{city[0]}经济技术开发区物流园{store_no % 40 + 1}号库 "
                        f"{store_name}售后组 400-800-{store_no % 10000:04d}",
                    }
                )
                plan.store_merchant.append(i)
                plan.store_brand.append(brand)
                plan.store_weight.append(rng.lognormvariate(0, 1.0))
        # Planted problems: complaint-heavy, late-delivering and suspended merchants.
        ids = [m["external_id"] for m in plan.merchants]
        n_problem = max(2, round(n * 0.08))
        problem = rng.sample(range(n), n_problem)
        problem_set = set(problem)
        others = [i for i in range(n) if i not in problem_set]
        late = problem[: (n_problem + 1) // 2] + rng.sample(others, max(1, round(n * 0.04)))
        suspended = problem[: max(1, round(n * 0.02))] + rng.sample(others, max(0, round(n * 0.01)))
        self.problem_merchants = {ids[i] for i in problem}
        self.late_merchants = {ids[i] for i in late}
        self.suspended_merchants = {ids[i] for i in suspended}
        for i in suspended:
            plan.merchants[i]["status"] = "suspended"

    @property
    def merchants(self) -> list[dict]:
        return [dict(m) for m in self._plan.merchants]

    @property
    def stores(self) -> list[dict]:
        return [dict(s) for s in self._plan.stores]

    # -- products -----------------------------------------------------------------------------------

    def _plan_products(self) -> None:
        rng = self._rng("product-plan")
        plan = self._plan
        n_stores = len(plan.stores)
        leaves_by_root: dict[str, list[str]] = {}
        for code in self._leaf_codes:
            leaves_by_root.setdefault(code[:3], []).append(code)
        leaves_by_root["C02:fresh"] = [c for c in self._leaf_codes if c.startswith("C0202")]
        leaves_by_root["C02:coop"] = ["C020201"]
        # Every store gets at least one product; the rest go by store weight.
        per_store = [1] * n_stores if self.n_products >= n_stores else [0] * n_stores
        rest = self.n_products - sum(per_store)
        cum = list(itertools.accumulate(plan.store_weight))
        for _ in range(rest):
            per_store[bisect.bisect_right(cum, rng.random() * cum[-1])] += 1
        problem_ids = self.problem_merchants
        for s, count in enumerate(per_store):
            m = plan.store_merchant[s]
            root = plan.merchant_root[m]
            is_problem_merchant = plan.merchants[m]["external_id"] in problem_ids
            own_leaves = leaves_by_root[root]
            for _ in range(count):
                if rng.random() < 0.97 or root.startswith("C02:"):
                    leaf = rng.choice(own_leaves)
                else:
                    leaf = rng.choice(self._leaf_codes)
                lo, hi = _LEAVES[leaf]["price"]
                yuan = math.exp(rng.uniform(math.log(lo), math.log(hi)))
                whole = int(yuan)
                price = whole * 100 + 90 if whole < 50 else ((whole // 10) * 10 + 9) * 100
                brand = plan.store_brand[s] if rng.random() < 0.85 else rng.choice(_BRANDS_ZH + _BRANDS_EN)
                problem = rng.random() < (0.4 if is_problem_merchant else 0.01)
                plan.prod_store.append(s)
                plan.prod_leaf.append(leaf)
                plan.prod_price.append(price)
                plan.prod_brand.append(brand)
                plan.prod_problem.append(problem)
        self.problem_products = {f"P{i + 1:07d}" for i, bad in enumerate(plan.prod_problem) if bad}

    @property
    def products(self) -> Iterator[dict]:
        return self._iter_products()

    def _iter_products(self) -> Iterator[dict]:
        rng = self._rng("products")
        plan = self._plan
        stores = plan.stores
        county_fruit = {c[0]: c[3] for c in _COUNTIES}
        for i, (s, leaf, price, brand, problem) in enumerate(
            zip(
                plan.prod_store,
                plan.prod_leaf,
                plan.prod_price,
                plan.prod_brand,
                plan.prod_problem,
                strict=True,
            )
        ):
            profile = _LEAVES[leaf]
            root = leaf[:3]
            merchant_city = plan.merchant_city[plan.store_merchant[s]][0]
            if leaf == "C020201" and merchant_city in county_fruit:
                noun = county_fruit[merchant_city]
            else:
                noun = rng.choice(profile["nouns"])
            attributes = _product_attributes(leaf, rng, self.today, self._templates[leaf], noun)
            spec = _title_spec(leaf, attributes) or rng.choice(profile["specs"])
            if leaf == "C0801":
                brand = ""
                parts = [f"《{noun}》", spec, attributes["publisher"]]
            else:
                parts = [brand, noun, spec]
                if root in _EN_NOUNS and rng.random() < 0.25:
                    parts.insert(2, rng.choice(_EN_NOUNS[root]))
            if rng.random() < 0.35:
                parts.append(rng.choice(("2026新款", "官方正品", "顺丰包邮", "限时特惠", "热卖爆款")))
            title = " ".join(p for p in parts if p)
            points = rng.sample(profile["points"], k=min(2, len(profile["points"])))
            description = f"{noun}。{'；'.join(points)}。"
            if brand in _BRANDS_EN and rng.random() < 0.5:
                description += f" {brand}: designed for everyday use."
            if problem and rng.random() < 0.5:
                claims = _BAD_CLAIMS_HEALTH.get(root, ()) + _BAD_CLAIMS_GENERAL
                description += f"{rng.choice(claims)}！"
            yield {
                "external_id": f"P{i + 1:07d}",
                "store_external_id": stores[s]["external_id"],
                "category_external_id": leaf,
                "title": title,
                "description": description,
                "brand": brand,
                "attributes": attributes,
                "price": _yuan(price),
                "status": "active",
            }

    # -- buyers -------------------------------------------------------------------------------------

    @property
    def buyers(self) -> Iterator[dict]:
        return self._iter_buyers()

    def _iter_buyers(self) -> Iterator[dict]:
        rng = self._rng("buyers")
        rand = rng.random
        city_cum = list(itertools.accumulate(c[5] for c in CITIES))
        surnames = [_split_pinyin(s) for s in _SURNAMES]
        given = [_split_pinyin(g) for g in _GIVEN]
        domains = [d for d, _ in _EMAIL_DOMAINS]
        domain_cum = list(itertools.accumulate(w for _, w in _EMAIL_DOMAINS))
        for i in range(self.n_buyers):
            if rand() < 0.04:
                first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
                name = f"{first} {last}"
                handle = f"{first.lower()}.{last.lower()}"
            else:
                sur = surnames[int(rand() ** 1.8 * len(surnames))]
                parts = [rng.choice(given)] + ([rng.choice(given)] if rand() < 0.7 else [])
                name = sur[0] + "".join(p[0] for p in parts)
                handle = sur[1] + "".join(p[1] for p in parts)
            city = CITIES[bisect.bisect_right(city_cum, rand() * city_cum[-1])]
            unique = _scramble(i, 10**6, 2, 104_729)
            if rand() < 0.35:
                email = f"{1 + int(rand() * 9)}{_scramble(i, 10**8, 3, 0):08d}@qq.example"
            else:
                domain = domains[bisect.bisect_right(domain_cum, rand() * domain_cum[-1])]
                email = f"{handle}{unique}@{domain}"
            yield {
                "external_id": f"B{i + 1:07d}",
                "name": name,
                "phone": f"{_MOBILE_PREFIXES[int(rand() * len(_MOBILE_PREFIXES))]}{_scramble(i, 10**8, 4, 31_337):08d}",
                "address": _address(rng, city),
                "email": email,
            }

    # -- orders, items, shipments -------------------------------------------------------------------

    def _hour_weights(self) -> list[float]:
        """Relative order intensity per UTC hour of the window: daily rhythm (Beijing time), weekends,
        the 618 and Double 11 shopping festivals, a mild growth trend."""
        daily = (0.6, 0.35, 0.2, 0.12, 0.1, 0.12, 0.25, 0.5, 0.8, 1.0, 1.15, 1.2, 1.1, 1.0, 1.0, 1.05, 1.05, 1.0,
                 1.0, 1.15, 1.4, 1.6, 1.5, 1.1)  # fmt: skip
        hours = WINDOW_DAYS * 24 - 1  # nothing is placed in the last hour before "now"
        weights = []
        for h in range(hours):
            local = self.window_start + timedelta(hours=h + 8)
            w = daily[local.hour] * (1.1 if local.weekday() >= 5 else 1.0) * (1 + 0.15 * h / hours)
            md = (local.month, local.day)
            if md == (6, 18) or md == (11, 11):
                w *= 4.0
            elif (6, 1) <= md <= (6, 20) or (10, 20) <= md <= (11, 12):
                w *= 1.3
            weights.append(w)
        return weights

    def _store_tables(self):
        plan = self._plan
        n_stores = len(plan.stores)
        rng = self._rng("store-behaviour")
        store_products: list[list[int]] = [[] for _ in range(n_stores)]
        for p, s in enumerate(plan.prod_store):
            store_products[s].append(p)
        prod_cums = []
        for plist in store_products:
            ranks = list(range(len(plist)))
            rng.shuffle(ranks)
            prod_cums.append(list(itertools.accumulate(1.0 / (r + 1) ** 0.9 for r in ranks)))
        late_ids = self.late_merchants
        problem_ids = self.problem_merchants
        late_p, cancel_p, promise_s, carrier = [], [], [], []
        carrier_cum = list(itertools.accumulate(c[1] for c in CARRIERS))
        for s in range(n_stores):
            mid = plan.merchants[plan.store_merchant[s]]["external_id"]
            late_p.append(rng.uniform(0.18, 0.35) if mid in late_ids else rng.uniform(0.04, 0.07))
            cancel_p.append(0.05 if mid in problem_ids else 0.012)
            promise_s.append(3600 * (72 if rng.random() < 0.3 else 48))
            carrier.append(bisect.bisect_right(carrier_cum, rng.random() * carrier_cum[-1]))
        weights = [w if store_products[s] else 0.0 for s, w in enumerate(plan.store_weight)]
        store_cum = list(itertools.accumulate(weights))
        return store_products, prod_cums, store_cum, late_p, cancel_p, promise_s, carrier, carrier_cum

    def order_chunks(self, chunk_size: int = 5000) -> Iterator[tuple[list[dict], list[dict], list[dict]]]:
        """Yield (orders, items, shipments) lists of at most `chunk_size` orders, oldest first.

        Rows do not depend on chunk_size. Orders placed in the last days are still in transit
        (delivered_at and signed_at null) or not shipped yet (no shipment row, status "paid").
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        return self._iter_orders(chunk_size)

    def _iter_orders(self, chunk_size: int) -> Iterator[tuple[list[dict], list[dict], list[dict]]]:
        # This loop is the hot path of `marketguard demo --scale large`: one random draw per decision
        # where possible, lookup tables instead of formatting, locals instead of attributes.
        rng = self._rng("orders")
        rand = rng.random
        log = math.log
        bisect_right = bisect.bisect_right
        plan = self._plan
        store_products, prod_cums, store_cum, late_p, cancel_p, promise_s, store_carrier, carrier_cum = (
            self._store_tables()
        )
        # One tuple per store / product / carrier: a single lookup in the loop.
        store_info = [
            (
                plan.stores[s]["external_id"],
                store_products[s],
                prod_cums[s],
                prod_cums[s][-1] if prod_cums[s] else 0.0,
                cancel_p[s],
                cancel_p[s] + late_p[s],
                promise_s[s],
                promise_s[s] // 3600,
                store_carrier[s],
            )
            for s in range(len(plan.stores))
        ]
        prod_info = [(f"P{p + 1:07d}", _yuan(price), price) for p, price in enumerate(plan.prod_price)]
        buyer_ids = [f"B{b + 1:07d}" for b in range(self.n_buyers)]
        carrier_info = [
            (c[0], c[2], _coprime_multiplier(10 ** c[3], 10 + k), 10 ** c[3]) for k, c in enumerate(CARRIERS)
        ]
        store_total = store_cum[-1]
        carrier_scale = carrier_cum[-1] / 0.2

        # Placement times: order i sits at quantile (i + u) / n of the cumulative hourly intensity, so
        # times increase with the order number and follow the daily rhythm and the festivals.
        hour_w = self._hour_weights()
        hour_cum = list(itertools.accumulate(hour_w))
        hour_prev = [0.0, *hour_cum[:-1]]
        hour_inv = [3599.0 / w for w in hour_w]
        hour_last = len(hour_w) - 1
        n = self.n_orders
        q_scale = hour_cum[-1] / n
        epoch0 = int(self.window_start.timestamp())
        now_rel = int(self.now.timestamp()) - epoch0
        # Timestamps are relative to epoch0 and rendered from tables: day prefix + time of day.
        day0 = epoch0 // 86400
        day_prefix = [
            (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day0 + d)).strftime("%Y-%m-%dT")
            for d in range(WINDOW_DAYS + 40)
        ]
        day_compact = [p[:10].replace("-", "") for p in day_prefix]
        # hour prefix ("2026-05-23T08:") + minute and second ("07:09Z"): small, cache-friendly tables
        hour_prefix = [p + f"{h:02d}:" for p in day_prefix for h in range(24)]
        mmss = [f"{m:02d}:{s:02d}Z" for m in range(60) for s in range(60)]
        item_suffix = ["", "-1", "-2", "-3", "-4"]
        n_buyers = self.n_buyers

        orders: list[dict] = []
        items: list[dict] = []
        shipments: list[dict] = []
        h = 0
        for i in range(n):
            q = (i + rand()) * q_scale
            while h < hour_last and hour_cum[h] <= q:
                h += 1
            placed = h * 3600 + int((q - hour_prev[h]) * hour_inv[h])
            u = rand()
            paid = placed + (5 + int(u * 135.3) if u < 0.85 else 120 + int((u - 0.85) * 11200))
            s = bisect_right(store_cum, rand() * store_total)
            onum = f"{i + 1:011d}"
            oid = "O" + onum
            store_id, plist, pcum, ptotal, cancel, late_hi, promise, promise_h, carrier0 = store_info[s]
            # items: 70 % single-item orders take the fast path
            r = rand()
            if r < 0.7:
                pid, price_str, price = prod_info[plist[bisect_right(pcum, rand() * ptotal)]]
                u = rand()
                qty = 1 if u < 0.8 else 2 if u < 0.94 else 3 if u < 0.98 else 5
                v = (u * 997.0) % 1.0  # a second, independent-enough draw from the same number
                if v < 0.2:
                    line = qty * price
                    line -= (
                        line * (5 if v < 0.08 else 10 if v < 0.15 else 15) // 100
                        if v < 0.18
                        else _coupon(line)
                    )
                    total_str = f"{line // 100}.{line % 100:02d}"
                elif qty == 1:
                    total_str = price_str
                else:
                    line = qty * price
                    total_str = f"{line // 100}.{line % 100:02d}"
                items.append(
                    {
                        "external_id": oid + "-1",
                        "order_external_id": oid,
                        "product_external_id": pid,
                        "quantity": qty,
                        "unit_price": price_str,
                        "paid_amount": total_str,
                    }
                )
            else:
                k = 2 if r < 0.9 else 3 if r < 0.97 else 4
                chosen: list[int] = []
                total = 0
                for _ in range(k):
                    p = plist[bisect_right(pcum, rand() * ptotal)]
                    if p in chosen:
                        continue
                    chosen.append(p)
                    u = rand()
                    qty = 1 if u < 0.8 else 2 if u < 0.94 else 3 if u < 0.98 else 5
                    v = (u * 997.0) % 1.0
                    pid, price_str, price = prod_info[p]
                    line = qty * price
                    if v < 0.2:
                        line -= (
                            line * (5 if v < 0.08 else 10 if v < 0.15 else 15) // 100
                            if v < 0.18
                            else _coupon(line)
                        )
                    total += line
                    items.append(
                        {
                            "external_id": oid + item_suffix[len(chosen)],
                            "order_external_id": oid,
                            "product_external_id": pid,
                            "quantity": qty,
                            "unit_price": price_str,
                            "paid_amount": f"{line // 100}.{line % 100:02d}",
                        }
                    )
                total_str = f"{total // 100}.{total % 100:02d}"
            ph, ps = divmod(paid, 3600)
            # fulfilment: cancelled before shipment, on time, or late
            r = rand()
            if r < cancel:
                status = "cancelled"
            else:
                u = rand()
                v = (u * 991.0) % 1.0
                if r < late_hi:
                    elapsed = promise + 3600 + int(-72000.0 * log(1.0 - u))  # exponential, mean 20 h late
                    span = elapsed - 43200
                    handling = 7200 + int(v * (span if span < 216000 else 216000))
                else:
                    elapsed = 72000 + int(u * (promise - 75600))
                    span = elapsed - 36000
                    handling = 3600 + int(v * (span if span < 108000 else 108000))
                shipped = paid + handling
                if shipped > now_rel:
                    status = "paid"
                else:
                    delivered = paid + elapsed
                    u = rand()
                    c = carrier0 if u < 0.8 else bisect_right(carrier_cum, (u - 0.8) * carrier_scale)
                    carrier, tracking_fmt, mult, modulus = carrier_info[c]
                    v = (u * 983.0) % 1.0
                    sd, ss = divmod(shipped, 3600)
                    if delivered > now_rel:
                        status = "shipped"
                        delivered_iso = signed_iso = None
                    else:
                        dd, ds = divmod(delivered, 3600)
                        delivered_iso = hour_prefix[dd] + mmss[ds]
                        signed = delivered if v < 0.85 else delivered + 1800 + int((v - 0.85) * 666_666)
                        if signed > now_rel:
                            status = "delivered"
                            signed_iso = None
                        elif signed == delivered:
                            status = "completed"
                            signed_iso = delivered_iso
                        else:
                            status = "completed"
                            gd, gs = divmod(signed, 3600)
                            signed_iso = hour_prefix[gd] + mmss[gs]
                    shipments.append(
                        {
                            "external_id": "SH" + onum,
                            "order_external_id": oid,
                            "carrier": carrier,
                            "tracking_number": tracking_fmt % ((i * mult + 1_234_567) % modulus),
                            "shipped_at": hour_prefix[sd] + mmss[ss],
                            "promised_at": hour_prefix[ph + promise_h] + mmss[ps],
                            "delivered_at": delivered_iso,
                            "signed_at": signed_iso,
                        }
                    )
            pl_d, pl_s = divmod(placed, 3600)
            u = rand()  # buyers: a few buy often, most rarely
            orders.append(
                {
                    "external_id": oid,
                    "buyer_external_id": buyer_ids[int(u * u * n_buyers)],
                    "store_external_id": store_id,
                    "placed_at": hour_prefix[pl_d] + mmss[pl_s],
                    "paid_at": hour_prefix[ph] + mmss[ps],
                    "payment_reference": "PAY" + day_compact[ph // 24] + onum,
                    "paid_amount": total_str,
                    "status": status,
                }
            )
            if len(orders) >= chunk_size:
                yield orders, items, shipments
                orders, items, shipments = [], [], []
        if orders:
            yield orders, items, shipments

    # -- everything ---------------------------------------------------------------------------------

    def iter_all(self, chunk_size: int = 5000) -> Iterator[tuple[str, dict]]:
        """(kind, row) for every row in dependency order; kinds: category, merchant, store, product,
        buyer, order, order_item, shipment (orders of a chunk before their items and shipments)."""
        for kind, rows in (
            ("category", self.categories),
            ("merchant", self.merchants),
            ("store", self.stores),
            ("product", self.products),
            ("buyer", self.buyers),
        ):
            for row in rows:
                yield kind, row
        for orders, items, shipments in self.order_chunks(chunk_size):
            for kind, rows in (("order", orders), ("order_item", items), ("shipment", shipments)):
                for row in rows:
                    yield kind, row


def _split_pinyin(token: str) -> tuple[str, str]:
    """'欧阳ouyang' -> ('欧阳', 'ouyang')."""
    cut = next(i for i, ch in enumerate(token) if ch.isascii())
    return token[:cut], token[cut:]


def generate(scale: str, seed: int, *, today: date = DEFAULT_TODAY) -> Demo:
    """Plan a demo marketplace. Cheap: rows are produced when the Demo's iterables are consumed."""
    return Demo(scale, seed, today)


def _main(argv: list[str] | None = None) -> None:
    """`python -m marketguard.catalog.demo_data large --limit 200000`: order generation throughput."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scale", choices=SCALES, nargs="?", default="large")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="stop after this many orders (0: all)")
    parser.add_argument("--chunk-size", type=int, default=5000)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    demo = generate(args.scale, args.seed)
    t1 = time.perf_counter()
    c1 = time.process_time()
    n_orders = n_items = n_ship = 0
    for orders, items, shipments in demo.order_chunks(args.chunk_size):
        n_orders += len(orders)
        n_items += len(items)
        n_ship += len(shipments)
        if args.limit and n_orders >= args.limit:
            break
    t2 = time.perf_counter()
    c2 = time.process_time()
    print(f"plan: {t1 - t0:.2f} s")
    print(
        f"orders: {n_orders:,} items: {n_items:,} shipments: {n_ship:,} in {t2 - t1:.2f} s wall, "
        f"{c2 - c1:.2f} s CPU = {n_orders / (t2 - t1):,.0f} orders/s wall, {n_orders / (c2 - c1):,.0f} orders/s CPU"
    )


if __name__ == "__main__":
    _main()

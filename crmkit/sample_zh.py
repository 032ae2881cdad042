"""The retail sample in Chinese: ``crmkit sample --language zh``.

The same generator as :mod:`crmkit.sample`, the same seed, the same numbers and dates: every
amount, count, date and id of ``write_sample(..., language="zh")`` is the one the English
sample of that seed has, so a report on it gives the figures of the English one (net revenue
3,744,814.68 on the default sample: ¥374.48万). Only the words differ, relabelled block by
block before they are written:

    * customers are Chinese people (consumers) and companies (城市 + 字号 + 行业 + 有限公司),
      drawn from their own random stream, so the numbers do not move; the awkward test names
      (the script tag, quotes, a comma, traditional characters, a compound surname, 喆 and
      堃, which are GBK but not GB2312) sit where the English ones do;
    * regions are 华东/华北/华南/华中/西南/西北/东北: each sales rep has a Chinese name and a
      home region, a customer's region is their account owner's, an order's its customer's
      (a guest sale's its rep's), a target's its rep's; service is worst in 华南 and 西南,
      the English South;
    * the country is 中国; segments, product names and categories, sales channels (线上商城,
      门店 ...), acquisition channels and lead sources, churn and lost reasons, ticket
      channels and reasons, survey comments and campaign names are Chinese;
    * amounts are in yuan: the config names the currency (``currency: CNY``;
      examples/sample_zh.yaml). Prices are set so that they read as yuan (无线鼠标 29.90,
      平板电脑 1,499.00).

Codes the contract gives meaning to stay as they are: order status (completed, cancelled,
returned), customer status (active, churned), ticket type (complaint, inquiry, technical,
follow_up), lead stages (New, Qualified, Proposal, Negotiation, Won, Lost: the lead funnel
knows the pipeline's order by those names), ids and campaign ids. Reports show those in
the reader's language themselves.

Every text is GBK-encodable (GB18030 too), so the tables also make a GBK export, the
encoding of many Chinese Windows tools (tests/test_sample_zh.py ingests one).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmkit import sample

COUNTRY = "中国"
CURRENCY = "CNY"

# English sales rep -> (Chinese name, home region). The English North (30% of customers,
# three reps) becomes 华北, 东北 and 西北, the South (worst service) 华南 and 西南, the East
# 华东, the West 华中, 华东 and 华北: 华东 is the biggest region, as in China.
REPS = {
    "Anna Schmidt": ("张伟", "华北"),
    "Oliver Hughes": ("刘洋", "东北"),
    "Ingrid Lindqvist": ("马丽", "西北"),
    "Lucía Fernández": ("陈晓明", "华南"),
    "Marco Rossi": ("杨帆", "西南"),
    "Łukasz Nowak": ("赵敏", "华东"),
    "Mei Chen": ("孙磊", "华东"),
    "James Carter": ("周婷", "华中"),
    "Sarah Mitchell": ("吴静", "华东"),
    "David Brooks": ("郑浩", "华北"),
}
REGIONS = ("华东", "华北", "华南", "华中", "西南", "西北", "东北")

SEGMENTS = {"Consumer": "个人消费者", "SMB": "中小企业", "Enterprise": "大型企业"}
CATEGORIES = {"Devices": "智能设备", "Accessories": "电脑配件", "Software": "软件",
              "Services": "技术服务", "Supplies": "办公耗材", "Training": "培训课程"}
# Same list prices as the English products, so products that sell for them in yuan.
PRODUCTS = {
    "Laptop Pro 14": "11 英寸平板电脑",  # 1,499
    "Laptop Air 13": "智能手表",  # 999
    "Desktop Tower": "激光打印机",  # 1,199
    "Tablet 11": "蓝牙音箱",  # 549
    "Monitor 27": "无线路由器",  # 329
    "Smartphone X": "24 英寸显示器",  # 799
    "Wireless Mouse": "无线鼠标",  # 29.90
    "Mechanical Keyboard": "机械键盘",  # 89
    "USB-C Dock": "多功能扩展坞",  # 179
    "Noise-Cancelling Headset": "降噪耳机",  # 219
    "Laptop Sleeve": "笔记本内胆包",  # 39
    "Webcam HD": "高清摄像头",  # 79
    "Office Suite (1 yr)": "办公软件套装（1 年）",  # 99
    "Security Suite (1 yr)": "杀毒软件（1 年）",  # 59
    "CRM Cloud Seat (1 yr)": "客户管理云席位（1 年）",  # 420
    "Backup Cloud 1 TB (1 yr)": "云备份 1TB（1 年）",  # 119
    "Design Studio (1 yr)": "设计软件（1 年）",  # 299
    "On-site Installation": "上门安装",  # 650
    "Consulting Day": "咨询服务（人天）",  # 1,200
    "Data Migration": "数据迁移",  # 2,400
    "Managed Support (1 mo)": "运维托管（1 个月）",  # 890
    "Printer Paper A4 (5 reams)": "复印纸（5 包）",  # 24.50
    "Toner Cartridge": "硒鼓",  # 89
    "Ink Multipack": "墨盒套装",  # 45
    "Cable Kit": "数据线套装",  # 19.90
    "Label Rolls": "标签纸",  # 14.50
    "Online Course": "在线课程",  # 199
    "Workshop Seat": "线下工作坊席位",  # 690
    "Certification Exam": "认证考试",  # 350
    "Team Bootcamp": "团队集训营",  # 4,900
}
CHANNELS = {"Online": "线上商城", "Retail": "门店", "Partner": "经销商", "Phone": "电话销售"}
# Acquisition channels of customers, lead sources and campaign channels.
ACQUISITION = {"Organic": "自然流量", "Paid Search": "搜索推广", "Social": "社交媒体",
               "Email": "邮件营销", "Referral": "老客户推荐", "Events": "展会活动",
               "Partner": "合作伙伴"}
CHURN_REASONS = {"Service quality": "服务质量差", "Competitor": "转投竞争对手",
                 "Price": "价格偏高", "No longer needed": "不再需要", "Moved": "搬迁",
                 "Other": "其他"}
LOST_REASONS = {"Price": "价格", "Competitor": "竞争对手", "No budget": "没有预算",
                "No response": "联系不上", "Timing": "时机不合适", "Not a fit": "需求不匹配"}
TICKET_CHANNELS = {"Email": "邮件", "Phone": "电话", "Chat": "在线客服", "Web form": "网页表单"}
TICKET_REASONS = {
    "Pricing": "价格咨询", "Product information": "产品信息", "Order status": "订单状态",
    "Account": "账户问题", "Login problem": "登录问题", "Integration": "系统对接",
    "Bug": "软件故障", "Performance": "性能问题", "Late delivery": "配送延迟",
    "Damaged product": "商品破损", "Billing error": "账单错误", "Rude staff": "服务态度差",
    "Product defect": "产品质量问题", "Complaint follow-up": "投诉回访",
    "Satisfaction check": "满意度回访", "Renewal": "续约",
}
# Each comment keeps the score it is given with (crmkit.sample.SURVEY_COMMENTS).
SURVEY_COMMENTS = {
    "Terrible support, nobody called back.": "客服太差，一直没人回电话。",
    "Wrong invoice twice.": "发票开错了两次。",
    "Lieferung kam zu spät und beschädigt.": "到货晚了，外包装还破了。",
    "Looking at other suppliers.": "正在考虑换供应商。",
    "Delivery took too long.": "发货太慢了。",
    "Prices went up again.": "又涨价了。",
    "Support was slow.": "售后响应慢。",
    "服务响应太慢。": "服务响应太慢。",
    "It's okay.": "还行吧。",
    "Average experience.": "体验一般。",
    "Some issues with billing.": "开票有些问题。",
    "Correct, sans plus.": "中规中矩。",
    "Good service overall.": "整体服务不错。",
    "Fast delivery.": "发货很快。",
    "Helpful account manager.": "客户经理很专业，帮了不少忙。",
    "Très bon service.": "服务很好。",
    "Excellent, highly recommend!": "非常好，强烈推荐！",
    "Best supplier we have.": "合作过最好的供应商。",
    "Great support team.": "技术支持团队很给力。",
    "非常满意，谢谢！": "非常满意，谢谢！",
    "Alles bestens!": "一切都很满意！",
}
# Campaign names; a campaign of year Y is named "Y年<name>".
CAMPAIGNS = {
    "New Year Newsletter": "新年会员通讯", "Spring Launch": "春季新品发布",
    "Partner Spring Push": "渠道春季冲刺", "Summer Sale": "夏季促销",
    "Back to Business": "开学季促销", "Trade Fair": "行业展会",
    "Black Friday": "双十二预热", "Holiday Social": "双旦社交营销",
}

# (text, pinyin for the e-mail address)
FAMILY_NAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"),
    ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"), ("郑", "zheng"),
    ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("许", "xu"),
    ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
)
GIVEN_NAMES = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀英", "xiuying"), ("建华", "jianhua"), ("晓东", "xiaodong"), ("志强", "zhiqiang"),
    ("海燕", "haiyan"), ("婷婷", "tingting"), ("子涵", "zihan"), ("浩然", "haoran"),
    ("欣怡", "xinyi"), ("宇轩", "yuxuan"), ("思远", "siyuan"), ("一鸣", "yiming"),
    ("雨桐", "yutong"), ("佳怡", "jiayi"), ("俊杰", "junjie"), ("文博", "wenbo"),
    ("天宇", "tianyu"), ("诗涵", "shihan"), ("晨曦", "chenxi"), ("建国", "jianguo"),
)
# Cities by region: a company is registered in a city of its customer's region.
CITIES = {
    "华东": ("上海", "杭州", "南京", "苏州", "宁波", "合肥", "厦门", "济南", "青岛"),
    "华北": ("北京", "天津", "石家庄", "太原", "呼和浩特"),
    "华南": ("广州", "深圳", "东莞", "佛山", "南宁", "海口"),
    "华中": ("武汉", "长沙", "郑州", "南昌"),
    "西南": ("成都", "重庆", "昆明", "贵阳"),
    "西北": ("西安", "兰州", "银川", "乌鲁木齐"),
    "东北": ("沈阳", "大连", "长春", "哈尔滨"),
}
BRANDS = (("华信", "huaxin"), ("远航", "yuanhang"), ("金桥", "jinqiao"), ("新创", "xinchuang"),
          ("恒达", "hengda"), ("鼎盛", "dingsheng"), ("宏图", "hongtu"), ("瑞丰", "ruifeng"),
          ("嘉禾", "jiahe"), ("天成", "tiancheng"), ("博远", "boyuan"), ("万通", "wantong"),
          ("汇通", "huitong"), ("安泰", "antai"), ("润泽", "runze"), ("锦程", "jincheng"),
          ("海纳", "haina"), ("正和", "zhenghe"), ("明德", "mingde"), ("启航", "qihang"))
TRADES = (("贸易", "maoyi"), ("科技", "keji"), ("物流", "wuliu"), ("电子", "dianzi"),
          ("信息技术", "xinxi"), ("商贸", "shangmao"), ("实业", "shiye"),
          ("网络科技", "wangluo"), ("文化传媒", "chuanmei"), ("餐饮管理", "canyin"),
          ("医疗器械", "yiliao"), ("建筑工程", "jianzhu"))
# Legal form by segment (people have none).
LEGAL_FORMS = {"SMB": "有限公司", "Enterprise": "股份有限公司"}

# The awkward names, one for each of crmkit.sample.SPECIAL_CUSTOMERS and at its place (the
# same segment: people where the English one is a consumer): (name, e-mail)
SPECIAL_CUSTOMERS = (
    ("<script>alert(1)</script>", "xss-test@example.com"),
    ('上海"精诚"贸易有限公司', "caigou@jingcheng-trade.example"),
    ("北京星辰贸易有限公司", "caigou@xingchen-trade.example"),
    ("华夏远洋国际（集团）股份有限公司", "caigou@huaxia-ocean.example"),
    ("恒通, 远达联合物流有限公司", "wuliu@hengtong-yuanda.example"),
    ("臺灣寶島國際貿易股份有限公司", "info@baodao-trade.example"),
    ("欧阳喆", "ouyang.zhe@example.cn"),
    ("深圳市堃鹏电子科技有限公司", "caigou@kunpeng-tech.example"),
    ("司马晓燕", "sima.xiaoyan@example.cn"),
)
# Streams for the names (crmkit.sample uses spawn keys (0,) and (1, block)).
NAME_STREAM = 2


def _words(column, mapping: dict[str, str], where: str) -> pa.Array:
    """``column``'s values through ``mapping`` (nulls stay null); a value with no Chinese
    is a bug in this module and stops the sample."""
    keys = pa.array(list(mapping), pa.string())
    idx = pc.index_in(column, value_set=keys)
    unknown = pc.and_(pc.is_null(idx), pc.is_valid(column))
    if pc.any(unknown).as_py():
        values = sorted(set(pc.filter(column, unknown).to_pylist()))
        raise ValueError(f"crmkit.sample_zh has no Chinese for {where} {values}")
    return pa.array(list(mapping.values()), pa.string()).take(idx)


def _replace(table: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    for name, values in columns.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, table.schema.field(i), values)
    return table


class Relabel:
    """Turns the English sample's tables, block by block, into the Chinese ones."""

    def __init__(self, seed: int):
        self.seed = seed
        self.rep = {en: zh for en, (zh, _) in REPS.items()}
        self.rep_region = {en: region for en, (_, region) in REPS.items()}
        missing = set(sample.SALES_REPS) ^ set(REPS)
        if missing:
            raise ValueError(f"crmkit.sample_zh: sales reps differ: {sorted(missing)}")

    def block(self, tables: dict[str, pa.Table], block: int, *,
              first: bool = False) -> dict[str, pa.Table]:
        out = {}
        customers = tables.get("customers")
        region_of = None
        if customers is not None:
            region_of = (customers.column("customer_id"),
                         _words(customers.column("owner"), self.rep_region, "owner"))
        for name, table in tables.items():
            out[name] = getattr(self, f"_{name}")(table, block=block, first=first,
                                                    region_of=region_of)
        return out

    # -- one method per table -----------------------------------------------------------
    def _customers(self, t: pa.Table, *, block: int, first: bool, region_of) -> pa.Table:
        region = region_of[1]
        names, emails = self._names(t, region, block, first)
        return _replace(t, {
            "name": names, "email": emails,
            "segment": _words(t.column("segment"), SEGMENTS, "segment"),
            "region": region,
            "country": pa.array([COUNTRY] * t.num_rows, pa.string()),
            "acquisition_channel": _words(t.column("acquisition_channel"), ACQUISITION,
                                          "acquisition_channel"),
            "owner": _words(t.column("owner"), self.rep, "owner"),
            "churn_reason": _words(t.column("churn_reason"), CHURN_REASONS, "churn_reason"),
        })

    def _orders(self, t: pa.Table, *, region_of, **_) -> pa.Table:
        ids, regions = region_of
        customer = pc.index_in(t.column("customer_id"), value_set=ids)
        own = regions.take(customer)  # null for a guest sale
        rep_region = _words(t.column("sales_rep"), self.rep_region, "sales_rep")
        return _replace(t, {
            "product": _words(t.column("product"), PRODUCTS, "product"),
            "category": _words(t.column("category"), CATEGORIES, "category"),
            "channel": _words(t.column("channel"), CHANNELS, "channel"),
            "region": pc.coalesce(own, rep_region),
            "sales_rep": _words(t.column("sales_rep"), self.rep, "sales_rep"),
        })

    def _leads(self, t: pa.Table, **_) -> pa.Table:
        return _replace(t, {
            "owner": _words(t.column("owner"), self.rep, "owner"),
            "source": _words(t.column("source"), ACQUISITION, "source"),
            "lost_reason": _words(t.column("lost_reason"), LOST_REASONS, "lost_reason"),
        })

    def _tickets(self, t: pa.Table, **_) -> pa.Table:
        return _replace(t, {
            "channel": _words(t.column("channel"), TICKET_CHANNELS, "ticket channel"),
            "reason": _words(t.column("reason"), TICKET_REASONS, "ticket reason"),
        })

    def _surveys(self, t: pa.Table, **_) -> pa.Table:
        return _replace(t, {"comment": _words(t.column("comment"), SURVEY_COMMENTS,
                                              "survey comment")})

    def _campaigns(self, t: pa.Table, **_) -> pa.Table:
        names = []
        for name in t.column("name").to_pylist():
            words, year = name.rsplit(" ", 1)
            names.append(f"{year}年{CAMPAIGNS[words]}")
        return _replace(t, {"name": pa.array(names, pa.string()),
                            "channel": _words(t.column("channel"), ACQUISITION,
                                              "campaign channel")})

    def _targets(self, t: pa.Table, **_) -> pa.Table:
        return _replace(t, {"owner": _words(t.column("owner"), self.rep, "owner"),
                            "region": _words(t.column("owner"), self.rep_region, "owner")})

    # -- names ------------------------------------------------------------------------------
    def _names(self, t: pa.Table, region: pa.Array, block: int,
               first: bool) -> tuple[pa.Array, pa.Array]:
        """People for consumers, companies otherwise, from the names' own random stream;
        the awkward names at the places of the English ones in the first block."""
        n = t.num_rows
        rng = np.random.default_rng(np.random.SeedSequence(self.seed,
                                                           spawn_key=(NAME_STREAM, block)))
        family = rng.integers(0, len(FAMILY_NAMES), n)
        given = rng.integers(0, len(GIVEN_NAMES), n)
        city = rng.random(n)
        brand = rng.integers(0, len(BRANDS), n)
        trade = rng.integers(0, len(TRADES), n)
        segments = t.column("segment").to_pylist()
        regions = region.to_pylist()
        numbers = [int(i[1:]) for i in t.column("customer_id").to_pylist()]
        names, emails = [], []
        for i in range(n):
            if segments[i] == "Consumer":
                (fam, fam_s), (giv, giv_s) = FAMILY_NAMES[family[i]], GIVEN_NAMES[given[i]]
                names.append(fam + giv)
                emails.append(f"{fam_s}.{giv_s}.{numbers[i]}@example.cn")
            else:
                cities = CITIES[regions[i]]
                (word, word_s), (kind, kind_s) = BRANDS[brand[i]], TRADES[trade[i]]
                names.append(cities[int(city[i] * len(cities))] + word + kind
                             + LEGAL_FORMS[segments[i]])
                emails.append(f"caigou.{numbers[i]}@{word_s}-{kind_s}.example")
        if first:
            for i, (name, email) in zip(sample._special_rows(n), SPECIAL_CUSTOMERS):
                names[i], emails[i] = name, email
        return pa.array(names, pa.string()), pa.array(emails, pa.string())

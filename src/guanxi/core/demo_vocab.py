"""Word lists for the demo data generator: real places, common names, plausible company names."""

from __future__ import annotations

# Sales region → cities: (short name, province, city, districts, area code, postcode prefix, pinyin).
REGIONS: dict[str, list[tuple[str, str, str, tuple[str, ...], str, str, str]]] = {
    "华北销售": [
        ("北京", "北京市", "北京市", ("朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区"), "10", "100",
         "Beijing"),
        ("天津", "天津市", "天津市", ("和平区", "河西区", "南开区", "滨海新区"), "22", "300", "Tianjin"),
        ("石家庄", "河北省", "石家庄市", ("长安区", "桥西区", "裕华区"), "311", "050", "Shijiazhuang"),
        ("太原", "山西省", "太原市", ("小店区", "迎泽区", "杏花岭区"), "351", "030", "Taiyuan"),
        ("济南", "山东省", "济南市", ("历下区", "市中区", "槐荫区"), "531", "250", "Jinan"),
        ("青岛", "山东省", "青岛市", ("市南区", "市北区", "崂山区", "黄岛区"), "532", "266", "Qingdao"),
        ("沈阳", "辽宁省", "沈阳市", ("和平区", "沈河区", "浑南区"), "24", "110", "Shenyang"),
        ("大连", "辽宁省", "大连市", ("中山区", "西岗区", "沙河口区", "甘井子区"), "411", "116", "Dalian"),
        ("西安", "陕西省", "西安市", ("雁塔区", "碑林区", "未央区"), "29", "710", "Xi'an"),
    ],
    "华东销售": [
        ("上海", "上海市", "上海市", ("浦东新区", "徐汇区", "静安区", "黄浦区", "闵行区", "长宁区"), "21", "200",
         "Shanghai"),
        ("南京", "江苏省", "南京市", ("玄武区", "鼓楼区", "建邺区", "江宁区"), "25", "210", "Nanjing"),
        ("苏州", "江苏省", "苏州市", ("姑苏区", "吴中区", "相城区", "虎丘区"), "512", "215", "Suzhou"),
        ("无锡", "江苏省", "无锡市", ("梁溪区", "滨湖区", "新吴区"), "510", "214", "Wuxi"),
        ("杭州", "浙江省", "杭州市", ("西湖区", "上城区", "拱墅区", "滨江区", "余杭区"), "571", "310", "Hangzhou"),
        ("宁波", "浙江省", "宁波市", ("海曙区", "鄞州区", "江北区"), "574", "315", "Ningbo"),
        ("合肥", "安徽省", "合肥市", ("蜀山区", "包河区", "庐阳区"), "551", "230", "Hefei"),
        ("福州", "福建省", "福州市", ("鼓楼区", "台江区", "仓山区"), "591", "350", "Fuzhou"),
        ("厦门", "福建省", "厦门市", ("思明区", "湖里区", "集美区"), "592", "361", "Xiamen"),
        ("武汉", "湖北省", "武汉市", ("江汉区", "武昌区", "洪山区", "汉阳区"), "27", "430", "Wuhan"),
    ],
    "华南销售": [
        ("广州", "广东省", "广州市", ("天河区", "越秀区", "海珠区", "番禺区", "白云区"), "20", "510", "Guangzhou"),
        ("深圳", "广东省", "深圳市", ("南山区", "福田区", "罗湖区", "宝安区", "龙岗区"), "755", "518", "Shenzhen"),
        ("佛山", "广东省", "佛山市", ("禅城区", "南海区", "顺德区"), "757", "528", "Foshan"),
        ("珠海", "广东省", "珠海市", ("香洲区", "金湾区"), "756", "519", "Zhuhai"),
        ("南宁", "广西壮族自治区", "南宁市", ("青秀区", "兴宁区", "西乡塘区"), "771", "530", "Nanning"),
        ("海口", "海南省", "海口市", ("龙华区", "美兰区"), "898", "570", "Haikou"),
        ("长沙", "湖南省", "长沙市", ("岳麓区", "芙蓉区", "天心区", "开福区"), "731", "410", "Changsha"),
        ("成都", "四川省", "成都市", ("武侯区", "锦江区", "青羊区", "成华区", "金牛区"), "28", "610", "Chengdu"),
        ("重庆", "重庆市", "重庆市", ("渝中区", "江北区", "南岸区", "九龙坡区"), "23", "400", "Chongqing"),
        ("昆明", "云南省", "昆明市", ("五华区", "盘龙区", "官渡区"), "871", "650", "Kunming"),
    ],
}

ROADS = ("人民路", "建设路", "中山路", "解放路", "科技路", "长江路", "黄河路", "和平路", "新华路", "工业大道",
         "创业路", "学府路", "滨江大道", "世纪大道", "高新路", "文化路", "光明路", "东风路", "迎宾大道", "幸福路")
BUILDINGS = ("", "", "", "国际大厦", "科技园", "中心大厦", "商务广场", "创新中心", "金融中心", "产业园")

# Abroad: (country, state/county, city, area codes, postcode pattern, phone prefix).
ABROAD = (
    ("US", "CA", "San Francisco", ("415",), "941{:02d}", "+1"),
    ("US", "NY", "New York", ("212", "646"), "100{:02d}", "+1"),
    ("US", "WA", "Seattle", ("206",), "981{:02d}", "+1"),
    ("US", "MA", "Boston", ("617",), "021{:02d}", "+1"),
    ("US", "IL", "Chicago", ("312",), "606{:02d}", "+1"),
    ("GB", "England", "London", ("20",), "EC{}A 1BB", "+44"),
    ("GB", "England", "Manchester", ("161",), "M{} 1AE", "+44"),
    ("GB", "Scotland", "Edinburgh", ("131",), "EH{} 1YZ", "+44"),
)
STREETS_EN = ("Market Street", "Harbour Road", "King Street", "Main Street", "Station Road", "Park Avenue",
              "Mill Lane", "Church Street", "Broadway", "Bridge Street", "High Street", "Elm Street")

# Industry key → Chinese words for a company name.
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "manufacturing": ("机械", "精密制造", "电子", "新材料", "汽车零部件", "模具"),
    "healthcare": ("医疗", "生物医药", "医疗器械", "健康科技"),
    "it": ("科技", "软件", "信息技术", "网络", "智能", "数据"),
    "finance": ("投资", "金融服务", "融资租赁"),
    "retail": ("商贸", "电子商务", "百货", "贸易"),
    "education": ("教育科技", "培训"),
    "logistics": ("物流", "供应链", "国际货运"),
    "energy": ("能源", "新能源", "电力", "光伏"),
    "construction": ("建设", "建筑工程", "置业", "装饰工程"),
    "food": ("食品", "农业", "餐饮管理"),
    "services": ("咨询", "管理咨询", "人力资源", "文化传媒"),
}
INDUSTRY_WORDS_EN: dict[str, tuple[str, ...]] = {
    "manufacturing": ("Manufacturing", "Precision", "Machinery", "Electronics"),
    "healthcare": ("Medical", "Health", "Biotech", "Pharma"),
    "it": ("Software", "Systems", "Technologies", "Digital", "Data"),
    "finance": ("Capital", "Financial", "Partners"),
    "retail": ("Trading", "Retail", "Commerce"),
    "education": ("Learning", "Education"),
    "logistics": ("Logistics", "Freight", "Shipping"),
    "energy": ("Energy", "Solar", "Power"),
    "construction": ("Construction", "Builders", "Properties"),
    "food": ("Foods", "Farms"),
    "services": ("Consulting", "Advisory", "Media"),
}
COMPANY_SUFFIXES = ("有限公司", "有限公司", "有限公司", "科技有限公司", "股份有限公司", "集团有限公司")
COMPANY_SUFFIXES_EN = ("Ltd", "Inc.", "LLC", "Co.", "Group", "PLC", "Holdings")
BRAND_FIRST = "华宏鼎瑞恒金天博中新锦汇永安聚东卓思云海联众正嘉光盛百德凯佳信捷美长明腾优润国康"
BRAND_SECOND = "达丰通桥成远科锐程泰源方越创帆纳诚禾世川和邦辉茂隆星宇晟翔益凯信瑞德盛"
EN_PREFIXES = ("Harbor", "Summit", "Pacific", "Northern", "Blue River", "Silver Oak", "Evergreen", "Golden Gate",
               "Redwood", "Atlas", "Beacon", "Crescent", "Pioneer", "Horizon", "Granite", "Meridian", "Sterling",
               "Union", "Liberty", "Orchid", "Lotus", "Phoenix", "Apex", "Maple", "Cedar", "Falcon", "Riverbend",
               "Bridgeway", "Northstar", "Westfield", "Kingsley", "Ashford", "Hamilton", "Clearwater", "Brightside",
               "Oakridge", "Stonebridge", "Silverline", "Greenfield", "Highland", "Lakeside", "Seaview",
               "Crown", "Vanguard", "Keystone", "Trident", "Everest", "Aurora", "Jade", "Bamboo")

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
            "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")
GIVEN_SINGLE = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚鹏华飞玲斌宇浩凯颖婷琳晨"
GIVEN_FIRST = "子浩欣宇思佳俊雨嘉文晨明雅建志晓海国秀德"
GIVEN_SECOND = "涵然怡轩远杰博婷华强明燕平英军峰辉琳颖磊"
FIRST_NAMES_EN = ("James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
                  "Elizabeth", "William", "Susan", "Richard", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
                  "Matthew", "Emily", "Oliver", "Amelia", "George", "Olivia", "Harry", "Isla", "Jack", "Sophie",
                  "Charlotte", "Henry", "Lucy", "Edward", "Grace", "Peter", "Anna", "Mark", "Laura", "Paul", "Emma",
                  "Andrew", "Hannah", "Kevin", "Rachel", "Brian", "Chloe", "Simon", "Alice", "Ian", "Kate", "Tom")
LAST_NAMES_EN = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
                 "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis",
                 "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
                 "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker",
                 "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Reed",
                 "Bailey")

TITLES = ("总经理", "副总经理", "采购经理", "采购专员", "技术总监", "财务主管", "销售总监", "IT经理", "行政主管",
          "工程师", "项目经理", "董事长助理", "市场经理", "运营总监")
DEPARTMENTS = ("总经办", "采购部", "技术部", "财务部", "销售部", "信息部", "行政部", "研发部", "市场部", "运营部")
TITLES_EN = ("Purchasing Manager", "CTO", "Operations Director", "Finance Manager", "IT Manager", "CEO",
             "Procurement Specialist", "Project Manager", "Head of Sales", "Office Manager")
DEPARTMENTS_EN = ("Procurement", "IT", "Finance", "Operations", "Sales", "Management", "Engineering")

# China mobile, unicom, telecom and virtual operators' prefixes that phonenumbers accepts as valid mobiles.
MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                   "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182",
                   "183", "184", "185", "186", "187", "188", "189", "191", "198", "199")
PUBLIC_MAIL = ("qq.com", "163.com", "126.com", "sina.com", "139.com", "foxmail.com", "outlook.com", "gmail.com")

TAGS = (("重点客户", "#d63939"), ("VIP", "#f59f00"), ("老客户", "#2fb344"), ("展会线索", "#4299e1"),
        ("渠道伙伴", "#ae3ec9"), ("待回访", "#f76707"), ("海外", "#0ca678"), ("政府项目", "#667382"))
CHANNELS = ("线上广告", "展会", "老客户介绍", "电话营销", "合作伙伴")

NOTES = (
    "电话沟通，客户对报价有兴趣，下周安排产品演示。",
    "拜访客户办公室，见到采购负责人，对方预算在第三季度审批。",
    "客户反馈上次交付延迟，已协调物流部门跟进。",
    "微信发送了产品资料和案例，客户表示会内部讨论。",
    "参加展会时认识，留下名片，约定月底回访。",
    "客户要求提供三年维保方案，需技术部评估。",
    "续约意向明确，等待合同法务审核。",
    "客户更换了采购对接人，需重新建立联系。",
    "Called about the renewal; they want a revised quote by Friday.",
    "Met at the trade fair in Shanghai; interested in the enterprise plan.",
    "Sent the case studies by email; follow up next week.",
    "Customer reported a billing issue, forwarded to finance.",
)

"""Builds replay/site/: offline, real-shaped copies of the kinds of site newsmon
watches, made from the seed texts in replay/seeds/ wrapped in each kind of
site's chrome. Its output is committed; rerun after editing:

    python -m replay.build_site

Absolute URLs use the placeholder http://replay.invalid, which replay.server
rewrites to its own address. manifest.json lists, per article page, what
extraction must keep and what chrome it must drop.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "fixtures" / "pages"
SEEDS = HERE / "seeds"
SITE = HERE / "site"
BASE = "http://replay.invalid"


@dataclass
class Page:
    source: str
    path: str                 # URL path, e.g. /xinhua_english/20240301/abc/c.html
    title: str
    paragraphs: list[str]
    date: str                 # YYYY-MM-DD
    language: str
    story: str
    author: str | None = None
    chrome: list[str] = field(default_factory=list)   # strings the page carries that must not reach the body
    html: str = ""
    encoding: str = "utf-8"

    @property
    def url(self) -> str:
        return BASE + self.path


def seed(name: str) -> list[str]:
    text = (SEEDS / name).read_text(encoding="utf-8")
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def between(lines: list[str], start: str, stop: str | None) -> list[str]:
    i = next(n for n, line in enumerate(lines) if line.startswith(start))
    j = next((n for n, line in enumerate(lines) if stop and line.startswith(stop) and n > i), len(lines))
    return lines[i:j]


def slug(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


# --- Xinhua English --------------------------------------------------------------

XINHUA_CHROME = ["Related Articles", "Copyright © 2000 - 2024 XINHUANET.com. All rights reserved.",
                 "Share to", "Xinhua Headlines: China's new energy vehicle exports", "Back to Top"]


def xinhua_page(page: Page, photo_caption: str | None) -> str:
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
    photo = ""
    if photo_caption:
        photo = (f'<p style="text-align: center;"><img src="/xinhua_english/img/photo.jpg" alt=""></p>\n'
                 f'<p style="text-align: center;">{escape(photo_caption)}</p>\n')
        page.chrome.append(photo_caption)
    related = "".join(f'<li><a href="/xinhua_english/{n}/c.html">{escape(t)}</a></li>' for n, t in enumerate([
        "Xinhua Headlines: China's new energy vehicle exports surge",
        "China's future industries draw global investors",
        "Economic Watch: Tech innovation powers growth"]))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(page.title)} - Xinhua</title>
<meta name="description" content="{escape(page.paragraphs[0][:150])}">
<meta property="og:title" content="{escape(page.title)}">
<meta property="og:site_name" content="Xinhua">
<meta property="article:published_time" content="{page.date}T09:30:00+08:00">
<link rel="canonical" href="{page.url}">
</head><body>
<div class="header"><a href="/xinhua_english/">Xinhua English</a> | <a href="#">China</a> | <a href="#">World</a> | <a href="#">Business</a> | <a href="#">Sci-Tech</a></div>
<div class="main">
<div class="detail">
<h1 class="title">{escape(page.title)}</h1>
<div class="info">Source: Xinhua | {page.date} 09:30:00 | Editor: Liu Yan</div>
<div class="share">Share to <a href="#">WeChat</a> <a href="#">Weibo</a> <a href="#">Facebook</a></div>
<div id="detailContent">
{photo}{paras}
</div>
<div class="related"><h3>Related Articles</h3><ul>{related}</ul></div>
</div>
<div class="right-sidebar"><h3>Most Viewed</h3><ul><li><a href="#">China unveils plan for digital economy</a></li><li><a href="#">Spring Festival travel rush ends</a></li></ul></div>
</div>
<div class="footer">Copyright © 2000 - 2024 XINHUANET.com. All rights reserved. <a href="#top">Back to Top</a></div>
</body></html>
"""


# --- Economic Information Daily (jjckb), table layout, GB18030 bytes ------------------

JJCKB_CHROME = ["Head of Xinhua News Agency", "Home page>> Text", "【 Large, medium and small 】",
                "All text, pictures, audio and video manuscripts", "News hotline: 010-63074375",
                "JJCKB.CN Beijing ICP for 18039543", "供给过剩需求疲软 奶业“成长的烦恼”如何破",
                "Oversupply weak demand dairy industry", "All news content on this site is not authorized",
                "Obtain authorization"]
JJCKB_CHROME_ZH = ["新华社主管", "首页 > 正文", "【 大 中 小 】", "新闻热线：010-63074375", "京ICP备18039543号",
                   "供给过剩需求疲软 奶业“成长的烦恼”如何破", "本网站所有内容，未经经济参考报书面授权"]


def jjckb_page(page: Page, zh: bool) -> str:
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
    if zh:
        head, crumb, size, related_h = "新华社主管", "首页 &gt; 正文", "【 大 中 小 】", "相关新闻"
        foot = ("<p>本网站所有内容，未经经济参考报书面授权，不得转载。</p>"
                "<p>新闻热线：010-63074375 63072334 报社地址：北京市宣武门西大街57号</p><p>京ICP备18039543号</p>")
        source = f"{page.date} 来源：经济参考报"
    else:
        head, crumb, size, related_h = "Head of Xinhua News Agency", "Home page&gt;&gt; Text", \
            "【 Large, medium and small 】", "Related News"
        foot = ("<p>All text, pictures, audio and video manuscripts, electronic magazines and other digital media "
                "products labeled as the source of \"Economic Information Daily\" belong to the copyright of Economic "
                "Reference Newspaper, and may not be published without written authorization. "
                "<a href=\"#\">Obtain authorization</a></p>"
                "<p>All news content on this site is not authorized by the agreement of Economic Information Daily</p>"
                "<p>News hotline: 010-63074375 63072334 Newspaper Address: No.57, Xuanwumen West Street, Beijing</p>"
                "<p>JJCKB.CN Beijing ICP for 18039543</p>")
        source = f"{page.date} Source: Economic Information Daily"
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{escape(page.title)}_经济参考网</title>
</head><body>
<table width="1000" align="center"><tr><td class="top">{head}</td><td><a href="/jjckb/">经济参考网</a></td></tr></table>
<table width="1000" align="center"><tr><td class="crumb">{crumb}</td></tr></table>
<table width="1000" align="center"><tr><td width="700" valign="top">
<table width="100%"><tr><td class="bt"><h1>{escape(page.title)}</h1></td></tr>
<tr><td class="sj">{source}</td></tr>
<tr><td class="zh">{size}</td></tr>
<tr><td class="nr">
<div class="TRS_Editor">
<p style="text-align:center"><img src="/jjckb/img/p1.jpg"></p>
<p style="text-align:center">{"图为北京亦庄的自动驾驶测试车辆。（记者 王喆 摄）" if zh else "An autonomous test vehicle in Beijing Yizhuang. (Photo by Wang Zhe)"}</p>
{paras}
</div>
</td></tr></table>
<div class="xgxw"><h3>{related_h}</h3>
<p><a href="/jjckb/x1.htm">Oversupply weak demand dairy industry "growing pains" how to break</a></p>
<p><a href="/jjckb/x2.htm">供给过剩需求疲软 奶业“成长的烦恼”如何破</a></p>
<p><a href="/jjckb/x3.htm">Zhangye, Gansu Province: More than 30 artificial lakes have "grown" in the arid region</a></p>
</div>
</td><td width="300" valign="top" class="right"><p><a href="#">经济参考报电子版</a></p></td></tr></table>
<table width="1000" align="center" class="foot"><tr><td>{foot}</td></tr></table>
</body></html>
"""


# --- WordPress-style republisher ------------------------------------------------------

WP_CHROME = ["Home »", "You may also like", "Leave a Comment",
             "This site uses Akismet to reduce spam. Learn how your comment data is processed.",
             "This website uses cookies to improve your experience.", "Accept Read More",
             "Privacy & Cookies Policy", "See also", "Blind boxes should say goodbye", "Post navigation",
             "Save my name, email, and website in this browser"]


def wordpress_page(page: Page, see_also_after: int) -> str:
    paras = [f"<p>{escape(p)}</p>" for p in page.paragraphs]
    paras.insert(see_also_after, '<p>See also&nbsp; <a href="/gzgov_wordpress/2023/11/blind-boxes/">Economic Daily: '
                                 'Blind boxes should say goodbye to "blind" growth - Viewpoint · Observation - '
                                 'cnBeta.COM</a></p>')
    body = "\n".join(paras)
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>{escape(page.title)} &#8211; China Policy Watch</title>
<meta property="og:title" content="{escape(page.title)}">
<meta property="og:site_name" content="China Policy Watch">
<meta property="article:published_time" content="{page.date}T08:00:00+00:00">
<meta name="author" content="admin">
</head><body class="post-template-default single single-post">
<header id="masthead" class="site-header"><p class="site-title"><a href="/gzgov_wordpress/">China Policy Watch</a></p>
<nav class="main-navigation"><ul><li><a href="#">Economy</a></li><li><a href="#">Technology</a></li></ul></nav></header>
<div id="content" class="site-content"><main id="main" class="site-main">
<div class="breadcrumbs"><a href="/gzgov_wordpress/">Home</a> » {escape(page.title)}</div>
<article class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{escape(page.title)}</h1>
<div class="entry-meta"><span class="byline">by <a href="#" rel="author">admin</a></span>
<time class="entry-date published" datetime="{page.date}T08:00:00+00:00">{page.date}</time></div></header>
<div class="entry-content">
{body}
<h3>You may also like</h3>
<p><a href="/gzgov_wordpress/2023/10/new-energy/">China’s new energy push reshapes industry</a></p>
<p><a href="/gzgov_wordpress/2023/09/digital-economy/">Digital economy hits new high in Guangdong</a></p>
</div>
</article>
<nav class="navigation post-navigation"><h2>Post navigation</h2><a href="#">Previous post</a></nav>
<div id="comments" class="comments-area"><div id="respond" class="comment-respond">
<h3 id="reply-title">Leave a Comment</h3>
<form id="commentform"><p><textarea name="comment"></textarea></p>
<p><input type="checkbox"> Save my name, email, and website in this browser for the next time I comment.</p></form>
<p class="akismet_comment_form_privacy_notice">This site uses Akismet to reduce spam. <a href="#">Learn how your comment data is processed</a>.</p>
</div></div>
</main></div>
<div id="cookie-law-info-bar"><span>This website uses cookies to improve your experience. We'll assume you're ok with this, but you can opt-out if you wish. <a href="#">Accept</a> <a href="#">Read More</a></span></div>
<div class="cli-modal"><h4>Privacy &amp; Cookies Policy</h4></div>
<footer class="site-footer"><p>© 2024 China Policy Watch</p></footer>
</body></html>
"""


# --- blog and content farm ----------------------------------------------------------------

BLOG_CHROME = ["Posted in Economy", "Subscribe to our newsletter", "Tags: China, innovation"]
FARM_CHROME = ["Read More:", "Advertisement", "Trending Now", "Top 10 Chinese tech stocks to watch"]


def blog_page(page: Page, headings: set[str]) -> str:
    parts = []
    for p in page.paragraphs:
        parts.append(f"<h2>{escape(p)}</h2>" if p in headings else f"<p>{escape(p)}</p>")
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(page.title)} | Tech &amp; Policy Notes</title></head>
<body><div class="wrap"><div class="blog-header"><a href="/tech_blog/">Tech &amp; Policy Notes</a></div>
<div class="post">
<h1>{escape(page.title)}</h1>
<div class="post-date"> date {page.date} </div>
<div class="post-body">
{body}
</div>
<div class="post-footer">Posted in Economy | Tags: China, innovation</div>
</div>
<div class="newsletter">Subscribe to our newsletter for weekly updates.</div>
</div></body></html>
"""


def farm_page(page: Page) -> str:
    # The farm pads its rewrite by repeating paragraphs, as seen in the seed.
    paras = page.paragraphs + page.paragraphs[:3]
    body = "\n".join(f"<p>{escape(p)}</p>" + ('<div class="ad-slot">Advertisement</div>' if i == 2 else "")
                     for i, p in enumerate(paras))
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(page.title)} - NewsDaily24</title>
<meta property="og:title" content="{escape(page.title)}">
<meta property="article:published_time" content="{page.date}T12:00:00Z"></head>
<body><div id="top-ad" class="ads">Advertisement</div>
<div class="content"><h1>{escape(page.title)}</h1>
<div class="article-body">
{body}
<p><strong>Read More:</strong></p>
<ul class="read-more"><li><a href="/contentfarm/top-10-stocks/">Top 10 Chinese tech stocks to watch</a></li>
<li><a href="/contentfarm/ev/">Why EV makers are racing to Hungary</a></li></ul>
</div></div>
<div class="trending"><h3>Trending Now</h3><ul><li><a href="#">Top 10 Chinese tech stocks to watch</a></li></ul></div>
</body></html>
"""


# --- extra articles written for the replay (original text) ------------------------------

RAIL_STORY = [
    "NANNING, March 4 (Xinhua) -- A new high-speed railway linking Nanning with the border city of Chongzuo "
    "began trial operations on Monday, cutting travel time between the two cities in south China's Guangxi "
    "Zhuang Autonomous Region to about 40 minutes.",
    "The 199-kilometer line, designed for speeds of up to 250 km per hour, passes through karst hills and "
    "sugarcane fields, and engineers built 47 bridges and 23 tunnels along the route.",
    "Local officials said the railway would help farmers ship fresh fruit to markets in the Pearl River Delta "
    "and draw tourists to the Detian waterfall on the China-Vietnam border.",
    "Construction crews used prefabricated track slabs made in a nearby factory, which shortened the building "
    "period by nearly a year, according to the project's operator.",
]
PORT_STORY = [
    "QINGDAO, Feb. 26 (Xinhua) -- An automated container terminal at Qingdao Port handled a record number of "
    "containers in January as shipping lines added routes to Southeast Asia and the Middle East.",
    "Driverless trucks and remotely operated cranes moved boxes around the clock, while a hydrogen-powered "
    "tractor fleet took over short hauls inside the terminal, the port group said.",
    "Managers credited software developed in-house for scheduling berths, which they said had raised the "
    "efficiency of each crane by about 15 percent compared with last year.",
]
ZH_STORY = [
    "当前，新一轮科技革命和产业变革深入发展，加快形成新质生产力，成为推动高质量发展的内在要求和重要着力点。",
    "在北京亦庄，自动驾驶测试车辆穿梭于街道之间。经济技术开发区相关负责人介绍，今年以来，区内已开放测试道路超过三百公里，"
    "一批智能网联汽车企业加快落地。",
    "上海张江科学城内，集成电路、生物医药和人工智能三大先导产业集聚发展。企业负责人表示，研发投入占营业收入的比重持续提高，"
    "核心技术攻关取得新进展。",
    "专家指出，发展新质生产力，关键在于以科技创新引领产业创新，推动创新链、产业链、资金链、人才链深度融合，"
    "培育壮大战略性新兴产业和未来产业。",
    "清华大学教授李喆认为，各地应立足自身资源禀赋，因地制宜布局新赛道，避免一哄而上和低水平重复建设。",
    "（记者 王镕 张喆 北京报道）",
]
GUIDE_STORY = [
    "The Economic Information Daily reported on Tuesday that smaller manufacturers in Zhejiang are "
    "installing industrial robots at a faster pace, helped by leasing schemes offered by local banks.",
    "A survey of 300 firms in Ningbo found that more than half planned to automate at least one production "
    "line this year, up from about a third a year earlier.",
    "Owners said a shortage of skilled workers and rising wages were the main reasons, while some worried about "
    "the cost of maintenance and software updates.",
]
WP_EXTRA = [
    "Guangzhou will spend more on basic research this year and open more public laboratories to small "
    "technology firms, the municipal science and technology bureau said in a notice published on its portal.",
    "The city plans to support about 200 research projects in fields such as integrated circuits, new "
    "materials and biomedicine, with grants awarded through open competition.",
    "Applicants must show a partnership with at least one local university or research institute, the "
    "notice said, and results will be published on the government portal.",
]


BLOG_EXTRA = [
    ("/tech_blog/2021/09/why-chip-self-reliance-takes-decades.html", "Why chip self-reliance takes decades",
     "2021-09-02", {"Lessons from other countries"}, [
         "Building a semiconductor industry is not like building a railway. Money alone does not buy the "
         "thousands of process steps that a modern fab has to master.",
         "Lessons from other countries",
         "South Korea and Taiwan took more than thirty years to move from assembling chips to designing and "
         "manufacturing leading-edge parts, and both relied on close ties with foreign customers.",
         "China's plan puts more weight on domestic demand, which gives local firms a large first market but "
         "less pressure to meet the strictest international standards.",
     ]),
    ("/tech_blog/2022/01/notes-on-the-digital-economy-plan.html", "Notes on the digital economy plan",
     "2022-01-20", {"What the plan measures"}, [
         "The State Council's plan for the digital economy during the 14th Five-Year Plan period sets a target "
         "for the core digital industries to reach ten percent of GDP by 2025.",
         "What the plan measures",
         "The plan counts telecommunications, software, electronics manufacturing and internet services, but "
         "leaves out much of the digitalization happening inside traditional factories.",
         "That choice makes the target easier to track, though it may understate how far digital tools have "
         "spread through the rest of the economy.",
     ]),
]
FARM_EXTRA = [
    ("/contentfarm/2023/03/china-tech-self-reliance-explained/", "China tech self-reliance explained in 5 points",
     "2023-03-08", [
         "China's leaders have made technological self-reliance the top economic priority for 2023, according "
         "to the Government Work Report delivered in March.",
         "The report calls for breakthroughs in core technologies such as chips and industrial software, and "
         "for enterprises to take the lead in innovation.",
         "Analysts say the focus reflects rising tensions with the United States over access to advanced "
         "semiconductors and manufacturing equipment.",
     ]),
    ("/contentfarm/2023/03/what-the-two-sessions-mean-for-investors/", "What the Two Sessions mean for investors",
     "2023-03-10", [
         "Investors watching the Two Sessions in Beijing got a clear signal: the government wants capital to "
         "flow into advanced manufacturing and technology.",
         "The Government Work Report set a growth target of around five percent and promised support for "
         "private enterprises and the platform economy.",
         "Fund managers said sectors tied to the digital economy and industrial upgrading could benefit most "
         "from the policy priorities outlined in the report.",
     ]),
]


PORTAL_CHROME = ["Guangzhou International", "Home > News > Latest News", "Print", "Close", "Font size:",
                 "Sponsored by the General Office of Guangzhou Municipal People's Government", "粤ICP备"]
PORTAL_ZH = [
    "广州市科学技术局近日发布通知，今年将加大基础研究投入，向中小科技企业开放更多公共实验平台。",
    "通知提出，全年拟支持集成电路、新材料、生物医药等领域约二百个研究项目，资助通过公开竞争方式确定。",
    "申报单位须与至少一所本地高校或科研院所开展合作，评审结果将在市政府门户网站公开。",
]
PORTAL_EXTRA = [
    "Guangzhou's foreign trade grew 6 percent in the first two months of the year, led by exports of "
    "electric vehicles, lithium batteries and solar products, the city's customs office said.",
    "Exports to countries taking part in the Belt and Road Initiative rose faster than the city's average, "
    "and private companies accounted for more than half of the total.",
    "Officials said new direct shipping routes from Nansha port had shortened delivery times to Southeast "
    "Asian markets by several days.",
]


def portal_page(page: Page, zh: bool = False) -> str:
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
    charset = "" if zh else '<meta charset="utf-8">'  # the Chinese page declares nothing at all
    return f"""<!DOCTYPE html>
<html><head>{charset}<title>{escape(page.title)}</title></head>
<body><div class="top-banner">Guangzhou International</div>
<div class="crumbs">Home &gt; News &gt; Latest News</div>
<div class="article-box"><h1>{escape(page.title)}</h1>
<div class="article-info">{page.date} &nbsp; Font size: <a href="#">L</a> <a href="#">M</a> <a href="#">S</a> &nbsp; <a href="#">Print</a> <a href="#">Close</a></div>
<div class="article-content">
{paras}
</div></div>
<div class="footer-box"><p>Sponsored by the General Office of Guangzhou Municipal People's Government</p><p>粤ICP备2020092020号</p></div>
</body></html>
"""


def portal_listing(pages: list[Page]) -> str:
    items = "".join(f'<li><a href="{p.path}">{escape(p.title)}</a><span>{p.date}</span></li>' for p in pages)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Latest News - Guangzhou International</title></head>
<body><div class="top-banner">Guangzhou International</div>
<div class="nav"><a href="/gzgov_portal/news/">Latest News</a> <a href="/gzgov_portal/about/">About Guangzhou</a>
<a href="/gzgov_portal/private/draft.html">Drafts</a></div>
<ul class="news-list">{items}<li><a href="/gzgov_portal/private/draft.html">Internal draft (not for crawlers)</a></li></ul>
<div class="page"><a href="/gzgov_portal/news/index.html">1</a></div>
</body></html>
"""


def news_sitemap(pages: list[Page]) -> str:
    urls = "".join(
        f"<url><loc>{p.url}</loc><lastmod>{p.date}T09:30:00+08:00</lastmod><news:news><news:publication>"
        f"<news:name>Xinhua</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{p.date}T09:30:00+08:00</news:publication_date>"
        f"<news:title>{escape(p.title)}</news:title></news:news></url>" for p in pages)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>\n")


def sitemap_index(children: list[tuple[str, str]]) -> str:
    items = "".join(f"<sitemap><loc>{BASE}{path}</loc><lastmod>{date}</lastmod></sitemap>" for path, date in children)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + items + "</sitemapindex>\n")


ROBOTS = """User-agent: *
Crawl-delay: 0.2
Disallow: /gzgov_portal/private/
"""


def build() -> list[Page]:
    pages: list[Page] = []

    # Xinhua English: the seed story plus two short wire stories.
    s4 = seed("004_6501088a790da1e9.txt")
    title4, caption4 = s4[0], s4[1]
    body4 = [line for line in s4[2:] if line != "Related Articles"]
    p = Page("xinhua_english", "/xinhua_english/20240301/a1b2c3d4e5f6/c.html", title4, body4, "2024-03-01", "en",
             story="future-industries", chrome=list(XINHUA_CHROME))
    p.html = xinhua_page(p, caption4)
    pages.append(p)
    for path, title, paras, date, story in [
        ("/xinhua_english/20240304/0f1e2d3c4b5a/c.html", "High-speed railway to China-Vietnam border starts trial run",
         RAIL_STORY, "2024-03-04", "border-railway"),
        ("/xinhua_english/20240226/9a8b7c6d5e4f/c.html", "Automated terminal at Qingdao Port sets monthly record",
         PORT_STORY, "2024-02-26", "qingdao-port"),
    ]:
        p = Page("xinhua_english", path, title, paras, date, "en", story=story, chrome=list(XINHUA_CHROME))
        p.html = xinhua_page(p, None)
        pages.append(p)

    # Economic Information Daily: seed (English), a Chinese story, one more.
    s1 = seed("001_f0a68b9a35df172c.txt")
    title1 = s1[2]
    body1 = between(s1, "Editor's note", "All text, pictures")
    p = Page("jjckb", "/jjckb/20231208/t20231208_1234567.htm", title1, body1, "2023-12-08", "en",
             story="new-quality-productivity", chrome=list(JJCKB_CHROME))
    p.html = jjckb_page(p, zh=False)
    p.encoding = "gb18030"
    pages.append(p)
    p = Page("jjckb", "/jjckb/20240305/t20240305_2345678.htm", "科技创新开启“新质生产力”之门", ZH_STORY,
             "2024-03-05", "zh", story="new-quality-productivity-zh", chrome=list(JJCKB_CHROME_ZH))
    p.html = jjckb_page(p, zh=True)
    p.encoding = "gb18030"
    pages.append(p)
    p = Page("jjckb", "/jjckb/20240312/t20240312_3456789.htm", "Zhejiang factories speed up automation",
             GUIDE_STORY, "2024-03-12", "en", story="zhejiang-robots", chrome=list(JJCKB_CHROME))
    p.html = jjckb_page(p, zh=False)
    p.encoding = "gb18030"
    pages.append(p)

    # WordPress republisher: the portal article, a republished Xinhua story, one more.
    s0 = seed("000_aac39677a52c1865.txt")
    title0 = s0[1].split(" – Guangzhou Municipal")[0]
    body0 = [line for line in between(s0, "The Chinese high-quality", "You may also like")
             if not line.startswith("See also")]
    p = Page("gzgov_wordpress", "/gzgov_wordpress/2023/12/scientific-and-technological-innovation-stimulates-surging-power/",
             title0, body0, "2023-12-20", "en", author="admin", story="first-line-observation", chrome=list(WP_CHROME))
    p.html = wordpress_page(p, see_also_after=5)
    pages.append(p)
    p = Page("gzgov_wordpress", "/gzgov_wordpress/2024/03/china-revs-up-tech-savvy-industries/",
             "China revs up developing tech-savvy industries for a smarter future", body4, "2024-03-02", "en",
             author="admin", story="future-industries", chrome=list(WP_CHROME))
    p.html = wordpress_page(p, see_also_after=4)
    pages.append(p)
    p = Page("gzgov_wordpress", "/gzgov_wordpress/2024/02/guangzhou-basic-research/",
             "Guangzhou to boost basic research funding", WP_EXTRA, "2024-02-15", "en", author="admin",
             story="guangzhou-research", chrome=list(WP_CHROME))
    p.html = wordpress_page(p, see_also_after=2)
    pages.append(p)

    # Government portal: listing pages only, no feed; one Chinese page in GBK with no charset anywhere.
    p = Page("gzgov_portal", "/gzgov_portal/news/content/post_9521034.html",
             "Scientific and technological innovation stimulates surging power", body0, "2023-12-18", "en",
             story="first-line-observation", chrome=list(PORTAL_CHROME))
    p.html = portal_page(p)
    pages.append(p)
    p = Page("gzgov_portal", "/gzgov_portal/news/content/post_9530117.html", "Guangzhou foreign trade grows 6 percent",
             PORTAL_EXTRA, "2024-03-15", "en", story="guangzhou-trade", chrome=list(PORTAL_CHROME))
    p.html = portal_page(p)
    pages.append(p)
    p = Page("gzgov_portal", "/gzgov_portal/news/content/post_9533342.html", "广州加大基础研究投入", PORTAL_ZH,
             "2024-03-18", "zh", story="guangzhou-research-zh", chrome=list(PORTAL_CHROME))
    p.html = portal_page(p, zh=True)
    p.encoding = "gb18030"  # GBK-compatible bytes; the page and the server name no charset
    pages.append(p)

    # Blog.
    s2 = seed("002_2d606fcfeee5bc6f.txt")
    headings = {"What is quality growth?", "How to achieve high quality growth",
                "Innovation and technological independence are key"}
    p = Page("tech_blog", "/tech_blog/2021/06/china-quality-growth-through-innovation.html",
             "China pursues quality growth through technology and innovation", s2[1:], "2021-06-10", "en",
             story="quality-growth", chrome=list(BLOG_CHROME))
    p.html = blog_page(p, headings)
    pages.append(p)
    for path, title, date, subheads, paras in BLOG_EXTRA:
        p = Page("tech_blog", path, title, paras, date, "en", story=path, chrome=list(BLOG_CHROME))
        p.html = blog_page(p, subheads)
        pages.append(p)

    # Content farm.
    s3 = seed("003_60908ebdad2d3680.txt")
    body3 = [line for line in s3 if line != "Read More:"]
    p = Page("contentfarm", "/contentfarm/2023/03/government-work-report-tech-priorities/",
             "China's 2023 Government Work Report puts tech self-reliance first", body3, "2023-03-06", "en",
             story="government-work-report", chrome=list(FARM_CHROME))
    p.html = farm_page(p)
    pages.append(p)
    for path, title, date, paras in FARM_EXTRA:
        p = Page("contentfarm", path, title, paras, date, "en", story=path, chrome=list(FARM_CHROME))
        p.html = farm_page(p)
        pages.append(p)
    return pages


def rss(title: str, link: str, pages: list[Page], wordpress: bool = False) -> str:
    from email.utils import format_datetime
    from datetime import datetime, timezone

    items = []
    for p in pages:
        when = format_datetime(datetime.fromisoformat(p.date).replace(hour=8, tzinfo=timezone.utc))
        extra = ""
        if wordpress:
            extra = (f"<dc:creator><![CDATA[{p.author}]]></dc:creator>"
                     f"<content:encoded><![CDATA[<p>{escape(p.paragraphs[0])}</p>]]></content:encoded>")
        items.append(f"<item><title>{escape(p.title)}</title><link>{p.url}</link>"
                     f"<guid isPermaLink=\"true\">{p.url}</guid><pubDate>{when}</pubDate>"
                     f"<description>{escape(p.paragraphs[0][:200])}</description>{extra}</item>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<channel><title>{escape(title)}</title><link>{link}</link><description>{escape(title)}</description>"
            + "".join(items) + "</channel></rss>\n")


def atom(title: str, link: str, pages: list[Page]) -> str:
    entries = "".join(
        f"<entry><title>{escape(p.title)}</title><link href=\"{p.url}\"/><id>{p.url}</id>"
        f"<updated>{p.date}T08:00:00Z</updated><summary>{escape(p.paragraphs[0][:200])}</summary></entry>"
        for p in pages)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(title)}</title><link href=\"{link}\"/><id>{link}</id>"
            f"<updated>{max(p.date for p in pages)}T08:00:00Z</updated>{entries}</feed>\n")


FEEDS = {
    "xinhua_english": ("feed.xml", "rss", "Xinhua English - China"),
    "jjckb": ("atom.xml", "atom", "经济参考网"),
    "gzgov_wordpress": ("feed/index.xml", "wordpress", "China Policy Watch"),
    "tech_blog": ("atom.xml", "atom", "Tech & Policy Notes"),
    "contentfarm": ("feed.xml", "rss", "NewsDaily24"),
}


def write(pages: list[Page]) -> None:
    if SITE.exists():
        shutil.rmtree(SITE)
    for p in pages:
        target = SITE / p.path.lstrip("/")
        if p.path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(p.html.encode(p.encoding))
    for source, (name, kind, title) in FEEDS.items():
        mine = [p for p in pages if p.source == source]
        if not mine:
            continue
        link = f"{BASE}/{source}/"
        text = atom(title, link, mine) if kind == "atom" else rss(title, link, mine, wordpress=kind == "wordpress")
        (SITE / source / name).parent.mkdir(parents=True, exist_ok=True)
        (SITE / source / name).write_text(text, encoding="utf-8")
    portal = [p for p in pages if p.source == "gzgov_portal"]
    (SITE / "gzgov_portal" / "news" / "index.html").write_text(portal_listing(portal), encoding="utf-8")
    xinhua = [p for p in pages if p.source == "xinhua_english"]
    (SITE / "xinhua_english" / "news_sitemap.xml").write_text(news_sitemap(xinhua), encoding="utf-8")
    (SITE / "xinhua_english" / "sitemap_index.xml").write_text(sitemap_index(
        [("/xinhua_english/news_sitemap.xml", "2024-03-04"), ("/xinhua_english/archive_2019.xml", "2019-12-31")]),
        encoding="utf-8")
    (SITE / "robots.txt").write_text(ROBOTS, encoding="utf-8")
    starts = {s: f"/{s}/{name}" for s, (name, _k, _t) in FEEDS.items()}
    starts.update({"gzgov_portal": "/gzgov_portal/news/", "xinhua_english_sitemap": "/xinhua_english/sitemap_index.xml"})
    manifest = {"feeds": starts, "pages": [
        {"source": p.source, "path": p.path, "title": p.title, "author": p.author, "date": p.date,
         "language": p.language, "story": p.story, "encoding": p.encoding,
         "body_contains": _samples(p.paragraphs), "chrome_absent": p.chrome}
        for p in pages]}
    (SITE / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_fixtures(pages)


def write_fixtures(pages: list[Page]) -> None:
    """tests/fixtures/pages/<source>/<name>.html with the expected result beside it as <name>.json."""
    for p in pages:
        folder = FIXTURES / p.source
        folder.mkdir(parents=True, exist_ok=True)
        name = [part for part in p.path.strip("/").split("/") if part not in ("index.html", "c.html")][-1]
        name = name.rsplit(".", 1)[0]
        (folder / f"{name}.html").write_bytes(p.html.encode(p.encoding))
        expected = {"url": p.url, "title": p.title, "author": p.author, "date": p.date, "language": p.language,
                    "encoding": p.encoding, "body_contains": p.paragraphs, "chrome_absent": p.chrome}
        (folder / f"{name}.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
                                             encoding="utf-8")


def _samples(paragraphs: list[str]) -> list[str]:
    """First, middle and last body paragraphs: extraction must keep them."""
    picks = [paragraphs[0], paragraphs[len(paragraphs) // 2], paragraphs[-1]]
    return list(dict.fromkeys(picks))


if __name__ == "__main__":
    write(build())
    print(f"wrote {SITE}")

"""Builds replay/site/: offline, real-shaped copies of the kinds of site newsmon
watches, made from the seed texts in replay/seeds/ wrapped in each kind of
site's chrome. Its output is committed; rerun after editing:

    python -m replay.build_site              # rewrites replay/site/ only
    python -m replay.build_site --fixtures   # also tests/fixtures/pages/ (copies + expected JSON)

One folder per source (the folder name is the source name everywhere):

    xinhua_english/   RSS 2.0 feed.xml, Google News sitemaps, /YYYYMMDD/<hex>/c.html articles
    jjckb/            Atom atom.xml (UTF-8); pages in GB18030 bytes declared as gb2312, no charset header
    gzgov_wordpress/  WordPress: feed/index.xml (content:encoded, dc:creator), /YYYY/MM/<slug>/ articles
    tech_blog/        Atom atom.xml; " date YYYY-MM-DD " line, sub-headings in the body
    contentfarm/      RSS feed.xml; paragraphs repeated, "Read More:" link list, ad slots
    gzgov_portal/     government portal: a "Latest News" listing page, no feed

Absolute URLs use the placeholder http://replay.invalid, which replay.server
rewrites to its own address. manifest.json lists, per article page, what
extraction must keep (body_contains) and the chrome strings literally on the
page that it must drop (chrome_absent); pages sharing a `story` are the same
story from different outlets.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
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

    @property
    def description(self) -> str:
        text = self.paragraphs[0]
        return text if len(text) <= 160 else text[:157].rsplit(" ", 1)[0] + "..."


def seed(name: str) -> list[str]:
    text = (SEEDS / name).read_text(encoding="utf-8")
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def between(lines: list[str], start: str, stop: str | None) -> list[str]:
    i = next(n for n, line in enumerate(lines) if line.startswith(start))
    j = next((n for n, line in enumerate(lines) if stop and line.startswith(stop) and n > i), len(lines))
    return lines[i:j]


def head(page: Page, site: str, *, charset: str = '<meta charset="utf-8">', published: bool = True,
         feed: tuple[str, str] | None = None, extra: str = "") -> str:
    """<head> as each kind of site writes it: title "<Title> - <Site>", description, Open Graph.
    `published=False` for sites that show the date only in the visible text."""
    lines = [charset,
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(page.title)} - {escape(site)}</title>",
             f'<meta name="description" content="{escape(page.description)}">',
             '<meta property="og:type" content="article">',
             f'<meta property="og:title" content="{escape(page.title)}">',
             f'<meta property="og:site_name" content="{escape(site)}">',
             f'<meta property="og:url" content="{page.url}">']
    if published:
        lines.append(f'<meta property="article:published_time" content="{page.date}T09:30:00+08:00">')
    lines.append(f'<link rel="canonical" href="{page.url}">')
    if feed:
        kind, href = feed
        lines.append(f'<link rel="alternate" type="application/{kind}+xml" title="{escape(site)}" href="{BASE}{href}">')
    if extra:
        lines.append(extra)
    return "<head>\n" + "\n".join(lines) + "\n</head>"


def paragraphs_html(paragraphs: list[str], headings: set[str] = frozenset(), tag: str = "h2") -> str:
    return "\n".join(f"<{tag}>{escape(p)}</{tag}>" if p in headings else f"<p>{escape(p)}</p>" for p in paragraphs)


# --- Xinhua English ------------------------------------------------------------------

XINHUA_RELATED = [
    ("/xinhua_english/20240229/7d3e0c9b1a24/c.html", "Xinhua Headlines: China's new energy vehicle exports surge"),
    ("/xinhua_english/20240227/5b8f2e6a9c01/c.html", "China's future industries draw global investors"),
    ("/xinhua_english/20240225/c4a19e7f3d62/c.html", "Economic Watch: Tech innovation powers growth"),
]
XINHUA_CHROME = ["Related Articles", "Copyright © 2000 - 2024 XINHUANET.com. All rights reserved.",
                 "Share to", "Xinhua Headlines: China's new energy vehicle exports", "Back to Top",
                 "Editor: Huaxia", "Most Viewed", "China unveils plan for digital economy"]


def xinhua_page(page: Page, photo: tuple[str, str] | None) -> str:
    figure = ""
    if photo:
        image, caption = photo
        figure = (f'<p style="text-align: center;"><img id="{image}" src="/xinhua_english/{page.date.replace("-", "")}'
                  f'/{image}.jpg" alt="" width="900"></p>\n'
                  f'<p style="text-align: center;"><span style="color: #000080;">{escape(caption)}</span></p>\n')
        page.chrome.append(caption)
    related = "\n".join(f'<li><a href="{href}">{escape(t)}</a></li>' for href, t in XINHUA_RELATED)
    return f"""<!DOCTYPE html>
<html lang="en">
{head(page, "Xinhua", feed=("rss", "/xinhua_english/feed.xml"),
      extra='<meta name="keywords" content="China, economy, sci-tech">')}
<body>
<div class="header" id="top">
<div class="logo"><a href="/xinhua_english/">Xinhua English</a></div>
<ul class="nav"><li><a href="/xinhua_english/">Home</a></li><li><a href="/xinhua_english/china/">China</a></li><li><a href="/xinhua_english/world/">World</a></li><li><a href="/xinhua_english/business/">Business</a></li><li><a href="/xinhua_english/sci/">Sci-Tech</a></li><li><a href="/xinhua_english/photo/">Photos</a></li><li><a href="/xinhua_english/video/">Video</a></li></ul>
</div>
<div class="main clearfix">
<div class="conLeft">
<div class="detail">
<h1 class="title">{escape(page.title)}</h1>
<div class="info"><span class="source">Source: Xinhua</span> <span class="time">{page.date} 09:30:00</span> <span class="editor">Editor: Huaxia</span></div>
<div class="share">Share to <a href="#">WeChat</a> <a href="#">Weibo</a> <a href="#">Facebook</a> <a href="#">X</a></div>
<div id="detailContent">
{figure}{paragraphs_html(page.paragraphs)}
</div>
<div class="related"><h3>Related Articles</h3><ul>
{related}
</ul></div>
</div>
</div>
<div class="conRight">
<div class="mostViewed"><h3>Most Viewed</h3><ul><li><a href="#">China unveils plan for digital economy</a></li><li><a href="#">Spring Festival travel rush ends</a></li><li><a href="#">Panda cubs meet the public in Chengdu</a></li></ul></div>
</div>
</div>
<div class="footer"><p>Copyright © 2000 - 2024 XINHUANET.com. All rights reserved.</p><p><a href="#top">Back to Top</a></p></div>
</body>
</html>
"""


# --- Economic Information Daily (jjckb): table layout, GB18030 bytes declared as gb2312 ----------

JJCKB_EDITOR = "责任编辑：王喆"  # 喆 is outside GB2312: a strict gb2312 decoder fails on every jjckb page
JJCKB_CHROME = ["Head of Xinhua News Agency", "Home page>> Text", "【 Large, medium and small 】",
                "All text, pictures, audio and video manuscripts", "News hotline: 010-63074375",
                "JJCKB.CN Beijing ICP for 18039543", "供给过剩需求疲软 奶业“成长的烦恼”如何破",
                "Oversupply weak demand dairy industry", "All news content on this site is not authorized",
                "Obtain authorization", JJCKB_EDITOR, "Source: Economic Information Daily", "Hot recommendations"]
JJCKB_CHROME_ZH = ["新华社主管", "首页 > 正文", "【 大 中 小 】", "新闻热线：010-63074375", "京ICP备18039543号",
                   "供给过剩需求疲软 奶业“成长的烦恼”如何破", "本网站所有内容，未经经济参考报书面授权", JJCKB_EDITOR,
                   "来源：经济参考报", "热点推荐"]


def jjckb_page(page: Page, zh: bool, caption: str, charset: str = '<meta charset="gb2312">') -> str:
    page.chrome.append(caption)
    if zh:
        top, crumb, size, related_h, hot = "新华社主管", "首页 &gt; 正文", "【 大 中 小 】", "相关新闻", "热点推荐"
        nav = ["首页", "要闻", "财经", "产业", "区域", "评论", "数据"]
        foot = ("<p>本网站所有内容，未经经济参考报书面授权，不得转载。</p>"
                "<p>新闻热线：010-63074375 63072334 报社地址：北京市宣武门西大街57号</p><p>京ICP备18039543号</p>")
        source = f"{page.date} 来源：经济参考报"
        related = ["一季度规上工业增加值同比增长6.1%", "供给过剩需求疲软 奶业“成长的烦恼”如何破",
                   "甘肃张掖：干旱区“长”出30多个人工湖"]
    else:
        top, crumb, size, related_h, hot = ("Head of Xinhua News Agency", "Home page&gt;&gt; Text",
                                            "【 Large, medium and small 】", "Related News", "Hot recommendations")
        nav = ["Home", "News", "Finance", "Industry", "Regions", "Comment", "Data"]
        foot = ("<p>All text, pictures, audio and video manuscripts, electronic magazines and other digital media "
                "products labeled as the source of \"Economic Information Daily\" or \"Economic Information Network\" "
                "belong to the copyright of Economic Reference Newspaper, and may not be published or broadcast in "
                "any form without the written authorization of Economic Reference Newspaper. "
                "<a href=\"#\">Obtain authorization</a></p>"
                "<p>All news content on this site is not authorized by the agreement of Economic Information Daily</p>"
                "<p>News hotline: 010-63074375 63072334 Newspaper Address: No.57, Xuanwumen West Street, Beijing</p>"
                "<p>JJCKB.CN Beijing ICP for 18039543</p>")
        source = f"{page.date} Source: Economic Information Daily"
        related = ["Oversupply weak demand dairy industry \"growing pains\" how to break",
                   "供给过剩需求疲软 奶业“成长的烦恼”如何破",
                   "Zhangye, Gansu Province: More than 30 artificial lakes have \"grown\" in the arid region"]
    nav_html = " | ".join(f'<a href="/jjckb/{n}/">{escape(name)}</a>' for n, name in enumerate(nav))
    related_html = "\n".join(f'<p><a href="/jjckb/2023120{n}/t2023120{n}_10{n}.htm">{escape(t)}</a></p>'
                             for n, t in enumerate(related, start=1))
    return f"""<!DOCTYPE html>
<html>
{head(page, "经济参考网", charset=charset, published=False)}
<body>
<table width="1000" align="center" class="topbar"><tr><td class="top">{top}</td><td align="right"><a href="#">新华网</a> | <a href="#">经济参考报电子版</a></td></tr></table>
<table width="1000" align="center" class="nav"><tr><td><a href="/jjckb/"><img src="/jjckb/img/logo.png" alt="经济参考网"></a></td><td>{nav_html}</td></tr></table>
<table width="1000" align="center"><tr><td class="crumb">{crumb}</td></tr></table>
<table width="1000" align="center"><tr><td width="700" valign="top">
<table width="100%"><tr><td class="bt"><h1>{escape(page.title)}</h1></td></tr>
<tr><td class="sj">{source}</td></tr>
<tr><td class="zh">{size}</td></tr>
<tr><td class="nr">
<div class="TRS_Editor">
<p style="text-align:center"><img src="/jjckb/img/{page.date.replace("-", "")}_1.jpg"></p>
<p style="text-align:center">{escape(caption)}</p>
{paragraphs_html(page.paragraphs)}
</div>
<div class="bjn">{JJCKB_EDITOR}</div>
</td></tr></table>
<div class="xgxw"><h3>{related_h}</h3>
{related_html}
</div>
</td><td width="300" valign="top" class="right">
<div class="rdtj"><h3>{hot}</h3><ul><li><a href="#">{"数字经济核心产业增加值占比提升" if zh else "Share of core digital-economy industries rises"}</a></li><li><a href="#">{"多地密集部署未来产业" if zh else "Many regions plan future industries"}</a></li></ul></div>
<p><a href="#">经济参考报电子版</a></p></td></tr></table>
<table width="1000" align="center" class="foot"><tr><td>{foot}</td></tr></table>
</body>
</html>
"""


# --- WordPress-style republisher -------------------------------------------------------------

WP_SITE = "China Policy Watch"
WP_ALSO_LIKE = [
    ("/gzgov_wordpress/2023/10/new-energy-push/", "China’s new energy push reshapes industry",
     "Wind and solar capacity added in the first nine months already exceeds last year’s total, and battery "
     "makers are racing to expand."),
    ("/gzgov_wordpress/2023/09/digital-economy-guangdong/", "Digital economy hits new high in Guangdong",
     "The province’s digital economy now accounts for nearly half of its output, according to figures released "
     "at a forum in Shenzhen."),
]
WP_CHROME = ["Home »", "You may also like", "Leave a Comment",
             "This site uses Akismet to reduce spam. Learn how your comment data is processed.",
             "This website uses cookies to improve your experience.", "Accept Read More",
             "Privacy & Cookies Policy", "See also", "Blind boxes should say goodbye", "Post navigation",
             "Save my name, email, and website in this browser", "by admin",
             "Wind and solar capacity added in the first nine months", "Recent Posts"]


def wordpress_page(page: Page, see_also_after: int, post_id: int) -> str:
    paras = [f"<p>{escape(p)}</p>" for p in page.paragraphs]
    # Pasted in by hand, as in the seed: only the headline is linked, the rest is plain text in the post.
    paras.insert(see_also_after, '<p>See also&nbsp; <a href="/gzgov_wordpress/2023/11/blind-boxes/">Economic Daily: '
                                 'Blind boxes should say goodbye to "blind" growth</a> - Viewpoint · Observation - '
                                 'cnBeta.COM</p>')
    body = "\n".join(paras)
    also = "\n".join(f'<div class="grid-item"><h4><a href="{href}">{escape(t)}</a></h4>'
                     f'<p class="excerpt">{escape(excerpt)}</p></div>' for href, t, excerpt in WP_ALSO_LIKE)
    page_head = head(page, WP_SITE, charset='<meta charset="UTF-8">', feed=("rss", "/gzgov_wordpress/feed/"),
                     extra='<meta name="author" content="admin">\n<meta name="generator" content="WordPress 6.4.2">')
    return f"""<!DOCTYPE html>
<html lang="en-US">
{page_head}
<body class="post-template-default single single-post postid-{post_id} single-format-standard">
<div id="page" class="site">
<header id="masthead" class="site-header"><p class="site-title"><a href="/gzgov_wordpress/">{WP_SITE}</a></p>
<nav id="site-navigation" class="main-navigation"><ul><li><a href="/gzgov_wordpress/category/economy/">Economy</a></li><li><a href="/gzgov_wordpress/category/technology/">Technology</a></li><li><a href="/gzgov_wordpress/category/policy/">Policy</a></li></ul></nav></header>
<div id="content" class="site-content">
<div id="primary" class="content-area"><main id="main" class="site-main">
<div class="breadcrumbs"><a href="/gzgov_wordpress/">Home</a> » {escape(page.title)}</div>
<article id="post-{post_id}" class="post-{post_id} post type-post status-publish format-standard hentry category-economy">
<header class="entry-header"><h1 class="entry-title">{escape(page.title)}</h1>
<div class="entry-meta"><span class="byline">by <span class="author vcard"><a class="url fn n" href="/gzgov_wordpress/author/admin/">admin</a></span></span>
<span class="posted-on"><time class="entry-date published" datetime="{page.date}T08:00:00+00:00">{page.date}</time></span></div></header>
<div class="entry-content">
{body}
<div class="mag-box also-like"><h3 class="block-title">You may also like</h3>
<div class="grid-posts">
{also}
</div>
</div>
</div>
</article>
<nav class="navigation post-navigation"><h2 class="screen-reader-text">Post navigation</h2><div class="nav-links"><a href="#" rel="prev">Previous post</a> <a href="#" rel="next">Next post</a></div></nav>
<div id="comments" class="comments-area"><div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Comment</h3>
<form id="commentform" class="comment-form"><p class="comment-form-comment"><textarea name="comment"></textarea></p>
<p><input name="author" placeholder="Name*"> <input name="email" placeholder="Email*"> <input name="url" placeholder="Website"></p>
<p class="comment-form-cookies-consent"><input type="checkbox"> Save my name, email, and website in this browser for the next time I comment.</p>
<p class="form-submit"><input type="submit" value="Post Comment"></p></form>
<p class="akismet_comment_form_privacy_notice">This site uses Akismet to reduce spam. <a href="#">Learn how your comment data is processed</a>.</p>
</div></div>
</main></div>
<aside id="secondary" class="widget-area"><section class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2><ul><li><a href="/gzgov_wordpress/2024/03/china-revs-up-tech-savvy-industries/">China revs up developing tech-savvy industries</a></li><li><a href="/gzgov_wordpress/2024/02/guangzhou-basic-research/">Guangzhou to boost basic research funding</a></li></ul></section></aside>
</div>
<footer id="colophon" class="site-footer"><div class="site-info">© 2024 {WP_SITE} · Powered by WordPress</div></footer>
</div>
<div id="cookie-law-info-bar"><span>This website uses cookies to improve your experience. We'll assume you're ok with this, but you can opt-out if you wish. <a href="#" class="cli_action_button">Accept</a> <a href="#" class="cli-privacy-readmore">Read More</a></span></div>
<div class="cli-modal"><div class="cli-modal-content"><h4>Privacy &amp; Cookies Policy</h4><p>This website uses cookies to improve your experience while you navigate through the website.</p></div></div>
</body>
</html>
"""


# --- blog and content farm ---------------------------------------------------------------------

BLOG_SITE = "Tech & Policy Notes"
BLOG_CHROME = ["Posted in Economy", "Subscribe to our newsletter", "Tags: China, innovation", "Powered by Hugo",
               "Recent posts"]
FARM_SITE = "NewsDaily24"
FARM_CHROME = ["Read More:", "Advertisement", "Trending Now", "Top 10 Chinese tech stocks to watch",
               "Why EV makers are racing to Hungary", "All Rights Reserved"]


def blog_page(page: Page, headings: set[str], recent: list[Page]) -> str:
    page.chrome.append(f"date {page.date}")
    recent_html = "".join(f'<li><a href="{p.path}">{escape(p.title)}</a></li>' for p in recent if p is not page)
    return f"""<!DOCTYPE html>
<html lang="en">
{head(page, BLOG_SITE, published=False, feed=("atom", "/tech_blog/atom.xml"))}
<body>
<header class="site-header"><a class="site-title" href="/tech_blog/">{escape(BLOG_SITE)}</a>
<nav class="menu"><a href="/tech_blog/">Posts</a> <a href="/tech_blog/archives/">Archives</a> <a href="/tech_blog/about/">About</a></nav></header>
<div class="container">
<main class="main">
<article class="post">
<h1 class="post-title">{escape(page.title)}</h1>
<div class="post-date"><i class="icon-calendar"></i> date {page.date} </div>
<div class="post-content">
{paragraphs_html(page.paragraphs, headings)}
</div>
<div class="post-footer">Posted in Economy | Tags: China, innovation</div>
</article>
</main>
<aside class="sidebar">
<div class="widget newsletter">Subscribe to our newsletter for weekly updates.</div>
<div class="widget recent"><h3>Recent posts</h3><ul>{recent_html}</ul></div>
</aside>
</div>
<footer class="site-footer">© {page.date[:4]} {escape(BLOG_SITE)} · Powered by Hugo</footer>
</body>
</html>
"""


def farm_page(page: Page) -> str:
    # The farm pads its rewrite by repeating paragraphs, as seen in the seed.
    paras = page.paragraphs + page.paragraphs[:3]
    body = "\n".join(f"<p>{escape(p)}</p>" + ('\n<div class="ad-slot">Advertisement</div>' if i == 2 else "")
                     for i, p in enumerate(paras))
    return f"""<!DOCTYPE html>
<html lang="en">
{head(page, FARM_SITE, feed=("rss", "/contentfarm/feed.xml"))}
<body>
<div id="top-ad" class="ads">Advertisement</div>
<header class="masthead"><a href="/contentfarm/">{FARM_SITE}</a>
<nav><a href="/contentfarm/business/">Business</a> <a href="/contentfarm/tech/">Tech</a> <a href="/contentfarm/world/">World</a> <a href="/contentfarm/markets/">Markets</a></nav></header>
<div class="wrapper">
<div class="content"><h1>{escape(page.title)}</h1>
<div class="article-body">
{body}
<p><strong>Read More:</strong></p>
<ul class="read-more"><li><a href="/contentfarm/top-10-stocks/">Top 10 Chinese tech stocks to watch</a></li>
<li><a href="/contentfarm/ev/">Why EV makers are racing to Hungary</a></li></ul>
</div></div>
<div class="sidebar trending"><h3>Trending Now</h3><ul><li><a href="/contentfarm/top-10-stocks/">Top 10 Chinese tech stocks to watch</a></li><li><a href="/contentfarm/gold/">Gold price hits record as buyers pile in</a></li></ul>
<div class="ads">Advertisement</div></div>
</div>
<footer><p>© 2023 {FARM_SITE}. All Rights Reserved.</p><p><a href="/contentfarm/privacy/">Privacy</a> · <a href="/contentfarm/contact/">Contact</a></p></footer>
</body>
</html>
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
    "当前，新一轮科技革命和产业变革深入发展，加快形成新质生产力，成为推动高质量发展的内在要求和重要着力点。"
    "记者近日在北京、上海、安徽等地采访发现，各地正围绕科技创新谋篇布局，一批新产业、新业态、新模式加速涌现。",
    "在北京亦庄，自动驾驶测试车辆穿梭于街道之间。经济技术开发区相关负责人介绍，今年以来，区内已开放测试道路超过三百公里，"
    "一批智能网联汽车企业加快落地。",
    "上海张江科学城内，集成电路、生物医药和人工智能三大先导产业集聚发展。企业负责人表示，研发投入占营业收入的比重持续提高，"
    "核心技术攻关取得新进展。",
    "在安徽合肥，量子信息、聚变能源、深空探测等领域的科研成果正加快走出实验室。当地一家量子精密测量企业负责人告诉记者，"
    "企业去年订单同比翻番，研发投入占营业收入的比重接近三成。",
    "专家指出，发展新质生产力，关键在于以科技创新引领产业创新，推动创新链、产业链、资金链、人才链深度融合，"
    "培育壮大战略性新兴产业和未来产业。",
    "经济学者李喆认为，各地应立足自身资源禀赋和产业基础，因地制宜布局新赛道，避免一哄而上和低水平重复建设。"
    "他建议进一步完善科技金融服务，引导长期资本投向早期、小型和硬科技企业，让更多创新成果转化为现实生产力。",
    "（记者 王镕 张喆 北京报道）",
]
GUIDE_STORY = [
    "Smaller manufacturers in Zhejiang are installing industrial robots at a faster pace than a year ago, "
    "helped by leasing schemes that local banks have tailored to factories with fewer than 100 workers.",
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


# --- government portal: listing pages, no feed -----------------------------------------------

PORTAL_SITE = "Guangzhou International"
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
    # The Chinese page declares no charset at all, and the server sends none: only detection helps.
    charset = "" if zh else '<meta charset="utf-8">'
    extra = (f'<meta name="SiteName" content="{PORTAL_SITE}">\n<meta name="ColumnName" content="Latest News">\n'
             f'<meta name="ArticleTitle" content="{escape(page.title)}">')
    return f"""<!DOCTYPE html>
<html>
{head(page, PORTAL_SITE, charset=charset, published=False, extra=extra)}
<body><div class="top-banner">Guangzhou International</div>
<div class="crumbs">Home &gt; News &gt; Latest News</div>
<div class="article-box"><h1>{escape(page.title)}</h1>
<div class="article-info">{page.date} &nbsp; Font size: <a href="#">L</a> <a href="#">M</a> <a href="#">S</a> &nbsp; <a href="#">Print</a> <a href="#">Close</a></div>
<div class="article-content">
{paragraphs_html(page.paragraphs)}
</div></div>
<div class="footer-box"><p>Sponsored by the General Office of Guangzhou Municipal People's Government</p><p>粤ICP备2020092020号</p></div>
</body>
</html>
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


# --- feeds and sitemaps --------------------------------------------------------------------------

def rfc822(date: str, hour: int = 8) -> str:
    return format_datetime(datetime.fromisoformat(date).replace(hour=hour, tzinfo=timezone.utc))


def rss(title: str, link: str, feed_url: str, pages: list[Page], language: str) -> str:
    items = "".join(
        f"<item><title>{escape(p.title)}</title><link>{p.url}</link>"
        f"<guid isPermaLink=\"true\">{p.url}</guid><pubDate>{rfc822(p.date)}</pubDate>"
        f"<description>{escape(p.description)}</description></item>\n" for p in pages)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n'
            f"<channel><title>{escape(title)}</title><link>{link}</link><description>{escape(title)}</description>"
            f"<language>{language}</language><lastBuildDate>{rfc822(max(p.date for p in pages), 10)}</lastBuildDate>"
            f'<atom:link href="{feed_url}" rel="self" type="application/rss+xml"/>\n'
            + items + "</channel></rss>\n")


def wordpress_rss(title: str, link: str, feed_url: str, pages: list[Page]) -> str:
    """The shape WordPress writes: dc:creator, excerpt in description, full post in content:encoded."""
    items = []
    for n, p in enumerate(pages):
        content = "".join(f"<p>{escape(x)}</p>\n" for x in p.paragraphs)
        items.append(
            f"<item>\n<title>{escape(p.title)}</title>\n<link>{p.url}</link>\n"
            f"<comments>{p.url}#respond</comments>\n"
            f"<dc:creator><![CDATA[{p.author}]]></dc:creator>\n<pubDate>{rfc822(p.date)}</pubDate>\n"
            f"<category><![CDATA[Economy]]></category>\n"
            f'<guid isPermaLink="false">{BASE}/gzgov_wordpress/?p={1200 + n}</guid>\n'
            f"<description><![CDATA[{p.description} [&#8230;]]]></description>\n"
            f"<content:encoded><![CDATA[{content}]]></content:encoded>\n"
            f"<wfw:commentRss>{p.url}feed/</wfw:commentRss>\n<slash:comments>0</slash:comments>\n</item>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
            '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
            '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
            '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n>\n\n<channel>\n'
            f"<title>{escape(title)}</title>\n"
            f'<atom:link href="{feed_url}" rel="self" type="application/rss+xml" />\n'
            f"<link>{link}</link>\n<description>China policy news, republished</description>\n"
            f"<lastBuildDate>{rfc822(max(p.date for p in pages), 10)}</lastBuildDate>\n"
            "<language>en-US</language>\n<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n"
            "<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n"
            "<generator>https://wordpress.org/?v=6.4.2</generator>\n"
            + "".join(items) + "</channel>\n</rss>\n")


def atom(title: str, link: str, feed_url: str, pages: list[Page], author: str) -> str:
    entries = "".join(
        f"<entry><title>{escape(p.title)}</title><link rel=\"alternate\" type=\"text/html\" href=\"{p.url}\"/>"
        f"<id>{p.url}</id><published>{p.date}T08:00:00Z</published><updated>{p.date}T08:00:00Z</updated>"
        f"<summary>{escape(p.description)}</summary></entry>\n"
        for p in pages)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"<title>{escape(title)}</title><link href=\"{link}\"/><link rel=\"self\" href=\"{feed_url}\"/>"
            f"<id>{link}</id><updated>{max(p.date for p in pages)}T08:00:00Z</updated>"
            f"<author><name>{escape(author)}</name></author>\n{entries}</feed>\n")


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


# --- the site --------------------------------------------------------------------------------------

def build() -> list[Page]:
    pages: list[Page] = []

    # Xinhua English: the seed story plus two short wire stories.
    s4 = seed("004_6501088a790da1e9.txt")
    title4, caption4 = s4[0], s4[1]
    body4 = [line for line in s4[2:] if line != "Related Articles"]
    p = Page("xinhua_english", "/xinhua_english/20240301/a1b2c3d4e5f6/c.html", title4, body4, "2024-03-01", "en",
             story="future-industries", chrome=list(XINHUA_CHROME))
    p.html = xinhua_page(p, ("a1b2c3d4e5f6_1", caption4))
    pages.append(p)
    for path, title, paras, date, story, caption in [
        ("/xinhua_english/20240304/0f1e2d3c4b5a/c.html", "High-speed railway to China-Vietnam border starts trial run",
         RAIL_STORY, "2024-03-04", "border-railway",
         "A bullet train runs on a bridge of the Nanning-Chongzuo high-speed railway in south China's Guangxi "
         "Zhuang Autonomous Region, March 4, 2024. (Xinhua)"),
        ("/xinhua_english/20240226/9a8b7c6d5e4f/c.html", "Automated terminal at Qingdao Port sets monthly record",
         PORT_STORY, "2024-02-26", "qingdao-port",
         "Automated guided vehicles carry containers at the automated terminal of Qingdao Port in Qingdao, east "
         "China's Shandong Province, Feb. 25, 2024. (Xinhua)"),
    ]:
        p = Page("xinhua_english", path, title, paras, date, "en", story=story, chrome=list(XINHUA_CHROME))
        p.html = xinhua_page(p, (path.split("/")[3] + "_1", caption))
        pages.append(p)

    # Economic Information Daily: seed (English), a Chinese story, one more.
    s1 = seed("001_f0a68b9a35df172c.txt")
    title1 = s1[2]
    body1 = between(s1, "Editor's note", "All text, pictures")
    p = Page("jjckb", "/jjckb/20231208/t20231208_1234567.htm", title1, body1, "2023-12-08", "en",
             story="new-quality-productivity", chrome=list(JJCKB_CHROME), encoding="gb18030")
    p.html = jjckb_page(p, zh=False, caption="Staff members monitor roads through the intelligent operation and "
                                             "maintenance platform in Beijing. (Photo by reporter Wang Zhe)")
    pages.append(p)
    p = Page("jjckb", "/jjckb/20240305/t20240305_2345678.htm", "科技创新开启“新质生产力”之门", ZH_STORY,
             "2024-03-05", "zh", story="new-quality-productivity-zh", chrome=list(JJCKB_CHROME_ZH),
             encoding="gb18030")
    p.html = jjckb_page(p, zh=True, caption="图为北京亦庄的自动驾驶测试车辆。（记者 王喆 摄）")
    pages.append(p)
    p = Page("jjckb", "/jjckb/20240312/t20240312_3456789.htm", "Zhejiang factories speed up automation",
             GUIDE_STORY, "2024-03-12", "en", story="zhejiang-robots", chrome=list(JJCKB_CHROME),
             encoding="gb18030")
    # The older template: charset declared the HTML4 way.
    p.html = jjckb_page(p, zh=False, caption="Industrial robots work on a production line in Ningbo, Zhejiang "
                                             "Province. (Photo by reporter Zhou Lin)",
                        charset='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    pages.append(p)

    # WordPress republisher: the portal article, a republished Xinhua story, one more.
    s0 = seed("000_aac39677a52c1865.txt")
    title0 = s0[1].split(" – Guangzhou Municipal")[0]
    body0 = [line for line in between(s0, "The Chinese high-quality", "You may also like")
             if not line.startswith("See also")]
    wp = [
        ("/gzgov_wordpress/2023/12/scientific-and-technological-innovation-stimulates-surging-power/", title0,
         body0, "2023-12-20", "first-line-observation", 5),
        ("/gzgov_wordpress/2024/03/china-revs-up-tech-savvy-industries/",
         "China revs up developing tech-savvy industries for a smarter future", body4, "2024-03-02",
         "future-industries", 4),
        ("/gzgov_wordpress/2024/02/guangzhou-basic-research/", "Guangzhou to boost basic research funding",
         WP_EXTRA, "2024-02-15", "guangzhou-research", 2),
    ]
    for n, (path, title, paras, date, story, see_also_after) in enumerate(wp):
        p = Page("gzgov_wordpress", path, title, paras, date, "en", author="admin", story=story,
                 chrome=list(WP_CHROME))
        p.html = wordpress_page(p, see_also_after, post_id=1200 + n)
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
             "2024-03-18", "zh", story="guangzhou-research-zh", chrome=list(PORTAL_CHROME), encoding="gb18030")
    p.html = portal_page(p, zh=True)  # GBK-compatible bytes; the page and the server name no charset
    pages.append(p)

    # Blog.
    s2 = seed("002_2d606fcfeee5bc6f.txt")
    blog = [Page("tech_blog", "/tech_blog/2021/06/china-quality-growth-through-innovation.html",
                 "China pursues quality growth through technology and innovation", s2[1:], "2021-06-10", "en",
                 story="quality-growth", chrome=list(BLOG_CHROME))]
    headings = {blog[0].path: {"What is quality growth?", "How to achieve high quality growth",
                               "Innovation and technological independence are key"}}
    for path, title, date, subheads, paras in BLOG_EXTRA:
        story = path.rsplit("/", 1)[-1].removesuffix(".html")
        blog.append(Page("tech_blog", path, title, paras, date, "en", story=story, chrome=list(BLOG_CHROME)))
        headings[path] = subheads
    for p in blog:
        p.html = blog_page(p, headings[p.path], blog)
    pages.extend(blog)

    # Content farm.
    s3 = seed("003_60908ebdad2d3680.txt")
    body3 = [line for line in s3 if line != "Read More:"]
    p = Page("contentfarm", "/contentfarm/2023/03/government-work-report-tech-priorities/",
             "China's 2023 Government Work Report puts tech self-reliance first", body3, "2023-03-06", "en",
             story="government-work-report", chrome=list(FARM_CHROME))
    p.html = farm_page(p)
    pages.append(p)
    for path, title, date, paras in FARM_EXTRA:
        p = Page("contentfarm", path, title, paras, date, "en", story=path.strip("/").rsplit("/", 1)[-1],
                 chrome=list(FARM_CHROME))
        p.html = farm_page(p)
        pages.append(p)
    return pages


# source -> (feed path under the source folder, format, channel title, language)
FEEDS = {
    "xinhua_english": ("feed.xml", "rss", "Xinhua English - China", "en"),
    "jjckb": ("atom.xml", "atom", "经济参考网", "zh"),
    "gzgov_wordpress": ("feed/index.xml", "wordpress", WP_SITE, "en"),
    "tech_blog": ("atom.xml", "atom", BLOG_SITE, "en"),
    "contentfarm": ("feed.xml", "rss", FARM_SITE, "en"),
}


def feed_text(source: str, pages: list[Page]) -> str:
    name, kind, title, language = FEEDS[source]
    link = f"{BASE}/{source}/"
    feed_url = f"{BASE}/{source}/{name.removesuffix('index.xml')}"
    newest_first = sorted(pages, key=lambda p: p.date, reverse=True)
    if kind == "wordpress":
        return wordpress_rss(title, link, feed_url, newest_first)
    if kind == "atom":
        return atom(title, link, feed_url, newest_first, author=title)
    return rss(title, link, feed_url, newest_first, language)


def page_file(root: Path, path: str) -> Path:
    target = root / path.lstrip("/")
    return target / "index.html" if path.endswith("/") else target


def manifest(pages: list[Page]) -> dict:
    starts = {s: f"/{s}/{name}" for s, (name, *_rest) in FEEDS.items()}
    starts.update({"gzgov_portal": "/gzgov_portal/news/",
                   "xinhua_english_sitemap": "/xinhua_english/sitemap_index.xml"})
    stories: dict[str, list[str]] = {}
    for p in pages:
        stories.setdefault(p.story, []).append(p.path)
    return {
        "placeholder": BASE,
        "feeds": starts,
        "stories": {story: paths for story, paths in stories.items() if len(paths) > 1},
        "pages": [
            {"source": p.source, "path": p.path, "url": p.url, "file": str(page_file(Path(), p.path)),
             "title": p.title, "author": p.author, "date": p.date, "language": p.language, "story": p.story,
             "encoding": p.encoding, "body_contains": _samples(p.paragraphs), "chrome_absent": p.chrome}
            for p in pages],
    }


def write(pages: list[Page], fixtures: bool = False) -> None:
    if SITE.exists():
        shutil.rmtree(SITE)
    for p in pages:
        target = page_file(SITE, p.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(p.html.encode(p.encoding))
    for source, (name, *_rest) in FEEDS.items():
        mine = [p for p in pages if p.source == source]
        (SITE / source / name).parent.mkdir(parents=True, exist_ok=True)
        (SITE / source / name).write_text(feed_text(source, mine), encoding="utf-8")
    portal = [p for p in pages if p.source == "gzgov_portal"]
    (SITE / "gzgov_portal" / "news" / "index.html").write_text(portal_listing(portal), encoding="utf-8")
    xinhua = [p for p in pages if p.source == "xinhua_english"]
    (SITE / "xinhua_english" / "news_sitemap.xml").write_text(news_sitemap(xinhua), encoding="utf-8")
    (SITE / "xinhua_english" / "sitemap_index.xml").write_text(sitemap_index(
        [("/xinhua_english/news_sitemap.xml", "2024-03-04"), ("/xinhua_english/archive_2019.xml", "2019-12-31")]),
        encoding="utf-8")
    (SITE / "robots.txt").write_text(ROBOTS, encoding="utf-8")
    (SITE / "manifest.json").write_text(json.dumps(manifest(pages), ensure_ascii=False, indent=1) + "\n",
                                        encoding="utf-8")
    if fixtures:
        write_fixtures(pages)


def write_fixtures(pages: list[Page]) -> None:
    """tests/fixtures/pages/<source>/<name>.html with the expected result beside it as <name>.json.

    Only fixtures that do not exist yet are written: the committed ones carry hand-checked
    expectations (outlet, captions) this generator does not know, and must not be overwritten."""
    for p in pages:
        folder = FIXTURES / p.source
        folder.mkdir(parents=True, exist_ok=True)
        name = [part for part in p.path.strip("/").split("/") if part not in ("index.html", "c.html")][-1]
        name = name.rsplit(".", 1)[0]
        if (folder / f"{name}.json").exists():
            continue
        (folder / f"{name}.html").write_bytes(p.html.encode(p.encoding))
        expected = {"url": p.url, "title": p.title, "author": p.author, "date": p.date, "language": p.language,
                    "encoding": p.encoding, "body_contains": p.paragraphs, "chrome_absent": p.chrome}
        (folder / f"{name}.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n",
                                             encoding="utf-8")


def _samples(paragraphs: list[str]) -> list[str]:
    """First, middle and last real sentences of the body (not sub-headings or labels such as
    "Editor's note"), topped up to three: extraction must keep each of them whole."""
    sentences = [p for p in paragraphs if len(p) >= 40 or (len(p) >= 20 and p.endswith("。"))] or paragraphs
    picks = list(dict.fromkeys([sentences[0], sentences[len(sentences) // 2], sentences[-1]]))
    for extra in sentences[1:] + paragraphs:
        if len(picks) >= 3:
            break
        if extra not in picks:
            picks.append(extra)
    return picks


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m replay.build_site", description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", action="store_true",
                        help="also write tests/fixtures/pages/<source>/<name>.html + .json")
    args = parser.parse_args()
    pages = build()
    write(pages, fixtures=args.fixtures)
    size = sum(f.stat().st_size for f in SITE.rglob("*") if f.is_file())
    print(f"wrote {len(pages)} article pages to {SITE} ({size // 1024} KB)")


if __name__ == "__main__":
    main()

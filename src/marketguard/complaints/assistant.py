"""Smart customer service (智能客服): find the help article that answers a consumer's question.

A pure module (no Django import): plain data in and out. The Django side seeds a help-article
table from :data:`DEFAULT_PATH` (:func:`load_articles`), builds one :class:`Index` per process
(about 50 ms) and, for each question, calls :func:`detect_intent` first (questions about the
consumer's own order, case or refund need their data or a person, not an article), then
:meth:`Index.search` (about 0.1 ms).

Retrieval
---------
BM25 (Okapi, ``k1`` = :data:`K1`, ``b`` = :data:`B`) over one bag of terms per article, in which
the titles count :data:`TITLE_WEIGHT` times, each keyword :data:`KEYWORD_WEIGHT` times and the
bodies once (a simple BM25F). Both languages live in the same bag: a Chinese question meets the
Chinese text, an English one the English text, a mixed one both.

Tokens (:func:`tokens`): NFKC (full-width letters, digits and punctuation become half-width),
case-folded; a few English question templates are dropped ("how does it work" is not about a
product that does not work) and :data:`SYNONYMS` map the words people use to one spelling
(卖家/店家 → 商家, shop/seller/store → merchant, 维权 → 投诉, 7天/七日 → 七天 ...). Chinese has no
spaces and no segmenter is installed, so each run of CJK characters gives its unigrams
(:data:`UNIGRAM_WEIGHT`), its bigrams and every longer known word it contains. Known words are
:data:`DOMAIN_WORDS`, the articles' Chinese keywords and the Chinese terms of the complaint triage
lexicon; a bigram that is not a known word weighs :data:`OTHER_BIGRAM_WEIGHT`, which keeps the
chance bigrams across two words ("了一", "作日") from deciding. Latin text gives words lightly
stemmed (plural ``s``/``es``/``ies``, ``ed``, ``ing``, final ``e``, a doubled final consonant:
``shipping`` → ``ship``, ``refunded`` → ``refund``). :data:`STOP_WORDS` are dropped.

Problem-type signal: the complaint triage lexicon (:data:`triage.DEFAULT_LEXICON`, curated on
1,000+ complaint texts, with negation) reads the question too; each problem type it finds adds
:data:`LEXICON_BOOST` per keyword weight (at most two) to the article of that type, when exactly
one article has it. It is what recognises "充不进电", "A货" or "knockoff" without listing them in
every article.

Confidence
----------
``Hit.confident`` says the first article may be given alone. All of:

* ``coverage`` >= :data:`MIN_COVERAGE`: the share of the question's information (IDF weight of
  its distinct terms; an unknown term weighs as much as the rarest known one) that the article
  contains. Questions about something else share a character or two with the articles but cover
  little of the question.
* ``score`` >= :data:`MIN_SCORE` (a floor on the raw score) and ``score`` >= :data:`MIN_MARGIN`
  times the second article's score;
* the question is not about a subject no article covers although it shares words with them
  (:data:`OFF_TOPIC`: account, coupons, invoices, changing the address, selling here ...).

Only the first hit can be confident. Scores are not probabilities and are not comparable across
questions; hits are sorted best first.

Measured (``data/assistant_eval.jsonl``, ``bench/assistant.py``)
----------------------------------------------------------------
586 questions (two thirds Chinese; colloquial, typos, mixed language) with the expected article
or intent, or marked unrelated, written in five batches. Each batch was scored once as written,
then used for tuning (keywords, synonyms, weights, thresholds):

====== ===== ===== ===== ============= ============= =================== ===============
batch  n     top-1 top-3 confident ok  confident bad unrelated confident intent P / R
====== ===== ===== ===== ============= ============= =================== ===============
dev    171   0.93  0.99  0.52          0.02          0/20                0.92 / 1.00
heldout 91   0.88  0.97  0.62          0.04          1/10                1.00 / 1.00
fresh   75   0.56  0.90  0.12          0.04          1/12                1.00 / 0.69
fresh2 115   0.75  0.89  0.44          0.08          0/15                0.92 / 0.73
fresh3 134   0.75  0.95  0.39          0.02          0/15                1.00 / 0.94
====== ===== ===== ===== ============= ============= =================== ===============

(top-1, top-3 and the confident shares are over the questions that have an article; the
thresholds then in use were laxer until ``fresh2``, whose 0.08 confident-and-wrong led to the
margin of 1.5.) So on text it has not seen, expect about three questions in four to get the
right article first, nine in ten within the first three, and about 40 % to be answered
confidently, about one in twenty of those wrongly (``fresh3``: 2 of 42). After tuning, over all
586: top-1 0.92, top-3 0.99, confident 0.60 (0.005 wrong), no unrelated question confident,
intents precision 1.00 and recall 0.99 (in-sample; the tests pin floors just below these and
below the ``fresh3`` figures). One author wrote the articles and every question: real traffic will score
lower. Plain BM25 beat TF-IDF over character 1-3-grams with cosine similarity (scikit-learn) on
the first batch (top-1 0.93 vs 0.90) and needs no import.

Intents
-------
:func:`detect_intent` recognises, with precise rules, questions that need the consumer's own
data: where the parcel is (``order_status``), whether *this order* can still be returned without
a reason (``no_reason_return``), the progress of their case (``case_status``), where their refund
is (``refund_status``), a person (``human``) and a bare greeting (``greeting``). General questions
on the same subjects ("七天无理由退货的规则是什么", "退款一般多久到账", "人工客服几点上班") are
left to the articles: when in doubt it returns ``None``.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from marketguard.complaints import triage
from marketguard.complaints.triage import KINDS, PROBLEM_TYPES

__all__ = [
    "B",
    "DEFAULT_PATH",
    "INTENTS",
    "K1",
    "LEXICON_BOOST",
    "SYNONYMS",
    "KEYWORD_WEIGHT",
    "MIN_COVERAGE",
    "MIN_MARGIN",
    "MIN_SCORE",
    "OFF_TOPIC",
    "OTHER_BIGRAM_WEIGHT",
    "DOMAIN_WORDS",
    "STOP_WORDS",
    "TITLE_WEIGHT",
    "UNIGRAM_WEIGHT",
    "Article",
    "Hit",
    "Index",
    "Intent",
    "detect_intent",
    "evaluate",
    "load_articles",
    "normalise",
    "tokens",
]

DEFAULT_PATH: Path = Path(__file__).resolve().parent / "data" / "help_articles.json"

# --------------------------------------------------------------------------- tuning (measured)
K1 = 1.5
B = 0.75
TITLE_WEIGHT = 2.0
KEYWORD_WEIGHT = 3.0
UNIGRAM_WEIGHT = 0.3
MIN_COVERAGE = 0.35
MIN_SCORE = 8.0
MIN_MARGIN = 1.5
#: Added to the article of a problem type per (weighted) keyword of that type that the complaint
#: triage lexicon finds in the question (see :func:`_type_signal`).
LEXICON_BOOST = 2.0

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Article:
    slug: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    #: Extra words and phrases people use (Chinese and English), boosted in the search.
    keywords: tuple[str, ...] = ()
    #: A complaints ProblemType value when the topic maps to one (e.g. "quality").
    problem_type: str | None = None
    #: A CaseKind value when the topic maps to one (e.g. "return_refund").
    kind: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.slug, str) or not _SLUG.match(self.slug):
            raise ValueError(f"slug: expected lower-case words joined by '-', got {self.slug!r}")
        for name in ("title_zh", "title_en", "body_zh", "body_en"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{self.slug}.{name}: required")
        if isinstance(self.keywords, str):
            raise ValueError(f"{self.slug}.keywords: expected a list of phrases, got a string")
        keywords = tuple(self.keywords)
        if not all(isinstance(k, str) and k.strip() for k in keywords):
            raise ValueError(f"{self.slug}.keywords: expected non-empty strings")
        object.__setattr__(self, "keywords", keywords)
        if self.problem_type is not None and self.problem_type not in PROBLEM_TYPES:
            raise ValueError(f"{self.slug}.problem_type: unknown value {self.problem_type!r}")
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"{self.slug}.kind: unknown value {self.kind!r}")

    def title(self, language: str) -> str:
        return self.title_zh if language.lower().startswith("zh") else self.title_en

    def body(self, language: str) -> str:
        return self.body_zh if language.lower().startswith("zh") else self.body_en

    def to_dict(self) -> dict:
        return {
            "slug": self.slug,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "body_zh": self.body_zh,
            "body_en": self.body_en,
            "keywords": list(self.keywords),
            "problem_type": self.problem_type,
            "kind": self.kind,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        known = {"slug", "title_zh", "title_en", "body_zh", "body_en", "keywords", "problem_type", "kind"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{data.get('slug', '?')}: unknown field(s) {sorted(unknown)}")
        return cls(
            slug=data.get("slug"),
            title_zh=data.get("title_zh"),
            title_en=data.get("title_en"),
            body_zh=data.get("body_zh"),
            body_en=data.get("body_en"),
            keywords=tuple(data.get("keywords") or ()),
            problem_type=data.get("problem_type"),
            kind=data.get("kind"),
        )


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float
    #: Good enough to answer with this article alone.
    confident: bool


def load_articles(path: str | Path = DEFAULT_PATH) -> list[Article]:
    """The articles of a JSON file: a list of objects with the fields of :class:`Article`.
    Raises ``ValueError`` naming the article and field that is wrong, or a duplicate slug."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError("help articles: expected a JSON list of articles")
    articles = [Article.from_dict(item) for item in data]
    seen: set[str] = set()
    for article in articles:
        if article.slug in seen:
            raise ValueError(f"{article.slug}: duplicate slug")
        seen.add(article.slug)
    return articles


# --------------------------------------------------------------------------- tokens
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:'[a-z]+)?")
_IS_CJK = re.compile(rf"[{_CJK}]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Function words dropped from questions and articles: English words, Chinese characters (as
#: unigrams) and Chinese bigrams that carry no topic.
STOP_WORDS: frozenset[str] = _words(
    """
    a an the i me my mine we our you your it its this that these those he she they them
    is are was were be been being am do does did doing have has had having
    to of in on at for from by with about as into than then so and or but if
    can could would should will shall may might must
    what which who whom whose when where why how there here
    please pls hi hello hey thank thanks ok okay just still also very really too
    im ive id
    的 了 吗 呢 吧 啊 呀 哦 嘛 么 我 你 您 他 她 它 们 是 在 和 与 就 都 也 还 又 着 过 给 把 被 让 这 那 个 些 吧 哈
    我要 我想 想问 问一 什么 怎么 怎样 怎么样 为什么 可以 可不 不可 一下 我的 你们 我们 这个 那个 一个 请问 有没 没有 是不 不是 能不 是否 如果
    """
)


#: Words people use for the same thing, mapped to one spelling before tokenising (questions and
#: articles alike). Keys are regular expressions on normalised text.
SYNONYMS: dict[str, str] = {
    r"卖家|店家|商户|店铺|掌柜|店主": "商家",
    r"\b(?:sellers?|shops?|stores?|vendors?|merchants?)\b": "merchant",
    r"维权": "投诉",
    r"\b(?:lodge|raise|submit|make)\b(?= (?:a |an |my )?(?:complaint|claim|request))": "file",
    r"退钱|钱退": "退款",
    r"\bcustomer (?:support|care)\b|\bsupport team\b": "customer service",
    r"\bget involved\b|\binvolve\b": "step in",
    r"\bfeedback\b": "rating",
    r"快递单号|物流单号|运单号码": "运单号",
    r"\btracking (?:no|code|id)\b": "tracking number",
    r"\be-?mails?\b": "email",
    r"[7七]\s*[天日]": "七天",
    r"\b7[- ]?days?\b|\bseven[- ]days?\b": "7day",
}
_SYNONYMS = [(re.compile(k), v) for k, v in SYNONYMS.items()]


#: English question templates that carry no topic ("how does it work" is not about a product
#: that does not work): removed before tokenising.
_TEMPLATES = re.compile(
    r"\bhow (?:does|do|will) (?:it|this|that) work\b|\bwhat (?:happens|can i do|should i do|are my options)\b|"
    r"\bwhat do i do\b|\bis there a way to\b"
)


def _canonical(text: str) -> str:
    text = _TEMPLATES.sub(" ", text)
    for pattern, replacement in _SYNONYMS:
        text = pattern.sub(replacement, text)
    return text


def normalise(text: str) -> str:
    """NFKC, case-folded, curly quotes straightened, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def _stem(word: str) -> str:
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


#: Chinese words of the domain, besides the articles' keywords and the triage lexicon: a
#: bigram that is a known word weighs 1, any other bigram :data:`OTHER_BIGRAM_WEIGHT`.
DOMAIN_WORDS: frozenset[str] = _words(
    """
    商家 平台 客服 人工 投诉 售后 申请 案件 订单 商品 东西 退款 退货 换货 维修 赔偿 补发 运费 快递 物流 包裹
    签收 收货 发货 寄回 单号 运单号 材料 证据 照片 视频 上传 质量 尺码 假货 宣传 描述 安全 受伤 隐私 手机号
    地址 邮件 邮箱 电话 热线 时间 工作日 节假日 周末 小时 多久 几天 到账 原路 金额 部分 判定 申诉 介入 仲裁
    执行 评价 关闭 结案 撤销 进度 状态 编号 完好 吊牌 包装 拆封 激活 定制 生鲜 期限 规则 处理 协商 方案 拒绝
    同意 答复 回复 回应 确认 超时 失效 承担 自己 商家承担
    """
)
OTHER_BIGRAM_WEIGHT = 0.35
_MAX_WORD = 8


def _vocabulary(articles: Iterable[Article] = ()) -> frozenset[str]:
    """Chinese words (two characters or more) known to the index: :data:`DOMAIN_WORDS`, the
    Chinese parts of the articles' keywords and the literal Chinese terms of the triage lexicon."""
    words = set(DOMAIN_WORDS)
    runs = [a for lang in triage.KEYWORDS.values() for a in lang.get("zh", ()) if not a.startswith("re:")]
    runs += [k for a in articles for k in a.keywords]
    for phrase in runs:
        for run in _CJK_RUN.findall(_canonical(normalise(phrase.replace("*", "").replace("~", " ")))):
            if 2 <= len(run) <= _MAX_WORD:
                words.add(run)
    return frozenset(words)


_CJK_RUN = re.compile(rf"[{_CJK}]+")


def tokens(text: str, vocabulary: frozenset[str] | None = None) -> list[tuple[str, float]]:
    """The weighted terms of ``text``: ``(term, weight)`` in order, stop words dropped.

    Chinese runs give their unigrams (:data:`UNIGRAM_WEIGHT`), their bigrams (1 when the bigram
    is in ``vocabulary`` or no vocabulary is given, else :data:`OTHER_BIGRAM_WEIGHT`) and every
    longer ``vocabulary`` word they contain (1). Latin text gives stemmed words (1)."""
    out: list[tuple[str, float]] = []
    for match in _TOKEN.finditer(_canonical(normalise(text))):
        piece = match.group()
        if _IS_CJK.match(piece):
            for i, char in enumerate(piece):
                if char not in STOP_WORDS:
                    out.append((char, UNIGRAM_WEIGHT))
                if i + 1 < len(piece):
                    pair = piece[i : i + 2]
                    if pair not in STOP_WORDS and not (pair[0] in STOP_WORDS and pair[1] in STOP_WORDS):
                        known = vocabulary is None or pair in vocabulary
                        out.append((pair, 1.0 if known else OTHER_BIGRAM_WEIGHT))
                if vocabulary:
                    for j in range(i + 3, min(len(piece), i + _MAX_WORD) + 1):
                        word = piece[i:j]
                        if word in vocabulary:
                            out.append((word, 1.0))
        elif piece not in STOP_WORDS:
            stem = _stem(piece)
            if stem and stem not in STOP_WORDS:
                out.append((stem, 1.0))
    return out


def _bag(text: str, weight: float = 1.0, vocabulary: frozenset[str] | None = None) -> Counter:
    bag: Counter = Counter()
    for term, w in tokens(text, vocabulary):
        bag[term] += w * weight
    return bag


#: Subjects the help articles do not cover although they share words with them (account,
#: pre-sales, order changes, promotions, selling on the platform): never answered confidently.
OFF_TOPIC = re.compile(
    r"修改(?:收货)?地址|改(?:一下)?地址|收货地址|优惠券|红包|发票|密码|登录|登陆|注册|账号|入驻|开店|"
    r"有货|有没有货|库存|分期|会员|积分|保价|降价|"
    r"\b(?:password|log ?in|sign ?up|register|coupons?|vouchers?|promo codes?|discount codes?|invoices?|"
    r"in stock|installments?|become an? (?:seller|merchant)|open an? (?:shop|store)|"
    r"change (?:my |the )?(?:shipping |delivery )?address|(?:create|delete|close) (?:an?|my) account)\b"
)


def _type_signal(question: str) -> dict[str, float]:
    """Problem types the complaint triage lexicon (:data:`triage.DEFAULT_LEXICON`, curated on
    1,000+ complaint texts) sees in the question: per type, the weights of its distinct
    non-negated keywords, at most 2."""
    seen: dict[str, dict[str, float]] = {}
    for hit in triage.DEFAULT_LEXICON.hits(triage.normalise(question)):
        if not hit.negated:
            seen.setdefault(hit.problem_type, {})[hit.term] = hit.weight
    return {t: min(2.0, sum(terms.values())) for t, terms in seen.items()}


# --------------------------------------------------------------------------- index
class Index:
    """BM25 over the articles. Build once (a few milliseconds for a few dozen articles), search
    many times; immutable and safe to share between threads."""

    def __init__(
        self,
        articles: Sequence[Article],
        docs: list[dict[str, float]],
        idf: dict[str, float],
        avg_len: float,
        vocabulary: frozenset[str] = frozenset(),
    ) -> None:
        self.articles: tuple[Article, ...] = tuple(articles)
        self.vocabulary = vocabulary
        self._docs = docs
        self._lens = [sum(d.values()) for d in docs]
        self._idf = idf
        self._avg_len = avg_len or 1.0
        self._unknown_idf = max(idf.values(), default=1.0)
        postings: dict[str, list[tuple[int, float]]] = {}
        for i, doc in enumerate(docs):
            for term, tf in doc.items():
                postings.setdefault(term, []).append((i, tf))
        self._postings = postings
        # A problem type boosts its article only when exactly one article has that type.
        by_type: dict[str, list[int]] = {}
        for i, article in enumerate(self.articles):
            if article.problem_type:
                by_type.setdefault(article.problem_type, []).append(i)
        self._type_article = {t: ids[0] for t, ids in by_type.items() if len(ids) == 1}

    @classmethod
    def build(cls, articles: Sequence[Article]) -> Index:
        articles = list(articles)
        slugs = [a.slug for a in articles]
        if len(slugs) != len(set(slugs)):
            raise ValueError("articles: duplicate slug")
        vocabulary = _vocabulary(articles)
        docs: list[dict[str, float]] = []
        for a in articles:
            bag = _bag(a.title_zh, TITLE_WEIGHT, vocabulary) + _bag(a.title_en, TITLE_WEIGHT, vocabulary)
            bag += _bag(a.body_zh, 1.0, vocabulary) + _bag(a.body_en, 1.0, vocabulary)
            for phrase in a.keywords:
                bag += _bag(phrase, KEYWORD_WEIGHT, vocabulary)
            docs.append(dict(bag))
        n = len(docs)
        df: Counter = Counter()
        for doc in docs:
            df.update(doc.keys())
        idf = {term: math.log(1 + (n - k + 0.5) / (k + 0.5)) for term, k in df.items()}
        avg_len = sum(sum(d.values()) for d in docs) / n if n else 1.0
        return cls(articles, docs, idf, avg_len, vocabulary)

    def _query(self, question: str) -> dict[str, float]:
        query: dict[str, float] = {}
        for term, w in tokens(question, self.vocabulary):
            query[term] = max(query.get(term, 0.0), w)  # distinct terms
        return query

    def scores(self, question: str) -> tuple[list[float], list[float]]:
        """Per article: the BM25 score and the coverage of the question (see the module doc)."""
        query = self._query(question)
        n = len(self.articles)
        scores = [0.0] * n
        covered = [0.0] * n
        total = 0.0
        for term, qw in query.items():
            idf = self._idf.get(term)
            total += qw * (idf if idf is not None else self._unknown_idf)
            if idf is None:
                continue
            for i, tf in self._postings[term]:
                norm = K1 * (1 - B + B * self._lens[i] / self._avg_len)
                scores[i] += qw * idf * tf * (K1 + 1) / (tf + norm)
                covered[i] += qw * idf
        coverage = [c / total if total else 0.0 for c in covered]
        if LEXICON_BOOST and scores and any(scores):
            for problem_type, weight in _type_signal(question).items():
                i = self._type_article.get(problem_type)
                if i is not None:
                    scores[i] += LEXICON_BOOST * weight
        return scores, coverage

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """The ``k`` best articles, best first; ``[]`` when no article shares a term with the
        question. Only the first hit can be ``confident``."""
        if not isinstance(question, str) or k <= 0 or not self.articles:
            return []
        scores, coverage = self.scores(question)
        order = sorted((i for i, s in enumerate(scores) if s > 0), key=lambda i: (-scores[i], i))
        if not order:
            return []
        top = order[0]
        second = scores[order[1]] if len(order) > 1 else 0.0
        confident = (
            not OFF_TOPIC.search(normalise(question))
            and coverage[top] >= MIN_COVERAGE
            and scores[top] >= MIN_SCORE
            and scores[top] >= MIN_MARGIN * second
        )
        return [
            Hit(article=self.articles[i], score=round(scores[i], 6), confident=confident and i == top)
            for i in order[:k]
        ]

    def explain(self, question: str) -> dict:
        """The figures behind a search, for tuning and for agents: terms, top score, second
        score, coverage of the top article."""
        scores, coverage = self.scores(question)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        top = order[0] if order else None
        return {
            "terms": self._query(question),
            "top": self.articles[top].slug if top is not None and scores[top] > 0 else None,
            "score": scores[top] if top is not None else 0.0,
            "second": scores[order[1]] if len(order) > 1 else 0.0,
            "coverage": coverage[top] if top is not None else 0.0,
        }


# --------------------------------------------------------------------------- intents
Intent = Literal["order_status", "no_reason_return", "case_status", "refund_status", "human", "greeting"]
INTENTS: tuple[str, ...] = (
    "order_status",
    "no_reason_return",
    "case_status",
    "refund_status",
    "human",
    "greeting",
)


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


# Within one clause: no sentence punctuation in between.
_GAP = r"[^,.!?;，。！？；]{0,%d}"

_HUMAN = _rx(
    r"转人工|人工(?!智能|费|成本|合成|造)|真人|活人|(?:跟|和|找)(?:个)?(?:真)?人(?:说话|聊|沟通|对话)|"
    r"(?:不要|别让?|不想(?:跟|和)?)机器人|机器人(?:听不懂|没用|答非所问)|找(?:个|一个)?客服人员|客服人员(?:来|呢|在哪)",
    r"\b(?:human|real person|live (?:agent|person|chat)|(?:an|a real|real|live|human) agent|representative|"
    r"operator|(?:speak|talk|chat) (?:to|with) (?:someone|somebody|a person|a human|staff|an? agent|a rep))\b",
)
#: Questions *about* agents (hours, holidays) are general: an article answers them.
_HUMAN_ABOUT = _rx(
    r"几点|时间|上班|下班|营业|周末|节假日|假期|晚上|半夜|什么时候|多久",
    r"\b(?:hours?|open|opening|available|availability|when|weekends?|holidays?|night|time)\b",
)

_OWN_PURCHASE = (
    r"我这(?:个|件|单|双|条|台|款|份)|这个订单|这(?:一)?单|我的订单|我(?:刚|刚刚|昨天|前天|今天|上周|上个月|前几天|之前)?买的|"
    r"\b(?:my|this) (?:order|item|purchase|parcel|package)\b|\bthe (?:item|thing)s? i (?:bought|ordered)\b"
)
_ORDER_NOUN = r"快递|物流|包裹|货|东西|订单|单子|下的单|parcel|package|order|delivery"
_ORDER_STATUS = _rx(
    rf"(?:{_ORDER_NOUN}){_GAP % 6}(?:到哪|在哪|到了没|到没到|什么时候(?:能)?到|啥时候(?:能)?到|几时到|"
    r"什么时候(?:能|才能)?发货|啥时候(?:能)?发货|发货了没|发了没|发货没|发出了吗|发货了吗)",
    rf"查(?:一下|一查|下)?{_GAP % 3}(?:物流|快递|包裹|订单)",
    r"(?:^|[,.!?;，。！？；\s])(?:现在)?(?:到哪|在哪)(?:里|儿)?了",
    rf"(?:{_OWN_PURCHASE}){_GAP % 8}(?:发货|发出|寄出)了(?:吗|没)",
    rf"(?:{_ORDER_NOUN}){_GAP % 4}(?:发货|发出)了没",
    r"\bwhere(?:'s| is| are)? my (?:parcel|package|order|delivery|item|stuff|shipment)\b",
    r"\btrack(?:ing)? (?:my|the) (?:order|package|parcel|delivery|shipment)\b",
    r"\b(?:has|have|did) my (?:order|package|parcel|item)s? (?:been )?(?:ship|sent|dispatch|arriv)",
    r"\bwhen (?:will|does|is) my (?:order|package|parcel|delivery|item)\b",
    r"\border status\b",
)
#: How-to and complaint wording: the logistics article answers these.
_ORDER_ABOUT = _rx(
    r"怎么办|投诉|可以吗|规定|一般|通常|延误|赔|单号|在哪(?:里|儿)?(?:填|看|查|输入|写|改)|怎么查|如何查",
    r"\b(?:complain|usually|normally|policy|late)\b",
)

_NO_REASON = _rx(
    rf"(?:{_OWN_PURCHASE}){_GAP % 12}(?:还能|能不能|可不可以|可以|能否|还可以|能){_GAP % 8}(?:无理由|退)",
    rf"(?:{_OWN_PURCHASE}){_GAP % 12}(?:七天|7天|七日|7日)?无理由(?:吗|么|不|没)",
    r"\b(?:can|could|may) i (?:still )?(?:return|send back) (?:my|this) (?:order|item|purchase)\b",
    r"\b(?:return|send back|send it back) (?:the|my|this) (?:item|thing|order|purchase|stuff)s? i (?:bought|ordered|got)\b",
    r"\bis (?:my|this) (?:order|item|purchase) (?:still )?(?:eligible|returnable)\b",
    r"\b(?:my|this) (?:order|item|purchase) (?:is )?(?:still )?(?:eligible|returnable)\b",
)
_NO_REASON_ABOUT = _rx(
    r"规则|政策|规定|哪些|什么样|什么是|什么叫|怎么算", r"\b(?:policy|rules?|which items)\b"
)

_CASE_NOUN = r"投诉|案件|案子|工单|售后申请|申请"
_CASE_STATUS = _rx(
    rf"(?:{_CASE_NOUN}){_GAP % 4}(?:进度|进展|处理到|处理得怎么样|处理的怎么样|怎么样了|咋样了|什么情况|有结果了|有结果没|有没有结果|"
    r"结果出来|到哪一步|到哪步|到什么程度|什么状态|状态)",
    r"我投诉的" + _GAP % 10 + r"(?:怎么样了|处理|结果|进度)",
    r"\bcs\d{14}\b",
    r"\b(?:status|progress|update|news)s? (?:of|on|for|about) (?:my|the) (?:complaint|case|claim|request|dispute)\b",
    r"\bmy (?:complaint|case|claim|dispute)(?:'s)? (?:status|progress)\b",
    r"\bwhat(?:'s| is) happening with my (?:complaint|case|claim)\b",
)
_CASE_ABOUT = _rx(
    r"什么意思|是什么|怎么看|在哪看|在哪里看|哪里查|在哪里查|一般|通常|多久",
    r"\b(?:mean|means|usually|how long)\b",
)

_REFUND_STATUS = _rx(
    rf"(?:退款|钱|退的款){_GAP % 4}(?:什么时候到|啥时候到|到哪(?:里|儿)?了|到账了(?:吗|没)|到账没|到了没|到了吗|"
    r"还没到|怎么还没|还没退|退了吗|退了没|没收到|没到账|进度)",
    r"我的退款",
    r"\bwhere(?:'s| is) my (?:refund|money)\b",
    r"\b(?:haven't|have not|havent|didn't|did not|never|not yet) (?:received|got|gotten|get|seen) (?:my|the|a|any) refund\b",
    r"\brefund status\b|\bstatus of my refund\b",
    r"\bmy refund (?:has ?n[o']t|hasnt|is (?:late|missing)|still|never)\b",
    r"\brefund (?:not|hasn't been|has not been|wasn't|was not|never) (?:received|credited|paid|arrived)\b",
    r"\bwhen (?:will|do) i get my (?:refund|money)\b",
)
_REFUND_ABOUT = _rx(r"一般|通常|规则|规定|原路|退到哪里", r"\b(?:usually|normally|policy|typically)\b")

_GREETING_WORDS = re.compile(
    r"你好|您好|哈喽|哈啰|嗨|喂|在吗|在不在|有人吗|有人在吗|有人在不|早上好|中午好|下午好|晚上好|早安|亲|客服|请问|"
    r"\b(?:hello|hi|hey|hiya|yo|good (?:morning|afternoon|evening)|greetings|anyone there|is anyone there|"
    r"anybody there|there|are you there|customer service)\b"
)
_FILLER = re.compile(r"[\s\W_]+|[啊呀哦呢嘛吗么哈]")


def detect_intent(question: str) -> Intent | None:
    """The consumer's intent when the question needs their own data or a person, else ``None``.

    Order: a human, then the own case, refund, no-reason return for this order, order status,
    and a bare greeting last (a greeting followed by a question is the question)."""
    if not isinstance(question, str):
        return None
    text = normalise(question)
    if not text:
        return None
    if _HUMAN.search(text) and not _HUMAN_ABOUT.search(text):
        return "human"
    if _CASE_STATUS.search(text) and not _CASE_ABOUT.search(text):
        return "case_status"
    if _REFUND_STATUS.search(text) and not _REFUND_ABOUT.search(text):
        return "refund_status"
    if _NO_REASON.search(text) and not _NO_REASON_ABOUT.search(text):
        return "no_reason_return"
    if _ORDER_STATUS.search(text) and not _ORDER_ABOUT.search(text):
        return "order_status"
    if _GREETING_WORDS.search(text) and not _FILLER.sub("", _GREETING_WORDS.sub("", text)):
        return "greeting"
    return None


def evaluate(index: Index, rows: Iterable[dict]) -> dict:
    """Quality figures on labelled rows (``question``, ``slug`` or null, ``intent`` or null,
    ``unrelated``): top-1 and top-3 accuracy on rows with a slug, confident-and-right and
    confident-and-wrong among them, false confidence on unrelated rows, intent precision and
    recall (micro, over rows with a predicted or expected intent)."""
    rows = list(rows)
    answerable = [r for r in rows if r.get("slug")]
    unrelated = [r for r in rows if r.get("unrelated")]
    top1 = top3 = conf_right = conf_wrong = 0
    misses: list[tuple[str, str, str | None]] = []
    for r in answerable:
        hits = index.search(r["question"], k=3)
        slugs = [h.article.slug for h in hits]
        if slugs[:1] == [r["slug"]]:
            top1 += 1
        else:
            misses.append((r["question"], r["slug"], slugs[0] if slugs else None))
        if r["slug"] in slugs:
            top3 += 1
        if hits and hits[0].confident:
            if slugs[0] == r["slug"]:
                conf_right += 1
            else:
                conf_wrong += 1
    false_conf = [r["question"] for r in unrelated if any(h.confident for h in index.search(r["question"]))]
    tp = fp = fn = 0
    intent_errors: list[tuple[str, str | None, str | None]] = []
    for r in rows:
        got, want = detect_intent(r["question"]), r.get("intent")
        if got is not None and got == want:
            tp += 1
        else:
            if got is not None:
                fp += 1
            if want is not None:
                fn += 1
            if got != want:
                intent_errors.append((r["question"], want, got))
    n = len(answerable) or 1
    return {
        "answerable": len(answerable),
        "top1": top1 / n,
        "top3": top3 / n,
        "confident_right": conf_right / n,
        "confident_wrong": conf_wrong / n,
        "unrelated": len(unrelated),
        "unrelated_confident": false_conf,
        "intent_precision": tp / (tp + fp) if tp + fp else 1.0,
        "intent_recall": tp / (tp + fn) if tp + fn else 1.0,
        "misses": misses,
        "intent_errors": intent_errors,
    }

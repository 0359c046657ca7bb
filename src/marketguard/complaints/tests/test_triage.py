"""Triage: problem type, safety flag and priority from complaint text (pure, no database)."""

import json
import re
import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketguard.complaints.classifier import Prediction, default_classifier
from marketguard.complaints.triage import (
    CLASSIFIER_MIN_CONFIDENCE,
    CLASSIFIER_OVERRIDE,
    CLASSIFIER_SAFETY_THRESHOLD,
    EVAL_PATH,
    PRIORITIES,
    PROBLEM_TYPES,
    Lexicon,
    ReasonCode,
    TriageRules,
    _term_pattern,
    evaluate,
    normalise,
    raise_priority,
    triage,
)


def codes(result):
    return [str(r.code) for r in result.reasons]


# --------------------------------------------------------------------------- safety and negation
@pytest.mark.parametrize(
    "text",
    [
        "充电宝用了不到三天就起火了",
        "无线充电器起火了",  # 无 inside 无线 is not a negation
        "电池不合格导致起火",  # 不 of 不合格 does not reach 起火
        "没想到会爆炸",
        "孩子的手指被划伤了，流了很多血",
        "The kettle caught fire on the first use",
        "My son got an electric shock from the lamp",
        "She had an allergic reaction and a rash all over",
        "ＴＨＥ ＰＬＵＧ ＢＵＲＮＥＤ ＭＹ ＨＡＮＤ",  # full-width, upper case
        "没有起火，但是冒烟了",  # first keyword negated, second not
        "It did not explode, but it burned my fingers",
        "I'm not allergic to anything but this lotion gave me a rash",
    ],
)
def test_personal_safety_signals_give_p1(text):
    result = triage(text)
    assert result.safety is True
    assert result.problem_type == "safety"
    assert result.priority == "P1"
    assert ReasonCode.SAFETY_KEYWORD in codes(result)


@pytest.mark.parametrize(
    "text, negated",
    [
        ("没有起火，就是不制热", "起火"),
        ("宝宝用了未过敏，就是味道太冲", "过敏"),
        ("并没有发生爆炸，只是电池鼓包", "爆炸"),
        ("还好没有人受伤，椅子腿断了", "受伤"),
        ("没有着火也没有冒烟，但是开机就断电", "冒烟"),
        ("There was no fire, the blender just died", "fire"),
        ("It didn't catch fire, but it stopped working", "catch fire"),
        ("Nobody was injured, the handle snapped off", "injured"),
        ("No fire or smoke, the motor just stopped", "smoke"),
        ("there was no sign of burning, the fan won't turn on", "burning"),
    ],
)
def test_negated_safety_words_are_not_safety(text, negated):
    result = triage(text)
    assert result.safety is False
    assert result.priority != "P1"
    assert negated in result.negated
    assert {"code": "NEGATED_KEYWORD", "params": {"keyword": negated}} in [
        r.to_dict() for r in result.reasons
    ]


@pytest.mark.parametrize(
    "text",
    [
        "手机屏幕收到就有一道划伤",  # scratch on a screen, no body word
        "Ordered the Kindle Fire cover, the seam is torn",
        "The smoke detector never beeps",
        "OLED screen burn-in after a month",
        "These sneakers hurt my feet, half a size too small",  # a fit problem
        "防爆暖手宝漏液了",
    ],
)
def test_look_alikes_are_not_safety(text):
    assert triage(text).safety is False


def test_scratch_on_goods_counts_as_quality():
    result = triage("手机屏幕收到就有一道划伤")
    assert result.problem_type == "quality"
    assert "划伤" in result.matched


@pytest.mark.parametrize(
    "text, keyword",
    [
        ("The desk lamp shocks me every time I touch the metal switch.", "shocks me"),
        ("The extension cord shocks you if you touch the socket.", "shocks you"),
        ("The toaster keeps shocking me when I pull the lever", "shocking me"),
        ("开箱时我被划伤", "划伤"),  # 我 as the one harmed, no body part named
        ("我被包装里的刀片划伤了", "划伤"),
        ("拆的时候不小心把自己划伤了", "划伤"),
        ("盒子边缘很锋利，划伤了我", "划伤"),
    ],
)
def test_shock_to_a_person_and_the_speaker_cut_are_safety(text, keyword):
    for classifier in (None, default_classifier()):  # the rules alone already flag them
        result = triage(text, classifier=classifier)
        assert (result.safety, result.problem_type, result.priority) == (True, "safety", "P1")
        assert {"code": "SAFETY_KEYWORD", "params": {"keyword": keyword}} in [
            r.to_dict() for r in result.reasons
        ]


@pytest.mark.parametrize(
    "text",
    [
        "屏幕划伤了",
        "the screen is scratched",
        "表面有划痕",
        "我买的手机屏幕划伤了",  # 我 alone is not a person near the harm word
        "我给朋友买的手机屏幕划伤了",
        "划伤了我新买的桌子",
        "我被告知屏幕划伤不能退",
        "the price is shocking",
        "shocking service, nobody answers",
        "It shocks me that you sell this junk",
        "It doesn't shock you, the switch is just loose",
        "no one was shocked, but the plug is loose",
        "没有触电，就是插头松了",
        "开箱时我没有被划伤，但屏幕划伤了",
        "The lamp never shocked me, but the switch is loose",
    ],
)
def test_scratched_goods_and_figurative_shock_are_not_safety(text):
    for classifier in (None, default_classifier()):
        result = triage(text, classifier=classifier)
        assert result.safety is False, (text, codes(result))
        assert result.priority != "P1"


@pytest.mark.parametrize("classifier", [None, "shipped"])
def test_my_phone_scratched_is_not_safety(classifier):
    # 我的手机被划伤: the phone is the one harmed. The shipped model learnt 划伤 from injuries
    # (alone it gives this text a safety probability of 0.52): it is asked again without the
    # word the rules judged to be about a thing, and the case is not a false P1.
    model = None if classifier is None else default_classifier()
    result = triage("我的手机被划伤了", classifier=model)
    assert (result.safety, result.problem_type, result.priority) == (False, "quality", "P3")
    if model is not None:
        assert model.predict("我的手机被划伤了").probabilities["safety"] >= 0.5  # what it guarded


@pytest.mark.parametrize(
    "text",
    [
        "孩子的手指被划伤了",
        "拆快递的时候被划伤了，流了好多血",  # 划伤 about nobody named; the bleeding says who
        "我被划伤了",
    ],
)
def test_a_cut_person_is_still_safety_with_the_shipped_model(text):
    result = triage(text, classifier=default_classifier())
    assert result.safety is True and result.priority == "P1"


@pytest.mark.parametrize(
    "text, negated",
    [
        ("The lamp never shocks me, the switch is just loose", "shocks me"),
        ("我没有被划伤，就是盒子破了", "划伤"),
    ],
)
def test_negated_shock_and_cut_are_not_safety(text, negated):
    result = triage(text)
    assert result.safety is False
    assert negated in result.negated


# --------------------------------------------------------------------------- problem type
@pytest.mark.parametrize(
    "text, expected",
    [
        ("鞋子穿了一周就开胶了，质量太差", "quality"),
        ("The blender jar has a crack at the bottom and leaks", "quality"),
        ("买的耐克鞋去专柜验了，说是假货", "counterfeit"),
        ("These AirPods are obviously fake", "counterfeit"),
        ("详情页写着纯棉，收到是涤纶的，虚假宣传", "false_advertising"),
        ("Not as described, the photos show solid wood", "false_advertising"),
        ("我买的是黑色的，收到的是白色，发错货了", "wrong_or_missing_item"),
        ("The charger wasn't included", "wrong_or_missing_item"),
        ("鞋子偏小一码，挤脚", "size_mismatch"),
        ("Runs small, I had to size up", "size_mismatch"),
        ("东西没问题，就是不想要了，七天无理由退货", "no_reason_return_7day"),
        ("Changed my mind, the item is unopened", "no_reason_return_7day"),
        ("下单十天了还没发货", "logistics_delay"),
        ("Tracking hasn't updated in 8 days", "logistics_delay"),
        ("客服态度极差，还把我拉黑了", "service_attitude"),
        ("The seller was rude and hung up on me", "service_attitude"),
        ("发票抬头开错了", "other"),
    ],
)
def test_problem_type_from_keywords(text, expected):
    result = triage(text)
    assert result.problem_type == expected
    assert result.safety is False
    if expected == "other":
        assert codes(result)[0] == ReasonCode.NO_MATCH
    else:
        reason = result.reasons[0]
        assert reason.code == ReasonCode.KEYWORD_MATCH
        assert reason.params["problem_type"] == expected
        assert reason.params["keywords"]


def test_matched_reports_the_words_as_written():
    result = triage("Screen CRACKED and it's defective")
    assert "cracked" in result.matched  # not the stem pattern "crack*"
    assert "defective" in result.matched


def test_consumer_choice_is_kept_and_disagreement_recorded():
    result = triage("物流太慢了，等了十天", problem_type="quality")
    assert result.problem_type == "quality"
    assert result.reasons[0].to_dict() == {"code": "CONSUMER_CHOICE", "params": {"problem_type": "quality"}}
    disagree = next(r for r in result.reasons if r.code == ReasonCode.KEYWORD_DISAGREES)
    assert disagree.params["suggested"] == "logistics_delay"
    assert result.suggested_problem_type == "logistics_delay"


def test_safety_overrides_consumer_choice():
    result = triage("充电器冒烟了", problem_type="quality", amount_fen=100)
    assert (result.problem_type, result.priority, result.safety) == ("safety", "P1", True)
    assert {"code": "SAFETY_OVERRIDE", "params": {"consumer_choice": "quality"}} in [
        r.to_dict() for r in result.reasons
    ]


def test_consumer_who_reports_safety_gets_p1_without_keywords():
    result = triage("请尽快联系我", problem_type="safety")
    assert (result.problem_type, result.priority, result.safety) == ("safety", "P1", True)


def test_repair_request_without_keywords_defaults_to_quality():
    result = triage("请安排上门", kind="repair")
    assert result.problem_type == "quality"
    assert codes(result)[0] == ReasonCode.KIND_DEFAULT


# --------------------------------------------------------------------------- priority
def test_base_priorities():
    assert triage("质量太差，坏了").priority == "P3"
    assert triage("下单十天了还没发货").priority == "P4"


@pytest.mark.parametrize(
    "amount_fen, expected",
    [(None, "P4"), (99_999, "P4"), (100_000, "P3"), (499_999, "P3"), (500_000, "P2"), (10_000_000, "P2")],
)
def test_amount_thresholds(amount_fen, expected):
    result = triage("快递太慢，还没到", amount_fen=amount_fen)  # logistics: base P4
    assert result.priority == expected
    if amount_fen and amount_fen >= 100_000:
        assert ReasonCode.AMOUNT_HIGH in codes(result)
    if amount_fen and amount_fen >= 500_000:
        reason = next(r for r in result.reasons if r.code == ReasonCode.AMOUNT_VERY_HIGH)
        assert reason.params == {"amount_fen": amount_fen, "threshold_fen": 500_000, "floor": "P2"}


@pytest.mark.parametrize("repeat_count, expected", [(0, "P3"), (1, "P3"), (2, "P2"), (7, "P2")])
def test_repeat_complaints_raise_one_level(repeat_count, expected):
    result = triage("质量太差，坏了", repeat_count=repeat_count)
    assert result.priority == expected
    assert (ReasonCode.REPEAT_COMPLAINT in codes(result)) == (repeat_count >= 2)


def test_high_risk_category_raises_quality_and_counterfeit_only():
    assert triage("质量太差，坏了", category_risk="high").priority == "P2"
    assert triage("假货，防伪码查不到", category_risk="high").priority == "P2"
    assert triage("假货，防伪码查不到", category_risk="medium").priority == "P3"
    assert triage("快递太慢，还没到", category_risk="high").priority == "P4"


def test_non_safety_never_reaches_p1():
    result = triage("质量太差，坏了", amount_fen=900_000, repeat_count=5, category_risk="high")
    assert result.priority == "P2"
    assert {"code": "PRIORITY_CAPPED", "params": {"ceiling": "P2"}} in [r.to_dict() for r in result.reasons]


def test_rules_are_data():
    rules = TriageRules(
        amount_raise_fen=10_000, raise_channels=frozenset({"hotline"}), non_safety_ceiling="P1"
    )
    assert triage("快递太慢，还没到", amount_fen=10_000, rules=rules).priority == "P3"
    assert triage("快递太慢，还没到", channel="hotline", rules=rules).priority == "P3"
    assert triage("快递太慢，还没到", channel="web", rules=rules).priority == "P4"
    data = rules.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert TriageRules.from_dict(data) == rules
    with pytest.raises(ValueError, match="unknown field"):
        TriageRules.from_dict({**data, "surprise": 1})
    with pytest.raises(ValueError, match="amount_floor_priority"):
        TriageRules(amount_floor_priority="P0")


def test_raise_priority_stops_at_p1():
    assert raise_priority("P4") == "P3"
    assert raise_priority("P2", 5) == "P1"


# --------------------------------------------------------------------------- input and output
@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": "refund"}, "kind"),
        ({"problem_type": "broken"}, "problem_type"),
        ({"category_risk": "extreme"}, "category_risk"),
        ({"channel": "fax"}, "channel"),
        ({"amount_fen": -1}, "amount_fen"),
        ({"amount_fen": 12.5}, "amount_fen"),
        ({"repeat_count": -2}, "repeat_count"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        triage("坏了", **kwargs)


def test_result_is_plain_data():
    result = triage("The heater caught fire", kind="complaint", amount_fen=150_000, channel="app")
    data = result.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["priority"] in PRIORITIES and data["problem_type"] in PROBLEM_TYPES
    assert triage("The heater caught fire", kind="complaint", amount_fen=150_000, channel="app") == result


def test_empty_text():
    result = triage("")
    assert (result.problem_type, result.safety, result.matched) == ("other", False, [])


def test_normalise_folds_width_and_case():
    assert normalise("  ＡＢＣ　１２３  It’s ") == "abc 123 it's"


def test_long_text_is_fast():
    text = "快递太慢了，The kettle caught fire，没有起火但是冒烟了。" * 2_000  # ~60k characters
    default_classifier()  # trained once per process at first use: not what this test times
    start = time.perf_counter()
    triage(text)
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------- lexicon
def test_lexicon_rejects_a_term_listed_under_two_types():
    with pytest.raises(ValueError, match="listed twice"):
        Lexicon(
            {"quality": {"zh": ("坏了",)}, "counterfeit": {"zh": ("坏了",)}},
            context_terms={},
            body_harm={},
            part_harm={},
        )


SMALL = {
    "quality": {
        "zh": ("坏了", "质量问题", "质量"),
        "en": ("break*", "broken", "knock-off", "no power", "power"),
        "weak": ("坏",),
    },
    "safety": {"zh": ("起火", "火"), "en": ("fire", "fire hazard", "burn*")},
}
SMALL_IGNORE = ("fire tv", "打火机", "burn-in")
FRAGMENTS = [
    "坏了", "坏", "质量", "质量问题", "起火", "火", "打火机", "fire", "fire tv", "fire hazard", "fired",
    "burn", "burning", "burn-in", "break", "breaks", "broken", "knock-off", "knockoff", "knock off",
    "no power", "power", "powerful", "x", "的", " ", " ", ",", "。",
]  # fmt: skip


def _reference_spans(text, terms):
    """Brute force: at each position the longest matching term, then continue after it."""
    patterns = [(t, re.compile(_term_pattern(t))) for t in terms]
    out, i = [], 0
    while i < len(text):
        best = None
        for term, pattern in patterns:
            m = pattern.match(text, i)
            if m and m.end() > i and (best is None or m.end() > best[1]):
                best = (i, m.end(), term)
        if best:
            out.append(best)
            i = best[1]
        else:
            i += 1
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14))
def test_trie_matching_equals_brute_force(parts):
    lexicon = Lexicon(SMALL, ignore=SMALL_IGNORE, context_terms={}, body_harm={}, part_harm={})
    text = normalise("".join(parts))
    terms = [t for langs in SMALL.values() for ts in langs.values() for t in ts] + list(SMALL_IGNORE)
    assert lexicon._spans(text) == _reference_spans(text, terms)


# --------------------------------------------------------------------------- evaluation set
def test_evaluation_file_is_well_formed():
    rows = [json.loads(line) for line in EVAL_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 150
    assert len({r["id"] for r in rows}) == len(rows)
    langs = Counter(r["lang"] for r in rows)
    assert 0.5 <= langs["zh"] / len(rows) <= 0.7
    assert all(r["problem_type"] in PROBLEM_TYPES for r in rows)
    assert all(r["safety"] == (r["problem_type"] == "safety") for r in rows)
    assert sum("negation" in r["tags"] for r in rows) >= 20


def test_evaluation_figures():
    report = evaluate()
    assert report["accuracy"] >= 0.8
    assert report["safety"]["recall"] == 1.0
    assert report["negation"]["n"] >= 20
    assert report["negation"]["false_positives"] == 0
    assert set(report["per_class"]) <= PROBLEM_TYPES


def test_evaluate_counts_errors(tmp_path):
    path = tmp_path / "eval.jsonl"
    rows = [
        {"text": "没有起火，就是坏了", "problem_type": "quality", "safety": False, "tags": ["negation"]},
        {"text": "起火了", "problem_type": "safety", "safety": True},
        {"text": "物流太慢", "problem_type": "quality", "safety": False},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = evaluate(path)
    assert report["n"] == 3
    assert report["accuracy"] == round(2 / 3, 4)
    assert report["per_class"]["quality"] == {"support": 2, "precision": 1.0, "recall": 0.5}
    assert report["per_class"]["logistics_delay"] == {"support": 0, "precision": 0.0, "recall": None}
    assert report["safety"] == {"recall": 1.0, "precision": 1.0, "tp": 1, "fp": 0, "fn": 0}
    assert report["negation"] == {"n": 1, "false_positives": 0}
    assert [e["got"] for e in report["errors"]] == ["logistics_delay"]


def test_evaluate_rejects_unlabelled_rows(tmp_path):
    path = tmp_path / "eval.jsonl"
    path.write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":1:"):
        evaluate(path)


# --------------------------------------------------------------------------- rules + classifier
class StubClassifier:
    """Answers a fixed probability per class, whatever the text (to test the combination)."""

    def __init__(self, **probabilities):
        rest = (1.0 - sum(probabilities.values())) / (len(PROBLEM_TYPES) - len(probabilities))
        self.probabilities = {pt: probabilities.get(pt, rest) for pt in sorted(PROBLEM_TYPES)}
        self.calls = 0

    def predict(self, text, *, hits=None, normalised=False):
        self.calls += 1
        best = max(sorted(self.probabilities), key=self.probabilities.get)
        return Prediction(best, self.probabilities[best], dict(self.probabilities), n_features=7)


def test_classifier_never_turns_off_a_safety_flag_of_the_rules():
    result = triage("充电器冒烟了", classifier=StubClassifier(quality=0.99))
    assert (result.problem_type, result.priority, result.safety) == ("safety", "P1", True)
    assert codes(result)[0] == ReasonCode.SAFETY_KEYWORD
    assert result.classifier == {"problem_type": "quality", "probability": 0.99, "safety_probability": 0.0011}


def test_confident_classifier_raises_the_safety_flag_with_its_reason():
    text = "宝宝用了以后一直哭，嘴巴周围全是小疙瘩"  # no safety keyword
    assert triage(text, classifier=None).safety is False
    result = triage(text, classifier=StubClassifier(safety=0.8), problem_type="quality")
    assert (result.problem_type, result.priority, result.safety) == ("safety", "P1", True)
    assert [r.to_dict() for r in result.reasons[:2]] == [
        {"code": "CLASSIFIER_SAFETY", "params": {"probability": 0.8}},
        {"code": "SAFETY_OVERRIDE", "params": {"consumer_choice": "quality"}},
    ]
    assert result.suggested_problem_type == "safety"


def test_unconfident_classifier_does_not_raise_the_safety_flag():
    below = CLASSIFIER_SAFETY_THRESHOLD - 0.05
    result = triage("宝宝用了以后一直哭，嘴巴周围全是小疙瘩", classifier=StubClassifier(safety=below))
    assert result.safety is False and result.priority != "P1"
    assert ReasonCode.CLASSIFIER_SAFETY not in codes(result)


def test_the_shipped_classifier_raises_safety_without_a_keyword():
    result = triage("宝宝吃了这个米粉以后嘴巴周围全是小疙瘩，哭了一晚上")
    assert result.matched == []
    assert (result.problem_type, result.priority, result.safety) == ("safety", "P1", True)
    assert codes(result)[0] == ReasonCode.CLASSIFIER_SAFETY
    assert result.reasons[0].params["probability"] >= CLASSIFIER_SAFETY_THRESHOLD


def test_strong_keywords_stand_unless_the_classifier_is_confident_of_another_type():
    text = "鞋子开胶了，质量太差"  # two quality keywords: a strong keyword score
    assert triage(text, classifier=None).scores["quality"] >= 1.5
    kept = triage(text, classifier=StubClassifier(logistics_delay=CLASSIFIER_OVERRIDE - 0.05))
    assert kept.problem_type == "quality"
    assert [r.to_dict() for r in kept.reasons[:2]] == [
        {"code": "KEYWORD_MATCH", "params": {"problem_type": "quality", "keywords": ["开胶", "质量太差"]}},
        {"code": "CLASSIFIER", "params": {"problem_type": "logistics_delay", "probability": 0.65}},
    ]
    overruled = triage(text, classifier=StubClassifier(logistics_delay=0.9))
    assert overruled.problem_type == "logistics_delay"
    assert codes(overruled)[:2] == [ReasonCode.CLASSIFIER, ReasonCode.KEYWORD_MATCH]


def test_a_sure_classifier_decides_over_a_weak_keyword():
    text = "等了好几天了"  # one weak logistics word
    assert triage(text, classifier=None).problem_type == "logistics_delay"
    result = triage(text, classifier=StubClassifier(service_attitude=0.6))
    assert result.problem_type == "service_attitude"
    assert result.reasons[0].to_dict() == {
        "code": "CLASSIFIER",
        "params": {"problem_type": "service_attitude", "probability": 0.6},
    }
    assert result.reasons[1].code == ReasonCode.KEYWORD_MATCH  # what the words said, for the agent


def test_an_unsure_classifier_falls_back_to_the_rules():
    unsure = StubClassifier(service_attitude=CLASSIFIER_MIN_CONFIDENCE - 0.05)
    result = triage("等了好几天了", classifier=unsure)
    assert result.problem_type == "logistics_delay"
    assert codes(result)[:2] == [ReasonCode.KEYWORD_MATCH, ReasonCode.CLASSIFIER_UNSURE]
    nothing = triage("请联系我", classifier=unsure)
    assert nothing.problem_type == "other"
    assert codes(nothing)[:2] == [ReasonCode.NO_MATCH, ReasonCode.CLASSIFIER_UNSURE]
    repair = triage("请联系我", kind="repair", classifier=StubClassifier(other=0.9))
    assert repair.problem_type == "quality" and codes(repair)[0] == ReasonCode.KIND_DEFAULT


def test_text_without_signal_falls_back_to_no_match():
    for text in ("", "   ", "🙂", "？？？"):
        result = triage(text)
        assert (result.problem_type, result.safety, result.priority) == ("other", False, "P3")
        assert codes(result)[0] == ReasonCode.NO_MATCH


def test_consumer_choice_is_kept_and_the_classifier_disagreement_recorded():
    result = triage("等了好几天了", problem_type="quality", classifier=StubClassifier(service_attitude=0.6))
    assert result.problem_type == "quality"
    assert {"code": "CLASSIFIER", "params": {"problem_type": "service_attitude", "probability": 0.6}} in [
        r.to_dict() for r in result.reasons
    ]
    assert result.suggested_problem_type == "service_attitude"


def test_rules_only_when_no_classifier():
    result = triage("等了好几天了", classifier=None)
    assert result.classifier is None
    assert not [c for c in codes(result) if c.startswith("CLASSIFIER")]
    assert result.to_dict()["classifier"] is None


@pytest.mark.parametrize("text", ["没有起火，就是不制热", "There was no fire, the blender just died"])
def test_negated_safety_words_stay_negated_with_the_classifier(text):
    result = triage(text)
    assert result.safety is False
    assert result.classifier["safety_probability"] < CLASSIFIER_SAFETY_THRESHOLD


def test_evaluate_modes(tmp_path):
    path = tmp_path / "eval.jsonl"
    rows = [
        {"text": "起火了", "problem_type": "safety", "safety": True},
        {"text": "等了好几天了", "problem_type": "service_attitude", "safety": False},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    stub = StubClassifier(service_attitude=0.6)
    rules = evaluate(path, mode="rules", classifier=stub)
    assert (rules["mode"], rules["accuracy"]) == ("rules", 0.5)
    assert stub.calls == 0
    alone = evaluate(path, mode="classifier", classifier=stub)
    assert alone["accuracy"] == 0.5  # says service_attitude for both
    assert alone["safety"] == {"recall": 0.0, "precision": None, "tp": 0, "fp": 0, "fn": 1}
    combined = evaluate(path, mode="combined", classifier=stub)
    assert combined["accuracy"] == 1.0 and combined["safety"]["recall"] == 1.0
    with pytest.raises(ValueError, match="mode"):
        evaluate(path, mode="magic")
    with pytest.raises(ValueError, match="needs a classifier"):
        evaluate(path, mode="classifier", classifier=None)

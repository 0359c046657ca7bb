"""Identifiers (USCC, organisation code, GTIN) and personal-data masking."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketguard.catalog import codes
from marketguard.catalog.codes import (
    REGISTRATION_AUTHORITIES,
    USCC_ALPHABET,
    USCC_WEIGHTS,
    InvalidCode,
    gtin14,
    gtin_check_digit,
    is_valid_gtin,
    is_valid_uscc,
    make_gtin,
    make_uscc,
    mask_address,
    mask_name,
    mask_phone,
    org_code_check_char,
    uscc_check_char,
    validate_gtin,
    validate_uscc,
)

# A published example code (python-stdnum's documentation) and its body.
KNOWN_USCC = "91350100M000100Y43"

AUTHORITY_KINDS = sorted(
    (authority, kind)
    for authority, (_zh, _en, kinds) in REGISTRATION_AUTHORITIES.items()
    for kind in (kinds or {"1": ""})
)
regions = st.from_regex(r"\A[1-6][0-9]{5}\Z")


# --- USCC -------------------------------------------------------------------------------------------


def test_weights_are_powers_of_three_mod_31():
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert len(USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC_ALPHABET)


def test_known_code_validates_and_check_char_matches():
    assert validate_uscc(KNOWN_USCC) == KNOWN_USCC
    assert uscc_check_char(KNOWN_USCC[:17]) == "3"


def test_normalises_spaces_and_case():
    assert validate_uscc(" 9135 0100m0 00100y43\t") == KNOWN_USCC


@pytest.mark.parametrize("first", ["A", "N", "Y"])
def test_accepts_valid_codes_starting_with_a_n_y(first):
    # python-stdnum rejects these; GB 32100 defines A (CMC staffing office), N (agriculture), Y (other).
    code = make_uscc(random.Random(first), first, "1" if first != "N" else "2", "330100")
    assert code[0] == first
    assert validate_uscc(code) == code
    assert validate_uscc(code, strict=True) == code


@pytest.mark.parametrize(
    ("code", "rule", "fragment"),
    [
        ("91350100M000100Y4", "length", "18 characters, got 17"),
        ("91350100M000100Y431", "length", "got 19"),
        ("", "length", "got 0"),
        ("91350100M00010OY43", "character", "'O' at position 15"),
        ("9135010IM000100Y43", "character", "'I' at position 8"),
        ("91350100M000100Y4Z", "character", "position 18"),
        ("91350100M000100Y44", "check_digit", "expected '3'"),
    ],
)
def test_rejections_name_the_rule(code, rule, fragment):
    with pytest.raises(InvalidCode) as exc:
        validate_uscc(code)
    assert exc.value.rule == rule
    assert fragment in str(exc.value)
    assert isinstance(exc.value, ValueError)
    assert not is_valid_uscc(code)


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError):
        validate_uscc(91350100)  # type: ignore[arg-type]
    assert not is_valid_uscc(None)  # type: ignore[arg-type]


def test_strict_mode_checks_structure():
    assert validate_uscc(KNOWN_USCC) == KNOWN_USCC
    # Kind 9 is not defined for market-regulation registrations (9 = 1, 2, 3 only).
    body = "99" + KNOWN_USCC[2:17]
    code = body + uscc_check_char(body)
    assert validate_uscc(code) == code
    with pytest.raises(InvalidCode, match="kind '9'") as exc:
        validate_uscc(code, strict=True)
    assert exc.value.rule == "structure"
    # A division code with letters.
    body = "91" + "3101A0" + KNOWN_USCC[8:17]
    with pytest.raises(InvalidCode, match="division code"):
        validate_uscc(body + uscc_check_char(body), strict=True)
    # A wrong embedded organisation-code check character.
    good = make_uscc(random.Random(3))
    wrong = "0" if good[16] != "0" else "1"
    body = good[:16] + wrong
    with pytest.raises(InvalidCode, match="organisation code"):
        validate_uscc(body + uscc_check_char(body), strict=True)


def test_org_code_check_char_examples():
    # GB 11714 worked example: D2143569 -> X (values 13,2,1,4,3,5,6,9).
    assert org_code_check_char("D2143569") == "X"
    assert org_code_check_char("00000000") == "0"
    with pytest.raises(InvalidCode):
        org_code_check_char("1234567")


def test_make_uscc_rejects_bad_arguments():
    rng = random.Random(1)
    with pytest.raises(ValueError, match="registration authority"):
        make_uscc(rng, "I")
    with pytest.raises(ValueError, match="kind"):
        make_uscc(rng, "9", "12")
    with pytest.raises(ValueError, match="region"):
        make_uscc(rng, region="3100")


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), ak=st.sampled_from(AUTHORITY_KINDS), region=regions)
def test_every_generated_uscc_validates_strictly(seed, ak, region):
    code = make_uscc(random.Random(seed), ak[0], ak[1], region)
    assert len(code) == 18
    assert code[:2] == ak[0] + ak[1] and code[2:8] == region
    assert validate_uscc(code, strict=True) == code


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), pos=st.integers(0, 17), shift=st.integers(1, 30))
def test_any_single_character_change_is_detected(seed, pos, shift):
    code = make_uscc(random.Random(seed))
    changed = USCC_ALPHABET[(USCC_ALPHABET.index(code[pos]) + shift) % 31]
    mutated = code[:pos] + changed + code[pos + 1 :]
    with pytest.raises(InvalidCode) as exc:
        validate_uscc(mutated)
    assert exc.value.rule == "check_digit"


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), pos=st.integers(0, 15))
def test_adjacent_transpositions_in_the_body_are_detected(seed, pos):
    # Weights w and 3w differ by 2w, which is never 0 mod 31: swapping two different characters
    # among the first 17 always changes the check character.
    code = make_uscc(random.Random(seed))
    if code[pos] == code[pos + 1]:
        return
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
    assert not is_valid_uscc(swapped)


# --- GTIN -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["96385074", "036000291452", "4006381333931", "9780306406157", "10012345678902"]
)
def test_known_gtins(code):
    assert validate_gtin(code) == code
    assert gtin_check_digit(code[:-1]) == code[-1]


def test_gtin_normalises_and_pads():
    assert validate_gtin(" 400-6381-33393 1 ") == "4006381333931"
    assert gtin14("4006381333931") == "04006381333931"
    assert gtin14("96385074") == "00000096385074"


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("4006381333932", "check_digit"),
        ("400638133393", "check_digit"),  # a valid-looking 12 digits whose check digit is wrong
        ("40063813339", "length"),
        ("400638133393A", "character"),
        ("123456789012345", "length"),
    ],
)
def test_gtin_rejections(code, rule):
    with pytest.raises(InvalidCode) as exc:
        validate_gtin(code)
    assert exc.value.rule == rule
    assert not is_valid_gtin(code)


def test_gtin_check_digit_needs_digits():
    with pytest.raises(InvalidCode):
        gtin_check_digit("12a4")
    with pytest.raises(InvalidCode):
        gtin_check_digit("")


@settings(max_examples=200, deadline=None)
@given(body=st.from_regex(r"\A[0-9]{7}\Z|\A[0-9]{11,13}\Z"), pos=st.integers(0, 13), delta=st.integers(1, 9))
def test_gtin_check_digit_detects_every_single_digit_error(body, pos, delta):
    code = body + gtin_check_digit(body)
    assert validate_gtin(code) == code
    pos %= len(code)
    mutated = code[:pos] + str((int(code[pos]) + delta) % 10) + code[pos + 1 :]
    assert not is_valid_gtin(mutated)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_make_gtin_is_a_valid_chinese_gtin13(seed):
    code = make_gtin(random.Random(seed))
    assert len(code) == 13 and code.startswith("69")
    assert validate_gtin(code) == code


# --- masking ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("0086-13812345678", "+86 138****5678"),
        ("021-62345678", "021****5678"),
        ("0571-8765432", "057****5432"),
        ("62345678", "****5678"),
        ("12345", "*****"),
        ("", ""),
        (None, ""),
        ("call me", "****"),
    ],
)
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z"))
def test_mask_phone_hides_the_middle_of_any_mobile(number):
    masked = mask_phone(number)
    assert masked == number[:3] + "****" + number[-4:]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳修", "欧阳*"),
        ("买买提·艾力", "买**·艾*"),
        ("张", "*"),
        ("John Smith", "J*** S***"),
        ("Emily", "E***"),
        ("  ", ""),
        (None, ""),
    ],
)
def test_mask_name(raw, masked):
    assert mask_name(raw) == masked


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="王李张刘陈杨伟芳娜敏静丽强", min_size=2, max_size=4))
def test_mask_name_keeps_only_the_surname(name):
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert masked[0] == name[0] and set(masked[1:]) == {"*"}


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("浙江省杭州市西湖区文三路90号3幢501室", "浙江省杭州市****"),
        ("上海市浦东新区张江路1号", "上海市****"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放路1号", "新疆维吾尔自治区乌鲁木齐市****"),
        ("广西壮族自治区南宁市青秀区民族大道100号", "广西壮族自治区南宁市****"),
        ("海南省陵水黎族自治县椰林镇", "海南省****"),
        ("杭州市西湖区文三路90号", "杭州市****"),
        ("文三路90号", "****"),
        ("Room 5, 90 Wensan Rd, Hangzhou, Zhejiang", "****, Hangzhou, Zhejiang"),
        ("somewhere", "****"),
        ("", ""),
    ],
)
def test_mask_address(raw, masked):
    assert mask_address(raw) == masked


def test_masked_address_never_shows_the_street():
    masked = mask_address("江苏省苏州市姑苏区人民路88号阳光花园3幢2单元1201室")
    assert masked == "江苏省苏州市****"
    assert not re.search(r"人民路|88|1201", masked)


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("请联系我 13812345678 谢谢", "请联系我 138****5678 谢谢"),
        ("电话：+86 138-1234-5678", "电话：+86 138****5678"),
        ("mail me: li.lei@qq.com", "mail me: l***@qq.com"),
        ("身份证 110101199003071234 已提供", "身份证 110101********1234 已提供"),
        ("订单号 202611221234567890123 不是电话", "订单号 202611221234567890123 不是电话"),
        ("价格 1380 元，型号 K-200", "价格 1380 元，型号 K-200"),
        # the street part of an address, as mask_address hides it
        ("地址北京市朝阳区建国路88号", "地址北京市朝阳区****"),
        ("寄到上海市浦东新区世纪大道100号3号楼2单元501室，谢谢", "寄到上海市浦东新区****，谢谢"),
        ("杭州市西湖区文三路 478 号", "杭州市西湖区****"),
        ("Ship to 88 Jianguo Road, Beijing", "Ship to ****, Beijing"),
        ("I live at 12 Baker Street.", "I live at ****"),
        # ... and nothing that only looks like one: dates, product and store names, quantities
        ("鞋子穿了3天就开胶了，走了5里路", "鞋子穿了3天就开胶了，走了5里路"),
        ("第2号商品有问题，1号线地铁站附近", "第2号商品有问题，1号线地铁站附近"),
        ("我在直播间里18号下单的", "我在直播间里18号下单的"),
        ("京东自营店里5号买的奶粉", "京东自营店里5号买的奶粉"),
        ("产品名称：老北京胡同3号炸酱面", "产品名称：老北京胡同3号炸酱面"),
        ("店铺名叫幸福里8号", "店铺名叫幸福里8号"),
        ("在南京路步行街100号店买的", "在南京路步行街100号店买的"),
        ("of 2 Large Street Lamps", "of 2 Large Street Lamps"),
        ("2 Wall Street Journal subscriptions", "2 Wall Street Journal subscriptions"),
        ("", ""),
    ],
)
def test_mask_in_text(raw, masked):
    assert codes.mask_in_text(raw) == masked


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True), st.text(alphabet="买家说：问题很大", max_size=8))
def test_no_mobile_number_survives_masking_in_text(number, words):
    assert number not in codes.mask_in_text(f"{words}{number}{words}")


@pytest.mark.parametrize(
    "written, key",
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("(021) 6234 5678", "02162345678"),
        ("138 1234 567x", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_numbers_compare_however_they_were_written(written, key):
    assert codes.phone_key(written) == key

"""Masking of personal data in free text: numbers written in full-width digits and landlines are
masked like any mobile number, while dates, order numbers and amounts stay as written."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketguard.catalog import codes

FULL_WIDTH = str.maketrans("0123456789+-()", "０１２３４５６７８９＋－（）")


@pytest.mark.parametrize(
    "raw, masked",
    [
        # a mobile number typed with a Chinese input method (full-width digits)
        ("我的电话１３９８７６５４３２１，请回电", "我的电话139****4321，请回电"),
        ("电话：＋８６ １３８－１２３４－５６７８", "电话：+86 138****5678"),
        # landlines keep their area code, the local number is hidden
        ("商家座机0571-88886666打不通", "商家座机0571-****6666打不通"),
        ("请拨打 010 62345678 或 (021) 6234 5678", "请拨打 010 ****5678 或 (021) ****5678"),
        ("座机０５７１－８８８８６６６６", "座机０５７１－****6666"),
        ("Call +86 571 88886666 today", "Call +86 571 ****6666 today"),
        ("总机 0755-2345678 转人工", "总机 0755-****5678 转人工"),
        # the text around a masked number keeps its full-width punctuation
        ("（电话：０２１－６２３４５６７８）", "（电话：０２１－****5678）"),
        # full-width e-mail addresses and ID numbers
        ("邮箱ｌｉｌｅｉ＠ｑｑ．ｃｏｍ", "邮箱ｌ***@ｑｑ．ｃｏｍ"),
        ("身份证１１０１０１１９９００３０７１２３４", "身份证１１０１０１********1234"),
    ],
)
def test_full_width_numbers_and_landlines_are_masked(raw, masked):
    assert codes.mask_in_text(raw) == masked


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-05 10:30 下的单",
        "２０２４－０１－０５ 收到货",
        "营业时间 09:00-18:00",
        "订单号 202611221234567890123",
        "订单号：021345678901",
        "订单 O-20240105-0001，运单号 SF0571234567890",
        "运单号 057188886666123",
        "邮编 010010，邮编 310000",
        "金额 0.5 元，数量 02 件，价格 1380 元",
        "退款 ５７１．００ 元",
        "型号 K-200，批次 0571A88886666",
    ],
)
def test_dates_order_numbers_and_amounts_are_not_taken_for_phone_numbers(text):
    assert codes.mask_in_text(text) == text


@given(
    area=st.sampled_from(["010", "021", "020", "0571", "0755", "0898"]),
    local=st.from_regex(r"[2-9]\d{6,7}", fullmatch=True),
    sep=st.sampled_from(["-", " ", ""]),
    full_width=st.booleans(),
    words=st.text(alphabet="买家说：商家电话是", max_size=6),
)
def test_no_landline_survives_masking(area, local, sep, full_width, words):
    number = f"{area}{sep}{local}"
    if full_width:
        number = number.translate(FULL_WIDTH)
    masked = codes.mask_in_text(f"{words}{number}{words}")
    assert number not in masked
    assert local not in masked.translate({ord(c): None for c in " -－"})


@given(
    number=st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
    words=st.text(alphabet="买家说：问题很大", max_size=8),
)
def test_no_full_width_mobile_number_survives_masking(number, words):
    written = number.translate(FULL_WIDTH)
    masked = codes.mask_in_text(f"{words}{written}{words}")
    assert written not in masked and number not in masked
    assert masked.startswith(words) and masked.endswith(words)


def test_structured_data_is_masked_in_every_string():
    data = {
        "phone": "0571-88886666",
        "contact_phone": "12345",
        "return_address": "浙江省杭州市西湖区文三路90号",
        "notes": ["买家说 １３９８７６５４３２１", {"deep": "邮箱 li.lei@qq.com"}],
        "amount": 1380,
        "status": "open",
    }
    assert codes.mask_in_data(data) == {
        "phone": "0571-****6666",
        "contact_phone": "*****",
        "return_address": "浙江省杭州市****",
        "notes": ["买家说 139****4321", {"deep": "邮箱 l***@qq.com"}],
        "amount": 1380,
        "status": "open",
    }
    assert codes.mask_in_data(None) is None

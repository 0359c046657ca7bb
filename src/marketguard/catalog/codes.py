"""Identifiers and personal-data masking: USCC, organisation code, GTIN, phone / name / address masks.

Pure module: no Django import. Every validator returns the normalised value or raises
`InvalidCode` (a `ValueError`) whose `rule` says which rule failed, so an API can map it to a
stable error code and a form can show the message next to the field.

Unified Social Credit Code (统一社会信用代码, GB 32100-2015), 18 characters::

    9  1  310000  MA1FL5K7X  Q
    |  |  |       |          `-- check character (mod 31, weights 3^i mod 31)
    |  |  |       `------------- organisation code (GB 11714-1997: 8 characters + mod-11 check)
    |  |  `--------------------- administrative division code of the registration authority (GB/T 2260)
    |  `------------------------ kind of organisation within that authority
    `--------------------------- registration authority (1 机构编制, 5 民政, 9 市场监管/工商, A, N, Y ...)

python-stdnum's `cn.uscc` rejects valid codes whose first character is A, N or Y; this module does not.
"""

from __future__ import annotations

import random
import re
import unicodedata

__all__ = [
    "USCC_ALPHABET",
    "USCC_WEIGHTS",
    "REGISTRATION_AUTHORITIES",
    "InvalidCode",
    "typed_external_id",
    "validate_uscc",
    "is_valid_uscc",
    "uscc_check_char",
    "org_code_check_char",
    "make_uscc",
    "validate_gtin",
    "is_valid_gtin",
    "gtin_check_digit",
    "gtin14",
    "make_gtin",
    "mask_phone",
    "phone_key",
    "mask_name",
    "mask_address",
    "mask_in_text",
    "mask_in_data",
]


class InvalidCode(ValueError):
    """A code failed validation. `rule` is one of: length, character, check_digit, structure."""

    def __init__(self, message: str, *, rule: str):
        super().__init__(message)
        self.rule = rule


# ---------------------------------------------------------------------------------------------------
# Unified Social Credit Code (GB 32100-2015)
# ---------------------------------------------------------------------------------------------------

#: 31 characters: digits and capital letters without I, O, S, V, Z. Index = numeric value.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
#: Weight of position i (0-based, first 17 characters) is 3**i mod 31.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

#: Registration authority code -> (name_zh, name_en, {kind code: kind name_zh}); an empty kind map
#: means the standard does not enumerate kinds for that authority.
REGISTRATION_AUTHORITIES: dict[str, tuple[str, str, dict[str, str]]] = {
    "1": (
        "机构编制",
        "Institutional staffing",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": ("外交", "Foreign affairs", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        "Justice administration",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", "Culture", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", "Civil affairs", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        "Tourism",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", "Religious affairs", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", "Trade unions", {"1": "基层工会", "9": "其他"}),
    "9": (
        "市场监督管理（工商）",
        "Market regulation (industry and commerce)",
        {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"},
    ),
    "A": ("中央军委改革和编制办公室", "CMC reform and staffing office", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        "Agriculture",
        {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    ),
    "Y": ("其他", "Other", {}),
}

_SPACES = re.compile(r"\s+")


def _normalise(code: str, what: str) -> str:
    if not isinstance(code, str):
        raise TypeError(f"{what} must be a string, not {type(code).__name__}")
    return _SPACES.sub("", code).upper()


def uscc_check_char(body17: str) -> str:
    """Check character for the first 17 characters of a USCC."""
    if len(body17) != 17:
        raise InvalidCode(f"USCC body must be 17 characters, got {len(body17)}", rule="length")
    total = 0
    for pos, (ch, weight) in enumerate(zip(body17, USCC_WEIGHTS, strict=True), start=1):
        value = _USCC_VALUE.get(ch)
        if value is None:
            raise InvalidCode(f"USCC has an invalid character {ch!r} at position {pos}", rule="character")
        total += value * weight
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714-1997 organisation code check character for 8 characters (digits and A-Z): 0-9 or X."""
    if len(body8) != 8:
        raise InvalidCode(f"organisation code body must be 8 characters, got {len(body8)}", rule="length")
    total = 0
    for pos, (ch, weight) in enumerate(zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True), start=1):
        if "0" <= ch <= "9":
            value = ord(ch) - 48
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        else:
            raise InvalidCode(
                f"organisation code has an invalid character {ch!r} at position {pos}", rule="character"
            )
        total += value * weight
    check = 11 - total % 11
    return "0" if check == 11 else "X" if check == 10 else str(check)


def validate_uscc(code: str, *, strict: bool = False) -> str:
    """Normalise (remove whitespace, upper-case) and validate a USCC; return the normalised code.

    Checks length (18), alphabet (0-9, A-H, J-N, P-R, T, U, W-Y) and the mod-31 check character.
    With `strict=True` also checks the structure: a known registration authority and kind, a 6-digit
    division code and the embedded organisation code's own check character. Strict mode can reject
    real codes issued before the standard settled (e.g. some 个体工商户 codes), so it is opt-in.
    """
    norm = _normalise(code, "USCC")
    if len(norm) != 18:
        raise InvalidCode(f"USCC must be 18 characters, got {len(norm)}", rule="length")
    for pos, ch in enumerate(norm, start=1):
        if ch not in _USCC_VALUE:
            raise InvalidCode(
                f"USCC has an invalid character {ch!r} at position {pos} "
                "(allowed: 0-9 and capital letters except I, O, S, V, Z)",
                rule="character",
            )
    expected = uscc_check_char(norm[:17])
    if norm[17] != expected:
        raise InvalidCode(
            f"USCC check character is wrong: position 18 is {norm[17]!r}, expected {expected!r}",
            rule="check_digit",
        )
    if strict:
        _check_uscc_structure(norm)
    return norm


def _check_uscc_structure(norm: str) -> None:
    authority = REGISTRATION_AUTHORITIES.get(norm[0])
    if authority is None:
        raise InvalidCode(f"USCC registration authority {norm[0]!r} is not defined", rule="structure")
    kinds = authority[2]
    if kinds and norm[1] not in kinds:
        raise InvalidCode(
            f"USCC kind {norm[1]!r} is not defined for registration authority {norm[0]!r}", rule="structure"
        )
    if not norm[2:8].isdigit():
        raise InvalidCode(
            "USCC positions 3-8 must be a 6-digit administrative division code", rule="structure"
        )
    expected = org_code_check_char(norm[8:16])
    if norm[16] != expected:
        raise InvalidCode(
            f"USCC embedded organisation code check character is {norm[16]!r}, expected {expected!r}",
            rule="structure",
        )


def is_valid_uscc(code: str, *, strict: bool = False) -> bool:
    try:
        validate_uscc(code, strict=strict)
    except (InvalidCode, TypeError):
        return False
    return True


# Characters usable in a generated organisation code body: in both alphabets (GB 11714 and USCC).
_ORG_LETTERS = "ABCDEFGHJKLMNPQRTUWXY"
_DIGITS = "0123456789"


def make_uscc(
    rng: random.Random, registration_authority: str = "9", kind: str = "1", region: str = "310000"
) -> str:
    """A structurally valid USCC (passes `validate_uscc(..., strict=True)` for defined authority/kind).

    The organisation code is 8 digits, or for market-regulation registrations after 2015 often
    "MA" + 6 characters (as real codes like 91310000MA1F.... are), followed by its GB 11714 check.
    """
    for value, what in ((registration_authority, "registration authority"), (kind, "kind")):
        if len(value) != 1 or value not in _USCC_VALUE:
            raise ValueError(f"{what} must be one USCC character, got {value!r}")
    if len(region) != 6 or not region.isdigit():
        raise ValueError(f"region must be a 6-digit division code, got {region!r}")
    if registration_authority == "9" and rng.random() < 0.6:
        body8 = "MA" + "".join(rng.choice(_DIGITS + _ORG_LETTERS) for _ in range(6))
    else:
        body8 = "".join(rng.choice(_DIGITS) for _ in range(8))
    body17 = registration_authority + kind + region + body8 + org_code_check_char(body8)
    return body17 + uscc_check_char(body17)


# ---------------------------------------------------------------------------------------------------
# GTIN (GS1): GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN-13, also ISBN-13), GTIN-14
# ---------------------------------------------------------------------------------------------------

_GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> str:
    """GS1 mod-10 check digit for a body of digits (weights 3,1,3,... from the right)."""
    if not body or not body.isascii() or not body.isdigit():
        raise InvalidCode("GTIN body must be a non-empty string of digits", rule="character")
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += (ord(ch) - 48) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def validate_gtin(code: str) -> str:
    """Normalise (remove whitespace and hyphens) and validate a GTIN-8/12/13/14; return it."""
    norm = _normalise(code, "GTIN").replace("-", "")
    if len(norm) not in _GTIN_LENGTHS:
        raise InvalidCode(f"GTIN must have 8, 12, 13 or 14 digits, got {len(norm)}", rule="length")
    for pos, ch in enumerate(norm, start=1):
        if not ("0" <= ch <= "9"):
            raise InvalidCode(f"GTIN has a non-digit {ch!r} at position {pos}", rule="character")
    expected = gtin_check_digit(norm[:-1])
    if norm[-1] != expected:
        raise InvalidCode(
            f"GTIN check digit is wrong: last digit is {norm[-1]!r}, expected {expected!r}",
            rule="check_digit",
        )
    return norm


def is_valid_gtin(code: str) -> bool:
    try:
        validate_gtin(code)
    except (InvalidCode, TypeError):
        return False
    return True


def gtin14(code: str) -> str:
    """Validate and left-pad to 14 digits, the form GS1 Digital Link and EPCIS use."""
    return validate_gtin(code).zfill(14)


def make_gtin(rng: random.Random, prefix: str = "69") -> str:
    """A valid GTIN-13 starting with `prefix` (GS1 China issues 690-699)."""
    if not prefix.isdigit() or len(prefix) > 12:
        raise ValueError("prefix must be at most 12 digits")
    body = prefix + "".join(rng.choice(_DIGITS) for _ in range(12 - len(prefix)))
    return body + gtin_check_digit(body)


# ---------------------------------------------------------------------------------------------------
# Personal-data masking (lists, logs, exports)
# ---------------------------------------------------------------------------------------------------

_PHONE_JUNK = re.compile(r"[\s\-().]")


def phone_key(s: str | None) -> str:
    """A phone number as digits to compare by: "+86 138-1234-5678", "0086 13812345678" and
    "13812345678" give "13812345678"; a landline keeps its area code ("021-6234 5678" ->
    "02162345678"). Anything with letters gives ""."""
    text = _PHONE_JUNK.sub("", str(s or ""))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix) and len(text) > len(prefix) + 6:
            text = text[len(prefix) :]
            break
    text = text.removeprefix("+")
    return text if text.isascii() and text.isdigit() else ""


def mask_phone(s: str | None) -> str:
    """ "13812345678" -> "138****5678"; "+86 138 1234 5678" -> "+86 138****5678".

    11+ digits keep the first 3 and last 4; 7-10 digits keep only the last 4; shorter values are
    masked completely. Anything that is not a phone number becomes "****".
    """
    if not s:
        return ""
    text = _PHONE_JUNK.sub("", str(s))
    prefix = ""
    if text.startswith("+86"):
        prefix, text = "+86 ", text[3:]
    elif text.startswith("0086"):
        prefix, text = "+86 ", text[4:]
    elif text.startswith("+"):
        prefix, text = "+", text[1:]
    if not text.isascii() or not text.isdigit():
        return "****" if text else ""
    n = len(text)
    if n >= 11:
        return f"{prefix}{text[:3]}****{text[-4:]}"
    if n >= 7:
        return f"{prefix}{'*' * (n - 4)}{text[-4:]}"
    return prefix + "*" * n


# Two-character surnames, so that 欧阳娜娜 masks to 欧阳** (not 欧***).
_COMPOUND_SURNAMES = frozenset(
    re.findall(
        r"\S+",
        "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 司徒 夏侯 长孙 宇文 轩辕 端木 西门 南宫 独孤 呼延 "
        "澹台 公冶 太史 申屠 钟离 闻人 赫连 万俟 百里 东郭 单于 完颜 拓跋",
    )
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
#: a mainland landline with its area code: "0571-88886666", "(021) 6234 5678", "010 62345678",
#: "+86 571 88886666". The area code (010, 02x, 0xxx) is kept, the local number (7 or 8 digits,
#: never starting with 0 or 1) is masked. A number run into letters or other digits (an order or
#: tracking number, a date) is not one.
_LANDLINE_IN_TEXT = re.compile(
    r"(?<![\dA-Za-z+])"
    r"((?:\+86[\s-]?(?:10|2\d|[3-9]\d{2})|\(?0(?:10|2\d|[3-9]\d{2})\)?)[\s-]?)"
    r"[2-9]\d{2,3}[\s-]?\d{4}"
    r"(?![\dA-Za-z])"
)
_EMAIL_IN_TEXT = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_ID_IN_TEXT = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")
#: the street part of an address written in a text, from the street name to the door ("建国路88号
#: 3号楼2单元501室", "88 Jianguo Road"), only where it reads as an address: after a province,
#: city, district or town, or after a word that introduces one (地址, 寄到, ship to, live at...);
#: the part before it stays, as in :func:`mask_address`. "直播间里18号下单", "胡同3号炸酱面" and
#: "2 Large Street Lamps" are not addresses.
_STREET_IN_TEXT = re.compile(
    r"((?:省|市|区|县|镇|乡|地址|住址|寄到|寄往|寄回|送到|住在)[：:\s]*)"
    r"[^\s省市区县镇乡，,。；;：:！!？?（）()、“”\"]{1,12}?(?:路|街|大道|大街|巷|胡同)"
    r"\s*[\d一二三四五六七八九十百零〇-]+\s*号"
    r"(?:\s*[\dA-Za-z一二三四五六七八九十-]+\s*(?:号楼|幢|栋|座|单元|层|楼|室|号|户))*"
    r"|((?:\b(?:[Tt]o|[Aa]t|[Aa]ddress|[Aa]ddr\.?)\b:?)\s+)"
    r"\d+[A-Za-z]?(?:\s+[A-Z][a-z]+)+\s+(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Boulevard|Blvd)\b\.?"
)


_SPACE = re.compile(r"\s+")


def typed_external_id(text: str) -> str:
    """An order, item or buyer id as a person typed or pasted it, as the marketplace writes it:
    full-width letters, digits and dashes made half-width ("ＴＯ００１２" -> "TO0012") and
    spaces dropped ("TO 0012 3456"): ids are ASCII letters, digits and ``._:-`` only."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def _fold_char(ch: str) -> str:
    if ch.isdecimal():  # any script's digit, full-width "１" included: as an ASCII digit
        return str(unicodedata.decimal(ch, ch))
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


def _fold(text: str) -> str:
    """`text` as the patterns read it: each character in its NFKC form ("１３８" -> "138", "＠" -> "@",
    "（" -> "(") where that form is one character, so that positions in the folded text are
    positions in `text`."""
    return text if text.isascii() else "".join(_fold_char(ch) for ch in text)


def _splice(pattern: re.Pattern, text: str, folded: str, replace) -> tuple[str, str]:
    """Replace each match of `pattern` in `folded` by `replace(match, text)` in both strings:
    the match is found on the folded text, the replacement is made in the text as written."""
    parts, folded_parts, last = [], [], 0
    for m in pattern.finditer(folded):
        start, end = m.span()
        new = replace(m, text)
        parts += [text[last:start], new]
        folded_parts += [folded[last:start], _fold(new)]
        last = end
    if not parts:
        return text, folded
    parts.append(text[last:])
    folded_parts.append(folded[last:])
    return "".join(parts), "".join(folded_parts)


def _written(m: re.Match, text: str, group: int) -> str:
    """Group `group` of a match on the folded text, as it is written in `text`."""
    return text[m.start(group) : m.end(group)] if m.start(group) >= 0 else ""


_TEXT_MASKS = (
    (_PHONE_IN_TEXT, lambda m, text: mask_phone(m[0])),
    (_LANDLINE_IN_TEXT, lambda m, text: _written(m, text, 1) + "****" + m[0][-4:]),
    (_EMAIL_IN_TEXT, lambda m, text: _written(m, text, 1) + "***@" + _written(m, text, 2)),
    (_ID_IN_TEXT, lambda m, text: _written(m, text, 1) + "********" + m[2]),
    (_STREET_IN_TEXT, lambda m, text: _written(m, text, 1) + _written(m, text, 2) + "****"),
)


def mask_in_text(s: str | None) -> str:
    """Free text with the personal data people type into it masked: mainland mobile numbers
    ("13812345678" -> "138****5678"), landlines ("0571-88886666" -> "0571-****6666"), e-mail
    addresses ("li.lei@qq.com" -> "l***@qq.com"), 18-digit resident ID numbers (birth date
    hidden) and the street part of an address ("北京市朝阳区建国路88号" -> "北京市朝阳区****").
    Full-width and other non-ASCII digits and signs are read as their ASCII forms ("１３８…" is a
    mobile number too). Everything else is left as written."""
    if not s:
        return ""
    text = str(s)
    folded = _fold(text)
    for pattern, replace in _TEXT_MASKS:
        text, folded = _splice(pattern, text, folded, replace)
    return text


def mask_name(s: str | None) -> str:
    """Chinese names keep the surname: "张三" -> "张*", "张三丰" -> "张**", "欧阳娜娜" -> "欧阳**".

    Names with a middle dot mask each part after its first character ("买买提·艾力" -> "买**·艾*").
    Latin names keep each word's initial and hide the length: "John Smith" -> "J*** S***".
    """
    if not s:
        return ""
    name = str(s).strip()
    if not name:
        return ""
    if _CJK.search(name):
        if "·" in name or "•" in name:
            parts = re.split(r"([·•])", name)
            return "".join(p if p in "·•" else (p[:1] + "*" * (len(p) - 1)) for p in parts)
        keep = 2 if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES else 1
        if len(name) <= keep:
            return "*" * len(name)
        return name[:keep] + "*" * (len(name) - keep)
    return " ".join(word[0] + "***" for word in name.split())


_MUNICIPALITY = r"(?:北京|天津|上海|重庆)市"
_MUNICIPALITIES = frozenset({"北京市", "天津市", "上海市", "重庆市"})
_PROVINCE = re.compile(
    rf"^(?:{_MUNICIPALITY}|[\u4e00-\u9fff]{{2,3}}省|[\u4e00-\u9fff]{{2,8}}?自治区|(?:香港|澳门)特别行政区)"
)
_CITY = re.compile(r"^[\u4e00-\u9fff]{1,10}?(?:自治州|地区|盟|市)")
_ADDRESS_MASK = "****"


def mask_address(s: str | None) -> str:
    """Keep the province and city, mask the rest (fixed-length mask, so the length is not revealed).

    "浙江省杭州市西湖区文三路90号" -> "浙江省杭州市****"; "上海市浦东新区张江路1号" -> "上海市****".
    Latin-script addresses ("Room 5, 90 Wensan Rd, Hangzhou, Zhejiang") keep the last two
    comma-separated parts. An address whose region cannot be recognised is masked completely.
    """
    if not s:
        return ""
    text = str(s).strip()
    compact = _SPACES.sub("", text)
    if _CJK.match(compact):
        kept = ""
        province = _PROVINCE.match(compact)
        if province:
            kept = province.group(0)
        if kept not in _MUNICIPALITIES:
            city = _CITY.match(compact[len(kept) :])
            if city:
                kept += city.group(0)
        if not kept:
            return _ADDRESS_MASK
        return kept + (_ADDRESS_MASK if len(kept) < len(compact) else "")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) >= 3:
        return _ADDRESS_MASK + ", " + ", ".join(parts[-2:])
    return _ADDRESS_MASK


def _masked_by_key(key: str, value: str) -> str:
    name = key.lower()
    if "phone" in name or name in ("mobile", "tel", "telephone"):
        masked = mask_in_text(value)
        return masked if masked != value else mask_phone(value)
    if name.endswith("address") and not name.endswith("ip_address"):
        return mask_address(value)
    return mask_in_text(value)


def mask_in_data(value, *, key: str = ""):
    """Structured data (parsed JSON: dicts, lists, strings, numbers) with the personal data in
    its strings masked: a value under a key naming a phone number or an address is masked as one
    (`mask_phone`, `mask_address`), every other string as free text (`mask_in_text`). Keys,
    numbers and other values are kept."""
    if isinstance(value, str):
        return _masked_by_key(key, value) if key else mask_in_text(value)
    if isinstance(value, dict):
        return {k: mask_in_data(v, key=k if isinstance(k, str) else "") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_in_data(v, key=key) for v in value]
    return value

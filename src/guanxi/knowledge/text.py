"""Words of a question: jieba segmentation for Chinese, plain splitting for the rest, stop words dropped.

No Django here: the search, the suggestions and the FAQ grouping all start from these functions, and tests
(or a CLI on a CSV of queries) can run them without a database.
"""

from __future__ import annotations

import logging
import re
import unicodedata

import jieba

jieba.setLogLevel(logging.WARNING)

MAX_TERMS = 8
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[\w\u3400-\u9fff]+")  # punctuation (，。？! …) separates words and is dropped
STOP_WORDS = frozenset(
    "您好 你好 谢谢 的 了 是 我 你 他 她 它 们 我们 你们 吗 呢 吧 啊 呀 和 与 或 在 有 没有 "
    "不 要 会 能 可以 把 被 给 对 为 "
    "怎么 怎么办 怎样 如何 什么 为什么 哪里 哪个 请 请问 问 一下 一个 这个 那个 这 那 就 也 都 还 想 应该 需要 "
    "a an the to of is are was were be do does did i my me you your we our it its can could how what why "
    "when where which who in on at for and or with from by this that please help".split()
)


def fold(text: str) -> str:
    """Full-width forms to ASCII (NFKC) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _split_compound(word: str) -> list[str]:
    """A long Chinese compound (账号密码) as its dictionary words (账号, 密码), so each is searched alone."""
    if len(word) < 4 or not _CJK.match(word):
        return [word]
    known = {w for w in jieba.cut_for_search(word) if len(w) == 2}
    parts = [word[i : i + 2] for i in range(0, len(word), 2)]
    return parts if len(word) % 2 == 0 and all(p in known for p in parts) else [word]  # only a clean tiling


def words(text: str) -> list[str]:
    """Every word of `text` in order: Chinese runs segmented by jieba, other runs as they are."""
    out: list[str] = []
    for run in _WORD.findall(fold(text)):
        if _CJK.search(run):
            for word in jieba.cut(run):
                word = word.strip()
                if word and _WORD.fullmatch(word):
                    out.extend(_split_compound(word))
        else:
            out.append(run)
    return out


def keywords(text: str, limit: int = MAX_TERMS) -> list[str]:
    """The words worth searching for, most frequent first (ties in order of appearance): stop words and
    single Chinese characters are left out unless nothing else is left."""
    found = words(text)
    useful = [w for w in found if w not in STOP_WORDS and not (len(w) == 1 and _CJK.match(w))]
    if not useful:
        useful = [w for w in found if w not in STOP_WORDS] or found
    counts: dict[str, int] = {}
    for word in useful:
        counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts, key=lambda w: -counts[w])  # sorted() is stable: first seen wins a tie
    return ranked[:limit]


def normalize_question(text: str) -> str:
    """One key per question, for counting how often it is asked: the keywords in a fixed order, so
    "如何重置密码？", "重置 密码" and "密码重置" are the same question."""
    return " ".join(sorted(keywords(text, limit=MAX_TERMS)))[:200]

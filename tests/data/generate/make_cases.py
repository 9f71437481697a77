# ruff: noqa: RUF001
# Run from the repository root: python tests/data/generate/make_cases.py
"""Write tests/data/cases/*.json: input, options, expected text, expected report.

Each expected text is assembled from the same pieces as the input, never by
running dedupe; the expected report names the removed lines by construction.
"""

import json
import pathlib

seed = pathlib.Path("samples/rudaw-article.txt").read_text(encoding="utf-8")
lines = seed.split("\n")
title, body, footer = lines[0], lines[1:12], lines[12 + 11 :]
assert len(body) == 11
assert footer[0] == "Comments"
zh = [
    "香港行政长官梁振英在各方压力下就其大宅的违章建筑（僭建）问题到立法会接受质询，并向香港民众道歉。",
    "梁振英在星期二（12月10日）的答问大会开始之际在其演说中道歉，但强调他在违章建筑问题上没有隐瞒的意图和动机。",
    "一些亲北京阵营议员欢迎梁振英道歉，且认为应能获得香港民众接受，但这些议员也质问梁振英有否向执法部门施压。",
    "香港媒体于6月份曝光梁振英大宅的首批违建部分后，于3月的选举中被击败的民主党参选人何俊仁向法院提出选举呈请，至11月中旬被终审法院驳回。",
]
cases = {}


def case(name, text, expected, removed, blocks, options=None, note=""):
    cases[name] = {
        "note": note,
        "options": options or {},
        "input": text,
        "expected": expected,
        "report": {"blocks": blocks, "removed": removed},
    }


def exact_block(first_line, twin_first, n, method="exact"):
    return [[first_line + i, twin_first + i, method, False] for i in range(n)]


# 1. the seed itself
case(
    "seed",
    seed,
    pathlib.Path("samples/rudaw-article.expected.txt").read_text(encoding="utf-8"),
    exact_block(13, 2, 11),
    [[13, 23, 2, 12, 11]],
    note="body scraped twice; lines 13-23 repeat 2-12",
)

# 2. the body repeated with small edits
edited = list(body)
edited[0] = edited[0].replace("last week", "last  week ")  # extra spaces
edited[2] = edited[2].replace("The New York Times", "The New York Tmies")  # a typo
edited[3] = edited[3].replace("early January", "early February")  # a changed date
edited[8] = edited[8].replace("\u201c", '"').replace("\u201d", '"')  # curly -> straight quotes
edited[10] = edited[10].replace("in 2014", "in 2014 ") + "  "  # trailing spaces
edited[6] = edited[6].replace("embassy", "embasy")  # another typo
assert all(edited[i] != body[i] for i in (0, 2, 3, 6, 8, 10))
text = "\n".join([title, *body, *edited, *footer])
methods = {0: "exact", 2: "near", 3: "near", 6: "near", 8: "exact", 10: "exact"}
removed = [[13 + i, 2 + i, methods.get(i, "exact"), False] for i in range(11)]
case(
    "seed_edits",
    text,
    "\n".join([title, *body, *footer]),
    removed,
    [[13, 23, 2, 12, 11]],
    note="second copy edited: spaces, typos, a changed month, straight quotes, trailing spaces",
)

# 3. repeated three times
text = "\n".join([title, *body, *body, *body, *footer])
removed = exact_block(13, 2, 11) + exact_block(24, 2, 11)
case(
    "three_times",
    text,
    "\n".join([title, *body, *footer]),
    removed,
    [[13, 23, 2, 12, 11], [24, 34, 2, 12, 11]],
    note="the body three times",
)

# 4. repeated in the middle of other text
intro = [
    "Breaking news from the region, updated through the day by our correspondents"
    " on the ground in Erbil and Baghdad."
]
outro = [
    "Related coverage",
    "Iraqi parliament votes on the withdrawal of foreign troops after a long and"
    " heated session in Baghdad on Sunday.",
]
text = "\n".join([*intro, *body[:5], *body[:5], *body[5:], *outro]) + "\n"
removed = exact_block(7, 2, 5)
case(
    "middle",
    text,
    "\n".join([*intro, *body, *outro]) + "\n",
    removed,
    [[7, 11, 2, 6, 5]],
    note="five paragraphs repeated between the lead and the rest",
)


# 5. blank-line paragraphs (hard wrapped)
def wrap(par, width=72):
    out, line = [], ""
    for w in par.split():
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    out.append(line)
    return "\n".join(out)


paras = [wrap(p) for p in body[:4]]
text = "\n\n".join([paras[0], paras[1], paras[2], paras[1], paras[3]]) + "\n"
n1, n2, n3 = (paras[i].count("\n") + 1 for i in range(3))
dup_line = n1 + 1 + n2 + 1 + n3 + 2
case(
    "blank_line",
    text,
    "\n\n".join([paras[0], paras[1], paras[2], paras[3]]) + "\n",
    [[dup_line, n1 + 2, "exact", False]],
    [[dup_line, dup_line + n2 - 1, n1 + 2, n1 + 1 + n2, 1]],
    note="hard-wrapped paragraphs separated by blank lines; the second one repeats",
)

# 6. CRLF line endings
text = "\r\n".join([title, *body, *body, *footer]) + "\r\n"
case(
    "crlf",
    text,
    "\r\n".join([title, *body, *footer]) + "\r\n",
    exact_block(13, 2, 11),
    [[13, 23, 2, 12, 11]],
    note="Windows line endings round-trip",
)

# 7. the repeat at the very end, no final newline
text = "\n\n".join([body[0], body[1], body[2], body[1]])
case(
    "tail_no_final_newline",
    text,
    "\n\n".join([body[0], body[1], body[2]]),
    [[7, 3, "exact", False]],
    [[7, 7, 3, 3, 1]],
    options={"mode": "blank-line"},
    note="the last paragraph repeats and there is no final newline: none is added",
)

# 8. nothing repeated
text = "\n".join([title, *body, *footer])
case("nothing", text, text, [], [], note="output identical to input")

# 9. short lines never removed on their own
text = (
    "\n".join(
        [
            "cat",
            "dog",
            "Comments",
            body[0],
            "Share",
            "cat",
            "Comments",
            "dog",
            "Share",
            body[1],
            "Comments",
        ]
    )
    + "\n"
)
case(
    "short_lines",
    text,
    text,
    [],
    [],
    note="one-word lines repeat, different short lines stay apart",
)

# 10. short lines inside a repeated block go with it
block = [body[0], "Advertisement", body[1], "What the directive says", body[2]]
text = "\n".join([title, *block, *block, *footer])
removed = [
    [7, 2, "exact", False],
    [8, 3, "exact", True],
    [9, 4, "exact", False],
    [10, 5, "exact", True],
    [11, 6, "exact", False],
]
case(
    "block_short_lines",
    text,
    "\n".join([title, *block, *footer]),
    removed,
    [[7, 11, 2, 6, 5]],
    note="an ad line and a subheading repeat with the body",
)

# 11. CJK paragraphs repeated
text = "\n".join([zh[0], zh[1], zh[2], zh[1], zh[3], zh[2]]) + "\n"
case(
    "cjk",
    text,
    "\n".join([zh[0], zh[1], zh[2], zh[3]]) + "\n",
    [[4, 2, "exact", False], [6, 3, "exact", False]],
    [[4, 4, 2, 2, 1], [6, 6, 3, 3, 1]],
    note="Chinese: character shingles",
)

# 12. UTF-8 BOM kept
text = "\ufeff" + "\n".join([body[0], body[1], body[0]]) + "\n"
case(
    "bom",
    text,
    "\ufeff" + "\n".join([body[0], body[1]]) + "\n",
    [[3, 1, "exact", False]],
    [[3, 3, 1, 1, 1]],
    note="a byte-order mark stays; the first paragraph still matches its copy",
)

# 13. a copy re-wrapped into short lines (print/AMP version)
rewrapped, source = [], []
for k, p in enumerate(body[:3]):
    pieces = wrap(p, 60).split("\n")
    rewrapped.extend(pieces)
    source.extend([k + 2] * len(pieces))
text = "\n".join([title, *body[:3], "Print version", *rewrapped, *footer])
first = 6
removed = [[first + i, source[i], "contained", True] for i in range(len(rewrapped))]
case(
    "rewrapped",
    text,
    "\n".join([title, *body[:3], "Print version", *footer]),
    removed,
    [[first, first + len(rewrapped) - 1, 2, 4, len(rewrapped)]],
    note="the body again, wrapped at 60 characters: each line is a piece of a kept paragraph",
)

# 14. two paragraphs merged into one
text = "\n".join([title, body[0], body[1], body[2], body[0] + " " + body[1], body[3]])
case(
    "merged",
    text,
    "\n".join([title, body[0], body[1], body[2], body[3]]),
    [[5, 2, "covered", False]],
    [[5, 5, 2, 3, 1]],
    note="a later paragraph is two kept ones merged",
)

# 15. a teaser repeated above the full text
teaser = " ".join(body[1].split()[:20])
text = "\n".join([title, teaser, "Read more below", *body[:4]])
case(
    "teaser",
    text,
    "\n".join([title, "Read more below", *body[:4]]),
    [[2, 5, "contained", False]],
    [[2, 2, 5, 5, 1]],
    note="the first 20 words of a paragraph above the article: the shorter copy goes",
)

# 16. keep the longest of a group
short = body[4]
longer = body[4] + " Officials in Baghdad did not respond to requests for comment."
text = "\n".join([title, short, body[5], longer])
case(
    "keep_longest",
    text,
    "\n".join([title, body[5], longer]),
    [[2, 4, "contained", False]],
    [[2, 2, 4, 4, 1]],
    options={"keep": "longest"},
    note="keep=longest keeps the expanded copy",
)

out = pathlib.Path("tests/data/cases")
for name, c in cases.items():
    (out / f"{name}.json").write_text(
        json.dumps(c, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
print(len(cases))

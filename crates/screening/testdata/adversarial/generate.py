#!/usr/bin/env python3
"""Generates the adversarial and real-language screening sets from sources no one here wrote.

- Disguises: the typosquatting permutations of dnstwist (omission, repetition,
  transposition, keyboard replacement and insertion, addition, vowel swap, hyphenation,
  plural, ASCII homoglyphs and its whole-name Cyrillic), look-alikes from the Unicode
  confusables data (as packaged by confusable_homoglyphs), and the styled, enclosed and
  reversed forms Unicode makes possible; names glued to other words (hashtags, camel case,
  run together) and names with invisible characters inside.
- Real language: wordfreq's word-frequency lists (English, French, German, Italian,
  Spanish, Chinese) for titles; for words one letter from a brand's name, Debian's
  spelling dictionaries (British English, French, German, Italian, Spanish), a source
  apart from the frequency lists the engine's lexicon is made from.

Writes `disguised.jsonl` (counterfeit listings, one disguise kind each) and
`legitimate.jsonl` (titles of real words, real words one letter from a brand name, and
titles starting with one word of a multi-word brand name), over the catalogue in
`../brands.json`. Deterministic for the pinned versions:

    pip install wordfreq==3.1.1 dnstwist==20250130 confusable_homoglyphs==3.3.1
    apt-get install wbritish-large wfrench wngerman witalian wspanish
    python3 generate.py
"""

import json
import random
import re
import sys
import unicodedata
from pathlib import Path

import dnstwist
from confusable_homoglyphs import confusables
from wordfreq import top_n_list

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from generate import CATEGORY_NOUNS  # noqa: E402  (the labelled set's product nouns)
rng = random.Random(20261203)

ADJECTIVES = ["black", "brown", "new", "classic", "vintage", "large", "small", "2025",
              "women's", "men's", "white", "beige", "gold"]
# Trade terms of the counterfeit market, written the way listings write them.
VOCABULARY = ["replica", "1:1", "AAA", "mirror quality", "super fake", "dupe", "high copy",
              "UA quality", "7A", "OEM factory", "top quality", "高仿", "复刻", "原单",
              "精仿", "A货", "一比一", "莆田", "纯原"]
EMOJI = ["🔥", "⭐", "✨", "💎", "👜", "★", "❤"]
SEPARATORS = ["-", "|", "+", "/", "~", ".", "_", "*"]
LANGUAGES = ["en", "fr", "de", "it", "es", "zh"]
DICTIONARIES = {"en": "british-english-large", "fr": "french", "de": "ngerman",
                "it": "italian", "es": "spanish"}


def ascii_fold(word):
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_of(language, n):
    """The language's n most frequent words that are words (letters, or ideographs)."""
    words = []
    for w in top_n_list(language, n):
        if language == "zh":
            if all("\u4e00" <= c <= "\u9fff" for c in w):
                words.append(w)
        elif re.fullmatch(r"[^\W\d_]{2,}", w):
            words.append(w)
    return words


def one_edit(word):
    """Every string one deletion, transposition, replacement or insertion from `word`."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in letters]
    inserts = [a + c + b for a, b in splits for c in letters]
    return set(deletes + transposes + replaces + inserts) - {word}


# ---- disguises ------------------------------------------------------------------------------

def dnstwist_variants(word):
    """dnstwist's permutations of a lower-case word, by fuzzer."""
    fuzzer = dnstwist.Fuzzer(f"{word}.com")
    fuzzer.generate()
    by_kind = {}
    for d in fuzzer.domains:
        name = d["domain"].rsplit(".", 1)[0]
        if name.startswith("xn--"):
            name = name.encode("ascii").decode("idna")
        if "." in name or name == word:
            continue
        by_kind.setdefault(d["fuzzer"], []).append(name)
    return by_kind


def homoglyphs(ch, scripts):
    """Look-alikes of `ch` from the confusables data, in the given scripts."""
    found = confusables.is_confusable(ch, greedy=True, preferred_aliases=[])
    out = []
    for entry in found or []:
        for h in entry["homoglyphs"]:
            c = h["c"]
            if len(c) == 1 and any(h["n"].startswith(s) for s in scripts):
                out.append(c)
    return out


def one_lookalike(name):
    positions = [i for i, c in enumerate(name) if homoglyphs(c, ("CYRILLIC", "GREEK"))]
    if not positions:
        return None
    chars = list(name)
    i = rng.choice(positions)
    chars[i] = rng.choice(homoglyphs(chars[i], ("CYRILLIC", "GREEK")))
    return "".join(chars)


def whole_script(name, script):
    """Every letter that has a look-alike in `script` replaced by it; None unless most do."""
    out, replaced, letters = [], 0, 0
    for c in name:
        if c.isalpha():
            letters += 1
            choices = homoglyphs(c, (script,)) or homoglyphs(c.lower(), (script,))
            if choices:
                out.append(choices[0])
                replaced += 1
                continue
        out.append(c)
    return "".join(out) if replaced * 4 >= letters * 3 else None


def enclosed(name):
    """Negative squared, negative circled, circled or squared capitals."""
    base = rng.choice([0x1F170, 0x1F150, 0x24B6, 0x1F130])
    return "".join(chr(base + ord(c.upper()) - ord("A")) if c.isascii() and c.isalpha() else c
                   for c in name)


SMALL_CAPITALS = dict(zip("abcdefghijklmnopqrstuvwxyz",
                          "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡxʏᴢ"))


def small_capitals(name):
    return "".join(SMALL_CAPITALS.get(c.lower(), c) for c in name)


def math_styled(name):
    """Mathematical bold, italic, script or double-struck letters."""
    upper, lower = rng.choice([(0x1D400, 0x1D41A), (0x1D434, 0x1D44E), (0x1D4D0, 0x1D4EA),
                               (0x1D538, 0x1D552)])
    out = []
    for c in name:
        styled = c
        if c.isascii() and c.isupper():
            styled = chr(upper + ord(c) - ord("A"))
        elif c.isascii() and c.islower():
            styled = chr(lower + ord(c) - ord("a"))
        # Unicode leaves holes where the letter was encoded before (italic h is U+210E).
        out.append(styled if unicodedata.name(styled, None) else c)
    return "".join(out)


def reversed_rtl(name):
    """Written backwards under a right-to-left override: displayed as the name."""
    return "\u202e" + name[::-1] + "\u202c"


def separated(name, separators):
    letters = [i for i in range(1, len(name)) if name[i - 1].isalpha() and name[i].isalpha()]
    chars = list(name)
    if rng.random() < 0.3:
        sep = rng.choice(separators)
        return "".join(c + (sep if i + 1 in letters else "") for i, c in enumerate(chars))
    for i in sorted(rng.sample(letters, k=min(len(letters), rng.randint(1, 2))), reverse=True):
        chars.insert(i, rng.choice(separators))
    return "".join(chars)


LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "l": "1"}


def leet(name):
    positions = [i for i, c in enumerate(name) if c.lower() in LEET]
    if not positions:
        return None
    chars = list(name)
    for i in rng.sample(positions, k=min(len(positions), rng.randint(1, 2))):
        chars[i] = LEET[chars[i].lower()]
    return "".join(chars)


def spaced(name):
    return rng.choice([" ", ". ", "."]).join(c for c in name if c != " ")


def accented(name):
    table = {"a": "àáâä", "e": "èéêë", "i": "ìíîï", "o": "òóôö", "u": "ùúûü"}
    positions = [i for i, c in enumerate(name) if c.lower() in table]
    if not positions:
        return None
    chars = list(name)
    for i in rng.sample(positions, k=min(len(positions), 2)):
        chars[i] = rng.choice(table[chars[i].lower()])
    return "".join(chars)


def styled_case(text, original):
    """A permutation of the lower-case name, in the name's own capitalisation style."""
    if original.isupper():
        return text.upper()
    return text[:1].upper() + text[1:]


# Words sellers glue to a name ("guccioutlet", "#rolexofficial", "NewGucci").
GLUED = ["official", "outlet", "original", "store", "shop", "sale", "new", "best"]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff"]


def hashtag(name, r):
    compact = "".join(c for c in name if c.isalnum())
    return "#" + (compact.lower() if r.random() < 0.7 else compact)


def glued(name, r):
    compact = "".join(c for c in name if c.isalnum()).lower()
    word = r.choice(GLUED)
    shown = word + compact if word in ("new", "best") else compact + word
    return ("#" if r.random() < 0.5 else "") + shown


def camel_case(name, r):
    compact = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^\w]+", name) if w)
    word = r.choice(GLUED).capitalize()
    return word + compact if word in ("New", "Best") else compact + word


def invisible(name, r):
    letters = [i for i in range(1, len(name)) if name[i - 1].isalpha() and name[i].isalpha()]
    if not letters:
        return None
    chars = list(name)
    for i in sorted(r.sample(letters, k=min(len(letters), r.randint(1, 2))), reverse=True):
        chars.insert(i, r.choice(INVISIBLE))
    return "".join(chars)


def typo_word(name):
    """The word of a name that a typosquatter changes: the longest."""
    return max(name.split(" "), key=len)


def main():
    brands = json.loads((HERE.parent / "brands.json").read_text())
    lexicon = set()
    for language in LANGUAGES[:-1]:
        lexicon.update(ascii_fold(w).lower() for w in words_of(language, 100_000))
    brand_terms = set()
    for b in brands:
        for t in [b["name"], *b["aliases"]]:
            brand_terms.add(ascii_fold(t).lower())
            brand_terms.update(ascii_fold(t).lower().split(" "))

    disguised = []

    def row(label, kind, brand_id, title, description, category, price, language="", r=rng):
        return {"label": label, "kind": kind, "language": language, "brand_id": brand_id,
                "title": title, "description": description, "category": category,
                "price": price, "young_seller": r.random() < 0.3}

    def counterfeit(kind, brand, shown, r=rng, contexts=3):
        category = r.choice(brand["categories"])
        noun = r.choice(CATEGORY_NOUNS[category])
        ref = next(p["price"] for p in brand["reference_prices"] if p["category"] == category)
        # A third cheap and selling with the trade's words, a third cheap only, a third at
        # nearly the real price with no words at all: the disguise must carry those.
        # (`contexts` 2: never the last, for a name written plainly but glued to a word.)
        context = len(disguised) % contexts
        vocab = r.choice(VOCABULARY) if context == 0 else ""
        ratio = r.uniform(0.05, 0.4) if context < 2 else r.uniform(0.6, 0.95)
        title = f"{shown} {r.choice(ADJECTIVES)} {noun} {vocab}".strip()
        price = {"currency_code": ref["currency_code"], "units": max(1, int(ref["units"] * ratio)),
                 "nanos": 0}
        description = f"{r.choice(ADJECTIVES)} {noun}, fast shipping"
        disguised.append(row("counterfeit", kind, brand["brand_id"], title, description,
                             category, price, r=r))

    for brand in brands:
        name = brand["name"]
        word = typo_word(name)
        lower = ascii_fold(word).lower()
        if re.fullmatch("[a-z]+", lower):
            variants = dnstwist_variants(lower)
            for kind in ["omission", "repetition", "transposition", "replacement", "insertion",
                         "addition", "vowel-swap", "hyphenation", "plural", "homoglyph"]:
                # A typo that is itself a word or another brand is not a disguise of this one.
                # dnstwist hands its permutations over in set order: sorted, for the same
                # sample every run.
                pool = sorted({v for v in variants.get(kind, [])
                               if v not in lexicon and v not in brand_terms and v.isascii()})
                for v in rng.sample(pool, k=min(len(pool), 3)):
                    counterfeit(f"typo-{kind}", brand, name.replace(word, styled_case(v, word)))
        for kind, disguise in [
            ("lookalike-one", one_lookalike),
            ("lookalike-cyrillic", lambda n: whole_script(n, "CYRILLIC")),
            ("lookalike-greek", lambda n: whole_script(n, "GREEK")),
            ("reversed-rtl", reversed_rtl),
            ("enclosed", enclosed),
            ("small-capitals", small_capitals),
            ("math-styled", math_styled),
            ("separator", lambda n: separated(n, SEPARATORS)),
            ("emoji", lambda n: separated(n, EMOJI)),
            ("leetspeak", leet),
            ("spaced", spaced),
            ("accents", accented),
        ]:
            shown = {disguise(name) for _ in range(6)} - {None, name}
            for s in sorted(shown)[:3]:
                counterfeit(kind, brand, s)

    # Names glued to other words, as hashtags and run-together titles write them, and names
    # with invisible characters inside. Drawn with a generator of their own, so that the
    # rows above and the legitimate rows below stay as they were.
    glue_rng = random.Random(20261208)
    for brand in brands:
        name = brand["name"]
        for kind, disguise in [
            ("hashtag", hashtag),
            ("glued", glued),
            ("camel-case", camel_case),
            ("invisible", invisible),
        ]:
            shown = {disguise(name, glue_rng) for _ in range(6)} - {None, name}
            # A hashtag or a name glued to a word is no disguise: the listing says
            # counterfeit otherwise. Invisible characters are one.
            contexts = 3 if kind == "invisible" else 2
            for s in sorted(shown)[:3]:
                counterfeit(kind, brand, s, glue_rng, contexts)

    legitimate = []

    def legit(kind, language, title, category, brand_id="", r=rng):
        price = {"currency_code": "EUR", "units": r.randint(5, 400), "nanos": 0}
        legitimate.append(row("legitimate", kind, brand_id, title, "see photos", category,
                              price, language))

    categories = sorted(CATEGORY_NOUNS)
    for language in LANGUAGES:
        words = words_of(language, 50_000)
        for _ in range(2000):
            k = rng.randint(3, 7)
            chosen = rng.sample(words, k)
            title = ("".join(chosen) if language == "zh" and rng.random() < 0.5
                     else " ".join(chosen))
            if rng.random() < 0.5:
                title = title[:1].upper() + title[1:]
            legit("words", language, title, rng.choice(categories))

    def near_words(kind, words, r):
        """Words of `words` (folded: as written, language) one letter from a brand's name or
        a word of it, in the brand's category, drawn with `r`."""
        for brand in brands:
            targets = {ascii_fold(t).lower() for t in [brand["name"], *brand["aliases"]]}
            targets |= {w for t in list(targets) for w in t.split(" ")}
            targets = {t for t in targets if re.fullmatch("[a-z]{3,}", t)}
            near = sorted({
                w for t in targets for w in one_edit(t)
                if w in words and w not in brand_terms and len(w) >= 3
            })
            for w in r.sample(near, k=min(len(near), 12)):
                word, language = words[w]
                category = r.choice(brand["categories"])
                noun = r.choice(CATEGORY_NOUNS[category])
                legit(kind, language, f"{word.capitalize()} {r.choice(ADJECTIVES)} {noun}",
                      category, brand["brand_id"], r)

    # Real words one letter from a brand's name (or a word of it), in the brand's category.
    vocab = {}
    for language, dictionary in DICTIONARIES.items():
        with open(f"/usr/share/dict/{dictionary}", encoding="utf-8") as words:
            for w in words:
                w = w.strip()
                if re.fullmatch(r"[^\W\d_]{3,}", w):
                    vocab.setdefault(ascii_fold(w).lower(), (w, language))
    near_words("near-brand", vocab, rng)

    # Titles starting with one word of a multi-word brand name that is a common word of its
    # own (among a language's 15,000 most frequent).
    common = {}
    for language in LANGUAGES[:-1]:
        for w in words_of(language, 15_000):
            common.setdefault(ascii_fold(w).lower(), (w, language))
    for brand in brands:
        parts = brand["name"].split(" ")
        if len(parts) < 2:
            continue
        for part in parts:
            folded = ascii_fold(part).lower()
            if folded not in common:
                continue
            word, language = common[folded]
            for _ in range(6):
                category = rng.choice(brand["categories"])
                noun = rng.choice(CATEGORY_NOUNS[category])
                extra = " ".join(rng.sample(words_of(language, 5_000), 2))
                legit("partial-name", language, f"{part} {extra} {noun}", category,
                      brand["brand_id"])

    # Real words one letter from a brand's name from the frequency lists themselves, the
    # 200,000 most frequent of each language: the lexicon knows the first 100,000 (the
    # first 50,000 in Portuguese and Dutch, which are not drawn here), so half the band is
    # known and the other half is not. Drawn with a generator of their own, so that the
    # rows above stay as they were.
    near_rng = random.Random(20261207)
    for band, (low, high) in [("known", (0, 100_000)), ("rare", (100_000, 200_000))]:
        frequent = {}
        for language in LANGUAGES[:-1]:
            for w in top_n_list(language, high)[low:]:
                if re.fullmatch(r"[^\W\d_]{3,}", w):
                    frequent.setdefault(ascii_fold(w).lower(), (w, language))
        near_words(f"near-word-{band}", frequent, near_rng)

    for path, rows in [("disguised.jsonl", disguised), ("legitimate.jsonl", legitimate)]:
        with open(HERE / path, "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(disguised)} disguised, {len(legitimate)} legitimate")


if __name__ == "__main__":
    main()

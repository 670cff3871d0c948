#!/usr/bin/env python3
"""Generates the labelled screening set: brands.json and labelled.jsonl.

Half the listings are counterfeits written the way counterfeiters write them (brand names
obfuscated with leetspeak, look-alike letters, spacing, misspellings, accents, full-width
forms, other scripts; counterfeit vocabulary in English and Chinese; implausible prices;
logo-like images; young or struck sellers). The other half are legitimate listings chosen
to be hard: genuine resellers, authorised sellers on sale, ordinary words that are brand
names (a coach bus toy, omega-3 capsules, a Pandora's box), accessories that name what they
fit ("case for iPhone"), and plain unbranded goods.

Deterministic: `python3 generate.py` always writes the same files. Re-run after editing.
"""

import json
import random
from pathlib import Path

rng = random.Random(20261128)
HERE = Path(__file__).parent

# name, aliases, categories, reference price (currency, units), ordinary word?
BRANDS = [
    ("Louis Vuitton", ["LV", "路易威登"], ["handbags", "wallets", "belts"], ("EUR", 1800), False),
    ("Gucci", ["古驰"], ["handbags", "belts", "footwear"], ("EUR", 1400), False),
    ("Chanel", ["香奈儿"], ["handbags", "perfume"], ("EUR", 5000), False),
    ("Hermes", ["Hermès", "爱马仕"], ["handbags", "scarves"], ("EUR", 7000), False),
    ("Prada", ["普拉达"], ["handbags", "footwear"], ("EUR", 1600), False),
    ("Rolex", ["劳力士"], ["watches"], ("USD", 9000), False),
    ("Cartier", ["卡地亚"], ["watches", "jewelry"], ("USD", 6500), False),
    ("Nike", ["耐克"], ["footwear", "sportswear"], ("USD", 140), False),
    ("Adidas", ["阿迪达斯"], ["footwear", "sportswear"], ("USD", 120), False),
    ("Balenciaga", ["巴黎世家"], ["footwear", "handbags"], ("EUR", 900), False),
    ("Dior", ["迪奥"], ["handbags", "perfume"], ("EUR", 3000), False),
    ("Versace", ["范思哲"], ["apparel", "sunglasses"], ("EUR", 400), False),
    ("Burberry", ["博柏利"], ["apparel", "scarves"], ("GBP", 900), False),
    ("Moncler", ["盟可睐"], ["apparel"], ("EUR", 1300), False),
    ("Supreme", [], ["apparel", "sportswear"], ("USD", 180), False),
    ("Off-White", [], ["apparel", "footwear"], ("USD", 500), False),
    ("Yeezy", [], ["footwear"], ("USD", 300), False),
    ("Ray-Ban", ["雷朋"], ["sunglasses"], ("USD", 180), False),
    ("Oakley", [], ["sunglasses"], ("USD", 200), False),
    ("Tiffany", ["Tiffany & Co", "蒂芙尼"], ["jewelry"], ("USD", 450), False),
    ("Bvlgari", ["Bulgari", "宝格丽"], ["jewelry", "watches"], ("EUR", 2500), False),
    ("Hublot", ["宇舶"], ["watches"], ("USD", 12000), False),
    ("Patek Philippe", ["百达翡丽"], ["watches"], ("USD", 35000), False),
    ("Audemars Piguet", ["爱彼"], ["watches"], ("USD", 30000), False),
    ("Michael Kors", ["MK"], ["handbags", "watches"], ("USD", 300), False),
    ("Kate Spade", [], ["handbags", "wallets"], ("USD", 250), False),
    ("Longchamp", ["珑骧"], ["handbags"], ("EUR", 150), False),
    ("Celine", ["思琳"], ["handbags"], ("EUR", 2500), False),
    ("Fendi", ["芬迪"], ["handbags"], ("EUR", 2200), False),
    ("Givenchy", ["纪梵希"], ["handbags", "perfume"], ("EUR", 1800), False),
    ("Valentino", ["华伦天奴"], ["footwear", "handbags"], ("EUR", 1100), False),
    ("Bottega Veneta", ["葫芦娃"], ["handbags"], ("EUR", 3000), False),
    ("Saint Laurent", ["YSL", "圣罗兰"], ["handbags", "perfume"], ("EUR", 1900), False),
    ("Canada Goose", [], ["apparel"], ("USD", 1200), False),
    ("The North Face", ["TNF", "北面"], ["apparel"], ("USD", 300), False),
    ("Beats", ["Beats by Dre"], ["headphones"], ("USD", 250), False),
    ("Bose", [], ["headphones"], ("USD", 330), False),
    ("Samsung", ["三星"], ["phones"], ("USD", 900), False),
    ("AirPods", [], ["headphones"], ("USD", 180), False),
    ("Lego", ["乐高"], ["toys"], ("USD", 80), False),
    ("Pokemon", ["Pokémon", "宝可梦"], ["toys"], ("USD", 30), False),
    ("Swarovski", ["施华洛世奇"], ["jewelry"], ("EUR", 150), False),
    ("Chloe", ["Chloé", "蔻依"], ["handbags", "perfume"], ("EUR", 1500), False),
    ("Miu Miu", ["缪缪"], ["handbags"], ("EUR", 1500), False),
    ("Goyard", [], ["handbags"], ("EUR", 1600), False),
    ("Loewe", ["罗意威"], ["handbags"], ("EUR", 2500), False),
    # Brand names that are ordinary words too.
    ("Coach", ["蔻驰"], ["handbags", "wallets"], ("USD", 350), True),
    ("Puma", ["彪马"], ["footwear", "sportswear"], ("USD", 90), True),
    ("Apple", ["iPhone", "苹果"], ["phones", "laptops"], ("USD", 999), True),
    ("Omega", ["欧米茄"], ["watches"], ("USD", 6000), True),
    ("Pandora", ["潘多拉"], ["jewelry"], ("USD", 90), True),
    ("Guess", [], ["handbags", "apparel"], ("USD", 120), True),
    ("Fossil", [], ["watches"], ("USD", 150), True),
    ("Swatch", [], ["watches"], ("USD", 90), True),
    ("Converse", [], ["footwear"], ("USD", 70), True),
    ("Vans", [], ["footwear"], ("USD", 70), True),
    ("Mango", [], ["apparel"], ("EUR", 60), True),
    ("Diesel", [], ["apparel", "watches"], ("EUR", 180), True),
    ("Champion", [], ["sportswear"], ("USD", 60), True),
]

CATEGORY_NOUNS = {
    "handbags": ["tote bag", "shoulder bag", "crossbody bag", "handbag", "clutch"],
    "wallets": ["wallet", "card holder", "zip wallet"],
    "belts": ["belt", "leather belt"],
    "footwear": ["sneakers", "running shoes", "trainers", "boots", "slides"],
    "sportswear": ["hoodie", "track jacket", "t-shirt", "joggers"],
    "perfume": ["eau de parfum 100ml", "perfume", "fragrance"],
    "scarves": ["silk scarf", "scarf"],
    "watches": ["watch", "automatic watch", "chronograph"],
    "jewelry": ["necklace", "bracelet", "ring", "charm bracelet"],
    "apparel": ["jacket", "coat", "shirt", "down jacket"],
    "sunglasses": ["sunglasses", "aviator sunglasses"],
    "headphones": ["headphones", "wireless earbuds"],
    "phones": ["smartphone", "phone"],
    "laptops": ["laptop", "notebook"],
    "toys": ["building set", "plush", "trading cards"],
}

ADJECTIVES = ["black", "brown", "new", "classic", "vintage", "limited edition", "large",
              "small", "2024", "women's", "men's", "unisex", "white", "beige", "gold"]

VOCABULARY_EN = ["replica", "1:1", "AAA", "AAA+", "mirror quality", "super fake", "dupe",
                 "high copy", "knockoff", "grade AAA", "same as original", "5A quality"]
VOCABULARY_ZH = ["高仿", "复刻", "原单", "精仿", "A货", "一比一", "顶级复刻", "莆田"]

LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
CYRILLIC = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і"}


def slug_id(i):
    return f"brd_{i:032x}"


def leet(word):
    out, changed = [], False
    for ch in word:
        low = ch.lower()
        if low in LEET and (not changed or rng.random() < 0.5):
            out.append(LEET[low])
            changed = True
        else:
            out.append(ch)
    return "".join(out) if changed else word.replace("l", "1")


def confusable(word):
    chars = list(word)
    positions = [i for i, c in enumerate(chars) if c.lower() in CYRILLIC]
    if not positions:
        return word
    for i in rng.sample(positions, k=min(len(positions), rng.randint(1, 2))):
        chars[i] = CYRILLIC[chars[i].lower()]
    return "".join(chars)


def spaced(word):
    sep = rng.choice([".", " ", "-", " . ", "*"])
    return sep.join(ch for ch in word if ch != " ")


def misspelled(word):
    letters = [c for c in word]
    if len([c for c in letters if c.isalpha()]) < 5:
        return leet(word)
    i = rng.randrange(1, len(letters) - 1)
    kind = rng.choice(["swap", "drop", "double", "replace"])
    if kind == "swap" and letters[i + 1] != " " and letters[i] != " ":
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    elif kind == "drop" and letters[i] != " ":
        del letters[i]
    elif kind == "double":
        letters.insert(i, letters[i])
    else:
        letters[i] = rng.choice("aeiou")
    return "".join(letters)


def accented(word):
    table = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}
    for i, ch in enumerate(word):
        if ch.lower() in table:
            return word[:i] + table[ch.lower()] + word[i + 1:]
    return word


def fullwidth(word):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)


OBFUSCATIONS = [leet, confusable, spaced, misspelled, accented, fullwidth]


def price(ref, ratio):
    currency, units = ref
    return {"currency_code": currency, "units": max(1, int(units * ratio)), "nanos": 0}


def logo_near(logo):
    flipped = logo
    for bit in rng.sample(range(64), rng.randint(1, 5)):
        flipped ^= 1 << bit
    return flipped


def seller(young=False, strikes=0):
    if young:
        return {"account_age_days": rng.randint(1, 25), "rating": round(rng.uniform(2.5, 4.9), 1),
                "prior_strikes": strikes}
    return {"account_age_days": rng.randint(200, 3000), "rating": round(rng.uniform(4.3, 5.0), 1),
            "prior_strikes": strikes}


def main():
    brands = []
    for i, (name, aliases, categories, ref, ordinary) in enumerate(BRANDS):
        logos = [rng.getrandbits(64) | 1 for _ in range(2)]
        brands.append({
            "brand_id": slug_id(i + 1),
            "member_id": f"mbr_{(i // 3) + 1:032x}",
            "name": name,
            "aliases": aliases,
            "categories": categories,
            "reference_prices": [
                {"category": c, "price": {"currency_code": ref[0], "units": ref[1], "nanos": 0}}
                for c in categories
            ],
            "authorized_seller_ids": [f"{name.lower().replace(' ', '-')}-official"],
            "logo_hashes": logos,
            "_ordinary": ordinary,
            "_ref": ref,
        })

    listings = []

    def add(label, kind, title, description, category, price_, brand=None, images=None,
            seller_id=None, facts=None):
        listings.append({
            "label": label,
            "kind": kind,
            "brand_id": brand["brand_id"] if brand else "",
            "listing": {
                "listing_id": f"lbl-{len(listings):05d}",
                "seller_id": seller_id or f"seller-{rng.randint(1, 90000)}",
                "title": title,
                "description": description,
                "category": category,
                "price": price_,
                "images": [{"perceptual_hash": h} for h in (images or [])],
                "ship_from_country": rng.choice(["CN", "HK", "US", "DE", "IT", "FR", "VN", "TR"]),
                "seller": facts or seller(),
            },
        })

    distinctive = [b for b in brands if not b["_ordinary"]]
    ordinary = [b for b in brands if b["_ordinary"]]

    # ---- counterfeits: 520 ----------------------------------------------------------------
    for n in range(520):
        brand = rng.choice(brands)
        category = rng.choice(brand["categories"])
        noun = rng.choice(CATEGORY_NOUNS[category])
        style = n % 8
        term = brand["name"]
        if brand["aliases"] and rng.random() < 0.2:
            term = rng.choice(brand["aliases"])
        images = []
        facts = seller(young=rng.random() < 0.5, strikes=1 if rng.random() < 0.15 else 0)
        description = f"{rng.choice(ADJECTIVES)} {noun}, fast shipping, many colours"
        if style in (0, 1, 2):
            # obfuscated name, low price, often vocabulary
            shown = rng.choice(OBFUSCATIONS)(term)
            vocab = rng.choice(VOCABULARY_EN + VOCABULARY_ZH) if rng.random() < 0.6 else ""
            title = f"{shown} {rng.choice(ADJECTIVES)} {noun} {vocab}".strip()
            p = price(brand["_ref"], rng.uniform(0.03, 0.25))
        elif style in (3, 4):
            # the name as is, with counterfeit vocabulary
            vocab = rng.choice(VOCABULARY_EN + VOCABULARY_ZH)
            title = f"{term} {noun} {vocab} {rng.choice(ADJECTIVES)}"
            p = price(brand["_ref"], rng.uniform(0.03, 0.6))
        elif style == 5:
            # Chinese listing with the transliteration and Chinese vocabulary
            zh = [a for a in brand["aliases"] if any("\u4e00" <= c <= "\u9fff" for c in a)]
            shown = zh[0] if zh else f" {term} "
            title = f"{rng.choice(VOCABULARY_ZH)}{shown}{noun} 正品质量"
            p = price(brand["_ref"], rng.uniform(0.03, 0.2))
        elif style == 6:
            # no words at all: a copied logo image and a silly price
            title = f"{rng.choice(ADJECTIVES)} designer {noun} luxury"
            images = [logo_near(rng.choice(brand["logo_hashes"]))]
            p = price(brand["_ref"], rng.uniform(0.02, 0.15))
        else:
            # the name in the description, obfuscated, and a struck young seller
            title = f"{rng.choice(ADJECTIVES)} designer {noun}"
            description = f"{rng.choice(OBFUSCATIONS)(term)} {noun} {rng.choice(VOCABULARY_EN)}"
            facts = seller(young=True, strikes=rng.randint(1, 3))
            p = price(brand["_ref"], rng.uniform(0.03, 0.3))
        add("counterfeit", f"style-{style}", title, description, category, p, brand, images,
            facts=facts)

    # ---- legitimate but tricky: 520 -------------------------------------------------------
    for n in range(110):
        # genuine resellers at plausible prices
        brand = rng.choice(distinctive + ordinary)
        category = rng.choice(brand["categories"])
        noun = rng.choice(CATEGORY_NOUNS[category])
        title = f"{brand['name']} {noun}, {rng.choice(['pre-owned', 'authentic', 'new with tags', 'gently used'])}"
        description = rng.choice([
            "Bought at the boutique, receipt and dust bag included.",
            "Authentic, serial number visible, see photos.",
            "Gift I never used. Original packaging.",
        ])
        add("legitimate", "reseller", title, description, category,
            price(brand["_ref"], rng.uniform(0.6, 1.1)), brand)
    for n in range(30):
        # resellers who insist they are not selling fakes
        brand = rng.choice(distinctive)
        category = rng.choice(brand["categories"])
        noun = rng.choice(CATEGORY_NOUNS[category])
        phrase = rng.choice(["100% authentic, not fake", "genuine, no replica", "not a dupe, real one",
                             "no fakes here", "authentic - never a copy"])
        add("legitimate", "not-fake", f"{brand['name']} {noun}, {phrase}", "Receipt available.",
            category, price(brand["_ref"], rng.uniform(0.6, 1.0)), brand)
    for n in range(20):
        # genuine goods at a deep discount: suspicious enough to review, not to block
        brand = rng.choice(distinctive)
        category = rng.choice(brand["categories"])
        noun = rng.choice(CATEGORY_NOUNS[category])
        add("legitimate", "deep-discount", f"{brand['name']} {noun}, moving sale, authentic",
            "Must go this week.", category, price(brand["_ref"], rng.uniform(0.3, 0.45)), brand)
    for n in range(60):
        # authorised sellers, even on sale
        brand = rng.choice(brands)
        category = rng.choice(brand["categories"])
        noun = rng.choice(CATEGORY_NOUNS[category])
        add("legitimate", "authorised", f"{brand['name']} {noun} season sale", "Official store.",
            category, price(brand["_ref"], rng.uniform(0.3, 1.0)), brand,
            seller_id=brand["authorized_seller_ids"][0])
    ordinary_words = [
        ("Coach bus toy for kids, die-cast model", "toys"),
        ("Vintage coach lamp, brass", "home"),
        ("Puma plush toy 30 cm", "toys"),
        ("Omega-3 fish oil capsules 120 count", "supplements"),
        ("Apple slicer and corer, stainless steel", "kitchen"),
        ("Dried apple chips 500 g", "food"),
        ("Pandora box 3D arcade console, 4000 games", "electronics"),
        ("Pandora's box jewelry organiser, wooden", "home"),
        ("Guess who board game, family edition", "toys"),
        ("Fossil specimen ammonite, polished", "collectibles"),
        ("Fossil fuels and climate, paperback", "books"),
        ("Fabric swatch book, 200 colours", "crafts"),
        ("Converse of a theorem: geometry workbook", "books"),
        ("Camper vans model kit 1:24", "toys"),
        ("Fresh mango 2 kg box", "food"),
        ("Mango wood serving board", "kitchen"),
        ("Diesel engine fuel filter", "auto-parts"),
        ("Champion of the world trophy, engraved", "collectibles"),
        ("Boss level gaming mouse pad", "electronics"),
        ("4 channel audio mixer", "electronics"),
        ("Prado-style bookshelf, oak", "home"),
        ("Polo shirt pique cotton, navy", "apparel"),
    ]
    for n in range(140):
        title, category = ordinary_words[n % len(ordinary_words)]
        add("legitimate", "ordinary-word", f"{title} {rng.choice(['', 'new', 'sale'])}".strip(),
            "Ships in 2 days.", category, {"currency_code": "USD", "units": rng.randint(5, 60), "nanos": 0})
    fits = [
        ("Silicone case compatible with iPhone 15 Pro", "phone-accessories", "Apple"),
        ("Screen protector for iPhone 14, 2 pack", "phone-accessories", "Apple"),
        ("Replacement band for Apple Watch 45mm", "watch-accessories", "Apple"),
        ("Charging cable fits Samsung Galaxy", "phone-accessories", "Samsung"),
        ("Ear tips compatible with AirPods Pro", "headphone-accessories", "AirPods"),
        ("Carrying case for Bose headphones", "headphone-accessories", "Bose"),
        ("Shoe cleaner kit works with Nike and Adidas sneakers", "shoe-care", "Nike"),
        ("Display stand designed for Lego sets", "toys", "Lego"),
        ("Card sleeves for Pokemon cards, 100", "toys", "Pokemon"),
        ("Strap replacement for Rolex style watches, 20mm", "watch-accessories", "Rolex"),
    ]
    for n in range(100):
        title, category, _ = fits[n % len(fits)]
        add("legitimate", "compatible", title, "Third-party accessory.", category,
            {"currency_code": "USD", "units": rng.randint(4, 30), "nanos": 0})
    plain = ["Leather tote bag, handmade", "Running shoes breathable mesh", "Stainless steel watch",
             "Silk scarf floral print", "Down jacket, warm winter coat", "Polarised sunglasses",
             "Wireless earbuds with charging case", "Sterling silver charm bracelet",
             "Canvas crossbody bag", "Cotton hoodie, oversized"]
    models = ["Titanic replica model kit 1:350", "1:18 scale replica of a 1965 roadster",
              "Replica movie prop sword, display only", "Replica vintage world map print",
              "Museum replica Roman coin set"]
    for n in range(20):
        add("legitimate", "replica-model", models[n % len(models)], "Collectible, boxed.",
            rng.choice(["toys", "collectibles", "home"]),
            {"currency_code": "USD", "units": rng.randint(15, 120), "nanos": 0})
    for n in range(60):
        add("legitimate", "unbranded", f"{plain[n % len(plain)]} {rng.choice(ADJECTIVES)}",
            "Good quality, fast shipping.", rng.choice(list(CATEGORY_NOUNS)),
            {"currency_code": "USD", "units": rng.randint(10, 80), "nanos": 0},
            facts=seller(young=rng.random() < 0.3))

    for b in brands:
        b.pop("_ordinary")
        b.pop("_ref")
    (HERE / "brands.json").write_text(json.dumps(brands, ensure_ascii=False, indent=1) + "\n")
    with (HERE / "labelled.jsonl").open("w") as f:
        for item in listings:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    counts = {}
    for item in listings:
        counts[item["label"]] = counts.get(item["label"], 0) + 1
    print(f"{len(brands)} brands, {len(listings)} listings: {counts}")


if __name__ == "__main__":
    main()

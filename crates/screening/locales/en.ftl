# Screening's explanations: the evidence behind a verdict, in English.
# An explanation is its messages written one after another. Texts from the listing and the
# catalogue ($text, $brand, $term, $shown, $letters, and $category of signal-category) arrive
# quoted; $field is "title" or "description".

signal-vocabulary = { $text } in the { $field ->
        [description] description
       *[title] title
    } is counterfeit vocabulary

signal-brand-text = { $text } in the { $field ->
        [description] description
       *[title] title
    } { $strength ->
        [compat] names what the product fits: brand { $brand }
        [real-word] is a real word close to brand { $brand }
        [ambiguous] is an ordinary word that matches brand { $brand }
        [name] matches brand { $brand }
        [partial] matches part of brand { $brand }
        [common] is a common word that is part of brand { $brand }
       *[distinctive] matches brand { $brand }
    }

# How a text differs from the brand's name: the first way, then each further one.
signal-through = { " " }through { signal-method }
signal-method = { $method ->
        [confusable] look-alike characters
        [leetspeak] leetspeak
        [spaced] separators between its letters
        [fuzzy] a misspelling
        [diacritics] added accents
        [styled] styled letters
        [reversed] writing it backwards under a right-to-left override
       *[exact] exactly
    }
signal-and = { " " }and { signal-method }

# The characters that stand for the name's letters, in brackets: ("0" for "o", "rn" for "m").
signal-stands-for-first = { " " }({ $shown } for { $letters }
signal-stands-for = , { $shown } for { $letters }
signal-stands-for-more = , ...
signal-list-end = )

signal-letters-off = { " " }({ $count } { $count ->
        [one] letter
       *[other] letters
    } off { $term })

signal-image = image { $image } is { $bits } bits from a logo of brand { $brand }

signal-category = listed in { $category }, a category of brand { $brand }

signal-price = priced { $price }, { $percent }% of brand { $brand }'s reference price { $reference } for { $category }

# Why a brand's risk was held down, after its first signal.
signal-capped = { " " }({ $why ->
        [compat] names what the product fits; no price or vocabulary evidence
        [support] an ordinary word, part of the name or a misspelt short name, without supporting evidence
        [glued] a name inside a longer word, without supporting evidence
       *[counterfeit] a real word or common name, without evidence of a counterfeit
    })

seller-new-account = the seller's account is { $days } days old
seller-poor-rating = the seller is rated { $rating } of 5
seller-strikes = seller { $seller } has { $count } confirmed { $count ->
        [one] strike
       *[other] strikes
    } in the last { $days } days
seller-earlier-infringements = the seller has { $count } earlier confirmed { $count ->
        [one] infringement
       *[other] infringements
    }
seller-repeat-infringer = seller { $seller } is a repeat infringer
seller-linked = seller { $seller } is linked to repeat infringer { $linked } by { LIST($evidence, of: "link") }
seller-linked-more = { " " }(and to { $count } more)

# What links two sellers: $evidence holds codes, written as a list of these.
link-payment-account = a shared payment account
link-address = a shared address
link-phone = a shared phone number
link-product-image = a shared product image
link-email = a shared email address
link-identifier = a shared identifier
link-analyst-confirmed = an analyst's confirmation
list-separator = { ", " }
list-and = { " and " }

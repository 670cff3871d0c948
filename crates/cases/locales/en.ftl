# Case management's words to sellers, through the marketplace's seller management: why a
# seller's enforcement level changed. $count counts strikes within $days days; $level and
# $previous are none, warn, restrict or suspend; $linked and $was are sellers; $evidence is
# what links two sellers, as codes written as a list of the link- words below (older reasons
# hold English words, written as they are).

enforcement-strikes = { $count } { $count ->
        [one] strike
       *[other] strikes
    } within { $days } days
enforcement-level = { $level ->
        [none] none
        [warn] warn
        [restrict] restrict
       *[suspend] suspend
    }
enforcement-previous = { $previous ->
        [none] none
        [warn] warn
        [restrict] restrict
       *[suspend] suspend
    }

enforcement-up = { enforcement-strikes }: { enforcement-level }
enforcement-down = strikes withdrawn or expired, { enforcement-strikes } stand: { enforcement-level } (was { enforcement-previous })
enforcement-linked = linked to suspended seller { $linked } by { LIST($evidence, of: "link") }: suspend
enforcement-linked-still = strikes withdrawn or expired, { enforcement-strikes } stand, but linked to suspended seller { $linked } by { LIST($evidence, of: "link") }: suspend
enforcement-was-linked = { enforcement-strikes }: { enforcement-level } (was suspended as a seller linked to { $was })
enforcement-unlinked = no longer linked to a suspended seller (was { $was }), { enforcement-strikes } stand: { enforcement-level } (was { enforcement-previous })

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

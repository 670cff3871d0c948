# The command line's words: the programme's report, as a table or CSV.

report-column-field = field
report-column-label = label
report-column-value = value

report-alliance-as_of = Alliance: as of
report-alliance-active_members = Alliance: members
report-alliance-brands_represented = Alliance: brands represented
report-alliance-protected_brands = Alliance: brands with verified rights
report-alliance-member_countries = Alliance: members' countries
report-proactive-screening_alerts = Proactive removals: screening alerts
report-proactive-staff_cases = Proactive removals: cases opened by staff
report-proactive-listings_taken_down = Proactive removals: listings taken down
report-notices-filed = Notices: filed
report-notices-upheld = Notices: upheld
report-notices-rejected = Notices: rejected
report-notices-overturned = Notices: overturned on appeal
report-notices-pending = Notices: pending
report-notices-listings_taken_down = Notices: listings taken down
report-notices-counter_notices = Notices: counter-notices
report-notices-listings_reinstated = Notices: listings reinstated
report-notices-by_reason = Notices: by ground
report-referrals-referred = Referrals to law enforcement
report-referrals-arrests = Referrals: arrests
report-referrals-seized_units = Referrals: units seized
report-referrals-seized_value = Referrals: value seized
report-referrals-convictions = Referrals: convictions
report-requests-received = Requests for information: received
report-requests-answered = Requests for information: answered
report-requests-arrests = Requests for information: arrests
report-requests-seized_units = Requests for information: units seized
report-requests-convictions = Requests for information: convictions

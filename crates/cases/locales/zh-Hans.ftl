# 案件管理通过平台的卖家管理告知卖家：其处置级别为何变更。$count 为 $days 天内计入的违规
# 次数；$level 和 $previous 为 none、warn、restrict 或 suspend；$linked 和 $was 为卖家；
# $evidence 为两个卖家之间的关联依据，沿用案件管理的原文。

enforcement-strikes = { $days } 天内 { $count } 次违规
enforcement-level = { $level ->
        [none] 不予处置
        [warn] 警告
        [restrict] 限制经营
       *[suspend] 暂停经营
    }
enforcement-previous = { $previous ->
        [none] 不予处置
        [warn] 警告
        [restrict] 限制经营
       *[suspend] 暂停经营
    }

enforcement-up = { enforcement-strikes }：{ enforcement-level }
enforcement-down = 违规记录已撤销或过期，现计 { enforcement-strikes }：{ enforcement-level }（此前为{ enforcement-previous }）
enforcement-linked = 因 { $evidence } 与已暂停经营的卖家 { $linked } 相关联：暂停经营
enforcement-linked-still = 违规记录已撤销或过期，现计 { enforcement-strikes }，但因 { $evidence } 与已暂停经营的卖家 { $linked } 相关联：暂停经营
enforcement-was-linked = { enforcement-strikes }：{ enforcement-level }（此前作为与卖家 { $was } 关联的卖家被暂停经营）
enforcement-unlinked = 不再与已暂停经营的卖家关联（此前为 { $was }），现计 { enforcement-strikes }：{ enforcement-level }（此前为{ enforcement-previous }）
